"""The report as data: JSON (the report's whole document) and CSV (sessions or the review log).

CSV headers are English snake_case whatever ``--lang`` says: a spreadsheet or
a script reads them, not a person. Rows are in time order; text is UTF-8.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracker.reports.document import ReportDocument, ReviewLogDocument


RATINGS = ("again", "hard", "good", "easy")
SESSION_COLUMNS = ("date", "concept", "depth", "lesson", "kind", "completed_at")
REVIEW_COLUMNS = (
    "date",
    "reviewed_at",
    "card",
    "concept",
    "lesson",
    "depth",
    "card_kind",
    "rating",
    "rating_name",
)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def render_json(doc: ReportDocument) -> bytes:
    text = json.dumps(doc.as_dict(), ensure_ascii=False, indent=2, default=_default)
    return (text + "\n").encode("utf-8")


def render_sessions_csv(doc: ReportDocument) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SESSION_COLUMNS)
    for s in doc.data.sessions:
        writer.writerow(
            (
                s.local_date.isoformat(),
                s.concept,
                s.depth,
                s.lesson or "",
                s.kind,
                s.completed_at.isoformat(),
            )
        )
    return out.getvalue().encode("utf-8")


def render_reviews_csv(doc: ReviewLogDocument) -> bytes:
    depths = {x.id: x.depth for x in doc.lessons}
    about = {c.id: (c.concept, c.lesson, depths.get(c.lesson, ""), c.kind) for c in doc.cards}
    unknown = ("", "", "", "")
    days: dict[date, str] = {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REVIEW_COLUMNS)
    writer.writerows(
        (
            days.get(r.local_date) or days.setdefault(r.local_date, r.local_date.isoformat()),
            r.reviewed_at.isoformat(),
            r.card,
            *about.get(r.card, unknown),
            r.rating,
            RATINGS[r.rating - 1],
        )
        for r in doc.reviews  # in time order
    )
    return out.getvalue().encode("utf-8")
