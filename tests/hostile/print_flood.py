"""Prints gigabytes: the runner must stop storing, stop the run, and say so."""

import sys

chunk = "x" * (1 << 20) + "\n"
for _ in range(4096):
    sys.stdout.write(chunk)
    sys.stderr.write(chunk)
