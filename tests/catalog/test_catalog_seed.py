"""The seed list (roma-glushko/awesome-distributed-system-projects), all five stored versions.

Expected counts were verified by hand, independently of the parser: for each file,
`grep -cE '^\\s*[-*+] .*\\]\\(https?://'` counts linked list items (= entries, one link per line);
the link URLs cut out with sed and filtered with `grep -E '^https?://(www\\.)?github\\.com/'`
give the GitHub links; reduced to owner/repo, lower-cased, `sort -u | wc -l` gives the distinct
repositories and `uniq -d` names the duplicates (HEAD: filodb/filodb and ceresdb/ceresdb, both
twice in "Time Series"; 41ac7bc and 574c11f: ursiform/sleuth, linked by "sleuth" and by
"Apache Spark"). The four non-GitHub links at HEAD were read off the "Other Resources" section.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.catalog.parse import parse_awesome_list
from bot.catalog.types import ParsedEntry, ParsedList
from tests.conftest import shared_data

SOURCE = "roma-glushko/awesome-distributed-system-projects"

# file -> (entries, GitHub links, distinct repositories, duplicates, non-GitHub links)
EXPECTED = {
    "README.md": (141, 137, 135, 2, 4),
    "history/readme.824ae8a.md": (32, 32, 32, 0, 0),
    "history/readme.5a74c26.md": (35, 35, 35, 0, 0),
    "history/readme.41ac7bc.md": (59, 59, 58, 1, 0),
    "history/readme.574c11f.md": (67, 67, 66, 1, 0),
}


def _parse(name: str) -> ParsedList:
    path: Path = shared_data("awesome-distributed-system-projects", *name.split("/"))
    return parse_awesome_list(path.read_text(encoding="utf-8"), SOURCE)


def _one(parsed: ParsedList, name: str, section: str | None = None) -> ParsedEntry:
    found = [
        e for e in parsed.entries if e.name == name and (section is None or e.section == section)
    ]
    assert len(found) == 1, [(e.name, e.section) for e in found]
    return found[0]


@pytest.fixture(scope="module")
def head() -> ParsedList:
    return _parse("README.md")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_version_has_the_hand_counted_numbers(name: str) -> None:
    entries, github, repos, duplicates, other = EXPECTED[name]
    counts = _parse(name).counts
    assert counts["entries"] == entries
    assert counts["github_links"] == github
    assert counts["repositories"] == repos
    assert counts["duplicates"] == duplicates
    assert counts["not_crawlable"] == other
    assert counts["ignored_links"] == 0


def test_head_non_github_links_are_kept_and_reported(head: ParsedList) -> None:
    hosts = sorted(e.url.split("/")[2] for e in head.not_crawlable)
    assert hosts == ["build-your-own.org", "cstack.github.io", "ocw.mit.edu", "sites.google.com"]
    assert all(e.repo is None and e.link_kind == "other" for e in head.not_crawlable)
    book = _one(head, "Build Your Own Redis with C/C++")
    assert (book.language, book.tags, book.section) == ("c", ("c++", "book"), "Other Resources")


def test_head_sections_and_topics(head: ParsedList) -> None:
    tikv = _one(head, "TiKV")
    assert tikv.section == "Databases › Key-Value Databases"
    assert tikv.topics == ("databases", "key-value")
    assert tikv.language == "rust"
    cockroach = _one(head, "CockroachDB")
    assert cockroach.topics == ("databases", "relational", "sql", "newsql")
    assert _one(head, "Kafka").topics == ("streaming",)


def test_head_language_tag_variants_are_normalised(head: ParsedList) -> None:
    assert _one(head, "Dapr").language == "go"  # "(GoLang)"
    assert _one(head, "Jocko").language == "go"  # "(Golang)"
    assert _one(head, "KeyDB").language == "c++"  # "(C++)"
    assert _one(head, "LiteDB").language == "c#"  # "(C#)"
    assert _one(head, "FlexSearch").language == "javascript"  # "(JS)"
    assert _one(head, "awesome-scalability").language is None  # no tag at all


def test_head_brackets_inside_link_text(head: ParsedList) -> None:
    jocko = _one(head, "Jocko")
    assert jocko.repo == "travisjeffery/jocko"
    assert jocko.description == "a Kafka/distributed commit log service in Go."
    assert jocko.topics == ("databases", "serf", "raft")  # "[Serf + Raft]"
    oklog = _one(head, "oklog")
    assert "archived" in oklog.tags and "archived" not in oklog.topics


def test_head_text_after_the_link_and_no_dash_separator(head: ParsedList) -> None:
    couch = _one(head, "CouchDB")
    assert couch.description is not None
    assert couch.description.endswith(
        "Supports master-master setups with automatic conflict detection."
    )
    summit = _one(head, "summitdb")  # "…(url).It supports custom indexes"
    assert summit.description is not None and ". It supports custom indexes" in summit.description
    ydb = _one(head, "YDB")  # "YDB is an open-source Distributed SQL Database …"
    assert ydb.repo == "ydb-platform/ydb"
    assert ydb.description is not None and ydb.description.startswith("an open-source")
    orbit = _one(head, "orbit")  # "[ orbit - …]": leading space inside the link text
    assert orbit.language == "kotlin"


def test_head_tree_subpaths(head: ParsedList) -> None:
    requiem = _one(head, "requiemdb")  # …/requiemdb/tree/main is the repository itself
    assert (requiem.link_kind, requiem.repo) == ("github_repo", "gernest/requiemdb")
    gateway = _one(head, "MLFLow Gateway")  # …/mlflow/tree/master/mlflow/gateway
    assert (gateway.link_kind, gateway.repo) == ("github_subpath", "mlflow/mlflow")


def test_head_duplicates_become_one_repository(head: ParsedList) -> None:
    repos = head.repositories
    assert [e.name for e in repos["filodb/filodb"]] == ["FiloDB", "FiloDB"]
    assert [e.name for e in repos["ceresdb/ceresdb"]] == ["ceresdb", "CeresDB"]  # case differs


def test_head_suspect_names_are_flagged_but_kept(head: ParsedList) -> None:
    suspects = sorted((e.name, e.repo) for e in head.entries if e.warning)
    assert suspects == [("GlusterFS", "lizardfs/lizardfs"), ("etcd", "asim/go-micro")]
    assert not any(e.wrong_link for e in head.entries)
    assert _one(head, "Apache Spark").repo == "apache/spark"


def test_tag_inside_link_text_824ae8a() -> None:
    parsed = _parse("history/readme.824ae8a.md")
    etcd = _one(parsed, "etcd", "Key-Value Storages")
    assert (etcd.language, etcd.repo) == ("go", "etcd-io/etcd")
    assert etcd.topics == ("key-value-storages", "raft", "grpc")
    assert etcd.description is not None and etcd.description.startswith("distributed reliable")
    lizard = [e for e in parsed.entries if e.repo == "lizardfs/lizardfs"]  # text after the link
    assert [(e.name, e.language) for e in lizard] == [("GlusterFS", "c++")]
    assert lizard[0].description is not None
    assert lizard[0].description.endswith("visible to an end user as a single file system.")


def test_mixed_tag_positions_5a74c26() -> None:
    parsed = _parse("history/readme.5a74c26.md")
    assert _one(parsed, "Jocko").language == "go"  # tag outside the link
    assert _one(parsed, "nsq").language == "go"  # tag inside the link
    harvey = _one(parsed, "HarveyOS")  # "(C)[HarveyOS - …](…)": no space before the link
    assert (harvey.language, harvey.repo, harvey.section) == ("c", "harvey-os/harvey", "OS")
    assert {e.language for e in parsed.entries} >= {"go", "java", "python", "erlang", "c++"}


def test_heading_right_after_list_item_and_wrong_spark_link_41ac7bc() -> None:
    parsed = _parse("history/readme.41ac7bc.md")
    memcached = _one(parsed, "memcached")  # the line right before "## Locking"
    assert memcached.section == "Databases"
    assert memcached.description is not None and "Locking" not in memcached.description
    locking = [e.name for e in parsed.entries if e.section == "Locking"]
    assert locking == ["etcd", "Apache Zookeeper", "chubby"]
    spark = _one(parsed, "Apache Spark")
    assert (spark.repo, spark.section, spark.wrong_link) == (
        "ursiform/sleuth",
        "Data Processing",
        True,
    )
    assert spark.warning is not None and "wrong link" in spark.warning
    sleuth = _one(parsed, "sleuth")
    assert not sleuth.wrong_link and sleuth.warning is None
    assert parsed.counts["wrong_links"] == 1


def test_subsections_574c11f() -> None:
    parsed = _parse("history/readme.574c11f.md")
    sections = list(
        dict.fromkeys(e.section for e in parsed.entries if e.section.startswith("Data"))
    )
    assert sections == [
        "Databases",
        "Databases › Key-Value Database",
        "Databases › Relational/SQL Databases",
        "Databases › NoSQL/Document Databases",
        "Databases › Graph Databases",
        "Databases › Time Series",
        "Data Processing",
    ]
    assert _one(parsed, "redis").topics == ("databases", "key-value")
    assert _one(parsed, "CockroachDB").topics == ("databases", "relational", "sql")
    assert _one(parsed, "Apache Spark").wrong_link


def test_every_version_gives_every_entry_a_name_and_url() -> None:
    for name in EXPECTED:
        for entry in _parse(name).entries:
            assert entry.name and entry.url.startswith("https://")
            assert "(" not in entry.name[:1], entry  # no tag left in the name
            assert entry.line is not None
