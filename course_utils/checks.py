"""Self-checks for the notebooks' exercises: call one with your answer, read what it says.

Each check prints a short verdict (what is right, or what to look at) and returns
``True``/``False``; none of them raises on a wrong answer, so a notebook with an unfinished
exercise still runs top to bottom.
"""

from __future__ import annotations

import numpy as np

__all__ = ["report", "check_signal", "check_karaoke", "check_bass_boost"]


def report(ok: bool, message: str) -> bool:
    """Print ``message`` marked as passed or not yet, and return ``ok``."""
    print(("Correct: " if ok else "Not yet: ") + message)
    return bool(ok)


def check_signal(answer, expected: np.ndarray, *, name: str, rtol: float = 1e-4) -> bool:
    """Compare a signal with the expected one; explain shape, scaling or content errors.

    Parameters
    ----------
    answer : array-like or None
        The student's signal.
    expected : np.ndarray, shape ``(n_samples,)`` or ``(n_channels, n_samples)``
    name : str
        How the notebook calls the variable, for the messages.
    rtol : float
        Allowed error, relative to the expected signal's energy.
    """
    if answer is None:
        return report(False, f"`{name}` is still None: replace None with your expression.")
    answer = np.asarray(answer)
    if answer.shape != expected.shape:
        return report(False, f"`{name}` has shape {answer.shape}, expected {expected.shape}.")
    if not np.isfinite(answer).all():
        return report(False, f"`{name}` holds NaN or infinite samples.")
    energy = float(np.sum(expected.astype(np.float64) ** 2))
    error = float(np.sum((answer - expected).astype(np.float64) ** 2))
    if error <= rtol * energy:
        return report(True, f"`{name}` matches (relative error {error / energy:.1e}).")
    scale = float(np.dot(answer.ravel(), expected.ravel()) / energy) if energy > 0 else 0.0
    if abs(scale - 1) > 1e-3 and np.sum((answer - scale * expected) ** 2) <= rtol * energy:
        return report(False, f"`{name}` is the right signal scaled by {scale:.3f}: check the gain.")
    return report(False, f"`{name}` differs from the expected signal (relative error {error / energy:.2f}).")


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
