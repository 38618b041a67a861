"""Self-checks of ``07_tools_and_state_of_the_art``."""

from __future__ import annotations

import numpy as np

from .. import state_of_the_art as sota
from ._common import report

__all__ = ["check_extra_data_gain", "check_chunk_bounds", "check_leaderboard_method", "check_largest_gap"]


def check_extra_data_gain(answer) -> bool:
    """Exercise of ``07_tools_and_state_of_the_art``: Band-Split RNN's per-source gain from extra data.

    Parameters
    ----------
    answer : pandas.Series or dict
        SDR with extra data minus without, indexed by source (``vocals``, ``drums``, ``bass``,
        ``other``), in dB.
    """
    if answer is None:
        return report(False, "replace None with a Series of four numbers, one per source.")
    lb = sota.leaderboard_table().set_index("model")
    want = {s: lb.loc["Band-Split RNN (semi-sup.)", s] - lb.loc["Band-Split RNN", s] for s in sota.SOURCES}
    try:
        got = {s: float(answer[s]) for s in sota.SOURCES}
    except (KeyError, TypeError, ValueError):
        return report(False, f"index the answer by the sources {list(sota.SOURCES)} (e.g. a row of the "
                              "leaderboard table minus another).")
    if all(abs(got[s] + want[s]) < 1e-6 for s in sota.SOURCES):
        return report(False, "the sign is flipped: subtract the model without extra data from the one with it.")
    wrong = [s for s in sota.SOURCES if abs(got[s] - want[s]) > 0.006]
    if wrong:
        return report(False, f"{', '.join(wrong)} not right yet: take 'Band-Split RNN (semi-sup.)' minus "
                              "'Band-Split RNN', source by source.")
    best = max(want, key=want.get)
    return report(True, f"extra data helps every source, the {best} most (+{want[best]:.2f} dB).")


def check_chunk_bounds(answer, *, n_samples: int, segment: int, overlap: int) -> bool:
    """Exercise of ``07_tools_and_state_of_the_art``: the ``(start, stop)`` of each chunk.

    Parameters
    ----------
    answer : list of (int, int)
    n_samples, segment, overlap : int
        The settings of the exercise (as in :func:`course_utils.state_of_the_art.chunk_bounds`).
    """
    if answer is None:
        return report(False, "replace None with a list of (start, stop) pairs.")
    want = sota.chunk_bounds(n_samples, segment=segment, overlap=overlap)
    try:
        got = [(int(a), int(b)) for a, b in answer]
    except (TypeError, ValueError):
        return report(False, "give a list of (start, stop) pairs of integers.")
    if got == want:
        return report(True, f"{len(want)} chunks, starting every {segment - overlap} samples.")
    if got and got[0][0] != 0:
        return report(False, "the first chunk starts at sample 0.")
    if got and got[-1][1] != n_samples:
        return report(False, f"the last chunk must stop at the end, sample {n_samples} (it may be shorter).")
    steps = {b[0] - a[0] for a, b in zip(got, got[1:])}
    if steps and steps != {segment - overlap}:
        return report(False, f"neighbouring chunks share {overlap} samples, so they start "
                              f"{segment} - {overlap} = {segment - overlap} samples apart.")
    return report(False, f"expected {len(want)} chunks, got {len(got)}: stop as soon as a chunk reaches the end.")


def check_leaderboard_method(scores, *, method: str, source: str = "bass") -> bool:
    """Exercise of ``07_tools_and_state_of_the_art``: a new method scored by the leaderboard.

    Parameters
    ----------
    scores : pandas.DataFrame
        The table of :func:`course_utils.metrics.evaluate` with the new method in it.
    method : str
        Its name.
    source : str
        The stem it estimates.
    """
    if scores is None:
        return report(False, "replace None with the result of metrics.evaluate(...).")
    try:
        rows = scores[(scores["method"] == method) & (scores["source"] == source) & (scores["metric"] == "SDR")]
    except (KeyError, TypeError):
        return report(False, "pass the DataFrame that metrics.evaluate returns.")
    if rows.empty:
        return report(False, f"no SDR of {method!r} for the {source}: is the method named {method!r} and does "
                              f"it return {{'{source}': signal}}?")
    values = rows["value"].to_numpy(dtype=float)
    if not np.isfinite(values).all():
        return report(False, "some songs got no finite SDR: is the estimate silent?")
    return report(True, f"{method!r} scored on {len(values)} songs: median {source} SDR {np.median(values):.1f} dB.")


def check_largest_gap(answer, table) -> bool:
    """Exercise of ``07_tools_and_state_of_the_art``: the course method and stem furthest from the oracle IRM.

    Parameters
    ----------
    answer : tuple of (str, str) or None
        ``(method, stem)``.
    table : pandas.DataFrame
        The leaderboard's :func:`course_utils.metrics.summarise` table (rows methods, columns
        ``(metric, stem)``), with an ``"oracle IRM"`` row.
    """
    if answer is None:
        return report(False, "`largest_gap` is still None: replace None with a pair (method, stem).")
    sdr = table["SDR"]
    own = sdr.drop(index=[m for m in sdr.index if m == "mixture" or str(m).startswith("oracle")])
    gap = (sdr.loc["oracle IRM"] - own).stack()
    want = gap.idxmax()
    try:
        method, stem = answer
    except (TypeError, ValueError):
        return report(False, "give a pair (method, stem), e.g. (\"HPSS\", \"drums\").")
    if (method, stem) == tuple(want):
        return report(True, f"{method} on the {stem}: {gap[want]:.1f} dB below the oracle IRM.")
    if (method, stem) in gap.index:
        return report(False, f"{method} on the {stem} is {gap[(method, stem)]:.1f} dB below the oracle IRM; "
                             f"another pair is further ({gap[want]:.1f} dB).")
    return report(False, f"({method!r}, {stem!r}) is not a course method's estimate in the table: "
                         f"the methods are {list(own.index)}, the stems {list(sdr.columns)}.")
