"""`run_demo`: the whole pipeline offline, on a synthetic world served by the fake GitHub.

catalog (the fake's synthetic copy of the seed list) → crawl (the real GraphQL crawler) → store
(a separate SQLite file, rebuilt each run, so demo data never mixes with real data) → match
(sample members) → deliver (console sender, plus a Block Kit JSON file; Slack with `to_slack`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.catalog.sync import ListReport, sync_lists
from bot.config import Settings
from bot.demo.members import SAMPLE_MEMBERS, SampleMember
from bot.fakes.github.demo_repos import SEED_LIST
from bot.fakes.github.server import FakeGitHub
from bot.fakes.github.world import demo_world
from bot.github.crawl import crawl
from bot.github.report import CrawlReport
from bot.match.recommend import Recommendation, recommend, record_picks
from bot.match.taxonomy import normalize_stack
from bot.slack.blocks import fallback_text, pick_blocks
from bot.slack.profile import set_stack
from bot.store import migrate
from bot.store.db import make_engine, session_scope
from bot.store.models import Member

DEMO_TEAM = "TDEMO"
DEMO_TOKEN = "demo-token-not-a-secret"  # accepted by the local fake GitHub only
SYNTHETIC_NOTICE = "SYNTHETIC DEMO DATA: repositories exist, issues and people are made up."


@dataclass
class MemberDigest:
    """One sample member's picks, as shown in the terminal and written to the JSON file."""

    member: SampleMember
    member_id: int
    picks: list[Recommendation]
    blocks: list[dict[str, Any]]
    text: str


@dataclass
class DemoResult:
    """Everything the demo did, for the CLI to print and tests to check."""

    database: Path
    lists: list[ListReport]
    crawl: CrawlReport
    digests: list[MemberDigest] = field(default_factory=list)
    blocks_file: Path | None = None
    api_requests: int = 0


def demo_settings(settings: Settings, github_url: str, database: Path) -> Settings:
    """The operator's settings, pointed at the fake GitHub and the demo database."""
    return settings.model_copy(
        update={
            "github_api_url": github_url,
            "github_token": SecretStr(DEMO_TOKEN),
            "database_url": SecretStr(f"sqlite:///{database.as_posix()}"),
            "catalog": settings.catalog.model_copy(update={"lists": [SEED_LIST]}),
        }
    )


def _create_members(engine: Any, members: Sequence[SampleMember]) -> dict[str, int]:
    ids: dict[str, int] = {}
    with session_scope(engine) as session:
        for sample in members:
            stack = normalize_stack(sample.stack)
            member = Member(
                team_id=DEMO_TEAM,
                slack_user_id=sample.slack_user_id,
                display_name=sample.name,
                level=sample.level,
            )
            set_stack(member, sample.stack, stack.languages, stack.topics)
            session.add(member)
            session.flush()
            assert member.id is not None
            ids[sample.slack_user_id] = member.id
    return ids


def run_demo(
    settings: Settings,
    *,
    out_dir: Path,
    seed: int = 7,
    picks: int = 3,
    members: Sequence[SampleMember] = SAMPLE_MEMBERS,
    now: datetime | None = None,
) -> DemoResult:
    """Run catalog → crawl → match for the sample members on a fresh demo database."""
    out_dir.mkdir(parents=True, exist_ok=True)
    database = settings.data_dir / "demo.db"
    database.parent.mkdir(parents=True, exist_ok=True)
    for stale in database.parent.glob(database.name + "*"):
        stale.unlink()
    world = demo_world(seed)
    now = now or world.now  # the world's clock, so the demo looks the same in a year
    with FakeGitHub(world) as fake:
        current = demo_settings(settings, fake.base_url, database)
        engine = make_engine(current.db_url)
        try:
            migrate.upgrade(engine)
            lists = sync_lists(engine, current)
            report = crawl(engine, current, now=now)
            ids = _create_members(engine, members)
            with session_scope(engine) as session:
                recs = recommend(session, current, list(ids.values()), n=picks, now=now)
                for member_picks in recs.values():
                    record_picks(session, member_picks, "digest", now=now)
        finally:
            engine.dispose()
        result = DemoResult(database=database, lists=lists, crawl=report)
        result.api_requests = fake.stats.requests
    for sample in members:
        member_id = ids[sample.slack_user_id]
        member_picks = recs.get(member_id, [])
        header = f"Your picks this week, {sample.name}"
        result.digests.append(
            MemberDigest(
                member=sample,
                member_id=member_id,
                picks=member_picks,
                blocks=pick_blocks(member_picks, header=header),
                text=fallback_text(member_picks),
            )
        )
    result.blocks_file = write_block_kit(result.digests, out_dir / "demo-digests.json")
    return result


def write_block_kit(digests: Sequence[MemberDigest], path: Path) -> Path:
    """Write each digest as a Block Kit Builder payload (`{"blocks": [...]}`) keyed by member."""
    payload = {
        "notice": SYNTHETIC_NOTICE,
        "how_to_use": 'Paste one member\'s {"blocks": …} object into '
        "https://app.slack.com/block-kit-builder",
        "digests": {d.member.name: {"text": d.text, "blocks": d.blocks} for d in digests},
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
