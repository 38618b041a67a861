"""Audio signals: validation, loading and saving, resampling, mono, level normalisation.

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
    "peak_db", "peak_normalize", "integrated_loudness", "loudness_normalize",
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


def peak_db(y: np.ndarray) -> float:
    """The sample peak of ``y`` in dB relative to full scale (dBFS); ``-inf`` for silence."""
    valid_audio(y)
    peak = float(np.max(np.abs(y)))
    return 20 * np.log10(peak) if peak > 0 else -np.inf


def peak_normalize(y: np.ndarray, *, peak_dbfs: float = -1.0) -> np.ndarray:
    """Scale ``y`` so that its sample peak sits at ``peak_dbfs`` dBFS.

    Parameters
    ----------
    y : np.ndarray, shape ``(n_samples,)`` or ``(n_channels, n_samples)``
    peak_dbfs : float
        Target peak; at most 0 dBFS.

    Raises
    ------
    AudioError
        If ``y`` is all zeros (there is no peak to scale).
    """
    if peak_dbfs > 0:
        raise AudioError(f"peak_dbfs must be <= 0 dBFS, got {peak_dbfs}.")
    current = peak_db(y)
    if not np.isfinite(current):
        raise AudioError("Cannot peak-normalise a silent signal.")
    return (y * 10 ** ((peak_dbfs - current) / 20)).astype(np.float32)


def _biquad(b0, b1, b2, a0, a1, a2):
    return np.array([b0, b1, b2]) / a0, np.array([a0, a1, a2]) / a0


def _k_weighting(sr: int):
    """The two filters of ITU-R BS.1770 (a high shelf, then a high pass) at any sample rate.

    The analogue parameters are the ones that reproduce the standard's 48 kHz coefficients;
    the digital filters come from the audio-EQ-cookbook bilinear designs.
    """
    gain_db, shelf_q, shelf_fc = 3.999843853973347, 0.7071752369554196, 1681.974450955533
    k = np.tan(np.pi * shelf_fc / sr)
    vh = 10 ** (gain_db / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / shelf_q + k * k
    shelf = _biquad(vh + vb * k / shelf_q + k * k, 2 * (k * k - vh), vh - vb * k / shelf_q + k * k,
                    a0, 2 * (k * k - 1), 1 - k / shelf_q + k * k)
    hp_q, hp_fc = 0.5003270373238773, 38.13547087602444
    k = np.tan(np.pi * hp_fc / sr)
    a0 = 1 + k / hp_q + k * k
    # the standard's high-pass numerator is [1, -2, 1] as it stands, not divided by a0
    highpass = np.array([1.0, -2.0, 1.0]), np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / hp_q + k * k) / a0])
    return shelf, highpass


def integrated_loudness(y: np.ndarray, *, sr: int) -> float:
    """Integrated loudness of ``y`` in LUFS, after ITU-R BS.1770-4 (K-weighting and gating).

    Blocks of 400 ms with 75 % overlap; an absolute gate at -70 LUFS and a relative gate
    10 LU below the ungated loudness. A full-scale 997 Hz sine measures -3.01 LUFS.

    Parameters
    ----------
    y : np.ndarray, shape ``(n_samples,)`` or ``(n_channels, n_samples)``
        At least 400 ms long. Channels are weighted equally (left/right/centre).
    sr : int

    Returns
    -------
    float
        Loudness in LUFS; ``-inf`` when every block is below the absolute gate.
    """
    valid_audio(y)
    sr = check_sample_rates(sr)
    block, step = int(round(0.4 * sr)), int(round(0.1 * sr))
    if y.shape[-1] < block:
        raise AudioError(f"Loudness needs at least 400 ms of audio, got {y.shape[-1] / sr * 1000:.0f} ms.")
    weighted = np.atleast_2d(y).astype(np.float64)
    for b, a in _k_weighting(sr):
        weighted = scipy.signal.lfilter(b, a, weighted, axis=-1)
    frames = np.lib.stride_tricks.sliding_window_view(weighted, block, axis=-1)[:, ::step]
    power = (frames**2).mean(axis=-1).sum(axis=0)  # mean square per block, summed over channels
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10 * np.log10(power)
    gated = power[block_lufs > -70]
    if gated.size == 0:
        return -np.inf
    relative_gate = -0.691 + 10 * np.log10(gated.mean()) - 10
    gated = power[(block_lufs > -70) & (block_lufs > relative_gate)]
    return float(-0.691 + 10 * np.log10(gated.mean()))


def loudness_normalize(y: np.ndarray, *, sr: int, target_lufs: float = -23.0) -> np.ndarray:
    """Scale ``y`` to an integrated loudness of ``target_lufs`` (EBU R 128 uses -23 LUFS).

    The result may exceed full scale for loud targets; :func:`peak_normalize` or the
    players of :mod:`course_utils.listening` keep playback from clipping.

    Raises
    ------
    AudioError
        If ``y`` is too quiet to measure (below the -70 LUFS gate everywhere).
    """
    current = integrated_loudness(y, sr=sr)
    if not np.isfinite(current):
        raise AudioError("Cannot loudness-normalise a signal that is silent (below -70 LUFS).")
    return (y * 10 ** ((target_lufs - current) / 20)).astype(np.float32)
