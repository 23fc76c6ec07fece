"""Reminders: decide what is due now, claim it once, send it, record what happened.

``remind`` is the one delivery path: ``tracker remind --once`` (cron, systemd
timers) and the scheduler service of ``tracker serve`` both call it with
``now``. The ledger (``tracker.reminders.deliveries``) is the source of truth,
not the scheduler: whatever fired, a run looks at the learner-day's rows and
does what is missing. A reminder due today and not yet decided is decided now
(sent, or skipped when there is nothing to do); a learner-day that passed with
nothing decided was missed (nothing was running) and is recorded as skipped;
a failed try whose retry time has come is tried again.

The facts a reminder states are read through the same queries as the
check-in (``read_standing``, ``tracker.due``, ``list_due``), in the write
transaction that claims, so what is said and what is claimed agree. Sending
happens outside any transaction, channels side by side; each outcome is its
own short write.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tracker import hints
from tracker.clock import Clock
from tracker.course import load_active_days
from tracker.due import due_until
from tracker.reminders import deliveries
from tracker.reminders.channels import Channel, Outgoing, SendFailed
from tracker.reminders.content import (
    CodeCard,
    FocusFacts,
    Reminder,
    ReminderFacts,
    build_reminder,
    why_nothing,
)
from tracker.reminders.deliveries import DeliveryRow
from tracker.reminders.schedule import Slot, kind_times, next_slot, slots_due
from tracker.reviews import list_due
from tracker.standing import checkin_days, streak_days
from tracker.store import Store
from tracker.usecases.checkin import focus_of, read_standing

RECENT_DAYS = 14


def read_facts(
    session: Session, *, learner_id: int, clock: Clock, now: datetime, sessions_per_week: int
) -> ReminderFacts:
    """Where the learner stands today, through the check-in's own queries."""
    today = clock.local_day(now)
    standing = read_standing(
        session,
        learner_id=learner_id,
        clock=clock,
        today=today,
        sessions_per_week=sessions_per_week,
    )
    cards = list_due(session, learner_id=learner_id, until=due_until(clock, now))
    questions = [card for card in cards if card.kind != "code"]
    titles = {lesson.id: lesson.title for lesson in standing.graph.lessons}
    code = tuple(
        CodeCard(card=c.card, lesson=c.lesson, title=titles.get(c.lesson, c.lesson))
        for c in cards
        if c.kind == "code"
    )
    checkins = checkin_days(session, learner_id=learner_id, until=today)
    active = load_active_days(session, learner_id=learner_id, until=today)
    focus = focus_of(standing.plan.focus, len(questions))
    return ReminderFacts(
        date=today,
        due_reviews=len(questions),
        code_cards=code,
        focus=FocusFacts(
            lesson=focus.lesson,
            concept=focus.concept,
            depth=focus.depth,
            title=focus.title,
            reason=focus.reason,
            next_step=focus.next_step,
        )
        if focus
        else None,
        streak_days=streak_days(active, today),
        streak_before_today=streak_days(active, today - timedelta(days=1)),
        checked_in_today=today in checkins,
    )


def preview(store: Store, *, learner_id: int, now: datetime) -> tuple[Reminder | None, ...]:
    """Each enabled kind's reminder as it would read now (None: nothing to say)."""
    with store.read() as session:
        facts = _facts(store, session, learner_id, now)
    return tuple(build_reminder(kind, facts) for kind in kind_times(store.settings))


def _facts(store: Store, session: Session, learner_id: int, now: datetime) -> ReminderFacts:
    return read_facts(
        session,
        learner_id=learner_id,
        clock=store.clock,
        now=now,
        sessions_per_week=store.settings.sessions_per_week,
    )


# --- results -----------------------------------------------------------------

ACTED = ("sent", "failed", "skipped")  # what this run did; otherwise already-sent etc.


@dataclass(frozen=True)
class DeliveryOutcome:
    """One (kind, learner-day, channel) as this run leaves it."""

    kind: str
    day: date
    channel: str
    status: str  # sent | failed | skipped | already-sent; dry run: would-send | not-due
    error: str | None = None
    note: str | None = None
    attempts: int = 0
    retry_at: datetime | None = None
    now: bool = False  # decided or tried by this run

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "channel": self.channel,
            "status": self.status,
            "error": self.error,
            "date": self.day.isoformat(),
            "reason": self.note,
            "attempts": self.attempts,
            "retry_at": self.retry_at.isoformat() if self.retry_at else None,
            "this_run": self.now,
        }

    def describe(self) -> str:
        """One line, for the log and the terminal."""
        line = f"reminder {self.kind} {self.day.isoformat()} via {self.channel}: {self.status}"
        if self.attempts > 1:
            line += f" (try {self.attempts})"
        if self.error:
            line += f": {self.error}"
        elif self.note:
            line += f" ({self.note})"
        if self.retry_at is not None:
            line += f"; next try at {self.retry_at.isoformat(timespec='seconds')}"
        return line


