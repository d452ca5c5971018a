"""evaluations claim each rule slot once

Several replicas evaluate the same rules at the same slot times; the row (rule, slot)
inserted in the evaluation's own commit lets exactly one of them write its result.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluations",
        sa.Column("rule_id", sa.String(length=200), nullable=False),
        sa.Column("slot_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("evaluated_by", sa.String(length=200), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("rule_id", "slot_at", name=op.f("pk_evaluations")),
    )


def downgrade() -> None:
    op.drop_table("evaluations")
