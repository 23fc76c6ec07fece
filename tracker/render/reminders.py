"""Reminders as text: what `remind` did or would do, and the `reminders` log.

Times are shown in the learner's zone (its name comes with the result). A
`remind --once` that did nothing says so in one line; what it delivered is one
line per delivery, the same lines `tracker serve` logs.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from tracker import hints

if TYPE_CHECKING:
    from tracker.reminders.schedule import Slot
    from tracker.usecases.reminders import DeliveryOutcome, ReminderLog, RemindResult


def _local(instant: datetime, zone: str) -> str:
    return instant.astimezone(ZoneInfo(zone)).strftime("%a %Y-%m-%d %H:%M")


def _next(slot: Slot | None, zone: str) -> str:
    if slot is None:
        return "no reminder is scheduled (reminder_time and streak_reminder_time are off)"
    return f"{slot.kind} at {_local(slot.at, zone)} ({zone})"


def render_remind(result: RemindResult, zone: str) -> tuple[list[str], list[str]]:
    """(stdout lines, stderr lines) of `remind --once`: failures go to stderr."""
    out: list[str] = []
    err: list[str] = []
    for outcome in result.acted:
        (err if outcome.status == "failed" else out).append(outcome.describe())
    if not result.acted:
        out.append(f"nothing to deliver now; next: {_next(result.next, zone)}")
    return out, err


def _dry_line(outcome: DeliveryOutcome) -> str:
    line = f"{outcome.kind} via {outcome.channel}: {outcome.status}"
    if outcome.error:
        line += f": {outcome.error}"
    elif outcome.note:
        line += f" ({outcome.note})"
    return line


def render_dry_run(result: RemindResult, zone: str) -> str:
    lines = []
    for reminder in result.reminders:
        lines += [f"--- {reminder.kind}: {reminder.subject}", reminder.text]
    if not result.reminders:
        lines.append("Nothing to remind you of now.")
    lines.append("--- what `tracker remind --once` would do now (dry run: nothing sent)")
    lines += [_dry_line(o) for o in result.deliveries] or ["no channels configured"]
    lines.append(f"next: {_next(result.next, zone)}")
    return "\n".join(lines)


def render_log(log: ReminderLog) -> str:
    zone = log.timezone
    lines = [f"next reminder: {_next(log.next, zone)}"]
    if not log.channels:
        lines.append("no reminder channels: tracker config set channels terminal,email")
    for slot in log.overdue:
        lines.append(
            f"overdue: {slot.kind} of {slot.day.isoformat()} (due {_local(slot.at, zone)}) "
            f"was not delivered: nothing is running; `{hints.remind_once()}` delivers it now"
        )
    if not log.recent:
        lines.append("no reminders recorded yet")
        return "\n".join(lines)
    lines.append("recent:")
    for row in log.recent:
        tries = f"{row.attempts} {'try' if row.attempts == 1 else 'tries'}" if row.attempts else ""
        detail = row.last_error or row.note or ""
        if row.status == "claimed" and row.next_try_at is not None:
            detail = f"retry at {_local(row.next_try_at, zone)}: {detail}"
        line = f"  {row.day.isoformat()}  {row.kind:<7} {row.channel:<9} {row.status:<8} {tries:<8}"
        lines.append(f"{line} {detail}".rstrip())
    return "\n".join(lines)
