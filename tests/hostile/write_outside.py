"""Tries to write everywhere but out/; every attempt must fail or vanish with the sandbox."""

import os
import subprocess
from pathlib import Path

MARK = "__MARKER__"
TARGETS = [
    Path("__OUTSIDE__"),
    Path("/job/submission.py"),
    Path("/job/planted.py"),
    Path("/planted"),
    Path("/usr/planted"),
    Path(os.path.expanduser("~")) / "planted",
    Path("/tmp/planted"),
]
for target in TARGETS:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("owned " + MARK)
    except OSError:
        pass
# A process that lingers, to come back later and write again.
subprocess.Popen(
    ["/bin/sh", "-c", "sleep 3; echo late > __OUTSIDE__; :", MARK], start_new_session=True
)
