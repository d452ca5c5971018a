"""digest subscriptions

A conversation's provisioning digest schedule (bot.health): daily or weekly at a local
time in its time zone. One per conversation; removed with the conversation.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _chat_text(sqlite_length: int) -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(sa.String(sqlite_length), "sqlite")


def upgrade() -> None:
    op.create_table(
        "digest_subscriptions",
        sa.Column("conversation_id", _chat_text(512), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("every", sa.String(10), nullable=False),
        sa.Column("at", sa.String(5), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=True),
        sa.Column("created_by", _chat_text(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.conversation_id"],
            name=op.f("fk_digest_subscriptions_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_digest_subscriptions")),
    )


def downgrade() -> None:
    op.drop_table("digest_subscriptions")
