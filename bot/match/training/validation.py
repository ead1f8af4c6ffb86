"""Honest validation of the approachability model: unseen repositories and unseen (later) issues.

Needs scikit-learn (the ``train`` dependency group); imported only by ``python -m bot.match.train``.

* Grouped folds: GroupKFold by ``repo_owner/repo_name``; every repository is scored by a model
  that never saw any of its issues (the bot always scores repositories outside the training data).
* Time split: train on the earliest issues, test on the latest. The data's ``issue_id`` grows with
  the issue's creation time (it is monotonic in the issue number within each repository), so it
  orders issues in time; the upstream row order is also reported, but its meaning is unverified.

ROC-AUC intervals come from a cluster bootstrap that resamples whole repositories (rows of one
repository are not independent), paired across the model and the baselines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import GroupKFold

from bot.match.features import FEATURE_NAMES
from bot.match.training.metrics import auc, average_ranks

Fit = Callable[[np.ndarray, np.ndarray], Callable[[np.ndarray], np.ndarray]]

#: Signals of the untuned baseline: the strongest single signals, averaged as percentile ranks.
AVERAGE_SIGNALS = ("repo_newcomer_share_sqrt", "reporter_newcomer", "repo_stars_log", "label_gfi")


@dataclass(frozen=True)
class Interval:
    """A ROC-AUC with its bootstrap 95% interval."""

    auc: float
    low: float
    high: float

    def __str__(self) -> str:
        return (
            f"{self.auc:+.3f} [{self.low:+.3f}, {self.high:+.3f}]"
            if self.low < 0
            else (f"{self.auc:.3f} [{self.low:.3f}, {self.high:.3f}]")
        )


def grouped_oof(x: np.ndarray, y: np.ndarray, groups: np.ndarray, fit: Fit, folds: int = 5):
    """Out-of-fold probabilities with whole repositories held out (GroupKFold)."""
    oof = np.zeros(len(y), dtype=np.float64)
    for train, test in GroupKFold(n_splits=folds).split(x, y, groups):
        oof[test] = fit(x[train], y[train])(x[test])
    return oof


def grouped_time_oof(
    x: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    order: np.ndarray,
    fit: Fit,
    *,
    folds: int = 5,
    test_share: float = 0.2,
) -> tuple[np.ndarray, np.ndarray]:
    """Both at once: train on the earliest rows of some repositories, score the latest rows of
    the held-out ones. Returns the scored row indices and their probabilities."""
    train_rows, _ = time_split(order, test_share)
    early = np.zeros(len(y), dtype=bool)
    early[train_rows] = True
    index, scores = [], []
    for train, test in GroupKFold(n_splits=folds).split(x, y, groups):
        train, test = train[early[train]], test[~early[test]]
        if len(test):
            index.append(test)
            scores.append(fit(x[train], y[train])(x[test]))
    return np.concatenate(index), np.concatenate(scores)


def time_split(order: np.ndarray, test_share: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the earliest (train) and latest (test) rows by the sort key `order`."""
    ranked = np.argsort(order, kind="stable")
    cut = round(len(ranked) * (1.0 - test_share))
    return ranked[:cut], ranked[cut:]


