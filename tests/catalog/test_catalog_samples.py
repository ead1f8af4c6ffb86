"""Generic awesome lists in the common style (our own samples under tests/catalog/samples/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.catalog.parse import parse_awesome_list
from bot.catalog.types import ParsedList

SAMPLES = Path(__file__).parent / "samples"


def _parse(name: str, source: str) -> ParsedList:
    return parse_awesome_list((SAMPLES / name).read_text(encoding="utf-8"), source)


@pytest.fixture(scope="module")
def consensus() -> ParsedList:
    return _parse("awesome-consensus.md", "https://github.com/example-org/awesome-consensus")


@pytest.fixture(scope="module")
def observability() -> ParsedList:
    return _parse("awesome-observability.md", "obs/awesome-observability")


def test_consensus_counts(consensus: ParsedList) -> None:
    assert consensus.title == "Awesome Consensus"
    assert consensus.counts == {
        "entries": 14,
        "github_links": 10,
        "repositories": 9,
        "duplicates": 1,  # raftlite under Raft and under Paxos
        "subpaths": 1,
        "not_crawlable": 4,
        "suspect_links": 0,
        "wrong_links": 0,
        "ignored_links": 8,  # 6 TOC anchors, CONTRIBUTING issue link, code of conduct
        "uncounted_links": 0,
    }


def test_toc_badges_and_contributing_are_not_projects(consensus: ParsedList) -> None:
    urls = " ".join(e.url for e in consensus.entries)
    assert not any(e.url.startswith("#") for e in consensus.entries)  # TOC anchors
    assert "shields.io" not in urls and "awesome.re" not in urls  # badges
    assert "awesome-consensus" not in urls  # the list's own repository (Contributing)
    assert not any(
        e.section.startswith(("Contents", "Contributing", "License")) for e in consensus.entries
    )
    assert {e.name for e in consensus.entries}.isdisjoint({"Libraries", "Raft", "Contributing"})


def test_common_style_entries(consensus: ParsedList) -> None:
    by_name = {e.name: e for e in consensus.entries if e.section != "Libraries › Paxos"}
    raft = by_name["raftlite"]
    assert (raft.repo, raft.section, raft.topics) == (
        "example-org/raftlite",
        "Libraries › Raft",
        ("libraries", "raft"),
    )
    assert raft.description == "A small Raft library in Go, made for teaching."
    assert by_name["raft-rs-mini"].repo == "example-org/raft-rs-mini"  # ".git" dropped
    assert by_name["raft-rs-mini"].description == "Raft core written in Rust."  # badge dropped
    assert by_name["HashiRaftish"].repo == "someone/hashiraftish"  # www. and #readme, bold link
    assert by_name["pyraft-demo docs"].link_kind == "other"  # nested item, github.io page
    assert by_name["chaos-proxy"].description == "Inject partitions and latency between nodes."
    assert by_name["trace-viz"].description == "Visualise message traces from a cluster."
    assert by_name["linearize"].repo is None  # GitLab: kept, not crawlable


def test_duplicate_in_two_sections_keeps_both(consensus: ParsedList) -> None:
    raftlite = consensus.repositories["example-org/raftlite"]
    assert [e.section for e in raftlite] == ["Libraries › Raft", "Libraries › Paxos"]
    epaxos = next(e for e in consensus.entries if e.name == "epaxos-sim")
    assert (epaxos.link_kind, epaxos.repo) == ("github_subpath", "paxos-lab/research")


def test_setext_headings_star_bullets_and_trailing_tags(observability: ParsedList) -> None:
    assert observability.title == "Awesome Observability"
    by_name = {e.name: e for e in observability.entries}
    tiny = by_name["tinymetrics"]
    assert (tiny.language, tiny.description) == ("go", "A time-series store for small clusters.")
    assert by_name["metricflow"].language == "java"  # "(Java)" right after the link
    assert by_name["tail-sampler"].language == "c++"  # "(C++)." at the end, ordered list
    assert by_name["span-sink"].section == "Tracing › Collectors"
    assert by_name["logslice"].topics == ("logging", "events")
    pipelines = by_name["Ingest pipelines"]
    assert (pipelines.link_kind, pipelines.repo, pipelines.warning) == (
        "github_subpath",
        "logworks/logslice",
        None,
    )


def test_github_pages_that_are_not_repositories(observability: ParsedList) -> None:
    other = {e.name: e.url for e in observability.not_crawlable}
    assert set(other) == {"waterfall-tui", "Observability topic on GitHub", "@obs-lab on GitHub"}
    assert observability.counts["entries"] == 13
    assert observability.counts["repositories"] == 9
    assert observability.counts["ignored_links"] == 4  # the bullet TOC


def test_colon_in_a_name_is_kept_when_a_description_follows() -> None:
    text = (
        "## Tools\n\n"
        "- [Foo: The Bar](https://github.com/foo/bar) - Does things.\n"
        "- [MIT 6.824: Distributed Systems](https://example.edu/6.824/)\n"
    )
    first, second = parse_awesome_list(text, "x/y").entries
    assert (first.name, first.description) == ("Foo: The Bar", "Does things.")
    assert (second.name, second.description) == ("MIT 6.824", "Distributed Systems")


def test_generic_link_text_takes_the_name_before_the_link() -> None:
    text = (
        "## Tools\n\n- **Loadgen** - [GitHub](https://github.com/acme/loadgen) - Load generator.\n"
    )
    (entry,) = parse_awesome_list(text, "x/y").entries
    assert (entry.name, entry.repo, entry.description) == (
        "Loadgen",
        "acme/loadgen",
        "Load generator.",
    )
