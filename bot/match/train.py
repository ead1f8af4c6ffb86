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
    parser.add_argument(
        "--local-outcomes",
        metavar="DATABASE_URL",
        help="also validate with the community's own settled picks from this database "
        "(report only; the shipped model is never overwritten)",
    )
    parser.add_argument(
        "--local-weight", type=float, default=1.0, help="weight of each local row (default 1)"
    )
    parser.add_argument(
        "--local-out", type=Path, help="write the RecGFI + local model here (not the shipped file)"
    )
    args = parser.parse_args(argv)
    if args.local_outcomes:
        return _local(args)
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


def _local(args: argparse.Namespace) -> int:
    """Compare RecGFI-only with RecGFI + local outcomes; never writes the shipped model."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.core.clock import utc_clock
    from bot.match.training import fit
    from bot.match.training.dataset import DataError, load_training_data
    from bot.match.training.local import compare_with_local, fit_with_local, load_local_outcomes
    from bot.store.db import make_engine

    if args.local_weight <= 0:
        print("error: --local-weight must be > 0", file=sys.stderr)
        return 1
    now = utc_clock()  # the command's one clock reading
    try:
        engine = make_engine(args.local_outcomes)
        local = load_local_outcomes(engine, now)
        data = load_training_data(args.data)
        comparison = compare_with_local(data, local, weight=args.local_weight)
        report = comparison.report(args.local_weight)
        if args.local_out:
            fit_with_local(
                data, local, args.local_out, weight=args.local_weight, shipped=fit.DEFAULT_OUT
            )
            report += f"\nwrote {args.local_out} (the shipped model is unchanged)"
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (SQLAlchemyError, ValueError) as exc:
        print(
            f"error: cannot read local outcomes: {str(exc).splitlines()[0][:200]}", file=sys.stderr
        )
        return 1
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
