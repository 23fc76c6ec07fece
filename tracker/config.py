"""Settings from the TOML config file and the environment, typed and validated.

The file lives at ``TRACKER_CONFIG`` or platformdirs' user config dir. Every
key has one parser that both ``config set`` and file loading use, so a value
that could be set can always be read back.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from tracker.clock import Clock, parse_timezone, system_timezone_name
from tracker.config_file import (  # noqa: F401 - re-exported
    CONFIG_ENV,
    ConfigText,
    Repair,
    config_path,
    read_config,
    read_file,
    update_file,
)
from tracker.errors import ConfigError

CHANNELS = ("terminal", "desktop", "email", "webhook")


def _parse_int(low: int, high: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError("expected a whole number")
        try:
            number = int(value)
        except (ValueError, OverflowError):
            raise ValueError("expected a whole number") from None
        if not low <= number <= high:
            raise ValueError(f"must be between {low} and {high}")
        return number

    return parse


def _parse_float(low: float, high: float) -> Callable[[Any], float]:
    def parse(value: Any) -> float:
        try:
            number = float(value)
        except (ValueError, OverflowError):
            raise ValueError("expected a number") from None
        if not low <= number <= high:
            raise ValueError(f"must be between {low} and {high}")
        return number

    return parse


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "yes", "on", "1"}:
        return True
    if text in {"false", "no", "off", "0"}:
        return False
    raise ValueError("expected true or false")


def _parse_timezone(value: Any) -> str:
    parse_timezone(str(value))
    return str(value)


def _parse_hhmm(value: Any) -> str:
    text = str(value).strip()
    if text.lower() in {"", "off"}:
        return ""  # no reminder of this kind
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", text)
    if not match:
        raise ValueError("expected a time as HH:MM, e.g. 09:00, or off")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def _parse_path(value: Any) -> str:
    text = str(value).strip()
    return str(Path(text).expanduser()) if text else ""


def _parse_channels(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [p for p in str(value).split(",") if p.strip()]
    channels = [str(item).strip() for item in items]
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown:
        raise ValueError(f"unknown channel {unknown[0]!r}; choose from {', '.join(CHANNELS)}")
    return channels


def _parse_text(value: Any) -> str:
    if isinstance(value, list | dict):
        raise ValueError("expected text")
    text = str(value).strip()
    if not text:
        raise ValueError("must not be empty")
    return text


def _parse_optional_text(value: Any) -> str:
    return str(value).strip()


def _parse_webhook_url(value: Any) -> str:
    text = str(value).strip()
    if text and not re.match(r"https?://[^\s/]+", text):
        raise ValueError("expected an http:// or https:// URL")
    return text


def _parse_location(value: Any) -> str:
    """A database path or URL: text (``db = 5`` or a ``[db]`` table is a mistake, not a file)."""
    if not isinstance(value, str):
        raise ValueError("expected a file path or a database URL, as text in quotes")
    return value.strip()


def is_relative_path(location: str) -> bool:
    """A database location that is a relative file path (not a URL, not ``~``, not absolute)."""
    return bool(location) and "://" not in location and not location.startswith(("/", "~"))


_STEP_UNITS = {"m": 1, "h": 60, "d": 1440}


def _parse_steps(value: Any) -> list[str]:
    """FSRS (re)learning steps as durations such as ``10m``, ``1h``, ``1d``; empty for none."""
    items = value if isinstance(value, list) else [p for p in str(value).split(",") if p.strip()]
    steps = []
    for item in items:
        text = str(item).strip().lower()
        match = re.fullmatch(r"(\d+)\s*([mhd])", text)
        if not match or int(match.group(1)) == 0:
            raise ValueError(f"bad step {text!r}: expected durations such as 10m, 1h or 1d")
        if int(match.group(1)) * _STEP_UNITS[match.group(2)] > 365 * 1440:
            raise ValueError(f"step {text!r} is longer than a year")
        steps.append(f"{int(match.group(1))}{match.group(2)}")
    return steps


def step_minutes(step: str) -> int:
    """A parsed step (``10m``, ``2h``, ``1d``) in minutes."""
    return int(step[:-1]) * _STEP_UNITS[step[-1]]


@dataclass(frozen=True)
class Settings:
    """Every configuration key, with its default. Field docs feed ``config show``."""

    db: str = ""
    timezone: str = field(default_factory=system_timezone_name)
    day_starts_at: int = 4
    sessions_per_week: int = 3
    desired_retention: float = 0.9
    maximum_interval: int = 36500
    # No intra-day steps by default: `due` looks to the end of the learner-day,
    # so a card rated today never comes back the same day.
    learning_steps: list[str] = field(default_factory=list)
    relearning_steps: list[str] = field(default_factory=list)
    reminder_time: str = "09:00"
    # Off by default: an evening nudge is something a learner asks for.
    streak_reminder_time: str = ""
    channels: list[str] = field(default_factory=lambda: ["terminal"])
    email_to: str = ""
    email_from: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password_file: str = ""
    smtp_starttls: bool = True
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_timeout: int = 10
    require_isolation: bool = False
    validation_timeout: int = 60
    learner: str = "me"

    @property
    def clock(self) -> Clock:
        return Clock(tz=parse_timezone(self.timezone), day_starts_at=self.day_starts_at)


PARSERS: dict[str, Callable[[Any], Any]] = {
    "db": _parse_location,
    "timezone": _parse_timezone,
    "day_starts_at": _parse_int(0, 23),
    "sessions_per_week": _parse_int(1, 21),
    "desired_retention": _parse_float(0.7, 0.99),
    "maximum_interval": _parse_int(1, 36500),
    "learning_steps": _parse_steps,
    "relearning_steps": _parse_steps,
    "reminder_time": _parse_hhmm,
    "streak_reminder_time": _parse_hhmm,
    "channels": _parse_channels,
    "email_to": _parse_optional_text,
    "email_from": _parse_optional_text,
    "smtp_host": _parse_optional_text,
    "smtp_port": _parse_int(1, 65535),
    "smtp_user": _parse_optional_text,
    "smtp_password_file": _parse_path,
    "smtp_starttls": _parse_bool,
    "webhook_url": _parse_webhook_url,
    "webhook_secret": _parse_optional_text,
    "webhook_timeout": _parse_int(1, 120),
    "require_isolation": _parse_bool,
    "validation_timeout": _parse_int(1, 3600),
    "learner": _parse_text,
}

DESCRIPTIONS: dict[str, str] = {
    "db": "database path or URL (empty: the platform data dir)",
    "timezone": "IANA timezone of the learner (default: the system's)",
    "day_starts_at": "hour a learner-day starts; earlier work counts for the day before",
    "sessions_per_week": "study sessions per week the plan aims for",
    "desired_retention": "FSRS target probability of recall at review time",
    "maximum_interval": "longest review interval in days",
    "learning_steps": "FSRS steps for new cards, e.g. 10m,1d (default none: whole days only)",
    "relearning_steps": "FSRS steps after a lapse, e.g. 10m (default none: whole days only)",
    "reminder_time": "local time of the daily reminder (HH:MM, or off)",
    "streak_reminder_time": "local time of the streak-at-risk reminder (HH:MM; default off)",
    "channels": "reminder channels: terminal, desktop, email, webhook",
    "email_to": "address for the email channel",
    "email_from": "From address of reminder emails (default: smtp_user, else email_to)",
    "smtp_host": "SMTP server for the email channel",
    "smtp_port": "SMTP port (587: submission with STARTTLS)",
    "smtp_user": "SMTP login (the password: $TRACKER_SMTP_PASSWORD or smtp_password_file)",
    "smtp_password_file": "file holding the SMTP password; must be mode 0600",
    "smtp_starttls": "upgrade the SMTP connection with STARTTLS (a password is never sent without)",
    "webhook_url": "URL for the webhook channel",
    "webhook_secret": "Standard Webhooks signing secret (whsec_...); never shown",
    "webhook_timeout": "seconds a webhook POST may take",
    "require_isolation": "refuse to validate without the bubblewrap sandbox",
    "validation_timeout": "default wall-clock limit for a submission, in seconds",
    "learner": "name of the learner this machine records for",
}

assert set(PARSERS) == {f.name for f in fields(Settings)} == set(DESCRIPTIONS)

# Values `config show` never prints (nor does anything log them).
SECRET_KEYS = frozenset({"webhook_secret"})


def unknown_key(key: str) -> ConfigError:
    from tracker.hints import closest

    best = closest(key, list(PARSERS))
    if best is not None:
        return ConfigError(f"unknown config key {key!r}; did you mean {best}?")
    return ConfigError(f"unknown config key {key!r}; known keys: {', '.join(PARSERS)}")


def parse_value(key: str, value: Any) -> Any:
    if key not in PARSERS:
        raise unknown_key(key)
    try:
        return PARSERS[key](value)
    except (ValueError, TypeError, ConfigError) as exc:
        raise ConfigError(f"invalid value for {key}: {exc}") from exc


def settings_from(raw: dict[str, Any], where: str, text: ConfigText | None = None) -> Settings:
    """Settings from raw values (a config file's, a hand-off's), each key parsed and checked.

    ``text`` (the file as read) lets an error name the line of the bad key.
    """
    values: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            values[key] = parse_value(key, value)
        except ConfigError as exc:
            line = text.line_of(key) if text is not None else None
            at = f" (line {line})" if line is not None else ""
            raise ConfigError(f"{where}: {exc}{at}") from exc
    return replace(Settings(), **values)


def load_settings(path: Path | None = None) -> Settings:
    """The settings of the config file; a relative ``db`` in it is relative to the file."""
    path = path or config_path()
    text = read_config(path)
    settings = settings_from(text.raw, str(path), text)
    if is_relative_path(settings.db):
        settings = replace(settings, db=os.path.join(os.path.dirname(path), settings.db))
    return settings


@dataclass(frozen=True)
class StoredValue:
    """What ``config set`` stored, where, and what it repaired on the way."""

    key: str
    value: Any
    path: Path
    repair: Repair | None = None


def _readable(name: str, raw_value: Any) -> bool:
    """Whether a line of a damaged file is worth keeping: a known key with a valid value."""
    try:
        parse_value(name, raw_value)
    except ConfigError:
        return False
    return True


def store_value(
    key: str, value: str, path: Path | None = None, *, cwd: str | None = None
) -> StoredValue:
    """Validate and store one key, safely against concurrent writers (``update_file``).

    A relative ``db`` means the directory it was typed in (``cwd``, default the
    process's): it is stored absolute, so later commands anywhere find it.
    """
    path = path or config_path()
    parsed = parse_value(key, value)
    if key == "db" and is_relative_path(parsed):
        parsed = os.path.abspath(os.path.join(cwd or os.getcwd(), parsed))

    repair = update_file(path, lambda raw: raw.__setitem__(key, parsed), salvage=_readable)
    return StoredValue(key, parsed, path, repair)


def set_value(key: str, value: str, path: Path | None = None) -> Any:
    """Validate and store one key; returns the parsed value."""
    return store_value(key, value, path).value


def unset_value(key: str, path: Path | None = None) -> Any:
    """Remove one key from the file (as safely as ``store_value``); returns its default."""
    if key not in PARSERS:
        raise unknown_key(key)
    update_file(path or config_path(), lambda raw: raw.pop(key, None), salvage=_readable)
    return getattr(Settings(), key)


def toml_value(value: Any) -> str:
    """A value as TOML writes it, on one line: ``false``, ``"09:00"``, ``["terminal"]``."""
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string


def plain_value(value: Any) -> str:
    """A value for a script to read: text as is, lists comma-separated, booleans in lower case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def settings_dict(settings: Settings) -> dict[str, Any]:
    return {f.name: getattr(settings, f.name) for f in fields(Settings)}


def shown_settings(settings: Settings) -> dict[str, Any]:
    """``settings_dict`` for people: a secret shows only whether it is set."""
    values = settings_dict(settings)
    for key in SECRET_KEYS:
        values[key] = "(set)" if values[key] else ""
    return values
