"""`config show` as aligned lines of TOML, each with what the key means."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def render_settings(path: Path, values: dict[str, Any], *, exists: bool) -> str:
    from tracker.config import DESCRIPTIONS, SECRET_KEYS, toml_value

    shown = {
        key: value if key in SECRET_KEYS else toml_value(value) for key, value in values.items()
    }
    key_width = max(len(k) for k in shown)
    value_width = min(28, max(len(v) for v in shown.values()))
    lines = [f"# {path}{'' if exists else ' (not created yet: defaults)'}"]
    for key, value in shown.items():
        lines.append(f"{key:<{key_width}} = {value:<{value_width}}  # {DESCRIPTIONS[key]}")
    return "\n".join(lines)
