"""The command line: the console script (``entry``) and the click group (``app``).

Importing this package costs nothing: the console script hands a submit to a
running ``tracker serve`` before click or any command module is loaded.
``tracker.cli.cli`` still names the group, loaded on first use.
"""

from __future__ import annotations


def __getattr__(name: str) -> object:  # not typing.Any: the console script loads this first
    if name == "cli":
        from tracker.cli.app import cli

        return cli
    raise AttributeError(name)
