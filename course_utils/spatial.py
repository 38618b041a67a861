"""Spatial cues of a stereo mix, and masks made from where the sources sit.

A source that a mixing desk pans with the constant-power law of :func:`course_utils.mixing.pan`
reaches the two channels as ``sqrt(2) cos(theta) x`` and ``sqrt(2) sin(theta) x`` with
``theta = pi (p + 1) / 4`` for its position ``p`` in ``[-1, 1]``. In a time-frequency bin where
that source is alone, the channels' magnitudes therefore give its position back exactly,

    p = 4 / pi * arctan(|X_R| / |X_L|) - 1,

whatever the source's level or spectrum: the *pan index* of the bin (:func:`pan_index`). It
is the inter-channel level difference on another scale: ``20 log10(|X_L| / |X_R|) =
20 log10(cot(pi (P + 1) / 4))`` dB. Amplitude
panning leaves the channels in phase; reverberation and stereo microphones do not
(:func:`phase_difference`). A *pan mask* (:func:`pan_masks`) gives each bin to the sources whose
positions are near the bin's pan index: the idea of azimuth discrimination (ADRess, Barry et
al. 2004) and of DUET (Yilmaz & Rickard 2004), with the level cue only. It cannot tell apart two
sources at the same position.

Stereo STFTs have shape ``(2, n_freq, n_frames)`` (left, right), as
:func:`course_utils.spectral.stft` returns for a ``(2, n)`` signal; stems stacked on the first
axis, ``(n_sources, 2, n_freq, n_frames)``.

Taught in ``02_masking`` (section 6).
"""

from __future__ import annotations

import numpy as np

from . import masks

__all__ = ["pan_index", "phase_difference", "position", "pan_masks"]


def _stereo(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim < 3 or X.shape[-3] != 2:
        raise ValueError(f"expected a stereo STFT of shape (..., 2, n_freq, n_frames), got {X.shape}.")
    return X


def pan_index(X: np.ndarray) -> np.ndarray:
    """Each bin's position on the constant-power pan law, from the channels' magnitudes.

    Parameters
    ----------
    X : np.ndarray, complex, shape ``(..., 2, n_freq, n_frames)``

    Returns
    -------
    np.ndarray, float, shape ``(..., n_freq, n_frames)``
        ``4 / pi * arctan2(|X_R|, |X_L|) - 1``: -1 where only the left channel sounds, 0 where
        both are equal (a level difference of 0 dB), +1 where only the right does (0 in silent
        bins).
    """
    X = _stereo(X)
    return 4 / np.pi * np.arctan2(np.abs(X[..., 1, :, :]), np.abs(X[..., 0, :, :])) - 1


def phase_difference(X: np.ndarray) -> np.ndarray:
    """Inter-channel phase difference ``angle(X_L conj(X_R))`` of each bin, in ``(-pi, pi]``.

    Takes and returns the shapes of :func:`pan_index`; 0 for a dry amplitude-panned source,
    non-zero where the channels are delayed against each other (a room, spaced microphones).
    """
    X = _stereo(X)
    return np.angle(X[..., 0, :, :] * np.conj(X[..., 1, :, :]))


def position(X: np.ndarray) -> np.ndarray:
    """Where a source sits: the energy-weighted mean pan index of its bins.

    Parameters
    ----------
    X : np.ndarray, complex, shape ``(..., 2, n_freq, n_frames)``
        A stem's stereo STFT (or several, stacked on the first axes).

    Returns
    -------
    np.ndarray, float, shape ``X.shape[:-3]``
        The position in ``[-1, 1]``; exactly the pan position for one dry amplitude-panned source.
    """
    X = _stereo(X)
    energy = (np.abs(X) ** 2).sum(axis=-3)
    return (energy * pan_index(X)).sum(axis=(-2, -1)) / np.maximum(energy.sum(axis=(-2, -1)), masks.EPS)


def pan_masks(Y: np.ndarray, positions, *, width: float = 0.1) -> np.ndarray:
    """Soft masks that give each bin to the sources panned near its pan index.

    Source ``i`` at position ``p_i`` gets the weight ``exp(-(P - p_i)**2 / (2 width**2))`` in a
    bin of pan index ``P``, normalised over the sources so that the masks sum to 1. Sources at
    the same position get the same mask.

    Parameters
    ----------
    Y : np.ndarray, complex, shape ``(2, n_freq, n_frames)``
        The stereo mixture's STFT.
    positions : sequence of float, length ``n_sources``
        Each source's position in ``[-1, 1]`` (e.g. :func:`position` of each stem, or the
        peaks of the mixture's pan histogram).
    width : float
        How far from its position a source still claims a bin (in pan-index units); small:
        nearly binary masks.

    Returns
    -------
    np.ndarray, float32, shape ``(n_sources, n_freq, n_frames)``
        One mask for both channels: broadcast it to ``(n_sources, 2, n_freq, n_frames)`` for
        :func:`course_utils.masks.apply_mask` (as :func:`course_utils.methods.pan` does).
    """
    if width <= 0:
        raise ValueError(f"width must be positive, got {width!r}.")
    P = pan_index(Y)
    p = np.asarray(positions, dtype=np.float64)[:, None, None]
    logits = -((P[None] - p) ** 2) / (2 * width**2)
    weights = np.exp(logits - logits.max(axis=0, keepdims=True))   # shifted: no underflow to 0 / 0 far from all
    return (weights / weights.sum(axis=0, keepdims=True)).astype(np.float32)
