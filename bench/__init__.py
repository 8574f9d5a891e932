"""The benchmark harness (`make bench`): see docs/benchmarks.md.

Its baseline pages (bench.views) are mounted only by bench/urls.py under tmo.settings.bench.
"""
