"""Self-checks of ``02_masking``."""

from __future__ import annotations

import numpy as np

from ..data import STEMS
from ._common import report

__all__ = ["check_two_source_irm", "check_ibm_owner", "check_ibm_vs_rest"]


def check_two_source_irm(answer, V, A) -> bool:
    """Exercise of ``02_masking``: the ideal ratio mask of the vocals against the accompaniment.

    The expected mask is ``|V| / (|V| + |A|)`` (plus a tiny ``eps`` so silent bins stay finite).
    Bins where both sources are silent are not compared.

    Parameters
    ----------
    answer : np.ndarray or None, shape ``V.shape``
        The student's mask for the vocals.
    V, A : np.ndarray, complex, shape ``(n_freq, n_frames)``
        STFTs of the vocals and of the accompaniment (everything else).
    """
    if answer is None:
        return report(False, "`irm_vocals` is still None: replace None with your expression.")
    V, A = np.asarray(V), np.asarray(A)
    answer = np.asarray(answer)
    if answer.shape != V.shape:
        return report(False, f"`irm_vocals` has shape {answer.shape}, expected {V.shape} (one value per bin).")
    if np.iscomplexobj(answer):
        return report(False, "`irm_vocals` is complex: the ratio mask compares magnitudes, np.abs(V) and np.abs(A).")
    if not np.isfinite(answer).all():
        return report(False, "`irm_vocals` holds NaN or infinite values: in silent bins |V| + |A| = 0, so add a "
                             "small eps (e.g. 1e-12) to the denominator.")
    mv, ma = np.abs(V).astype(np.float64), np.abs(A).astype(np.float64)
    total = mv + ma
    active = total > 1e-6 * max(float(total.max()), 1e-30)
    if not active.any():
        return report(False, "both sources are silent everywhere: nothing to compare.")

    def close(candidate):
        return bool(np.max(np.abs(answer[active] - candidate[active])) < 1e-3)

    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(active, mv / np.where(active, total, 1.0), 0.5)
        if close(expected):
            return report(True, "`irm_vocals` = |V| / (|V| + |A|): a value in [0, 1] per bin; the accompaniment's "
                                "mask is 1 - irm_vocals.")
        if close(1 - expected):
            return report(False, "that is the accompaniment's mask |A| / (|V| + |A|); the vocals' mask has |V| on top.")
        power = mv**2 / np.where(active, mv**2 + ma**2, 1.0)
        if close(power):
            return report(False, "you compared powers |V|² / (|V|² + |A|²): that is the Wiener-like mask (p = 2). "
                                 "The ratio mask of this exercise compares magnitudes (p = 1).")
        mix = np.abs(V + A).astype(np.float64)
        if close(mv / np.where(mix > 0, mix, 1.0)):
            return report(False, "the denominator |V + A| is the mixture's magnitude, which can be smaller than "
                                 "|V| when the sources cancel (mask > 1). Use the sum of magnitudes |V| + |A|.")
    error = float(np.max(np.abs(answer[active] - expected[active])))
    return report(False, f"`irm_vocals` differs from |V| / (|V| + |A|) by up to {error:.3f} in some bins.")


def check_ibm_owner(answer, magnitudes, *, names=None) -> bool:
    """Exercise of ``02_masking``: which source does the ideal binary mask give each bin?

    Parameters
    ----------
    answer : sequence of str or int, or None
        One source per bin, by name (from ``names``) or by index.
    magnitudes : np.ndarray, shape ``(n_sources, n_bins)``
        The sources' magnitudes ``|X_i|`` in each bin of the exercise.
    names : sequence of str, optional
        The sources' names; default :data:`course_utils.data.STEMS`.
    """
    names = list(STEMS if names is None else names)
    mags = np.asarray(magnitudes, dtype=np.float64)
    if answer is None:
        return report(False, "`owners` is still None: give one source name per bin, e.g. ['vocals', ...].")
    answer = list(answer)
    if len(answer) != mags.shape[1]:
        return report(False, f"`owners` has {len(answer)} entries, but there are {mags.shape[1]} bins.")
    given = []
    for a in answer:
        if isinstance(a, (int, np.integer)) and 0 <= a < len(names):
            given.append(int(a))
        elif a in names:
            given.append(names.index(a))
        else:
            return report(False, f"{a!r} is not a source; use one of {names}.")
    winners = mags.argmax(axis=0)
    wrong = [k for k in range(mags.shape[1]) if given[k] != winners[k]]
    if not wrong:
        return report(True, "the IBM gives each bin to its loudest source: " +
                      ", ".join(names[w] for w in winners) + ".")
    hints = []
    for k in wrong:
        w = winners[k]
        rest = float(mags[:, k].sum() - mags[w, k])
        hint = f"bin {k}: {names[w]} is loudest ({mags[w, k]:g}, against {mags[given[k], k]:g} for {names[given[k]]})"
        if rest > mags[w, k]:
            hint += f", and it gets the whole bin although the others together ({rest:g}) are louder"
        hints.append(hint)
    return report(False, "; ".join(hints) + ".")



def check_ibm_vs_rest(answer, S) -> bool:
    """Exercise of ``02_masking``: the binary mask "target against the rest of the mixture".

    Parameters
    ----------
    answer : np.ndarray or None, shape ``(n_sources, n_freq, n_frames)``
        1 where ``|X_i| > |Y - X_i|`` (the source is louder than everything else together,
        summed as complex STFTs), else 0.
    S : np.ndarray, complex, shape ``(n_sources, n_freq, n_frames)``
        The sources' STFTs.
    """
    if answer is None:
        return report(False, "`vs_rest` is still None: replace None with an array shaped like S_song.")
    S = np.asarray(S)
    got = np.asarray(answer, dtype=np.float64)
    if got.shape != S.shape:
        return report(False, f"`vs_rest` has shape {got.shape}, expected {S.shape}: one mask per source.")
    mag = np.abs(S)
    rest = np.abs(S.sum(axis=0)[None] - S)
    want = (mag > rest).astype(np.float64)
    if np.array_equal(got, want):
        won = want.sum(axis=(1, 2)) / want[0].size
        return report(True, "right; each source beats the rest of the mixture in "
                            f"{', '.join(f'{s} {w:.0%}' for s, w in zip(STEMS, won))} of the bins.")
    loudest = (mag == mag.max(axis=0, keepdims=True)).astype(np.float64)
    if np.array_equal(got, loudest):
        return report(False, "that is the loudest-source IBM of section 3; compare each source with the sum "
                             "of all the others instead.")
    if np.array_equal(got, (mag > mag.sum(axis=0) - mag).astype(np.float64)):
        return report(False, "sum the other sources as complex STFTs (Y - X_i) before taking the magnitude: "
                             "they can cancel.")
    if np.array_equal(got, (mag > 0.5 * np.abs(S.sum(axis=0))).astype(np.float64)):
        return report(False, "that is |X_i| / |Y| > 0.5, a third variant; compare with |Y - X_i| instead.")
    return report(False, f"`vs_rest` differs from |X_i| > |Y - X_i| in {np.mean(got != want):.1%} of the bins.")
