"""The feature code gives the same numbers for a crawled issue and for the equivalent CSV row."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from bot.match import features as F
from bot.store.models import Issue, Repository

BODY = (
    "The `--verbose` flag is ignored, see https://example.org/docs/flags and "
    "[the log](https://example.org/log).\n\n```python\nrun(verbose=True)\n```\n"
)


def _issue(**overrides) -> Issue:
    values = {
        "node_id": "I_1",
        "repository_id": 1,
        "number": 7,
        "title": "Verbose flag ignored by run",
        "body": BODY,
        "url": "https://github.com/acme/db/issues/7",
        "labels": ["good first issue", "Type: Bug", "area/docs", "help wanted"],
        "comments_count": 3,
        "author_association": "FIRST_TIME_CONTRIBUTOR",
    }
    values.update(overrides)
    return Issue(**values)


def _repo(**overrides) -> Repository:
    values = {"id": 1, "full_name": "acme/db", "stars": 1200, "open_issues": 85}
    values["newcomer_share"] = 0.25
    values.update(overrides)
    return Repository(**values)


def _csv_row(**overrides) -> dict[str, str]:
    """The RecGFI row an equivalent issue would have (other columns are ignored)."""
    row = {
        "LengthOfTitle": "5",
        "LengthOfDescription": str(len(BODY.split())),
        "NumOfUrls": "2",
        "NumOfCode": "2",
        "lc0": "1",
        "lc1": "1",
        "lc4": "1",
        "lc12": "4",
        "commentnum": "3",
        "rptisnew": "1",
        "pro_star": "1200",
        "openiss": "85",
        "proissnewratio": "0.25",
        "NumOfPics": "0",
        "labels": "1",
    }
    row.update(overrides)
    return row


def test_crawled_issue_and_csv_row_give_identical_features() -> None:
    from_issue = F.facts_from_issue(_issue(), _repo())
    from_csv = F.facts_from_csv(_csv_row())
    assert from_issue == from_csv
    np.testing.assert_array_equal(F.feature_matrix([from_issue]), F.feature_matrix([from_csv]))


def test_maintainer_reported_issue_matches_csv_row_without_newcomer_flag() -> None:
    issue = _issue(author_association="MEMBER", labels=["enhancement"], comments_count=0)
    row = _csv_row(rptisnew="0", lc0="0", lc1="0", lc4="0", lc12="1", commentnum="0")
    assert F.feature_dict(F.facts_from_issue(issue, _repo())) == F.feature_dict(
        F.facts_from_csv(row)
    )


def test_every_family_contributes_named_features() -> None:
    names = [name for family in F.FAMILIES for name in family(F.facts_from_csv(_csv_row()))]
    assert tuple(names) == F.FEATURE_NAMES
    assert len(set(names)) == len(names)


def test_text_statistics_count_words_links_and_code() -> None:
    assert F.count_words("Fix  the\ttypo\n") == 3
    assert F.count_words(None) == 0
    assert F.count_urls(BODY) == 2
    assert F.count_code(BODY) == 2  # one inline span, one fenced block
    assert F.count_code("    indented code\n\nand `x` and `y`") == 3
    assert F.count_code("") == 0


def test_label_names_fall_into_recgfi_categories() -> None:
    counts = F.label_counts(
        ["good first issue", "E-easy", "difficulty/easy", "first-timers-only", "help wanted"]
    )
    assert counts == {"gfi": 4, "bug": 0, "docs": 0, "total": 5}
    assert F.label_counts(["Type: Bug", "kind/bug", "regression"])["bug"] == 3
    assert F.label_counts(["documentation", "area/docs", "enhancement"])["docs"] == 2
    assert F.label_counts(None)["total"] == 0
    assert F.label_counts(["debugger", "docker"]) == {"gfi": 0, "bug": 0, "docs": 0, "total": 2}


def test_author_association_maps_to_reporter_is_newcomer() -> None:
    for value in ("NONE", "FIRST_TIMER", "FIRST_TIME_CONTRIBUTOR", "first_timer"):
        assert F.reporter_is_newcomer(value) == 1.0
    for value in ("CONTRIBUTOR", "COLLABORATOR", "MEMBER", "OWNER"):
        assert F.reporter_is_newcomer(value) == 0.0
    assert math.isnan(F.reporter_is_newcomer(None))
    assert math.isnan(F.reporter_is_newcomer("SOMETHING_NEW"))


def test_unknown_repository_and_newcomer_share_become_missing_not_zero() -> None:
    facts = F.facts_from_issue(_issue(author_association=None), None)
    values = F.feature_dict(facts)
    for name in ("reporter_newcomer", "repo_stars_log", "repo_newcomer_share_sqrt"):
        assert math.isnan(values[name]), name
    share = F.feature_dict(F.facts_from_issue(_issue(), _repo(newcomer_share=None)))
    assert math.isnan(share["repo_newcomer_share_sqrt"])


def test_issue_rows_may_be_plain_dicts() -> None:
    issue = _issue().model_dump()
    repo = _repo().model_dump()
    assert F.facts_from_issue(issue, repo) == F.facts_from_issue(_issue(), _repo())


words = st.lists(st.text(alphabet="abcxyz019", min_size=1, max_size=8), max_size=40)


@given(
    title=words.filter(bool),
    body=words,
    comments=st.integers(0, 500),
    stars=st.integers(0, 300_000),
    open_issues=st.integers(0, 90_000),
    share=st.floats(0, 1),
    association=st.sampled_from(sorted(F.KNOWN_ASSOCIATIONS)),
)
def test_any_plain_issue_matches_its_csv_row(
    title, body, comments, stars, open_issues, share, association
) -> None:
    issue = _issue(
        title=" ".join(title),
        body=" ".join(body),
        labels=[],
        comments_count=comments,
        author_association=association,
    )
    repo = _repo(stars=stars, open_issues=open_issues, newcomer_share=share)
    row = _csv_row(
        LengthOfTitle=str(len(title)),
        LengthOfDescription=str(len(body)),
        NumOfUrls="0",
        NumOfCode="0",
        lc0="0",
        lc1="0",
        lc4="0",
        lc12="0",
        commentnum=str(comments),
        rptisnew=str(int(association in F.NEWCOMER_ASSOCIATIONS)),
        pro_star=str(stars),
        openiss=str(open_issues),
        proissnewratio=repr(share),
    )
    np.testing.assert_array_equal(
        F.feature_matrix([F.facts_from_issue(issue, repo)]),
        F.feature_matrix([F.facts_from_csv(row)]),
    )


@given(
    title=st.text(max_size=200),
    body=st.one_of(st.none(), st.text(max_size=2000)),
    labels=st.one_of(st.none(), st.lists(st.text(max_size=40), max_size=10)),
    association=st.one_of(st.none(), st.text(max_size=30)),
)
def test_any_crawled_text_gives_finite_text_and_label_features(
    title, body, labels, association
) -> None:
    """Titles, bodies and labels are attacker-controlled: never crash, never produce NaN/inf."""
    facts = F.facts_from_issue(
        {"title": title, "body": body, "labels": labels, "author_association": association},
        {"stars": 10, "open_issues": 3, "newcomer_share": 0.5},
    )
    values = F.feature_dict(facts)
    for name in ("title_words_log", "body_words_log", "body_urls", "body_code", "labels_total"):
        assert math.isfinite(values[name]) and values[name] >= 0
    assert values["labels_total"] == min(len(labels or []), 15)


def test_reporter_and_project_history_match_their_recgfi_columns() -> None:
    """The issue-21 facts: a Reporter row and the repository's history read like RecGFI's
    rptfoll/rptallpr/rptalliss/rptallcmt/rptpronum and clsisst/contributornum/proclspr/
    proissnewnum columns, so training and serving compute the same features."""
    reporter = {"followers": 12, "pull_requests": 0, "issues": 4, "commits": 30, "repositories": 2}
    repo = _repo(
        contributors_count=140,
        closed_prs_count=2100,
        closed_issues_count=400,
        close_hours_median=72.0,
    )
    row = _csv_row(
        rptfoll="12",
        rptallpr="0",
        rptalliss="4",
        rptallcmt="30",
        rptpronum="2",
        clsisst="72",
        contributornum="140",
        proclspr="2100",
        proissnewnum="100",  # 0.25 of 400 closed issues
    )
    from_issue = F.facts_from_issue(_issue(), repo, reporter)
    assert from_issue == F.facts_from_csv(row)
    features = F.feature_dict(from_issue)
    assert features["reporter_no_prs"] == 1.0
    assert features["reporter_followers_log"] == math.log1p(12)
    assert features["repo_newcomer_issues_log"] == math.log1p(100)


def test_unlooked_up_reporter_and_old_csv_files_leave_the_new_facts_unknown() -> None:
    facts = F.facts_from_issue(_issue(), _repo())
    assert facts == F.facts_from_csv(_csv_row())  # a RecGFI file without the new columns
    features = F.feature_dict(facts)
    for name in ("reporter_no_prs", "reporter_prs_log", "repo_close_hours_log"):
        assert math.isnan(features[name])
