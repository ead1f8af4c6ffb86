"""The shipped approachability model: P(a newcomer resolves this issue), from crawl-only features.

The model is a scikit-learn logistic regression (median imputation, standardisation, balanced
class weights) trained by ``python -m bot.match.train`` on RecGFI's public data set; why this
learner and not gradient boosting is in ``docs/approachability.md``. It ships as a small JSON file
(``bot/match/model/approachability-v1.json``) holding the fitted parameters and version metadata:
no pickle, so loading runs no code and does not depend on the installed scikit-learn version.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from bot.errors import SetupError
from bot.match.features import (
    FEATURE_NAMES,
    IssueFacts,
    facts_from_csv,
    facts_from_issue,
    feature_matrix,
)

MODEL_VERSION = "approachability-v1"
MODEL_FILE = f"{MODEL_VERSION}.json"
FORMAT = "matchmaker-logistic/1"


class ModelError(SetupError):
    """The model file is missing, unreadable or does not fit the feature code."""


@dataclass(frozen=True)
class ApproachabilityModel:
    """A fitted logistic model over a subset of :data:`bot.match.features.FEATURE_NAMES`.

    ``p = sigmoid(intercept + sum(coef * (x_imputed - mean) / scale))``.
    """

    features: tuple[str, ...]
    impute: tuple[float, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    version: str = MODEL_VERSION
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        unknown = [name for name in self.features if name not in FEATURE_NAMES]
        if unknown:
            raise ModelError(f"model uses features the code does not compute: {unknown}")
        sizes = {len(self.impute), len(self.mean), len(self.scale), len(self.coef)}
        if sizes != {len(self.features)}:
            raise ModelError("model parameters do not match its feature list")

    # --- persistence --------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path | None = None) -> ApproachabilityModel:
        """Load the model shipped in the package, or the JSON file at `path`."""
        try:
            if path is None:
                text = resources.files("bot.match").joinpath("model", MODEL_FILE).read_text()
            else:
                text = Path(path).read_text(encoding="utf-8")
            data = json.loads(text)
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read approachability model: {exc}") from exc
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ApproachabilityModel:
        """Build a model from the JSON structure written by :meth:`to_dict`."""
        if data.get("format") != FORMAT:
            raise ModelError(f"unknown model format {data.get('format')!r}, expected {FORMAT!r}")
        try:
            return cls(
                features=tuple(data["features"]),
                impute=tuple(float(v) for v in data["impute"]),
                mean=tuple(float(v) for v in data["mean"]),
                scale=tuple(float(v) for v in data["scale"]),
                coef=tuple(float(v) for v in data["coef"]),
                intercept=float(data["intercept"]),
                version=str(data["version"]),
                metadata=dict(data.get("metadata") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"malformed model file: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        """The JSON-serialisable form of the model."""
        return {
            "format": FORMAT,
            "version": self.version,
            "features": list(self.features),
            "impute": list(self.impute),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
            "metadata": self.metadata,
        }

    def save(self, path: str | Path) -> None:
        """Write the model as indented JSON (stable key order, so rebuilds diff cleanly)."""
        text = json.dumps(self.to_dict(), indent=1, sort_keys=True)
        Path(path).write_text(text + "\n", encoding="utf-8")

    # --- scoring ------------------------------------------------------------------------------

    def predict_features(self, matrix: np.ndarray) -> np.ndarray:
        """Probabilities for rows of a full feature matrix (columns = ``FEATURE_NAMES``)."""
        matrix = np.asarray(matrix, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] != len(FEATURE_NAMES):
            raise ValueError(f"expected an (n, {len(FEATURE_NAMES)}) feature matrix")
        columns = [FEATURE_NAMES.index(name) for name in self.features]
        x = matrix[:, columns]
        x = np.where(np.isnan(x), np.asarray(self.impute), x)
        # An element-wise product summed per row (not a matrix product, whose BLAS rounding
        # depends on the number of rows): a row scores the same alone or in a batch.
        z = (((x - np.asarray(self.mean)) / np.asarray(self.scale)) * np.asarray(self.coef)).sum(1)
        z += self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -500.0, 500.0)))

    def predict(self, rows: Sequence[Any] | np.ndarray) -> np.ndarray:
        """Probabilities in [0, 1], one per row.

        A row is an :class:`IssueFacts`, an ``(Issue, Repository)`` pair from the store, or a
        mapping with RecGFI's CSV columns; a 2-D array is read as a full feature matrix.
        """
        if isinstance(rows, np.ndarray):
            return self.predict_features(rows)
        return self.predict_features(feature_matrix([_to_facts(row) for row in rows]))


@cache
def default_model() -> ApproachabilityModel:
    """The shipped model, loaded once per process."""
    return ApproachabilityModel.load()


def _to_facts(row: Any) -> IssueFacts:
    if isinstance(row, IssueFacts):
        return row
    if isinstance(row, Mapping):
        return facts_from_csv(row)
    if isinstance(row, Sequence) and not isinstance(row, str | bytes) and len(row) == 2:
        return facts_from_issue(row[0], row[1])  # a pair, or a SQLAlchemy Row of (Issue, Repo)
    raise TypeError(f"cannot score a {type(row).__name__}: pass IssueFacts, (issue, repo) or a row")


def score_issues(
    issues: Iterable[Any],
    repos: Mapping[int, Any] | Iterable[Any],
    model: ApproachabilityModel | None = None,
    reporters: Mapping[str, Any] | None = None,
) -> dict[int, float]:
    """Approachability of each issue, keyed by ``issue.id``.

    `repos` are the issues' ``Repository`` rows, as a mapping ``repository id -> row`` or any
    iterable of rows; an issue whose repository is missing is scored with unknown repo facts.
    `reporters` maps lower-case logins to ``Reporter`` rows (unknown authors: unknown facts).
    Loads the shipped model unless `model` is given.
    """
    if isinstance(repos, Mapping):
        by_id: Mapping[int, Any] = repos
    else:
        by_id = {repo.id: repo for repo in list[Any](repos)}
    issues = list(issues)
    if not issues:
        return {}
    model = model or default_model()
    reporters = reporters or {}
    facts = [
        facts_from_issue(
            issue,
            by_id.get(issue.repository_id),
            reporters.get((getattr(issue, "author_login", None) or "").lower()),
        )
        for issue in issues
    ]
    scores = model.predict(facts)
    return {issue.id: float(score) for issue, score in zip(issues, scores, strict=True)}
