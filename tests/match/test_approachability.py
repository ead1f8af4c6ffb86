"""The shipped approachability model: loads, scores crawled issues, rebuilds reproducibly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from bot.match import approachability as A
from bot.match import features as F
from bot.match.approachability import (
    MODEL_VERSION,
    ApproachabilityModel,
    ModelError,
    score_issues,
)
from bot.match.training import fit as T
from bot.match.training.metrics import auc
from bot.match.training.validation import time_split
from bot.store.models import Issue, Repository
from tests.conftest import shared_data

MODEL_PATH = Path(A.__file__).parent / "model" / f"{MODEL_VERSION}.json"


def _issue(id_: int, repo_id: int, **overrides) -> Issue:
    values = {
        "id": id_,
        "node_id": f"I_{id_}",
        "repository_id": repo_id,
        "number": id_,
        "title": "Add a --json flag to the status command",
        "body": "The status command prints a table; scripts need JSON. See `status.py`.",
        "url": f"https://github.com/acme/db/issues/{id_}",
        "labels": ["good first issue"],
        "comments_count": 1,
        "author_association": "MEMBER",
    }
    values.update(overrides)
    return Issue(**values)


def _repo(id_: int, **overrides) -> Repository:
    values = {"id": id_, "full_name": f"acme/r{id_}", "stars": 3000, "open_issues": 200}
    values["newcomer_share"] = 0.1
    values.update(overrides)
    return Repository(**values)


def test_shipped_model_loads_with_version_and_is_small() -> None:
    model = ApproachabilityModel.load()
    assert model.version == MODEL_VERSION
    assert set(model.features) <= set(F.FEATURE_NAMES)
    assert model.metadata["rows"] == 2674 and model.metadata["positives"] == 280
    assert MODEL_PATH.stat().st_size < 1_000_000


def test_predict_gives_one_probability_per_row_for_every_input_kind() -> None:
    model = ApproachabilityModel.load()
    issue, repo = _issue(1, 1), _repo(1)
    facts = F.facts_from_issue(issue, repo)
    by_pair = model.predict([(issue, repo), (issue, None)])
    by_facts = model.predict([facts])
    by_matrix = model.predict(F.feature_matrix([facts]))
    assert by_pair.shape == (2,)
    assert ((by_pair > 0) & (by_pair < 1)).all()
    # the same row, whichever input kind (a batched product may differ in the last bit)
    assert by_facts[0] == pytest.approx(by_pair[0], rel=1e-12)
    assert by_matrix[0] == pytest.approx(by_pair[0], rel=1e-12)
    assert model.predict([]).shape == (0,)
    with pytest.raises(TypeError):
        model.predict([42])


def test_scores_follow_the_strongest_signals() -> None:
    """A repo where newcomers often finish issues, reported by a newcomer, scores higher."""
    model = ApproachabilityModel.load()
    base = F.facts_from_issue(_issue(1, 1), _repo(1, newcomer_share=0.02))
    friendly_repo = F.facts_from_issue(_issue(1, 1), _repo(1, newcomer_share=0.4))
    newcomer_report = F.facts_from_issue(_issue(1, 1, author_association="NONE"), _repo(1))
    low, high, newcomer = model.predict([base, friendly_repo, newcomer_report])
    assert high > low
    assert newcomer > model.predict([F.facts_from_issue(_issue(1, 1), _repo(1))])[0]


def test_score_issues_keys_scores_by_issue_id() -> None:
    repos = [_repo(1, newcomer_share=0.4), _repo(2, newcomer_share=0.0)]
    issues = [_issue(10, 1), _issue(11, 2), _issue(12, 99)]  # repo 99 is unknown
    scores = score_issues(issues, repos)
    assert set(scores) == {10, 11, 12}
    assert all(0.0 < s < 1.0 for s in scores.values())
    assert scores[10] > scores[11]
    assert score_issues(issues, {r.id: r for r in repos}) == scores
    assert score_issues([], repos) == {}


def test_model_file_roundtrip_and_bad_files(tmp_path: Path) -> None:
    model = ApproachabilityModel.load()
    path = tmp_path / "m.json"
    model.save(path)
    assert ApproachabilityModel.load(path) == model
    data = json.loads(path.read_text())
    data["features"] = ["no_such_feature"]
    path.write_text(json.dumps(data))
    with pytest.raises(ModelError, match="no_such_feature"):
        ApproachabilityModel.load(path)
    path.write_text("{not json")
    with pytest.raises(ModelError):
        ApproachabilityModel.load(path)
    with pytest.raises(ModelError):
        ApproachabilityModel.load(tmp_path / "missing.json")


def test_shipped_parameters_equal_the_fitted_sklearn_pipeline() -> None:
    """The JSON scoring reproduces scikit-learn's predict_proba on the same fit."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, len(F.FEATURE_NAMES)))
    x[rng.random(x.shape) < 0.05] = np.nan
    y = (x[:, F.FEATURE_NAMES.index("reporter_newcomer")] > 0.5).astype(int)
    model = T.fit_model(x, y)
    columns = [F.FEATURE_NAMES.index(name) for name in T.MODEL_FEATURES]
    expected = T.make_pipeline().fit(x[:, columns], y).predict_proba(x[:, columns])[:, 1]
    np.testing.assert_allclose(model.predict_features(x), expected, rtol=1e-12, atol=1e-12)


