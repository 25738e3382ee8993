"""Benchmarks: voicelive-proactive against the strongest hand-written loop, in the same run.

``python -m benchmarks`` (or ``make bench``) runs them all. Every run writes its own file in
``benchmarks/results/runs/``; a complete run also writes ``benchmarks/results/latest.json``,
the PNG plots and ``docs/performance.md``. Timings are reported, never asserted; the run fails
only when a session was greeted twice or not at all, or a section crashed.
"""
