"""Alembic environment for tracker.

The tracker passes its own connection (``config.attributes["connection"]``),
already inside a transaction with SQLite foreign keys off, so a failed upgrade
rolls back whole. Run from the command line, the database comes from
``-x db=...``, else the same resolution the CLI uses.
"""

from alembic import context

from tracker.db.models import Base

config = context.config
target_metadata = Base.metadata


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001, ANN201
    # APScheduler keeps its job store in the same database and manages its own table.
    return not (type_ == "table" and name.startswith("apscheduler"))


def _configure(**kwargs) -> None:  # noqa: ANN003
    context.configure(
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_object=include_object,
        **kwargs,
    )


def _command_line_location():  # noqa: ANN202
    from tracker.config import load_settings
    from tracker.db.engine import resolve_location

    explicit = context.get_x_argument(as_dictionary=True).get("db")
    return resolve_location(explicit, load_settings().db)


def run_migrations_offline() -> None:
    _configure(url=_command_line_location().url, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    from tracker.db.engine import create_engine_for, writer

    engine = create_engine_for(_command_line_location(), foreign_keys=False)
    with writer(engine).connect() as connection, connection.begin():
        _configure(connection=connection)
        context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
