"""In-process fakes of external services (GitHub, Slack) for tests, the demo and benchmarks."""
