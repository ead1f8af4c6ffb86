"""URL -> owner/repo, language tags, section -> topics."""

from __future__ import annotations

import pytest

from bot.catalog.normalize import (
    canonical_language,
    classify_url,
    name_matches_repo,
    section_topics,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/Apache/Kafka", ("github_repo", "apache/kafka")),
        ("http://www.github.com/a/b.git", ("github_repo", "a/b")),
        ("https://github.com/a/b#readme", ("github_repo", "a/b")),
        ("https://github.com/a/b/", ("github_repo", "a/b")),
        ("https://github.com/a/b?tab=readme-ov-file", ("github_repo", "a/b")),
        ("https://github.com/a/b/tree/main", ("github_repo", "a/b")),
        ("https://github.com/a/b/tree/main/sub/dir", ("github_subpath", "a/b")),
        ("https://github.com/a/b/blob/main/README.md", ("github_subpath", "a/b")),
        ("https://github.com/a", ("other", None)),
        ("https://github.com/topics/raft", ("other", None)),
        ("https://github.com/sponsors/someone", ("other", None)),
        ("https://gist.github.com/a/b", ("other", None)),
        ("https://someone.github.io/b", ("other", None)),
        ("https://gitlab.com/a/b", ("other", None)),
        ("ftp://github.com/a/b", ("other", None)),
        ("https://[broken", ("other", None)),
    ],
)
def test_classify_url(url: str, expected: tuple[str, str | None]) -> None:
    assert classify_url(url) == expected


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("Golang", "go"),
        ("GoLang", "go"),
        ("Go", "go"),
        ("C++", "c++"),
        ("cpp", "c++"),
        ("C", "c"),
        ("C#", "c#"),
        ("JS", "javascript"),
        ("Node.js", "javascript"),
        ("TypeScript", "typescript"),
        ("Python", "python"),
        ("Objective-C", "objective-c"),
        ("Book", None),
        ("Archived", None),
    ],
)
def test_canonical_language(tag: str, expected: str | None) -> None:
    assert canonical_language(tag) == expected


@pytest.mark.parametrize(
    ("section", "topics"),
    [
        ("Databases › Key-Value Databases", ["databases", "key-value"]),
        (["Databases", "Key-Value Databases"], ["databases", "key-value"]),
        (
            "Databases › Relational, SQL, NewSQL Databases",
            ["databases", "relational", "sql", "newsql"],
        ),
        ("Databases › NoSQL/Document Databases", ["databases", "nosql", "document"]),
        ("Databases › Time Series", ["databases", "time-series"]),
        ("File Systems", ["file-systems"]),
        ("Logging & Events", ["logging", "events"]),
        ("Other Resources", ["resources"]),
        ("Other", ["other"]),
        ("", []),
    ],
)
def test_section_topics(section: str | list[str], topics: list[str]) -> None:
    assert section_topics(section) == topics


@pytest.mark.parametrize(
    ("name", "repo", "matches"),
    [
        ("Apache Zookeeper", "apache/zookeeper", True),
        ("RiotSearch", "go-ego/riot", True),
        ("ZeroMQ", "zeromq/libzmq", True),
        ("Service Weaver", "serviceweaver/weaver", True),
        ("Apache Spark", "ursiform/sleuth", False),
        ("etcd", "asim/go-micro", False),
    ],
)
def test_name_matches_repo(name: str, repo: str, matches: bool) -> None:
    assert name_matches_repo(name, repo) is matches
