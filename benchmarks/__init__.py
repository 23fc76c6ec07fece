"""The benchmarks: `python -m benchmarks [NAME...] [--quick] [--show]` (__main__, harness)."""
