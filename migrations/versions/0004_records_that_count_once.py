"""records that count once: practice attempts, retracted reviews, card snapshots

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

A study session is a lesson's first pass; passing or studying a lesson that is
already passed is practice (``practice_attempts``), never a session, a
connection or new cards. One review of a card per learner-day counts: a later
rating that day replaces the day's entry through one audited path, which keeps
what it took out in ``retracted_reviews``; ``review_logs.card_before`` holds the
card's scheduling columns before each rating so that path restores them.

Data steps, for databases written by earlier revisions:
- every study session of a lesson after its first (re-submits, re-reads) becomes
  a practice attempt; the first stays the session (progress points at it);
- a code card rated more than once on one learner-day (a failed and then a passed
  ``submit --review``) keeps one entry: the day's first rating, upgraded from
  Again to Hard when a later try that day passed (what README promised); the
  others move to ``retracted_reviews`` (reason ``merged``), and the card's
  schedule is replayed from what is left with the stored FSRS parameters and
  the default settings (the database does not know the learner's config file).
"""

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

import tracker.db.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AGAIN, HARD = 1, 2


def upgrade() -> None:
    op.create_table(
        "practice_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.String(length=80), nullable=False),
        sa.Column("concept_id", sa.String(length=80), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("practiced_at", tracker.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["concept_id"], ["concepts.id"], name=op.f("fk_practice_attempts_concept_id_concepts")
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learners.id"], name=op.f("fk_practice_attempts_learner_id_learners")
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"], ["lessons.id"], name=op.f("fk_practice_attempts_lesson_id_lessons")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_practice_attempts_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practice_attempts")),
    )
    with op.batch_alter_table("practice_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_practice_attempts_learner_day", ["learner_id", "local_date"], unique=False
        )
    op.create_table(
        "retracted_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("log_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("reviewed_at", tracker.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("retracted_at", tracker.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("replaced_by", sa.Integer(), nullable=True),
        sa.Column("row_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"], ["review_cards.id"], name=op.f("fk_retracted_reviews_card_id_review_cards")
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learners.id"], name=op.f("fk_retracted_reviews_learner_id_learners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retracted_reviews")),
    )
    with op.batch_alter_table("review_logs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("card_before", sa.Text(), nullable=True))

    connection = op.get_bind()
    _sessions_after_the_first_become_practice(connection)
    _merge_same_day_code_ratings(connection)


def _sessions_after_the_first_become_practice(connection: sa.Connection) -> None:
    sessions = sa.table(
        "study_sessions",
        sa.column("id"),
        sa.column("learner_id"),
        sa.column("lesson_id"),
        sa.column("concept_id"),
        sa.column("depth"),
        sa.column("kind"),
        sa.column("completed_at", tracker.db.types.UTCDateTime()),
        sa.column("local_date", sa.Date()),
        sa.column("submission_id"),
    )
    progress = sa.table("progress", sa.column("session_id"))
    practice = sa.table(
        "practice_attempts",
        sa.column("learner_id"),
        sa.column("lesson_id"),
        sa.column("concept_id"),
        sa.column("depth"),
        sa.column("kind"),
        sa.column("practiced_at", tracker.db.types.UTCDateTime()),
        sa.column("local_date", sa.Date()),
        sa.column("submission_id"),
    )
    kept = {row[0] for row in connection.execute(sa.select(progress.c.session_id)) if row[0]}
    rows = connection.execute(
        sa.select(sessions)
        .where(sessions.c.lesson_id.is_not(None), sessions.c.kind.in_(("study", "submission")))
        .order_by(sessions.c.completed_at, sessions.c.id)
    ).all()
    by_lesson: dict[tuple[int, str], list] = defaultdict(list)
    for row in rows:
        by_lesson[(row.learner_id, row.lesson_id)].append(row)
    moved = []
    for group in by_lesson.values():
        first = next((r for r in group if r.id in kept), group[0])
        moved += [r for r in group if r.id != first.id]
    for row in moved:
        connection.execute(
            practice.insert().values(
                learner_id=row.learner_id,
                lesson_id=row.lesson_id,
                concept_id=row.concept_id,
                depth=row.depth,
                kind=row.kind,
                practiced_at=row.completed_at,
                local_date=row.local_date,
                submission_id=row.submission_id,
            )
        )
    ids = [row.id for row in moved]
    for start in range(0, len(ids), 500):
        connection.execute(sessions.delete().where(sessions.c.id.in_(ids[start : start + 500])))


def _merge_same_day_code_ratings(connection: sa.Connection) -> None:
    logs = sa.table(
        "review_logs",
        sa.column("id"),
        sa.column("card_id"),
        sa.column("learner_id"),
        sa.column("rating"),
        sa.column("reviewed_at", tracker.db.types.UTCDateTime()),
        sa.column("local_date", sa.Date()),
        sa.column("review_duration_ms"),
        sa.column("submission_id"),
    )
    cards = sa.table("review_cards", sa.column("id"), sa.column("kind"))
    retracted = sa.table(
        "retracted_reviews",
        sa.column("log_id"),
        sa.column("card_id"),
        sa.column("learner_id"),
        sa.column("rating"),
        sa.column("reviewed_at", tracker.db.types.UTCDateTime()),
        sa.column("local_date", sa.Date()),
        sa.column("reason"),
        sa.column("retracted_at", tracker.db.types.UTCDateTime()),
        sa.column("replaced_by"),
        sa.column("row_json"),
    )
    rows = connection.execute(
        sa.select(logs)
        .join(cards, cards.c.id == logs.c.card_id)
        .where(cards.c.kind == "code")
        .order_by(logs.c.card_id, logs.c.reviewed_at, logs.c.id)
    ).all()
    days: dict[tuple[int, object], list] = defaultdict(list)
    for row in rows:
        days[(row.card_id, row.local_date)].append(row)
    now = datetime.now(UTC)
    touched: set[int] = set()
    for group in days.values():
        if len(group) < 2:
            continue
        first, later = group[0], group[1:]
        rating = first.rating
        if rating == AGAIN and any(r.rating != AGAIN for r in later):
            rating = HARD
        connection.execute(logs.update().where(logs.c.id == first.id).values(rating=rating))
        for row in later:
            connection.execute(
                retracted.insert().values(
                    log_id=row.id,
                    card_id=row.card_id,
                    learner_id=row.learner_id,
                    rating=row.rating,
                    reviewed_at=row.reviewed_at,
                    local_date=row.local_date,
                    reason="merged",
                    retracted_at=now,
                    replaced_by=first.id,
                    row_json=json.dumps(
                        {
                            "id": row.id,
                            "rating": row.rating,
                            "reviewed_at": row.reviewed_at.isoformat(),
                            "local_date": row.local_date.isoformat(),
                            "review_duration_ms": row.review_duration_ms,
                            "submission_id": row.submission_id,
                        }
                    ),
                )
            )
            connection.execute(logs.delete().where(logs.c.id == row.id))
        touched.add(first.card_id)
    for card_id in sorted(touched):
        _replay_card(connection, card_id)


def _replay_card(connection: sa.Connection, card_id: int) -> None:
    """Rebuild a card's cached schedule from its remaining log (as `tracker.scheduling` does)."""
    from tracker.config import Settings
    from tracker.scheduling import apply_card, build_scheduler, review

    cards = sa.table(
        "review_cards",
        sa.column("id"),
        sa.column("learner_id"),
        sa.column("created_at", tracker.db.types.UTCDateTime()),
    )
    card = connection.execute(
        sa.select(cards.c.learner_id, cards.c.created_at).where(cards.c.id == card_id)
    ).one()
    raw = connection.execute(
        sa.text(
            "SELECT value FROM settings WHERE learner_id = :learner AND key = 'fsrs_parameters'"
        ),
        {"learner": card.learner_id},
    ).scalar()
    parameters = tuple(json.loads(raw)) if raw else None
    scheduler = build_scheduler(Settings(timezone="UTC"), parameters)
    created = card.created_at
    ratings = connection.execute(
        sa.select(sa.column("rating"), sa.column("reviewed_at", tracker.db.types.UTCDateTime()))
        .select_from(sa.table("review_logs"))
        .where(sa.column("card_id") == card_id)
        .order_by(sa.column("reviewed_at"), sa.column("id"))
    ).all()
    from fsrs import Card, State

    state = Card(card_id=card_id, due=created)
    lapses = 0
    for reps, (rating, reviewed_at) in enumerate(ratings):
        if state.state == State.Review and rating == AGAIN:
            lapses += 1
        state, _ = review(scheduler, state, rating, now=reviewed_at, reps=reps)

    row = SimpleNamespace()  # what apply_card writes the new schedule to
    apply_card(row, state)  # type: ignore[arg-type]
    connection.execute(
        sa.text(
            "UPDATE review_cards SET state = :state, step = :step, stability = :stability, "
            "difficulty = :difficulty, due = :due, last_review = :last_review, reps = :reps, "
            "lapses = :lapses WHERE id = :id"
        ),
        {
            "state": row.state,
            "step": row.step,
            "stability": row.stability,
            "difficulty": row.difficulty,
            "due": _stored(connection, row.due),
            "last_review": _stored(connection, row.last_review),
            "reps": len(ratings),
            "lapses": lapses,
            "id": card_id,
        },
    )


def _stored(connection: sa.Connection, value: datetime | None) -> object:
    return tracker.db.types.UTCDateTime().process_bind_param(value, connection.dialect)


def downgrade() -> None:
    # Practice attempts go back to being study sessions; merged ratings stay merged
    # (the retracted rows are dropped with their table: a downgrade is for development).
    connection = op.get_bind()
    connection.execute(
        sa.text(
            "INSERT INTO study_sessions (learner_id, lesson_id, concept_id, depth, kind, "
            "completed_at, local_date, submission_id) SELECT learner_id, lesson_id, concept_id, "
            "depth, kind, practiced_at, local_date, submission_id FROM practice_attempts"
        )
    )
    with op.batch_alter_table("review_logs", schema=None) as batch_op:
        batch_op.drop_column("card_before")
    op.drop_table("retracted_reviews")
    with op.batch_alter_table("practice_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_practice_attempts_learner_day")
    op.drop_table("practice_attempts")
