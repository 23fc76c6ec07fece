"""Give learners their journal posts back readable after a broken Windows-1254 export.

The damage is exact (see shared/samples/README.md): a post's UTF-8 bytes were
decoded as cp1254, the bytes that code page leaves undefined were dropped, and
the soft hyphen (byte 0xAD) was stripped as well::

    damaged = clean.encode("utf-8").decode("cp1254", errors="ignore").replace("\\xad", "")

Encoding the damaged text back to cp1254 gives the original bytes minus the
lost ones. All eight lost bytes are UTF-8 continuation bytes and lead bytes
are never lost, so every character boundary survives: a character either comes
back whole, or as a truncated sequence whose missing bytes are one of eight
values in one of its continuation positions. The candidates are therefore few
and enumerable; a model of the language picks among them (Korean runs through
``tracker.importers.korean``; emoji and other symbols through the ranking
below). Text that is not damaged this way passes through unchanged, or to
ftfy's ``fix_encoding`` when it looks like some other mojibake.

Pure: text in, text and figures out; no database, no files.
"""

from __future__ import annotations

import contextlib
import math
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations, product

from tracker.importers.korean import (
    JournalWords,
    KoreanModel,
    RunContext,
    is_hangul,
    load_lexicon,
)

CODEC = "cp1254"
LOST_BYTES = (0x81, 0x8D, 0x8E, 0x8F, 0x90, 0x9D, 0x9E, 0xAD)
# Byte of each character cp1254 decodes to from 0x80-0xFF.
_HIGH_BYTE: dict[str, int] = {}
for _byte in range(0x80, 0x100):
    with contextlib.suppress(UnicodeDecodeError):
        _HIGH_BYTE[bytes([_byte]).decode(CODEC)] = _byte
del _byte

GUESS_MARGIN = math.log(20)  # a choice less than 20 times likelier than the next is a guess
SYMBOL_GUESS_MARGIN = 1.5
BEAM = 8  # wider beams change nothing measurable on the benchmark, only the time
REPLACEMENT = "\ufffd"

# Emoji that learning journals put in their headings and lists, likeliest first.
# Written for tracker: when a damaged emoji has several emoji candidates, these win.
STUDY_EMOJI = (
    "🎯📚📅🔗🌱🧩🤔⚙⏰🧪🌐📈🎖🏆🔥💡🚀📝✅❌⚠🔍🧠💪🎉⭐✨📌📎🛠🔧💻🖥📖📘📗📕📙"
    "🗂📁🧭🏁🎓👉➡↗↘🆕🔄♻🧮📐📏🔢🔬🧬⚡🌟💭❓❗📊📉📆🗓⏱⌛⏳🔑🗝🏗🧱🪜🎨🖊✏📋"
    "🗒📄📃📑🔖🏷💬🗣👀👍👏🙌🤝🌍🌎🌏🗺🏃🚶🧗⛰🏔🌄☀🌙🌈🍀🌳🌲🌿🍎🎁🎈🎊🏅🥇🥈🥉💯🆗🔔"
    "📣📢🔒🔓🧰🔩🪛🧲🔋🔌💾💿📀🖨⌨🖱📡🛰🤖👾🎮🧑👩👨👥"
)
# Other characters common in written text, likeliest first: typography, arrows,
# mathematics, box drawing and bars, Korean and CJK punctuation, jamo, Greek.
COMMON_SYMBOLS = (
    "”“’‘—–…·•→←↑↓↔⇒⇐⇔×÷±≤≥≠≈∞√∑∏∫∂∇∈∉⊂⊃∪∩∧∨¬∀∃°′″‰€£¥₩©®™§¶†‡"
    "─│┌┐└┘├┤┬┴┼═║╔╗╚╝╠╣╦╩╬█▓▒░▀▄■□▪▫▲△▼▽▶◀◆◇○●◎★☆✓✔✗✘"
    "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳ㆍ「」『』【】〔〕〈〉《》、。・※～"
    "ㅋㅎㅠㅜㅡㅇㄱㄴㄷㄹㅁㅂㅅㅈㅊㅌㅍㅏㅓㅗㅣ"
    "αβγδεζηθικλμνξοπρστυφχψωΑΒΓΔΘΛΞΠΣΦΨΩ⁰¹²³⁴⁵⁶⁷⁸⁹ⁿ₀₁₂₃₄₅₆₇₈₉½¼¾"
    "áàâäãåæçéèêëíìîïñóòôöõøúùûüýÿßœÁÀÂÄÃÅÆÇÉÈÊËÍÌÎÏÑÓÒÔÖÕØÚÙÛÜÝŒ"
    "\u00ad\u00a0"
)
_STUDY_EMOJI_RANK = {ch: i for i, ch in enumerate(STUDY_EMOJI)}
_SYMBOL_RANK = {ch: i for i, ch in enumerate(COMMON_SYMBOLS)}
_CATEGORY_SCORE = {"L": -3.0, "N": -3.5, "P": -4.0, "S": -4.0, "M": -6.0, "Z": -6.0}
_VARIATION_SELECTOR = "\ufe0f"
_ZWJ = "\u200d"


