"""RecGFI's training files as the bot's features: reading, checking and joining the CSVs.

Kept free of scikit-learn so that ``python -m bot.match.evaluate`` starts quickly.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.match.features import CSV_COLUMNS, LABEL_COLUMN, facts_from_csv, feature_matrix

FEATURES_FILE = "train_features.csv"
IDS_FILE = "train_issue_ids.csv"


class DataError(Exception):
    """The training data is missing or malformed."""


@dataclass(frozen=True)
class TrainingData:
    """Feature matrix (all ``FEATURE_NAMES``), labels, repository of each row, time keys."""

    x: np.ndarray
    y: np.ndarray
    repos: np.ndarray
    issue_ids: np.ndarray
    row_index: np.ndarray
    sha256: str


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            return list(reader.fieldnames or []), rows
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is not a readable CSV file: {exc}") from None


def read_labelled_csv(path: Path) -> tuple[list[dict[str, str]], np.ndarray]:
    """Rows of a RecGFI-style feature CSV and their 0/1 labels; DataError when unusable."""
    columns, rows = _read_csv(path)
    missing = [c for c in (*CSV_COLUMNS, LABEL_COLUMN) if c not in columns]
    if missing:
        raise DataError(f"{path} lacks the columns: {', '.join(missing)}")
    if not rows:
        raise DataError(f"{path} has no data rows")
    try:
        labels = np.array([float(row[LABEL_COLUMN]) for row in rows])
    except (TypeError, ValueError):
        raise DataError(f"{path}: column {LABEL_COLUMN!r} must hold 0 or 1 on every row") from None
    if not np.isin(labels, (0.0, 1.0)).all():
        raise DataError(f"{path}: column {LABEL_COLUMN!r} must hold 0 or 1 on every row")
    return rows, labels.astype(np.int64)


def csv_features(rows: Sequence[dict[str, str]], path: Path) -> np.ndarray:
    """Full feature matrix of CSV rows, through the bot's feature code; DataError when invalid."""
    try:
        return feature_matrix([facts_from_csv(row) for row in rows])
    except (TypeError, ValueError) as exc:
        raise DataError(f"{path}: a feature column holds a non-number: {exc}") from None


def load_training_data(data_dir: Path) -> TrainingData:
    """Load and join RecGFI's feature and issue-id files."""
    features_path, ids_path = data_dir / FEATURES_FILE, data_dir / IDS_FILE
    rows, y = read_labelled_csv(features_path)
    _, ids = _read_csv(ids_path)
    if len(ids) != len(rows):
        raise DataError(f"{ids_path} has {len(ids)} rows, {features_path} has {len(rows)}")
    first = next(iter(rows[0]))  # the unnamed upstream row index
    try:
        row_index = np.array([int(float(row[first])) for row in rows])
        id_index = np.array([int(row["row_index"]) for row in ids])
        issue_ids = np.array([int(row["issue_id"]) for row in ids])
        repos = np.array([f"{row['repo_owner']}/{row['repo_name']}" for row in ids])
    except (KeyError, ValueError) as exc:
        raise DataError(f"cannot join {features_path.name} and {ids_path.name}: {exc}") from None
    if not np.array_equal(row_index, id_index):
        raise DataError(f"{ids_path.name} does not list the rows of {features_path.name} in order")
    digest = hashlib.sha256(features_path.read_bytes()).hexdigest()
    x = csv_features(rows, features_path)
    return TrainingData(x, y, repos, issue_ids, row_index, digest)
