"""db check [--repair] | backup | backups | restore | upgrade."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli.common import emit_json, get_store


@click.group()
def db() -> None:
    """Check, back up or upgrade the database."""


@db.command("check")
@click.option("--repair", is_flag=True, help="Fix what can be fixed (after a backup).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def db_check(ctx: click.Context, repair: bool, as_json: bool) -> None:
    """Check integrity, schema, curriculum and rows; exit 1 on any problem left.

    \b
    Example:
        tracker db check --repair
    """
    from tracker.render.maintenance import render_check
    from tracker.usecases.maintenance import check_database

    store = get_store(ctx, prepare=False)
    report = check_database(store, repair=repair, now=store.now() if repair else None)
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


@db.command("backups")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def db_backups(ctx: click.Context, as_json: bool) -> None:
    """List the automatic backups beside the database (date, size, path).

    \b
    Example:
        tracker db backups
    """
    from tracker.render.maintenance import render_backups
    from tracker.usecases.maintenance import list_database_backups

    listing = list_database_backups(get_store(ctx, prepare=False))
    if as_json:
        emit_json(listing.as_dict())
    else:
        click.echo(render_backups(listing))


@db.command("restore")
@click.argument("path", type=click.Path(dir_okay=True, path_type=Path))
@click.pass_context
def db_restore(ctx: click.Context, path: Path) -> None:
    """Replace the database with a backup, saving the current state as a backup first.

    \b
    Example:
        tracker db restore ~/.local/share/tracker/backups/tracker.2026-12-01T090000Z.daily.db
    """
    from tracker.usecases.maintenance import restore_database

    store = get_store(ctx, prepare=False)
    click.echo(restore_database(store, path, now=store.now()).describe())


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
