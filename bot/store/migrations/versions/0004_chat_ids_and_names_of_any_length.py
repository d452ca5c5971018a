"""chat ids and names of any length; rule errors have a kind

Display names (Entra allows 256 characters), user ids and conversation ids (Teams gives
no maximum) were VARCHAR(200) or VARCHAR(512): PostgreSQL refused longer ones, so an
acknowledgement or a subscription failed. They become TEXT on PostgreSQL. SQLite never
enforced the declared lengths, and changing a type there means copying the table, which
for `conversations` and `alerts` (referenced by other tables' foreign keys) would cascade
deletes: they keep their declaration there.

`rule_health.last_error_kind`: rule-error notices are sent once per kind of error.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (table, column, length before, nullable)
_WIDENED: tuple[tuple[str, str, int, bool], ...] = (
    ("alerts", "acknowledged_by", 200, True),
    ("mutes", "created_by", 200, False),
    ("mutes", "created_by_name", 200, True),
    ("conversations", "conversation_id", 512, False),
    ("subscriptions", "conversation_id", 512, False),
    ("subscriptions", "created_by", 200, False),
    ("audit_log", "actor", 200, False),
    ("audit_log", "actor_name", 200, True),
    ("audit_log", "conversation_id", 512, True),
    ("outbox", "conversation_id", 512, False),
    ("outbox", "message_id", 512, True),
)


def upgrade() -> None:
    with op.batch_alter_table("rule_health", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_error_kind", sa.String(50), nullable=True))
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, length, nullable in _WIDENED:
        op.alter_column(
            table,
            column,
            type_=sa.Text(),
            existing_type=sa.String(length),
            existing_nullable=nullable,
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, column, length, nullable in reversed(_WIDENED):
            op.alter_column(
                table,
                column,
                type_=sa.String(length),
                existing_type=sa.Text(),
                existing_nullable=nullable,
            )
    with op.batch_alter_table("rule_health", schema=None) as batch_op:
        batch_op.drop_column("last_error_kind")
