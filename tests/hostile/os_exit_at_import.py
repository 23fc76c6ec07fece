"""Leaves without even running Python's exit handlers."""

import os

os._exit(0)
