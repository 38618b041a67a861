"""Audio signals: validation, loading and saving, resampling, mono; and the course's one
input-validation layer.

Signals are NumPy ``float32`` arrays shaped ``(n_samples,)`` (mono) or
``(n_channels, n_samples)``. Taught in ``00_introduction``.

Every module checks its array inputs with :func:`valid_array` (numeric, non-empty, finite;
optionally real, non-negative, of a given number of dimensions), :func:`valid_magnitude`
(spectrograms), :func:`valid_audio` (signals) and :func:`valid_int`, as librosa's
``util.valid_*`` functions do, so that a wrong input reads the same everywhere.
"""

from __future__ import annotations

from math import gcd
from pathlib import Path

import numpy as np
import scipy.signal
import soundfile

__all__ = [
    "AudioError", "valid_array", "valid_magnitude", "valid_int", "valid_audio", "check_sample_rates", "load", "save", "resample", "to_mono",
]


class AudioError(ValueError):
    """An audio signal or sample rate that the course's functions cannot work with."""


def valid_array(x, *, name: str, ndim: int | None = None, min_ndim: int = 0, shape: str = "",
                real: bool = False, nonnegative: bool = False, error: type[ValueError] = ValueError) -> np.ndarray:
    """Check that ``x`` is a usable numeric array and return it as one (the course's one validator).

    Every public function of the course checks its array inputs here (or through
    :func:`valid_audio` and :func:`valid_magnitude`), so that a wrong input gets the same
    kind of message everywhere: what the argument is called, what was expected, what came.

    Parameters
    ----------
    x : array-like
    name : str
        The argument's name, for the messages.
    ndim : int, optional
        Exact number of dimensions required.
    min_ndim : int
        Least number of dimensions.
    shape : str
        The expected layout in words (``"(n_freq, n_frames)"``), for the dimension message.
    real : bool
        Refuse complex arrays.
    nonnegative : bool
        Refuse negative values (magnitudes, powers).
    error : type
        The exception raised (:class:`AudioError` for signals).

    Returns
    -------
    np.ndarray
        ``np.asarray(x)``: numeric (not bool), non-empty, finite.

    Raises
    ------
    ValueError (or ``error``)
        Naming ``name`` and what is wrong.
    """
    arr = np.asarray(x)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise error(f"{name} must be a numeric array, got dtype {arr.dtype}.")
    if real and np.iscomplexobj(arr):
        raise error(f"{name} must be real-valued (e.g. a magnitude, np.abs of an STFT), got a complex array.")
    if (ndim is not None and arr.ndim != ndim) or arr.ndim < min_ndim:
        wanted = f"{ndim} dimensions" if ndim is not None else f"at least {min_ndim} dimensions"
        raise error(f"{name} must have {wanted}{' ' + shape if shape else ''}, got shape {arr.shape}.")
    if arr.size == 0:
        raise error(f"{name} is empty (shape {arr.shape}).")
    if not np.isfinite(arr).all():
        bad = int(arr.size - np.isfinite(arr).sum())
        raise error(f"{name} holds {bad} non-finite (NaN or infinite) values.")
    if nonnegative and np.any(arr < 0):
        raise error(f"{name} must be non-negative (a magnitude or power), but has values down to {arr.min():.3g}.")
    return arr


def valid_magnitude(S, *, name: str = "S", ndim: int | None = None, min_ndim: int = 2,
                    shape: str = "(..., n_freq, n_frames)") -> np.ndarray:
    """A magnitude (or power) spectrogram: real, non-negative, finite (:func:`valid_array`).

    Parameters
    ----------
    S : array-like
    name, ndim, min_ndim, shape
        As in :func:`valid_array`.

    Returns
    -------
    np.ndarray
    """
    return valid_array(S, name=name, ndim=ndim, min_ndim=min_ndim, shape=shape, real=True, nonnegative=True)


def valid_int(value, *, name: str, minimum: int = 1) -> int:
    """``value`` as an ``int`` if it is a whole number ``>= minimum`` (not a bool), else a ValueError.

    Parameters
    ----------
    value : int-like
    name : str
    minimum : int

    Returns
    -------
    int
    """
    if isinstance(value, bool) or not np.isscalar(value) or int(value) != value or value < minimum:
        wanted = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {wanted}, got {value!r}.")
    return int(value)


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
    valid_array(y, name="Audio", error=AudioError)


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
