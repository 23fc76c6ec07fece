"""Every `tracker report` format and export at five years of history, against `tracker checkin`.

The database holds five years of daily history (``workspace.write_history``):
about 2,000 study sessions, 100,000 review ratings over some 8,000 cards, a
check-in on most days, every lesson passed. Each command is a fresh process
(warm page cache) and all of them alternate with the check-in on the same
database, round by round. Goals (issue 10): the HTML report within 2 s; every
format within 3x of the check-in.

How cost grows: `checkin` and `report` (Markdown) on 1x (18 days), 10x (half a
year) and 100x (five years: the database above) of history, in the same rounds.
"""

from __future__ import annotations

from collections.abc import Iterator

from benchmarks.harness import (
    Context,
    Figure,
    Process,
    compared,
    interleave,
    plain,
    tracker_command,
)
from benchmarks.workspace import init, tracker_env, write_history

NOW = "2025-11-14T20:00"
CONFIG = 'timezone = "Europe/Berlin"\nsessions_per_week = 3\n'
FORMATS = {
    "report (markdown)": ["report"],
    "report --format html": ["report", "--format", "html"],
    "report --format json": ["report", "--format", "json"],
    "report --format csv": ["report", "--format", "csv"],
    "report --format csv --what reviews": ["report", "--format", "csv", "--what", "reviews"],
    "export post": ["export", "post"],
    "export ics": ["export", "ics"],
    "export anki -o -": ["export", "anki", "-o", "-"],
}
HTML_GOAL_S, RATIO_GOAL = 2.0, 3.0


def run(ctx: Context) -> Iterator[Figure]:
    base, scales = (18.25, (1, 10, 100)) if not ctx.quick else (2, (1, 10))
    envs, counts = {}, {}
    for scale in scales:
        env = tracker_env(ctx.tmp, f"x{scale}", config=CONFIG, now=NOW)
        init(env)
        counts[scale] = write_history(env, days=round(base * scale), now=NOW)
        envs[scale] = env
    top = max(scales)
    actions = {"checkin": Process(tracker_command("checkin"), envs[top])}
    actions |= {name: Process(tracker_command(*argv), envs[top]) for name, argv in FORMATS.items()}
    for scale in scales:
        if scale != top:
            actions[f"checkin {scale}"] = Process(tracker_command("checkin"), envs[scale])
            actions[f"report {scale}"] = Process(tracker_command("report"), envs[scale])
    t = interleave(actions, runs=ctx.runs_for(), warmup=ctx.warmups() + (not ctx.quick))
    t[f"checkin {top}"], t[f"report {top}"] = t["checkin"], t["report (markdown)"]
    c = counts[top]
    history = (f"{c['days']} days: {c['sessions']:,} sessions, {c['reviews']:,} reviews, "
               f"{c['cards']:,} cards")  # fmt: skip
    yield plain("checkin (report database)", t["checkin"], note=history)
    for name in FORMATS:
        figure = compared(name, t[name], "checkin", t["checkin"], max_ratio=RATIO_GOAL)
        if name == "report --format html":
            html = figure.value <= HTML_GOAL_S
            figure = Figure(**{**figure.__dict__, "goal": f"{figure.goal}; value <= 2 s",
                               "met": bool(figure.met and html)})  # fmt: skip
        yield figure
    one = scales[0]
    for command in ("checkin", "report"):
        for scale in scales:
            c = counts[scale]
            label = f"{command} at {scale}x ({c['days']} days, {c['reviews']:,} reviews)"
            yield compared(label, t[f"{command} {scale}"], f"{command} at {one}x",
                           t[f"{command} {one}"])  # fmt: skip
