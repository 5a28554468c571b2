"""Benchmarks for the write and read paths: `python -m benchmarks` (or `make bench`) runs them all.

They report figures against the targets and never fail: a slow CI machine should not break the build.
"""
