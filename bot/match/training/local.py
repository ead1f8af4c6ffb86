"""The community's own outcomes as extra training rows (``python -m bot.match.train
--local-outcomes DATABASE_URL``).

A settled pick becomes one row: the picked issue's features (the bot's feature code, as for
scoring) and label 1 when a newcomer (level first-timer or some) got their PR for it merged,
else 0. A pick is settled once its outcome is merged or closed by someone else, or it is older
than the tracking window. Experienced members' picks say little about approachability for
newcomers and are left out.

The comparison is honest: grouped K-fold over the repositories of both sources (no repository
is in a training and a test fold at once); in every fold one model is fitted on the RecGFI rows
only and one on RecGFI + local rows (local rows weighted), and both score the same held-out
rows. The report says whether the local data changed the validation AUC. The shipped model is
never written here: it is trained only on recgfi-train.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.core.vocabulary import Level, PickOutcomeState
from bot.match.approachability import MODEL_VERSION, ApproachabilityModel
from bot.match.features import FEATURE_NAMES, facts_from_issue, feature_matrix
from bot.match.training.dataset import DataError, TrainingData
from bot.match.training.fit import MODEL_FEATURES, make_pipeline
from bot.match.training.metrics import auc
from bot.store.models import Issue, Member, Pick, PickOutcome, Reporter, Repository

NEWCOMER_LEVELS = (Level.FIRST_TIMER.value, Level.SOME.value)
SETTLED = (PickOutcomeState.MERGED.value, PickOutcomeState.CLOSED_BY_OTHER.value)
CHANGE = 0.005  # an AUC difference below this is reported as "no change"


@dataclass(frozen=True)
class LocalData:
    """Feature matrix, labels and repository of the community's settled picks."""

    x: np.ndarray
    y: np.ndarray
    repos: np.ndarray


def load_local_outcomes(engine: Engine, now: datetime, track_days: int = 60) -> LocalData:
    """Settled picks of newcomers with a tracked outcome, one row per (issue, member)."""
    settled_before = now - timedelta(days=track_days)
    with Session(engine) as session:
        rows = session.exec(
            select(PickOutcome, Pick, Issue, Repository)
            .join(Pick, col(Pick.id) == col(PickOutcome.pick_id))
            .join(Member, col(Member.id) == col(PickOutcome.member_id))
            .join(Issue, col(Issue.id) == col(PickOutcome.issue_id))
            .join(Repository, col(Repository.id) == col(Issue.repository_id))
            .where(col(Member.level).in_(NEWCOMER_LEVELS))
        ).all()
        rows = [r for r in rows if r[0].state in SETTLED or r[1].created_at <= settled_before]
        logins = sorted({i.author_login.lower() for _, _, i, _ in rows if i.author_login})
        reporters = {
            r.login: r
            for r in session.exec(select(Reporter).where(col(Reporter.login).in_(logins)))
        }
        facts = [
            facts_from_issue(issue, repo, reporters.get((issue.author_login or "").lower()))
            for _, _, issue, repo in rows
        ]
        y = np.array([o.state == PickOutcomeState.MERGED.value for o, *_ in rows], dtype=np.int64)
        repos = np.array([repo.full_name for *_, repo in rows], dtype=object)
    x = feature_matrix(facts) if facts else np.empty((0, len(FEATURE_NAMES)))
    return LocalData(x, y, repos)


@dataclass
class LocalComparison:
    """Validation AUCs without and with the local rows, on the same held-out rows."""

    local_rows: int
    local_positives: int
    folds: int
    recgfi_without: float
    recgfi_with: float
    local_without: float | None  # None: the held-out local rows hold one class only
    local_with: float | None

    def changed(self) -> bool:
        deltas = [self.recgfi_with - self.recgfi_without]
        if self.local_with is not None and self.local_without is not None:
            deltas.append(self.local_with - self.local_without)
        return any(abs(d) >= CHANGE for d in deltas)

    def report(self, weight: float) -> str:
        def fmt(value: float | None) -> str:
            return "n/a (one class)" if value is None else f"{value:.3f}"

        verdict = "changed" if self.changed() else "did not change"
        return "\n".join(
            [
                f"Local outcomes: {self.local_rows} settled picks, {self.local_positives} merged "
                f"by a newcomer (weight {weight:g} per row)",
                f"Grouped {self.folds}-fold validation (whole repositories held out), "
                "same held-out rows for both models:",
                f"  held-out RecGFI rows   AUC without local {fmt(self.recgfi_without)}"
                f"  with local {fmt(self.recgfi_with)}",
                f"  held-out local rows    AUC without local {fmt(self.local_without)}"
                f"  with local {fmt(self.local_with)}",
                f"The local data {verdict} the validation AUC (threshold ±{CHANGE}).",
            ]
        )


