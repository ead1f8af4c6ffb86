"""Rebuild the approachability model: ``python -m bot.match.train [--data DIR] [--out FILE]``.

Needs the ``train`` dependency group (scikit-learn): ``uv sync --group train``. Reads RecGFI's
training files (``--data``, default ``../shared/data/recgfi-train``), compares today's feature
set with the candidates on held-out repositories, writes the chosen model (default: the file
shipped in the package) and prints the validation report.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; returns the exit code."""
    try:
        from bot.match.training import fit
        from bot.match.training.dataset import DataError, load_training_data
    except ImportError as exc:
        print(
            f"error: training needs scikit-learn ({exc.name} is missing); "
            "install it with `uv sync --group train`",
            file=sys.stderr,
        )
        return 1
    parser = argparse.ArgumentParser(prog="python -m bot.match.train", description=__doc__)
    parser.add_argument("--data", type=Path, default=fit.DEFAULT_DATA, help="recgfi-train dir")
    parser.add_argument("--out", type=Path, default=fit.DEFAULT_OUT, help="model file to write")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument(
        "--compare", action="store_true", help="also compare candidate learners (slower)"
    )
    args = parser.parse_args(argv)
    try:
        _, report = fit.train(args.data, args.out, resamples=args.resamples)
        if args.compare:
            report += "\n\nCandidate learners (model selection)\n"
            report += fit.compare_learners(load_training_data(args.data))
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
