"""db check | backup | upgrade."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli.common import emit_json


@click.group()
def db() -> None:
    """Check, back up or upgrade the database."""


def _root_db(ctx: click.Context) -> str | None:
    return ctx.find_root().ensure_object(dict).get("db")


@db.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def db_check(ctx: click.Context, as_json: bool) -> None:
    """Check integrity, schema revision and curriculum; exit 1 on any problem.

    \b
    Example:
        tracker db check
    """
    from tracker.maintenance import check_database

    report = check_database(_root_db(ctx))
    if as_json:
        emit_json(report.as_dict())
    else:
        click.echo(f"database: {report.location}")
        click.echo(f"schema revision: {report.revision} (head {report.head})")
        for problem in report.problems:
            click.echo(f"problem: {problem}")
        if report.ok:
            click.echo("ok")
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
    from tracker.maintenance import backup_database

    written = backup_database(_root_db(ctx), path)
    click.echo(f"backup written to {written}")


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Bring the schema to the newest revision (backing up SQLite first).

    \b
    Example:
        tracker db upgrade
    """
    from tracker.maintenance import upgrade_database

    click.echo(upgrade_database(_root_db(ctx)))
