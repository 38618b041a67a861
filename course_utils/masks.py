"""Time-frequency masks, and the oracle ("ideal") masks computed from the true sources.

A mask separates by re-weighting the bins of the mixture's STFT ``Y``: the estimate of source
``i`` is ``X̂_i = M_i ⊙ Y`` (element-wise), brought back to a waveform by the inverse STFT.
The *oracle* masks are computed from the true sources' STFTs ``X_i``, which a real system
never sees. They are reference points for what masking can reach, not upper bounds: none of
them maximises SDR (a mask fitted to the SDR itself can score higher).

- :func:`ideal_binary_mask` (IBM): each bin goes entirely to its loudest source.
- :func:`ideal_ratio_mask` (IRM): each bin is shared in proportion to ``|X_i|**power``;
  ``power=2`` is the Wiener-like (power-ratio) mask.
- :func:`phase_sensitive_mask` (PSM): ``Re(X_i / Y) = |X_i| / |Y| cos(θ_i - θ_Y)``, the real
  mask closest to the truth in the complex plane, usually clipped to ``[0, 1]``.

:func:`apply_mask` turns masks into signals and :func:`oracle_estimates` does everything for
one song; :func:`multichannel_wiener` refines the estimates of all sources of a stereo song with
``norbert`` (notebook 05); :func:`course_utils.methods.oracle` makes it a method that
:func:`course_utils.metrics.evaluate` scores.

Source STFTs are stacked on the first axis, ``(n_sources, n_freq, n_frames)`` (or
``(n_sources, n_channels, n_freq, n_frames)``); masks have the same shape and are float32.
Silent bins (``0 / 0``) get an equal share ``1 / n_sources`` thanks to a tiny ``eps``, never NaN.

Taught in ``02_masking``; reused by ``05_unet_separation`` (the oracle scores a trained model
is compared with).
"""

from __future__ import annotations

import numpy as np

from . import audio, spectral

__all__ = [
    "EPS", "ORACLES", "LABELS", "ideal_binary_mask", "ideal_ratio_mask", "wiener_like_mask",
    "phase_sensitive_mask", "oracle_mask", "apply_mask", "oracle_estimates", "multichannel_wiener",
]

EPS = 1e-10
"""Added to numerators and denominators of the soft masks so that silent bins give ``1 / n_sources``."""
ORACLES = ("ibm", "irm", "wiener", "psm")
"""The oracle masks by short name: binary, ratio (``power=1``), Wiener-like (``power=2``), phase-sensitive."""
LABELS = {"mixture": "mixture (no separation)", "ibm": "ideal binary mask (IBM)",
          "irm": "ideal ratio mask (IRM)", "wiener": "Wiener-like mask (IRM, p=2)",
          "psm": "phase-sensitive mask (PSM)"}
"""A readable label for each oracle and for the unseparated mixture (the baseline), for tables and legends."""


# --------------------------------------------------------------------------------------------
# Input checks


def _source_spectra(S, what: str = "S") -> np.ndarray:
    """The sources' STFTs (or magnitudes) stacked on the first axis."""
    return audio.valid_array(S, name=what, min_ndim=3, shape=(
        "(the STFTs of the sources stacked on the first axis: (n_sources, n_freq, n_frames) or "
        "(n_sources, n_channels, n_freq, n_frames); for one source add an axis, S[None])"))


def _check_power(power) -> float:
    if not np.isscalar(power) or not np.isfinite(power) or power <= 0:
        raise ValueError(f"power must be a positive number (1: magnitude ratio, 2: Wiener-like), got {power!r}.")
    return float(power)


# --------------------------------------------------------------------------------------------
# The masks


def ideal_binary_mask(S) -> np.ndarray:
    """The ideal binary mask: every bin goes entirely to the source that is loudest there.

    ``M_i(f, t) = 1`` if ``|X_i(f, t)| >= |X_j(f, t)|`` for every ``j``, else 0 (a tie goes to
    the first source). The masks of all sources sum to exactly 1 in every bin.

    Parameters
    ----------
    S : np.ndarray, shape ``(n_sources, n_freq, n_frames)`` or ``(n_sources, n_channels, n_freq, n_frames)``
        The sources' STFTs (complex), or their magnitudes.

    Returns
    -------
    np.ndarray, float32, shape of ``S``
        Zeros and ones, one-hot along the first axis.

    Notes
    -----
    This is the "winner takes all" form of the IBM, the one that the dominant-source picture
    (:func:`course_utils.plotting.dominant_source`) draws. Taught in ``02_masking``.
    """
    mag = np.abs(_source_spectra(S))
    winner = mag.argmax(axis=0)
    index = np.arange(len(mag)).reshape((-1,) + (1,) * (mag.ndim - 1))
    return (index == winner[None]).astype(np.float32)


