"""Figures: waveforms, dB spectrograms, masks, and the dominant-source picture.

Every function draws into an ``ax`` it is given (or a new one) and returns that axes, so
notebooks can compose panels. Time is in seconds, frequency in Hz, levels in dB.
Taught in ``00_introduction`` (waveform, spectrogram) and ``02_masking`` (mask,
dominant source).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.patches import Patch

from . import spectral

__all__ = ["SOURCE_COLORS", "waveform", "tf_image", "spectrogram", "mask", "dominant_source"]

SOURCE_COLORS = {"vocals": "#d62728", "drums": "#1f77b4", "bass": "#2ca02c", "other": "#ff7f0e",
                 "accompaniment": "#7f7f7f", "mixture": "#333333"}
"""One colour per source, the same in every figure of the course."""


def _axes(ax):
    return plt.subplots(figsize=(9, 3), layout="constrained")[1] if ax is None else ax


def waveform(y: np.ndarray, *, sr: int, ax=None, title: str | None = None, label: str | None = None,
             color: str | None = None):
    """Plot a mono signal ``y`` (shape ``(n_samples,)``) against time in seconds."""
    ax = _axes(ax)
    t = np.arange(y.shape[-1]) / sr
    color = color or SOURCE_COLORS.get(label or "", None)
    ax.plot(t, y, lw=0.6, label=label, color=color)
    ax.set(xlabel="Time (s)", ylabel="Amplitude", xlim=(0, t[-1] if len(t) else 1), title=title)
    if label:
        ax.legend(loc="upper right")
    return ax


def tf_image(values: np.ndarray, *, sr: int, hop_length: int = spectral.HOP_LENGTH, ax=None,
             title: str | None = None, cmap="magma", vmin=None, vmax=None, colorbar: str | None = None,
             fmax: float | None = None):
    """Show any time-frequency array ``values`` (shape ``(n_freq, n_frames)``) with Hz and s axes.

    Returns the axes; the image is ``ax.images[0]``.
    """
    ax = _axes(ax)
    n_freq, n_frames = values.shape
    nyquist = sr / 2
    extent = (0, n_frames * hop_length / sr, 0, nyquist)
    im = ax.imshow(values, origin="lower", aspect="auto", extent=extent, cmap=cmap, vmin=vmin, vmax=vmax,
                   interpolation="nearest")
    ax.set(xlabel="Time (s)", ylabel="Frequency (Hz)", title=title, ylim=(0, fmax or nyquist))
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label=colorbar, pad=0.01)
    return ax


def spectrogram(y: np.ndarray, *, sr: int, n_fft: int = spectral.N_FFT, hop_length: int | None = None,
                ax=None, title: str | None = None, top_db: float = 80.0, ref: float | None = None,
                fmax: float | None = None, colorbar: bool = True):
    """Plot the dB magnitude spectrogram of a mono signal ``y`` (shape ``(n_samples,)``).

    Parameters
    ----------
    ref : float, optional
        Magnitude shown as 0 dB; pass the same value to compare several panels (by default
        each panel's own maximum).
    fmax : float, optional
        Highest frequency shown, in Hz.
    """
    hop_length = hop_length or n_fft // 4
    S = np.abs(spectral.stft(y, n_fft=n_fft, hop_length=hop_length))
    db = spectral.amplitude_to_db(S, ref=ref, top_db=None)
    return tf_image(db, sr=sr, hop_length=hop_length, ax=ax, title=title, vmin=-top_db, vmax=0.0,
                    colorbar="Level (dB)" if colorbar else None, fmax=fmax)


def mask(M: np.ndarray, *, sr: int, hop_length: int = spectral.HOP_LENGTH, ax=None, title: str | None = None,
         fmax: float | None = None, colorbar: bool = True):
    """Plot a time-frequency mask ``M`` (shape ``(n_freq, n_frames)``, values in [0, 1])."""
    return tf_image(M, sr=sr, hop_length=hop_length, ax=ax, title=title, cmap="viridis", vmin=0, vmax=1,
                    colorbar="Mask value" if colorbar else None, fmax=fmax)


def dominant_source(sources: np.ndarray, *, sr: int, names=None, n_fft: int = spectral.N_FFT,
                    hop_length: int | None = None, ax=None, title: str | None = None, top_db: float = 60.0,
                    fmax: float | None = None):
    """Colour every time-frequency bin by the source that is loudest there.

    Brightness follows the mixture's level, so silent bins fade to white instead of
    showing a colour that means nothing.

    Parameters
    ----------
    sources : np.ndarray, shape ``(n_sources, n_samples)``
        The true stems of one mono song.
    names : sequence of str, optional
        One label per source for the legend (default ``source 0``, ``source 1``, ...).
    top_db : float
        Bins this far below the mixture's loudest bin are drawn white.

    Returns
    -------
    matplotlib.axes.Axes
    """
    names = list(names) if names is not None else [f"source {i}" for i in range(len(sources))]
    if len(names) != len(sources):
        raise ValueError(f"{len(sources)} sources but {len(names)} names.")
    hop_length = hop_length or n_fft // 4
    S = np.abs(spectral.stft(np.asarray(sources), n_fft=n_fft, hop_length=hop_length))
    winner = S.argmax(axis=0)
    mix_db = spectral.amplitude_to_db(np.abs(S.sum(axis=0)), top_db=None)
    strength = np.clip(1 + mix_db / top_db, 0, 1)[..., None]  # 1 at the loudest bin, 0 at -top_db
    colors = np.array([to_rgb(SOURCE_COLORS.get(n, f"C{i}")) for i, n in enumerate(names)])
    rgb = 1 - strength * (1 - colors[winner])  # blend from white toward the winner's colour
    ax = _axes(ax)
    duration = S.shape[-1] * hop_length / sr
    ax.imshow(rgb, origin="lower", aspect="auto", extent=(0, duration, 0, sr / 2), interpolation="nearest")
    ax.set(xlabel="Time (s)", ylabel="Frequency (Hz)", ylim=(0, fmax or sr / 2),
           title=title or "Dominant source per time-frequency bin")
    handles = [Patch(color=c, label=n) for n, c in zip(names, colors)]
    ax.legend(handles=handles, loc="upper right", framealpha=0.9)
    return ax
