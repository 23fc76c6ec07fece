"""A submission's verdict as text: the same lines for a cold submit and a handed-off one.

Standard library only: the hand-off client prints a warm verdict with it in a
process that never loads click, SQLAlchemy or torch.
"""

from __future__ import annotations

import itertools
import textwrap
from typing import Any

from tracker.render.style import PLAIN, Style

WIDTH = 100


def _wrap(text: str, width: int, indent: str, hang: str) -> list[str]:
    return textwrap.wrap(
        text, width=width, initial_indent=indent, subsequent_indent=hang, break_on_hyphens=False
    ) or [indent.rstrip()]


def _skip_reason(check: dict[str, Any]) -> str | None:
    return check["message"] if check.get("skipped") else None


def render_verdict(
    document: dict[str, Any], style: Style = PLAIN, *, width: int = WIDTH, quiet: bool = False
) -> list[str]:
    """The verdict's lines; ``quiet``: the first alone. Advice wraps at ``width``."""
    passed = bool(document["passed"]) and not document.get("cancelled")
    status = (
        style.paint("passed", "green", "bold") if passed else style.paint("failed", "red", "bold")
    )
    lines = [f"{style.bold(document['lesson'] + ':')} {status}"]
    if quiet:
        return lines
    if document.get("error"):
        lines += _wrap(f"error: {document['error']}", width, "  ", "    ")
    # Checks that never ran are listed once per reason, not marked as failures.
    for reason, run in itertools.groupby(document["checks"], key=_skip_reason):
        if reason is None:
            for check in run:
                mark = style.ok if check["passed"] else style.bad
                lines += _wrap(
                    f"{check['name']}: {check['message']}", width, f"  {mark} ", "      "
                )
        else:
            names = ", ".join(c["name"] for c in run)  # one line: a list, not advice
            lines.append(f"  {style.skip} skipped ({reason}): {names}")
    lines.append(
        f"device {document['device']}, isolation {document['isolation']}, "
        f"{document['duration_s']:.2f} s"
    )
    if not document["isolation"].startswith("bubblewrap"):
        lines.append("  (no sandbox: bubblewrap is unavailable, so the code ran with limits only)")
    review = document.get("review")
    if document.get("cancelled"):
        lines.append("cancelled: nothing recorded but the attempt")
    elif "review" in document:
        lines.append(_review_line(review, passed=document["passed"]))
    elif document.get("practice"):
        lines.append("passed again: recorded as practice (not a new session)")
    elif document.get("recorded"):
        lines.append("progress recorded")
    elif not document["passed"]:
        lines.append("nothing recorded but the attempt; fix the failing checks and submit again")
    return lines


def _review_line(review: dict[str, Any] | None, *, passed: bool) -> str:
    if not review:
        return "no code card to rate"
    due = f"next due {review['due_date']}"
    if review.get("kept"):
        return (
            f"code card already rated {review['rating']} today; this try does not change it ({due})"
        )
    if review.get("replaced"):
        return f"code card rated {review['rating']} (was {review['replaced']} earlier today), {due}"
    return f"code card rated {review['rating']}, {due}"
