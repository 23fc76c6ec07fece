"""One JSON document for ``--json``: snake_case keys, ISO dates, UTF-8 as is."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        return as_dict()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(document: Any) -> str:
    """The document as indented JSON text (no trailing newline)."""
    return json.dumps(document, ensure_ascii=False, indent=2, default=_default)
