"""issue 19: claim holds

One row per hold of an issue for a member after "Interested"; `active_key` (unique, NULL once
released) allows one active hold per issue and workspace. New table only.

Revision ID: 0007_issue19_holds
Revises: 0006_issue20
Create Date: 2026-12-02 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.store.types

revision: str = "0007_issue19_holds"
down_revision: str | None = "0006_issue20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("held_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.Column("nudged_at", bot.store.types.UTCDateTime(), nullable=True),
        sa.Column("keeps", sa.Integer(), nullable=False),
        sa.Column("released_at", bot.store.types.UTCDateTime(), nullable=True),
        sa.Column("release_reason", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("active_key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.ForeignKeyConstraint(["issue_id"], ["issue.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("active_key"),
    )
    with op.batch_alter_table("hold", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hold_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_hold_issue_id"), ["issue_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hold_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hold_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("hold", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hold_team_id"))
        batch_op.drop_index(batch_op.f("ix_hold_member_id"))
        batch_op.drop_index(batch_op.f("ix_hold_issue_id"))
        batch_op.drop_index(batch_op.f("ix_hold_expires_at"))

    op.drop_table("hold")
