"""tracker: a spaced-repetition learning tracker for modern ML, one concept at a time."""

__version__ = "0.1.0"
