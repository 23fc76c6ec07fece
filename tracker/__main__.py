"""`python -m tracker`: the console script."""

from tracker.cli.entry import main

main()
