"""Listening: labelled audio players side by side, at levels that never clip.

The players are plain HTML ``<audio>`` elements holding the sound as an embedded WAV, so
they play in Jupyter, in Colab, and in the exported HTML pages and slides alike.
Taught in ``00_introduction``.
"""

from __future__ import annotations

import html

import numpy as np
from IPython.display import HTML, Audio

from .audio import AudioError, check_sample_rates, valid_audio

__all__ = ["HEADROOM_DB", "playback_gain", "player_html", "players"]

HEADROOM_DB = -1.0
"""The loudest sample of a group of players is placed this far below full scale."""


def playback_gain(signals, *, headroom_db: float = HEADROOM_DB) -> float:
    """One gain for a group of signals so the loudest peak sits at ``headroom_db`` dBFS.

    A single gain keeps the relative levels: a stem still sounds quieter than its mixture.
    Quiet groups are not amplified beyond 20 dB (so near-silence stays near-silent).

    Parameters
    ----------
    signals : sequence of np.ndarray, each shaped ``(n_samples,)`` or ``(n_channels, n_samples)``

    Returns
    -------
    float
    """
    peak = max(float(np.max(np.abs(s))) for s in signals)
    if peak == 0:
        return 1.0
    return float(min(10 ** (headroom_db / 20) / peak, 10.0))


def player_html(y: np.ndarray, *, sr: int, label: str | None = None, gain: float = 1.0) -> str:
    """HTML for one labelled ``<audio controls>`` player of ``y`` scaled by ``gain``.

    Raises
    ------
    course_utils.audio.AudioError
        If ``y`` is not valid audio, or ``gain`` would make it clip.
    """
    valid_audio(y)
    check_sample_rates(sr)
    scaled = np.asarray(y, dtype=np.float64) * gain
    if np.max(np.abs(scaled)) > 1.0:
        raise AudioError(f"Player {label!r} would clip (peak {np.max(np.abs(scaled)):.2f}); lower the gain.")
    # normalize=False: IPython would otherwise rescale each clip on its own and hide level differences
    tag = Audio(scaled, rate=sr, normalize=False)._repr_html_().strip()
    caption = f"<div style='font-weight:600;margin-bottom:2px'>{html.escape(label)}</div>" if label else ""
    return f"<div style='display:inline-block;margin:4px 12px 4px 0;vertical-align:top'>{caption}{tag}</div>"


def players(signals: dict, *, sr: int, title: str | None = None, same_gain: bool = True,
            headroom_db: float = HEADROOM_DB) -> HTML:
    """Labelled players side by side, ready to display in a notebook.

    Parameters
    ----------
    signals : dict of str to np.ndarray
        Label to signal (``(n_samples,)`` or ``(n_channels, n_samples)``), shown in order.
    sr : int
    title : str, optional
        A heading above the row.
    same_gain : bool
        True (default): one gain for all, so relative levels are heard as they are.
        False: each player peak-normalised to ``headroom_db`` on its own (to hear a quiet
        residual in detail).

    Returns
    -------
    IPython.display.HTML
        Display it, or let it be the cell's last value.
    """
    if not signals:
        raise ValueError("players() needs at least one signal.")
    shared = playback_gain(list(signals.values()), headroom_db=headroom_db)
    cells = [player_html(y, sr=sr, label=label,
                         gain=shared if same_gain else playback_gain([y], headroom_db=headroom_db))
             for label, y in signals.items()]
    heading = f"<div style='font-weight:700;margin-top:6px'>{html.escape(title)}</div>" if title else ""
    return HTML(f"<div class='course-players'>{heading}{''.join(cells)}</div>")
