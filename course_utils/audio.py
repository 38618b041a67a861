"""Audio signals: validation, loading and saving, resampling, mono.

Signals are NumPy ``float32`` arrays shaped ``(n_samples,)`` (mono) or
``(n_channels, n_samples)``. Taught in ``00_introduction``.
"""

from __future__ import annotations

from math import gcd
from pathlib import Path

import numpy as np
import scipy.signal
import soundfile

__all__ = [
    "AudioError", "valid_audio", "check_sample_rates", "load", "save", "resample", "to_mono",
]


class AudioError(ValueError):
    """An audio signal or sample rate that the course's functions cannot work with."""


def valid_audio(y, *, mono: bool = False) -> None:
    """Check that ``y`` is a usable audio signal, and raise :class:`AudioError` if not.

    Parameters
    ----------
    y : np.ndarray, shape ``(n_samples,)`` or ``(n_channels, n_samples)``
        A floating-point signal.
    mono : bool
        Require a one-dimensional signal.

    Raises
    ------
    AudioError
        If ``y`` is not a floating-point NumPy array, has the wrong number of dimensions,
        is empty, or holds NaN or infinite samples.
    """
    if not isinstance(y, np.ndarray):
        raise AudioError(f"Audio must be a numpy.ndarray, got {type(y).__name__}.")
    if not np.issubdtype(y.dtype, np.floating):
        raise AudioError(
            f"Audio must be floating-point (float32 in [-1, 1]), got dtype {y.dtype}. "
            "Integer PCM can be converted with y.astype(np.float32) / 32768."
        )
    if mono and y.ndim != 1:
        raise AudioError(f"Expected a mono signal of shape (n_samples,), got shape {y.shape}.")
    if y.ndim not in (1, 2):
        raise AudioError(
            f"Audio must have shape (n_samples,) or (n_channels, n_samples), got shape {y.shape}."
        )
    if y.shape[-1] == 0:
        raise AudioError(f"Audio is empty (shape {y.shape}).")
    if not np.isfinite(y).all():
        bad = int(np.size(y) - np.isfinite(y).sum())
        raise AudioError(f"Audio holds {bad} non-finite (NaN or infinite) samples.")


def check_sample_rates(*rates: int) -> int:
    """Check that all sample rates are equal positive integers and return the common one.

    Raises
    ------
    AudioError
        If a rate is not positive or the rates differ (resample first, see :func:`resample`).
    """
    for sr in rates:
        if int(sr) != sr or sr <= 0:
            raise AudioError(f"A sample rate must be a positive integer, got {sr!r}.")
    if len(set(rates)) > 1:
        raise AudioError(f"Sample rates differ: {rates}. Resample with course_utils.audio.resample first.")
    return int(rates[0])


def load(path, *, sr: int | None = None, mono: bool = False) -> tuple[np.ndarray, int]:
    """Read an audio file with soundfile.

    Parameters
    ----------
    path : str or Path
        A file soundfile can read (WAV, FLAC, OGG, ...).
    sr : int, optional
        Resample to this rate; by default keep the file's rate.
    mono : bool
        Average the channels.

    Returns
    -------
    y : np.ndarray, float32, shape ``(n_samples,)`` for a mono file or with ``mono=True``,
        else ``(n_channels, n_samples)``
    sr : int
        The sample rate of ``y``.
    """
    data, file_sr = soundfile.read(str(path), dtype="float32", always_2d=True)
    y = data.T  # soundfile gives (n_samples, n_channels)
    y = y[0] if y.shape[0] == 1 else y
    if mono:
        y = to_mono(y)
    if sr is not None and sr != file_sr:
        y = resample(y, orig_sr=file_sr, target_sr=sr)
        file_sr = sr
    return np.ascontiguousarray(y, dtype=np.float32), int(file_sr)


def save(path, y: np.ndarray, *, sr: int, subtype: str | None = None) -> Path:
    """Write ``y`` (shape ``(n_samples,)`` or ``(n_channels, n_samples)``) to ``path``.

    The format follows the file extension (``.wav``, ``.flac``, ...). Samples beyond
    [-1, 1] would clip in integer formats, so they raise instead.

    Returns
    -------
    Path
        The path written.
    """
    valid_audio(y)
    check_sample_rates(sr)
    peak = float(np.max(np.abs(y)))
    if peak > 1.0 and (subtype is None or "FLOAT" not in subtype.upper()):
        raise AudioError(
            f"Peak {peak:.3f} exceeds 1.0 and would clip; normalise first (peak_normalize)."
        )
    path = Path(path)
    soundfile.write(str(path), np.asarray(y).T, sr, subtype=subtype)
    return path


def resample(y: np.ndarray, *, orig_sr: int, target_sr: int) -> np.ndarray:
    """Change the sample rate of ``y`` by polyphase filtering (``scipy.signal.resample_poly``).

    Parameters
    ----------
    y : np.ndarray, shape ``(..., n_samples)``
    orig_sr, target_sr : int

    Returns
    -------
    np.ndarray, float32, shape ``(..., ceil(n_samples * target_sr / orig_sr))``
    """
    valid_audio(y)
    check_sample_rates(orig_sr)
    check_sample_rates(target_sr)
    if orig_sr == target_sr:
        return y.astype(np.float32, copy=True)
    g = gcd(int(orig_sr), int(target_sr))
    out = scipy.signal.resample_poly(y, target_sr // g, orig_sr // g, axis=-1)
    return out.astype(np.float32)


def to_mono(y: np.ndarray) -> np.ndarray:
    """Average the channels of ``y`` (shape ``(n_channels, n_samples)``) into ``(n_samples,)``.

    A mono signal is returned unchanged.
    """
    valid_audio(y)
    return y if y.ndim == 1 else y.mean(axis=0).astype(np.float32)
