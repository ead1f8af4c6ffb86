"""Fit, validate and choose the approachability model (run by ``python -m bot.match.train``).

Reads RecGFI's ``train_features.csv`` and ``train_issue_ids.csv``, compares today's feature set
with the candidate ones on held-out repositories (pooled and per-repository AUC, paired
repository-bootstrap intervals), keeps a candidate only when it beats today's model, validates
the chosen one on held-out repositories and on a time split, fits it on all rows and writes the
JSON model. Everything is deterministic: the same data gives the same file, byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from bot.match.approachability import MODEL_FILE, MODEL_VERSION, ApproachabilityModel
from bot.match.features import FEATURE_NAMES
from bot.match.training import validation
from bot.match.training.dataset import FEATURES_FILE, TrainingData, load_training_data
from bot.match.training.metrics import auc

DEFAULT_DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "recgfi-train"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "model" / MODEL_FILE
SEED = 0

#: Today's features (v1, chosen by grouped validation; see docs/approachability.md).
MODEL_FEATURES: tuple[str, ...] = (
    "repo_newcomer_share_sqrt",
    "reporter_newcomer",
    "label_gfi",
    "label_bug",
    "label_docs",
    "repo_stars_log",
    "comments_log",
    "body_words_log",
)
REPORTER_EXPERIENCE = (
    "reporter_followers_log",
    "reporter_prs_log",
    "reporter_issues_log",
    "reporter_commits_log",
    "reporter_repos_log",
)
PROJECT_HISTORY = (
    "repo_close_hours_log",
    "repo_contributors_log",
    "repo_closed_prs_log",
    "repo_newcomer_issues_log",
)
REFERENCE = "today's model (v1)"
#: Candidate feature sets, declared before looking at their scores; each is compared with
#: today's on the same grouped folds and the same bootstrap resamples.
CANDIDATES: dict[str, tuple[str, ...]] = {
    REFERENCE: MODEL_FEATURES,
    "+ reporter has no PRs": (*MODEL_FEATURES, "reporter_no_prs"),
    "+ reporter experience": (*MODEL_FEATURES, *REPORTER_EXPERIENCE),
    "+ project history": (*MODEL_FEATURES, *PROJECT_HISTORY),
    "+ reporter and project": (*MODEL_FEATURES, *REPORTER_EXPERIENCE, *PROJECT_HISTORY),
}
C = 1.0
#: Bootstrap resamples of the feature-set choice: fixed, so that ``--resamples`` (the size of
#: the reported intervals) cannot change which model ships.
SELECTION_RESAMPLES = 1000
ROW_BOOTSTRAP = "model, row-bootstrap interval"
DIFFERENCE = ("model", "untuned average of ranks")


def make_pipeline(*, balanced: bool = True) -> Pipeline:
    """The learner: median imputation, standardisation, balanced logistic regression."""
    return Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
            (
                "model",
                LogisticRegression(
                    C=C, class_weight="balanced" if balanced else None, max_iter=1000
                ),
            ),
        ]
    )


def fit_model(
    x: np.ndarray,
    y: np.ndarray,
    metadata: dict | None = None,
    features: Sequence[str] = MODEL_FEATURES,
) -> ApproachabilityModel:
    """Fit the learner on a full feature matrix and return it in shippable form."""
    columns = [FEATURE_NAMES.index(name) for name in features]
    pipeline = make_pipeline().fit(x[:, columns], y)
    impute, scale = pipeline.named_steps["impute"], pipeline.named_steps["scale"]
    logistic = pipeline.named_steps["model"]
    return ApproachabilityModel(
        features=tuple(features),
        impute=tuple(float(v) for v in impute.statistics_),
        mean=tuple(float(v) for v in scale.mean_),
        scale=tuple(float(v) for v in scale.scale_),
        coef=tuple(float(v) for v in logistic.coef_[0]),
        intercept=float(logistic.intercept_[0]),
        version=MODEL_VERSION,
        metadata=metadata or {},
    )


def fitter(features: Sequence[str]) -> validation.Fit:
    """A fit function over `features` for the validation helpers."""

    def fit(x: np.ndarray, y: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        return fit_model(x, y, features=features).predict_features

    return fit


def compare_feature_sets(
    data: TrainingData, resamples: int = SELECTION_RESAMPLES
) -> dict[str, validation.Comparison]:
    """Every candidate vs today's model on the same grouped folds and bootstrap resamples."""
    scores = {
        name: validation.grouped_oof(data.x, data.y, data.repos, fitter(features))
        for name, features in CANDIDATES.items()
    }
    return validation.compare(data.y, scores, data.repos, REFERENCE, resamples=resamples, seed=SEED)