def damage(text: str) -> str:
    """The broken export, exactly as it happened: for tests and benchmarks."""
    return text.encode("utf-8").decode(CODEC, errors="ignore").replace("\xad", "")


@dataclass(frozen=True)
class RepairFigures:
    """How much was repaired: characters restored, how many of them were guesses
    among close candidates, and damaged characters that could not be restored."""

    characters: int = 0
    guessed: int = 0
    unrecoverable: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "characters": self.characters,
            "guessed": self.guessed,
            "unrecoverable": self.unrecoverable,
        }


@dataclass(frozen=True)
class Guess:
    """A repaired character chosen among close candidates (index into the repaired text)."""

    index: int
    chosen: str
    runner_up: str


@dataclass(frozen=True)
class RepairResult:
    text: str
    method: str  # none | cp1254 | ftfy
    figures: RepairFigures = RepairFigures()
    guesses: tuple[Guess, ...] = ()


@dataclass(frozen=True)
class Analysis:
    """A text read back as cp1254 bytes: each character known, or lost with its candidates."""

    chars: tuple[str | None, ...]
    candidates: dict[int, tuple[str, ...]]  # index -> candidates, for the None slots
    evidence: int  # continuation bytes found in place behind a lead byte
    conflicts: int  # characters that the damage could not have produced
    suspicious: bool  # any character from the cp1254 upper half at all

    @property
    def damaged(self) -> bool:
        return self.evidence >= 2 and self.conflicts * 20 <= self.evidence


def _sequence_length(byte: int) -> int:
    if 0xC2 <= byte <= 0xDF:
        return 2
    if 0xE0 <= byte <= 0xEF:
        return 3
    if 0xF0 <= byte <= 0xF4:
        return 4
    return 0  # a continuation byte or a byte UTF-8 never uses


@lru_cache(maxsize=65536)
def candidates_for(lead: int, present: tuple[int, ...], length: int) -> tuple[str, ...]:
    """Every character whose UTF-8 form is ``lead`` + ``present`` with lost bytes put back."""
    slots = length - 1
    missing = slots - len(present)
    found: list[str] = []
    fallback: list[str] = []
    for positions in combinations(range(slots), missing):
        for fill in product(LOST_BYTES, repeat=missing):
            rest = iter(present)
            filler = iter(fill)
            tail = [next(filler) if i in positions else next(rest) for i in range(slots)]
            try:
                ch = bytes([lead, *tail]).decode("utf-8")
            except UnicodeDecodeError:
                continue
            category = unicodedata.category(ch)
            if category in ("Cn", "Cs"):
                continue
            (fallback if category in ("Co", "Cc") else found).append(ch)
    return tuple(sorted(set(found or fallback)))


def analyse(text: str) -> Analysis:
    chars: list[str | None] = []
    lost: dict[int, tuple[str, ...]] = {}
    evidence = conflicts = 0
    suspicious = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        lead = _HIGH_BYTE.get(ch)
        if lead is None:
            chars.append(ch)
            i += 1
            continue
        suspicious = True
        length = _sequence_length(lead)
        if length == 0:
            conflicts += 1
            chars.append(ch)
            i += 1
            continue
        j = i + 1
        present: list[int] = []
        while j < n and len(present) < length - 1:
            byte = _HIGH_BYTE.get(text[j])
            if byte is None or not 0x80 <= byte <= 0xBF:
                break
            present.append(byte)
            j += 1
        if len(present) == length - 1:
            try:
                chars.append(bytes([lead, *present]).decode("utf-8"))
                evidence += len(present)
            except UnicodeDecodeError:
                conflicts += 1
                chars.extend(text[i:j])
            i = j
            continue
        options = candidates_for(lead, tuple(present), length)
        if not options:
            conflicts += 1
            chars.extend(text[i:j])
        else:
            evidence += len(present)
            lost[len(chars)] = options
            chars.append(None)
        i = j
    return Analysis(tuple(chars), lost, evidence, conflicts, suspicious)


