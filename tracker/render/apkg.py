"""The learner's question cards as an Anki deck (.apkg), built with ``genanki``.

One note per question card, tagged with its concept and depth. The note
GUID, the deck id and the note type's id are derived from the learner and
the card's id, never from the time of export, so importing a newer deck into
Anki updates the notes of the older one instead of duplicating them. Anki
fields are HTML: prompts and answers are escaped.
"""

from __future__ import annotations

import hashlib
import html
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracker.reports.exports import DeckDocument, DeckNote


CSS = (
    ".card { font-family: system-ui, sans-serif; font-size: 20px; text-align: left; }\n"
    ".meta { color: #777; font-size: 14px; margin-top: 1em; }\n"
)
FRONT = "{{Question}}"
BACK = (
    '{{FrontSide}}<hr id="answer">{{Answer}}<div class="meta">{{Concept}} · depth {{Depth}}</div>'
)


def stable_id(*parts: object) -> int:
    """An id in Anki's preferred range (1 << 30 .. 1 << 31) from the given parts."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode("utf-8")).digest()
    return (1 << 30) + int.from_bytes(digest[:4], "big") % (1 << 30)


def note_guid(doc: DeckDocument, note: DeckNote) -> str:
    import genanki

    return genanki.guid_for("tracker-card", doc.learner_key, note.card_id)


def note_tags(note: DeckNote) -> list[str]:
    return ["tracker", note.concept, f"depth-{note.depth}"]


def render_apkg(doc: DeckDocument) -> bytes:
    import genanki

    model = genanki.Model(
        stable_id("tracker-model", 1),
        "tracker question",
        fields=[
            {"name": "Question"},
            {"name": "Answer"},
            {"name": "Concept"},
            {"name": "Depth"},
            {"name": "Lesson"},
        ],
        templates=[{"name": "Recall", "qfmt": FRONT, "afmt": BACK}],
        css=CSS,
    )
    deck = genanki.Deck(stable_id("tracker-deck", doc.learner_key), f"tracker ({doc.learner})")
    for note in doc.notes:
        deck.add_note(
            genanki.Note(
                model=model,
                fields=[
                    html.escape(note.prompt),
                    html.escape(note.answer),
                    html.escape(note.concept_title),
                    str(note.depth),
                    html.escape(note.lesson_title),
                ],
                tags=note_tags(note),
                guid=note_guid(doc, note),
            )
        )
    with tempfile.TemporaryDirectory(prefix="tracker-apkg-") as folder:
        path = Path(folder) / "deck.apkg"
        genanki.Package(deck).write_to_file(str(path))
        return path.read_bytes()
