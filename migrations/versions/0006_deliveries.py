"""deliveries: every reminder claimed once per learner, kind, learner-day and channel

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10

Replaces ``reminders_sent`` (0002), which nothing ever wrote: it had no way
to claim a reminder before sending it, so two processes could both send.
A ``deliveries`` row is inserted (``ON CONFLICT DO NOTHING`` on its unique
key) in the write transaction that decides to send, before anything is sent;
its status then records what happened. There are no rows to carry over.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.db.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("claimed_by", sa.String(length=120), nullable=True),
        sa.Column("claimed_at", tracker.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", tracker.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_try_at", tracker.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", tracker.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learners.id"], name=op.f("fk_deliveries_learner_id_learners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint(
            "learner_id",
            "kind",
            "local_date",
            "channel",
            name=op.f("uq_deliveries_learner_id_kind_local_date_channel"),
        ),
    )
    # Never written by any release (nothing sent reminders before this revision).
    op.drop_table("reminders_sent")


def downgrade() -> None:
    op.create_table(
        "reminders_sent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("sent_at", tracker.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learners.id"], name=op.f("fk_reminders_sent_learner_id_learners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders_sent")),
        sa.UniqueConstraint(
            "learner_id",
            "kind",
            "channel",
            "local_date",
            name=op.f("uq_reminders_sent_learner_id_kind_channel_local_date"),
        ),
    )
    op.drop_table("deliveries")
