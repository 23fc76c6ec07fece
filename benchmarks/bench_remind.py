"""`tracker remind --once`, as cron or a systemd timer starts it, next to `tracker checkin`.

Two cases alternate with the check-in, each a fresh process: nothing left to
deliver (what a timer every 15 minutes meets nearly every time: one read, no
write) and a day's reminder decided and delivered (a new learner-day each run;
the terminal channel). The database holds a learner with two months of history.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from benchmarks.harness import Context, Figure, Process, compared, interleave, tracker_command
from benchmarks.workspace import init, tracker_env, write_history

NOW = "2026-03-10T09:30:00+00:00"  # after the 09:00 reminder (UTC)


def run(ctx: Context) -> Iterator[Figure]:
    env = tracker_env(ctx.tmp, "remind", config='timezone = "UTC"\nchannels = ["terminal"]\n',
                      now=NOW)  # fmt: skip
    init(env)
    write_history(env, days=ctx.size(60, 7), now=NOW)
    remind = tracker_command("remind", "--once")
    Process(remind, env)()  # today's reminder is sent: the idle case from here on
    days = iter(range(1, 10_000))

    def deliver() -> None:
        day = datetime.fromisoformat(NOW) + timedelta(days=next(days))
        Process(remind, {**env, "TRACKER_NOW": day.isoformat()})()

    t = interleave(
        {
            "checkin": Process(tracker_command("checkin"), env),
            "idle": Process(remind, env),
            "deliver": deliver,
        },
        runs=ctx.runs_for(9),
        warmup=ctx.warmups(),
    )
    yield compared("remind --once (nothing to send)", t["idle"], "checkin", t["checkin"])
    yield compared("remind --once (delivers)", t["deliver"], "checkin", t["checkin"])
