"""Never returns: the wall-clock limit must end it."""

while True:
    pass
