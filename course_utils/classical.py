"""Classical separation: median-filtering HPSS, REPET, REPET-SIM and (supervised) NMF.

Every method here works on a magnitude spectrogram ``S`` of the mixture (shape
``(n_freq, n_frames)``, from :func:`course_utils.spectral.stft`) and returns soft masks; the
masks are applied to the mixture's complex STFT with :func:`course_utils.masks.apply_mask`,
so the estimates keep the mixture's phase.

- **HPSS** (Fitzgerald 2010): harmonic sounds are horizontal lines in a spectrogram, drum hits
  vertical lines. A median filter along time keeps the first (:func:`hpss_filters`), one along
  frequency the second; :func:`hpss` turns the two into masks, soft (``power=2``) or hard
  (``power=np.inf``), exactly as :func:`librosa.decompose.hpss` does.
- **REPET** (Rafii & Pardo 2013): the accompaniment repeats, the voice does not.
  :func:`beat_spectrum` finds the repeating period, :func:`repeating_model` takes the median
  of the spectrogram's periods as the background, :func:`repet` makes the masks.
- **REPET-SIM** (Rafii & Pardo 2012): instead of one period, every frame takes the median of
  its most similar frames (:func:`cosine_similarity`). :func:`similar_frames` picks them
  either as the k nearest, like :func:`librosa.decompose.nn_filter`, or as the paper's (and
  nussl's) similarity peaks; :func:`repet_sim_model` and :func:`repet_sim`.
- **NMF** (Lee & Seung 2001; Smaragdis & Brown 2003): ``S ≈ W H`` with non-negative spectral
  templates ``W`` and activations ``H``, fitted by multiplicative updates that never increase
  the generalised Kullback-Leibler divergence (:func:`nmf`).
  Supervised: templates learned per source on training stems (:func:`learn_templates`), then
  only the activations are fitted on the mixture (:func:`supervised_nmf`).

:mod:`course_utils.methods` makes each a method that :func:`course_utils.metrics.evaluate`
scores next to the oracle masks. :func:`import_nussl` imports the (deprecated) nussl library
where it can work.

Taught in ``04_classical_separation``.
"""

from __future__ import annotations

import importlib
import logging
import warnings
from typing import NamedTuple

import librosa
import numpy as np
import scipy.ndimage
import scipy.signal
import scipy.signal.windows

from . import audio, spectral
from .masks import EPS
from .repro import one_blas_thread

__all__ = [
    "EPS", "hpss_filters", "hpss", "beat_spectrum", "repeating_period", "repeating_model",
    "repeating_mask", "high_pass_bins", "RepetResult", "repet", "cosine_similarity", "SELECTIONS", "similar_frames",
    "repet_sim_model",
    "repet_sim", "nmf", "learn_templates", "supervised_nmf", "oracle_grouping", "component_masks",
    "import_nussl",
]

# --------------------------------------------------------------------------------------------
# Input checks


def _magnitude(S, what: str = "S", *, ndim: int | None = 2) -> np.ndarray:
    """A magnitude spectrogram ``(n_freq, n_frames)`` (any shape with ``ndim=None``)."""
    return audio.valid_magnitude(S, name=what, ndim=ndim, min_ndim=0, shape="(n_freq, n_frames)")


def _seconds_to_frames(seconds: float, *, sr: int, hop_length: int) -> int:
    """Frames that span ``seconds``, rounded up (as nussl does)."""
    return int(np.ceil(seconds * sr / hop_length))


# --------------------------------------------------------------------------------------------
# Harmonic-percussive separation


def _kernel_sizes(kernel_size) -> tuple[int, int]:
    if isinstance(kernel_size, (tuple, list)):
        if len(kernel_size) != 2:
            raise ValueError(f"kernel_size must be an int or (harmonic, percussive), got {kernel_size!r}.")
        harm, perc = kernel_size
    else:
        harm = perc = kernel_size
    return audio.valid_int(harm, name="kernel_size (harmonic)"), audio.valid_int(perc, name="kernel_size (percussive)")


def hpss_filters(S, *, kernel_size=31) -> tuple[np.ndarray, np.ndarray]:
    """The two median filters of HPSS: along time (harmonic) and along frequency (percussive).

    A stationary partial is a horizontal line: the median over ``kernel_size`` neighbouring
    frames keeps it, while a drum hit (a vertical line, one or two frames wide) is an outlier
    in that window and disappears. The median over neighbouring frequency bins does the
    opposite. Edges are handled by mirror reflection (``scipy.ndimage``'s ``"reflect"``), as
    in librosa.

    Parameters
    ----------
    S : np.ndarray, shape ``(n_freq, n_frames)``
        Magnitude spectrogram (non-negative).
    kernel_size : int or (int, int)
        Filter lengths ``(harmonic, along time in frames; percussive, along frequency in
        bins)``; one int sets both. Librosa's default is 31.

    Returns
    -------
    harmonic, percussive : np.ndarray, shape of ``S``, dtype of ``S``
        The "enhanced" spectrograms ``H`` and ``P`` (not yet masks).

    Notes
    -----
    Fitzgerald, "Harmonic/percussive separation using median filtering", DAFx 2010.
    Taught in ``04_classical_separation``.
    """
    S = _magnitude(S)
    harm, perc = _kernel_sizes(kernel_size)
    H = scipy.ndimage.median_filter(S, size=(1, harm), mode="reflect")
    P = scipy.ndimage.median_filter(S, size=(perc, 1), mode="reflect")
    return H, P


