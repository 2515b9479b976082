"""scenarios

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scenario_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("automation", sa.String(length=64), nullable=False),
        sa.Column("lead_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "trigger",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("next_at", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_scenario_runs_lead_id_leads")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scenario_runs")),
    )
    with op.batch_alter_table("scenario_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scenario_runs_automation_lead_id_status"),
            ["automation", "lead_id", "status"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_scenario_runs_lead_id"), ["lead_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_scenario_runs_status_next_at"), ["status", "next_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("scenario_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scenario_runs_status_next_at"))
        batch_op.drop_index(batch_op.f("ix_scenario_runs_lead_id"))
        batch_op.drop_index(batch_op.f("ix_scenario_runs_automation_lead_id_status"))

    op.drop_table("scenario_runs")
