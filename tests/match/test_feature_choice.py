"""Choosing features by grouped validation: per-repository AUC, paired repository bootstrap, and
a candidate ships only when it beats today's model beyond the noise."""

from __future__ import annotations

import numpy as np
import pytest

from bot.match.training import fit
from bot.match.training.validation import compare, per_repo_aucs


def _data(seed: int = 0, repos: int = 30, per_repo: int = 40):
    rng = np.random.default_rng(seed)
    groups = np.repeat([f"o/r{i}" for i in range(repos)], per_repo)
    signal = rng.normal(size=len(groups))
    y = (signal + rng.normal(scale=0.8, size=len(groups)) > 1.0).astype(int)
    return y, signal, groups, rng


def test_per_repo_auc_skips_repositories_with_one_class() -> None:
    y = np.array([0, 1, 0, 1, 0, 0])
    score = np.array([0.1, 0.9, 0.8, 0.2, 0.5, 0.4])
    groups = np.array(["a", "a", "b", "b", "c", "c"])
    assert per_repo_aucs(y, score, groups) == {"a": 1.0, "b": 0.0}


def test_a_clearly_better_score_beats_the_reference_and_noise_does_not() -> None:
    y, signal, groups, rng = _data()
    weak = signal + rng.normal(scale=2.0, size=len(y))
    jitter = weak + rng.normal(scale=1e-3, size=len(y))  # the same model, different rounding
    result = compare(
        y, {"ref": weak, "better": signal, "same": jitter}, groups, "ref", resamples=200
    )
    better, same = result["better"], result["same"]
    assert better.pooled_gain.low > 0 and better.per_repo_gain.auc > 0 and better.beats_reference
    assert not same.beats_reference
    assert same.pooled_gain.low <= 0 <= same.pooled_gain.high
    assert better.per_repo.low <= better.per_repo.auc <= better.per_repo.high
    assert set(better.repos) <= set(groups)


def test_choose_keeps_todays_model_unless_a_candidate_beats_it() -> None:
    y, signal, groups, rng = _data(seed=1)
    noisy = signal + rng.normal(scale=2.0, size=len(y))
    tied = compare(y, {fit.REFERENCE: signal, "other": noisy}, groups, fit.REFERENCE, resamples=100)
    assert fit.choose(tied) == fit.REFERENCE
    won = compare(y, {fit.REFERENCE: noisy, "other": signal}, groups, fit.REFERENCE, resamples=100)
    assert fit.choose(won) == "other"


@pytest.mark.parametrize("name", list(fit.CANDIDATES))
def test_every_candidate_extends_todays_features(name: str) -> None:
    assert fit.CANDIDATES[name][: len(fit.MODEL_FEATURES)] == fit.MODEL_FEATURES
