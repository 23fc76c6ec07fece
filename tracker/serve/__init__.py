"""`tracker serve`: the long-running host and the services it runs."""
