from pathlib import Path

import pytest

from tracker.config import Settings, load_settings, parse_value, set_value
from tracker.errors import ConfigError


def test_defaults_when_the_file_is_missing(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "none.toml")
    assert settings.day_starts_at == 4
    assert settings.sessions_per_week == 3
    assert settings.desired_retention == 0.9
    assert settings.reminder_time == "09:00"


def test_set_then_load_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    set_value("timezone", "Asia/Seoul", path)
    set_value("day_starts_at", "5", path)
    set_value("channels", "terminal,webhook", path)
    set_value("reminder_time", "7:05", path)
    settings = load_settings(path)
    assert (settings.timezone, settings.day_starts_at) == ("Asia/Seoul", 5)
    assert settings.channels == ["terminal", "webhook"]
    assert settings.reminder_time == "07:05"
    assert settings.clock.day_starts_at == 5


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("timezone", "Mars/Olympus", "unknown timezone"),
        ("day_starts_at", "24", "between 0 and 23"),
        ("day_starts_at", "four", "invalid value for day_starts_at"),
        ("desired_retention", "1.5", "between 0.7 and 0.99"),
        ("reminder_time", "25:00", "HH:MM"),
        ("channels", "pigeon", "unknown channel"),
        ("require_isolation", "maybe", "true or false"),
        ("colour", "blue", "unknown config key"),
    ],
)
def test_invalid_values_are_refused_and_the_file_is_untouched(
    tmp_path: Path, key: str, value: str, message: str
) -> None:
    path = tmp_path / "c.toml"
    path.write_text('timezone = "UTC"\n')
    with pytest.raises(ConfigError, match=message):
        set_value(key, value, path)
    assert path.read_text() == 'timezone = "UTC"\n'


def test_a_bad_file_names_the_file_and_the_key(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("day_starts_at = 99\n")
    with pytest.raises(ConfigError, match=r"c\.toml: invalid value for day_starts_at"):
        load_settings(path)
    path.write_text("not toml [")
    with pytest.raises(ConfigError, match="cannot read config"):
        load_settings(path)


def test_every_key_parses_its_own_default() -> None:
    defaults = Settings()
    for key in (
        "timezone",
        "day_starts_at",
        "sessions_per_week",
        "desired_retention",
        "reminder_time",
        "channels",
    ):
        assert parse_value(key, getattr(defaults, key)) == getattr(defaults, key)


def test_config_get_unset_and_a_mistyped_key(cli_run, tracker_env: Path) -> None:
    assert cli_run("config", "set", "channels", "terminal,webhook").exit_code == 0
    assert cli_run("config", "get", "channels").stdout == "terminal,webhook\n"
    assert cli_run("config", "get", "require_isolation").stdout == "false\n"
    assert cli_run("config", "get", "channels", "--json").stdout.split() == [
        "[",
        '"terminal",',
        '"webhook"',
        "]",
    ]
    unset = cli_run("config", "unset", "channels")
    assert unset.exit_code == 0
    assert unset.stdout.startswith('channels unset: back to the default, ["terminal"]')
    assert cli_run("config", "get", "channels").stdout == "terminal\n"
    typo = cli_run("config", "set", "timezon", "UTC")
    assert typo.exit_code == 2
    assert typo.stderr == "Error: unknown config key 'timezon'; did you mean timezone?\n"
    assert cli_run("config", "get", "nothing-like-it").exit_code == 2


def test_config_show_is_aligned_toml(cli_run, tracker_env: Path) -> None:
    shown = cli_run("config", "show").stdout.splitlines()
    assert shown[0].startswith("# ")
    lines = shown[1:]
    equals = {line.index(" = ") for line in lines}
    hashes = {line.index("  # ") for line in lines}
    assert len(equals) == 1 and len(hashes) == 1  # keys, values and notes in columns
    assert any(line.startswith("require_isolation") and " = false " in line for line in lines)
    assert any(line.startswith("reminder_time") and ' = "09:00" ' in line for line in lines)


def test_config_cli_show_and_set(cli_run, tracker_env: Path) -> None:
    result = cli_run("config", "set", "sessions_per_week", "5")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("sessions_per_week = 5 (saved to ")
    shown = cli_run("config", "show", "--json")
    import json

    assert json.loads(shown.stdout)["settings"]["sessions_per_week"] == 5
    bad = cli_run("config", "set", "sessions_per_week", "zero")
    assert bad.exit_code == 2
    assert (
        bad.stderr.strip() == "Error: invalid value for sessions_per_week: expected a whole number"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("day_starts_at = inf\n", "invalid value for day_starts_at"),
        ("day_starts_at = 4.9\n", "invalid value for day_starts_at"),
        ("validation_timeout = 1e400\n", "invalid value for validation_timeout"),
        ('learner = ["a", "b"]\n', "invalid value for learner"),
    ],
)
def test_odd_values_in_the_file_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(path)


def test_an_unwritable_config_is_one_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="cannot write"):
        set_value("timezone", "UTC", blocker / "c.toml")


def test_values_are_shown_as_toml_reads_them_back() -> None:
    import tomllib
    from dataclasses import fields

    from tracker.config import Settings, toml_value

    settings = Settings(channels=["terminal", "email"], email_to='a "quoted" name')
    for field in fields(Settings):
        value = getattr(settings, field.name)
        assert tomllib.loads(f"v = {toml_value(value)}")["v"] == value, field.name
