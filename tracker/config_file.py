"""Where the config file is, and its raw contents: the light half of ``tracker.config``.

Kept apart (standard library only, platformdirs when needed) so ``submit``'s
hand-off to ``tracker serve`` can find the database without loading the typed
settings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tracker.errors import ConfigError

CONFIG_ENV = "TRACKER_CONFIG"


def config_path() -> Path:
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        return Path(explicit).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("tracker")) / "config.toml"


def read_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    import tomllib

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from exc
