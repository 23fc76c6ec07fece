"""The report as data: JSON (the report's whole document) and CSV (sessions or the review log).

CSV headers are English snake_case whatever ``--lang`` says: a spreadsheet or
a script reads them, not a person. Rows are in time order; text is UTF-8.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from typing import Any

from tracker.reports.document import ReportDocument, ReviewLogDocument

RATINGS = ("again", "hard", "good", "easy")
SESSION_COLUMNS = ("date", "concept", "depth", "lesson", "kind", "completed_at")
REVIEW_COLUMNS = (
    "date",
    "reviewed_at",
    "card",
    "concept",
    "lesson",
    "depth",
    "card_kind",
    "rating",
    "rating_name",
)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def render_json(doc: ReportDocument) -> bytes:
    text = json.dumps(doc.as_dict(), ensure_ascii=False, indent=2, default=_default)
    return (text + "\n").encode("utf-8")


def render_sessions_csv(doc: ReportDocument) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SESSION_COLUMNS)
    for s in doc.data.sessions:
        writer.writerow(
            (
                s.local_date.isoformat(),
                s.concept,
                s.depth,
                s.lesson or "",
                s.kind,
                s.completed_at.isoformat(),
            )
        )
    return out.getvalue().encode("utf-8")


def render_reviews_csv(doc: ReviewLogDocument) -> bytes:
    cards = {c.id: c for c in doc.cards}
    depths = {x.id: x.depth for x in doc.lessons}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REVIEW_COLUMNS)
    for r in doc.reviews:  # in time order
        card = cards.get(r.card)
        lesson = card.lesson if card else ""
        writer.writerow(
            (
                r.local_date.isoformat(),
                r.reviewed_at.isoformat(),
                r.card,
                card.concept if card else "",
                lesson,
                depths.get(lesson, ""),
                card.kind if card else "",
                r.rating,
                RATINGS[r.rating - 1],
            )
        )
    return out.getvalue().encode("utf-8")
