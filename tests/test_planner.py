"""The planner's rule and plan, as pure functions: no database, fixed dates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tracker.planner import (
    BALANCE,
    DEEPEN,
    FILL_IN,
    FOUNDATION,
    MAIN_PATH,
    CourseGraph,
    LearnerProgress,
    LessonNode,
    Requirement,
    advance,
    available_lessons,
    choose_next,
    describe,
    lesson_order,
    missing_requirements,
    plan,
    session_day,
    simulate,
)

TODAY = date(2025, 11, 10)


@pytest.fixture(scope="module")
def graph() -> CourseGraph:
    """The shipped curriculum, as the check-in would read it from the DB."""
    from tracker.curriculum.loader import load_curriculum

    curriculum = load_curriculum()
    return CourseGraph(
        lessons=tuple(
            LessonNode(
                id=spec.id,
                concept=spec.concept,
                depth=spec.depth,
                category=curriculum.concepts[spec.concept].category,
                requires=tuple(Requirement(r.concept, r.depth) for r in spec.requires),
                title=spec.title,
                has_exercise=spec.has_exercise,
            )
            for spec in curriculum.lessons.values()
        ),
        main_path=curriculum.main_path,
    )


def passed(graph: CourseGraph, *lesson_ids: str, start: date = TODAY) -> LearnerProgress:
    """Progress after passing ``lesson_ids`` on consecutive days from ``start``."""
    progress = LearnerProgress()
    for offset, lesson_id in enumerate(lesson_ids):
        node = graph.lesson(lesson_id)
        assert node is not None, lesson_id
        progress = advance(progress, node, start + timedelta(days=offset))
    return progress


def node(lesson_id: str, category: str, *requires: str, exercise: bool = False) -> LessonNode:
    concept, depth = lesson_id.rsplit("-", 1)
    needs = tuple(Requirement(r.split("@")[0], int(r.split("@")[1])) for r in requires)
    return LessonNode(lesson_id, concept, int(depth), category, needs, has_exercise=exercise)


def test_fresh_learner_starts_the_main_path(graph: CourseGraph) -> None:
    pick = choose_next(graph, LearnerProgress())
    assert pick is not None
    assert (pick.lesson.id, pick.rule) == ("attention-mechanism-1", MAIN_PATH)
    assert pick.reason == (
        "attention-mechanism-1 starts the main path and needs nothing you have not done"
    )
    week = plan(graph, LearnerProgress(), today=TODAY, sessions_per_week=3).week
    # The spine is the main path; each concept's depth-1 lesson comes before its deeper one.
    assert lesson_order(week) == [
        "attention-mechanism-1",
        "multi-head-attention-1",
        "multi-head-attention-2",
    ]
    assert [s.day for s in week] == [TODAY, TODAY + timedelta(2), TODAY + timedelta(4)]
    assert week[1].pick.rule == FOUNDATION
    assert week[1].pick.reason == (
        "multi-head-attention-1 first: multi-head-attention's depth 1 (what and why) "
        "before multi-head-attention-2 at depth 2"
    )


def test_a_lesson_does_not_need_the_shallower_lessons_of_its_concept(graph: CourseGraph) -> None:
    progress = passed(graph, "attention-mechanism-1")
    ids = {n.id for n in available_lessons(graph, progress)}
    assert "multi-head-attention-2" in ids  # without multi-head-attention-1
    assert "flash-attention-3" not in ids  # needs multi-head-attention@2
    flash = graph.lesson("flash-attention-3")
    assert flash is not None
    missing = missing_requirements(flash.requires, progress.depths)
    assert missing == [Requirement("multi-head-attention", 2)]
    assert missing_requirements(flash.requires, {"multi-head-attention": 3}) == []


def test_main_path_reason_names_the_lesson_it_builds_on(graph: CourseGraph) -> None:
    progress = passed(
        graph,
        "attention-mechanism-1",
        "multi-head-attention-2",
        "flash-attention-1",
        "multi-head-attention-1",  # studied last: nothing deeper of it to take
    )
    pick = choose_next(graph, progress)
    assert pick is not None and pick.lesson.id == "flash-attention-3"
    assert pick.reason == (
        "you passed multi-head-attention-2 on 2025-11-11; flash-attention-3 builds on it"
    )


def test_a_jump_ahead_still_gets_the_introduction_first(graph: CourseGraph) -> None:
    progress = passed(graph, "attention-mechanism-1", "multi-head-attention-2")
    pick = choose_next(graph, progress)
    assert pick is not None
    assert (pick.lesson.id, pick.rule) == ("flash-attention-1", FOUNDATION)
    assert pick.before is not None and pick.before.id == "flash-attention-3"


def test_deepens_the_concept_studied_last(graph: CourseGraph) -> None:
    progress = passed(
        graph,
        "attention-mechanism-1",
        "multi-head-attention-2",
        "flash-attention-3",
        "grouped-query-attention-1",
    )
    pick = choose_next(graph, progress)
    assert pick is not None
    assert (pick.lesson.id, pick.rule) == ("grouped-query-attention-3", DEEPEN)
    assert pick.reason == (
        "you passed grouped-query-attention-1 on 2025-11-13; grouped-query-attention-3 "
        "takes grouped-query-attention from depth 1 to 3"
    )


def test_deepening_prefers_the_main_path_lesson_of_that_concept() -> None:
    small = CourseGraph(
        lessons=(node("x-1", "a"), node("x-2", "a"), node("x-3", "a")),
        main_path=("x-1", "x-3"),
    )
    progress = advance(LearnerProgress(), small.lessons[0], TODAY)
    pick = choose_next(small, progress)
    # Deepening picks x-3, the main path's; x-2, shallower, comes before it.
    assert pick is not None and (pick.lesson.id, pick.rule) == ("x-2", FOUNDATION)
    assert pick.before == small.lessons[2]
    after = advance(progress, small.lessons[1], TODAY)
    then = choose_next(small, after)
    assert then is not None and (then.lesson.id, then.rule) == ("x-3", DEEPEN)


def test_a_lesson_below_the_depth_reached_is_filled_in_at_the_end() -> None:
    small = CourseGraph(
        lessons=(node("x-1", "a"), node("x-2", "a"), node("y-1", "b")),
        main_path=("x-2",),
    )
    progress = advance(LearnerProgress(), small.lessons[1], TODAY)  # jumped to x-2
    order = lesson_order(simulate(small, progress, today=TODAY, sessions_per_week=7))
    assert order == ["y-1", "x-1"]


def test_after_the_main_path_the_least_covered_category_comes_first(graph: CourseGraph) -> None:
    progress = passed(graph, "attention-mechanism-1", "multi-head-attention-2", "flash-attention-3")
    pick = choose_next(graph, progress)
    assert pick is not None
    # model and training lessons all need transformer@1; safety has one available.
    assert (pick.lesson.id, pick.rule) == ("mechanistic-interpretability-1", BALANCE)
    assert pick.reason == (
        "main path done; safety is your least-covered category (0 of 4 lessons passed); "
        "builds on multi-head-attention-2"
    )


def test_category_balance_on_a_small_graph() -> None:
    small = CourseGraph(
        lessons=(
            node("a-1", "first"),
            node("b-1", "first"),
            node("c-1", "first"),
            node("d-1", "second"),
            node("e-1", "second", "d@1"),
        ),
    )
    order = lesson_order(simulate(small, LearnerProgress(), today=TODAY, sessions_per_week=7))
    # 0/3 ties 0/2: category order -> a; 0/2 < 1/3 -> d; 1/3 < 1/2 -> b; 1/2 < 2/3 -> e.
    assert order == ["a-1", "d-1", "b-1", "e-1", "c-1"]


def test_a_concepts_lessons_are_planned_shallow_to_deep(graph: CourseGraph) -> None:
    sessions = simulate(graph, LearnerProgress(), today=TODAY, sessions_per_week=7)
    depths: dict[str, list[int]] = {}
    for planned in sessions:
        depths.setdefault(planned.pick.lesson.concept, []).append(planned.pick.lesson.depth)
    assert all(d == sorted(d) for d in depths.values()), depths
    assert not [s for s in sessions if s.pick.rule == FILL_IN]  # nobody jumped ahead
    assert describe(sessions[0].pick).startswith("attention-mechanism-1 starts the main path")


def test_the_plan_lists_every_lesson_once_and_respects_prerequisites(graph: CourseGraph) -> None:
    result = plan(graph, LearnerProgress(), today=TODAY, sessions_per_week=3)
    order = lesson_order(result.week + result.month + result.quarter)
    assert sorted(order) == sorted(n.id for n in graph.lessons)
    depths: dict[str, int] = {}
    for lesson_id in order:
        lesson = graph.lesson(lesson_id)
        assert lesson is not None
        assert missing_requirements(lesson.requires, depths) == [], lesson_id
        depths[lesson.concept] = max(depths.get(lesson.concept, 0), lesson.depth)


@pytest.mark.parametrize(
    ("per_week", "week", "month"),
    [(1, 1, 4), (3, 3, 10), (7, 7, 23)],
)
def test_horizons_follow_the_sessions_per_week_goal(
    graph: CourseGraph, per_week: int, week: int, month: int
) -> None:
    big = CourseGraph(
        lessons=tuple(node(f"c{i}-1", "x") for i in range(200)), main_path=graph.main_path[:0]
    )
    result = plan(big, LearnerProgress(), today=TODAY, sessions_per_week=per_week)
    assert (len(result.week), len(result.month)) == (week, month)
    assert all((s.day - TODAY).days < 7 for s in result.week)
    assert all(7 <= (s.day - TODAY).days < 30 for s in result.month)
    assert all(30 <= (s.day - TODAY).days < 90 for s in result.quarter)
    assert len(result.week + result.month + result.quarter) == -(-90 * per_week // 7)


def test_following_the_plan_gets_the_same_proposals(graph: CourseGraph) -> None:
    start = passed(graph, "transformer-1")
    sessions = simulate(graph, start, today=TODAY, sessions_per_week=3)
    progress = start
    for planned in sessions:
        pick = choose_next(graph, progress)
        assert pick is not None and pick.lesson == planned.pick.lesson
        progress = advance(progress, pick.lesson, planned.day)
    assert choose_next(graph, progress) is None


def test_planned_sessions_are_described_as_planned(graph: CourseGraph) -> None:
    week = plan(graph, LearnerProgress(), today=TODAY, sessions_per_week=3).week
    assert week[2].pick.basis_planned
    assert week[2].pick.reason == (
        "after multi-head-attention-1 (planned for 2025-11-12); multi-head-attention-2 takes "
        "multi-head-attention from depth 1 to 2"
    )


def test_sessions_done_today_take_todays_place(graph: CourseGraph) -> None:
    first = graph.lesson("attention-mechanism-1")
    assert first is not None
    progress = advance(LearnerProgress(), first, TODAY)
    result = plan(graph, progress, today=TODAY, sessions_per_week=3, done_today=(first,))
    assert [(s.pick.lesson.id, s.day, s.done) for s in result.week[:2]] == [
        ("attention-mechanism-1", TODAY, True),
        ("multi-head-attention-1", TODAY + timedelta(2), False),
    ]
    assert result.done_today == result.week[:1]
    assert result.focus is not None and result.focus.lesson.id == "multi-head-attention-1"


def test_nothing_left_means_no_focus_and_an_empty_plan(graph: CourseGraph) -> None:
    progress = passed(graph, *(n.id for n in graph.lessons))
    assert choose_next(graph, progress) is None
    result = plan(graph, progress, today=TODAY, sessions_per_week=3)
    assert result.focus is None
    assert result.week == result.month == result.quarter == ()


def test_advance_never_lowers_a_depth(graph: CourseGraph) -> None:
    progress = passed(graph, "attention-mechanism-1", "multi-head-attention-2")
    shallow = graph.lesson("multi-head-attention-1")
    assert shallow is not None
    after = advance(progress, shallow, TODAY + timedelta(days=5))
    assert after.depths["multi-head-attention"] == 2
    assert after.passed["multi-head-attention-1"] == TODAY + timedelta(days=5)
    again = advance(after, shallow, TODAY + timedelta(days=9))
    assert again.passed["multi-head-attention-1"] == TODAY + timedelta(days=5)


def test_session_days_spread_over_the_week() -> None:
    assert [session_day(i, TODAY, 3).day for i in range(4)] == [10, 12, 14, 17]
    assert [session_day(i, TODAY, 5).day for i in range(5)] == [10, 11, 12, 14, 15]


def test_a_goal_below_one_session_is_rejected(graph: CourseGraph) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        simulate(graph, LearnerProgress(), today=TODAY, sessions_per_week=0)


def test_later_sessions_speak_of_the_plan_not_of_facts(graph: CourseGraph) -> None:
    sessions = simulate(graph, LearnerProgress(), today=date(2025, 1, 6), sessions_per_week=3)
    assert "by then" not in sessions[0].pick.reason
    balance = [s.pick.reason for s in sessions if s.pick.rule == "balance"]
    assert balance and all("passed by then" in reason for reason in balance)
