"""Plain aligned tables with a header, the last column cut to the terminal width."""

from __future__ import annotations

import shutil
from collections.abc import Sequence

from tracker.render.style import PLAIN, Style

GAP = "  "


def terminal_width(default: int = 100) -> int:
    return max(40, shutil.get_terminal_size((default, 24)).columns)


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    style: Style = PLAIN,
    *,
    width: int | None = None,
) -> str:
    """Columns as wide as their widest cell; the last one cut with … to fit ``width``."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    width = width or terminal_width()
    room = max(10, width - sum(widths[:-1]) - len(GAP) * (len(widths) - 1))
    lines = []
    for number, row in enumerate([list(headers), *cells]):
        *first, last = row
        if len(last) > room:
            last = last[: room - 1] + "…"
        text = GAP.join(c.ljust(w) for c, w in zip(first, widths, strict=False))
        line = f"{text}{GAP}{last}".rstrip() if first else last
        lines.append(style.bold(line) if number == 0 else line)
    return "\n".join(lines)
