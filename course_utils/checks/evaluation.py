"""Self-checks of ``06_evaluation`` (its prediction exercise uses :func:`check_prediction`)."""

from __future__ import annotations

import warnings

import numpy as np

from .. import metrics
from ._common import report

__all__ = ["check_plain_projection", "check_plain_decomposition", "check_frame_median"]


def check_plain_projection(answer, reference, estimate, *, name: str = "s_target") -> bool:
    """Exercise of ``06_evaluation``: the target part of an estimate by the plain projection.

    The expected answer is ``s_target = <ŝ, s> / <s, s> s``, the multiple of the reference
    closest to the estimate (lecture notes, "Evaluation Metrics").

    Parameters
    ----------
    answer : array-like or None, shape ``(n_samples,)``
        The student's ``s_target``.
    reference, estimate : np.ndarray, shape ``(n_samples,)``
        The true source ``s`` and the estimate ``ŝ``.
    name : str
        How the notebook calls the answer's variable, for the messages.
    """
    s = np.asarray(reference, dtype=np.float64)
    x = np.asarray(estimate, dtype=np.float64)
    if answer is None:
        return report(False, f"`{name}` is still None: replace None with your expression.")
    answer = np.asarray(answer)
    if answer.shape != s.shape:
        return report(False, f"`{name}` has shape {answer.shape}, expected {s.shape} (one sample per "
                             "sample of the reference).")
    if not np.isfinite(answer).all():
        return report(False, f"`{name}` holds NaN or infinite samples.")
    energy = float(s @ s)
    if energy == 0:
        return report(False, "the reference is silent: there is nothing to project onto.")
    alpha = float(x @ s) / energy
    expected = alpha * s
    scale = float(expected @ expected) or 1.0
    answer = answer.astype(np.float64)

    def close(a, b):
        return float(np.sum((a - b) ** 2)) <= 1e-6 * scale

    if close(answer, expected):
        return report(True, f"`{name}` is the reference scaled by <ŝ, s>/<s, s> = {alpha:.3f}.")
    if close(answer, s):
        return report(False, "that is the reference itself; the target part is the reference *rescaled* "
                             "by <ŝ, s>/<s, s>.")
    if close(answer, x):
        return report(False, "that is the whole estimate; keep only its part along the reference.")
    if float(x @ x) > 0 and close(answer, float(x @ s) / float(x @ x) * x):
        return report(False, "you projected the reference onto the estimate; project the estimate onto "
                             "the reference (divide by <s, s>, multiply s).")
    if close(answer, float(x @ s) * s):
        return report(False, "divide by the reference's energy <s, s> = np.dot(s, s).")
    denominator = float(np.sqrt(energy))
    if close(answer, float(x @ s) / denominator * s):
        return report(False, "divide by the energy <s, s>, not by the norm ||s||.")
    return report(False, f"`{name}` is not a multiple of the reference by <ŝ, s>/<s, s>.")


def check_plain_decomposition(answer, references, estimate, *, index: int = 0) -> bool:
    """Exercise of ``06_evaluation``: ``s_target, e_interf, e_artif`` by plain projections (1 tap).

    Parameters
    ----------
    answer : tuple of three np.ndarray or None
        The student's ``(s_target, e_interf, e_artif)``, each shaped like ``estimate``.
    references : np.ndarray, shape ``(n_sources, n_samples)``
    estimate : np.ndarray, shape ``(n_samples,)``
    index : int
        Which reference the estimate estimates.
    """
    if answer is None:
        return report(False, "`parts` is still None: replace None with (s_target, e_interf, e_artif).")
    try:
        s_target, e_interf, e_artif = (np.asarray(p, dtype=np.float64) for p in answer)
    except (TypeError, ValueError):
        return report(False, "give three arrays: (s_target, e_interf, e_artif).")
    x = np.asarray(estimate, dtype=np.float64)
    if any(p.shape != x.shape for p in (s_target, e_interf, e_artif)):
        return report(False, f"each part must be shaped like the estimate, {x.shape}.")
    want = [p.astype(np.float64) for p in metrics.decompose(references, estimate, index=index, filter_length=1)]
    scale = float(x @ x) or 1.0

    def close(a, b):
        return float(np.sum((a - b) ** 2)) <= 1e-6 * scale

    if not close(s_target + e_interf + e_artif, x):
        return report(False, "the three parts must add up to the estimate.")
    if not close(s_target, want[0]):
        return report(False, "s_target is the projection onto the true source alone: <x, s> / <s, s> s.")
    if not close(s_target + e_interf, want[0] + want[1]):
        return report(False, "s_target + e_interf is the projection onto all the true sources together: solve the "
                             "least-squares problem refs.T @ c = x (np.linalg.lstsq) and take refs.T @ c.")
    return report(True, "the three parts match metrics.decompose(..., filter_length=1).")


def check_frame_median(frame_snr, median_snr, reference, estimate, *, sr: int) -> bool:
    """Exercise of ``06_evaluation``: the SNR of every whole 1 s frame (NaN where the reference is
    silent) and their median over the frames that have a value, as museval aggregates.

    Parameters
    ----------
    frame_snr : np.ndarray or None, shape ``(len(reference) // sr,)``
    median_snr : float or None
    reference, estimate : np.ndarray, shape ``(n_samples,)``
    sr : int
        Samples per frame (1 s).
    """
    if frame_snr is None or median_snr is None:
        return report(False, "`frame_snr` or `median_snr` is still None: replace None with your answers.")
    n_frames = len(reference) // sr
    cut = n_frames * sr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", metrics.SilenceWarning)  # silent frames are NaN, as museval's
        want = np.asarray(metrics.snr(np.reshape(reference[:cut], (n_frames, sr)),
                                      np.reshape(estimate[:cut], (n_frames, sr))), dtype=np.float64).reshape(n_frames)
    got = np.asarray(frame_snr, dtype=np.float64)
    if got.shape != want.shape:
        return report(False, f"`frame_snr` has shape {got.shape}: one value per whole frame, {n_frames} frames of "
                             f"{sr} samples (a last, partial frame is left out).")
    if not np.array_equal(np.isnan(got), np.isnan(want)):
        return report(False, "NaN exactly where the reference's frame is silent (all zeros), a number elsewhere.")
    known = ~np.isnan(want)
    if not np.allclose(got[known], want[known], atol=1e-3):
        return report(False, "per frame: 10 log10(sum of s**2 / sum of (s - estimate)**2) over that frame's samples.")
    median = float(np.nanmedian(want))
    if not np.isclose(float(median_snr), median, atol=1e-3):
        return report(False, f"`median_snr` is the median of the frames' values with the NaN left out (np.nanmedian): "
                             f"{median:.2f} dB.")
    whole = float(metrics.snr(reference, estimate))
    return report(True, f"median over {int(known.sum())} frames {median:.1f} dB; over the whole signal at once "
                        f"{whole:.1f} dB.")
