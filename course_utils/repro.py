"""Reproducibility: seeding, device choice, the fast-mode flag and BLAS threads.

Taught in ``00_introduction`` (the setup cell that opens every notebook calls
:func:`setup`).
"""

from __future__ import annotations

import os
import random
from importlib.metadata import PackageNotFoundError, version
from typing import NamedTuple

import numpy as np
from threadpoolctl import threadpool_limits

FAST_ENV = "COURSE_FAST"
"""Name of the environment variable that switches fast mode on (``1``) or off (``0``)."""


def fast_mode() -> bool:
    """Whether fast mode is on: the same code, less work (used by the tests and CI).

    Reads the environment variable ``COURSE_FAST``: ``1``/``true``/``yes``/``on`` turn it on;
    unset, empty, ``0``/``false``/``no``/``off`` turn it off.

    Raises
    ------
    ValueError
        If the variable holds anything else (a typo should not silently run the full course).
    """
    value = os.environ.get(FAST_ENV, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{FAST_ENV}={value!r} is not understood; use 1 (fast) or 0 (full).")


def choose(*, full, fast):
    """Return ``fast`` in fast mode and ``full`` otherwise.

    Notebooks size their work with it, e.g. ``n_iter = repro.choose(full=100, fast=5)``.
    """
    return fast if fast_mode() else full


def seed_everything(seed: int = 0) -> None:
    """Seed Python's, NumPy's and PyTorch's random generators (CPU and GPU)."""
    random.seed(seed)
    np.random.seed(seed)
    import torch  # about 2 s to import: only the functions that need torch import it

    torch.manual_seed(seed)  # also seeds every CUDA device


def pick_device(*, prefer: str | None = None):
    """The torch device to compute on: a CUDA GPU when there is one, the CPU otherwise.

    Parameters
    ----------
    prefer : str, optional
        Force a device (``"cpu"``, ``"cuda"``); the environment variable ``COURSE_DEVICE``
        does the same without editing a notebook.

    Returns
    -------
    torch.device
    """
    import torch

    name = prefer or os.environ.get("COURSE_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"Device {name!r} was asked for, but PyTorch sees no CUDA GPU.")
    return torch.device(name)


class Setup(NamedTuple):
    """What :func:`setup` decided."""

    device: object
    fast: bool


def setup(*, seed: int = 0, verbose: bool = True) -> Setup:
    """Seed everything, pick the device and read the fast-mode flag; print one summary line.

    Called by the setup cell at the top of every notebook.

    Returns
    -------
    Setup
        ``(device, fast)``, unpacked by the notebooks as ``DEVICE, FAST``.
    """
    seed_everything(seed)
    device = pick_device()
    fast = fast_mode()
    if verbose:
        try:
            installed = version("course-utils")
        except PackageNotFoundError:
            installed = "not installed (imported from the source tree)"
        gpu = ""
        if device.type == "cuda":
            import torch

            gpu = f" ({torch.cuda.get_device_name(device)})"
        print(f"course_utils {installed} | device: {device}{gpu} | "
              f"fast mode: {'on' if fast else 'off'} | seed: {seed}")
    return Setup(device, fast)


def one_blas_thread():
    """A context in which BLAS/LAPACK runs on one thread (threadpoolctl).

    The course's small solves and skinny matrix products gain nothing from threads, and on a
    busy machine with few cores OpenBLAS's threads made them 2 to 10 times slower (measured
    with ``benchmarks/bench_metrics.py``). Used by :mod:`course_utils.metrics` and
    :mod:`course_utils.classical`.
    """
    return threadpool_limits(1, user_api="blas")
