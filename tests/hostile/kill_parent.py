"""Tries to kill whatever runs it: its parent, then every process it may signal."""

import contextlib
import os
import signal
import subprocess

with contextlib.suppress(OSError):
    os.kill(os.getppid(), signal.SIGKILL)
with contextlib.suppress(OSError):
    os.kill(-1, signal.SIGKILL)
subprocess.run(["/bin/sh", "-c", "kill -9 -1; :", "__MARKER__"], check=False)
