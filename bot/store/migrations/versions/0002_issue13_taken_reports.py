"""issue 13: "Already taken" reports per member and workspace, replacing issue.reported_taken_at

Revision ID: 0002_issue13
Revises: 0001
Create Date: 2026-12-01 20:40:00

Existing "already_taken" feedback rows become reports of their member (in the member's workspace),
dated by the first click. `issue.reported_taken_at` carried no reporter, so it is dropped; the
downgrade restores it from the oldest report of each issue.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.store.types

revision: str = "0002_issue13"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "taken_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("reported_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.Column("github_reason", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("checked_at", bot.store.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["issue_id"], ["issue.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "issue_id", name="uq_taken_report_member_issue"),
    )
    with op.batch_alter_table("taken_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_taken_report_issue_id"), ["issue_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_taken_report_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_taken_report_team_id"), ["team_id"], unique=False)
    op.execute(
        """
        INSERT INTO taken_report (team_id, member_id, issue_id, reported_at)
        SELECT m.team_id, f.member_id, f.issue_id, MIN(f.created_at)
        FROM feedback f JOIN member m ON m.id = f.member_id
        WHERE f.kind = 'already_taken'
        GROUP BY m.team_id, f.member_id, f.issue_id
        """
    )
    with op.batch_alter_table("issue", schema=None) as batch_op:
        batch_op.drop_column("reported_taken_at")


def downgrade() -> None:
    with op.batch_alter_table("issue", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reported_taken_at", bot.store.types.UTCDateTime(), nullable=True)
        )
    op.execute(
        """
        UPDATE issue SET reported_taken_at = (
            SELECT MIN(r.reported_at) FROM taken_report r WHERE r.issue_id = issue.id
        )
        """
    )
    with op.batch_alter_table("taken_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_taken_report_team_id"))
        batch_op.drop_index(batch_op.f("ix_taken_report_member_id"))
        batch_op.drop_index(batch_op.f("ix_taken_report_issue_id"))
    op.drop_table("taken_report")
