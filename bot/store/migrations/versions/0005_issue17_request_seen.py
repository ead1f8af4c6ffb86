"""slack_request_seen: replay protection for signed Slack requests

Revision ID: 0005_issue17
Revises: 0004_issue21
Create Date: 2026-12-01 20:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.store.types

revision: str = "0005_issue17"
down_revision: str | None = "0004_issue21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_request_seen",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("expires_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("slack_request_seen", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_slack_request_seen_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("slack_request_seen", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slack_request_seen_expires_at"))
    op.drop_table("slack_request_seen")