@dataclass(frozen=True)
class RemindResult:
    """``remind --once --json``: what each due delivery became."""

    date: date
    dry_run: bool
    deliveries: tuple[DeliveryOutcome, ...]
    reminders: tuple[Reminder, ...] = ()
    next: Slot | None = None

    @property
    def acted(self) -> tuple[DeliveryOutcome, ...]:
        return tuple(d for d in self.deliveries if d.now)

    @property
    def exit_code(self) -> int:
        """1 when a try of this run failed: the command ran, not everything went out."""
        return 1 if any(d.now and d.status == "failed" for d in self.deliveries) else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "dry_run": self.dry_run,
            "deliveries": [d.as_dict() for d in self.deliveries],
            "reminders": [r.as_dict() for r in self.reminders],
            "next": _next_dict(self.next),
        }


def _next_dict(slot: Slot | None) -> dict[str, str] | None:
    return {"kind": slot.kind, "at": slot.at.isoformat()} if slot else None


def _from_row(row: DeliveryRow) -> DeliveryOutcome:
    """A delivery this run found decided (or under way) by an earlier run."""
    status = {"sent": "already-sent", "skipped": "skipped", "failed": "failed"}.get(row.status)
    if status is None:  # claimed: a try under way elsewhere, or a retry waiting
        status = "failed" if row.waiting_for_retry else "already-sent"
    return DeliveryOutcome(
        kind=row.kind,
        day=row.day,
        channel=row.channel,
        status=status,
        error=row.last_error,
        note=row.note,
        attempts=row.attempts,
        retry_at=row.next_try_at,
    )


# --- the delivery run --------------------------------------------------------


@dataclass
class _Work:
    delivery_id: int
    kind: str
    day: date
    channel: str
    attempt: int
    outgoing: Outgoing


@dataclass
class _Plan:
    work: list[_Work] = field(default_factory=list)
    decided: list[DeliveryOutcome] = field(default_factory=list)  # skips recorded by this run
    reminders: list[Reminder] = field(default_factory=list)


def default_claimant(face: str) -> str:
    """Who holds a claim: the face, host and process (for `tracker reminders` and debugging)."""
    return f"{face}@{socket.gethostname()}:{os.getpid()}"


def remind(
    store: Store,
    *,
    learner_id: int,
    now: datetime,
    channels: Mapping[str, Channel],
    dry_run: bool = False,
    claimed_by: str | None = None,
) -> RemindResult:
    """Deliver what is due at ``now`` through ``channels``, each delivery at most once.

    ``dry_run`` decides the same way but records nothing and sends nothing.
    """
    if dry_run:
        return _dry_run(store, learner_id=learner_id, now=now, channels=channels)
    clock, settings = store.clock, store.settings
    today = clock.local_day(now)
    slots = slots_due(settings, clock, now)
    claimant = claimed_by or default_claimant("remind")
    with store.read() as session:
        rows = deliveries.rows_for_day(session, learner_id=learner_id, day=today)
        needed = _needs_write(session, store, learner_id, now, slots, rows, channels)
    plan = _Plan()
    if needed:
        with store.write() as session:
            plan = _decide(session, store, learner_id, now, slots, channels, claimant)
            rows = deliveries.rows_for_day(session, learner_id=learner_id, day=today)
    tried = _send_all(store, plan.work, channels, claimant, now)
    return RemindResult(
        date=today,
        dry_run=False,
        deliveries=_outcomes(slots, channels, rows, plan.decided, tried),
        reminders=tuple(plan.reminders),
        next=next_slot(settings, clock, now),
    )


def _gap_days(session: Session, learner_id: int, kind: str, today: date) -> list[date]:
    """Learner-days before today that passed with this kind undecided (nothing ran)."""
    last = deliveries.last_decided_day(session, learner_id=learner_id, kind=kind)
    if last is None:  # never decided: nothing can have been missed yet
        return []
    first = max(last + timedelta(days=1), today - timedelta(days=deliveries.MAX_CATCHUP_DAYS))
    return [first + timedelta(days=n) for n in range((today - first).days)]


def _needs_write(
    session: Session,
    store: Store,
    learner_id: int,
    now: datetime,
    slots: list[Slot],
    rows: list[DeliveryRow],
    channels: Mapping[str, Channel],
) -> bool:
    """Whether a run has anything to decide; most scheduler ticks have not (no write then)."""
    today = store.clock.local_day(now)
    have = {(row.kind, row.channel) for row in rows}
    if any((slot.kind, name) not in have for slot in slots for name in channels):
        return True
    if any(r.waiting_for_retry and r.next_try_at and r.next_try_at <= now for r in rows):
        return True
    if any(r.status == "claimed" and r.lease_until and r.lease_until < now for r in rows):
        return True
    if deliveries.has_abandoned(session, learner_id=learner_id, now=now, today=today):
        return True
    return any(_gap_days(session, learner_id, kind, today) for kind in kind_times(store.settings))


