"""mutes record the snoozer's name

Cards say "Snoozed until 14:00 by Alex", not by an object id.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mutes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_by_name", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mutes", schema=None) as batch_op:
        batch_op.drop_column("created_by_name")
