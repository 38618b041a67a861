"""Self-checks of ``06_evaluation`` (its prediction exercise uses :func:`check_prediction`)."""

from __future__ import annotations

import numpy as np

from ._common import report

__all__ = ["check_plain_projection"]


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
