"""What `tracker db check` looks for in the rows, and what `--repair` does about it.

Three kinds of damage a crash, an old bug or a hand edit can leave, each found
by one query and fixed by one function, so a second repair finds nothing
(Anki's check-database tests assert that idempotence):

- **orphan rows** (SQLite; PostgreSQL enforces its foreign keys): a row whose
  reference points at nothing. A nullable reference is cleared, a row that
  cannot stand without its parent is deleted, until none is left (a card
  deleted this way orphans its logs, which go next).
- **cards of retired questions**: a card still scheduled although its lesson
  was retired or its question is gone from the lesson. It is suspended, its
  history kept, as the curriculum sync does (``curriculum.cards``).
- **a cached schedule that disagrees with the review log**: the card's review
  count or last review is not what its log says. The log is the ledger; the
  card is replayed from it (``ledger.replay_card``, fsrs).

Everything runs in the caller's transaction; the caller backs the file up first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.db.models import Lesson, ReviewCard, ReviewLog


@dataclass(frozen=True)
class Findings:
    orphans: int  # rows with a reference to nothing (counted per reference)
    stray_cards: list[int]  # card ids
    stale_schedules: list[int]  # card ids

    @property
    def problems(self) -> list[str]:
        found = []
        if self.orphans:
            found.append(f"{self.orphans} references point at missing rows (foreign keys)")
        if self.stray_cards:
            found.append(
                f"{len(self.stray_cards)} cards of retired lessons or removed questions are "
                f"still scheduled (cards {_ids(self.stray_cards)})"
            )
        if self.stale_schedules:
            found.append(
                f"{len(self.stale_schedules)} cards have a schedule that disagrees with their "
                f"review log (cards {_ids(self.stale_schedules)})"
            )
        return found


def _ids(ids: list[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:10])
    return shown + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")


def find_problems(session: Session) -> Findings:
    connection = session.connection()
    return Findings(
        orphans=len(_orphans(connection)),
        stray_cards=stray_cards(session),
        stale_schedules=stale_schedules(session),
    )


def repair(session: Session, *, settings: Settings) -> list[str]:
    """Fix what ``find_problems`` finds; one line per kind of fix made.

    SQLite: the session's connection must have foreign keys off, so an orphan
    that is itself referenced can be removed before the rows that point at it.
    """
    done = []
    cleared, deleted = remove_orphans(session.connection())
    if cleared:
        done.append(f"cleared {cleared} references to missing rows")
    if deleted:
        done.append(f"deleted {deleted} rows that pointed at missing rows")
    stray = stray_cards(session)
    if stray:
        suspend_stray_cards(session, stray)
        done.append(f"suspended {len(stray)} cards of retired lessons or removed questions")
    stale = stale_schedules(session)
    if stale:
        from tracker.ledger import replay_card

        for card in session.scalars(select(ReviewCard).where(ReviewCard.id.in_(stale))):
            replay_card(session, card, settings=settings)
        session.flush()
        done.append(f"replayed {len(stale)} card schedules from their review logs")
    return done


# --- orphan rows --------------------------------------------------------------------------------


def _orphans(connection: Connection) -> list[tuple]:
    if connection.dialect.name != "sqlite":
        return []
    return [tuple(row) for row in connection.exec_driver_sql("PRAGMA foreign_key_check")]


def remove_orphans(connection: Connection) -> tuple[int, int]:
    """(references cleared, rows deleted) until ``PRAGMA foreign_key_check`` is empty."""
    cleared = deleted = 0
    for _ in range(20):  # each pass removes a level of the tree of references
        broken = _orphans(connection)
        if not broken:
            break
        for table, rowid, _parent, fkid in broken:
            columns = _reference_columns(connection, table, fkid)
            quoted = f'"{table}"'
            if all(nullable for _, nullable in columns):
                sets = ", ".join(f'"{name}" = NULL' for name, _ in columns)
                result = connection.exec_driver_sql(
                    f"UPDATE {quoted} SET {sets} WHERE rowid = ?", (rowid,)
                )
                cleared += result.rowcount
            else:
                result = connection.exec_driver_sql(
                    f"DELETE FROM {quoted} WHERE rowid = ?", (rowid,)
                )
                deleted += result.rowcount
    return cleared, deleted


def _reference_columns(connection: Connection, table: str, fkid: int) -> list[tuple[str, bool]]:
    """The columns of foreign key ``fkid`` of ``table``, each with whether it may be NULL."""
    not_null = {
        row[1]: bool(row[3]) for row in connection.exec_driver_sql(f'PRAGMA table_info("{table}")')
    }
    return [
        (row[3], not not_null.get(row[3], True))
        for row in connection.exec_driver_sql(f'PRAGMA foreign_key_list("{table}")')
        if row[0] == fkid
    ]


# --- cards of retired questions -----------------------------------------------------------------


def stray_cards(session: Session) -> list[int]:
    """Cards still scheduled for a retired lesson, and question cards whose question is gone."""
    lessons = {
        lesson_id: (retired, len(json.loads(questions or "[]")))
        for lesson_id, retired, questions in session.execute(
            select(Lesson.id, Lesson.retired, Lesson.questions_json)
        )
    }
    card = ReviewCard.__table__.c
    stray = []
    for card_id, lesson_id, kind, index, suspended in session.execute(
        select(card.id, card.lesson_id, card.kind, card.question_index, card.suspended).order_by(
            card.id
        )
    ):
        retired, questions = lessons.get(lesson_id, (True, 0))
        out_of_range = kind == "question" and index >= questions
        if out_of_range or (not suspended and (retired or (kind == "question" and index < 0))):
            stray.append(card_id)
    return stray


def suspend_stray_cards(session: Session, card_ids: list[int]) -> None:
    for card in session.scalars(select(ReviewCard).where(ReviewCard.id.in_(card_ids))):
        card.suspended = True
        if card.kind == "question" and card.question_index >= 0:
            card.question_index = -card.id  # its question is gone: free the position
    session.flush()


# --- schedules against the ledger ---------------------------------------------------------------


def stale_schedules(session: Session) -> list[int]:
    """Cards whose review count or last review differs from what their log says.

    These two do not depend on the FSRS parameters (``optimize`` changes them
    without rescheduling), so a card is only flagged when the cache missed or
    invented a rating.
    """
    card, log = ReviewCard.__table__.c, ReviewLog.__table__.c
    rows = session.execute(
        select(card.id, card.reps, card.last_review, func.count(log.id), func.max(log.reviewed_at))
        .select_from(ReviewCard.__table__.outerjoin(ReviewLog.__table__, log.card_id == card.id))
        .group_by(card.id, card.reps, card.last_review)
        .order_by(card.id)
    )
    return [
        card_id
        for card_id, reps, last_review, count, latest in rows
        if reps != count or last_review != latest
    ]
