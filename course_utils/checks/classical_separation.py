"""Self-checks of ``04_classical_separation``."""

from __future__ import annotations

import numpy as np
import scipy.ndimage

from .. import classical
from ._common import report

__all__ = ["check_percussive_filter", "check_repet_mask", "check_kl_update", "check_beat_spectrum"]


def _max_error(answer, expected, region=(slice(None), slice(None))) -> float:
    return float(np.max(np.abs(np.asarray(answer, dtype=np.float64)[region] - np.asarray(expected, np.float64)[region])))


def _array_answer(answer, shape, name: str):
    """None or the answer as a float array; prints what is wrong and returns None if it is unusable."""
    if answer is None:
        report(False, f"`{name}` is still None: replace None with your expression.")
        return None
    answer = np.asarray(answer)
    if answer.shape != tuple(shape):
        report(False, f"`{name}` has shape {answer.shape}, expected {tuple(shape)}.")
        return None
    if np.iscomplexobj(answer) or not np.isfinite(answer).all():
        report(False, f"`{name}` must be real and finite (work on the magnitude np.abs(Y); avoid 0 / 0).")
        return None
    return answer.astype(np.float64)


def check_percussive_filter(answer, S, *, kernel_size: int = 17) -> bool:
    """Exercise of ``04_classical_separation``: the percussive-enhanced spectrogram (median along frequency).

    Parameters
    ----------
    answer : np.ndarray or None, shape ``S.shape``
        The student's median-filtered spectrogram.
    S : np.ndarray, shape ``(n_freq, n_frames)``
        The magnitude spectrogram of the exercise.
    kernel_size : int
        The filter's length in frequency bins.
    """
    S = np.asarray(S, dtype=np.float64)
    answer = _array_answer(answer, S.shape, "P17")
    if answer is None:
        return False
    tol = 1e-4 * max(float(S.max()), 1e-12)
    expected = scipy.ndimage.median_filter(S, size=(kernel_size, 1), mode="reflect")
    if _max_error(answer, expected) <= tol:
        return report(True, f"a median over {kernel_size} neighbouring frequency bins in every frame: "
                            "drum hits (vertical lines) survive, sustained partials do not.")
    if _max_error(answer, scipy.ndimage.median_filter(S, size=(1, kernel_size), mode="reflect")) <= tol:
        return report(False, "you filtered along time (axis 1): that keeps the harmonic, horizontal lines. "
                             "The percussive filter runs along frequency (axis 0).")
    if _max_error(answer, scipy.ndimage.uniform_filter(S, size=(kernel_size, 1), mode="reflect")) <= tol:
        return report(False, "that is a moving mean; use the median (np.median), which ignores outliers.")
    half = kernel_size // 2
    inner = (slice(half, S.shape[0] - half), slice(None))
    if S.shape[0] > 2 * half and _max_error(answer, expected, inner) <= tol:
        return report(False, "right away from the edges; at the lowest and highest bins mirror the spectrogram "
                             "(np.pad(..., mode='symmetric')) instead of padding with zeros.")
    return report(False, f"`P17` differs from the median over {kernel_size} frequency bins by up to "
                         f"{_max_error(answer, expected):.3g}.")


def check_repet_mask(answer, S, *, period: int) -> bool:
    """Exercise of ``04_classical_separation``: REPET's background mask for a given period.

    Parameters
    ----------
    answer : np.ndarray or None, shape ``S.shape``
        The student's background mask.
    S : np.ndarray, shape ``(n_freq, n_frames)``
        The magnitude spectrogram; its number of frames is a multiple of ``period``.
    period : int
        The repeating period in frames.
    """
    S = np.asarray(S, dtype=np.float64)
    answer = _array_answer(answer, S.shape, "background_mask")
    if answer is None:
        return False
    n_freq, n_frames = S.shape
    n_rep = n_frames // period
    segments = S[:, :n_rep * period].reshape(n_freq, n_rep, period)
    tiled = np.tile(np.median(segments, axis=1), n_rep)
    safe = np.where(S > 0, S, 1.0)
    live = S > 1e-6 * max(float(S.max()), 1e-12)
    expected = np.where(live, np.minimum(tiled, S) / safe, 1.0)

    def close(candidate):
        return _max_error(np.where(live, answer, 0), np.where(live, candidate, 0)) < 1e-3

    if close(expected):
        return report(True, "the median of the periods, capped by the mixture, divided by the mixture: "
                            "values in [0, 1], close to 1 where the music repeats.")
    if close(1 - expected):
        return report(False, "that is the foreground (voice) mask; the background mask is min(W, S) / S.")
    if close(tiled / safe):
        return report(False, "some values exceed 1: cap the model by the mixture first, np.minimum(W, S).")
    if close(np.minimum(np.tile(segments.mean(axis=1), n_rep), S) / safe):
        return report(False, "you averaged the periods; take the median, so the voice (an outlier) is ignored.")
    return report(False, f"`background_mask` differs from min(W, S) / S by up to {_max_error(answer, expected):.3f}.")


