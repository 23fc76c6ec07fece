"""The report as Markdown: the growth indicators with ten-cell bars, then the review figures.

The growth section is shared with the journal post (``tracker.render.post``)
so both say the same thing in the same words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracker.render.messages import Messages, messages
from tracker.reports.review_stats import WINDOWS

if TYPE_CHECKING:
    from tracker.reports.document import ReportDocument
    from tracker.reports.indicators import CategoryProgress


CELLS = 10
FULL, EMPTY = "█", "░"


def bar(fraction: float) -> str:
    """Ten cells; full only at 100% and empty only at 0%, so a bar never rounds away progress."""
    if fraction <= 0:
        filled = 0
    elif fraction >= 1:
        filled = CELLS
    else:
        filled = min(CELLS - 1, max(1, round(fraction * CELLS)))
    return FULL * filled + EMPTY * (CELLS - filled)


def category_lines(category: CategoryProgress, t: Messages) -> list[str]:
    done = len(category.completed)
    lines = [f"**{category.name}**: {bar(category.fraction)} {category.percent}%"]
    names = ", ".join(s.title for s in category.completed)
    completed = t("category.completed", done=done, total=category.total)
    lines.append(f"- {completed}" + (f" ({names})" if names else ""))
    if category.in_progress:
        doing = ", ".join(s.title for s in category.in_progress)
        lines.append(f"- {t('category.in_progress', n=len(category.in_progress))} ({doing})")
    return lines


def growth_lines(doc: ReportDocument, *, started_only: bool = False) -> list[str]:
    """Category bars, velocity and milestones achieved: the post's growth section."""
    t = messages(doc.lang)
    categories = [c for c in doc.categories if c.completed or c.in_progress] if started_only else []
    lines: list[str] = []
    for category in categories or doc.categories:
        lines += [*category_lines(category, t), ""]
    v = doc.velocity
    lines += [
        t("post.velocity", week=v.this_week, month=v.this_month, trend=t.trend(v.trend)),
        "",
    ]
    if doc.milestones.achieved:
        lines.append(t("post.achieved"))
        lines += [f"- 🏆 {t.milestone(m)}" for m in doc.milestones.achieved]
        lines.append("")
    return lines


def next_milestone(doc: ReportDocument) -> str | None:
    t = messages(doc.lang)
    if not doc.milestones.next:
        return None
    m = doc.milestones.next[0]
    return f"{t.milestone(m)} ({t.remaining(m)})"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def render_markdown(doc: ReportDocument) -> bytes:
    t = messages(doc.lang)
    s = doc.streak
    level = t(
        "depth_level.value", label=t.level(doc.depth_level.level), depth=doc.depth_level.depth
    )
    started = doc.journey_started.isoformat() if doc.journey_started else "—"
    lines = [
        f"# {t('report.title', date=doc.date.isoformat())}",
        "",
        f"## {t('report.summary')}",
        "",
        f"- **{t('journey_started')}**: {started}",
        f"- **{t('sessions_completed')}**: {doc.sessions_completed}",
        f"- **{t('streak')}**: " + t("streak.value", current=t.days(s.alive), best=t.days(s.best)),
        f"- **{t('depth_level')}**: {level}",
        "",
        f"## {t('categories')}",
        "",
    ]
    for category in doc.categories:
        lines += [*category_lines(category, t), ""]
    v = doc.velocity
    lines += [
        f"## {t('velocity')}",
        "",
        t("velocity.value", week=v.this_week, month=v.this_month, trend=t.trend(v.trend)),
        "",
        f"## {t('milestones')}",
        "",
        f"### {t('milestones.achieved')}",
        "",
    ]
    achieved = doc.milestones.achieved
    lines += [
        f"- 🏆 {t.milestone(m)} ({m.achieved_on.isoformat()})" for m in achieved if m.achieved_on
    ]
    if not achieved:
        lines.append(f"- {t('none_yet')}")
    lines += ["", f"### {t('milestones.next')}", ""]
    lines += [f"- {t.milestone(m)}: {t.remaining(m)}" for m in doc.milestones.next]
    r = doc.reviews
    lines += ["", f"## {t('reviews')}", ""]
    if r.due_today is not None:
        lines.append(f"- **{t('reviews.due_today')}**: {r.due_today}")
    lines.append(f"- **{t('reviews.total')}**: {r.total_reviews}")
    lines += [
        "",
        f"### {t('retention')}",
        "",
        f"| {t('retention.period')} | {t('retention.young')} | {t('retention.mature')} "
        f"| {t('retention.total')} | {t('retention.reviews')} |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, _, _ in WINDOWS:
        counts = r.retention[name]
        lines.append(
            f"| {t('window.' + name)} | {_percent(counts.young)} | {_percent(counts.mature)} "
            f"| {_percent(counts.total)} | {counts.reviews} |"
        )
    lines += ["", t("retention.note"), "", f"### {t('forecast')}", ""]
    f = r.forecast
    if f is None:
        lines.append(t("forecast.past"))
    else:
        load = t("forecast.load.value", n=f"{f.daily_load:.1f}")
        lines += [
            f"- **{t('forecast.backlog')}**: {f.backlog}",
            f"- **{t('forecast.tomorrow')}**: {f.due_tomorrow}",
            f"- **{t('forecast.total')}**: {f.total}",
            f"- **{t('forecast.load')}**: {load}",
            f"- **{t('forecast.new')}**: {f.new_cards}",
        ]
    lines += ["", "---", "", f"_{t('generated')}_", ""]
    return "\n".join(lines).encode("utf-8")
