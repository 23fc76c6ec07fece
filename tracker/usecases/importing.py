"""The use case behind `tracker import posts`: a learner's existing journal into their history.

Every post is read, repaired (``tracker.importers.repair``, with the whole
journal as evidence) and parsed (``tracker.importers.posts``); its sessions
are recorded as kind ``import`` in one write transaction per post, so a crash
leaves each post either fully imported or not at all. A session is identified
by (learner, date, concept, depth), enforced by a unique index, so importing
twice or two posts that list the same earlier session record it once. An
imported session passes its lesson as a first pass would (progress, review
cards), and what a post says was learned before without a date may raise a
concept's depth as of the post's date, never inventing a dated session.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.curriculum.model import Curriculum, name_key
from tracker.db.models import Concept, Lesson, Progress, StudySession
from tracker.errors import UsageError
from tracker.importers.posts import Mention, ParsedPost, Problem, parse_post
from tracker.importers.repair import RepairFigures, RepairResult, repair_journal

POST_SUFFIXES = (".md", ".markdown", ".txt")
IMPORT_KIND = "import"
BINARY_SNIFF = 8192
MAX_POST_BYTES = 4 * 1024 * 1024  # a day's post is kilobytes; anything this big is not one


class PathNotFound(UsageError):
    """A path given to `import posts` does not exist."""


@dataclass(frozen=True)
class SessionRef:
    """One imported session: its identity, and the lesson it passed if the curriculum has one."""

    date: date
    concept: str
    depth: int
    lesson: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "concept": self.concept,
            "depth": self.depth,
            "lesson": self.lesson,
        }


@dataclass(frozen=True)
class DepthRef:
    """A depth raised, as of a post's date, by what the post says was learned before."""

    concept: str
    depth: int
    as_of: date
    lesson: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "concept": self.concept,
            "depth": self.depth,
            "as_of": self.as_of.isoformat(),
            "lesson": self.lesson,
        }


@dataclass(frozen=True)
class FileReport:
    path: str
    date: date | None
    added: tuple[SessionRef, ...] = ()
    already: tuple[SessionRef, ...] = ()
    skipped: tuple[Problem, ...] = ()
    repaired: RepairFigures = RepairFigures()
    repair: str = "none"  # none | cp1254 | ftfy
    depths: tuple[DepthRef, ...] = ()
    repaired_copy: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "date": self.date.isoformat() if self.date else None,
            "added": [s.as_dict() for s in self.added],
            "already": [s.as_dict() for s in self.already],
            "skipped": [p.as_dict() for p in self.skipped],
            "repaired": {**self.repaired.as_dict(), "method": self.repair},
            "depths": [d.as_dict() for d in self.depths],
            "repaired_copy": self.repaired_copy,
        }


@dataclass(frozen=True)
class ImportReport:
    files: tuple[FileReport, ...]
    dry_run: bool = False

    @property
    def added(self) -> int:
        return sum(len(f.added) for f in self.files)

    @property
    def already(self) -> int:
        return sum(len(f.already) for f in self.files)

    @property
    def skipped(self) -> int:
        return sum(len(f.skipped) for f in self.files)

    @property
    def exit_code(self) -> int:
        """0 when something was imported or was already there; 1 when nothing could be."""
        return 0 if self.added or self.already else 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": [f.as_dict() for f in self.files],
            "added": self.added,
            "already": self.already,
            "skipped": self.skipped,
            "dry_run": self.dry_run,
        }


# --- finding and reading posts ---------------------------------------------


def find_posts(paths: Iterable[Path], *, exclude: Path | None = None) -> list[Path]:
    """Files as given, and folders walked for *.md, *.markdown and *.txt (hidden ones skipped).

    Raises ``PathNotFound`` naming every path that does not exist, before anything is read.
    """
    paths = list(paths)
    missing = [str(p) for p in paths if not os.path.lexists(p)]
    if missing:
        raise PathNotFound(f"no such file or folder: {', '.join(missing)}")
    excluded = exclude.resolve() if exclude is not None else None
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            found.append(path)
            continue
        for child in sorted(path.rglob("*")):
            relative = child.relative_to(path).parts
            if any(part.startswith(".") for part in relative):
                continue
            if excluded is not None and excluded != path.resolve() and _inside(child, excluded):
                continue  # earlier repaired copies inside the journal are not posts
            if child.suffix.lower() in POST_SUFFIXES and not child.is_dir():
                found.append(child)
    unique: dict[Path, Path] = {}
    for path in found:  # a file named twice (or inside two folders given) is read once
        unique.setdefault(path.resolve() if path.exists() else path, path)
    return list(unique.values())


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder)
    except (OSError, ValueError):
        return False
    return True