def check_kl_update(answer, V, W, H) -> bool:
    """Exercise of ``04_classical_separation``: one multiplicative update of the activations (KL cost).

    Parameters
    ----------
    answer : np.ndarray or None, shape ``H.shape``
        The student's updated activations.
    V : np.ndarray, shape ``(n_freq, n_frames)``
    W : np.ndarray, shape ``(n_freq, n_components)``
    H : np.ndarray, shape ``(n_components, n_frames)``
        The values before the update.
    """
    V, W, H = (np.asarray(a, dtype=np.float64) for a in (V, W, H))
    answer = _array_answer(answer, H.shape, "H_new")
    if answer is None:
        return False
    ratio = V / (W @ H)
    expected = H * (W.T @ ratio) / W.sum(axis=0)[:, None]
    tol = 1e-6 * max(float(np.abs(expected).max()), 1e-12)
    if _max_error(answer, expected) <= tol:
        return report(True, "H * (W.T @ (V / WH)) / (W.T @ 1): every factor is non-negative and the KL cost "
                            "cannot go up.")
    if _max_error(answer, H * (W.T @ ratio)) <= tol:
        return report(False, "the denominator is missing: divide by W.T @ 1, the column sums of W "
                             "(W.sum(axis=0)[:, None]).")
    if _max_error(answer, H * (W.T @ V) / (W.T @ W @ H)) <= tol:
        return report(False, "that is the update for the Euclidean distance (Lee & Seung's other rule); this "
                             "notebook minimises the KL divergence: H * (W.T @ (V / WH)) / (W.T @ 1).")
    return report(False, f"`H_new` differs from the KL update by up to {_max_error(answer, expected):.3g}.")


def check_beat_spectrum(answer, S) -> bool:
    """Exercise of ``04_classical_separation``: the beat spectrum computed with loops over the lags.

    Parameters
    ----------
    answer : np.ndarray or None, shape ``(n_frames,)``
        ``b[l]``, normalised so that ``b[0] = 1``.
    S : np.ndarray, shape ``(n_freq, n_frames)``
        The magnitude spectrogram it was computed from.
    """
    if answer is None:
        return report(False, "`b` is still None: replace None with your array.")
    S = np.asarray(S, dtype=np.float64)
    n_frames = S.shape[1]
    b = np.asarray(answer, dtype=np.float64)
    if b.shape != (n_frames,):
        return report(False, f"`b` has shape {b.shape}, expected ({n_frames},): one value per lag 0 ... n_frames - 1.")
    expected = classical.beat_spectrum(S)
    if np.allclose(b, expected, atol=1e-6):
        return report(True, f"`b` is the beat spectrum (its highest peak after lag 0 is at lag "
                            f"{int(np.argmax(expected[1:]) + 1)}).")
    if b[0] != 0 and np.allclose(b / b[0], expected, atol=1e-6):
        return report(False, "right shape of the curve: divide by b[0] so that lag 0 is 1.")
    P = S**2
    biased = np.array([np.mean(np.sum(P[:, :n_frames - lag] * P[:, lag:], axis=1)) for lag in range(n_frames)])
    if np.allclose(b, biased / biased[0], atol=1e-6):
        return report(False, "divide each lag's sum by the number of products it has, n_frames - l (unbiased).")
    on_s = classical.beat_spectrum(np.sqrt(S))  # the same computed from |S| instead of S**2
    if np.allclose(b, on_s, atol=1e-6):
        return report(False, "use the power spectrogram P = S**2, not the magnitude.")
    return report(False, f"`b` differs from the beat spectrum by up to {_max_error(b, expected):.3g}.")
