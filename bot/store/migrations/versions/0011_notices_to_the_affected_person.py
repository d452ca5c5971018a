"""notices to the affected person, one per audit record

Tables `notices` (a notice, its events, its answer and how it was delivered) and
`notice_records` (each audit record id told about, once).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("rule_id", sa.String(200), nullable=False),
        sa.Column("person_key", sa.String(320), nullable=False),
        sa.Column("person", JSON_TYPE, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("events", JSON_TYPE, nullable=False),
        sa.Column("answer", sa.String(20), nullable=True),
        sa.Column("answered_at", TIME, nullable=True),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("delivered_via", sa.String(30), nullable=True),
        sa.Column("conversation_id", sa.String(512), nullable=True),
        sa.Column("message_id", sa.String(512), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notices_person_key"), ["person_key"], unique=False)
    op.create_table(
        "notice_records",
        sa.Column("record_id", sa.String(300), nullable=False),
        sa.Column("notice_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_notice_records")),
    )
    with op.batch_alter_table("notice_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notice_records_notice_id"), ["notice_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notice_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_records_notice_id"))
    op.drop_table("notice_records")
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notices_person_key"))
    op.drop_table("notices")
