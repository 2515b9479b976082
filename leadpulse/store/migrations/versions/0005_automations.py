"""automations

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "automation_firings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("automation", sa.String(length=64), nullable=False),
        sa.Column("lead_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "trigger",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("fired_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_automation_firings_lead_id_leads")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_firings")),
    )
    with op.batch_alter_table("automation_firings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_automation_firings_automation_lead_id_fired_at"),
            ["automation", "lead_id", "fired_at"],
            unique=False,
        )

    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("automation", sa.String(length=64), nullable=False),
        sa.Column("lead_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column(
            "target",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.BigInteger(), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("delivered_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_outbox_lead_id_leads")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_message_id")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_automation_id"), ["automation", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_outbox_lead_id"), ["lead_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_outbox_status_next_at"), ["status", "next_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_status_next_at"))
        batch_op.drop_index(batch_op.f("ix_outbox_lead_id"))
        batch_op.drop_index(batch_op.f("ix_outbox_automation_id"))

    op.drop_table("outbox")
    with op.batch_alter_table("automation_firings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_automation_firings_automation_lead_id_fired_at"))

    op.drop_table("automation_firings")
