"""config show | get | set | unset."""

from __future__ import annotations

import click

from tracker.cli.common import emit_json


@click.group()
def config() -> None:
    """Show or change settings (stored in config.toml)."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def config_show(as_json: bool) -> None:
    """Show every setting with its effective value, as TOML writes it.

    \b
    Example:
        tracker config show
    """
    from tracker.config import config_path, load_settings, shown_settings
    from tracker.render.config import render_settings

    path = config_path()
    values = shown_settings(load_settings(path))
    if as_json:
        emit_json({"path": str(path), "settings": values})
        return
    click.echo(render_settings(path, values, exists=path.exists()))


@config.command("get")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="Print the value as JSON.")
def config_get(key: str, as_json: bool) -> None:
    """Print one setting's effective value (lists comma-separated).

    \b
    Example:
        tracker config get timezone
    """
    from tracker.config import PARSERS, load_settings, plain_value, shown_settings, unknown_key

    if key not in PARSERS:
        raise unknown_key(key)
    value = shown_settings(load_settings())[key]  # a secret shows only whether it is set
    if as_json:
        emit_json(value)
        return
    click.echo(plain_value(value))


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
    from tracker.config import SECRET_KEYS, store_value, toml_value

    stored = store_value(key, value)
    if stored.repair is not None:
        click.echo(stored.repair.describe(), err=True)
    shown = "(set)" if key in SECRET_KEYS and stored.value else toml_value(stored.value)
    click.echo(f"{key} = {shown} (saved to {stored.path})")


@config.command("unset")
@click.argument("key")
def config_unset(key: str) -> None:
    """Remove KEY from the file: it goes back to its default.

    \b
    Example:
        tracker config unset sessions_per_week
    """
    from tracker.config import config_path, toml_value, unset_value

    default = unset_value(key)
    click.echo(f"{key} unset: back to the default, {toml_value(default)} ({config_path()})")