def _decide(
    session: Session,
    store: Store,
    learner_id: int,
    now: datetime,
    slots: list[Slot],
    channels: Mapping[str, Channel],
    claimant: str,
) -> _Plan:
    """In one write: close abandoned tries, record missed days, claim today's, take retries."""
    today = store.clock.local_day(now)
    plan = _Plan()
    deliveries.close_abandoned(session, learner_id=learner_id, now=now, today=today)
    for kind, at in kind_times(store.settings).items():
        for day in _gap_days(session, learner_id, kind, today):
            note = f"missed: nothing was running at {at:%H:%M} on {day.isoformat()}"
            _skip(plan, session, learner_id, kind, day, list(channels), now, note)
    rows = {
        (r.kind, r.channel): r
        for r in deliveries.rows_for_day(session, learner_id=learner_id, day=today)
    }
    missing = {s.kind: [n for n in channels if (s.kind, n) not in rows] for s in slots}
    facts = _facts(store, session, learner_id, now) if any(missing.values()) else None
    for kind, names in missing.items():
        if not names or facts is None:
            continue
        reminder = build_reminder(kind, facts)
        if reminder is None:
            _skip(plan, session, learner_id, kind, today, names, now, why_nothing(kind, facts))
            continue
        plan.reminders.append(reminder)
        payload = _payload(reminder)
        for name in names:
            claimed = deliveries.claim(
                session,
                learner_id=learner_id,
                kind=kind,
                day=today,
                channel=name,
                now=now,
                claimed_by=claimant,
                payload=payload,
            )
            if claimed is not None:
                plan.work.append(_work_for(store, kind, today, name, 1, payload, now, claimed))
    for row in rows.values():
        due = row.waiting_for_retry and row.next_try_at is not None and row.next_try_at <= now
        if (
            due
            and row.channel in channels
            and deliveries.take_retry(session, row, now=now, claimed_by=claimant)
        ):
            attempt, payload = row.attempts + 1, row.payload or "{}"
            plan.work.append(
                _work_for(
                    store, row.kind, today, row.channel, attempt, payload, row.claimed_at, row.id
                )
            )
    return plan


def _skip(
    plan: _Plan,
    session: Session,
    learner_id: int,
    kind: str,
    day: date,
    names: list[str],
    now: datetime,
    note: str,
) -> None:
    for name in names:
        recorded = deliveries.record_skip(
            session, learner_id=learner_id, kind=kind, day=day, channel=name, now=now, note=note
        )
        if recorded is not None:
            plan.decided.append(DeliveryOutcome(kind, day, name, "skipped", note=note, now=True))


def _payload(reminder: Reminder) -> str:
    return json.dumps(
        {"subject": reminder.subject, "text": reminder.text, "document": reminder.as_dict()},
        sort_keys=True,
        ensure_ascii=False,
    )


def _work_for(
    store: Store,
    kind: str,
    day: date,
    channel: str,
    attempt: int,
    payload: str,
    created_at: datetime,
    delivery_id: int,
) -> _Work:
    from tracker.reminders.deliveries import message_id

    data = json.loads(payload)
    outgoing = Outgoing(
        kind=kind,
        subject=data.get("subject", f"tracker: {kind} reminder"),
        text=data.get("text", ""),
        document=data.get("document", {}),
        message_id=message_id(learner=store.settings.learner, kind=kind, day=day, channel=channel),
        created_at=created_at,
        attempt=attempt,
    )
    return _Work(delivery_id, kind, day, channel, attempt, outgoing)


def _send_all(
    store: Store,
    work: list[_Work],
    channels: Mapping[str, Channel],
    claimant: str,
    now: datetime,
) -> list[DeliveryOutcome]:
    """Send every claimed try side by side; record each outcome in its own write."""
    if not work:
        return []
    from concurrent.futures import ThreadPoolExecutor, as_completed

    def attempt(item: _Work) -> tuple[str | None, bool]:
        try:
            channels[item.channel].send(item.outgoing)
        except SendFailed as exc:
            return str(exc), exc.retry
        except Exception as exc:  # noqa: BLE001 - one channel's bug must not stop the others
            return f"{item.channel}: {type(exc).__name__}: {exc}", True
        return None, True

    day_ends = store.clock.day_end(store.clock.local_day(now))
    by_order: dict[int, DeliveryOutcome] = {}
    with ThreadPoolExecutor(max_workers=len(work), thread_name_prefix="reminder") as pool:
        futures = {pool.submit(attempt, item): n for n, item in enumerate(work)}
        for future in as_completed(futures):  # each recorded as soon as it is known
            n = futures[future]
            by_order[n] = _record(store, work[n], *future.result(), claimant, now, day_ends)
    return [by_order[n] for n in range(len(work))]