def read_post(path: Path) -> tuple[str | None, Problem | None]:
    """The post's text, or why it cannot be a post (unreadable, empty, binary, not UTF-8)."""
    try:
        size = path.stat().st_size
        if size > MAX_POST_BYTES:
            return None, Problem("file", f"too large for a post ({size / 2**20:.1f} MiB)")
        data = path.read_bytes()
    except OSError as exc:
        return None, Problem("file", f"cannot read: {exc.strerror or exc}")
    if not data.strip():
        return None, Problem("file", "empty file")
    if b"\x00" in data[:BINARY_SNIFF]:
        return None, Problem("file", "a binary file, not a text post")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        byte = data[exc.start]
        return None, Problem(
            "file", f"not UTF-8 text (byte 0x{byte:02x} at offset {exc.start} cannot be decoded)"
        )


# --- matching names to the curriculum --------------------------------------


class ConceptMatcher:
    """Concept ids by any of their names (id, title, aliases), compared by ``name_key``."""

    def __init__(self, names: dict[str, str]) -> None:
        self._names = names

    @classmethod
    def from_curriculum(cls, curriculum: Curriculum, known: Iterable[str]) -> ConceptMatcher:
        known = set(known)
        names: dict[str, str] = {}
        for concept in curriculum.concepts.values():
            if concept.id in known:
                for name in concept.names():
                    names.setdefault(name_key(name), concept.id)
        return cls(names)

    def match(self, name: str) -> str | None:
        return self._names.get(name_key(name))


@dataclass(frozen=True)
class _Catalog:
    matcher: ConceptMatcher
    lessons: dict[tuple[str, int], str]  # (concept, depth) -> lesson id


def _catalog(session: Session, curriculum: Curriculum) -> _Catalog:
    concepts = set(session.scalars(select(Concept.id).where(Concept.retired.is_(False))))
    lessons = {
        (concept, depth): lesson_id
        for lesson_id, concept, depth in session.execute(
            select(Lesson.id, Lesson.concept_id, Lesson.depth).where(Lesson.retired.is_(False))
        )
    }
    return _Catalog(ConceptMatcher.from_curriculum(curriculum, concepts), lessons)


# --- what one post asks for -----------------------------------------------------


@dataclass
class _Plan:
    sessions: list[SessionRef] = field(default_factory=list)
    depths: list[tuple[str, int, str]] = field(default_factory=list)  # concept, depth, lesson
    skipped: list[Problem] = field(default_factory=list)


def plan_post(parsed: ParsedPost, catalog: _Catalog) -> _Plan:
    """Sessions (focus first, then dated ones) and undated depths, names matched to concepts."""
    plan = _Plan(skipped=list(parsed.problems))
    assert parsed.date is not None
    wanted: list[tuple[date, Mention]] = []
    if parsed.focus is not None:
        wanted.append((parsed.date, parsed.focus))
    wanted += [(m.on, m) for m in parsed.sessions]  # type: ignore[attr-defined]
    seen: set[tuple[date, str, int]] = set()
    for on, mention in wanted:
        concept = catalog.matcher.match(mention.name)
        if concept is None and mention is parsed.focus and parsed.title:
            concept = catalog.matcher.match(parsed.title)
        if concept is None:
            plan.skipped.append(Problem(mention.text, f"unknown concept {mention.name!r}"))
            continue
        if (on, concept, mention.depth) in seen:
            continue
        seen.add((on, concept, mention.depth))
        plan.sessions.append(
            SessionRef(on, concept, mention.depth, catalog.lessons.get((concept, mention.depth)))
        )
    for mention in parsed.learned_before:
        concept = catalog.matcher.match(mention.name)
        if concept is None:
            plan.skipped.append(Problem(mention.text, f"unknown concept {mention.name!r}"))
            continue
        lesson = catalog.lessons.get((concept, mention.depth))
        if lesson is None:
            plan.skipped.append(
                Problem(
                    mention.text,
                    f"no lesson teaches {concept} at depth {mention.depth}: no depth recorded",
                )
            )
            continue
        plan.depths.append((concept, mention.depth, lesson))
    return plan