def hpss(S, *, kernel_size=31, power: float = 2.0, margin=1.0, mask: bool = False):
    """Harmonic-percussive separation by median filtering, with soft or hard masks.

    With ``H, P`` from :func:`hpss_filters`, the harmonic mask is
    ``M_H = H**p / (H**p + (margin * P)**p)`` and the percussive one
    ``M_P = P**p / (P**p + (margin * H)**p)``. ``power=2`` is the soft (Wiener-like) mask;
    ``power=np.inf`` the hard (binary) one, ``H > margin * P``. With ``margin=1`` the soft
    masks sum to 1 (a silent bin gives 0.5 to each); a margin above 1 leaves a residual.
    Computed by :func:`librosa.decompose.hpss`, whose numbers these are; notebook 04 builds
    the same masks from :func:`hpss_filters` in a few lines of NumPy.

    Parameters
    ----------
    S : np.ndarray, shape ``(n_freq, n_frames)``
        The mixture's STFT (complex) or its magnitude.
    kernel_size : int or (int, int)
        Median filter lengths, see :func:`hpss_filters`.
    power : float > 0 or np.inf
        Exponent of the soft mask; ``np.inf`` for hard masks.
    margin : float >= 1 or (float, float)
        Margins ``(harmonic, percussive)`` of Driedger et al. (ISMIR 2014).
    mask : bool
        Return the masks instead of the masked spectrograms.

    Returns
    -------
    harmonic, percussive : np.ndarray, shape of ``S``
        Masks (float, in [0, 1]) if ``mask=True``; otherwise ``S * M_H`` and ``S * M_P``
        (complex if ``S`` was: the mixture's phase is kept).

    Notes
    -----
    Taught in ``04_classical_separation``.
    """
    S = np.asarray(S)
    _magnitude(np.abs(S) if np.iscomplexobj(S) else S)
    if not (power > 0):
        raise ValueError(f"power must be positive (2: soft, np.inf: hard), got {power!r}.")
    margins = tuple(margin) if isinstance(margin, (tuple, list)) else (margin, margin)
    if len(margins) != 2 or min(margins) < 1:
        raise ValueError(f"margin must be >= 1, or a pair (harmonic, percussive) of such, got {margin!r}.")
    # librosa computes exactly hpss_filters and the soft masks above (tests/test_classical.py)
    out = librosa.decompose.hpss(S, kernel_size=_kernel_sizes(kernel_size), power=power, mask=mask, margin=margins)
    if mask:  # librosa's hard masks are boolean: give masks as numbers, whatever the power
        dtype = np.result_type(np.abs(S).dtype, np.float32)
        return tuple(m.astype(dtype, copy=False) for m in out)
    return out


# --------------------------------------------------------------------------------------------
# REPET: one repeating period


def beat_spectrum(S) -> np.ndarray:
    """The beat spectrum: how similar the spectrogram is to itself shifted by each lag.

    ``b[l] = mean_f  1 / (n_frames - l)  sum_t  P[f, t] P[f, t + l]`` with the power
    spectrogram ``P = S**2``: the autocorrelation of every frequency row (unbiased, computed
    with FFTs), averaged over frequencies, then divided by ``b[0]``. Peaks sit at the lags
    where the music repeats (beats, bars).

    Parameters
    ----------
    S : np.ndarray, shape ``(n_freq, n_frames)``
        Magnitude spectrogram.

    Returns
    -------
    np.ndarray, float64, shape ``(n_frames,)``
        ``b[0] = 1`` (all zeros for a silent ``S``); lag ``l`` is ``l * hop_length / sr`` seconds.

    Notes
    -----
    Foote & Uchihashi (ICME 2001); as used by REPET (Rafii & Pardo 2013) and nussl's ``Repet``.
    Taught in ``04_classical_separation``.
    """
    P = _magnitude(S).astype(np.float64) ** 2
    n_frames = P.shape[1]
    n_fft = int(2 ** np.ceil(np.log2(2 * n_frames)))  # zero padding: linear, not circular, correlation
    F = np.fft.rfft(P, n=n_fft, axis=1)
    acf = np.fft.irfft(np.abs(F) ** 2, n=n_fft, axis=1)[:, :n_frames]
    acf /= np.arange(n_frames, 0, -1)  # unbiased: lag l has n_frames - l products
    b = acf.mean(axis=0)
    return b / b[0] if b[0] > 0 else np.zeros_like(b)