def _record(
    store: Store,
    item: _Work,
    error: str | None,
    retry: bool,
    claimant: str,
    now: datetime,
    day_ends: datetime,
) -> DeliveryOutcome:
    """One try's outcome, in its own write."""
    with store.write() as session:
        finished = deliveries.finish_try(
            session,
            delivery_id=item.delivery_id,
            attempt=item.attempt,
            claimed_by=claimant,
            now=now,
            error=error,
            day_ends=day_ends,
            retry=retry,
        )
    status, retry_at = finished or ("failed", None)
    if finished is None:  # the lease ran out and another run closed the row meanwhile
        error = error or "the try outlived its lease; recorded as interrupted"
    return DeliveryOutcome(
        kind=item.kind,
        day=item.day,
        channel=item.channel,
        status="sent" if status == "sent" else "failed",
        error=error,
        attempts=item.attempt,
        retry_at=retry_at,
        now=True,
    )


def _outcomes(
    slots: list[Slot],
    channels: Mapping[str, Channel],
    rows: list[DeliveryRow],
    decided: list[DeliveryOutcome],
    tried: list[DeliveryOutcome],
) -> tuple[DeliveryOutcome, ...]:
    mine = {(o.kind, o.day, o.channel): o for o in [*decided, *tried]}
    by_key = {(r.kind, r.day, r.channel): r for r in rows}
    found = [o for o in decided if not any(o.day == s.day and o.kind == s.kind for s in slots)]
    for slot in slots:
        for name in channels:
            key = (slot.kind, slot.day, name)
            if key in mine:
                found.append(mine[key])
            elif key in by_key:
                found.append(_from_row(by_key[key]))
    listed = {(o.kind, o.day, o.channel) for o in found}
    found += [o for o in tried if (o.kind, o.day, o.channel) not in listed]
    return tuple(found)


def _dry_run(
    store: Store, *, learner_id: int, now: datetime, channels: Mapping[str, Channel]
) -> RemindResult:
    clock, settings = store.clock, store.settings
    today = clock.local_day(now)
    due = {slot.kind: slot for slot in slots_due(settings, clock, now)}
    with store.read() as session:
        facts = _facts(store, session, learner_id, now)
        rows = {
            (r.kind, r.channel): r
            for r in deliveries.rows_for_day(session, learner_id=learner_id, day=today)
        }
    outcomes, reminders = [], []
    for kind in kind_times(settings):
        reminder = build_reminder(kind, facts)
        if reminder is not None:
            reminders.append(reminder)
        for name in channels:
            if (kind, name) in rows:
                outcomes.append(_from_row(rows[(kind, name)]))
            elif kind not in due:
                outcomes.append(DeliveryOutcome(kind, today, name, "not-due"))
            elif reminder is None:
                outcomes.append(
                    DeliveryOutcome(kind, today, name, "skipped", note=why_nothing(kind, facts))
                )
            else:
                outcomes.append(DeliveryOutcome(kind, today, name, "would-send"))
    return RemindResult(
        date=today,
        dry_run=True,
        deliveries=tuple(outcomes),
        reminders=tuple(reminders),
        next=next_slot(settings, clock, now),
    )


# --- the log -----------------------------------------------------------------


@dataclass(frozen=True)
class ReminderLog:
    """``reminders --json``: when the next reminder fires, and what recent ones became."""

    next: Slot | None
    recent: tuple[DeliveryRow, ...]
    overdue: tuple[Slot, ...]  # due today, not decided: nothing is running to send it
    channels: tuple[str, ...]
    timezone: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "next": _next_dict(self.next),
            "recent": [row.as_dict() for row in self.recent],
            "overdue": [slot.as_dict() for slot in self.overdue],
            "channels": list(self.channels),
            "timezone": self.timezone,
            "hint": None if not self.overdue else f"{hints.remind_once()} delivers it now",
        }


def reminder_log(
    store: Store, *, learner_id: int, now: datetime, days: int = RECENT_DAYS
) -> ReminderLog:
    clock, settings = store.clock, store.settings
    today = clock.local_day(now)
    with store.read() as session:
        recent = deliveries.recent(
            session, learner_id=learner_id, since=today - timedelta(days=days - 1)
        )
    decided = {(r.kind, r.day) for r in recent}
    overdue = tuple(s for s in slots_due(settings, clock, now) if (s.kind, s.day) not in decided)
    return ReminderLog(
        next=next_slot(settings, clock, now),
        recent=tuple(recent),
        overdue=overdue if settings.channels else (),
        channels=tuple(settings.channels),
        timezone=settings.timezone,
    )
