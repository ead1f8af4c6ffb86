"""The synonym/taxonomy table: what members type and what lists/GitHub say -> canonical terms."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import load_settings
from bot.match.taxonomy import (
    TaxonomyError,
    build_taxonomy,
    default_taxonomy_text,
    get_taxonomy,
    load_taxonomy,
    normalize_stack,
)


@pytest.mark.parametrize(
    ("typed", "term"),
    [
        ("pg", "postgresql"),
        ("Postgres", "postgresql"),
        ("PostgreSQL", "postgresql"),
        ("golang", "go"),
        ("k8s", "kubernetes"),
        ("kv", "key-value"),
        ("Key Value", "key-value"),
        ("cpp", "c++"),
        ("C++", "c++"),
        ("js", "javascript"),
        ("ts", "typescript"),
        ("Rust", "rust"),
        ("Java", "java"),
        ("scala", "scala"),
        ("erlang", "erlang"),
        ("Elixir", "elixir"),
        ("raft", "raft"),
        ("storage engines", "storage"),
    ],
)
def test_synonyms_map_to_one_canonical_term(typed: str, term: str) -> None:
    stack = normalize_stack(typed)
    assert term in {**stack.languages, **stack.topics}
    assert stack.unknown == []


def test_a_typed_stack_splits_into_languages_topics_and_unknown_words() -> None:
    stack = normalize_stack("Python, pg and k8s; raft/paxos, banana")
    assert stack.languages == {"python": 1.0}
    assert stack.topics == {"postgresql": 1.0, "kubernetes": 1.0, "raft": 1.0, "paxos": 1.0}
    assert stack.unknown == ["banana"]


def test_space_separated_words_are_matched_longest_first() -> None:
    stack = normalize_stack("I like go and key value stores")
    assert stack.languages == {"go": 1.0}
    assert "key-value" in stack.topics


def test_terms_expand_to_their_parents_with_lower_weight() -> None:
    taxonomy = get_taxonomy()
    expanded = taxonomy.expand({"postgresql": 1.0})
    assert expanded["postgresql"] == 1.0
    assert 0 < expanded["databases"] < expanded["sql-databases"] < 1.0
    assert taxonomy.expand({"raft": 1.0})["consensus"] == taxonomy.parent_weight
    assert "consensus" in taxonomy.expand({"paxos": 1.0})


def test_catalog_sections_and_repo_topics_use_the_same_terms() -> None:
    taxonomy = get_taxonomy()
    assert taxonomy.section_terms("Databases › Key-Value Databases") == ["databases", "key-value"]
    assert taxonomy.section_terms("Databases › Relational, SQL, NewSQL Databases") == [
        "databases",
        "sql-databases",
    ]
    assert taxonomy.section_terms("Queues") == ["messaging"]
    assert taxonomy.repo_topic_terms(["raft", "distributed-database", "hacktoberfest"]) == [
        "raft",
        "databases",
        "distributed-systems",
    ]
    assert taxonomy.language("Golang") == "go"
    assert taxonomy.language("Jupyter Notebook") == "python"
    assert taxonomy.language("Makefile") is None


def test_every_section_of_the_awesome_list_maps_to_a_term() -> None:
    from tests.conftest import shared_data

    readme = shared_data("awesome-distributed-system-projects", "README.md").read_text()
    headings = [
        line.lstrip("#").strip() for line in readme.splitlines() if line.startswith(("## ", "### "))
    ]
    unmapped = [h for h in headings if not get_taxonomy().section_terms(h)]
    assert unmapped == ["Other Resources"]


def test_the_bot_works_without_the_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("bot.config.settings.PROJECT_ROOT", tmp_path)
    get_taxonomy.cache_clear()
    try:
        taxonomy = get_taxonomy()
        assert taxonomy.source == "bot/match/taxonomy.toml"
        assert taxonomy.parse("golang").languages == {"go": 1.0}
    finally:
        get_taxonomy.cache_clear()


def test_an_operator_can_point_at_an_edited_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "taxonomy.toml"
    path.write_text(
        default_taxonomy_text().replace('aliases = ["golang"]', 'aliases = ["golang", "gopher"]')
    )
    monkeypatch.setenv("MATCHMAKER_TAXONOMY", str(path))
    assert load_settings().taxonomy_file == path
    get_taxonomy.cache_clear()
    try:
        assert get_taxonomy().parse("gopher").languages == {"go": 1.0}
        assert get_taxonomy().source == str(path)
    finally:
        get_taxonomy.cache_clear()


def test_the_catalog_spells_languages_as_the_taxonomy_does() -> None:
    from bot.catalog.normalize import _LANGUAGES

    taxonomy = get_taxonomy()
    for tag, spellings in _LANGUAGES.items():
        known = {term for spelling in spellings for term in taxonomy.parse(spelling).languages}
        assert known <= {tag}, f"catalog says {tag!r}, taxonomy says {sorted(known)}"
    assert taxonomy.parse("cpp").languages == {"c++": 1.0}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"topics": {"a": {"aliases": ["x"]}, "b": {"aliases": ["x"]}}}, "already means"),
        ({"topics": {"a": {"parents": ["nope"]}}}, "unknown parent"),
        ({"topics": {"a": {}}, "sections": {"s": ["nope"]}}, "unknown term"),
        ({"topics": {"a": {"aliases": "x"}}}, "list of strings"),
        ({"parent_weight": 3}, "parent_weight"),
    ],
)
def test_a_broken_table_is_rejected_with_the_entry_named(data: dict, message: str) -> None:
    with pytest.raises(TaxonomyError, match=message):
        build_taxonomy(data, "t.toml")


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[topics\n")
    with pytest.raises(TaxonomyError, match=r"bad\.toml: invalid TOML"):
        load_taxonomy(path)


@given(st.text(max_size=200))
def test_parsing_any_text_returns_only_canonical_terms(text: str) -> None:
    taxonomy = get_taxonomy()
    stack = taxonomy.parse(text)
    assert all(taxonomy.kinds[t] == "language" for t in stack.languages)
    assert all(taxonomy.kinds[t] == "topic" for t in stack.topics)
    assert all(w == 1.0 for w in [*stack.languages.values(), *stack.topics.values()])
