"""The ``tracker`` click group: a thin layer over the use cases.

Each command parses its options, calls one use case (``tracker.usecases``) and
renders the result (``tracker.render``). Command modules are imported here
eagerly but keep their own heavy imports inside the functions.
"""

from __future__ import annotations

import click

from tracker import __version__
from tracker.cli.common import TrackerGroup


@click.group(cls=TrackerGroup)
@click.version_option(__version__, prog_name="tracker")
@click.option(
    "--db",
    metavar="PATH_OR_URL",
    default=None,
    help="SQLite file or postgresql+psycopg:// URL (default: TRACKER_DB, config, data dir).",
)
@click.option("--no-color", is_flag=True, help="No colour in the output (as NO_COLOR=1).")
@click.pass_context
def cli(ctx: click.Context, db: str | None, no_color: bool) -> None:
    """Spaced-repetition learning tracker for modern ML, one concept at a time.

    \b
    Every morning:
        tracker checkin
    """
    options = ctx.ensure_object(dict)
    options["db"] = db
    options["no_color"] = no_color


from tracker.cli import (  # noqa: E402
    catalog,
    checkin_cmd,
    config_cmd,
    db_cmd,
    history_cmd,
    import_cmd,
    remind_cmd,
    report_cmd,
    review_cmd,
    serve_cmd,
    status_cmd,
    submit_cmd,
)

for _command in (
    checkin_cmd.checkin,
    checkin_cmd.plan,
    checkin_cmd.learn,
    catalog.init,
    catalog.concepts,
    catalog.lessons,
    catalog.lesson,
    history_cmd.history,
    import_cmd.import_group,
    report_cmd.report,
    report_cmd.export,
    config_cmd.config,
    db_cmd.db,
    review_cmd.due,
    review_cmd.review,
    review_cmd.optimize,
    remind_cmd.remind,
    remind_cmd.reminders,
    serve_cmd.serve,
    status_cmd.status,
    submit_cmd.submit,
):
    cli.add_command(_command)
