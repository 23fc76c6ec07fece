"""Where the data that ships with tracker lives: lessons/, migrations/, alembic.ini.

In a checkout they sit at the repository root; in an installed wheel they are
force-included under tracker/_data (see pyproject.toml). Both layouts are
found the same way so editable and wheel installs behave alike.
"""

import os
from functools import cache
from pathlib import Path

LESSONS_ENV = "TRACKER_LESSONS"

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def _data_root() -> Path:
    bundled = _PACKAGE_DIR / "_data"
    if (bundled / "migrations").is_dir():
        return bundled
    return _PACKAGE_DIR.parent


def lessons_dir() -> Path:
    """The curriculum; ``TRACKER_LESSONS`` points at another one (for lesson authors)."""
    override = os.environ.get(LESSONS_ENV)
    if override:
        from tracker.errors import CurriculumError
        from tracker.paths import user_path

        return user_path(override, what=LESSONS_ENV, error=CurriculumError)
    return _data_root() / "lessons"


def migrations_dir() -> Path:
    return _data_root() / "migrations"


def alembic_ini() -> Path:
    return _data_root() / "alembic.ini"
