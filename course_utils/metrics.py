"""Separation metrics: SDR, SIR and SAR as projections (BSS Eval), SI-SDR, SNR, and the one
way the course scores separation methods on songs.

An estimate is split into three parts (Vincent, Gribonval & Févotte 2006)::

    estimate = s_target + e_interf + e_artif

``s_target`` is what of the estimate can be explained by the true source, ``e_interf`` what
the other sources explain on top of that, ``e_artif`` the rest. "Explained" means a
least-squares projection onto the sources, each allowed a distortion filter of
``filter_length`` taps: with 1 tap (mono) it is the plain projection
``s_target = <ŝ, s> / <s, s> s``; with 512 taps it is BSS Eval's time-invariant filter model.

- :func:`decompose` gives the three signals, to listen to and to plot.
- :func:`bss_eval` scores whole signals. Its default ``images=False`` is the classic
  ``bss_eval_sources`` definition and equals ``mir_eval.separation.bss_eval_sources`` and
  ``museval.metrics.bss_eval(..., bsseval_sources_version=True)`` (permutation off).
- :func:`bss_eval_frames` scores 1 s frames with filters fitted on the whole track. Its
  default ``images=True`` is BSS Eval v4, the "images" variant that ``museval.evaluate``
  computes for the official SiSEC/MUSDB18 numbers; ``backend="museval"`` calls museval
  itself. Aggregation (SiSEC): median over frames per track, then median over tracks.
- :func:`si_sdr` and :func:`snr` are the filter-free metrics.
- :func:`evaluate` runs separation methods on songs and scores every estimate under one
  named definition (:data:`DEFINITIONS`) into one tidy table; :func:`summarise` turns it
  into the medians every notebook, deck and the leaderboard show.

Sources are stacked on the first axis: ``(n_sources, n_samples)`` or
``(n_sources, n_channels, n_samples)``; all computation is in float64. A reference that is
all zeros, or a frame in which a source is silent, is scored NaN with a
:class:`SilenceWarning` that names it, and the medians skip NaN. The computation itself
(FFT correlations, a block-Toeplitz solve, streamed frame energies) lives in the private
``course_utils._bsseval``; for 4 stereo sources of 30 s at 44.1 kHz it takes about 2 s of CPU
against museval's 25-35 s, to within 0.01 dB of museval (``benchmarks/bench_metrics.py``).

Taught in ``06_evaluation``; :func:`evaluate` is used from ``02_masking`` on.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from . import _bsseval as engine
from .audio import valid_array
from ._bsseval import FILTER_LENGTH, SilenceWarning
from .data import STEMS, excerpt
from .repro import one_blas_thread

__all__ = [
    "FILTER_LENGTH", "METRICS", "DEFINITIONS", "TWO_STEM", "SilenceWarning", "BSSEvalResult", "snr", "si_sdr",
    "decompose", "bss_eval", "bss_eval_frames", "evaluate", "definition_words", "caption", "summarise",
]

METRICS = ("SDR", "SIR", "SAR", "ISR", "SI-SDR")
"""Metric names in the order tables use."""
BACKENDS = ("numpy", "museval")
DEFINITIONS = {
    "sources": "BSS Eval 'sources' (bss_eval_sources, as mir_eval), whole signal",
    "v4": "BSS Eval v4 'images' (museval, SiSEC 2018), median over 1 s frames",
    "si-sdr": "SI-SDR (Le Roux et al. 2019), whole signal",
}
"""The metric definitions :func:`evaluate` knows, each with the words a caption uses for it.

