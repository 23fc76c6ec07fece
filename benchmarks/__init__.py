"""The benchmarks: `python -m benchmarks [NAME...] [--quick] [--show]` (see __main__ and harness)."""
