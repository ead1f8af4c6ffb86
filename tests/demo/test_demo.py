"""`matchmaker run` on a fresh clone runs the offline demo: real catalog, crawler and matcher on
the fake GitHub's synthetic world, digests in the terminal and as Block Kit JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.app import app
from bot.cli.run import nothing_configured
from bot.config import load_settings
from bot.demo.members import SAMPLE_MEMBERS

runner = CliRunner()


def test_run_with_nothing_configured_runs_the_demo(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 0, result.output
    assert "Nothing configured" in result.output
    assert "SYNTHETIC DEMO DATA" in result.output
    assert "135/135 repositories" in result.output
    for member in SAMPLE_MEMBERS:
        assert member.name in result.output
    payload = json.loads((tmp_path / "demo-output" / "demo-digests.json").read_text())
    assert "SYNTHETIC" in payload["notice"]
    digests = payload["digests"]
    assert set(digests) == {m.name for m in SAMPLE_MEMBERS}
    picked: list[str] = []
    for digest in digests.values():
        buttons = [
            element["value"]
            for block in digest["blocks"]
            if block["type"] == "actions"
            for element in block["elements"]
        ]
        assert len(set(buttons)) == 3  # three picks, each with its feedback buttons
        assert len(digest["blocks"]) <= 50 and digest["text"]
        picked.extend(set(buttons))
    assert len(picked) == len(set(picked))  # no two sample members share an issue
    # the operator's own database is untouched: the demo has its own file
    assert not (tmp_path / "data" / "matchmaker.db").exists()
    assert (tmp_path / "data" / "demo.db").exists()


def test_demo_is_deterministic(tmp_path: Path) -> None:
    outputs = []
    for run in ("a", "b"):
        result = runner.invoke(app, ["demo", "--out", str(tmp_path / run), "--picks", "2"])
        assert result.exit_code == 0, result.output
        outputs.append(json.loads((tmp_path / run / "demo-digests.json").read_text()))
    assert outputs[0] == outputs[1]


def test_demo_to_slack_without_token_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--out", str(tmp_path), "--to-slack", "C123"])
    assert result.exit_code == 1
    assert "--to-slack needs SLACK_BOT_TOKEN" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, True),
        ({"GITHUB_TOKEN": "ghp_x"}, False),
        ({"SLACK_BOT_TOKEN": "xoxb-x"}, False),
        ({"DATABASE_URL": "postgresql://u@h/db"}, False),
    ],
)
def test_run_chooses_the_demo_only_when_nothing_is_configured(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: bool
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert nothing_configured(load_settings()) is expected
