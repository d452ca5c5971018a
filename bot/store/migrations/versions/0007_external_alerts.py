"""external alerts: Azure Monitor notifications, their rules, links and write-backs

Alerts raised by Azure Monitor reach the bot through an action-group webhook: each
notification is recorded once (a retry is recognised), the alert keeps its Azure id, and
acknowledging or resolving it in chat queues a state change to write back.

Revision ID: 0007
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _time() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "external_notifications",
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("key", sa.String(600), nullable=False),
        sa.Column("received_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("source", "key", name=op.f("pk_external_notifications")),
    )
    op.create_table(
        "external_rules",
        sa.Column("rule_id", sa.String(200), nullable=False),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("definition", _json(), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("rule_id", name=op.f("pk_external_rules")),
    )
    op.create_table(
        "external_alerts",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("external_id", sa.String(512), nullable=False),
        sa.Column("rule_id", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_external_alerts_alert_id_alerts")
        ),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_external_alerts")),
        sa.UniqueConstraint(
            "source", "external_id", name=op.f("uq_external_alerts_source_external_id")
        ),
    )
    op.create_table(
        "writebacks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("external_id", sa.String(512), nullable=False),
        sa.Column("new_state", sa.String(30), nullable=False),
        sa.Column("actor", sa.String(300), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _time(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        sa.Column("lease_expires_at", _time(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_writebacks")),
    )
    op.create_index(op.f("ix_writebacks_alert_id"), "writebacks", ["alert_id"])
    op.create_index(
        "ix_writebacks_status_next_attempt_at", "writebacks", ["status", "next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_writebacks_status_next_attempt_at", table_name="writebacks")
    op.drop_index(op.f("ix_writebacks_alert_id"), table_name="writebacks")
    op.drop_table("writebacks")
    op.drop_table("external_alerts")
    op.drop_table("external_rules")
    op.drop_table("external_notifications")