def repeating_period(b, *, min_period: int, max_period: int) -> int:
    """The lag (in frames) of the beat spectrum's highest value in ``[min_period, max_period]``.

    Parameters
    ----------
    b : np.ndarray, shape ``(n_lags,)``
        A beat spectrum (:func:`beat_spectrum`).
    min_period, max_period : int
        Search range in frames, both included; ``1 <= min_period <= max_period``. The range
        is clipped to the lags ``b`` has.

    Returns
    -------
    int
        The repeating period in frames.

    Notes
    -----
    REPET's simple period finder (as nussl's ``find_repeating_period_simple``).
    Taught in ``04_classical_separation``.
    """
    b = audio.valid_array(b, name="b", ndim=1, shape="(a beat spectrum, (n_lags,))", real=True).astype(np.float64)
    if b.size < 2:
        raise ValueError(f"b must hold at least 2 lags, got shape {b.shape}.")
    lo = audio.valid_int(min_period, name="min_period")
    hi = min(audio.valid_int(max_period, name="max_period"), b.size - 1)
    if lo > hi:
        raise ValueError(f"No lag to search: min_period={lo} frames, but the largest usable lag is {hi} "
                         f"(max_period={max_period}, {b.size} lags). Use a longer signal or a smaller min_period.")
    return lo + int(np.argmax(b[lo:hi + 1]))


def repeating_model(S, *, period: int) -> np.ndarray:
    """REPET's background: the median of the spectrogram's periods, repeated, capped by ``S``.

    The spectrogram is cut into segments of ``period`` frames (the last one padded with
    NaN, which the median skips). The element-wise median over the segments is one
    "repeating segment"; tiled back over the whole signal and capped at the mixture
    (``min(model, S)``: the background cannot be louder than the mixture) it is the model
    of the repeating background. The voice, which does not repeat, is an outlier in each
    median and is left out.

    Parameters
    ----------
    S : np.ndarray, shape ``(n_freq, n_frames)``
        Magnitude spectrogram.
    period : int
        Repeating period in frames, ``1 <= period <= n_frames``.

    Returns
    -------
    np.ndarray, shape of ``S``, float64
        The background model ``W`` with ``0 <= W <= S``.

    Notes
    -----
    Taught in ``04_classical_separation``.
    """
    S = _magnitude(S).astype(np.float64)
    n_freq, n_frames = S.shape
    period = audio.valid_int(period, name="period")
    if period > n_frames:
        raise ValueError(f"period={period} frames is longer than the spectrogram ({n_frames} frames).")
    n_rep = -(-n_frames // period)
    padded = np.full((n_freq, n_rep * period), np.nan)
    padded[:, :n_frames] = S
    segment = np.nanmedian(padded.reshape(n_freq, n_rep, period), axis=1)  # (n_freq, period)
    model = np.tile(segment, n_rep)[:, :n_frames]
    return np.minimum(model, S)


def repeating_mask(S, W, *, eps: float = EPS) -> np.ndarray:
    """The soft mask of the repeating background: ``(min(W, S) + eps) / (S + eps)``, in [0, 1].

    Parameters
    ----------
    S : np.ndarray, shape ``(n_freq, n_frames)``
        The mixture's magnitude spectrogram.
    W : np.ndarray, shape of ``S``
        A background model (:func:`repeating_model`, :func:`repet_sim_model`).
    eps : float
        Keeps silent bins finite (they go to the background).

    Returns
    -------
    np.ndarray, float64, shape of ``S``
        The background mask; the foreground mask is ``1 -`` it.

    Notes
    -----
    Taught in ``04_classical_separation``.
    """
    S = _magnitude(S).astype(np.float64)
    W = _magnitude(W, "W").astype(np.float64)
    if W.shape != S.shape:
        raise ValueError(f"W has shape {W.shape} but S has shape {S.shape}; they must match.")
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps!r}.")
    return (np.minimum(W, S) + eps) / (S + eps)


def high_pass_bins(*, sr: int, n_fft: int = spectral.N_FFT, cutoff: float = 100.0) -> int:
    """How many of the lowest STFT bins lie below ``cutoff`` Hz (the bin nearest to it excluded).

    REPET and REPET-SIM give these bins entirely to the background: a singing voice has
    nothing there, the bass and kick drum do.

    Returns
    -------
    int
        The index of the bin whose centre frequency is nearest to ``cutoff``.
    """
    if not cutoff >= 0:
        raise ValueError(f"cutoff must be a frequency >= 0 Hz, got {cutoff!r}.")
    return int(np.argmin(np.abs(spectral.frequencies(sr=sr, n_fft=n_fft) - cutoff)))


def _finish_masks(S, W, *, sr, n_fft, high_pass):
    background = repeating_mask(S, W)
    if high_pass is not None:
        background[:high_pass_bins(sr=sr, n_fft=n_fft, cutoff=high_pass)] = 1.0
    return background, 1.0 - background


class RepetResult(NamedTuple):
    """What :func:`repet` returns: two masks and the period it used."""

    background: np.ndarray
    """Mask of the repeating background (accompaniment), shape ``(n_freq, n_frames)``."""
    foreground: np.ndarray
    """Mask of the non-repeating foreground (voice), ``1 - background``."""
    period: int
    """The repeating period in frames."""


