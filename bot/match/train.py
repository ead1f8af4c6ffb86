"""Rebuild the approachability model: ``python -m bot.match.train [--data DIR] [--out FILE]``.

Reads RecGFI's ``train_features.csv`` and ``train_issue_ids.csv`` (``--data``, default
``../shared/data/recgfi-train``), validates the learner on held-out repositories and on a time
split, fits it on all rows and writes the JSON model (default: the file shipped in the package).
Everything is deterministic: the same data gives the same file, byte for byte.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from bot.match import validation
from bot.match.approachability import MODEL_FILE, MODEL_VERSION, ApproachabilityModel
from bot.match.dataset import FEATURES_FILE, DataError, TrainingData, load_training_data
from bot.match.features import FEATURE_NAMES
from bot.match.metrics import auc

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "recgfi-train"
DEFAULT_OUT = Path(__file__).resolve().parent / "model" / MODEL_FILE
SEED = 0

#: The features the shipped model uses (chosen by grouped validation; see docs/approachability.md).
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
C = 1.0
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


def fit_model(x: np.ndarray, y: np.ndarray, metadata: dict | None = None) -> ApproachabilityModel:
    """Fit the learner on a full feature matrix and return it in shippable form."""
    columns = [FEATURE_NAMES.index(name) for name in MODEL_FEATURES]
    pipeline = make_pipeline().fit(x[:, columns], y)
    impute, scale = pipeline.named_steps["impute"], pipeline.named_steps["scale"]
    logistic = pipeline.named_steps["model"]
    return ApproachabilityModel(
        features=MODEL_FEATURES,
        impute=tuple(float(v) for v in impute.statistics_),
        mean=tuple(float(v) for v in scale.mean_),
        scale=tuple(float(v) for v in scale.scale_),
        coef=tuple(float(v) for v in logistic.coef_[0]),
        intercept=float(logistic.intercept_[0]),
        version=MODEL_VERSION,
        metadata=metadata or {},
    )


def _fit(x: np.ndarray, y: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    return fit_model(x, y).predict_features


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
    data: TrainingData, resamples: int = 1000
) -> dict[str, dict[str, validation.Interval]]:
    """AUCs with intervals of the model and the baselines under each validation scheme."""
    schemes = {}
    oof = validation.grouped_oof(data.x, data.y, data.repos, _fit)
    schemes["grouped 5-fold, unseen repos"] = (np.arange(len(data.y)), oof)
    for name, key in (("time split by issue_id", data.issue_ids), ("row order", data.row_index)):
        train, test = validation.time_split(key)
        scores = fit_model(data.x[train], data.y[train]).predict_features(data.x[test])
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
    """Validate, fit on all rows, save to `out`; returns the model and the report text."""
    data = load_training_data(data_dir)
    results = validate(data, resamples=resamples)
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
    }
    model = fit_model(data.x, data.y, metadata)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    report = (
        f"{len(data.y)} rows, {int(data.y.sum())} positives, {len(set(data.repos))} repositories\n"
        f"ROC-AUC [95% bootstrap interval, whole repositories resampled unless the row says\n"
        f"otherwise; {resamples} paired resamples, seed {SEED}]\n{table}\n"
        f"wrote {out}"
    )
    return model, report


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bot.match.train", description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="recgfi-train directory")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="model file to write")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument(
        "--compare", action="store_true", help="also compare candidate learners (slower)"
    )
    args = parser.parse_args(argv)
    try:
        _, report = train(args.data, args.out, resamples=args.resamples)
        if args.compare:
            report += "\n\nCandidate learners (model selection)\n"
            report += compare_learners(load_training_data(args.data))
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
