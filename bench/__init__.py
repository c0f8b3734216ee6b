"""Benchmarks: the seeded bench database, comparison views and the load-test runner.

Nothing here is imported by the project; ``python -m bench.run`` is the entry point.
"""
