"""Reading a post: the date's three sources, the focus, dated and undated sessions."""

from __future__ import annotations

import re
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.import_support import clean_samples, make_post, rendered_text
from tracker.importers.posts import parse_post


def summary(text: str, file_name: str = "") -> tuple:
    post = parse_post(text, file_name=file_name)
    return (
        post.date,
        post.focus and (post.focus.name, post.focus.depth),
        [(m.on, m.name, m.depth) for m in post.sessions],
        [(m.name, m.depth) for m in post.learned_before],
    )


def test_the_flash_attention_sample() -> None:
    post = parse_post(clean_samples()[1].read_text(encoding="utf-8"))
    assert post.date == date(2025, 11, 14) and post.date_source == "front matter"
    assert post.title == "Flash Attention"
    assert (post.focus.name, post.focus.depth) == ("Flash Attention", 3)
    assert [(m.on, m.name, m.depth) for m in post.sessions] == [
        (date(2025, 11, 10), "Multi-Head Attention", 2),
        (date(2025, 11, 3), "Attention Mechanism", 1),
    ]
    assert [(m.name, m.depth) for m in post.learned_before] == [
        ("Attention Mechanism", 1),
        ("Multi-Head Attention", 2),
    ]
    assert post.problems == () and post.fatal is None


def test_the_date_comes_from_front_matter_then_the_heading_then_the_file_name() -> None:
    text = make_post("2025-10-20", "Transformer", 1)
    assert parse_post(text).date_source == "front matter"
    no_front = make_post("2025-10-21", "Transformer", 1, front_matter=False)
    post = parse_post(no_front, file_name="2025-01-01-other.md")
    assert (post.date, post.date_source) == (date(2025, 10, 21), "heading")
    bare = make_post("2025-10-22", "Transformer", 1, front_matter=False, heading_date=False)
    post = parse_post(bare, file_name="2025-10-22-transformer.md")
    assert (post.date, post.date_source) == (date(2025, 10, 22), "file name")


def test_no_date_anywhere_is_fatal_with_the_reason() -> None:
    bare = make_post("2025-10-22", "Transformer", 1, front_matter=False, heading_date=False)
    post = parse_post(bare, file_name="notes.md")
    assert post.date is None
    assert post.fatal.why == (
        "no date: no front matter date, no 'Learning Journey - YYYY-MM-DD' heading, "
        "and the file name does not start with YYYY-MM-DD"
    )


def test_a_date_that_does_not_exist_is_named() -> None:
    for text, name in (
        (make_post("2025-02-30", "Transformer", 1), ""),
        (make_post("2025-02-30", "Transformer", 1, front_matter=False), ""),
        (
            make_post("x", "Transformer", 1, front_matter=False, heading_date=False),
            "2025-02-30-a.md",
        ),
    ):
        post = parse_post(text, file_name=name)
        assert post.date is None
        assert post.fatal.why == "2025-02-30 is not a real date"


def test_bad_session_lines_are_named_and_the_rest_kept() -> None:
    text = make_post(
        "2025-11-14",
        "Flash Attention",
        3,
        [
            ("2025-02-30", "Transformer", 1),
            ("2025-11-10", "Multi-Head Attention", 9),
            ("2025-12-01", "Transformer", 1),
            ("2025-11-03", "Attention Mechanism", 1),
        ],
    )
    post = parse_post(text)
    assert [(m.on, m.name) for m in post.sessions] == [(date(2025, 11, 3), "Attention Mechanism")]
    assert [(p.what, p.why) for p in post.problems] == [
        ("2025-02-30 - Transformer (depth 1)", "2025-02-30 is not a real date"),
        ("2025-11-10 - Multi-Head Attention (depth 9)", "depth 9 is not a depth (use 1 to 4)"),
        ("2025-12-01 - Transformer (depth 1)", "dated after the post itself (2025-11-14)"),
    ]


def test_a_post_without_a_focus_says_so() -> None:
    post = parse_post("# AI Learning Journey - 2025-10-20\n\nJust notes today.\n")
    assert post.date == date(2025, 10, 20) and post.focus is None
    assert [(p.what, p.why) for p in post.problems] == [
        ("today's focus", "no concept with '(Depth N)' found in the post")
    ]


def test_rendered_text_reads_like_its_markdown() -> None:
    for markdown in (
        clean_samples()[0].read_text(encoding="utf-8"),
        clean_samples()[1].read_text(encoding="utf-8"),
        make_post("2025-11-10", "Multi-Head Attention", 2, [("2025-11-03", "Attention", 1)]),
    ):
        text = rendered_text(markdown)
        assert not re.search(r"\*\*\w", text)  # no bold left (code keeps its `d ** 0.5`)
        assert not any(line.startswith("#") for line in text.splitlines())
        assert "categories:" not in text
        assert summary(text) == summary(markdown)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400), st.text(max_size=40))
def test_the_parser_never_raises(text: str, file_name: str) -> None:
    post = parse_post(text, file_name=file_name)
    assert post.fatal is not None or post.date is not None


lines = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "---",
                "date: '2025-10-20'",
                "title: Transformer",
                "# AI Learning Journey - 2025-10-20",
                "## 🎯 Today's Focus",
                "**Transformer** (Depth 1)",
                "**2025-10-13** - Attention (depth 1)",
                "- **Attention** (depth 1) - 쿼리와 키",
                "**Today**:",
                "2025-13-45 - x (depth 2)",
                "(depth 0)",
            ]
        ),
        st.text(max_size=30),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(lines)
def test_the_parser_never_raises_on_post_shaped_text(parts: list[str]) -> None:
    post = parse_post("\n".join(parts), file_name="2025-10-20-x.md")
    for mention in post.sessions:
        assert 1 <= mention.depth <= 4 and mention.on <= (post.date or mention.on)