def time_split_table(data: TrainingData, resamples: int = SELECTION_RESAMPLES) -> str:
    """Markdown: every candidate on the bot's real situation, later issues of unseen
    repositories (a check on the choice, which is made on the grouped folds)."""
    scored = {
        name: validation.grouped_time_oof(data.x, data.y, data.repos, data.issue_ids, fitter(f))
        for name, f in CANDIDATES.items()
    }
    rows = scored[REFERENCE][0]
    scores = {name: s for name, (_, s) in scored.items()}
    others = [name for name in CANDIDATES if name != REFERENCE]
    intervals = validation.bootstrap_aucs(
        data.y[rows],
        scores,
        data.repos[rows],
        resamples=resamples,
        seed=SEED,
        differences=[(name, REFERENCE) for name in others],
    )
    lines = ["| features | AUC | gain vs v1 |", "|---|---|---|"]
    for name in CANDIDATES:
        gain = "-" if name == REFERENCE else str(intervals[f"{name} − {REFERENCE}"])
        lines.append(f"| {name} | {intervals[name]} | {gain} |")
    return "\n".join(lines)


def choose(comparisons: dict[str, validation.Comparison]) -> str:
    """The candidate to ship: the best pooled AUC among those that beat today's, else today's."""
    winners = [name for name, c in comparisons.items() if name != REFERENCE and c.beats_reference]
    if not winners:
        return REFERENCE
    return max(winners, key=lambda name: comparisons[name].pooled.auc)


def comparison_table(comparisons: dict[str, validation.Comparison]) -> str:
    """Markdown: pooled and mean per-repository AUC, and the paired gains over today's model."""
    lines = [
        "| features | pooled AUC | mean per-repo AUC | pooled gain vs v1 | per-repo gain vs v1 "
        "| beats v1 |",
        "|---|---|---|---|---|---|",
    ]
    for name, c in comparisons.items():
        if name == REFERENCE:
            lines.append(f"| {name} | {c.pooled} | {c.per_repo} | - | - | - |")
            continue
        verdict = "yes" if c.beats_reference else "no"
        lines.append(
            f"| {name} | {c.pooled} | {c.per_repo} | {c.pooled_gain} | {c.per_repo_gain} "
            f"| {verdict} |"
        )
    return "\n".join(lines)


def per_repo_table(data: TrainingData, comparisons: dict[str, validation.Comparison]) -> str:
    """Markdown: each repository's AUC under every candidate (repos with both classes)."""
    names = list(comparisons)
    lines = [
        "| repository | n | pos | " + " | ".join(names) + " |",
        "|---|---|---|" + "---|" * len(names),
    ]
    for repo in sorted(comparisons[REFERENCE].repos):
        rows = data.repos == repo
        cells = [f"{comparisons[name].repos[repo]:.3f}" for name in names]
        counts = f"| {repo} | {int(rows.sum())} | {int(data.y[rows].sum())} | "
        lines.append(counts + " | ".join(cells) + " |")
    return "\n".join(lines)


def _scheme(
    data: TrainingData, rows: np.ndarray, model_scores: np.ndarray, resamples: int
) -> tuple[str, dict[str, validation.Interval]]:
    """Intervals of the model and the baselines on `rows`, and a label with the row counts."""
    y, x = data.y[rows], data.x[rows]
    scores = {"model": model_scores, **validation.baseline_scores(x)}
    out = validation.bootstrap_aucs(
        y, scores, data.repos[rows], resamples=resamples, seed=SEED, differences=[DIFFERENCE]
    )
    by_row = validation.bootstrap_aucs(
        y, {"model": model_scores}, np.arange(len(y)), resamples=resamples, seed=SEED
    )
    out[ROW_BOOTSTRAP] = by_row["model"]
    label = f"n={len(y)}, {int(y.sum())} pos, {len(set(data.repos[rows]))} repos"
    return label, out


def validate(
    data: TrainingData, resamples: int = 1000, features: Sequence[str] = MODEL_FEATURES
) -> dict[str, dict[str, validation.Interval]]:
    """AUCs with intervals of the model and the baselines under each validation scheme."""
    schemes = {}
    _fit = fitter(features)
    oof = validation.grouped_oof(data.x, data.y, data.repos, _fit)
    schemes["grouped 5-fold, unseen repos"] = (np.arange(len(data.y)), oof)
    for name, key in (("time split by issue_id", data.issue_ids), ("row order", data.row_index)):
        train, test = validation.time_split(key)
        scores = _fit(data.x[train], data.y[train])(data.x[test])
        schemes[f"{name}, last 20%"] = (test, scores)
    schemes["time split + unseen repos"] = validation.grouped_time_oof(
        data.x, data.y, data.repos, data.issue_ids, _fit
    )
    results = {}
    for name, (rows, scores) in schemes.items():
        label, intervals = _scheme(data, rows, scores, resamples)
        results[f"{name} ({label})"] = intervals
    return results