@dataclass
class JournalEvidence:
    """What the whole journal spells intact: Hangul words and other characters."""

    words: JournalWords = field(default_factory=JournalWords)
    symbols: Counter[str] = field(default_factory=Counter)

    def add(self, analysis: Analysis) -> None:
        for start, end, has_lost in _hangul_runs(analysis):
            if not has_lost:
                self.words.add("".join(analysis.chars[start:end]))  # type: ignore[arg-type]
        for ch in analysis.chars:
            if ch is not None and not is_hangul(ch) and ord(ch) >= 0x80:
                self.symbols[ch] += 1


def _is_hangul_slot(analysis: Analysis, index: int) -> bool:
    ch = analysis.chars[index]
    if ch is not None:
        return is_hangul(ch)
    return any(is_hangul(c) for c in analysis.candidates[index])


def _hangul_runs(analysis: Analysis) -> list[tuple[int, int, bool]]:
    """(start, end, has_lost) of each maximal run of Hangul or lost-Hangul slots."""
    runs = []
    n = len(analysis.chars)
    i = 0
    while i < n:
        if not _is_hangul_slot(analysis, i):
            i += 1
            continue
        j = i
        has_lost = False
        while j < n and _is_hangul_slot(analysis, j):
            has_lost = has_lost or analysis.chars[j] is None
            j += 1
        runs.append((i, j, has_lost))
        i = j
    return runs


def _run_context(chars: Sequence[str | None], start: int, end: int) -> RunContext:
    before = chars[start - 1] if start > 0 else "\n"
    starts_word = before is None or before.isspace() or before in "([{\"'“‘「『<>-–—/"
    after = ""
    k = end
    while k < len(chars) and chars[k] is not None and chars[k] in ")]}\"'”’」』*_":
        k += 1
    if k < len(chars) and chars[k] is not None:
        after = chars[k]  # type: ignore[assignment]
    return RunContext(starts_word=starts_word, ends_sentence=after in ".!?。")


class Repairer:
    """Repairs texts against one journal's evidence; remembers runs already decided."""

    def __init__(self, evidence: JournalEvidence | None = None) -> None:
        self.evidence = evidence or JournalEvidence()
        self.model = KoreanModel(load_lexicon(), self.evidence.words)
        self._runs: dict[tuple, tuple[str, tuple[tuple[int, str] | None, ...]]] = {}

    def repair(self, text: str) -> RepairResult:
        analysis = analyse(text)
        if not analysis.damaged:
            return _ftfy_floor(text) if analysis.suspicious else RepairResult(text, "none")
        return self.repair_analysis(analysis)

    def repair_analysis(self, analysis: Analysis) -> RepairResult:
        out = list(analysis.chars)
        guesses: list[Guess] = []
        for start, end, has_lost in _hangul_runs(analysis):
            if not has_lost:
                continue
            chosen, doubts = self._decode_run(analysis, start, end)
            for offset, ch in enumerate(chosen):
                index = start + offset
                if out[index] is None:
                    out[index] = ch
                    doubt = doubts[offset]
                    if doubt is not None:
                        guesses.append(Guess(index, ch, doubt[1]))
        for index, options in analysis.candidates.items():
            if out[index] is not None:
                continue
            ch, runner_up = self._choose_symbol(options, out, index)
            out[index] = ch
            if runner_up is not None:
                guesses.append(Guess(index, ch, runner_up))
        unrecoverable = analysis.conflicts + sum(1 for ch in out if ch == REPLACEMENT)
        figures = RepairFigures(
            characters=len(analysis.candidates),
            guessed=len(guesses),
            unrecoverable=unrecoverable,
        )
        return RepairResult("".join(out), "cp1254", figures, tuple(guesses))  # type: ignore[arg-type]

    def _decode_run(
        self, analysis: Analysis, start: int, end: int
    ) -> tuple[str, tuple[tuple[int, str] | None, ...]]:
        slots = []
        for index in range(start, end):
            ch = analysis.chars[index]
            if ch is None:
                slots.append(tuple(c for c in analysis.candidates[index] if is_hangul(c)))
            else:
                slots.append(ch)
        context = _run_context(analysis.chars, start, end)
        key = (tuple(slots), context)
        cached = self._runs.get(key)
        if cached is not None:
            return cached
        model = self.model
        n = len(slots)
        k = 0
        lead = ""
        while k < n and isinstance(slots[k], str):
            lead += slots[k]  # type: ignore[operator]
            k += 1
        beams = [(model.extend(model.begin(context.starts_word), lead), 0.0)]
        while k < n:
            options = slots[k]
            tail_end = k + 1
            while tail_end < n and isinstance(slots[tail_end], str):
                tail_end += 1
            tail = "".join(slots[k + 1 : tail_end])  # type: ignore[arg-type]
            final = tail_end == n
            scored = []
            for partial, _ in beams:
                for ch in options:
                    grown = model.extend(partial, ch + tail)
                    score = model.finish(grown, context.ends_sentence) if final else grown.best[-1]
                    scored.append((grown, score))
            scored.sort(key=lambda item: -item[1])
            beams = scored[:BEAM]
            k = tail_end
        ranked = [(partial.text, score) for partial, score in beams]
        best, best_score = ranked[0]
        doubts: list[tuple[int, str] | None] = []
        for offset, slot in enumerate(slots):
            if isinstance(slot, str):
                doubts.append(None)
                continue
            rival = next(((t, s) for t, s in ranked if t[offset] != best[offset]), None)
            if rival is not None and best_score - rival[1] < GUESS_MARGIN:
                doubts.append((offset, rival[0][offset]))
            else:
                doubts.append(None)
        result = (best, tuple(doubts))
        self._runs[key] = result
        return result

    def _choose_symbol(
        self, options: tuple[str, ...], out: Sequence[str | None], index: int
    ) -> tuple[str, str | None]:
        before = out[index - 1] if index > 0 else None
        after = out[index + 1] if index + 1 < len(out) else None
        scored = sorted(
            ((self._symbol_score(ch, before, after), ch) for ch in options), reverse=True
        )
        best_score, best = scored[0]
        if len(scored) > 1 and best_score - scored[1][0] < SYMBOL_GUESS_MARGIN:
            return best, scored[1][1]
        return best, None

    def _symbol_score(self, ch: str, before: str | None, after: str | None) -> float:
        seen = self.evidence.symbols.get(ch, 0)
        score = 4.0 + math.log(seen) if seen else 0.0
        if ch in _STUDY_EMOJI_RANK:
            score += 3.0 - _STUDY_EMOJI_RANK[ch] * 0.005
        elif ch in _SYMBOL_RANK:
            score += 2.0 - _SYMBOL_RANK[ch] * 0.005
        elif ch in self.model.lexicon.emoji:
            score += 1.0 + self.model.lexicon.emoji[ch] / 20
        elif _is_pictograph(ch):
            score += -1.0
        else:
            score += _CATEGORY_SCORE.get(unicodedata.category(ch)[0], -12.0)
        if ch == _VARIATION_SELECTOR:
            # Asks for the emoji form of the symbol before it; nothing else uses it.
            score = 10.0 if before is not None and _takes_emoji_style(before) else -10.0
        elif ch == _ZWJ:
            # Joins two pictographs into one emoji (👩‍💻); elsewhere it is invisible noise.
            both = before is not None and after is not None
            score = 10.0 if both and _is_pictograph(before) and _is_pictograph(after) else -10.0
        return score


