"""Self-checks of ``00_introduction``."""

from __future__ import annotations

import numpy as np

from ._common import check_signal, report

__all__ = ["check_karaoke", "check_bass_boost"]


def check_karaoke(instrumental, track) -> bool:
    """Exercise of ``00_introduction``: the instrumental (karaoke) mix is the mixture minus the vocals.

    Parameters
    ----------
    instrumental : np.ndarray, the shape of ``track.mixture``
    track : course_utils.data.Track
    """
    if instrumental is not None and np.asarray(instrumental).shape == track.mixture.shape:
        if np.allclose(instrumental, track.mixture, atol=1e-6):
            return report(False, "that is the whole mixture: the vocals are still in it.")
        if np.allclose(instrumental, track.stems["vocals"], atol=1e-6):
            return report(False, "that is the vocals alone: keep everything else instead.")
    return check_signal(instrumental, track.mixture - track.stems["vocals"], name="instrumental")


def check_bass_boost(boosted, track, *, gain_db: float = 6.0) -> bool:
    """Exercise of ``00_introduction``: raise the bass by ``gain_db`` dB and leave the rest as it is.

    Parameters
    ----------
    boosted : np.ndarray, the shape of ``track.mixture``
    track : course_utils.data.Track
    """
    gain = 10 ** (gain_db / 20)
    expected = track.mixture + (gain - 1) * track.stems["bass"]
    if boosted is not None and np.asarray(boosted).shape == expected.shape:
        wrong_db = track.mixture + (gain_db - 1) * track.stems["bass"]
        if np.allclose(boosted, wrong_db, atol=1e-5):
            return report(False, f"a gain of {gain_db} dB is a factor 10**({gain_db}/20) = {gain:.3f} "
                                 f"in amplitude, not {gain_db}.")
    return check_signal(boosted, expected, name="boosted")
