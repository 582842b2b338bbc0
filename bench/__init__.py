"""Benchmarks of dist against references measured in the same run (issue 7); `python -m bench` runs them all."""
