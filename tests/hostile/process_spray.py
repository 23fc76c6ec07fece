"""Starts hundreds of processes, then forks without end: the process limit must stop it."""

import os
import subprocess
import time

MARK = "__MARKER__"
children = []
for _ in range(400):
    try:
        children.append(subprocess.Popen(["/bin/sh", "-c", "sleep 600; :", MARK]))
    except OSError:
        break
while True:
    try:
        os.fork()
    except OSError:
        time.sleep(0.01)
