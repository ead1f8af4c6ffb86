"""`python -m bot.match.train --local-outcomes`: the community's settled picks validated with
RecGFI's rows, grouped by repository; the shipped model is never overwritten (SQLite)."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.match import train as T
from bot.match.approachability import ApproachabilityModel
from bot.match.training import fit
from bot.store.db import session_scope
from bot.store.models import Issue, Member, Pick, PickOutcome, Repository
from tests.conftest import shared_data

OLD = datetime.now(UTC) - timedelta(days=120)  # settled: older than the tracking window
SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _seed_outcomes(engine: Engine, picks: int = 60) -> None:
    rng = random.Random(3)
    with session_scope(engine) as session:
        members = []
        for n, level in enumerate(("first-timer", "some", "experienced")):
            row = Member(slack_user_id=f"U{n}", team_id="T1", level=level, github_login=f"m{n}")
            session.add(row)
            members.append(row)
        repos = [
            Repository(full_name=f"org/r{r}", stars=10 ** (r % 4), newcomer_share=r / 10)
            for r in range(8)
        ]
        session.add_all(repos)
        session.flush()
        for n in range(picks):
            repo = repos[n % len(repos)]
            issue = Issue(
                node_id=f"I{n}",
                repository_id=repo.id,
                number=n + 1,
                title="Fix docs",
                body="word " * rng.randint(5, 200),
                url="https://github.com/x",
                labels=["good first issue"] if n % 2 else ["bug"],
                crawled_at=OLD,
            )
            session.add(issue)
            session.flush()
            member = members[n % 3]
            pick = Pick(member_id=member.id, issue_id=issue.id, created_at=OLD)
            session.add(pick)
            session.flush()
            merged = (n % 2 == 1 and rng.random() < 0.7) or rng.random() < 0.1
            session.add(
                PickOutcome(
                    team_id="T1",
                    pick_id=pick.id,
                    member_id=member.id,
                    issue_id=issue.id,
                    state="merged" if merged else "none",
                    merged_at=OLD + timedelta(days=5) if merged else None,
                    updated_at=OLD,
                )
            )


@SQLITE
def test_local_outcomes_are_validated_by_repository_and_reported(
    engine: Engine, db_url: str, tmp_path: Path, capsys
) -> None:
    _seed_outcomes(engine)
    data_dir = shared_data("recgfi-train", "train_features.csv").parent
    shipped = hashlib.sha256(fit.DEFAULT_OUT.read_bytes()).hexdigest()
    out = tmp_path / "local.json"
    args = ["--data", str(data_dir), "--local-outcomes", db_url, "--local-weight", "5"]
    assert T.main([*args, "--local-out", str(out)]) == 0
    report = capsys.readouterr().out
    assert "Local outcomes: 40 settled picks" in report  # experienced members' picks left out
    assert "Grouped 5-fold validation (whole repositories held out)" in report
    assert "held-out local rows    AUC without local" in report
    assert "changed the validation AUC" in report or "did not change" in report
    model = ApproachabilityModel.load(out)
    assert model.metadata["local_rows"] == 40 and model.metadata["local_weight"] == 5
    assert hashlib.sha256(fit.DEFAULT_OUT.read_bytes()).hexdigest() == shipped
    # the shipped file is refused as the output of a local model
    assert T.main([*args, "--local-out", str(fit.DEFAULT_OUT)]) == 1
    assert "trained only on recgfi-train" in capsys.readouterr().err
    assert hashlib.sha256(fit.DEFAULT_OUT.read_bytes()).hexdigest() == shipped


@SQLITE
def test_an_empty_database_or_a_bad_url_is_one_line_error(engine: Engine, db_url: str, capsys):
    data_dir = shared_data("recgfi-train", "train_features.csv").parent
    assert T.main(["--data", str(data_dir), "--local-outcomes", db_url]) == 1
    assert "no settled picks" in capsys.readouterr().err
    assert T.main(["--data", str(data_dir), "--local-outcomes", "nope://x"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