# --- recording ---------------------------------------------------------------


def session_instant(day: date, tz: Any) -> datetime:
    """Noon of the learner's local day: inside that learner-day whatever the day boundary."""
    return datetime.combine(day, time(12, 0), tzinfo=tz).astimezone(UTC)


@dataclass
class _Ledger:
    """What a dry run would have written, so later posts of the same run see it."""

    sessions: set[tuple[date, str, int]] = field(default_factory=set)
    progress: dict[str, int] = field(default_factory=dict)  # concept -> depth


def _session_exists(session: Session, learner_id: int, ref: SessionRef) -> bool:
    found = session.scalar(
        select(StudySession.id).where(
            StudySession.learner_id == learner_id,
            StudySession.kind == IMPORT_KIND,
            StudySession.local_date == ref.date,
            StudySession.concept_id == ref.concept,
            StudySession.depth == ref.depth,
        )
    )
    return found is not None


def _concept_depth(session: Session, learner_id: int, concept: str) -> int:
    return (
        session.scalar(
            select(func.max(Progress.depth)).where(
                Progress.learner_id == learner_id, Progress.concept_id == concept
            )
        )
        or 0
    )


def _pass_lesson(
    session: Session,
    *,
    learner_id: int,
    lesson_id: str,
    achieved_at: datetime,
    session_id: int | None,
    now: datetime,
) -> None:
    """Progress for the lesson (once, moved earlier for an earlier import) and its cards."""
    from tracker.progress import create_cards

    existing = session.scalar(
        select(Progress).where(Progress.learner_id == learner_id, Progress.lesson_id == lesson_id)
    )
    if existing is None:
        lesson = session.get(Lesson, lesson_id)
        assert lesson is not None
        session.add(
            Progress(
                learner_id=learner_id,
                concept_id=lesson.concept_id,
                lesson_id=lesson_id,
                depth=lesson.depth,
                achieved_at=achieved_at,
                session_id=session_id,
            )
        )
        create_cards(session, learner_id=learner_id, lesson=lesson, now=now)
    elif existing.submission_id is None and achieved_at < existing.achieved_at:
        # The journal knows an earlier first pass than the one recorded (posts imported
        # out of order): the first pass is the earliest one.
        existing.achieved_at = achieved_at
        if session_id is not None:
            existing.session_id = session_id
    session.flush()


def record_plan(
    session: Session,
    plan: _Plan,
    *,
    learner_id: int,
    post_date: date,
    source: str,
    tz: Any,
    now: datetime,
    ledger: _Ledger | None = None,
) -> tuple[list[SessionRef], list[SessionRef], list[DepthRef]]:
    """Write one post's sessions and depths in the caller's transaction.

    With a ``ledger`` it is a dry run: nothing is written, the ledger keeps
    what would have been so later posts of the same run are told "already".
    """
    added: list[SessionRef] = []
    already: list[SessionRef] = []
    for ref in plan.sessions:
        key = (ref.date, ref.concept, ref.depth)
        if _session_exists(session, learner_id, ref) or (ledger and key in ledger.sessions):
            already.append(ref)
            continue
        added.append(ref)
        if ledger is not None:
            ledger.sessions.add(key)
            ledger.progress[ref.concept] = max(ledger.progress.get(ref.concept, 0), ref.depth)
            continue
        at = session_instant(ref.date, tz)
        row = StudySession(
            learner_id=learner_id,
            lesson_id=ref.lesson,
            concept_id=ref.concept,
            depth=ref.depth,
            kind=IMPORT_KIND,
            completed_at=at,
            local_date=ref.date,
            source=source,
        )
        session.add(row)
        session.flush()
        if ref.lesson is not None:
            _pass_lesson(
                session,
                learner_id=learner_id,
                lesson_id=ref.lesson,
                achieved_at=at,
                session_id=row.id,
                now=now,
            )
    depths: list[DepthRef] = []
    for concept, depth, lesson in plan.depths:
        held = _concept_depth(session, learner_id, concept)
        if ledger is not None:
            held = max(held, ledger.progress.get(concept, 0))
        if held >= depth:
            continue
        depths.append(DepthRef(concept, depth, post_date, lesson))
        if ledger is not None:
            ledger.progress[concept] = depth
            continue
        _pass_lesson(
            session,
            learner_id=learner_id,
            lesson_id=lesson,
            achieved_at=session_instant(post_date, tz),
            session_id=None,
            now=now,
        )
    return added, already, depths


