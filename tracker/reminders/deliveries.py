"""The deliveries ledger: each reminder claimed once per learner, kind, learner-day, channel.

A delivery is claimed before anything is sent, by inserting its row with
``ON CONFLICT DO NOTHING`` inside the caller's write transaction (SQLite:
``BEGIN IMMEDIATE``; PostgreSQL: the writers' advisory lock), so of two
daemons, a daemon and a cron job, or a daemon and itself after a restart,
exactly one insert goes in and only that process sends. The others see the
row and leave it alone.

A try holds a lease (``lease_until``). A failed try is retried with backoff
(``next_try_at``), a few times and only within the learner-day, by whichever
process takes the retry first (a compare-and-set on ``attempts``); after the
last try the row is ``failed`` with the last error. A lease that runs out
means the sending process died mid-try: the outcome is unknown, so the row is
closed as failed rather than sent again (it could arrive twice). Every
function here takes the session of a transaction the caller owns.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Row, and_, func, or_, select, update
from sqlalchemy.orm import Session

from tracker.db.models import Delivery

MAX_ATTEMPTS = 4
# Waits after the 1st, 2nd and 3rd failed try: a few tries, well inside one day.
BACKOFF = (timedelta(minutes=2), timedelta(minutes=10), timedelta(minutes=30))
LEASE = timedelta(minutes=10)  # longer than any channel's timeout
MAX_CATCHUP_DAYS = 7  # missed days recorded as skipped, at most this far back
KEY_COLUMNS = ("learner_id", "kind", "local_date", "channel")
INTERRUPTED = "interrupted: the process sending it stopped mid-try; not sent again (no duplicates)"


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    kind: str
    day: date
    channel: str
    status: str
    attempts: int
    last_error: str | None
    note: str | None
    claimed_by: str | None
    claimed_at: datetime
    lease_until: datetime | None
    next_try_at: datetime | None
    finished_at: datetime | None
    payload: str | None

    @property
    def waiting_for_retry(self) -> bool:
        return self.status == "claimed" and self.lease_until is None

    def as_dict(self) -> dict[str, object]:
        return {
            "date": self.day.isoformat(),
            "kind": self.kind,
            "channel": self.channel,
            "status": self.status,
            "attempts": self.attempts,
            "error": self.last_error,
            "note": self.note,
            "next_try_at": self.next_try_at.isoformat() if self.next_try_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


def message_id(*, learner: str, kind: str, day: date, channel: str) -> str:
    """A stable id for one delivery: every retry of it carries the same one."""
    key = f"{learner}\x1f{kind}\x1f{day.isoformat()}\x1f{channel}"
    return hashlib.sha256(key.encode()).hexdigest()[:24]


_c = Delivery.__table__.c
_COLUMNS = (
    _c.id,
    _c.kind,
    _c.local_date,
    _c.channel,
    _c.status,
    _c.attempts,
    _c.last_error,
    _c.note,
    _c.claimed_by,
    _c.claimed_at,
    _c.lease_until,
    _c.next_try_at,
    _c.finished_at,
    _c.payload,
)


def _row(row: Row) -> DeliveryRow:
    return DeliveryRow(*row)


def _insert_once(session: Session, values: dict[str, object]) -> int | None:
    """INSERT ... ON CONFLICT (key) DO NOTHING; the new row's id, None when it lost."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        returning = (
            pg_insert(Delivery.__table__)
            .values(**values)
            .on_conflict_do_nothing(index_elements=KEY_COLUMNS)
            .returning(_c.id)  # psycopg reports no rowcount for an insert that returns
        )
        return session.scalar(returning)
    from sqlalchemy.dialects.sqlite import insert

    # rowcount, not RETURNING: RETURNING needs SQLite 3.35, newer than some distributions ship.
    statement = (
        insert(Delivery.__table__)
        .values(**values)
        .on_conflict_do_nothing(index_elements=KEY_COLUMNS)
    )
    result = session.execute(statement)
    return result.inserted_primary_key[0] if result.rowcount == 1 else None


def claim(
    session: Session,
    *,
    learner_id: int,
    kind: str,
    day: date,
    channel: str,
    now: datetime,
    claimed_by: str,
    payload: str,
) -> int | None:
    """Claim the first try of a delivery: its id, or None when another process has it."""
    return _insert_once(
        session,
        {
            "learner_id": learner_id,
            "kind": kind,
            "local_date": day,
            "channel": channel,
            "status": "claimed",
            "attempts": 1,
            "claimed_by": claimed_by,
            "claimed_at": now,
            "lease_until": now + LEASE,
            "payload": payload,
        },
    )


