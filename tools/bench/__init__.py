"""Benchmarks: ours against the framework floor and the peers (`python -m tools.bench`, make bench)."""
