"""Self-checks of ``00_introduction``."""

from __future__ import annotations

import numpy as np

from ._common import check_signal, report

__all__ = ["check_karaoke", "check_bass_boost", "check_remix"]


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


def check_remix(remix_fn, track) -> bool:
    """Exercise of ``00_introduction``: a general remix, each stem scaled by a gain in dB.

    Parameters
    ----------
    remix_fn : callable or None
        The student's ``remix(track, gains_db)``; ``gains_db`` maps stem names to dB, a stem it
        does not name keeps 0 dB, ``-np.inf`` mutes it.
    track : course_utils.data.Track
    """
    if remix_fn is None:
        return report(False, "replace None with your function (def remix(track, gains_db): ...).")
    if not callable(remix_fn):
        return report(False, f"pass the function itself, not its result ({type(remix_fn).__name__}).")
    cases = [{}, {"vocals": -np.inf}, {"bass": 6.0}, {"drums": -3.0, "other": 2.5}]
    for gains in cases:
        want = sum(10 ** (gains.get(s, 0.0) / 20) * track.stems[s].astype(np.float64) for s in track.stems)
        try:
            got = np.asarray(remix_fn(track, gains), dtype=np.float64)
        except Exception as error:  # noqa: BLE001 - the student's code may fail in any way
            return report(False, f"remix(track, {gains}) raised {type(error).__name__}: {error}")
        if got.shape != want.shape:
            return report(False, f"remix(track, {gains}) has shape {got.shape}, the mixture {want.shape}.")
        if np.sum((got - want) ** 2) > 1e-8 * np.sum(want**2):
            hint = {0: " (a stem it does not name keeps 0 dB: gains_db.get(stem, 0.0))",
                    1: " (-inf dB is a gain of 10 ** (-inf / 20) = 0: the stem is muted)"}.get(cases.index(gains), "")
            return report(False, f"remix(track, {gains}) is not the sum of the stems times 10 ** (dB / 20){hint}.")
    return report(True, f"remix gives every gain right ({len(cases)} cases, muting and unnamed stems included).")