``"sources"``: :func:`bss_eval`, SDR, SIR, SAR over the whole excerpt. ``"v4"``:
:func:`bss_eval_frames`, SDR, SIR, SAR, ISR, each track's median over 1 s frames, which is
what ``museval.evaluate`` reports and MUSDB18 papers publish. ``"si-sdr"``: :func:`si_sdr`
over the whole excerpt, the channels of a stereo stem joined. The SDRs differ: "sources"
lets a 512-tap filter of the true stem count as target, v4 only a filter of its own image
(so a wrong gain or delay lowers its SDR), SI-SDR only a gain.
"""
TWO_STEM = {"accompaniment": "vocals", "non-drums": "drums"}
"""Two-stem outputs a method may return besides :data:`course_utils.data.STEMS`, each with
the stem it leaves out: ``"accompaniment"`` is scored against ``mixture - vocals``."""

Method = Callable[[object], dict]


@dataclass(frozen=True, eq=False)
class BSSEvalResult:
    """BSS Eval scores in dB, one row per estimated source.

    Attributes
    ----------
    sdr, sir, sar, isr : np.ndarray, float64, shape ``(n_sources,)`` for :func:`bss_eval`,
        ``(n_sources, n_frames)`` for :func:`bss_eval_frames`
        Signal to distortion, interference and artifacts ratios, and the image to spatial
        distortion ratio (``isr`` is NaN unless ``images=True``). NaN where a source or frame
        is silent, ``inf`` for a perfect estimate.
    names : tuple of str
        The sources' names, in row order.
    images : bool
        Whether the "images" (BSS Eval v4 default) or the "sources" definition was used.
    times : np.ndarray or None, shape ``(n_frames,)``
        Start of each frame in seconds; None for whole-signal scores.
    """

    sdr: np.ndarray
    sir: np.ndarray
    sar: np.ndarray
    isr: np.ndarray
    names: tuple
    images: bool
    times: np.ndarray | None = None

    def median(self) -> BSSEvalResult:
        """The SiSEC aggregation of frame-wise scores: median over frames, skipping NaN frames.

        Returns
        -------
        BSSEvalResult
            With arrays of shape ``(n_sources,)`` (NaN for a source with no scored frame).
            Whole-signal results are returned unchanged.
        """
        if self.times is None:
            return self
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: already warned
            agg = {m: np.nanmedian(getattr(self, m), axis=-1) for m in ("sdr", "sir", "sar", "isr")}
        return BSSEvalResult(**agg, names=self.names, images=self.images)

    def to_dataframe(self):
        """The scores in long format, one row per source, metric (and frame).

        Returns
        -------
        pandas.DataFrame
            Columns ``source``, ``metric``, ``value`` and, for frame-wise scores, ``time``
            (frame start in seconds). ISR rows only with ``images=True``.
        """
        rows = []
        for metric in METRICS[:4] if self.images else METRICS[:3]:
            values = np.atleast_1d(getattr(self, metric.lower()))
            for i, name in enumerate(self.names):
                if self.times is None:
                    rows.append((name, metric, float(values[i])))
                else:
                    rows.extend((name, metric, float(v), float(t)) for v, t in zip(values[i], self.times))
        columns = ["source", "metric", "value"] + ([] if self.times is None else ["time"])
        return pd.DataFrame(rows, columns=columns)


# --------------------------------------------------------------------------------------------
# Filter-free metrics


def _pair_last_axis(reference, estimate):
    ref = valid_array(reference, name="reference", real=True)
    est = valid_array(estimate, name="estimate", real=True)
    if ref.shape != est.shape:
        raise ValueError(f"reference has shape {ref.shape} but estimate has shape {est.shape}; they must match.")
    return ref.astype(np.float64), est.astype(np.float64)


def _warn_silent_rows(mask: np.ndarray, what: str, metric: str) -> None:
    if np.any(mask):
        where = [tuple(int(i) for i in ix) for ix in np.argwhere(np.atleast_1d(mask))]
        label = "" if mask.ndim == 0 else f" at index {', '.join(str(w[0] if len(w) == 1 else w) for w in where)}"
        warnings.warn(f"{what}{label} is silent (all zeros): its {metric} is NaN.", SilenceWarning, stacklevel=3)


def _scalar_or_array(x: np.ndarray):
    return float(x) if x.ndim == 0 else x


def snr(reference, estimate):
    """Signal-to-noise ratio ``10 log10(||s||² / ||s - ŝ||²)`` in dB, over the last axis.

    Parameters
    ----------
    reference, estimate : np.ndarray, shape ``(..., n_samples)``
        Equal shapes; every leading index (source, channel) is scored on its own.

    Returns
    -------
    float or np.ndarray, shape ``reference.shape[:-1]``
        ``inf`` for a perfect estimate; NaN (with a :class:`SilenceWarning`) where the
        reference is silent.

    Notes
    -----
    Taught in ``06_evaluation``. Unlike :func:`si_sdr` it punishes a wrong gain.
    """
    ref, est = _pair_last_axis(reference, estimate)
    energy = np.sum(ref**2, axis=-1)
    silent = energy == 0
    _warn_silent_rows(silent, "reference", "SNR")
    out = engine.safe_db(energy, np.sum((ref - est) ** 2, axis=-1))
    out[silent] = np.nan
    return _scalar_or_array(out)


def si_sdr(reference, estimate, *, zero_mean: bool = False):
    """Scale-invariant SDR (Le Roux et al. 2019) in dB, over the last axis.

    The reference is rescaled to best fit the estimate, ``s_target = <ŝ, s> / <s, s> s``
    (the plain projection of :func:`decompose` with ``filter_length=1``), and
    ``SI-SDR = 10 log10(||s_target||² / ||ŝ - s_target||²)``. Scaling the estimate by any
    non-zero gain leaves it unchanged.

    Parameters
    ----------
    reference, estimate : np.ndarray, shape ``(..., n_samples)``
        Equal shapes; every leading index (source, channel) is scored on its own.
    zero_mean : bool
        Remove each signal's mean first (as in the paper's definition).

    Returns
    -------
    float or np.ndarray, shape ``reference.shape[:-1]``
        ``inf`` for an estimate that is an exact multiple of the reference; NaN (with a
        :class:`SilenceWarning`) where the reference or the estimate is silent.

    Notes
    -----
    Taught in ``06_evaluation``.
    """
    ref, est = _pair_last_axis(reference, estimate)
    if zero_mean:
        ref = ref - ref.mean(axis=-1, keepdims=True)
        est = est - est.mean(axis=-1, keepdims=True)
    ref_energy = np.sum(ref**2, axis=-1)
    silent = (ref_energy == 0) | np.all(est == 0, axis=-1)
    _warn_silent_rows(silent, "reference or estimate", "SI-SDR")
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(ref_energy > 0, np.sum(est * ref, axis=-1) / np.where(ref_energy > 0, ref_energy, 1), 0.0)
    target = alpha[..., None] * ref
    out = engine.safe_db(np.sum(target**2, axis=-1), np.sum((est - target) ** 2, axis=-1))
    out[silent] = np.nan
    return _scalar_or_array(out)


# --------------------------------------------------------------------------------------------
# Public API


def decompose(references, estimate, *, index: int, filter_length: int = FILTER_LENGTH):
    """Split an estimate into ``s_target + e_interf + e_artif`` by projecting it onto the sources.

    ``s_target`` is the projection of the estimate onto the true source (every delay of it
    from 0 to ``filter_length - 1`` samples, all its channels), ``s_target + e_interf`` its
    projection onto all the sources, ``e_artif`` what neither explains. With
    ``filter_length=1`` and mono signals this is the lecture's plain projection:
    ``s_target = <ŝ, s> / <s, s> s``; with 512 taps it is BSS Eval's time-invariant filter
    model (the "sources" definition of :func:`bss_eval`), so that
    ``SDR = 10 log10(||s_target||² / ||e_interf + e_artif||²)``,
    ``SIR = 10 log10(||s_target||² / ||e_interf||²)`` and
    ``SAR = 10 log10(||s_target + e_interf||² / ||e_artif||²)``.

    Parameters
    ----------
    references : np.ndarray, shape ``(n_sources, n_samples)`` or ``(n_sources, n_channels, n_samples)``
        The true sources.
    estimate : np.ndarray, shape ``(n_samples,)`` or ``(n_channels, n_samples)``
        One estimated source, shaped like one reference.
    index : int
        Which reference the estimate is an estimate of.
    filter_length : int
        Taps of the distortion filters (1 = plain projection, 512 = BSS Eval).

    Returns
    -------
    s_target, e_interf, e_artif : np.ndarray, each of shape ``(..., n_samples + filter_length - 1)``
        The filters ring on for ``filter_length - 1`` samples after the end; over that tail
        the estimate counts as zero, so ``s_target + e_interf + e_artif`` equals the
        estimate zero-padded to that length. Float32 for float32 inputs, else float64.

    Notes
    -----
    Taught in ``06_evaluation``.
    """
    est = np.asarray(estimate)
    ref_shape = np.shape(references)
    if est.shape != tuple(ref_shape[1:]):
        raise ValueError(
            f"estimate has shape {est.shape} but one reference has shape {tuple(ref_shape[1:])} "
            f"(references: {tuple(ref_shape)}); pass one estimated source, shaped like one reference."
        )
    refs, ests = engine.check_sources(references, est[None])
    n_src, n_ch, n = refs.shape
    if int(index) != index or not 0 <= index < n_src:
        raise ValueError(f"index must be an integer in [0, {n_src}), got {index!r}.")
    index = int(index)
    L = engine.check_filter_length(filter_length, n)
    dtype = np.result_type(np.asarray(references).dtype, est.dtype, np.float32)
    dtype = dtype if np.issubdtype(dtype, np.floating) else np.float64
    x = np.zeros((n_src, n_ch, n))
    x[index] = ests[0]
    if not np.any(refs[index] != 0):
        raise ValueError(f"Reference {index} is silent (all zeros): there is no target to project onto.")
    with one_blas_thread():
        filters = engine.distortion_filters(refs, x, [index], L)
    pj, p, x_pad = engine.project(refs, filters, ests[0])
    shape = est.shape[:-1] + (x_pad.shape[-1],)
    return tuple(t.reshape(shape).astype(dtype) for t in (pj, p - pj, x_pad - p))


def bss_eval(references, estimates, *, filter_length: int = FILTER_LENGTH, images: bool = False,
             names=None) -> BSSEvalResult:
    """SDR, SIR and SAR of each estimate over the whole signal (BSS Eval, 512-tap filters).

    Estimate ``j`` is scored against reference ``j``; all references together form the
    interference. Computed from the decomposition of :func:`decompose`, with correlations
    by FFT and one solve of the Gram system for all estimates.

    Parameters
    ----------
    references : np.ndarray, shape ``(n_sources, n_samples)`` or ``(n_sources, n_channels, n_samples)``
    estimates : np.ndarray, shape ``(n_estimates, ...)`` like ``references``
        ``n_estimates <= n_sources``: the estimates of the first references; the remaining
        references still count as interference.
    filter_length : int
        Taps of the distortion filters (1 = plain projection).
    images : bool
        False (default): the ``bss_eval_sources`` definition, equal to
        ``mir_eval.separation.bss_eval_sources`` and to
        ``museval.metrics.bss_eval(..., bsseval_sources_version=True)`` with the window set
        to the whole signal. True: the "images" definition of BSS Eval v3/v4, which also
        gives the ISR (SDR is then the plain SNR of the estimate against its reference).
    names : sequence of str, optional
        Source names, for warnings and tables.

    Returns
    -------
    BSSEvalResult
        ``sdr``, ``sir``, ``sar``, ``isr`` of shape ``(n_estimates,)`` in dB.

    Notes
    -----
    A silent (all-zero) reference or estimate gives NaN for that source and a
    :class:`SilenceWarning`; the other sources are scored as usual. Taught in ``06_evaluation``.
    """
    refs, ests = engine.check_sources(references, estimates)
    L = engine.check_filter_length(filter_length, refs.shape[-1])
    names = engine.source_names(names, len(refs))
    (sdr, sir, sar, isr), _, _ = engine.scores(refs, ests, names, np.array([0]), refs.shape[-1], L, images)
    return BSSEvalResult(sdr=sdr[:, 0], sir=sir[:, 0], sar=sar[:, 0], isr=isr[:, 0],
                         names=names[: len(ests)], images=images)


def bss_eval_frames(references, estimates, *, sr: int, win_length: int | None = None,
                    hop_length: int | None = None, filter_length: int = FILTER_LENGTH, images: bool = True,
                    names=None, backend: str = "numpy") -> BSSEvalResult:
    """Frame-wise BSS Eval v4: filters fitted on the whole track, scores per frame (1 s default).

    With the defaults this computes what ``museval.evaluate`` reports for SiSEC 2018 and
    MUSDB18 (the "images" definition). Aggregate as SiSEC does with
    :meth:`BSSEvalResult.median` (median over frames), then the median over tracks
    (:func:`median_table`).

    Parameters
    ----------
    references : np.ndarray, shape ``(n_sources, n_samples)`` or ``(n_sources, n_channels, n_samples)``
    estimates : np.ndarray, shape ``(n_estimates, ...)`` like ``references``, ``n_estimates <= n_sources``
    sr : int
        Sample rate, for the default frame length and the frame times.
    win_length, hop_length : int, optional
        Frame length and hop in samples; default ``sr`` (1 s frames, no overlap). Only full
        frames are scored (a last partial frame is dropped, as in museval); a signal shorter
        than one frame is scored as one frame.
    filter_length : int
        Taps of the distortion filters.
    images : bool
        True (default): BSS Eval v4 "images" definition, as ``museval.evaluate``. False: the
        ``bss_eval_sources`` definition of :func:`bss_eval`.
    names : sequence of str, optional
        Source names, for warnings and tables.
    backend : {"numpy", "museval"}
        "numpy": this module's implementation. "museval": the official ``museval.evaluate``
        (or ``museval.metrics.bss_eval`` for other settings), imported here because it
        needs ffmpeg at import; some 15 times slower.

    Returns
    -------
    BSSEvalResult
        ``sdr``, ``sir``, ``sar``, ``isr`` of shape ``(n_estimates, n_frames)`` and ``times``
        of shape ``(n_frames,)``.

    Notes
    -----
    As in museval, a frame in which any reference or estimate is silent is NaN for every
    source. A source silent throughout is NaN everywhere and left out of that rule, so the
    others are still scored (museval itself raises). Both come with a
    :class:`SilenceWarning`. Taught in ``06_evaluation``.
    """
    refs, ests = engine.check_sources(references, estimates)
    n = refs.shape[-1]
    if int(sr) != sr or sr <= 0:
        raise ValueError(f"sr must be a positive integer, got {sr!r}.")
    width = int(sr) if win_length is None else win_length
    hop = width if hop_length is None else hop_length
    for label, value in (("win_length", width), ("hop_length", hop)):
        if int(value) != value or value <= 0:
            raise ValueError(f"{label} must be a positive number of samples, got {value!r}.")
    width, hop = int(width), int(hop)
    L = engine.check_filter_length(filter_length, n)
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}.")
    names = engine.source_names(names, len(refs))
    starts = engine.frame_starts(n, width, hop)
    frame_width = min(width, n)
    if backend == "numpy":
        (sdr, sir, sar, isr), dead_ref, dead_est = engine.scores(refs, ests, names, starts, frame_width, L, images)
    else:
        dead_ref, dead_est = engine.silent_sources(refs, ests, names)
        sdr, sir, sar, isr = engine.museval_frames(refs, ests, dead_ref, dead_est, width, hop, L, images, len(starts))
    bad = engine.silent_frames(refs, ests, dead_ref, dead_est, starts, frame_width, names, sr)
    for metric in (sdr, sir, sar, isr):
        metric[:, bad] = np.nan
    return BSSEvalResult(sdr=sdr, sir=sir, sar=sar, isr=isr, names=names[: len(ests)], images=images,
                         times=starts / sr)


# --------------------------------------------------------------------------------------------
# Scoring methods on songs: one table, one summary


def _check_definition(definition: str, filter_length: int) -> str:
    if definition not in DEFINITIONS:
        raise ValueError(f"definition must be one of {list(DEFINITIONS)}, got {definition!r}.")
    return definition if filter_length == FILTER_LENGTH or definition == "si-sdr" else f"{definition}, {filter_length} taps"


def _run(method: str, separate, track) -> dict:
    """``separate(track)``, checked: a dict of stems shaped like the mixture, as float64."""
    out = separate(track)
    if not isinstance(out, dict) or not out:
        raise ValueError(f"Method {method!r} returned {type(out).__name__}; it must return a non-empty dict "
                         f"{{stem: estimate}} with stems from {list(STEMS) + list(TWO_STEM)}.")
    unknown = set(out) - set(STEMS) - set(TWO_STEM)
    if unknown:
        raise ValueError(f"Method {method!r} returned unknown stems {sorted(unknown)}; "
                         f"use {list(STEMS) + list(TWO_STEM)}.")
    estimates = {}
    for stem, x in out.items():
        x = valid_array(x, name=f"{method!r}'s {stem} estimate of {track.name}", real=True)
        if x.shape != track.mixture.shape:
            raise ValueError(f"Method {method!r}, {track.name}, {stem}: shape {x.shape}, expected the "
                             f"mixture's {track.mixture.shape}.")
        estimates[stem] = x.astype(np.float64)
    return estimates


def _problems(track, estimates: dict):
    """The scoring problems of one method's output: ``(names, references, estimates)``.

    The four stems it estimates are scored together against all four true stems (the others
    count as interference); each two-stem output as a two-source problem."""
    refs = {s: np.asarray(track.stems[s], dtype=np.float64) for s in STEMS}
    stems = [s for s in STEMS if s in estimates]
    if stems:
        order = stems + [s for s in STEMS if s not in estimates]
        yield order, np.stack([refs[s] for s in order]), np.stack([estimates[s] for s in stems])
    for name, left_out in TWO_STEM.items():
        if name in estimates:
            rest = sum(refs[s] for s in STEMS if s != left_out)
            yield [name, left_out], np.stack([rest, refs[left_out]]), estimates[name][None]


def _score(track, estimates: dict, *, definition: str, filter_length: int, per_frame: bool):
    frames = []
    for names, refs, ests in _problems(track, estimates):
        if definition == "si-sdr":
            values = [si_sdr(r.ravel(), e.ravel()) for r, e in zip(refs, ests)]
            df = pd.DataFrame({"source": names[:len(ests)], "metric": "SI-SDR", "value": values})
        elif definition == "sources":
            df = bss_eval(refs, ests, filter_length=filter_length, names=names).to_dataframe()
        else:
            result = bss_eval_frames(refs, ests, sr=track.sr, filter_length=filter_length, names=names)
            df = (result if per_frame else result.median()).to_dataframe()
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def evaluate(tracks, methods: dict[str, Method], *, definition: str, duration: float | None = None,
             filter_length: int = FILTER_LENGTH, per_frame: bool = False, progress: bool = False):
    """Separate every track with every method and score every estimate: one tidy table.

    A *method* is any function ``method(track) -> {stem: estimate}`` that takes a
    :class:`course_utils.data.Track` and returns estimates of some of its stems
    (:data:`course_utils.data.STEMS`, and the two-stem outputs of :data:`TWO_STEM`), each
    shaped like ``track.mixture``; :mod:`course_utils.methods` builds the course's.

    Parameters
    ----------
    tracks : sequence of course_utils.data.Track
        The songs, with unique names; mono or stereo.
    methods : dict of str to callable
        Name to method.
    definition : {"sources", "v4", "si-sdr"}
        Which metric definition (:data:`DEFINITIONS`): there is no default, so that every
        table says what its SDR is.
    duration : float, optional
        Cut every track to its first ``duration`` seconds (:func:`course_utils.data.excerpt`)
        before separating.
    filter_length : int
        BSS Eval's distortion-filter taps (shorter is faster and not comparable with
        published numbers; the ``definition`` column then says so).
    per_frame : bool
        With ``definition="v4"``: one row per 1 s frame (a ``time`` column) instead of each
        track's median over frames.
    progress : bool
        Print one line per method.

    Returns
    -------
    pandas.DataFrame
        One row per track, method, stem and metric (and frame): columns ``track``,
        ``method``, ``source``, ``metric`` (SDR, SIR, SAR; ISR for v4; SI-SDR), ``value`` in
        dB, ``definition`` and ``seconds`` (the method's time to separate that track).
        Summarise it with :func:`summarise`.

    Notes
    -----
    The estimated stems of a method are scored together against all four true stems. A
    stem's SDR depends only on its estimate and its true stem (only SIR and SAR depend on
    which other stems are listed), so every SDR in a column is comparable. A stem silent in
    the excerpt is NaN, with a :class:`SilenceWarning`. Taught in ``06_evaluation``; used
    from ``02_masking`` on, and by :mod:`course_utils.leaderboard`.
    """
    label = _check_definition(definition, filter_length)
    if per_frame and definition != "v4":
        raise ValueError("per_frame=True needs definition='v4' (the others score whole signals).")
    tracks = [excerpt(t, duration=duration) for t in tracks]
    if not tracks:
        raise ValueError("tracks is empty: nothing to score.")
    names = [t.name for t in tracks]
    if len(set(names)) != len(names):
        raise ValueError(f"Track names must be unique, got {names}.")
    if not isinstance(methods, dict) or not methods:
        raise ValueError("methods must be a non-empty dict {name: method(track) -> {stem: estimate}}.")
    frames = []
    for method, separate in methods.items():
        start_all = time.perf_counter()
        for track in tracks:
            start = time.perf_counter()
            estimates = _run(method, separate, track)
            seconds = time.perf_counter() - start
            df = _score(track, estimates, definition=definition, filter_length=filter_length, per_frame=per_frame)
            df.insert(0, "method", method)
            df.insert(0, "track", track.name)
            df["definition"] = label
            df["seconds"] = seconds
            frames.append(df)
        if progress:
            print(f"{method:>16}: {len(tracks)} songs separated and scored in {time.perf_counter() - start_all:5.1f} s")
    return pd.concat(frames, ignore_index=True)


def definition_words(scores) -> str:
    """The words for the one metric definition of a table of :func:`evaluate`, as captions use them.

    Parameters
    ----------
    scores : pandas.DataFrame
        The table of :func:`evaluate` (with its ``definition`` column).

    Returns
    -------
    str
        E.g. ``"BSS Eval v4 'images' (museval, SiSEC 2018), median over 1 s frames"``, with the
        filter length added when it is not 512 taps.

    Notes
    -----
    Taught in ``06_evaluation``.
    """
    labels = list(dict.fromkeys(scores["definition"]))
    if len(labels) != 1:
        raise ValueError(f"The table mixes metric definitions {labels}: summarise or caption one at a time.")
    key, _, taps = labels[0].partition(", ")
    return f"{DEFINITIONS[key]}{', ' + taps if taps else ''}"


def caption(scores) -> str:
    """What a table or figure of ``scores`` shows, in words: the definition and the songs.

    Parameters
    ----------
    scores : pandas.DataFrame
        The table of :func:`evaluate` (or of :func:`summarise`, whose ``attrs`` keep it).

    Returns
    -------
    str
        E.g. ``"median over 3 songs; BSS Eval v4 'images' (museval, SiSEC 2018), median over
        1 s frames; dB"``.

    Notes
    -----
    Taught in ``06_evaluation``.
    """
    if "definition" not in getattr(scores, "columns", ()):
        if "caption" in getattr(scores, "attrs", {}):
            return scores.attrs["caption"]
        raise ValueError("Pass the table of evaluate() (it has a 'definition' column) or of summarise().")
    n = scores["track"].nunique()
    return f"median over {n} song{'s' * (n != 1)}; {definition_words(scores)}; dB"


def summarise(scores, *, metric: str | None = None, sources=None):
    """The medians of a table of :func:`evaluate`: per method, stem and metric, over tracks.

    Frame-wise rows are first reduced to each track's median over frames (the SiSEC
    aggregation), then the median is taken over tracks. NaN scores (silent stems or frames)
    are skipped; a cell with none left is NaN, as is a stem that a method does not estimate.

    Parameters
    ----------
    scores : pandas.DataFrame
        From :func:`evaluate`, with one definition.
    metric : str, optional
        One metric (``"SDR"``): one row per method, one column per stem. By default all:
        columns ``(metric, stem)``.
    sources : sequence of str, optional
        The stems, in column order; default every stem present, :data:`course_utils.data.STEMS`
        first.

    Returns
    -------
    pandas.DataFrame
        Values in dB, methods in the order of ``scores``. ``table.attrs`` holds ``caption``
        (:func:`caption`), ``definition``, ``n_tracks`` and ``tracks``.

    Notes
    -----
    Taught in ``06_evaluation``; used from ``02_masking`` on.
    """
    missing = {"track", "method", "source", "metric", "value", "definition"} - set(scores.columns)
    if missing:
        raise ValueError(f"scores lacks the columns {sorted(missing)}; pass the table of evaluate().")
    text = caption(scores)
    per_track = scores.groupby(["method", "track", "source", "metric"], sort=False)["value"].median()
    medians = per_track.groupby(level=["method", "source", "metric"], sort=False).median()
    present = list(dict.fromkeys(scores["source"]))
    sources = [s for s in STEMS if s in present] + [s for s in present if s not in STEMS] if sources is None \
        else list(sources)
    have = set(scores["metric"])
    metrics = [m for m in METRICS if m in have] + sorted(have - set(METRICS))
    if metric is not None:
        if metric not in have:
            raise ValueError(f"No metric {metric!r} in the table; it has {metrics}.")
        metrics = [metric]
    table = medians.unstack(["metric", "source"]).reindex(
        index=list(dict.fromkeys(scores["method"])),
        columns=pd.MultiIndex.from_product([metrics, sources], names=["metric", "source"]))
    table.index.name = "method"
    if metric is not None:
        table = table[metric]
        table.columns.name = None
    tracks = list(dict.fromkeys(scores["track"]))
    table.attrs.update(caption=text, definition=scores["definition"].iloc[0], n_tracks=len(tracks), tracks=tracks)
    return table
