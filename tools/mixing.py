"""The channel strip of the bundled set's mixing desk: equalisation and compression of a mono stem.

The generator (``tools/generate_dataset.py``) runs every dry stem through :func:`channel_strip`
once, when the set is made, and stores the result; the stereo placement (pan and room) is
linear and cheap and happens at load time in :mod:`course_utils.mixing`.

- :func:`shelf_eq`: low and high shelving filters (the audio-EQ-cookbook biquads);
- :func:`compress`: a feed-forward compressor on the signal's RMS envelope.

``tests/test_mixing.py`` measures both.
"""

from __future__ import annotations

import numpy as np
import scipy.signal


def _shelf(kind: str, gain_db: float, freq: float, sr: int) -> np.ndarray:
    """A shelving biquad of the audio EQ cookbook (slope 1), as second-order sections."""
    a = 10 ** (gain_db / 40)
    w = 2 * np.pi * freq / sr
    cos, alpha = np.cos(w), np.sin(w) / 2 * np.sqrt(2)
    root = 2 * np.sqrt(a) * alpha
    if kind == "low":
        b = [a * ((a + 1) - (a - 1) * cos + root), 2 * a * ((a - 1) - (a + 1) * cos), a * ((a + 1) - (a - 1) * cos - root)]
        d = [(a + 1) + (a - 1) * cos + root, -2 * ((a - 1) + (a + 1) * cos), (a + 1) + (a - 1) * cos - root]
    else:
        b = [a * ((a + 1) + (a - 1) * cos + root), -2 * a * ((a - 1) + (a + 1) * cos), a * ((a + 1) + (a - 1) * cos - root)]
        d = [(a + 1) - (a - 1) * cos + root, 2 * ((a - 1) - (a + 1) * cos), (a + 1) - (a - 1) * cos - root]
    return np.concatenate([np.array(b) / d[0], np.array(d) / d[0]])[None]


def shelf_eq(x: np.ndarray, *, sr: int, low_db: float = 0.0, high_db: float = 0.0, low_hz: float = 150.0,
             high_hz: float = 5000.0) -> np.ndarray:
    """A low shelf (gain ``low_db`` below about ``low_hz``) and a high shelf (``high_db`` above ``high_hz``)."""
    sos = np.concatenate([_shelf("low", low_db, low_hz, sr), _shelf("high", high_db, high_hz, sr)])
    return scipy.signal.sosfilt(sos, x, axis=-1)


def compress(x: np.ndarray, *, sr: int, threshold_db: float = -20.0, ratio: float = 3.0, attack: float = 0.01,
             release: float = 0.15) -> np.ndarray:
    """Feed-forward compression: above ``threshold_db`` (RMS, dBFS), the level rises 1/``ratio`` as fast.

    The gain follows the envelope with one-pole attack and release smoothing (in seconds).
    """
    if ratio < 1:
        raise ValueError(f"ratio must be >= 1, got {ratio!r}.")
    power = np.mean(np.atleast_2d(x) ** 2, axis=0)
    level = 10 * np.log10(scipy.signal.lfilter([0.01], [1, -0.99], power) + 1e-12)  # a ~4.5 ms RMS window
    over = np.maximum(level - threshold_db, 0)
    target = -over * (1 - 1 / ratio)  # gain in dB
    gain = np.empty_like(target)
    up, down = np.exp(-1 / (attack * sr)), np.exp(-1 / (release * sr))
    g = 0.0
    for i, t in enumerate(target):  # attack when the gain must fall, release when it may rise
        k = up if t < g else down
        g = k * g + (1 - k) * t
        gain[i] = g
    return x * 10 ** (gain / 20)


def channel_strip(x: np.ndarray, *, sr: int, low_db: float = 0.0, high_db: float = 0.0,
                  threshold_db: float | None = None, ratio: float = 3.0) -> np.ndarray:
    """EQ, then compression (none for ``threshold_db=None``): the processing one stem gets before the mix."""
    y = shelf_eq(np.asarray(x, dtype=np.float64), sr=sr, low_db=low_db, high_db=high_db)
    return y if threshold_db is None else compress(y, sr=sr, threshold_db=threshold_db, ratio=ratio)
