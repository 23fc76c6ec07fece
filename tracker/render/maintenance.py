"""What `tracker db check` found and did, and the list of backups, as text."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracker.usecases.maintenance import BackupListing, CheckReport


def render_check(report: CheckReport) -> str:
    lines = [
        f"database: {report.location}",
        f"schema revision: {report.revision} (head {report.head})",
        *([f"journal mode: {report.journal_mode}"] if report.journal_mode else []),
        *([f"backup before repair: {report.backup}"] if report.backup else []),
        *(f"repaired: {done}" for done in report.repaired),
        *(f"problem: {problem}" for problem in report.problems),
    ]
    if report.ok:
        lines.append("ok")
    return "\n".join(lines)


def render_backups(listing: BackupListing) -> str:
    if not listing.backups:
        return f"no backups in {listing.folder} yet"
    rows = [
        f"{b.day.isoformat()}  {b.taken_at.strftime('%H:%M:%SZ')}  {_size(b.size):>9}  "
        f"{b.kind:<15}  {b.path}"
        for b in listing.backups
    ]
    return "\n".join(rows)


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
