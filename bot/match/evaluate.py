"""Score a labelled feature CSV with the shipped model (``python -m bot.match.evaluate``).

The ``--features`` file has the columns of RecGFI's ``train_features.csv`` (only the ones the
features need, plus the label column ``labels``, are required). Every row goes through the same
feature code the bot uses at run time (:func:`bot.match.features.facts_from_csv` then the
feature families). The last line printed is one JSON object:
``{"auc": …, "n": …, "positives": …}`` (``auc`` is null when the file holds only one class).
Bad input gives a one-line error and exit code 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.match.approachability import ApproachabilityModel, ModelError
from bot.match.training.dataset import DataError, csv_features, read_labelled_csv
from bot.match.training.metrics import auc


def evaluate(path: Path, model: ApproachabilityModel | None = None) -> dict[str, object]:
    """AUC of the model on the labelled CSV at `path`, with row and positive counts."""
    rows, y = read_labelled_csv(path)
    model = model or ApproachabilityModel.load()
    scores = model.predict_features(csv_features(rows, path))
    positives = int(y.sum())
    value = auc(y, scores) if 0 < positives < len(y) else None
    return {
        "auc": None if value is None else round(value, 6),
        "n": len(y),
        "positives": positives,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bot.match.evaluate", description=__doc__)
    parser.add_argument("--features", type=Path, required=True, help="labelled feature CSV")
    args = parser.parse_args(argv)
    try:
        result = evaluate(args.features)
    except (DataError, ModelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if result["auc"] is None:
        print("note: the file holds only one class, so the AUC is undefined", file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
