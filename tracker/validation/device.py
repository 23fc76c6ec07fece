"""Which torch device a submission is judged on: ``--device auto|cpu|cuda|mps``.

``auto`` picks CUDA, then MPS, then the CPU. Asking for a device that is not
there is a usage error, not a silent fallback: a learner who asked for CUDA
wants to know their numbers were not checked on it. Answering "no CUDA here"
should not cost an ``import torch`` on a machine with no NVIDIA driver at all,
so the driver's device nodes are looked at first.
"""

from __future__ import annotations

import glob
import sys

from tracker.errors import UsageError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def nvidia_driver_present() -> bool:
    """False when CUDA cannot possibly be available (Linux without NVIDIA device nodes)."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(glob.glob("/dev/nvidiactl") or glob.glob("/dev/nvidia[0-9]*"))


def cuda_available() -> bool:
    if not nvidia_driver_present():
        return False
    import torch

    return bool(torch.cuda.is_available())


def mps_available() -> bool:
    if sys.platform != "darwin":
        return False
    import torch

    return bool(torch.backends.mps.is_available())


def resolve_device(requested: str) -> str:
    """The concrete device for ``requested``; UsageError (exit 2) when it is unavailable."""
    choice = requested.strip().lower()
    if choice not in DEVICE_CHOICES:
        raise UsageError(f"unknown device {requested!r}; choose from {', '.join(DEVICE_CHOICES)}")
    if choice == "cpu":
        return "cpu"
    if choice == "auto":
        if cuda_available():
            return "cuda"
        return "mps" if mps_available() else "cpu"
    if choice == "cuda" and not cuda_available():
        raise UsageError("--device cuda: CUDA is not available here; use --device auto or cpu")
    if choice == "mps" and not mps_available():
        raise UsageError("--device mps: MPS is not available here; use --device auto or cpu")
    return choice
