"""issue 20: people (mentors, buddies, intros, follow-ups)

Opt-ins per member (people_prefs), private do-not-pair lists, intros with their two sides
(follow-up answers), buddy rounds, and the people message ledger. New tables only.

Revision ID: 0006_issue20
Revises: 0005_issue17
Create Date: 2026-12-01 20:52:18.753035
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.store.types

revision: str = "0006_issue20"
down_revision: str | None = "0005_issue17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "buddy_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("round_key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("ran_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.Column("pairs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_key"),
    )
    with op.batch_alter_table("buddy_round", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_buddy_round_team_id"), ["team_id"], unique=False)

    op.create_table(
        "no_pair",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("other_user_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("created_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "other_user_id", name="uq_no_pair"),
    )
    with op.batch_alter_table("no_pair", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_no_pair_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_no_pair_team_id"), ["team_id"], unique=False)

    op.create_table(
        "people_prefs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("mentor", sa.Boolean(), nullable=False),
        sa.Column("mentor_paused", sa.Boolean(), nullable=False),
        sa.Column("mentor_scope", sa.JSON(), nullable=True),
        sa.Column("buddies", sa.Boolean(), nullable=False),
        sa.Column("intro_post", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("ignored_intros", sa.Integer(), nullable=False),
        sa.Column("updated_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("people_prefs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_people_prefs_member_id"), ["member_id"], unique=True)
        batch_op.create_index(batch_op.f("ix_people_prefs_team_id"), ["team_id"], unique=False)

    op.create_table(
        "intro",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("pair_key", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("member_a_id", sa.Integer(), nullable=False),
        sa.Column("member_b_id", sa.Integer(), nullable=False),
        sa.Column("repository_id", sa.Integer(), nullable=True),
        sa.Column("issue_id", sa.Integer(), nullable=True),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("dedupe_key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("created_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.Column("opened_at", bot.store.types.UTCDateTime(), nullable=True),
        sa.Column("closed_at", bot.store.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issue.id"],
        ),
        sa.ForeignKeyConstraint(
            ["member_a_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["member_b_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repository.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    with op.batch_alter_table("intro", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intro_member_a_id"), ["member_a_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_intro_member_b_id"), ["member_b_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_intro_pair_key"), ["pair_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_intro_team_id"), ["team_id"], unique=False)

    op.create_table(
        "intro_side",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("intro_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("followup_at", bot.store.types.UTCDateTime(), nullable=True),
        sa.Column("answer", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("answered_at", bot.store.types.UTCDateTime(), nullable=True),
        sa.Column("ignored", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["intro_id"],
            ["intro.id"],
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("intro_id", "member_id", name="uq_intro_side"),
    )
    with op.batch_alter_table("intro_side", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intro_side_intro_id"), ["intro_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_intro_side_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_intro_side_team_id"), ["team_id"], unique=False)

    op.create_table(
        "people_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("dedupe_key", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("intro_id", sa.Integer(), nullable=True),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("users", sa.JSON(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("blocks", sa.JSON(), nullable=True),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", bot.store.types.UTCDateTime(), nullable=True),
        sa.Column("post_started_at", bot.store.types.UTCDateTime(), nullable=True),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("slack_ts", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.Column("sent_at", bot.store.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["intro_id"],
            ["intro.id"],
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    with op.batch_alter_table("people_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_people_message_intro_id"), ["intro_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_people_message_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_people_message_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_people_message_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("people_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_message_team_id"))
        batch_op.drop_index(batch_op.f("ix_people_message_state"))
        batch_op.drop_index(batch_op.f("ix_people_message_member_id"))
        batch_op.drop_index(batch_op.f("ix_people_message_intro_id"))

    op.drop_table("people_message")
    with op.batch_alter_table("intro_side", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intro_side_team_id"))
        batch_op.drop_index(batch_op.f("ix_intro_side_member_id"))
        batch_op.drop_index(batch_op.f("ix_intro_side_intro_id"))

    op.drop_table("intro_side")
    with op.batch_alter_table("intro", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intro_team_id"))
        batch_op.drop_index(batch_op.f("ix_intro_pair_key"))
        batch_op.drop_index(batch_op.f("ix_intro_member_b_id"))
        batch_op.drop_index(batch_op.f("ix_intro_member_a_id"))

    op.drop_table("intro")
    with op.batch_alter_table("people_prefs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_prefs_team_id"))
        batch_op.drop_index(batch_op.f("ix_people_prefs_member_id"))

    op.drop_table("people_prefs")
    with op.batch_alter_table("no_pair", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_no_pair_team_id"))
        batch_op.drop_index(batch_op.f("ix_no_pair_member_id"))

    op.drop_table("no_pair")
    with op.batch_alter_table("buddy_round", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_buddy_round_team_id"))

    op.drop_table("buddy_round")
