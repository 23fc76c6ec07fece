"""A cheap fingerprint of lessons/, compared on every command to skip the sync.

Its own module so the daily path does not import the loader and its models;
``fingerprint`` itself is standard library only (`tracker status` uses it).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

FINGERPRINT_KEY = "curriculum_fingerprint"


def fingerprint(root: Path) -> str:
    """A hash of every file the loader reads; unchanged means nothing to sync."""
    digest = hashlib.sha256()
    files = [
        root / "curriculum.toml",
        *sorted(root.glob("*/lesson.toml")),
        *sorted(root.glob("*/lesson.md")),
    ]
    for path in files:
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()


def stored_fingerprint(session: Session) -> str | None:
    from sqlalchemy import select

    from tracker.db.models import Meta

    meta = Meta.__table__.c  # Core: runs on every command, keep the ORM mappers unconfigured
    return session.scalar(select(meta.value).where(meta.key == FINGERPRINT_KEY))


def needs_sync(session: Session, curriculum_fingerprint: str) -> bool:
    return stored_fingerprint(session) != curriculum_fingerprint
