"""What to study next, and the week / month / quarter plan that follows from it.

Pure functions over plain values: the caller reads lessons, prerequisites and
progress from wherever it likes (the check-in reads DB rows) and passes them
in, so the rules can be tested without a database and the plan can be
simulated session by session with exactly the rule a later check-in applies.

The rule, in order of preference, over lessons that are *available* (every
``concept@depth`` prerequisite held, not passed yet; a lesson never needs the
shallower lessons of its own concept):

1. ``deepen``: a deeper lesson of the concept studied last (main-path lessons
   of it first, then the shallowest);
2. ``main-path``: the first available lesson of the main path not yet passed;
3. ``balance``: a lesson of the least-completed category (share of its lessons
   passed), shallowest first, then curriculum order;
4. ``fill-in``: lessons shallower than what the learner already reached in
   their concept (e.g. multi-head-attention-1 after multi-head-attention-2)
   come last: worth reading, but they add no depth.

Whatever the rule picks, a concept's shallower lessons come first
(``foundation``): the plan takes multi-head-attention-1 before
multi-head-attention-2, so a beginner meets the what and why before the
mechanism. A learner may still jump ahead with ``learn`` or ``submit``; the
main path stays the spine.

Sessions already done today (first passes) take today's place in the plan: the
next session is the next lesson, on the next planned day.

Due reviews are not planned here: they come before new material and the
check-in says so; the plan holds new lessons only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from tracker.rules import DEPTH_LABELS as DEPTH_WORDS
from tracker.rules import Requirement, missing_requirements

DEEPEN, MAIN_PATH, BALANCE, FILL_IN = "deepen", "main-path", "balance", "fill-in"
FOUNDATION, DONE = "foundation", "done"

# A plan horizon is "sessions whose planned day falls within N days from today".
WEEK_DAYS, MONTH_DAYS, QUARTER_DAYS = 7, 30, 90


@dataclass(frozen=True)
class LessonNode:
    id: str
    concept: str
    depth: int
    category: str
    requires: tuple[Requirement, ...] = ()
    title: str = ""
    has_exercise: bool = False


@dataclass(frozen=True)
class CourseGraph:
    """Lessons in curriculum order (concept position, then depth) and the main path."""

    lessons: tuple[LessonNode, ...]
    main_path: tuple[str, ...] = ()

    def lesson(self, lesson_id: str) -> LessonNode | None:
        for node in self.lessons:
            if node.id == lesson_id:
                return node
        return None

    def categories(self) -> list[str]:
        """Categories in the order their first lesson appears."""
        return list(dict.fromkeys(node.category for node in self.lessons))


@dataclass(frozen=True)
class LearnerProgress:
    """Where a learner stands: passed lessons (with the learner-day of the first
    pass), each concept's depth, and the concept of the latest study session."""

    passed: Mapping[str, date] = field(default_factory=dict)
    depths: Mapping[str, int] = field(default_factory=dict)
    last_concept: str | None = None


@dataclass(frozen=True)
class Pick:
    """A lesson chosen by the rule, with what the choice rests on."""

    lesson: LessonNode
    rule: str  # deepen | main-path | balance | fill-in | foundation
    basis: str | None = None  # the passed lesson it builds on or deepens
    basis_date: date | None = None
    category_passed: int = 0
    category_total: int = 0
    path_done: bool = False
    concept_depth: int = 0  # the learner's depth in the lesson's concept before it
    basis_planned: bool = False  # the basis is an earlier session of the plan, not a fact yet
    later: bool = False  # a later session of the plan: counts include the sessions before it
    before: LessonNode | None = None  # foundation: the deeper lesson this one comes before

    @property
    def reason(self) -> str:
        return describe(self)


@dataclass(frozen=True)
class PlannedSession:
    index: int  # 0 is today's first session
    day: date
    pick: Pick
    done: bool = False  # already studied today


@dataclass(frozen=True)
class Plan:
    week: tuple[PlannedSession, ...]
    month: tuple[PlannedSession, ...]
    quarter: tuple[PlannedSession, ...]

    @property
    def focus(self) -> Pick | None:
        """The next session still to do."""
        for planned in (*self.week, *self.month, *self.quarter):
            if not planned.done:
                return planned.pick
        return None

    @property
    def done_today(self) -> tuple[PlannedSession, ...]:
        return tuple(p for p in self.week if p.done)


