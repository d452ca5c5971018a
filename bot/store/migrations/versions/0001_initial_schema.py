"""Initial schema: alerts and the engine's memory, mutes, conversations, subscriptions,
the audit log and the notification outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status != 'resolved'")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _time() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    _alerts()
    _engine_memory()
    _conversations()
    _audit_and_outbox()


def _alerts() -> None:
    op.create_table(
        "id_counters",
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_id_counters")),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("rule_id", sa.String(200), nullable=False),
        sa.Column("dimensions", _json(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("threshold", sa.Double(), nullable=False),
        sa.Column("opened_at", _time(), nullable=False),
        sa.Column("last_evaluated_at", _time(), nullable=False),
        sa.Column("last_notified_at", _time(), nullable=True),
        sa.Column("notify_count", sa.Integer(), nullable=False),
        sa.Column("resolved_at", _time(), nullable=True),
        sa.Column("snoozed_until", _time(), nullable=True),
        sa.Column("acknowledged_by", sa.String(200), nullable=True),
        sa.Column("acknowledged_at", _time(), nullable=True),
        sa.Column("evidence", _json(), nullable=False),
        sa.Column("history", _json(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index(
        "ix_alerts_open_fingerprint",
        "alerts",
        ["fingerprint"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    op.create_index("ix_alerts_rule_id_status", "alerts", ["rule_id", "status"])
    op.create_table(
        "mutes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule_id", sa.String(200), nullable=False),
        sa.Column("matchers", _json(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("until", _time(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_mutes_alert_id_alerts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mutes")),
    )
    op.create_index(op.f("ix_mutes_alert_id"), "mutes", ["alert_id"])
    op.create_index(op.f("ix_mutes_rule_id"), "mutes", ["rule_id"])
    op.create_index(op.f("ix_mutes_until"), "mutes", ["until"])


def _engine_memory() -> None:
    op.create_table(
        "dimension_states",
        sa.Column("rule_id", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("dimensions", _json(), nullable=False),
        sa.Column("recent", _json(), nullable=False),
        sa.PrimaryKeyConstraint("rule_id", "fingerprint", name=op.f("pk_dimension_states")),
    )
    op.create_table(
        "rule_health",
        sa.Column("rule_id", sa.String(200), nullable=False),
        sa.Column("last_evaluated_at", _time(), nullable=True),
        sa.Column("last_success_at", _time(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("consecutive_errors", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("rule_id", name=op.f("pk_rule_health")),
    )


def _conversations() -> None:
    op.create_table(
        "conversations",
        sa.Column("conversation_id", sa.String(512), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("reference", _json(), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_conversations")),
    )
    op.create_table(
        "subscriptions",
        sa.Column("conversation_id", sa.String(512), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("max_severity", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.conversation_id"],
            name=op.f("fk_subscriptions_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", "target", name=op.f("pk_subscriptions")),
    )


def _audit_and_outbox() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", _time(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("actor_name", sa.String(200), nullable=True),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("conversation_id", sa.String(512), nullable=True),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_alert_id"), "audit_log", ["alert_id"])
    op.create_index(op.f("ix_audit_log_conversation_id"), "audit_log", ["conversation_id"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(300), nullable=False),
        sa.Column("conversation_id", sa.String(512), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("rule_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("event", _json(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _time(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(512), nullable=True),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        sa.Column("lease_expires_at", _time(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint(
            "conversation_id",
            "idempotency_key",
            name=op.f("uq_outbox_conversation_id_idempotency_key"),
        ),
    )
    op.create_index(op.f("ix_outbox_alert_id"), "outbox", ["alert_id"])
    op.create_index("ix_outbox_status_next_attempt_at", "outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    for table in (
        "outbox",
        "audit_log",
        "subscriptions",
        "conversations",
        "rule_health",
        "dimension_states",
        "mutes",
        "alerts",
        "id_counters",
    ):
        op.drop_table(table)
