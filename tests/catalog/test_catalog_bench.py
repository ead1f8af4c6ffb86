"""bench/catalog_parse.py runs and ends with one JSON object (a smoke test, not a timing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import shared_data

BENCH = Path(__file__).resolve().parents[2] / "bench" / "catalog_parse.py"


def test_bench_prints_entries_per_second_as_json_last() -> None:
    shared_data("awesome-distributed-system-projects", "README.md")
    done = subprocess.run(
        [sys.executable, str(BENCH), "--repeat", "10"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    last = json.loads(done.stdout.strip().splitlines()[-1])
    assert last["entries_per_s"] > 0
    assert last["entries_per_list"] == 141 and last["repeat"] == 10
