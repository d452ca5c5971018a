"""dimension states can be held until clear

A person resolving an alert whose condition still holds keeps that dimension
combination quiet until an evaluation finds it clear.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 21:02:46.670356
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dimension_states", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("held_until_clear", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("dimension_states", schema=None) as batch_op:
        batch_op.drop_column("held_until_clear")
