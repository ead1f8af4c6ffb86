"""The `matchmaker` command line (typer)."""
