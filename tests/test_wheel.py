"""A wheel install (not editable) still finds migrations/ and lessons/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_install_runs_init_against_a_temp_database(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(dist),
            str(ROOT),
        ],
        check=True,
    )
    wheel = next(dist.glob("tracker-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # Reuse this environment's dependencies without its editable tracker: a path
    # added by a .pth file is not itself a site dir, so the editable hook there never runs.
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True)
    env = {
        **{k: v for k, v in os.environ.items() if k != "TRACKER_LESSONS"},
        "TRACKER_DB": str(tmp_path / "w.db"),
        "TRACKER_CONFIG": str(tmp_path / "c.toml"),
    }
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [
            str(python),
            "-c",
            "import tracker.resources as r; print(r.lessons_dir()); print(r.migrations_dir())",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=elsewhere,
        env=env,
    ).stdout.split()
    assert all(p.startswith(site) for p in where), where
    init = subprocess.run(
        [str(venv / "bin" / "tracker"), "init"],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=env,
    )
    assert init.returncode == 0, init.stderr
    assert "16 concepts" in init.stdout
    concepts = subprocess.run(
        [str(venv / "bin" / "tracker"), "concepts", "--json"],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=env,
    )
    assert len(json.loads(concepts.stdout)) == 16
    # The report's Jinja2 templates ship inside the package and are found from elsewhere.
    assert "tracker/render/templates/report.html.j2" in zipfile.ZipFile(wheel).namelist()
    page = subprocess.run(
        [str(venv / "bin" / "tracker"), "report", "--format", "html"],
        capture_output=True,
        cwd=elsewhere,
        env=env,
    )
    assert page.returncode == 0, page.stderr
    assert page.stdout.count(b'<svg class="chart"') == 5
    # The installed package carries the lessons' reference code: the sandbox must hide it.
    cheat = tmp_path / "cheat.py"
    cheat.write_text(
        "import glob, os, sys\n"
        "pattern = os.path.join(sys.prefix, 'lib', 'python*', 'site-packages', 'tracker',\n"
        "                       '_data', 'lessons', 'attention-mechanism-1', 'reference.py')\n"
        "found = glob.glob(pattern)\n"
        "if not found:\n"
        "    raise ImportError('reference code not visible')\n"
        "exec(open(found[0]).read())\n"
    )
    submit = subprocess.run(
        [str(venv / "bin" / "tracker"), "submit", "attention-mechanism-1", str(cheat), "--json"],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=env,
    )
    verdict = json.loads(submit.stdout)
    assert submit.returncode == 1, submit.stdout + submit.stderr
    assert verdict["isolation"] == "bubblewrap"
    assert "reference code not visible" in verdict["error"]
