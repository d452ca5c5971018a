"""conversations are leased for delivery

The outbox is claimed per conversation (one replica at a time delivers to it, in order);
a lease row per conversation with pending deliveries is made for those already queued.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_leases",
        sa.Column(
            "conversation_id",
            sa.Text().with_variant(sa.String(length=512), "sqlite"),
            nullable=False,
        ),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_conversation_leases")),
    )
    op.execute(
        "INSERT INTO conversation_leases (conversation_id, owner, expires_at) "
        "SELECT conversation_id, NULL, '2000-01-01 00:00:00' FROM "
        "(SELECT DISTINCT conversation_id FROM outbox WHERE status = 'pending') AS pending"
    )


def downgrade() -> None:
    op.drop_table("conversation_leases")
