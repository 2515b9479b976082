"""scoring

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "scoring_models",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("deleted_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_models")),
        sa.UniqueConstraint("key", "version", name=op.f("uq_scoring_models_key_version")),
    )
    op.create_table(
        "score_ledger",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "visitor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("lead_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("model_key", sa.String(length=64), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("rule_key", sa.String(length=64), nullable=False),
        sa.Column("occurrence", sa.String(length=200), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("decays", sa.Boolean(), nullable=False),
        sa.Column("event_uid", sa.String(length=64), nullable=True),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_score_ledger_lead_id_leads")
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"], ["visitors.id"], name=op.f("fk_score_ledger_visitor_id_visitors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_ledger")),
    )
    with op.batch_alter_table("score_ledger", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_score_ledger_lead_id"), ["lead_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_score_ledger_visitor_id"), ["visitor_id"], unique=False
        )

    op.create_table(
        "score_states",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "visitor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("lead_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "state",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
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
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "scores",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )


def downgrade() -> None:

    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_column("scores")

    op.drop_table("score_states")
    with op.batch_alter_table("score_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_score_ledger_visitor_id"))
        batch_op.drop_index(batch_op.f("ix_score_ledger_lead_id"))

    op.drop_table("score_ledger")
    op.drop_table("scoring_models")