def is_available(lesson: LessonNode, progress: LearnerProgress) -> bool:
    return lesson.id not in progress.passed and not missing_requirements(
        lesson.requires, progress.depths
    )


def available_lessons(graph: CourseGraph, progress: LearnerProgress) -> list[LessonNode]:
    return [node for node in graph.lessons if is_available(node, progress)]


def _latest_basis(lesson: LessonNode, graph: CourseGraph, progress: LearnerProgress) -> Pick:
    """The most recently passed lesson that satisfies one of ``lesson``'s prerequisites."""
    best: tuple[date, str] | None = None
    for node in graph.lessons:
        when = progress.passed.get(node.id)
        if when is None:
            continue
        if any(r.concept == node.concept and node.depth >= r.depth for r in lesson.requires) and (
            best is None or when >= best[0]
        ):
            best = (when, node.id)
    return Pick(
        lesson=lesson,
        rule=MAIN_PATH,
        basis=best[1] if best else None,
        basis_date=best[0] if best else None,
        concept_depth=progress.depths.get(lesson.concept, 0),
    )


def _latest_pass_of(
    concept: str, graph: CourseGraph, progress: LearnerProgress
) -> tuple[str | None, date | None]:
    found: tuple[str | None, date | None] = (None, None)
    for node in graph.lessons:
        when = progress.passed.get(node.id)
        if node.concept == concept and when is not None and (found[1] is None or when >= found[1]):
            found = (node.id, when)
    return found


def choose_next(graph: CourseGraph, progress: LearnerProgress) -> Pick | None:
    """The lesson to study next by the module's rule; None when nothing is left."""
    pick = _choose(graph, progress)
    if pick is None:
        return None
    shallower = [
        node
        for node in available_lessons(graph, progress)
        if node.concept == pick.lesson.concept and node.depth < pick.lesson.depth
    ]
    if not shallower:
        return pick
    first = min(shallower, key=lambda node: node.depth)
    return Pick(
        lesson=first,
        rule=FOUNDATION,
        before=pick.lesson,
        concept_depth=progress.depths.get(first.concept, 0),
    )


def _choose(graph: CourseGraph, progress: LearnerProgress) -> Pick | None:
    available = available_lessons(graph, progress)
    if not available:
        return None
    depths = progress.depths
    on_path = {lesson_id: i for i, lesson_id in enumerate(graph.main_path)}

    last = progress.last_concept
    if last is not None:
        deeper = [n for n in available if n.concept == last and n.depth > depths.get(last, 0)]
        if deeper:
            deeper.sort(key=lambda n: (n.id not in on_path, n.depth))
            basis, basis_date = _latest_pass_of(last, graph, progress)
            return Pick(
                lesson=deeper[0],
                rule=DEEPEN,
                basis=basis,
                basis_date=basis_date,
                concept_depth=depths.get(last, 0),
            )

    by_id = {n.id: n for n in available}
    for lesson_id in graph.main_path:
        if lesson_id in by_id:
            return _latest_basis(by_id[lesson_id], graph, progress)

    path_done = all(lesson_id in progress.passed for lesson_id in graph.main_path)
    fresh = [n for n in available if n.depth > depths.get(n.concept, 0)]
    if fresh:
        totals: dict[str, int] = {}
        done: dict[str, int] = {}
        for node in graph.lessons:
            totals[node.category] = totals.get(node.category, 0) + 1
            done[node.category] = done.get(node.category, 0) + (node.id in progress.passed)
        order = {category: i for i, category in enumerate(graph.categories())}
        position = {n.id: i for i, n in enumerate(graph.lessons)}
        chosen = min(
            fresh,
            key=lambda n: (
                done[n.category] / totals[n.category],
                order[n.category],
                n.depth,
                position[n.id],
            ),
        )
        return replace(
            _latest_basis(chosen, graph, progress),
            rule=BALANCE,
            category_passed=done[chosen.category],
            category_total=totals[chosen.category],
            path_done=path_done,
        )

    chosen = available[0]  # curriculum order
    return Pick(
        lesson=chosen,
        rule=FILL_IN,
        concept_depth=depths.get(chosen.concept, 0),
        path_done=path_done,
    )


def advance(progress: LearnerProgress, lesson: LessonNode, on: date) -> LearnerProgress:
    """Progress after passing ``lesson`` on learner-day ``on`` (a new value)."""
    passed = dict(progress.passed)
    passed.setdefault(lesson.id, on)
    depths = dict(progress.depths)
    depths[lesson.concept] = max(depths.get(lesson.concept, 0), lesson.depth)
    return LearnerProgress(passed=passed, depths=depths, last_concept=lesson.concept)


