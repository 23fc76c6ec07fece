"""`python -m tracker`: the console script, with the Ctrl-C handlers in place first."""

from tracker import interrupt

interrupt.install()  # before anything else loads: see tracker/interrupt.py

from tracker.cli.entry import main  # noqa: E402

main()