def repet(S, *, sr: int, hop_length: int = spectral.HOP_LENGTH, period: float | None = None,
          min_period: float = 0.8, max_period: float | None = None, high_pass: float | None = 100.0) -> RepetResult:
    """REPET: separate a repeating background from a non-repeating foreground.

    1. :func:`beat_spectrum` of ``S``; 2. the period: its highest peak between
    ``min_period`` and ``max_period`` (:func:`repeating_period`); 3. the background model,
    the median of the periods (:func:`repeating_model`); 4. the soft mask
    ``min(W, S) / S`` (:func:`repeating_mask`), with the bins below ``high_pass`` Hz all
    given to the background.

    Parameters
    ----------
    S : np.ndarray, shape ``(n_freq, n_frames)``
        The mixture's magnitude spectrogram (course STFT: ``n_fft = 2 * (n_freq - 1)``).
    sr, hop_length
        To convert seconds to frames.
    period : float, optional
        The repeating period in seconds; by default found from the beat spectrum.
    min_period, max_period : float
        The period search range in seconds; ``max_period`` defaults to a third of the signal
        (at least three repetitions), at most 8 s (nussl's defaults).
    high_pass : float or None
        Cutoff in Hz; None keeps every bin.

    Returns
    -------
    RepetResult
        ``(background, foreground, period)``: masks of shape ``S.shape`` (float64, summing
        to 1) and the period in frames.

    Notes
    -----
    Rafii & Pardo, "REpeating Pattern Extraction Technique (REPET): a simple method for
    music/voice separation", IEEE TASLP 2013. Taught in ``04_classical_separation``.
    """
    S = _magnitude(S)
    n_freq, n_frames = S.shape
    if period is not None:
        if not period > 0:
            raise ValueError(f"period must be a positive number of seconds, got {period!r}.")
        frames = _seconds_to_frames(period, sr=sr, hop_length=hop_length)
    else:
        duration = (n_frames - 1) * hop_length / sr  # the signal's length (course STFT, center=True)
        max_period = min(8.0, duration / 3) if max_period is None else max_period
        lo = _seconds_to_frames(min_period, sr=sr, hop_length=hop_length)
        hi = _seconds_to_frames(max_period, sr=sr, hop_length=hop_length)
        frames = repeating_period(beat_spectrum(S), min_period=lo, max_period=hi)
    W = repeating_model(S, period=frames)
    background, foreground = _finish_masks(S, W, sr=sr, n_fft=2 * (n_freq - 1), high_pass=high_pass)
    return RepetResult(background, foreground, frames)


# --------------------------------------------------------------------------------------------
# REPET-SIM: similar frames instead of one period


def cosine_similarity(S) -> np.ndarray:
    """Cosine similarity between every pair of frames (columns) of ``S``.

    ``C[i, j] = <s_i, s_j> / (||s_i|| ||s_j||)``; a silent frame is similar to nothing (0).

    Parameters
    ----------
    S : np.ndarray, shape ``(n_freq, n_frames)``

    Returns
    -------
    np.ndarray, float64, shape ``(n_frames, n_frames)``
        Symmetric, in [0, 1] for a non-negative ``S``, ones on the diagonal (except silent frames).

    Notes
    -----
    Taught in ``04_classical_separation``.
    """
    S = _magnitude(S).astype(np.float64)
    norms = np.linalg.norm(S, axis=0)
    unit = S / np.where(norms > 0, norms, 1.0)
    return unit.T @ unit


SELECTIONS = ("knn", "peaks")
"""How REPET-SIM picks each frame's similar frames: see :func:`similar_frames`."""


