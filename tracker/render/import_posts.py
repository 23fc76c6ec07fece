"""The text summary of `tracker import posts`: per post what was added, already there,
skipped and repaired, then the totals."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracker.usecases.importing import FileReport, ImportReport, SessionRef


def _session(ref: SessionRef) -> str:
    return f"{ref.date.isoformat()} {ref.concept}@{ref.depth}"


def _repair_line(report: FileReport) -> str | None:
    figures = report.repaired
    if report.repair == "none":
        return None
    how = "lost bytes restored" if report.repair == "cp1254" else "ftfy"
    line = f"  repaired {figures.characters} characters ({how})"
    if figures.guessed:
        line += f", {figures.guessed} a guess among close candidates"
    if figures.unrecoverable:
        line += f", {figures.unrecoverable} could not be restored"
    return line


def render_file(report: FileReport) -> list[str]:
    when = report.date.isoformat() if report.date else "no date"
    lines = [
        f"{report.path}  {when}: {len(report.added)} added, {len(report.already)} already there"
        + (f", {len(report.skipped)} skipped" if report.skipped else "")
    ]
    lines += [f"  + {_session(ref)}" for ref in report.added]
    lines += [f"  = {_session(ref)}" for ref in report.already]
    lines += [
        f"  ^ {d.concept} depth {d.depth} as of {d.as_of.isoformat()} (learned before, no date)"
        for d in report.depths
    ]
    lines += [f"  - {problem.what}: {problem.why}" for problem in report.skipped]
    repair = _repair_line(report)
    if repair:
        lines.append(repair)
    if report.repaired_copy:
        lines.append(f"  repaired copy: {report.repaired_copy}")
    return lines


def render_text(report: ImportReport) -> str:
    lines: list[str] = []
    for file_report in report.files:
        lines += render_file(file_report)
    posts = len(report.files)
    verb = "would import" if report.dry_run else "imported"
    lines.append(
        f"{verb} {report.added} sessions from {posts} {'post' if posts == 1 else 'posts'}: "
        f"{report.already} already there, {report.skipped} skipped"
        + (" (dry run: nothing written)" if report.dry_run else "")
    )
    return "\n".join(lines)
