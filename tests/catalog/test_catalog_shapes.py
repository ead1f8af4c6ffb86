"""Awesome lists of other shapes (our own synthetic samples, scripts/make_catalog_shape_samples.py):
a homepage link first and the GitHub source after it, GFM tables, HTML `<a href>` links.
Recall and precision of the GitHub repositories found against the generator's truth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.catalog.parse import parse_awesome_list
from bot.cli.app import app

SAMPLES = Path(__file__).parent / "samples"
SHAPES = ("awesome-homepage-source", "awesome-tables", "awesome-html-links")


def scores(name: str) -> tuple[float, float, set[str], set[str]]:
    text = (SAMPLES / f"{name}.md").read_text(encoding="utf-8")
    expected = set((SAMPLES / f"{name}.expected").read_text(encoding="utf-8").split())
    found = set(parse_awesome_list(text, f"awesome-x/{name}").repositories)
    hits = found & expected
    return len(hits) / len(expected), len(hits) / max(1, len(found)), expected, found


@pytest.mark.parametrize("name", SHAPES)
def test_other_shapes_parse_with_recall_and_precision_of_98_percent(name: str) -> None:
    recall, precision, expected, found = scores(name)
    print(f"{name}: recall {recall:.3f} precision {precision:.3f} ({len(expected)} repos)")
    assert recall >= 0.98, sorted(expected - found)[:10]
    assert precision >= 0.98, sorted(found - expected)[:10]


def test_homepage_first_items_take_the_source_link_and_keep_name_and_description() -> None:
    text = (
        "# L\n\n## Stores\n\n"
        "- [Foo](https://foo.example.io) - A store. [Source Code](https://github.com/acme/foo)\n"
        "- [Bar](https://bar.example.io) ([GitHub](https://github.com/acme/bar)) - A queue.\n"
        "- [Baz](https://baz.example.io) - Uses [raft](https://github.com/hashicorp/raft).\n"
    )
    parsed = parse_awesome_list(text, "x/y")
    foo, bar, baz = parsed.entries
    assert (foo.name, foo.repo, foo.description) == ("Foo", "acme/foo", "A store.")
    assert (bar.name, bar.repo, bar.description) == ("Bar", "acme/bar", "A queue.")
    assert baz.repo is None and baz.url == "https://baz.example.io"  # a mention, not its code
    assert [link.repo for link in parsed.uncounted] == ["hashicorp/raft"]


def test_table_rows_and_html_links_become_entries_with_sections_and_languages() -> None:
    text = (
        "# L\n\n## Queues\n\n| Name | Language | About |\n|---|---|---|\n"
        "| [Qux](https://github.com/acme/qux) | Rust | A log. |\n\n"
        "## Caches\n\n"
        '<ul><li><a href="https://github.com/acme/kv">KV</a> - cache</li></ul>\n\n'
        '- <a href="https://github.com/acme/mem">Mem</a> - memory\n'
    )
    qux, kv, mem = parse_awesome_list(text, "x/y").entries
    assert (qux.name, qux.repo, qux.section, qux.language) == ("Qux", "acme/qux", "Queues", "rust")
    assert (kv.name, kv.repo, kv.section, kv.description) == ("KV", "acme/kv", "Caches", "cache")
    assert (mem.name, mem.repo, mem.description) == ("Mem", "acme/mem", "memory")


def test_catalog_show_json_reports_links_it_does_not_count(tmp_path: Path) -> None:
    path = tmp_path / "list.md"
    path.write_text(
        "# L\n\n## A\n\n- [Foo](https://github.com/acme/foo) - x\n\n"
        "Related: see the companion project over at [bar](https://github.com/acme/bar).\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["catalog", "show", "--list", str(path), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["counts"]["uncounted_links"] == 1
    assert doc["uncounted"] == [
        {"url": "https://github.com/acme/bar", "repo": "acme/bar", "line": 7, "text": "bar"}
    ]


def test_sync_summary_reports_uncounted_links() -> None:
    from bot.catalog.sync import UPDATED, ListReport

    report = ListReport("x/y", UPDATED, counts={"entries": 1, "uncounted_links": 2})
    assert "2 GitHub links in no entry" in report.summary()