def similar_frames(C, *, width: float, k: int | None = None, selection: str = "knn") -> list:
    """For every frame, the frames REPET-SIM takes its median over.

    - ``"knn"``: the ``k`` frames with the highest similarity among those at least ``width``
      frames away (``|i - j| >= width``), as :func:`librosa.segment.recurrence_matrix` with
      ``mode="affinity"`` selects them for :func:`librosa.decompose.nn_filter`. Default ``k``:
      librosa's ``2 * ceil(sqrt(n_frames - 2 * width + 1))``.
    - ``"peaks"``: as the REPET-SIM paper and nussl's ``RepetSim``: repeatedly take the most
      similar frame and rule out everything within ``width`` frames of it, so the chosen
      frames are local maxima of the similarity, at least ``width`` apart; the first pick is
      the frame itself and is dropped. At most ``k`` frames (default 100).

    Parameters
    ----------
    C : np.ndarray, shape ``(n_frames, n_frames)``
        A similarity matrix (:func:`cosine_similarity`).
    width : float
        In frames. ``"knn"``: the minimum lag, an integer ``>= 1`` below
        ``(n_frames - 1) // 2``. ``"peaks"``: the radius ruled out around each pick
        (``width`` may be fractional: frames ``j`` with ``int(i - width) <= j < int(i + width + 1)``).
    k : int, optional
    selection : {"knn", "peaks"}

    Returns
    -------
    list of np.ndarray of int
        ``n_frames`` arrays of frame indices (``"peaks"`` can give an empty one for a frame
        similar to nothing).

    Notes
    -----
    Taught in ``04_classical_separation``.
    """
    C = audio.valid_array(C, name="C", ndim=2, shape="(a similarity matrix)", real=True).astype(np.float64)
    if C.shape[0] != C.shape[1]:
        raise ValueError(f"C must be a square similarity matrix, got shape {C.shape}.")
    n = C.shape[0]
    if selection == "knn":
        width = audio.valid_int(width, name="width")
        if width >= (n - 1) // 2:
            raise ValueError(f"width={width} frames must be below (n_frames - 1) // 2 = {(n - 1) // 2}.")
        k = int(2 * np.ceil(np.sqrt(n - 2 * width + 1))) if k is None else audio.valid_int(k, name="k")
        k = min(k, n - 2 * width + 1)  # every frame has at least this many candidates
        C = C.copy()
        lag = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :])
        C[lag < width] = -np.inf
        # a stable sort on (-similarity) breaks ties by frame index
        return list(np.argsort(-C, axis=1, kind="stable")[:, :k])
    if selection == "peaks":
        if not width > 0:
            raise ValueError(f"width must be a positive number of frames, got {width!r}.")
        k = 100 if k is None else audio.valid_int(k, name="k")
        out = []
        for i in range(n):
            row = C[i] - C[i].min()
            top = row.max()
            if not top > 0:
                out.append(np.zeros(0, dtype=int))
                continue
            row /= top
            picks = []
            while len(picks) <= k:  # the first pick is the frame itself
                j = int(np.argmax(row))
                picks.append(j)
                row[max(0, int(j - width)):int(j + width + 1)] = 0
                if not row.any():
                    break
            out.append(np.asarray(picks[1:], dtype=int))
        return out
    raise ValueError(f"selection must be one of {SELECTIONS}, got {selection!r}.")


def repet_sim_model(S, *, k: int | None = None, width: float = 1, selection: str = "knn") -> np.ndarray:
    """REPET-SIM's background: every frame replaced by the median of its most similar frames.

    The frames are chosen by :func:`similar_frames` from the :func:`cosine_similarity` of
    ``S``'s frames; their element-wise median is the model of the frame, capped by ``S``. A
    frame's close neighbours are left out (``width``): they are similar just because sounds
    last. A frame with no similar frame keeps its whole magnitude (all background). With
    ``selection="knn"`` this equals ``np.minimum(S, librosa.decompose.nn_filter(S,
    aggregate=np.median, metric="cosine", mode="affinity", width=width, k=k))``.

    Parameters
    ----------
    S : np.ndarray, shape ``(n_freq, n_frames)``
        Magnitude spectrogram.
    k, width, selection
        See :func:`similar_frames`.

    Returns
    -------
    np.ndarray, float64, shape of ``S``
        The background model ``W`` with ``0 <= W <= S``.

    Notes
    -----
    Rafii & Pardo, "Music/voice separation using the similarity matrix", ISMIR 2012.
    Taught in ``04_classical_separation``.
    """
    S = _magnitude(S).astype(np.float64)
    neighbours = similar_frames(cosine_similarity(S), width=width, k=k, selection=selection)
    model = S.copy()
    if selection == "knn":  # equal counts: in blocks of frames, S[:, idx] is (n_freq, block, k)
        neighbours = np.asarray(neighbours)
        for start in range(0, S.shape[1], 128):
            idx = neighbours[start:start + 128]
            model[:, start:start + len(idx)] = np.median(S[:, idx], axis=2)
    else:
        for i, idx in enumerate(neighbours):
            if len(idx):
                model[:, i] = np.median(S[:, idx], axis=1)
    return np.minimum(model, S)


def repet_sim(S, *, sr: int, hop_length: int = spectral.HOP_LENGTH, k: int | None = None,
              min_distance: float | None = None, selection: str = "knn",
              high_pass: float | None = 100.0) -> tuple[np.ndarray, np.ndarray]:
    """REPET-SIM: background and foreground masks from the similarity-based model.

    Parameters
    ----------
    S : np.ndarray, shape ``(n_freq, n_frames)``
        The mixture's magnitude spectrogram (course STFT).
    sr, hop_length
        To convert seconds to frames.
    k : int, optional
        Neighbours per frame (see :func:`similar_frames`).
    min_distance : float, optional
        Seconds: ``"knn"``, the smallest lag between a frame and the frames it borrows from
        (default 2 s, as librosa's vocal separation example); ``"peaks"``, the distance
        between picks (default 1 s, nussl's).
    selection : {"knn", "peaks"}
        How the similar frames are picked (:func:`similar_frames`).
    high_pass : float or None
        Bins below this frequency (Hz) go to the background.

    Returns
    -------
    background, foreground : np.ndarray, float64, shape of ``S``
        Masks that sum to 1.

    Notes
    -----
    Taught in ``04_classical_separation``.
    """
    S = _magnitude(S)
    if selection not in SELECTIONS:
        raise ValueError(f"selection must be one of {SELECTIONS}, got {selection!r}.")
    min_distance = {"knn": 2.0, "peaks": 1.0}[selection] if min_distance is None else min_distance
    if not min_distance > 0:
        raise ValueError(f"min_distance must be a positive number of seconds, got {min_distance!r}.")
    width = min_distance * sr / hop_length
    if selection == "knn":
        width = max(1, int(round(width)))
    W = repet_sim_model(S, k=k, width=width, selection=selection)
    return _finish_masks(S, W, sr=sr, n_fft=2 * (S.shape[0] - 1), high_pass=high_pass)


