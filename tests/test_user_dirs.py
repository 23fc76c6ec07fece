"""Where the database and the config file live by default: platformdirs' answer, with the
common Linux case worked out without importing platformdirs (for `tracker status`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

from tracker.paths import user_dir

XDG = ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "ANDROID_DATA", "ANDROID_ROOT")


@pytest.mark.parametrize(
    "env",
    [
        {"HOME": "/home/ada"},
        {"HOME": "/home/ada/"},
        {"HOME": "/"},
        {"HOME": "/home/ada", "XDG_DATA_HOME": "/srv/data", "XDG_CONFIG_HOME": "/srv/conf"},
        {"HOME": "/home/ada", "XDG_DATA_HOME": "", "XDG_CONFIG_HOME": "  "},
        {"HOME": "/home/ada", "XDG_DATA_HOME": "relative/data"},
        {"HOME": "/home/ada", "ANDROID_DATA": "/data", "ANDROID_ROOT": "/system"},
    ],
    ids=["home", "trailing-slash", "root", "xdg", "xdg-empty", "xdg-relative", "android"],
)
@pytest.mark.parametrize("kind", ["data", "config"])
def test_the_default_folders_are_platformdirs_own(
    env: dict[str, str], kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in XDG:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    expected = (platformdirs.user_data_dir if kind == "data" else platformdirs.user_config_dir)(
        "tracker"
    )
    assert user_dir(kind) == Path(expected)


def test_status_on_the_default_database_does_not_import_platformdirs(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKER_", "XDG_"))}
    env |= {"HOME": str(tmp_path), "TRACKER_NOW": "2025-11-11T09:00"}
    tracker = [sys.executable, "-m", "tracker"]
    made = subprocess.run([*tracker, "init"], env=env, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert (tmp_path / ".local/share/tracker/tracker.db").is_file()
    code = (
        "import sys\n"
        "sys.argv = ['tracker', 'status']\n"
        "import tracker.cli.entry as entry\n"
        "def stop(code):\n"
        "    raise SystemExit(code)\n"
        "entry._exit = stop\n"
        "try:\n"
        "    entry.main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('LOADED', 'platformdirs' in sys.modules, 'click' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert "LOADED False False" in done.stderr, done.stderr
    assert (
        done.stdout
        == "nothing due · streak 0 (not checked in today) · today: attention-mechanism-1\n"
    )