def ideal_ratio_mask(S, *, power: float = 1.0, eps: float = EPS) -> np.ndarray:
    """The ideal ratio mask: every bin is shared in proportion to ``|X_i| ** power``.

    ``M_i = (|X_i|**p + eps) / (sum_j |X_j|**p + n_sources * eps)``. The masks lie in
    ``[0, 1]`` and sum to 1 over the sources in every bin; a silent bin gives ``1 / n_sources``.

    Parameters
    ----------
    S : np.ndarray, shape ``(n_sources, n_freq, n_frames)`` or ``(n_sources, n_channels, n_freq, n_frames)``
        The sources' STFTs (complex), or their magnitudes.
    power : float > 0
        The exponent ``p``: 1 compares magnitudes (the IRM), 2 compares powers (the
        Wiener-like mask, :func:`wiener_like_mask`). As ``p`` grows the mask tends to
        :func:`ideal_binary_mask`.
    eps : float
        Keeps ``0 / 0`` finite.

    Returns
    -------
    np.ndarray, float32, shape of ``S``

    Notes
    -----
    Taught in ``02_masking``.
    """
    power = _check_power(power)
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps!r}.")
    P = np.abs(_source_spectra(S)).astype(np.float64) ** power
    return ((P + eps) / (P.sum(axis=0) + len(P) * eps)).astype(np.float32)


def wiener_like_mask(S, *, eps: float = EPS) -> np.ndarray:
    """The Wiener-like mask ``|X_i|² / sum_j |X_j|²``: :func:`ideal_ratio_mask` with ``power=2``.

    With the true sources' power spectrograms this is the oracle Wiener filter, the mask
    that minimises the expected squared error when the sources are independent Gaussians.

    Parameters
    ----------
    S : np.ndarray, shape ``(n_sources, n_freq, n_frames)`` or ``(n_sources, n_channels, n_freq, n_frames)``
    eps : float

    Returns
    -------
    np.ndarray, float32, shape of ``S``

    Notes
    -----
    Taught in ``02_masking``.
    """
    return ideal_ratio_mask(S, power=2.0, eps=eps)


def phase_sensitive_mask(S, Y=None, *, clip=(0.0, 1.0), eps: float = EPS) -> np.ndarray:
    """The phase-sensitive mask ``Re(X_i / Y) = |X_i| / |Y| · cos(θ_i - θ_Y)``.

    The best *real* mask in the least-squares sense: ``M_i Y`` is the projection of ``X_i``
    onto the direction of ``Y`` in the complex plane. A source in phase with the mixture gets
    its magnitude ratio; one out of phase is attenuated, or even gets a negative value.
    Computed as ``(Re(X_i conj(Y)) + eps) / (|Y|² + n_sources * eps)``, so that unclipped masks sum
    to 1 when ``Y = sum_i X_i``.

    Parameters
    ----------
    S : np.ndarray, complex, shape ``(n_sources, n_freq, n_frames)`` or ``(n_sources, n_channels, n_freq, n_frames)``
        The sources' STFTs (the phase matters: magnitudes alone are not enough).
    Y : np.ndarray, complex, shape ``S.shape[1:]``, optional
        The mixture's STFT; by default ``S.sum(axis=0)``.
    clip : (float, float) or None
        Clip the mask to this range; ``(0, 1)`` (default) as is usual for a mask a network
        predicts; None keeps the raw values (they can be negative or above 1).
    eps : float
        Keeps ``0 / 0`` finite.

    Returns
    -------
    np.ndarray, float32, shape of ``S``

    Notes
    -----
    After Erdogan et al. (ICASSP 2015). Taught in ``02_masking``.
    """
    S = _source_spectra(S)
    if not np.iscomplexobj(S):
        raise ValueError("phase_sensitive_mask needs the complex STFTs of the sources (their phase), "
                         f"got a real array of dtype {S.dtype}.")
    Y = S.sum(axis=0) if Y is None else np.asarray(Y)
    if Y.shape != S.shape[1:]:
        raise ValueError(f"Y has shape {Y.shape}, but one source's STFT has shape {S.shape[1:]}; they must match.")
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps!r}.")
    S64, Y64 = S.astype(np.complex128), Y.astype(np.complex128)
    M = (np.real(S64 * np.conj(Y64)) + eps) / (np.abs(Y64) ** 2 + len(S) * eps)
    if clip is not None:
        lo, hi = clip
        if not lo < hi:
            raise ValueError(f"clip must be (low, high) with low < high, got {clip!r}.")
        M = np.clip(M, lo, hi)
    return M.astype(np.float32)


