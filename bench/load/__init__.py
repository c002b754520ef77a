"""The load benchmark of issue 9: the app as it runs in production, under wrk, on loopback.

Run with `make bench` (or `python -m bench.load --db sqlite|postgresql|both`); see
bench/README.md for what it measures and how to read its table.
"""
