"""submission request ids: a submission is recorded once, whichever path finishes it

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

`tracker submit` makes an id for each request before it hands the work to
`tracker serve`. When serve records the submission and dies before replying,
the client re-runs the request cold with the same id; the unique index lets
the recorder see it is already there instead of recording it twice. Rows
recorded before this revision keep a NULL id (NULLs never collide).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.db.types  # noqa: F401 - the template's import, for columns of our own types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_id", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_submissions_request_id"), ["request_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submissions_request_id"))
        batch_op.drop_column("request_id")