def oracle_mask(S, Y=None, *, kind: str = "irm", power: float | None = None, clip=(0.0, 1.0),
                eps: float = EPS) -> np.ndarray:
    """Any of the oracle masks by name.

    Parameters
    ----------
    S : np.ndarray, shape ``(n_sources, n_freq, n_frames)`` or ``(n_sources, n_channels, n_freq, n_frames)``
        The sources' STFTs.
    Y : np.ndarray, shape ``S.shape[1:]``, optional
        The mixture's STFT (used by ``"psm"``; default ``S.sum(axis=0)``).
    kind : {"ibm", "irm", "wiener", "psm"}
        See :data:`ORACLES`.
    power : float, optional
        The exponent of ``"irm"`` (default 1). ``"wiener"`` is ``power=2`` by definition.
    clip : (float, float) or None
        Only for ``"psm"``.
    eps : float

    Returns
    -------
    np.ndarray, float32, shape of ``S``

    Notes
    -----
    Taught in ``02_masking``.
    """
    if kind not in ORACLES:
        raise ValueError(f"kind must be one of {ORACLES}, got {kind!r}.")
    if power is not None and kind != "irm" and not (kind == "wiener" and power == 2):
        raise ValueError(f"power applies to kind='irm' only (kind={kind!r} got power={power!r}).")
    if kind == "ibm":
        return ideal_binary_mask(S)
    if kind == "irm":
        return ideal_ratio_mask(S, power=1.0 if power is None else power, eps=eps)
    if kind == "wiener":
        return wiener_like_mask(S, eps=eps)
    return phase_sensitive_mask(S, Y, clip=clip, eps=eps)


# --------------------------------------------------------------------------------------------
# From masks to signals


def apply_mask(mask, Y, *, length: int | None = None, hop_length: int | None = None,
               win_length: int | None = None, window: str = "hann", center: bool = True) -> np.ndarray:
    """Mask the mixture's STFT and return to the time domain: ``istft(mask ⊙ Y)``.

    The estimates keep the mixture's phase. Because the STFT is linear, masks that sum to 1
    over the sources give estimates that sum to the mixture.

    Parameters
    ----------
    mask : np.ndarray, real, shape ``(n_sources, n_freq, n_frames)`` (or any shape that ends in
        ``Y``'s and broadcasts with it)
    Y : np.ndarray, complex, shape ``(n_freq, n_frames)`` or ``(n_channels, n_freq, n_frames)``
        The mixture's STFT (:func:`course_utils.spectral.stft`).
    length : int, optional
        Samples of the output; pass the mixture's length so the estimates line up with it.
    hop_length, win_length, window, center
        The settings of the forward STFT (course defaults).

    Returns
    -------
    np.ndarray, float32, shape ``(n_sources, length)`` (``mask.shape[:-2] + (length,)``)

    Notes
    -----
    Taught in ``02_masking``.
    """
    mask, Y = np.asarray(mask), np.asarray(Y)
    if np.iscomplexobj(mask):
        raise ValueError("apply_mask expects a real mask; multiply complex masks with Y yourself.")
    if mask.ndim < Y.ndim or mask.shape[mask.ndim - Y.ndim:] != Y.shape:
        raise ValueError(f"mask of shape {mask.shape} does not end in the mixture STFT's shape {Y.shape}.")
    if not np.iscomplexobj(Y):
        raise ValueError("Y must be the complex STFT of the mixture (spectral.stft), not a magnitude.")
    return spectral.istft(mask * Y, hop_length=hop_length, win_length=win_length, window=window,
                          center=center, length=length)


