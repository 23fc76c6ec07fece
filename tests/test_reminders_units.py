"""The shipped systemd units and cron line run the commands that exist, the way the README says."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
SYSTEMD = ROOT / "contrib" / "systemd"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((SYSTEMD / name).read_text())
    return parser


def command_of(exec_start: str) -> list[str]:
    words = shlex.split(exec_start)
    assert words[0].endswith("/tracker"), exec_start
    return words[1:]


def test_the_timer_runs_remind_once_and_catches_up_after_a_missed_run() -> None:
    timer = unit("tracker-remind.timer")
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Timer"]["OnCalendar"] == "*:0/15"
    assert timer["Install"]["WantedBy"] == "timers.target"
    service = unit("tracker-remind.service")
    assert service["Service"]["Type"] == "oneshot"
    assert command_of(service["Service"]["ExecStart"]) == ["remind", "--once"]


def test_the_serve_unit_stops_on_sigterm_and_never_restarts_into_exit_3() -> None:
    service = unit("tracker-serve.service")["Service"]
    assert command_of(service["ExecStart"]) == ["serve"]
    assert service["KillSignal"] == "SIGTERM"
    assert service["RestartPreventExitStatus"] == "3"
    assert service["EnvironmentFile"].startswith("-")  # optional: no secrets file is fine


def test_the_cron_line_is_a_schedule_and_the_command() -> None:
    lines = [
        line
        for line in (ROOT / "contrib" / "cron" / "tracker-remind.cron").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(lines) == 1
    fields = lines[0].split()
    assert fields[:5] == ["*/15", "*", "*", "*", "*"]
    assert fields[5].endswith("/tracker") and fields[6:8] == ["remind", "--once"]


def test_the_commands_the_units_run_exist() -> None:
    from tracker.cli import cli

    for args in (["remind", "--help"], ["serve", "--help"], ["reminders", "--help"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
    assert "--once" in CliRunner().invoke(cli, ["remind", "--help"]).output