def _is_pictograph(ch: str) -> bool:
    code = ord(ch)
    return 0x1F300 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF or 0x2300 <= code <= 0x23FF


def _takes_emoji_style(ch: str) -> bool:
    return _is_pictograph(ch) or unicodedata.category(ch) == "So" or ch in "#*0123456789"


def _ftfy_floor(text: str) -> RepairResult:
    """Mojibake of some other kind: ftfy's encoding fixes, and only those (no quote
    uncurling, no normalisation, no C1 control rewriting: clean text stays as it is)."""
    import ftfy

    config = ftfy.TextFixerConfig(
        unescape_html=False,
        remove_terminal_escapes=False,
        fix_c1_controls=False,
        fix_latin_ligatures=False,
        fix_character_width=False,
        uncurl_quotes=False,
        fix_line_breaks=False,
        fix_surrogates=False,
        remove_control_chars=False,
        normalization=None,
        explain=False,
    )
    fixed = ftfy.fix_text(text, config)
    if fixed == text:
        return RepairResult(text, "none")
    changed = sum(1 for a, b in zip(text, fixed, strict=False) if a != b) + abs(
        len(text) - len(fixed)
    )
    return RepairResult(fixed, "ftfy", RepairFigures(characters=changed))


def repair_text(text: str) -> RepairResult:
    """Repair one text on its own evidence."""
    return repair_journal([text])[0]


def repair_journal(texts: Sequence[str]) -> list[RepairResult]:
    """Repair every post of a journal, each with the evidence of all of them."""
    analyses = [analyse(text) for text in texts]
    evidence = JournalEvidence()
    for analysis in analyses:
        evidence.add(analysis)
    repairer = Repairer(evidence)
    results = []
    for text, analysis in zip(texts, analyses, strict=True):
        if analysis.damaged:
            results.append(repairer.repair_analysis(analysis))
        elif analysis.suspicious:
            results.append(_ftfy_floor(text))
        else:
            results.append(RepairResult(text, "none"))
    return results
