"""maybe-sent posts, shown messages and shared pacing

- `outbox.post_attempt`, `outbox.post_started_at`: a post in flight, written before it
  is sent, so a redelivery after a lost answer reconciles instead of posting blindly.
- `shown_messages`: the digest of what each posted message shows, for every replica.
- `conversation_leases.claimed_by`, `claimed_at`, `recent_sends`: who delivered lately
  (to share the app's rate limit) and the conversation's recent operations (so the next
  replica continues its rate window).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIME = sa.DateTime(timezone=True)
CHAT_TEXT = sa.Text().with_variant(sa.String(length=512), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("post_attempt", sa.String(40), nullable=True))
        batch_op.add_column(sa.Column("post_started_at", TIME, nullable=True))
    with op.batch_alter_table("conversation_leases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(200), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", TIME, nullable=True))
        batch_op.add_column(sa.Column("recent_sends", JSON_TYPE, nullable=True))
    op.create_table(
        "shown_messages",
        sa.Column("conversation_id", CHAT_TEXT, nullable=False),
        sa.Column("message_id", CHAT_TEXT, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("shown_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "message_id", name=op.f("pk_shown_messages")),
    )
    with op.batch_alter_table("shown_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shown_messages_shown_at"), ["shown_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("shown_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shown_messages_shown_at"))
    op.drop_table("shown_messages")
    with op.batch_alter_table("conversation_leases", schema=None) as batch_op:
        batch_op.drop_column("recent_sends")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("claimed_by")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("post_started_at")
        batch_op.drop_column("post_attempt")
