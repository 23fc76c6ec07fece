"""Read one learning-journal post into what it says was studied, and when.

Posts come as Jekyll Markdown (front matter, ``#`` headings, ``**bold**``) or
as the text a person copies from the rendered page (no front matter, no
markup, headings as plain lines). The parser looks at lines, not at markup,
so both read the same: the date (front matter, else the ``Learning Journey -
YYYY-MM-DD`` heading, else the file name), today's focus (a name and
``(Depth N)``), dated earlier sessions (``2025-11-03 - Attention Mechanism
(depth 1)``) and what was learned before without a date. Names stay as
written; matching them to concepts is the importer's job. Pure: text in,
a ``ParsedPost`` out, never an exception for any text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from tracker.curriculum.model import name_key

MIN_DEPTH, MAX_DEPTH = 1, 4

_DATE = r"(\d{4})-(\d{1,2})-(\d{1,2})"
_MARKUP = re.compile(r"[*_`~]+")
_BULLET = re.compile(r"^\s*(?:[-+*•·▪◦>]+|\d+[.)])\s+")
_HEADING = re.compile(r"^\s*#{1,6}\s+")
_JOURNEY = re.compile(r"learning\s+journey\s*[-–—:]\s*" + _DATE, re.IGNORECASE)
_FILE_DATE = re.compile(r"^" + _DATE + r"(?:[-_ ]|\.|$)")
_DEPTH = re.compile(r"\(\s*(?:depth|깊이|레벨|level)\s*:?\s*(\d+)\s*\)", re.IGNORECASE)
_DATED = re.compile(r"^\s*" + _DATE + r"\s*[-–—:|]\s*(.+)$")
_FOCUS_HEADING = re.compile(r"today'?s\s+focus|오늘의\s*(?:초점|포커스|학습|주제)", re.IGNORECASE)
_TODAY_LABEL = re.compile(r"^\s*(?:today|오늘\s*배울\s*것|오늘)\s*:?\s*$", re.IGNORECASE)
_EMOJI_OR_SYMBOL = re.compile(r"^[^\w(]+", re.UNICODE)


@dataclass(frozen=True)
class Mention:
    """A concept named with a depth: as written, and the line it was on (1-based)."""

    name: str
    depth: int
    line: int
    text: str  # the line, cleaned of markup, for messages


@dataclass(frozen=True)
class DatedMention(Mention):
    on: date = date.min


@dataclass(frozen=True)
class Problem:
    what: str
    why: str

    def as_dict(self) -> dict[str, str]:
        return {"what": self.what, "why": self.why}


@dataclass(frozen=True)
class ParsedPost:
    date: date | None
    date_source: str | None  # front matter | heading | file name
    title: str | None
    focus: Mention | None
    sessions: tuple[DatedMention, ...]  # dated earlier sessions
    learned_before: tuple[Mention, ...]  # depths without a date
    problems: tuple[Problem, ...] = ()
    fatal: Problem | None = None  # the post cannot be imported at all


def _clean(line: str) -> str:
    line = _HEADING.sub("", line)
    line = _BULLET.sub("", line)
    return _MARKUP.sub("", line).strip()


def _make_date(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _date_text(year: str, month: str, day: str) -> str:
    return f"{year}-{month}-{day}"


@dataclass
class _FrontMatter:
    values: dict[str, str] = field(default_factory=dict)
    body_start: int = 0  # index of the first line after it


def _front_matter(lines: list[str]) -> _FrontMatter:
    if not lines or lines[0].strip() != "---":
        return _FrontMatter()
    for end in range(1, min(len(lines), 200)):
        if lines[end].strip() in ("---", "..."):
            values = {}
            for raw in lines[1:end]:
                key, sep, value = raw.partition(":")
                if sep and key.strip() and not key.startswith((" ", "\t", "-", "#")):
                    values[key.strip().lower()] = value.strip().strip("'\"").strip()
            return _FrontMatter(values, end + 1)
    return _FrontMatter()


def _name_before_depth(text: str, match: re.Match[str]) -> str:
    name = text[: match.start()].strip()
    name = _EMOJI_OR_SYMBOL.sub("", name).strip(" -–—:|")
    return name


def parse_post(text: str, *, file_name: str = "") -> ParsedPost:
    """Everything the post says about what was studied when; never raises."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    front = _front_matter(lines)
    problems: list[Problem] = []
    title = front.values.get("title") or None

    post_date, source, fatal = _post_date(front, lines, file_name)

    focus: Mention | None = None
    sessions: list[DatedMention] = []
    undated: list[Mention] = []
    in_focus_section = False
    for number in range(front.body_start, len(lines)):
        raw = lines[number]
        cleaned = _clean(raw)
        if not cleaned:
            continue
        is_heading = bool(_HEADING.match(raw)) or _looks_like_heading(cleaned)
        if is_heading and not _DEPTH.search(cleaned):
            in_focus_section = bool(_FOCUS_HEADING.search(cleaned))
            continue
        if _TODAY_LABEL.match(cleaned):
            continue
        dated = _DATED.match(cleaned)
        depth_match = _DEPTH.search(cleaned)
        if dated and depth_match:
            mention = _dated_mention(dated, depth_match, cleaned, number + 1, problems)
            if mention is not None:
                if post_date is not None and mention.on > post_date:
                    problems.append(
                        Problem(cleaned, f"dated after the post itself ({post_date.isoformat()})")
                    )
                else:
                    sessions.append(mention)
            continue
        if not depth_match:
            continue
        name = _name_before_depth(cleaned, depth_match)
        depth = int(depth_match.group(1))
        if not name:
            continue
        if not MIN_DEPTH <= depth <= MAX_DEPTH:
            problems.append(
                Problem(cleaned, f"depth {depth} is not a depth (use {MIN_DEPTH} to {MAX_DEPTH})")
            )
            continue
        mention = Mention(name, depth, number + 1, cleaned)
        if focus is None and (in_focus_section or "Depth" in depth_match.group(0)):
            focus = mention
            continue
        undated.append(mention)

    if focus is None and title is not None:
        for mention in undated:
            if _same_name(mention.name, title):
                focus = mention
                break
    if focus is not None:
        undated = [
            m for m in undated if not (_same_name(m.name, focus.name) and m.depth == focus.depth)
        ]
    if focus is None and fatal is None:
        problems.append(Problem("today's focus", "no concept with '(Depth N)' found in the post"))
    return ParsedPost(
        date=post_date,
        date_source=source,
        title=title,
        focus=focus,
        sessions=tuple(sessions),
        learned_before=tuple(undated),
        problems=tuple(problems),
        fatal=fatal,
    )


