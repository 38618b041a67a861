"""Self-checks of ``02_masking``."""

from __future__ import annotations

import numpy as np

from ..data import STEMS
from ._common import report

__all__ = ["check_two_source_irm", "check_ibm_owner", "check_loudest_share"]


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


def check_loudest_share(answer, S) -> bool:
    """Exercise of ``02_masking``: the share of the mixture's energy in the bins each source dominates.

    Parameters
    ----------
    answer : dict of str to float, or None
        Stem name to its share (the shares sum to 1).
    S : np.ndarray, complex, shape ``(4, n_freq, n_frames)``
        The sources' STFTs, in :data:`course_utils.data.STEMS` order.
    """
    if answer is None:
        return report(False, "`shares` is still None: replace None with a dict {stem: share}.")
    try:
        got = {s: float(answer[s]) for s in STEMS}
    except (KeyError, TypeError, ValueError):
        return report(False, f"give one number per stem, a dict with the keys {list(STEMS)}.")
    S = np.asarray(S)
    owner = np.abs(S).argmax(axis=0)
    energy = np.abs(S.sum(axis=0)) ** 2  # the mixture's energy in each bin
    want = {s: float(energy[owner == i].sum() / energy.sum()) for i, s in enumerate(STEMS)}
    if all(abs(got[s] - want[s]) < 1e-4 for s in STEMS):
        top = max(want, key=want.get)
        return report(True, f"{top} is the loudest source in the bins that hold {want[top]:.0%} of the mixture's energy, "
                            "more than any other stem.")
    counted = {s: float(np.mean(owner == i)) for i, s in enumerate(STEMS)}
    if all(abs(got[s] - counted[s]) < 1e-4 for s in STEMS):
        return report(False, "those are shares of the bins; weight each bin by the mixture's energy there, |Y|**2.")
    if abs(sum(got.values()) - 1) > 1e-4:
        return report(False, f"the shares add up to {sum(got.values()):.3f}; every bin has one loudest source, so 1.")
    return report(False, "weight each bin by the mixture's energy |sum_i X_i|**2 and give it to its loudest source.")
