"""What `tracker db check` found, as text."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracker.usecases.maintenance import CheckReport


def render_check(report: CheckReport) -> str:
    lines = [
        f"database: {report.location}",
        f"schema revision: {report.revision} (head {report.head})",
        *([f"journal mode: {report.journal_mode}"] if report.journal_mode else []),
        *(f"problem: {problem}" for problem in report.problems),
    ]
    if report.ok:
        lines.append("ok")
    return "\n".join(lines)