def _sklearn_fit(make: Callable[[], object], features: Sequence[str]) -> validation.Fit:
    columns = [FEATURE_NAMES.index(name) for name in features]

    def fit(x: np.ndarray, y: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        estimator = make().fit(x[:, columns], y)  # type: ignore[attr-defined]
        return lambda new: estimator.predict_proba(new[:, columns])[:, 1]

    return fit


def compare_learners(data: TrainingData) -> str:
    """Grouped and time-split AUC of candidate learners and feature sets (why the shipped one)."""
    hgb = {"random_state": SEED}
    small = {**hgb, "max_iter": 150, "learning_rate": 0.03, "max_depth": 3, "min_samples_leaf": 50}
    candidates: dict[str, tuple[Callable[[], object], Sequence[str]]] = {
        "logistic, balanced (shipped)": (make_pipeline, MODEL_FEATURES),
        "logistic, balanced, all features": (make_pipeline, FEATURE_NAMES),
        "logistic, unweighted": (lambda: make_pipeline(balanced=False), MODEL_FEATURES),
        "HistGradientBoosting, defaults": (
            lambda: HistGradientBoostingClassifier(**hgb),
            MODEL_FEATURES,
        ),
        "HistGradientBoosting, shallow": (
            lambda: HistGradientBoostingClassifier(**small),
            MODEL_FEATURES,
        ),
        "HistGradientBoosting, shallow, all features": (
            lambda: HistGradientBoostingClassifier(**small),
            FEATURE_NAMES,
        ),
    }
    for dropped in MODEL_FEATURES:
        kept = tuple(name for name in MODEL_FEATURES if name != dropped)
        candidates[f"shipped without {dropped}"] = (make_pipeline, kept)
    train_rows, test_rows = validation.time_split(data.issue_ids)
    lines = ["| learner | grouped 5-fold AUC | time split AUC |", "|---|---|---|"]
    for name, (make, features) in candidates.items():
        fit = _sklearn_fit(make, features)
        grouped = auc(data.y, validation.grouped_oof(data.x, data.y, data.repos, fit))
        later = fit(data.x[train_rows], data.y[train_rows])(data.x[test_rows])
        lines.append(f"| {name} | {grouped:.3f} | {auc(data.y[test_rows], later):.3f} |")
    return "\n".join(lines)


def train(data_dir: Path, out: Path, *, resamples: int = 1000) -> tuple[ApproachabilityModel, str]:
    """Compare feature sets, validate the chosen one, fit it on all rows, save to `out`;
    returns the model and the report text."""
    data = load_training_data(data_dir)
    comparisons = compare_feature_sets(data)
    chosen = choose(comparisons)
    features = CANDIDATES[chosen]
    results = validate(data, resamples=resamples, features=features)
    rows = [
        "model",
        ROW_BOOTSTRAP,
        *validation.baseline_scores(data.x[:2]),
        " − ".join(DIFFERENCE),
    ]
    table = validation.format_table(results, rows)
    summary = {
        scheme: {
            "auc": round(v["model"].auc, 4),
            "low": round(v["model"].low, 4),
            "high": round(v["model"].high, 4),
        }
        for scheme, v in results.items()
    }
    metadata = {
        "trained_on": f"recgfi-train/{FEATURES_FILE}",
        "data_sha256": data.sha256,
        "rows": len(data.y),
        "positives": int(data.y.sum()),
        "learner": f"scikit-learn {sklearn.__version__} LogisticRegression(C={C}, balanced)",
        "seed": SEED,
        "validation_auc": summary,
        "chosen_over": {
            name: {
                "pooled_gain": round(c.pooled_gain.auc, 4),
                "low": round(c.pooled_gain.low, 4),
                "high": round(c.pooled_gain.high, 4),
                "per_repo_gain": round(c.per_repo_gain.auc, 4),
            }
            for name, c in comparisons.items()
            if name != chosen
        },
        "feature_set": chosen,
    }
    model = fit_model(data.x, data.y, metadata, features=features)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    report = (
        f"{len(data.y)} rows, {int(data.y.sum())} positives, {len(set(data.repos))} repositories\n"
        f"ROC-AUC [95% bootstrap interval, whole repositories resampled unless the row says\n"
        f"otherwise; {resamples} paired resamples, seed {SEED}]\n\n"
        f"Feature sets vs today's model (grouped 5-fold, unseen repositories, "
        f"{SELECTION_RESAMPLES} resamples; a candidate wins\n"
        f"only when the paired interval of its pooled gain lies above 0 and the mean\n"
        f"per-repository AUC does not drop)\n{comparison_table(comparisons)}\n"
        f"chosen: {chosen}\n\nThe same candidates, time split + unseen repositories "
        f"(latest 20% of the rows of held-out repositories)\n"
        f"{time_split_table(data, resamples)}\n\n"
        f"Per repository (grouped 5-fold)\n"
        f"{per_repo_table(data, comparisons)}\n\n"
        f"The chosen model under every scheme\n{table}\n"
        f"wrote {out}"
    )
    return model, report