def _looks_like_heading(cleaned: str) -> bool:
    """Rendered text has no ``#``: a short line that starts with an emoji reads as a heading."""
    return bool(cleaned) and len(cleaned) <= 60 and not cleaned[0].isalnum() and cleaned[0] != "("


def _same_name(a: str, b: str) -> bool:
    return name_key(a) == name_key(b)


def _post_date(
    front: _FrontMatter, lines: list[str], file_name: str
) -> tuple[date | None, str | None, Problem | None]:
    raw = front.values.get("date")
    if raw:
        match = re.match(_DATE, raw)
        if match is None:
            return None, None, Problem("date", f"front matter date {raw!r} is not YYYY-MM-DD")
        found = _make_date(*match.groups())
        if found is None:
            return None, None, Problem("date", f"{_date_text(*match.groups())} is not a real date")
        return found, "front matter", None
    for line in lines[front.body_start :]:
        match = _JOURNEY.search(_clean(line))
        if match:
            found = _make_date(*match.groups())
            if found is None:
                return (
                    None,
                    None,
                    Problem("date", f"{_date_text(*match.groups())} is not a real date"),
                )
            return found, "heading", None
    match = _FILE_DATE.match(file_name)
    if match:
        found = _make_date(*match.groups())
        if found is None:
            return None, None, Problem("date", f"{_date_text(*match.groups())} is not a real date")
        return found, "file name", None
    return (
        None,
        None,
        Problem(
            "date",
            "no date: no front matter date, no 'Learning Journey - YYYY-MM-DD' heading, "
            "and the file name does not start with YYYY-MM-DD",
        ),
    )


def _dated_mention(
    dated: re.Match[str],
    depth_match: re.Match[str],
    cleaned: str,
    line: int,
    problems: list[Problem],
) -> DatedMention | None:
    year, month, day, rest = dated.groups()
    on = _make_date(year, month, day)
    if on is None:
        problems.append(Problem(cleaned, f"{_date_text(year, month, day)} is not a real date"))
        return None
    depth = int(depth_match.group(1))
    if not MIN_DEPTH <= depth <= MAX_DEPTH:
        problems.append(
            Problem(cleaned, f"depth {depth} is not a depth (use {MIN_DEPTH} to {MAX_DEPTH})")
        )
        return None
    inner = _DEPTH.search(rest)
    name = rest[: inner.start()].strip(" -–—:|") if inner else ""
    if not name:
        problems.append(Problem(cleaned, "no concept name before the depth"))
        return None
    return DatedMention(name, depth, line, cleaned, on=on)
