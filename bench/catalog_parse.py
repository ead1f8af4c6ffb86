"""Benchmark: parse the seed awesome list 1,000 times; entries per second.

Usage: uv run python bench/catalog_parse.py [--repeat N]
Reads ../shared/data/awesome-distributed-system-projects/README.md (beside the project).
Also reports how much of the time markdown-it-py's tokenizer itself takes and how much the
memo caches help when the same list is parsed again (all measured in the same run).
Last line: one JSON object, e.g. {"entries_per_s": 25000.0, ...}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from markdown_it import MarkdownIt

from bot.catalog.normalize import clear_caches
from bot.catalog.parse import parse_awesome_list

SEED = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "awesome-distributed-system-projects"
    / "README.md"
)
SOURCE = "roma-glushko/awesome-distributed-system-projects"


def main() -> int:
    """Run the benchmark and print the results; 1 when the seed list is missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1000, help="parses to time (default 1000)")
    args = parser.parse_args()
    if not SEED.is_file():
        print(
            f"seed list not found: {SEED}\n"
            "clone the project with ../shared/data beside it to run this benchmark",
            file=sys.stderr,
        )
        return 1
    text = SEED.read_text(encoding="utf-8")
    entries = len(parse_awesome_list(text, SOURCE).entries)  # warm-up

    # Three phases, interleaved in 10 rounds so that load from other processes hits them alike:
    # cold parses (memo caches emptied before every parse: a list seen for the first time),
    # warm parses (caches kept), and markdown-it-py's tokenizer alone.
    md = MarkdownIt("commonmark")
    rounds = 10
    per_round = max(1, args.repeat // rounds)
    parse_s = warm_s = tokenize_s = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(per_round):
            clear_caches()
            parse_awesome_list(text, SOURCE)
        parse_s += time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(per_round):
            parse_awesome_list(text, SOURCE)
        warm_s += time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(per_round):
            md.parse(text)
        tokenize_s += time.perf_counter() - start
    args.repeat = rounds * per_round

    entries_per_s = entries * args.repeat / parse_s
    result = {
        "entries_per_s": round(entries_per_s, 1),
        "lists_per_s": round(args.repeat / parse_s, 1),
        "ms_per_list": round(parse_s / args.repeat * 1000, 3),
        "entries_per_list": entries,
        "repeat": args.repeat,
        "tokenizer_share": round(tokenize_s / parse_s, 3),
        "warm_speedup": round(parse_s / warm_s, 3),
    }
    print(f"seed list: {len(text):,} bytes, {entries} entries, parsed {args.repeat} times")
    print(f"parse:     {parse_s:.2f} s ({result['ms_per_list']} ms per list)")
    print(f"entries/s: {entries_per_s:,.0f}")
    print(f"markdown-it tokenizing alone takes {result['tokenizer_share']:.0%} of the parse time")
    print(f"cold / warm parse time (memo caches kept between parses): {result['warm_speedup']:.2f}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