def record_skip(
    session: Session,
    *,
    learner_id: int,
    kind: str,
    day: date,
    channel: str,
    now: datetime,
    note: str,
) -> int | None:
    """Record that this delivery will not be sent (and why), unless it is decided already."""
    return _insert_once(
        session,
        {
            "learner_id": learner_id,
            "kind": kind,
            "local_date": day,
            "channel": channel,
            "status": "skipped",
            "attempts": 0,
            "note": note,
            "claimed_at": now,
            "finished_at": now,
        },
    )


def rows_for_day(session: Session, *, learner_id: int, day: date) -> list[DeliveryRow]:
    query = select(*_COLUMNS).where(_c.learner_id == learner_id, _c.local_date == day)
    return [_row(r) for r in session.execute(query.order_by(_c.kind, _c.channel))]


def recent(session: Session, *, learner_id: int, since: date) -> list[DeliveryRow]:
    """Deliveries from ``since`` on, newest day first."""
    query = select(*_COLUMNS).where(_c.learner_id == learner_id, _c.local_date >= since)
    order = (_c.local_date.desc(), _c.kind, _c.channel)
    return [_row(r) for r in session.execute(query.order_by(*order))]


def last_decided_day(session: Session, *, learner_id: int, kind: str) -> date | None:
    query = select(func.max(_c.local_date)).where(_c.learner_id == learner_id, _c.kind == kind)
    return session.scalar(query)


def take_retry(session: Session, row: DeliveryRow, *, now: datetime, claimed_by: str) -> bool:
    """Claim the next try of a failed delivery; False when another process took it first."""
    taken = session.execute(
        update(Delivery.__table__)
        .where(
            _c.id == row.id,
            _c.status == "claimed",
            _c.attempts == row.attempts,
            _c.lease_until.is_(None),
        )
        .values(
            attempts=row.attempts + 1,
            claimed_by=claimed_by,
            lease_until=now + LEASE,
            next_try_at=None,
        )
    )
    return taken.rowcount == 1


def finish_try(
    session: Session,
    *,
    delivery_id: int,
    attempt: int,
    claimed_by: str,
    now: datetime,
    error: str | None,
    day_ends: datetime,
    retry: bool = True,
) -> tuple[str, datetime | None] | None:
    """Record one try's outcome: the row's status and retry time (None: no longer our try).

    A failure is retried after ``BACKOFF[attempt - 1]`` while tries remain and the
    retry falls inside the learner-day; otherwise (or with ``retry`` False: a
    channel that cannot work here) it is final.
    """
    values: dict[str, object] = {"lease_until": None}
    if error is None:
        values.update(status="sent", finished_at=now, next_try_at=None)
    else:
        retry_at = now + BACKOFF[attempt - 1] if retry and attempt < MAX_ATTEMPTS else None
        if retry_at is not None and retry_at < day_ends:
            values.update(status="claimed", last_error=error, next_try_at=retry_at)
        else:
            values.update(status="failed", last_error=error, finished_at=now, next_try_at=None)
    done = session.execute(
        update(Delivery.__table__)
        .where(
            _c.id == delivery_id,
            _c.status == "claimed",
            _c.attempts == attempt,
            _c.claimed_by == claimed_by,
        )
        .values(**values)
    )
    if done.rowcount != 1:
        return None
    return str(values["status"]), values.get("next_try_at")  # type: ignore[return-value]


def _abandoned(learner_id: int, now: datetime, today: date) -> tuple[object, object]:
    mine = (_c.learner_id == learner_id, _c.status == "claimed")
    died = and_(*mine, _c.lease_until.is_not(None), _c.lease_until < now)
    expired = and_(*mine, _c.lease_until.is_(None), _c.local_date < today)
    return died, expired


def has_abandoned(session: Session, *, learner_id: int, now: datetime, today: date) -> bool:
    """Whether ``close_abandoned`` would change anything (a cheap read first)."""
    died, expired = _abandoned(learner_id, now, today)
    query = select(_c.id).where(or_(died, expired)).limit(1)
    return session.scalar(query) is not None


def close_abandoned(session: Session, *, learner_id: int, now: datetime, today: date) -> int:
    """Close tries whose process died (lease ran out) and retries the day ran out on."""
    died_now, expired_now = _abandoned(learner_id, now, today)
    died = session.execute(
        update(Delivery.__table__)
        .where(died_now)
        .values(status="failed", last_error=INTERRUPTED, lease_until=None, finished_at=now)
    ).rowcount
    expired = session.execute(
        update(Delivery.__table__)
        .where(expired_now)
        .values(
            status="failed",
            note="no tries left: the learner-day ended",
            next_try_at=None,
            finished_at=now,
        )
    ).rowcount
    return died + expired