# --- repaired copies -----------------------------------------------------------


def write_repaired_copy(
    text: str, source: Path, folder: Path, taken: set[str], originals: set[Path]
) -> Problem | str:
    """Write ``text`` as UTF-8 to ``folder`` under the post's own file name (atomically).

    Never over a post being imported (the originals stay untouched), never twice
    under one name in one run.
    """
    target = folder / source.name
    if source.name in taken:
        return Problem("repaired copy", f"another post named {source.name} was written there")
    try:
        if target.exists() and target.resolve() in originals:
            return Problem("repaired copy", "it would overwrite the original post")
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{source.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                out.write(text)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        return Problem("repaired copy", f"cannot write {target}: {exc.strerror or exc}")
    taken.add(source.name)
    return str(target)


# --- the use case ------------------------------------------------------------


def import_posts(
    store: Any,  # tracker.store.Store
    *,
    learner_id: int,
    now: datetime,
    paths: Sequence[Path],
    repaired_dir: Path | None = None,
    dry_run: bool = False,
    curriculum: Curriculum | None = None,
) -> ImportReport:
    """Import journal posts: one write transaction per post; `dry_run` writes nothing."""
    if repaired_dir is not None and repaired_dir.exists() and not repaired_dir.is_dir():
        raise UsageError(f"--repaired-dir {repaired_dir} is a file, not a folder")
    files = find_posts(paths, exclude=repaired_dir)
    if curriculum is None:
        from tracker.curriculum.loader import load_curriculum

        curriculum = load_curriculum()
    texts: dict[int, str] = {}
    unreadable: dict[int, Problem] = {}
    for index, path in enumerate(files):
        text, problem = read_post(path)
        if text is None:
            unreadable[index] = problem  # type: ignore[assignment]
        else:
            texts[index] = text
    order = sorted(texts)
    repaired: dict[int, RepairResult] = dict(
        zip(order, repair_journal([texts[i] for i in order]), strict=True)
    )
    with store.read() as session:
        catalog = _catalog(session, curriculum)
    today = store.clock.local_day(now)
    tz = store.clock.tz
    ledger = _Ledger() if dry_run else None
    taken: set[str] = set()
    originals = {path.resolve() for path in files}
    reports = []
    for index, path in enumerate(files):
        if index in unreadable:
            reports.append(FileReport(str(path), None, skipped=(unreadable[index],)))
            continue
        result = repaired[index]
        copy: str | None = None
        extra: list[Problem] = []
        if repaired_dir is not None and not dry_run:
            written = write_repaired_copy(result.text, path, repaired_dir, taken, originals)
            if isinstance(written, Problem):
                extra.append(written)
            else:
                copy = written
        reports.append(
            _import_one(
                store,
                path,
                result,
                catalog,
                learner_id=learner_id,
                now=now,
                today=today,
                tz=tz,
                ledger=ledger,
                copy=copy,
                extra=extra,
            )
        )
    return ImportReport(tuple(reports), dry_run=dry_run)


def _import_one(
    store: Any,
    path: Path,
    result: RepairResult,
    catalog: _Catalog,
    *,
    learner_id: int,
    now: datetime,
    today: date,
    tz: Any,
    ledger: _Ledger | None,
    copy: str | None,
    extra: list[Problem],
) -> FileReport:
    parsed = parse_post(result.text, file_name=path.name)
    common = {"repaired": result.figures, "repair": result.method, "repaired_copy": copy}
    if parsed.fatal is not None:
        return FileReport(str(path), None, skipped=(parsed.fatal, *extra), **common)
    assert parsed.date is not None
    if parsed.date > today:
        why = f"dated {parsed.date.isoformat()}, after today ({today.isoformat()})"
        return FileReport(str(path), parsed.date, skipped=(Problem("date", why), *extra), **common)
    plan = plan_post(parsed, catalog)
    opened = store.read() if ledger is not None else store.write()
    with opened as session:
        added, already, depths = record_plan(
            session,
            plan,
            learner_id=learner_id,
            post_date=parsed.date,
            source=path.name,
            tz=tz,
            now=now,
            ledger=ledger,
        )
    return FileReport(
        str(path),
        parsed.date,
        added=tuple(added),
        already=tuple(already),
        skipped=(*plan.skipped, *extra),
        depths=tuple(depths),
        **common,
    )
