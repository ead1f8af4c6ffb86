"""HTTP endpoints for operators: health, readiness and Prometheus metrics."""