def percentile_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks scaled to [0, 1] (ties averaged); NaN counts as the middle, 0.5."""
    out = np.full(len(values), 0.5)
    known = ~np.isnan(values)
    if known.sum() > 1:
        out[known] = (average_ranks(values[known]) - 1) / (known.sum() - 1)
    return out


def baseline_scores(x: np.ndarray) -> dict[str, np.ndarray]:
    """Untrained baseline scores for rows of a full feature matrix."""
    column = {name: x[:, i] for i, name in enumerate(FEATURE_NAMES)}
    average = np.mean([percentile_ranks(column[name]) for name in AVERAGE_SIGNALS], axis=0)
    return {
        "stars only": column["repo_stars_log"],
        "GFI label only": column["label_gfi"],
        "project newcomer share": np.nan_to_num(column["repo_newcomer_share_sqrt"]),
        "untuned average of ranks": average,
    }


def bootstrap_aucs(
    y: np.ndarray,
    scores: Mapping[str, np.ndarray],
    groups: np.ndarray,
    *,
    resamples: int = 1000,
    seed: int = 0,
    differences: Sequence[tuple[str, str]] = (),
) -> dict[str, Interval]:
    """AUC of each score with a 95% cluster-bootstrap interval (paired resamples).

    Clusters are the distinct values of `groups` (repositories); pass ``np.arange(len(y))`` for
    an ordinary row bootstrap. Each pair ``(a, b)`` in `differences` adds the key ``"a − b"``:
    the AUC difference with its paired interval.
    """
    _, inverse = np.unique(groups, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    members = np.split(order, np.cumsum(np.bincount(inverse))[:-1])
    rng = np.random.default_rng(seed)
    samples: dict[str, list[float]] = {key: [] for key in scores}
    for _ in range(resamples):
        picked = rng.integers(0, len(members), size=len(members))
        index = np.concatenate([members[i] for i in picked])
        if y[index].min() == y[index].max():
            continue
        for key, score in scores.items():
            samples[key].append(auc(y[index], score[index]))
    point = {key: auc(y, score) for key, score in scores.items()}
    draws = {key: np.asarray(values) for key, values in samples.items()}
    for a, b in differences:
        point[f"{a} − {b}"] = point[a] - point[b]
        draws[f"{a} − {b}"] = draws[a] - draws[b]
    out = {}
    for key, value in point.items():
        low, high = np.percentile(draws[key], [2.5, 97.5])
        out[key] = Interval(value, float(low), float(high))
    return out


def format_table(results: Mapping[str, Mapping[str, Interval]], rows: Sequence[str]) -> str:
    """A Markdown table: one row per score, one column per validation scheme."""
    schemes = list(results)
    lines = [
        "| score | " + " | ".join(schemes) + " |",
        "|---|" + "---|" * len(schemes),
    ]
    for row in rows:
        cells = [str(results[scheme][row]) for scheme in schemes]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def per_repo_aucs(y: np.ndarray, score: np.ndarray, groups: np.ndarray) -> dict[str, float]:
    """AUC within each repository that has both classes (how well issues of ONE repo are told
    apart, which the pooled AUC mixes with ranking repositories against each other)."""
    out = {}
    for repo in np.unique(groups):
        rows = groups == repo
        if 0 < y[rows].sum() < rows.sum():
            out[str(repo)] = auc(y[rows], score[rows])
    return out


@dataclass(frozen=True)
class Comparison:
    """One candidate against the reference, on the same out-of-fold rows."""

    pooled: Interval
    per_repo: Interval  # mean of the per-repository AUCs
    pooled_gain: Interval  # candidate − reference, paired
    per_repo_gain: Interval
    repos: dict[str, float]  # per-repository AUC

    @property
    def beats_reference(self) -> bool:
        """Better on unseen repositories beyond the bootstrap noise: the paired 95% interval of
        the pooled gain lies above 0 and the mean per-repository AUC does not drop."""
        return self.pooled_gain.low > 0 and self.per_repo_gain.auc >= 0


def compare(
    y: np.ndarray,
    scores: Mapping[str, np.ndarray],
    groups: np.ndarray,
    reference: str,
    *,
    resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Comparison]:
    """Pooled and per-repository AUC of each score with paired repository-bootstrap intervals,
    and the gain of each over `reference` (all from the same resamples)."""
    repos = sorted(str(r) for r in np.unique(groups))
    inner = {key: per_repo_aucs(y, score, groups) for key, score in scores.items()}
    both = [r for r in repos if r in inner[reference]]
    table = {key: np.array([inner[key][r] for r in both]) for key in scores}
    _, inverse = np.unique(groups, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    members = np.split(order, np.cumsum(np.bincount(inverse))[:-1])
    repo_of = {r: i for i, r in enumerate(repos)}
    in_both = np.array([repo_of[r] for r in both])
    rng = np.random.default_rng(seed)
    pooled: dict[str, list[float]] = {key: [] for key in scores}
    inner_draws: dict[str, list[float]] = {key: [] for key in scores}
    for _ in range(resamples):
        picked = rng.integers(0, len(members), size=len(members))
        index = np.concatenate([members[i] for i in picked])
        if y[index].min() == y[index].max():
            continue
        counts = np.bincount(picked, minlength=len(members))[in_both]
        for key, score in scores.items():
            pooled[key].append(auc(y[index], score[index]))
            weight = counts.sum()
            inner_draws[key].append(
                float((table[key] * counts).sum() / weight) if weight else np.nan
            )

    def interval(point: float, draws: np.ndarray) -> Interval:
        low, high = np.nanpercentile(draws, [2.5, 97.5])
        return Interval(point, float(low), float(high))

    out = {}
    ref_pooled, ref_inner = np.asarray(pooled[reference]), np.asarray(inner_draws[reference])
    for key, score in scores.items():
        point, mean = auc(y, score), float(table[key].mean())
        ref_point, ref_mean = auc(y, scores[reference]), float(table[reference].mean())
        draws, inner_k = np.asarray(pooled[key]), np.asarray(inner_draws[key])
        out[key] = Comparison(
            pooled=interval(point, draws),
            per_repo=interval(mean, inner_k),
            pooled_gain=interval(point - ref_point, draws - ref_pooled),
            per_repo_gain=interval(mean - ref_mean, inner_k - ref_inner),
            repos=inner[key],
        )
    return out
