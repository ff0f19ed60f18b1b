"""Benchmarks: how fast Cancellation Lab generates, imports, reports and replays, at what size, and how
that compares with DuckDB's raw CSV reader and with the pandas an analyst would write instead.

`python -m bench` (or `make bench`) runs the harness; results go to BENCHMARKS.md.
"""
