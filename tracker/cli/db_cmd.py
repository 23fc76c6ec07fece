"""db check | backup | upgrade."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli.common import emit_json, get_store


@click.group()
def db() -> None:
    """Check, back up or upgrade the database."""


@db.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def db_check(ctx: click.Context, as_json: bool) -> None:
    """Check integrity, schema revision and curriculum; exit 1 on any problem.

    \b
    Example:
        tracker db check
    """
    from tracker.render.maintenance import render_check
    from tracker.usecases.maintenance import check_database

    report = check_database(get_store(ctx, prepare=False))
    if as_json:
        emit_json(report.as_dict())
    else:
        click.echo(render_check(report))
    ctx.exit(0 if report.ok else 1)


@db.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def db_backup(ctx: click.Context, path: Path) -> None:
    """Write a consistent copy of the SQLite database to PATH.

    \b
    Example:
        tracker db backup ~/tracker-backup.db
    """
    from tracker.usecases.maintenance import backup_database

    written = backup_database(get_store(ctx, prepare=False), path)
    click.echo(f"backup written to {written}")


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Bring the schema to the newest revision (backing up SQLite first).

    \b
    Example:
        tracker db upgrade
    """
    from tracker.usecases.maintenance import upgrade_database

    store = get_store(ctx, prepare=False)
    click.echo(upgrade_database(store, now=store.now()))
