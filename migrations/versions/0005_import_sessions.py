"""import sessions: one row per (learner, date, concept, depth)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

`tracker import posts` records a journal's sessions as study_sessions of kind
'import'. A partial unique index makes the identity (learner, local_date,
concept, depth) of those rows a fact of the database, so importing the same
posts twice, two posts that list the same earlier session, or two importers
racing, all leave one row. Sessions of other kinds are not constrained: a
learner may study the same lesson twice a day. No data step: before this
revision nothing wrote kind 'import'.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHERE = sa.text("kind = 'import'")


def upgrade() -> None:
    with op.batch_alter_table("study_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "uq_study_sessions_import",
            ["learner_id", "local_date", "concept_id", "depth"],
            unique=True,
            sqlite_where=WHERE,
            postgresql_where=WHERE,
        )


def downgrade() -> None:
    with op.batch_alter_table("study_sessions", schema=None) as batch_op:
        batch_op.drop_index("uq_study_sessions_import")