# --------------------------------------------------------------------------------------------
# Non-negative matrix factorisation


def _kl(V, V_hat) -> float:
    """The generalised Kullback-Leibler divergence ``D(V | V_hat) = sum V log(V / V_hat) - V + V_hat``.

    The cost that :func:`nmf` minimises: zero if and only if ``V == V_hat``; a bin with
    ``V = 0`` contributes ``V_hat``; ``inf`` where ``V_hat`` is zero and ``V`` is not.
    """
    if V.min() > 0:  # the usual case: no zero bins, no masking needed
        if V_hat.min() <= 0:
            return float("inf")
        return float(np.sum(V * np.log(V / V_hat)) - V.sum() + V_hat.sum())
    pos = V > 0
    if np.any(V_hat[pos] <= 0):
        return float("inf")
    return float(np.sum(V[pos] * np.log(V[pos] / V_hat[pos])) - V.sum() + V_hat.sum())


def _init(shape, scale, rng):
    return rng.uniform(0.1, 1.0, size=shape) * scale


def nmf(V, *, n_components: int | None = None, W=None, H=None, n_iter: int = 100, update_W: bool = True,
        update_H: bool = True, random_state=0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Non-negative matrix factorisation ``V ≈ W H`` by KL multiplicative updates.

    Each iteration applies Lee & Seung's updates for the generalised KL divergence
    (the generalised Kullback-Leibler divergence)::

        H <- H * (W.T @ (V / WH)) / (W.T @ 1)
        W <- W * ((V / WH) @ H.T) / (1 @ H.T)

    Each update multiplies by a non-negative factor (so nothing becomes negative) and never
    increases the divergence. KL (rather than the Euclidean distance) is the usual choice for
    magnitude spectrograms: it weighs quiet bins more, as hearing does.

    Parameters
    ----------
    V : np.ndarray, shape ``(n_freq, n_frames)``
        Non-negative data (a magnitude spectrogram).
    n_components : int, optional
        The rank ``K``; needed unless ``W`` or ``H`` is given.
    W : np.ndarray, shape ``(n_freq, K)``, optional
        Initial (or, with ``update_W=False``, fixed) templates; random by default.
    H : np.ndarray, shape ``(K, n_frames)``, optional
        Initial (or fixed) activations; random by default.
    n_iter : int >= 0
        Iterations.
    update_W, update_H : bool
        Which factors to update (supervised NMF keeps ``W`` fixed).
    random_state : int or np.random.Generator
        Seeds the random initialisation.

    Returns
    -------
    W : np.ndarray, float64, shape ``(n_freq, K)``
    H : np.ndarray, float64, shape ``(K, n_frames)``
    cost : np.ndarray, float64, shape ``(n_iter + 1,)``
        The divergence before the first iteration and after each one (non-increasing).

    Notes
    -----
    Lee & Seung, "Algorithms for non-negative matrix factorization", NIPS 2001.
    Taught in ``04_classical_separation``.
    """
    V = _magnitude(V, "V").astype(np.float64)
    n_freq, n_frames = V.shape
    if W is not None:
        W = _magnitude(W, "W").astype(np.float64).copy()
        if W.shape[0] != n_freq:
            raise ValueError(f"W has {W.shape[0]} rows but V has {n_freq} (frequency bins).")
    if H is not None:
        H = _magnitude(H, "H").astype(np.float64).copy()
        if H.shape[1] != n_frames:
            raise ValueError(f"H has {H.shape[1]} columns but V has {n_frames} (frames).")
    ranks = {r for r in (n_components, None if W is None else W.shape[1], None if H is None else H.shape[0])
             if r is not None}
    if not ranks:
        raise ValueError("Give n_components (the rank), or initial W or H.")
    if len(ranks) > 1:
        raise ValueError(f"n_components, W and H disagree on the rank: {sorted(ranks)}.")
    K = audio.valid_int(ranks.pop(), name="n_components")
    if int(n_iter) != n_iter or n_iter < 0:
        raise ValueError(f"n_iter must be a non-negative integer, got {n_iter!r}.")
    rng = np.random.default_rng(random_state)
    scale = np.sqrt(max(V.mean(), EPS) / K)
    W = _init((n_freq, K), scale, rng) if W is None else W
    H = _init((K, n_frames), scale, rng) if H is None else H
    tiny = np.finfo(np.float64).tiny
    with one_blas_thread():
        WH = W @ H
        cost = [_kl(V, WH)]
        for _ in range(int(n_iter)):
            if update_H:
                H *= (W.T @ (V / np.maximum(WH, tiny))) / np.maximum(W.sum(axis=0)[:, None], tiny)
                WH = W @ H
            if update_W:
                W *= ((V / np.maximum(WH, tiny)) @ H.T) / np.maximum(H.sum(axis=1)[None, :], tiny)
                WH = W @ H
            cost.append(_kl(V, WH))
    return W, H, np.asarray(cost)


def learn_templates(V, *, n_components: int, n_iter: int = 100, random_state=0) -> np.ndarray:
    """Spectral templates of one source: the ``W`` of :func:`nmf` on its spectrogram, columns summing to 1.

    Parameters
    ----------
    V : np.ndarray, shape ``(n_freq, n_frames)``
        Magnitude spectrogram of the isolated source (training stems, frames of several
        songs side by side).
    n_components : int
        Templates to learn.
    n_iter : int
    random_state : int

    Returns
    -------
    np.ndarray, float64, shape ``(n_freq, n_components)``
        Each column a spectral shape with unit sum (the scale lives in the activations).

    Notes
    -----
    Taught in ``04_classical_separation``.
    """
    W, _, _ = nmf(V, n_components=n_components, n_iter=n_iter, random_state=random_state)
    return W / np.maximum(W.sum(axis=0, keepdims=True), np.finfo(np.float64).tiny)


def supervised_nmf(V, templates, *, n_iter: int = 100, power: float = 1.0, random_state=0):
    """Separate with fixed per-source templates: fit the activations only, then mask.

    ``W = [W_1 | W_2 | ...]`` stacks every source's templates; :func:`nmf` fits ``H`` with
    ``W`` fixed. Source ``i``'s model is ``V_i = W_i H_i`` (its own rows of ``H``) and its
    mask ``V_i**p / sum_j V_j**p``, a ratio mask built from the models.

    Parameters
    ----------
    V : np.ndarray, shape ``(n_freq, n_frames)``
        The mixture's magnitude spectrogram.
    templates : sequence of np.ndarray, each shaped ``(n_freq, K_i)``
        One template matrix per source (:func:`learn_templates`).
    n_iter : int
        Iterations of the activation update.
    power : float > 0
        Exponent of the ratio mask (1: magnitudes, 2: Wiener-like).
    random_state : int

    Returns
    -------
    masks : np.ndarray, float64, shape ``(n_sources, n_freq, n_frames)``
        Sum to 1 over the sources.
    H : np.ndarray, float64, shape ``(sum K_i, n_frames)``
        The activations, sources' blocks in order.
    cost : np.ndarray, shape ``(n_iter + 1,)``
        The KL divergence per iteration.

    Notes
    -----
    Smaragdis, Raj & Shashanka, "Supervised and semi-supervised separation of sounds from
    single-channel mixtures", ICA 2007. Taught in ``04_classical_separation``.
    """
    V = _magnitude(V, "V")
    templates = [_magnitude(W, f"templates[{i}]") for i, W in enumerate(templates)]
    if not templates:
        raise ValueError("templates is empty: give one template matrix per source.")
    if not power > 0:
        raise ValueError(f"power must be positive, got {power!r}.")
    sizes = [W.shape[1] for W in templates]
    W = np.concatenate(templates, axis=1)
    _, H, cost = nmf(V, W=W, n_iter=n_iter, update_W=False, random_state=random_state)
    bounds = np.cumsum([0] + sizes)
    models = np.stack([templates[i] @ H[bounds[i]:bounds[i + 1]] for i in range(len(templates))])
    return _model_masks(models, power), H, cost


def _model_masks(models, power: float) -> np.ndarray:
    """Ratio masks ``models**p / sum models**p`` of ``(n_sources, n_freq, n_frames)`` models, summing to 1."""
    P = models ** power
    return (P + EPS) / (P.sum(axis=0) + len(P) * EPS)


def oracle_grouping(W, H, sources) -> np.ndarray:
    """Which source each NMF component belongs to, decided by looking at the true sources.

    Blind NMF (:func:`nmf` on a mixture, no templates, no score) finds components but not whose
    they are. This grouping cheats: component ``k``'s rank-one part ``V_k = W[:, k] H[k]`` goes to
    the source whose true magnitude spectrogram ``X_i`` it resembles most, by cosine similarity
    ``<V_k, X_i> / (||V_k|| ||X_i||)`` over all bins. No separation method can do this (it needs
    the answer); it is an upper bound of what clustering the components could reach.

    Parameters
    ----------
    W : np.ndarray, shape ``(n_freq, n_components)``
        Templates (:func:`nmf`).
    H : np.ndarray, shape ``(n_components, n_frames)``
        Activations.
    sources : np.ndarray, shape ``(n_sources, n_freq, n_frames)``
        The true sources' magnitude spectrograms.

    Returns
    -------
    np.ndarray, int, shape ``(n_components,)``
        The source index of each component (every component gets exactly one; a source may
        get none).

    Notes
    -----
    Taught in ``04_classical_separation``, section 4.3.
    """
    W, H = _magnitude(W, "W"), _magnitude(H, "H")
    X = audio.valid_magnitude(sources, name="sources", ndim=3, shape="(n_sources, n_freq, n_frames)").astype(np.float64)
    if W.shape[1] != H.shape[0] or X.shape[1:] != (W.shape[0], H.shape[1]):
        raise ValueError(f"W {W.shape}, H {H.shape} and sources {X.shape} do not fit: need (F, K), (K, T), (n, F, T).")
    inner = np.einsum("fk,ift,kt->ik", W, X, H)                    # <W_k H_k, X_i> without forming W_k H_k
    norms = np.linalg.norm(X.reshape(len(X), -1), axis=1)[:, None] * np.linalg.norm(W, axis=0) * np.linalg.norm(H, axis=1)
    return np.argmax(inner / np.maximum(norms, np.finfo(np.float64).tiny), axis=0)


def component_masks(W, H, labels, *, n_sources: int, power: float = 1.0) -> np.ndarray:
    """Ratio masks from groups of NMF components: source ``i``'s model is the sum of its components.

    ``V_i = W[:, labels == i] @ H[labels == i]`` and ``M_i = V_i**p / sum_j V_j**p``, as in
    :func:`supervised_nmf` (where the groups are the sources' template blocks).

    Parameters
    ----------
    W : np.ndarray, shape ``(n_freq, n_components)``
    H : np.ndarray, shape ``(n_components, n_frames)``
    labels : np.ndarray of int, shape ``(n_components,)``
        The source of each component, in ``0 .. n_sources - 1`` (:func:`oracle_grouping`).
    n_sources : int
    power : float > 0
        Exponent of the ratio mask.

    Returns
    -------
    np.ndarray, float64, shape ``(n_sources, n_freq, n_frames)``
        Sum to 1 over the sources (a source without components gets a mask of about 0).

    Notes
    -----
    Taught in ``04_classical_separation``, section 4.3.
    """
    W, H = _magnitude(W, "W"), _magnitude(H, "H")
    labels = np.asarray(labels)
    n_sources = audio.valid_int(n_sources, name="n_sources")
    if labels.shape != (W.shape[1],) or not np.issubdtype(labels.dtype, np.integer) \
            or labels.min(initial=0) < 0 or labels.max(initial=0) >= n_sources:
        raise ValueError(f"labels must be {W.shape[1]} integers in 0..{n_sources - 1}, got {labels!r}.")
    if not power > 0:
        raise ValueError(f"power must be positive, got {power!r}.")
    return _model_masks(np.stack([W[:, labels == i] @ H[labels == i] for i in range(n_sources)]), power)


# --------------------------------------------------------------------------------------------
# nussl, where it can be imported


def import_nussl():
    """Import nussl 1.1.9 on today's SciPy, or say why it cannot be imported.

    nussl (Manilow, Seetharaman & Pardo) was the separation library of the ISMIR 2020
    tutorial; upstream declared it deprecated in December 2024. It calls
    ``scipy.signal.hamming``, ``hann`` and ``blackman``, which SciPy 1.13 removed (they live
    in ``scipy.signal.windows``); this function puts those three names back into
    ``scipy.signal`` (a process-wide change, harmless for other code) and then imports it.
    Install it with ``tools/install_nussl.sh``. Nothing in the course depends on it.

    Returns
    -------
    module : module or None
        ``nussl``, or None if it cannot be imported.
    reason : str
        The version imported, or what failed and how to install it.

    Notes
    -----
    Taught (optionally) in ``04_classical_separation``.
    """
    for name in ("hamming", "hann", "blackman"):
        if not hasattr(scipy.signal, name):
            setattr(scipy.signal, name, getattr(scipy.signal.windows, name))
    sox_logger = logging.getLogger("sox")  # nussl imports `sox`, which warns when the SoX program is missing
    was_disabled, sox_logger.disabled = sox_logger.disabled, True
    try:
        with warnings.catch_warnings():  # nussl's own DeprecationWarnings (scipy.ndimage.filters, ...)
            warnings.simplefilter("ignore")
            nussl = importlib.import_module("nussl")
    except ModuleNotFoundError as error:
        if error.name != "nussl":
            return None, (f"nussl is installed but its dependency {error.name!r} is missing ({error}); "
                          "run `bash tools/install_nussl.sh` in the repository.")
        return None, (f"nussl is not installed ({error}); it is an optional extra: run "
                      "`bash tools/install_nussl.sh` in the repository (see its comments).")
    except Exception as error:  # noqa: BLE001 - nussl fails in many ways on today's stack
        return None, f"nussl is installed but does not import here: {type(error).__name__}: {error}"
    finally:
        sox_logger.disabled = was_disabled
    return nussl, f"nussl {getattr(nussl, '__version__', '?')} imported"