def session_day(index: int, today: date, sessions_per_week: int) -> date:
    """Sessions spread evenly over the week: with 3 a week, days 0, 2, 4, 7, 9, ..."""
    return today + timedelta(days=index * 7 // sessions_per_week)


def sessions_within(days: int, sessions_per_week: int) -> int:
    """How many sessions have their planned day within the next ``days`` days."""
    return math.ceil(days * sessions_per_week / 7)


def simulate(
    graph: CourseGraph,
    progress: LearnerProgress,
    *,
    today: date,
    sessions_per_week: int,
    horizon_days: int = QUARTER_DAYS,
    done_today: tuple[LessonNode, ...] = (),
) -> list[PlannedSession]:
    """The coming sessions at the goal pace, each chosen by ``choose_next`` as a
    check-in on that day would choose it if the learner followed the plan.

    ``done_today`` (lessons first passed today, in order) come first, marked done,
    and take the first planned slots.
    """
    if sessions_per_week < 1:
        raise ValueError("sessions_per_week must be at least 1")
    planned: list[PlannedSession] = [
        PlannedSession(index=i, day=today, pick=Pick(lesson=node, rule=DONE), done=True)
        for i, node in enumerate(done_today)
    ]
    real = progress.passed
    for index in range(len(planned), sessions_within(horizon_days, sessions_per_week)):
        pick = choose_next(graph, progress)
        if pick is None:
            break
        if pick.basis is not None and pick.basis not in real:
            pick = replace(pick, basis_planned=True)
        if index > 0:
            pick = replace(pick, later=True)
        day = session_day(index, today, sessions_per_week)
        planned.append(PlannedSession(index=index, day=day, pick=pick))
        progress = advance(progress, pick.lesson, day)
    return planned


def plan(
    graph: CourseGraph,
    progress: LearnerProgress,
    *,
    today: date,
    sessions_per_week: int,
    done_today: tuple[LessonNode, ...] = (),
) -> Plan:
    """Week: sessions planned in the next 7 days; month: days 8-30; quarter: days 31-90."""
    sessions = simulate(
        graph,
        progress,
        today=today,
        sessions_per_week=sessions_per_week,
        done_today=done_today,
    )
    week = sessions_within(WEEK_DAYS, sessions_per_week)
    month = sessions_within(MONTH_DAYS, sessions_per_week)
    return Plan(
        week=tuple(sessions[:week]),
        month=tuple(sessions[week:month]),
        quarter=tuple(sessions[month:]),
    )


def describe(pick: Pick) -> str:
    """Why this lesson, in one line a learner can read."""
    lesson = pick.lesson
    when = pick.basis_date.isoformat() if pick.basis_date else ""
    if pick.basis_planned:
        passed = f"after {pick.basis} (planned for {when})"
    else:
        passed = f"you passed {pick.basis}" + (f" on {when}" if when else "")
    if pick.rule == DEEPEN:
        return (
            f"{passed}; {lesson.id} takes {lesson.concept} "
            f"from depth {pick.concept_depth} to {lesson.depth}"
        )
    if pick.rule == MAIN_PATH:
        if pick.basis is None:
            return f"{lesson.id} starts the main path and needs nothing you have not done"
        return f"{passed}; {lesson.id} builds on it"
    if pick.rule == FOUNDATION and pick.before is not None:
        return (
            f"{lesson.id} first: {lesson.concept}'s depth {lesson.depth} "
            f"({DEPTH_WORDS.get(lesson.depth, 'the basics')}) before "
            f"{pick.before.id} at depth {pick.before.depth}"
        )
    if pick.rule == DONE:
        return "studied today"
    if pick.rule == BALANCE:
        by_then = " by then" if pick.later else ""
        lead = f"main path done{by_then}; " if pick.path_done else ""
        share = f"{pick.category_passed} of {pick.category_total} lessons passed{by_then}"
        text = f"{lead}{lesson.category} is your least-covered category ({share})"
        if pick.basis is not None:
            text += f"; builds on {pick.basis}"
        return text
    return (
        f"fills in {lesson.concept} at depth {lesson.depth} "
        f"(you already reached depth {pick.concept_depth}); nothing deeper is left to take"
    )


def lesson_order(sessions: Iterable[PlannedSession]) -> list[str]:
    return [s.pick.lesson.id for s in sessions]
