"""qpart benchmarks: measured figures written to build/bench/*.json (never timed tests)."""
