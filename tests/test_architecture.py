"""The layers hold: import contracts (import-linter) and the shape of the commands.

The contracts live in pyproject.toml ([tool.importlinter]); this runs them, and
shows they bite by breaking one on purpose in a copy of the package.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_COMMAND_LINES = 40


def lint_imports(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    import os

    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command;"
            "sys.exit(lint_imports_command())",
            "--no-cache",
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_import_contracts_are_kept() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        (
            "validation/device.py",
            "import tracker.cli.app",
            "Below the use cases nothing imports them, serve or the CLI BROKEN",
        ),
        ("render/catalog.py", "import sqlalchemy", "Renderers never touch the database BROKEN"),
        ("planner.py", "from tracker import clock", "The planner and the rules stay pure BROKEN"),
        ("usecases/history.py", "import tracker.serve.host", "then the use cases BROKEN"),
    ],
)
def test_a_deliberate_violation_breaks_its_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    shutil.copytree(ROOT / "tracker", tmp_path / "tracker", ignore=shutil.ignore_patterns("_data"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "tracker" / module
    target.write_text(target.read_text() + f"\n{line}\n")
    result = lint_imports(tmp_path, pythonpath=tmp_path)
    assert result.returncode == 1, result.stdout
    assert contract in result.stdout


def _command_callbacks() -> list[tuple[str, int]]:
    """(module:function, body lines) of every click command in tracker/cli/."""
    found = []
    for path in sorted((ROOT / "tracker" / "cli").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            decorators = [ast.unparse(d) for d in node.decorator_list]
            if any(".command" in d or d.startswith("click.command") for d in decorators):
                body = node.body[1:] if ast.get_docstring(node) else node.body
                lines = body[-1].end_lineno - body[0].lineno + 1 if body else 0
                found.append((f"{path.stem}:{node.name}", lines))
    return found


def test_every_command_is_short_parse_call_render() -> None:
    commands = _command_callbacks()
    assert len(commands) > 15
    long = [(name, lines) for name, lines in commands if lines > MAX_COMMAND_LINES]
    assert long == [], f"commands over {MAX_COMMAND_LINES} lines: {long}"


def test_no_command_queries_the_database() -> None:
    for path in sorted((ROOT / "tracker" / "cli").glob("*.py")):
        text = path.read_text()
        assert "sqlalchemy import" not in text.replace("sqlalchemy.exc import", ""), path
        assert "db.models" not in text, path
        assert "CliRunner" not in text, path
