"""config show | set."""

from __future__ import annotations

import click

from tracker.cli.common import emit_json


@click.group()
def config() -> None:
    """Show or change settings (stored in config.toml)."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def config_show(as_json: bool) -> None:
    """Show every setting with its effective value.

    \b
    Example:
        tracker config show
    """
    from tracker.config import DESCRIPTIONS, config_path, load_settings, settings_dict

    path = config_path()
    values = settings_dict(load_settings(path))
    if as_json:
        emit_json({"path": str(path), "settings": values})
        return
    click.echo(f"# {path}{'' if path.exists() else ' (not created yet: defaults)'}")
    for key, value in values.items():
        shown = ", ".join(value) if isinstance(value, list) else value
        click.echo(f"{key} = {shown!s:<24} # {DESCRIPTIONS[key]}")


@config.command("set")
@click.argument("key")
@click.argument("value")
def config_set(key: str, value: str) -> None:
    """Set KEY to VALUE after validating it.

    A config file that cannot be read is rebuilt from its lines that still
    read (the damaged file is kept beside it, as config.toml.damaged-N).

    \b
    Example:
        tracker config set timezone Asia/Seoul
    """
    from tracker.config import store_value

    stored = store_value(key, value)
    if stored.repair is not None:
        click.echo(stored.repair.describe(), err=True)
    click.echo(f"{key} = {stored.value} (saved to {stored.path})")
