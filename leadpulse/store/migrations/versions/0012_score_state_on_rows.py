"""scoring states on the visitor's and the lead's own row

Revision ID: 0012
Revises: 0011

A collect request updates its visitor's row (last seen, touches) anyway: with the scoring
state on that row the same UPDATE writes it, where a row of its own cost a second UPDATE and
a second page written at every commit (docs/decisions.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    for table, owner in (("visitors", "visitor_id"), ("leads", "lead_id")):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("score_state", _JSON, nullable=True))
        op.execute(
            f"UPDATE {table} SET score_state = (SELECT s.state FROM score_states s "
            f"WHERE s.{owner} = {table}.id) "
            f"WHERE id IN (SELECT {owner} FROM score_states WHERE {owner} IS NOT NULL)"
        )
    op.drop_table("score_states")


def downgrade() -> None:
    op.create_table(
        "score_states",
        sa.Column("id", _ID, nullable=False),
        sa.Column("visitor_id", _ID, nullable=True),
        sa.Column("lead_id", _ID, nullable=True),
        sa.Column("state", _JSON, nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_score_states_lead_id_leads")
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"], ["visitors.id"], name=op.f("fk_score_states_visitor_id_visitors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_states")),
        sa.UniqueConstraint("lead_id", name=op.f("uq_score_states_lead_id")),
        sa.UniqueConstraint("visitor_id", name=op.f("uq_score_states_visitor_id")),
    )
    for table, owner in (("visitors", "visitor_id"), ("leads", "lead_id")):
        op.execute(
            f"INSERT INTO score_states ({owner}, state, updated_at) "
            f"SELECT id, score_state, last_seen_at FROM {table} WHERE score_state IS NOT NULL"
        )
        # ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch copy of the table would fail the
        # foreign keys of the rows that refer to it
        op.drop_column(table, "score_state")
