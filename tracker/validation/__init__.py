"""Validation: run a learner's submission in a sandboxed worker and judge it on the trusted side."""
