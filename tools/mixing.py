"""A small mixing desk for the bundled set: dry mono stems in, stereo stem images out.

What a produced mix has and a dry sum of stems lacks: each instrument sits somewhere between
the speakers, shares a room with the others, and is shaped by equalisation and compression.
This module does those steps with NumPy and SciPy, deterministically from a seed:

- :func:`pan`: constant-power panning (``position`` -1 left, 0 centre, +1 right);
- :func:`shelf_eq`: low and high shelving filters (the audio-EQ-cookbook biquads);
- :func:`compress`: a feed-forward compressor on the signal's RMS envelope;
- :func:`room`: a stereo room impulse response, decorrelated noise decaying to -60 dB in
  ``t60`` seconds, its highs dying faster;
- :func:`mix`: every stem through its EQ, compressor and pan, plus its send to the shared
  room. A stem's stereo *image* is its dry signal plus its own reverb, so the images add up to
  the mixture (to float32 rounding), as MUSDB18's stems do.

``tests/test_mixing.py`` checks each step with ``tools/measure_dataset.py``'s measures (the
panning's level difference, the room's decay time). Not yet used by the generator (issue 14).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.signal


def pan(x: np.ndarray, position: float) -> np.ndarray:
    """Constant-power pan of a mono signal: shape ``(2, n)``, ``left**2 + right**2 = x**2``.

    ``position`` in [-1, 1]; the level difference is ``20 log10(cot(pi (position + 1) / 4))``.
    """
    if not -1 <= position <= 1:
        raise ValueError(f"position must be in [-1, 1], got {position!r}.")
    theta = np.pi * (position + 1) / 4
    return np.stack([np.cos(theta) * x, np.sin(theta) * x])


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


def room(*, sr: int, t60: float, seed: int, length: float | None = None, predelay: float = 0.012) -> np.ndarray:
    """A stereo room impulse response, shape ``(2, n)``, energy decaying 60 dB in ``t60`` seconds.

    Two independent noises (left and right decorrelated, as a real room's two ears hear it),
    after ``predelay`` seconds of silence; above 4 kHz the decay is twice as fast, as air and
    walls absorb the highs. Normalised to unit energy per channel.
    """
    if t60 <= 0:
        raise ValueError(f"t60 must be positive, got {t60!r}.")
    rng = np.random.default_rng(seed)
    n = int(round((1.5 * t60 if length is None else length) * sr))
    t = np.arange(n) / sr
    sos = scipy.signal.butter(2, 4000, fs=sr, output="sos")
    out = np.zeros((2, n + int(predelay * sr)))
    for c in range(2):
        noise = rng.standard_normal(n)
        low = scipy.signal.sosfilt(sos, noise)
        decay = 10 ** (-3 * t / t60)  # amplitude: -60 dB of energy at t60
        out[c, -n:] = low * decay + (noise - low) * decay**2
    return out / np.sqrt(np.sum(out**2, axis=-1, keepdims=True))


@dataclass
class StemSettings:
    """How one stem is mixed: pan position, EQ shelves (dB), compression and reverb send (dB)."""

    position: float = 0.0
    low_db: float = 0.0
    high_db: float = 0.0
    threshold_db: float | None = None  # None: no compression
    ratio: float = 3.0
    send_db: float = -12.0


@dataclass
class MixSettings:
    """One song's mix: the shared room and every stem's settings."""

    t60: float = 0.8
    seed: int = 0
    stems: dict = field(default_factory=dict)


def mix(stems: dict[str, np.ndarray], settings: MixSettings, *, sr: int) -> dict[str, np.ndarray]:
    """Mix dry mono stems into stereo stem images that add up to the stereo mixture.

    Parameters
    ----------
    stems : dict of str to np.ndarray, each shape ``(n,)``
    settings : MixSettings
        Stems it does not name get :class:`StemSettings` defaults (centre, no EQ, -12 dB send).
    sr : int

    Returns
    -------
    dict of str to np.ndarray, each float32 of shape ``(2, n)``, plus ``"mixture"``, their sum.
    """
    impulse = room(sr=sr, t60=settings.t60, seed=settings.seed)
    out = {}
    for name, x in stems.items():
        s = settings.stems.get(name, StemSettings())
        y = shelf_eq(np.asarray(x, dtype=np.float64), sr=sr, low_db=s.low_db, high_db=s.high_db)
        if s.threshold_db is not None:
            y = compress(y, sr=sr, threshold_db=s.threshold_db, ratio=s.ratio)
        dry = pan(y, s.position)
        wet = 10 ** (s.send_db / 20) * scipy.signal.fftconvolve(y[None], impulse, axes=-1)[:, :y.size]
        out[name] = (dry + wet).astype(np.float32)
    out["mixture"] = np.sum(list(out.values()), axis=0, dtype=np.float64).astype(np.float32)
    return out