def test_rank_auc_equals_sklearn() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    score = np.round(rng.random(200), 1)  # ties
    assert auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)


def test_time_split_trains_on_the_earliest_rows() -> None:
    train, test = time_split(np.array([50, 10, 40, 20, 30]), test_share=0.4)
    assert sorted(train.tolist()) == [1, 3, 4] and sorted(test.tolist()) == [0, 2]


def test_training_is_deterministic_and_reproduces_the_shipped_model(tmp_path: Path) -> None:
    data_dir = shared_data("recgfi-train", "train_features.csv").parent
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    _, report = T.train(data_dir, first, resamples=30)
    T.train(data_dir, second, resamples=30)
    assert first.read_bytes() == second.read_bytes()
    trained, shipped = ApproachabilityModel.load(first), ApproachabilityModel.load()
    # Same machine: same bytes. Against the shipped model only the last float digits may differ
    # (BLAS builds round differently).
    assert (trained.features, trained.version) == (shipped.features, shipped.version)
    for name in ("impute", "mean", "scale", "coef"):
        np.testing.assert_allclose(
            getattr(trained, name), getattr(shipped, name), rtol=1e-9, atol=1e-9, err_msg=name
        )
    assert trained.intercept == pytest.approx(shipped.intercept, rel=1e-9, abs=1e-9)
    assert "grouped 5-fold" in report and "time split by issue_id" in report
    assert "stars only" in report and "untuned average" in report


def test_store_rows_from_a_join_can_be_scored(session) -> None:
    """`select(Issue, Repository)` rows go straight into predict()."""
    from sqlmodel import select

    session.add(_repo(1, newcomer_share=0.3))
    session.commit()
    session.add(_issue(5, 1, author_association="NONE"))
    session.commit()
    rows = session.exec(select(Issue, Repository).join(Repository)).all()
    model = ApproachabilityModel.load()
    scores = model.predict(rows)
    assert scores.shape == (1,)
    issue, repo = rows[0]
    assert scores[0] == model.predict([(issue, repo)])[0]


def test_bootstrap_is_seeded_and_brackets_the_estimate() -> None:
    from bot.match.training.validation import baseline_scores, bootstrap_aucs

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    groups = rng.integers(0, 12, 300)
    scores = {"good": y + rng.normal(0, 1, 300), "noise": rng.random(300)}
    first = bootstrap_aucs(y, scores, groups, resamples=200, differences=[("good", "noise")])
    assert first == bootstrap_aucs(
        y, scores, groups, resamples=200, differences=[("good", "noise")]
    )
    for interval in first.values():
        assert interval.low <= interval.auc <= interval.high
    assert first["good − noise"].low > 0  # a real signal beats noise
    x = np.zeros((4, len(F.FEATURE_NAMES)))
    x[:, F.FEATURE_NAMES.index("repo_stars_log")] = [1, 2, 3, 4]
    average = baseline_scores(x)["untuned average of ranks"]
    assert ((average >= 0) & (average <= 1)).all() and np.all(np.diff(average) > 0)