def _fit(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> object:
    columns = [FEATURE_NAMES.index(name) for name in MODEL_FEATURES]
    pipeline = make_pipeline()
    pipeline.fit(x[:, columns], y, model__sample_weight=w)
    return pipeline


def _score(pipeline: object, x: np.ndarray) -> np.ndarray:
    columns = [FEATURE_NAMES.index(name) for name in MODEL_FEATURES]
    return pipeline.predict_proba(x[:, columns])[:, 1]  # type: ignore[attr-defined]


def _auc(y: np.ndarray, score: np.ndarray) -> float | None:
    return float(auc(y, score)) if len(set(y.tolist())) == 2 else None


def compare_with_local(
    data: TrainingData, local: LocalData, *, weight: float = 1.0, folds: int = 5
) -> LocalComparison:
    """Grouped K-fold over both sources: RecGFI-only vs RecGFI + weighted local rows."""
    if len(local.y) == 0:
        raise DataError("the database holds no settled picks of newcomers yet")
    x = np.vstack([data.x, local.x])
    y = np.concatenate([data.y, local.y])
    groups = np.concatenate([data.repos.astype(object), local.repos])
    is_local = np.concatenate([np.zeros(len(data.y), bool), np.ones(len(local.y), bool)])
    weights = np.where(is_local, weight, 1.0)
    folds = min(folds, len(set(groups.tolist())))
    without, with_local = np.zeros(len(y)), np.zeros(len(y))
    for train, test in GroupKFold(n_splits=folds).split(x, y, groups):
        base = train[~is_local[train]]
        without[test] = _score(_fit(x[base], y[base], weights[base]), x[test])
        with_local[test] = _score(_fit(x[train], y[train], weights[train]), x[test])
    recgfi, mine = ~is_local, is_local
    return LocalComparison(
        local_rows=int(mine.sum()),
        local_positives=int(local.y.sum()),
        folds=folds,
        recgfi_without=float(auc(y[recgfi], without[recgfi])),
        recgfi_with=float(auc(y[recgfi], with_local[recgfi])),
        local_without=_auc(y[mine], without[mine]),
        local_with=_auc(y[mine], with_local[mine]),
    )


def fit_with_local(
    data: TrainingData, local: LocalData, out: Path, *, weight: float, shipped: Path
) -> ApproachabilityModel:
    """Fit on RecGFI + local rows and save to `out` (never the shipped model file)."""
    if out.resolve() == shipped.resolve():
        raise DataError(
            f"{out} is the shipped model, trained only on recgfi-train; write the local model "
            "to another file"
        )
    x = np.vstack([data.x, local.x])
    y = np.concatenate([data.y, local.y])
    w = np.concatenate([np.ones(len(data.y)), np.full(len(local.y), weight)])
    pipeline = _fit(x, y, w)
    impute, scale = pipeline.named_steps["impute"], pipeline.named_steps["scale"]  # type: ignore[attr-defined]
    logistic = pipeline.named_steps["model"]  # type: ignore[attr-defined]
    model = ApproachabilityModel(
        features=MODEL_FEATURES,
        impute=tuple(float(v) for v in impute.statistics_),
        mean=tuple(float(v) for v in scale.mean_),
        scale=tuple(float(v) for v in scale.scale_),
        coef=tuple(float(v) for v in logistic.coef_[0]),
        intercept=float(logistic.intercept_[0]),
        version=MODEL_VERSION,
        metadata={
            "trained_on": "recgfi-train + local outcomes",
            "rows": len(y),
            "local_rows": len(local.y),
            "local_weight": weight,
        },
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    return model