def _sources_and_mixture(track_or_sources, mixture):
    if hasattr(track_or_sources, "sources") and hasattr(track_or_sources, "mixture"):
        sources = np.asarray(track_or_sources.sources)
        mixture = np.asarray(track_or_sources.mixture) if mixture is None else np.asarray(mixture)
    else:
        sources = np.asarray(track_or_sources)
        if sources.ndim not in (2, 3):
            raise ValueError("Give a Track, or the true sources as an array of shape (n_sources, n_samples) "
                             f"or (n_sources, n_channels, n_samples); got shape {sources.shape}.")
        mixture = sources.sum(axis=0, dtype=np.float64).astype(np.float32) if mixture is None else np.asarray(mixture)
    if mixture.shape != sources.shape[1:]:
        raise ValueError(f"The mixture has shape {mixture.shape}, one source has shape {sources.shape[1:]}.")
    return sources, mixture


def oracle_estimates(track_or_sources, *, kind: str = "irm", mixture=None, power: float | None = None,
                     clip=(0.0, 1.0), n_fft: int = spectral.N_FFT, hop_length: int | None = None,
                     win_length: int | None = None, window: str = "hann", eps: float = EPS) -> np.ndarray:
    """Separate a song with an oracle mask computed from its true sources.

    Parameters
    ----------
    track_or_sources : course_utils.data.Track or np.ndarray, shape ``(n_sources, n_samples)``
        A track (its ``sources`` and ``mixture`` are used), or the true sources (the mixture
        is then their sum). Multichannel ``(n_sources, n_channels, n_samples)`` works too.
    kind : {"ibm", "irm", "wiener", "psm"}
        The oracle mask (:data:`ORACLES`).
    mixture : np.ndarray, shape of one source, optional
        Override the mixture.
    power, clip, eps
        As in :func:`oracle_mask`.
    n_fft, hop_length, win_length, window
        STFT settings (course defaults: 1024, 256, Hann).

    Returns
    -------
    np.ndarray, float32, shape ``(n_sources, n_samples)`` (or ``(n_sources, n_channels, n_samples)``)
        One estimate per source, in the sources' order (``data.STEMS`` for a Track).

    Notes
    -----
    Taught in ``02_masking``.
    """
    sources, mixture = _sources_and_mixture(track_or_sources, mixture)
    if kind not in ORACLES:
        raise ValueError(f"kind must be one of {ORACLES}, got {kind!r}.")
    kw = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window)
    S = spectral.stft(sources, **kw)
    Y = spectral.stft(mixture, **kw)
    M = oracle_mask(S, Y, kind=kind, power=power, clip=clip, eps=eps)
    return apply_mask(M, Y, length=mixture.shape[-1], hop_length=hop_length, win_length=win_length, window=window)


def multichannel_wiener(magnitudes, Y, *, iterations: int = 1) -> np.ndarray:
    """Refine magnitude estimates of all sources with a multichannel Wiener filter (``norbert``).

    The post-filter of Open-Unmix: each source is modelled as a local Gaussian with a power
    spectrogram and a spatial covariance matrix (the relation between its channels); the
    Wiener filter of that model separates the mixture's complex STFT, and ``iterations``
    rounds of expectation-maximisation re-estimate the model from the estimates
    (``norbert.wiener`` with ``use_softmask=False``: the magnitudes with the mixture's phase are
    the first estimates).

    Parameters
    ----------
    magnitudes : np.ndarray, float, shape ``(n_sources, n_channels, n_freq, n_frames)``
        Magnitude estimates of every source (e.g. a mask times ``|Y|``, channel by channel).
    Y : np.ndarray, complex, shape ``(n_channels, n_freq, n_frames)``
        The mixture's STFT.
    iterations : int
        EM iterations (0: no refinement, the magnitudes with the mixture's phase).

    Returns
    -------
    np.ndarray, complex128, shape ``(n_sources, n_channels, n_freq, n_frames)``
        The sources' STFTs; :func:`course_utils.spectral.istft` turns them into signals.

    Notes
    -----
    Taught in ``05_unet_separation``.
    """
    import norbert  # imported here: only this post-filter needs it

    magnitudes, Y = np.asarray(magnitudes), np.asarray(Y)
    if magnitudes.ndim != 4 or magnitudes.shape[1:] != Y.shape:
        raise ValueError(f"magnitudes of shape {magnitudes.shape} do not match (n_sources,) + the mixture's "
                         f"STFT shape {Y.shape}.")
    v = np.transpose(magnitudes, (3, 2, 1, 0)).astype(np.float64)        # norbert: (frames, bins, channels, sources)
    x = np.transpose(Y, (2, 1, 0)).astype(np.complex128)                 # (frames, bins, channels); norbert scales it in place
    estimates = norbert.wiener(v, x, iterations=iterations, use_softmask=False)
    return np.transpose(estimates, (3, 2, 1, 0))
