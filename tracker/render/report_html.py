"""The report as one self-contained HTML page with hand-written inline SVG charts.

Geometry is computed here (plain numbers, rounded so the bytes are stable)
and the Jinja2 template in ``templates/report.html.j2`` only places it: no
rule, no arithmetic and no words in the template, every label comes from the
message catalogue. Nothing is fetched at view time: no script at all, CSS
inline, and a Content-Security-Policy that forbids any request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker.render.messages import Messages, messages
from tracker.reports.review_stats import WINDOWS

if TYPE_CHECKING:
    from tracker.reports.document import DayActivity, ReportDocument


TEMPLATES = Path(__file__).resolve().parent / "templates"
WIDTH = 640
CELL, GAP = 11, 2
LEVELS = 4


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    cls: str
    title: str = ""


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "start"
    cls: str = "axis"


@dataclass
class Chart:
    id: str
    title: str
    width: float
    height: float
    rects: list[Rect] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    lines: list[tuple[float, float, float, float, str]] = field(default_factory=list)
    paths: list[tuple[str, str]] = field(default_factory=list)  # (d, class)
    points: list[tuple[float, float, str]] = field(default_factory=list)  # (cx, cy, title)
    empty: str = ""
    empty_at: tuple[float, float] | None = None  # where the "nothing yet" text goes

    @property
    def center(self) -> tuple[float, float]:
        return self.empty_at or (_r(self.width / 2), _r(self.height / 2))


def _r(value: float) -> float:
    return round(value, 1)


def _day(d: date) -> str:
    return d.isoformat()


def category_chart(doc: ReportDocument, t: Messages) -> Chart:
    row, left, plot = 34, 150, WIDTH - 150 - 56
    chart = Chart("categories", t("chart.categories"), WIDTH, row * len(doc.categories) + 8)
    for i, c in enumerate(doc.categories):
        y = 6 + i * row
        done, doing = len(c.completed), len(c.in_progress)
        title = t("bar.category", name=c.name, done=done, total=c.total, doing=doing)
        share = plot / c.total if c.total else 0
        chart.rects.append(Rect(left, y, plot, 20, "track", title))
        chart.rects.append(Rect(left, y, _r(share * done), 20, "bar done", title))
        chart.rects.append(
            Rect(_r(left + share * done), y, _r(share * doing), 20, "bar doing", title)
        )
        chart.labels.append(Label(left - 8, y + 15, c.name, "end", "name"))
        chart.labels.append(Label(left + plot + 8, y + 15, f"{c.percent}%", "start", "value"))
    return chart


def _cell_title(day: DayActivity, t: Messages) -> str:
    parts = []
    if day.sessions:
        parts.append(t.count("cell.sessions", day.sessions) + f" ({', '.join(day.lessons)})")
    if day.reviews:
        parts.append(t.count("cell.reviews", day.reviews))
    if day.checked_in:
        parts.append(t("cell.checked_in"))
    return f"{_day(day.date)}: {', '.join(parts) if parts else t('cell.nothing')}"


def heat_levels(values: list[int]) -> list[int]:
    """0 for nothing, else 1-4 relative to the learner's busy days (90th percentile of
    active days), so one exceptional day does not wash every other day out."""
    active = sorted(v for v in values if v > 0)
    if not active:
        return [0] * len(values)
    peak = active[int(0.9 * (len(active) - 1))]
    return [0 if v <= 0 else min(LEVELS, max(1, math.ceil(LEVELS * v / peak))) for v in values]


def calendar_chart(doc: ReportDocument, t: Messages) -> Chart:
    days = doc.calendar
    step, top, left = CELL + GAP, 16, 4
    offset = days[0].date.weekday() if days else 0  # rows are Monday .. Sunday
    columns = (offset + len(days) + 6) // 7
    chart = Chart("calendar", t("chart.calendar"), left + columns * step + 4, top + 7 * step + 22)
    levels = heat_levels([d.value for d in days])
    for i, (day, level) in enumerate(zip(days, levels, strict=True)):
        column, row = divmod(offset + i, 7)
        x, y = left + column * step, top + row * step
        chart.rects.append(Rect(x, y, CELL, CELL, f"cell l{level}", _cell_title(day, t)))
        if row == 0 and day.date.day <= 7:  # the column where a month begins
            chart.labels.append(Label(x, top - 5, t(f"month.{day.date.month}")))
    # legend: less .. more
    y = top + 7 * step + 6
    x = chart.width - 4 - (LEVELS + 1) * step - 40
    chart.labels.append(Label(x - 4, y + 9, t("chart.less"), "end"))
    for level in range(LEVELS + 1):
        chart.rects.append(Rect(x + level * step, y, CELL, CELL, f"key l{level}"))
    chart.labels.append(Label(x + (LEVELS + 1) * step + 2, y + 9, t("chart.more")))
    return chart


def _bars(
    chart_id: str,
    title: str,
    values: list[tuple[str, int, str, str]],  # (label, value, class, tooltip)
    empty: str,
) -> Chart:
    top, bottom, left, right = 12, 22, 34, 8
    height = 170
    chart = Chart(chart_id, title, WIDTH, height)
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    peak = max((v for _, v, _, _ in values), default=0)
    scale = plot_h / peak if peak else 0
    slot = plot_w / max(1, len(values))
    for i, (label, value, cls, tooltip) in enumerate(values):
        h = _r(value * scale)
        x = _r(left + i * slot + slot * 0.12)
        chart.rects.append(Rect(x, _r(top + plot_h - h), _r(slot * 0.76), h, cls, tooltip))
        if label and i == len(values) - 1:  # flush right, so the last date is not cut off
            chart.labels.append(Label(_r(left + (i + 1) * slot), height - 6, label, "end"))
        elif label:
            chart.labels.append(Label(_r(left + i * slot + slot / 2), height - 6, label, "middle"))
    base = top + plot_h
    chart.lines.append((left, base, WIDTH - right, base, "baseline"))
    chart.labels.append(Label(left - 6, top + 8, str(peak), "end"))
    chart.labels.append(Label(left - 6, base, "0", "end"))
    if not peak:
        chart.empty = empty
    return chart


def _tick(i: int, n: int, d: date) -> str:
    """Date labels on the first, every seventh and the last bar only."""
    return d.isoformat()[5:] if i in (0, n - 1) or i % 7 == 0 and i < n - 3 else ""


def forecast_chart(doc: ReportDocument, t: Messages) -> Chart | None:
    forecast = doc.reviews.forecast
    if forecast is None:
        return None
    n = len(forecast.days)
    values = [
        (_tick(i, n, d), count, "bar day", t("bar.due", date=_day(d), n=count))
        for i, (d, count) in enumerate(forecast.days)
    ]
    if forecast.backlog:
        label = t("chart.overdue")
        values.insert(0, (label, forecast.backlog, "bar backlog", f"{label}: {forecast.backlog}"))
    return _bars("forecast", t("chart.forecast"), values, t("chart.empty"))


def reviews_chart(doc: ReportDocument, t: Messages) -> Chart:
    days = doc.reviews.reviews_per_day
    values = [
        (_tick(i, len(days), d), n, "bar day", t("bar.reviews", date=_day(d), n=n))
        for i, (d, n) in enumerate(days)
    ]
    return _bars("reviews", t("chart.reviews"), values, t("chart.empty"))


def retention_chart(doc: ReportDocument, t: Messages) -> Chart:
    days = doc.reviews.retention_over_time
    top, bottom, left, right, height = 12, 22, 40, 8, 170
    chart = Chart("retention", t("chart.retention"), WIDTH, height)
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    step = plot_w / max(1, len(days) - 1)

    def y_of(value: float) -> float:
        return _r(top + plot_h * (1 - value))

    for value in (0.0, 0.5, 0.8, 1.0):
        y = y_of(value)
        chart.lines.append((left, y, WIDTH - right, y, "grid"))
        chart.labels.append(Label(left - 6, y + 4, f"{int(value * 100)}%", "end"))
    segment: list[str] = []
    for i, day in enumerate(days):
        x = _r(left + i * step)
        if day.retention is not None:
            title = t(
                "point.retention",
                date=_day(day.date),
                percent=t.percent(day.retention),
                n=day.reviews,
            )
            chart.points.append((x, y_of(day.retention), title))
        if day.average is not None:
            segment.append(f"{'M' if not segment else 'L'}{x},{y_of(day.average)}")
        elif segment:
            chart.paths.append((" ".join(segment), "average"))
            segment = []
        if i % 14 == 0 and i < len(days) - 7:
            chart.labels.append(Label(x, height - 6, day.date.isoformat()[5:], "middle"))
        elif i == len(days) - 1:
            chart.labels.append(Label(x, height - 6, day.date.isoformat()[5:], "end"))
    if segment:
        chart.paths.append((" ".join(segment), "average"))
    if not chart.points:
        chart.empty = t("chart.empty")
        chart.empty_at = (_r(left + plot_w / 2), y_of(0.67))
    return chart


def _summary(doc: ReportDocument, t: Messages) -> list[tuple[str, str]]:
    s = doc.streak
    tiles = [
        (t("journey_started"), doc.journey_started.isoformat() if doc.journey_started else "—"),
        (t("sessions_completed"), str(doc.sessions_completed)),
        (t("streak"), t("streak.value", current=t.days(s.alive), best=t.days(s.best))),
        (
            t("depth_level"),
            t(
                "depth_level.value",
                label=t.level(doc.depth_level.level),
                depth=doc.depth_level.depth,
            ),
        ),
    ]
    if doc.reviews.due_today is not None:
        tiles.append((t("reviews.due_today"), str(doc.reviews.due_today)))
    tiles.append((t("html.retention_30d"), t.percent(doc.reviews.retention["month"].total)))
    return tiles


def html_context(doc: ReportDocument) -> dict[str, Any]:
    """Everything the template places, already worded and measured."""
    t = messages(doc.lang)
    v = doc.velocity
    r = doc.reviews
    f = r.forecast
    return {
        "lang": doc.lang,
        "title": t("report.title", date=doc.date.isoformat()),
        "summary_heading": t("html.summary"),
        "summary": _summary(doc, t),
        "categories_heading": t("categories"),
        "categories": [
            {
                "name": c.name,
                "percent": f"{c.percent}%",
                "completed": t("category.completed", done=len(c.completed), total=c.total),
                "completed_names": ", ".join(s.title for s in c.completed),
                "in_progress": t("category.in_progress", n=len(c.in_progress)),
                "in_progress_names": ", ".join(s.title for s in c.in_progress),
            }
            for c in doc.categories
        ],
        "legend_mastered": t("chart.mastered"),
        "legend_in_progress": t("chart.in_progress"),
        "velocity_heading": t("velocity"),
        "velocity": t(
            "velocity.value", week=v.this_week, month=v.this_month, trend=t.trend(v.trend)
        ),
        "milestones_heading": t("milestones"),
        "achieved_heading": t("milestones.achieved"),
        "achieved": [
            f"{t.milestone(m)} ({m.achieved_on.isoformat()})"
            for m in doc.milestones.achieved
            if m.achieved_on
        ],
        "next_heading": t("milestones.next"),
        "next": [f"{t.milestone(m)}: {t.remaining(m)}" for m in doc.milestones.next],
        "none_yet": t("none_yet"),
        "reviews_heading": t("reviews"),
        "retention_heading": t("retention"),
        "retention_note": t("retention.note"),
        "retention_columns": [
            t("retention.period"),
            t("retention.young"),
            t("retention.mature"),
            t("retention.total"),
            t("retention.reviews"),
        ],
        "retention_rows": [
            [
                t(f"window.{name}"),
                t.percent(r.retention[name].young),
                t.percent(r.retention[name].mature),
                t.percent(r.retention[name].total),
                str(r.retention[name].reviews),
            ]
            for name, _, _ in WINDOWS
        ],
        "forecast_facts": []
        if f is None
        else [
            (t("forecast.backlog"), str(f.backlog)),
            (t("forecast.tomorrow"), str(f.due_tomorrow)),
            (t("forecast.total"), str(f.total)),
            (t("forecast.load"), t("forecast.load.value", n=f"{f.daily_load:.1f}")),
            (t("forecast.new"), str(f.new_cards)),
        ],
        "forecast_past": t("forecast.past") if f is None else "",
        "charts": {
            "categories": category_chart(doc, t),
            "calendar": calendar_chart(doc, t),
            "forecast": forecast_chart(doc, t),
            "reviews": reviews_chart(doc, t),
            "retention": retention_chart(doc, t),
        },
        "generated": f"{t('generated')} · {doc.generated_at.isoformat(timespec='seconds')}",
    }


def render_html(doc: ReportDocument) -> bytes:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    page = environment.get_template("report.html.j2").render(**html_context(doc))
    return page.encode("utf-8")
