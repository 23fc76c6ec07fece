"""The learning-journal post as Jekyll Markdown: front matter, then the sections learners publish.

Section order and the front-matter keys follow ARCHITECTURE.md and the posts
in shared/samples. The lesson text is nested under the "core concept"
heading: its own title line is dropped (the focus already names it) and its
headings move one level down, outside code fences only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracker.render.messages import Messages, messages
from tracker.render.report_md import growth_lines, next_milestone

if TYPE_CHECKING:
    from tracker.reports.planning import PlanItem
    from tracker.reports.post import PostDocument


def _yaml_text(value: str) -> str:
    """A YAML single-quoted scalar: safe for colons, hashes and quotes in titles."""
    return "'" + value.replace("'", "''") + "'"


def demote_headings(markdown: str) -> str:
    """Drop a leading H1 and push every other heading one level down (not inside fences)."""
    lines = markdown.strip("\n").splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
        while lines and not lines[0].strip():
            lines = lines[1:]
    out, fenced = [], False
    for line in lines:
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            line = "#" + line
        out.append(line)
    return "\n".join(out)


def _depth(t: Messages, n: int) -> str:
    return t("post.depth", n=n).lower() if t.lang == "en" else t("post.depth", n=n)


def _item(t: Messages, title: str, depth: int, summary: str) -> str:
    tail = f" - {summary}" if summary else ""
    return f"- **{title}** ({_depth(t, depth)}){tail}"


def _plan_lines(
    t: Messages, label: str, items: tuple[PlanItem, ...], titles: dict[str, str]
) -> list[str]:
    lines = [f"**{label}**:"]
    if not items:
        return [*lines, f"- {t('plan.none')}"]
    for p in items:
        concept = titles.get(p.concept, p.concept)
        lines.append(f"- {p.date.isoformat()} - {concept} ({_depth(t, p.depth)}): {p.title}")
    return lines


def render_post(post: PostDocument) -> bytes:
    t = messages(post.lang)
    report = post.report
    titles = {c.id: c.title for c in report.data.concepts}
    lesson_titles = {x.id: x.title for x in report.data.lessons}
    focus = post.focus
    lines = [
        "---",
        "categories: learning",
        f"date: '{post.date.isoformat()}'",
        "layout: single",
        f"tags: {' '.join(post.tags)}",
        f"title: {_yaml_text(post.title)}",
        "---",
        f"# {t('post.heading', date=post.date.isoformat())}",
        "",
        f"## {t('post.focus')}",
        "",
        f"**{focus.concept_title}** ({t('post.depth', n=focus.depth)})",
        "",
    ]
    if focus.title and focus.title != focus.concept_title:
        lines += [f"_{focus.title}_", ""]
    if focus.summary:
        lines += [focus.summary, ""]
    if post.also_today:
        lines.append(f"**{t('post.also_today')}**:")
        lines += [_item(t, x.concept_title, x.depth, x.title) for x in post.also_today]
        lines.append("")
    lines += ["---", "", f"## {t('post.why')}", "", f"### {t('post.earlier')}", ""]
    if post.earlier:
        lines += [_item(t, e.title, e.depth, e.summary) for e in post.earlier]
    else:
        lines.append(t("post.earlier.none"))
    lines += [
        "",
        f"**{t('post.today')}**:",
        _item(t, focus.concept_title, focus.depth, focus.summary),
        "",
        "---",
        "",
    ]
    if post.content.strip():
        lines += [f"## {t('post.core')}", "", demote_headings(post.content), "", "---", ""]
    lines += [f"## {t('post.connections')}", ""]
    if post.plan.connections:
        for c in post.plan.connections:
            lines.append(
                f"**{c.date.isoformat()}** - {titles.get(c.concept, c.concept)} "
                f"({_depth(t, c.depth)})"
            )
            what = lesson_titles.get(c.lesson or "", "")
            relation = t(f"relation.{c.relation}")
            lines.append(f"- {what} ({relation})" if what else f"- {relation}")
            lines.append("")
    else:
        lines += [t("post.connections.none"), ""]
    lines += ["---", ""]
    if post.questions or post.exercise:
        lines += [f"## {t('post.check')}", ""]
        lines += [f"- {q}" for q in post.questions]
        if post.exercise:
            lines += [
                "",
                t("post.exercise", lesson=focus.lesson),
                "",
                "```python",
                post.exercise.rstrip("\n"),
                "```",
            ]
        lines += ["", "---", ""]
    lines += [f"## {t('post.next')}", ""]
    for label, items in (
        (t("plan.week"), post.plan.week),
        (t("plan.month"), post.plan.month),
        (t("plan.quarter"), post.plan.quarter),
    ):
        lines += [*_plan_lines(t, label, items, titles), ""]
    lines += ["---", "", f"## {t('post.growth')}", ""]
    lines += growth_lines(report, started_only=True)
    started = report.journey_started.isoformat() if report.journey_started else "—"
    level = t(
        "depth_level.value",
        label=t.level(report.depth_level.level),
        depth=report.depth_level.depth,
    )
    footer = [
        f"**{t('post.started')}**: {started}",
        f"**{t('post.level')}**: {level}",
        f"**{t('post.sessions')}**: {report.sessions_completed}",
    ]
    upcoming = next_milestone(report)
    if upcoming:
        footer.append(f"**{t('post.next_milestone')}**: {upcoming}")
    lines += footer  # one line each, as the published posts have them
    lines += ["", "---", "", f"_{t('generated')}_", ""]
    return "\n".join(lines).encode("utf-8")
