"""`python -m bot.match.evaluate` and `python -m bot.match.train` as a user runs them."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from bot.match import evaluate as E
from bot.match import train as T
from bot.match.approachability import ApproachabilityModel
from bot.match.features import CSV_COLUMNS, facts_from_csv
from tests.conftest import shared_data

ROOT = Path(__file__).resolve().parents[2]


def _write_csv(path: Path, n: int = 40, seed: int = 0) -> list[dict[str, str]]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        row = {"": str(i), **{c: str(int(rng.integers(0, 30))) for c in CSV_COLUMNS}}
        row["rptisnew"] = str(i % 2)
        row["proissnewratio"] = f"{rng.random() / 2:.4f}"
        row["labels"] = str(int(i % 4 == 0 or i % 7 == 0))
        rows.append(row)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows


def _last_json(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


def test_evaluate_prints_auc_n_positives_as_last_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "small.csv"
    rows = _write_csv(path)
    assert E.main(["--features", str(path)]) == 0
    result = _last_json(capsys.readouterr().out)
    assert set(result) == {"auc", "n", "positives"}
    labels = [int(r["labels"]) for r in rows]
    scores = ApproachabilityModel.load().predict([facts_from_csv(r) for r in rows])
    assert result["n"] == 40 and result["positives"] == sum(labels)
    assert result["auc"] == pytest.approx(roc_auc_score(labels, scores), abs=1e-6)


def test_evaluate_with_one_class_reports_null_auc(tmp_path: Path, capsys) -> None:
    path = tmp_path / "one.csv"
    rows = _write_csv(path, n=3)
    for row in rows:
        row["labels"] = "0"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert E.main(["--features", str(path)]) == 0
    assert _last_json(capsys.readouterr().out) == {"auc": None, "n": 3, "positives": 0}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("a,b\n1,2\n", "lacks the columns: LengthOfTitle"),
        (",".join([*CSV_COLUMNS, "labels"]) + "\n", "no data rows"),
        (",".join([*CSV_COLUMNS, "labels"]) + "\n" + ",".join(["1"] * 13 + ["2"]), "0 or 1"),
        (",".join([*CSV_COLUMNS, "labels"]) + "\n" + ",".join(["x"] * 13 + ["1"]), "non-number"),
    ],
)
def test_evaluate_bad_input_is_one_line_and_exit_1(tmp_path: Path, capsys, content, message):
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_text(content)
    assert E.main(["--features", str(path)]) == 1
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_evaluate_command_runs_on_recgfi_train_in_under_a_minute() -> None:
    data = shared_data("recgfi-train", "train_features.csv")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bot.match.evaluate", "--features", str(data)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 60
    result = _last_json(done.stdout)
    assert result["n"] == 2674 and result["positives"] == 280
    assert 0.7 < result["auc"] <= 1.0


def test_evaluate_command_missing_file_exits_1_without_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.match.evaluate", "--features", str(tmp_path / "no.csv")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: cannot read") and "Traceback" not in done.stderr


def test_train_with_missing_data_dir_exits_1(tmp_path: Path, capsys) -> None:
    assert T.main(["--data", str(tmp_path), "--out", str(tmp_path / "m.json")]) == 1
    assert "cannot read" in capsys.readouterr().err
    assert not (tmp_path / "m.json").exists()


def test_train_command_prints_report_and_writes_model(tmp_path: Path, capsys) -> None:
    data_dir = shared_data("recgfi-train", "train_features.csv").parent
    out = tmp_path / "model.json"
    assert T.main(["--data", str(data_dir), "--out", str(out), "--resamples", "20"]) == 0
    report = capsys.readouterr().out
    assert "| model |" in report and "project newcomer share" in report
    # Today's model and every candidate in the same run, pooled and per repository; the
    # shipped model is a candidate only when it beat today's.
    assert "| today's model (v1) |" in report and "| + reporter experience |" in report
    assert "mean per-repo AUC" in report and "| pandas-dev/pandas | 686 | 156 |" in report
    assert "time split + unseen repositories" in report
    chosen = ApproachabilityModel.load(out).metadata["feature_set"]
    assert f"chosen: {chosen}" in report
    assert chosen == ApproachabilityModel.load().metadata["feature_set"]
    assert ApproachabilityModel.load(out).metadata["data_sha256"].startswith("bce78d5d")
