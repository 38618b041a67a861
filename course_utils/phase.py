"""Phase for a magnitude: copy it from another STFT, or estimate it with (fast) Griffin-Lim.

A separator that works on magnitude spectrograms hands back ``|X̂|`` and no phase. This module
gives the ways to turn such a magnitude back into a signal that notebook
``03_phase_reconstruction`` compares:

- :func:`with_phase`: attach the phase of another STFT (the mixture's, or the true source's);
- :func:`griffin_lim`: Griffin & Lim's (1984) iterative estimate, with the momentum of the
  *fast* Griffin-Lim algorithm (Perraudin, Balazs & Søndergaard 2013) as an option; written
  on :func:`course_utils.spectral.stft`/:func:`~course_utils.spectral.istft` so that it follows
  the course's STFT convention; from the same initial phase it equals :func:`librosa.griffinlim`
  and, with ``pad_mode="reflect"``, :class:`torchaudio.transforms.GriffinLim` (whose own
  random start is not uniform, so compare from zero phase, ``rand_init=False``);
- :func:`spectral_convergence`: how far the magnitude of a signal's STFT is from a target
  magnitude (the quantity Griffin-Lim decreases);
- :func:`phase_error`: the wrapped phase difference between two STFTs, bin by bin.

Magnitudes are shaped ``(..., n_freq, n_frames)`` (``n_freq = n_fft // 2 + 1``), for
example ``(n_sources, n_freq, n_frames)`` for a set of sources; signals ``(..., n_samples)``.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import audio, spectral

__all__ = ["INIT_PHASES", "PAD_MODES", "with_phase", "phase_error", "spectral_convergence", "griffin_lim"]

INIT_PHASES = ("random", "zeros")
"""Named initial phases of :func:`griffin_lim` (an array of phases is accepted too)."""
PAD_MODES = ("constant", "reflect")
"""Edge padding of the STFT inside :func:`griffin_lim`: the course's and librosa's zeros, or
torchaudio's reflection."""

_EPS = float(np.finfo(np.float32).tiny)  # as librosa: only guards 0 / 0


def _magnitude(S, name: str = "magnitude") -> np.ndarray:
    """A magnitude ``(..., n_freq, n_frames)`` with at least 2 bins, as float32."""
    S = audio.valid_magnitude(S, name=name)
    if S.shape[-2] < 2:
        raise ValueError(f"{name} needs at least 2 frequency bins, got shape {S.shape}.")
    return S.astype(np.float32, copy=False)


def _unit(X: np.ndarray) -> np.ndarray:
    """``X / |X|`` (zero where ``X`` is zero)."""
    return X * (1 / (np.abs(X) + _EPS))  # a real reciprocal: cheaper than a complex division


def with_phase(magnitude, phase_source) -> np.ndarray:
    """Combine a magnitude with the phase of another STFT: ``|X̂| · exp(j ∠Y)``.

    The usual way to resynthesise a masked magnitude is to copy the phase of the mixture
    (``phase_source`` = the mixture's STFT); copying the true source's phase gives the oracle.

    Parameters
    ----------
    magnitude : np.ndarray, real, non-negative, shape ``(..., n_freq, n_frames)``
        For example the masked magnitudes of all sources, ``(n_sources, n_freq, n_frames)``.
    phase_source : np.ndarray, complex, shape broadcastable to ``magnitude.shape``
        The STFT whose phase is used, e.g. the mixture's ``(n_freq, n_frames)``. Where it is
        exactly zero the phase is taken as 0.

    Returns
    -------
    np.ndarray, complex64, shape ``np.broadcast_shapes(magnitude.shape, phase_source.shape)``
        Pass it to :func:`course_utils.spectral.istft` to hear it.

    Notes
    -----
    Taught in ``03_phase_reconstruction``.

    Examples
    --------
    >>> X_mix = spectral.stft(track.mixture)
    >>> estimate = spectral.istft(with_phase(mask * np.abs(X_mix), X_mix), length=len(track.mixture))
    """
    S = _magnitude(magnitude)
    Y = np.asarray(phase_source)
    if not np.iscomplexobj(Y):
        raise ValueError("phase_source must be a complex STFT (e.g. spectral.stft(mixture)); "
                         f"got a real array of dtype {Y.dtype}.")
    try:
        np.broadcast_shapes(S.shape, Y.shape)
    except ValueError:
        raise ValueError(f"phase_source of shape {Y.shape} does not broadcast to the magnitude's "
                         f"shape {S.shape}.") from None
    Y = Y.astype(np.complex64, copy=False)
    mag = np.abs(Y)
    unit = np.where(mag > 0, Y / np.where(mag > 0, mag, 1), 1)
    return (S * unit).astype(np.complex64)


def phase_error(estimate, reference) -> np.ndarray:
    """Absolute phase difference between two STFTs, wrapped to ``[0, π]`` radians, bin by bin.

    Parameters
    ----------
    estimate, reference : np.ndarray, complex, broadcastable shapes ``(..., n_freq, n_frames)``

    Returns
    -------
    np.ndarray, float32, the broadcast shape
        ``|angle(estimate · conj(reference))|``: 0 where the phases agree, π where they are
        opposite. Bins where either STFT is zero count as 0 (the phase is undefined there);
        weight by the magnitude when averaging.

    Notes
    -----
    Taught in ``03_phase_reconstruction``.
    """
    X, Y = np.asarray(estimate), np.asarray(reference)
    if not (np.iscomplexobj(X) and np.iscomplexobj(Y)):
        raise ValueError("phase_error compares two complex STFTs; got "
                         f"dtypes {X.dtype} and {Y.dtype}.")
    return np.abs(np.angle(X * np.conj(Y))).astype(np.float32)


def _stft(y, n_fft, hop_length, win_length, window, center, pad_mode):
    if center and pad_mode == "reflect":
        pad = [(0, 0)] * (y.ndim - 1) + [(n_fft // 2, n_fft // 2)]
        y = np.pad(y, pad, mode="reflect")
        center = False
    return spectral.stft(y, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window,
                         center=center)


def _check_frames(rebuilt_shape, S_shape, what: str) -> None:
    if rebuilt_shape[-2:] != S_shape[-2:]:
        raise ValueError(f"{what} gives an STFT of shape {rebuilt_shape[-2:]}, but the magnitude is shaped "
                         f"{S_shape[-2:]}: check n_fft, hop_length, center and length (with center=True a "
                         "signal of n samples has 1 + n // hop_length frames).")


def _sc_db(rebuilt: np.ndarray, S: np.ndarray, db: bool):
    num = np.sqrt(np.sum((np.abs(rebuilt).astype(np.float64) - S) ** 2, axis=(-2, -1)))
    den = np.sqrt(np.sum(S.astype(np.float64) ** 2, axis=(-2, -1)))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
        out = 20 * np.log10(ratio) if db else ratio
    return float(out) if out.ndim == 0 else out


def _settings(S, n_fft, hop_length, win_length, pad_mode):
    n_fft = 2 * (S.shape[-2] - 1) if n_fft is None else int(n_fft)
    if n_fft // 2 + 1 != S.shape[-2]:
        raise ValueError(f"n_fft={n_fft} gives {n_fft // 2 + 1} frequency bins, but the magnitude has "
                         f"{S.shape[-2]}.")
    win_length = n_fft if win_length is None else win_length
    hop_length = win_length // 4 if hop_length is None else hop_length
    if pad_mode not in PAD_MODES:
        raise ValueError(f"pad_mode must be one of {PAD_MODES}, got {pad_mode!r}.")
    return n_fft, hop_length, win_length


def spectral_convergence(magnitude, estimate, *, n_fft: int | None = None, hop_length: int | None = None,
                         win_length: int | None = None, window: str = "hann", center: bool = True,
                         pad_mode: str = "constant", length: int | None = None, db: bool = True):
    """How far a signal's STFT magnitude is from a target magnitude: ``‖|STFT(y)| − S‖_F / ‖S‖_F``.

    Parameters
    ----------
    magnitude : np.ndarray, real, non-negative, shape ``(..., n_freq, n_frames)``
        The target ``S``.
    estimate : np.ndarray
        Either a signal, real, shape ``(..., n_samples)`` (its STFT must have ``n_frames``
        frames), or a complex STFT shaped like ``magnitude``. A complex STFT is first turned
        into the signal it stands for, ``y = istft(X)`` (with ``length``), since an arbitrary
        complex array is not the STFT of any signal: its magnitude is not what one hears.
    n_fft, hop_length, win_length, window, center
        The STFT settings (``n_fft`` is inferred from ``magnitude``), as in
        :func:`course_utils.spectral.stft`.
    pad_mode : {"constant", "reflect"}
        Edge padding with ``center=True`` (see :func:`griffin_lim`).
    length : int, optional
        For a complex ``estimate``: the signal length to resynthesise (default
        ``hop_length * (n_frames - 1)``).
    db : bool
        Return ``20 log10`` of the ratio (default) instead of the ratio.

    Returns
    -------
    float or np.ndarray, shape ``magnitude.shape[:-2]``
        One value per leading index (e.g. per source); NaN where the target is all zeros.
        0 (or −inf dB) means a perfect match.

    Notes
    -----
    Taught in ``03_phase_reconstruction``.
    """
    S = _magnitude(magnitude)
    n_fft, hop_length, win_length = _settings(S, n_fft, hop_length, win_length, pad_mode)
    est = np.asarray(estimate)
    if np.iscomplexobj(est):
        if est.shape[-2:] != S.shape[-2:]:
            raise ValueError(f"A complex estimate must be an STFT shaped like the magnitude {S.shape}, "
                             f"got {est.shape}.")
        est = spectral.istft(est, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window,
                             center=center, length=length)
    rebuilt = _stft(est, n_fft, hop_length, win_length, window, center, pad_mode)
    _check_frames(rebuilt.shape, S.shape, "The estimate")
    return _sc_db(rebuilt, S, db)


def _initial_phase(init_phase, shape, random_state):
    if isinstance(init_phase, str):
        if init_phase == "zeros":
            return np.ones(shape, dtype=np.complex64)
        if init_phase == "random":
            if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
                rng = np.random.RandomState(int(random_state))  # the generator librosa uses for a seed
            elif isinstance(random_state, (np.random.RandomState, np.random.Generator)):
                rng = random_state
            elif random_state is None:
                rng = np.random.default_rng()
            else:
                raise ValueError(f"random_state must be an int, a numpy Generator/RandomState or None, "
                                 f"got {random_state!r}.")
            return np.exp(2j * np.pi * rng.random(size=shape)).astype(np.complex64)
        raise ValueError(f"init_phase must be one of {INIT_PHASES} or an array of phases, got {init_phase!r}.")
    phi = np.asarray(init_phase)
    try:
        np.broadcast_shapes(phi.shape, shape)
    except ValueError:
        raise ValueError(f"init_phase of shape {phi.shape} does not broadcast to the magnitude's shape "
                         f"{shape}.") from None
    if np.iscomplexobj(phi):  # an STFT: use its phase
        return np.broadcast_to(_unit(phi.astype(np.complex64)), shape).copy()
    if not np.isfinite(phi).all():
        raise ValueError("init_phase holds NaN or infinite values.")
    return np.broadcast_to(np.exp(1j * phi).astype(np.complex64), shape).copy()


def griffin_lim(magnitude, *, n_iter: int = 32, momentum: float = 0.0, init_phase="random", random_state=0,
                length: int | None = None, n_fft: int | None = None, hop_length: int | None = None,
                win_length: int | None = None, window: str = "hann", center: bool = True,
                pad_mode: str = "constant", return_history: bool = False):
    """Estimate a signal whose STFT magnitude is ``magnitude``: (fast) Griffin-Lim.

    Each iteration resynthesises the current complex spectrogram ``X``, analyses the signal
    again (which makes it *consistent*) and keeps only the phase, under the target magnitude::

        T_n     = STFT(iSTFT(X_n))
        Z_n     = T_n + momentum · (T_n − T_{n−1})       (Z_0 = T_0)
        X_{n+1} = S · Z_n / |Z_n|

    With ``momentum=0`` this is Griffin & Lim (1984), which never increases the spectral
    convergence; with momentum (fast Griffin-Lim, Perraudin et al. 2013) it usually converges
    faster. This is the update of :func:`librosa.griffinlim` and of torchaudio's
    ``griffinlim``, which write ``Z_n ∝ T_n − momentum / (1 + momentum) · T_{n−1}`` (the same
    direction, so the same phase).

    Parameters
    ----------
    magnitude : np.ndarray, real, non-negative, shape ``(..., n_freq, n_frames)``
        The target magnitude ``S`` (e.g. masked magnitudes ``(n_sources, n_freq, n_frames)``;
        every leading index is reconstructed on its own).
    n_iter : int >= 0
        Number of iterations (0 returns the resynthesis of the initial guess).
    momentum : float >= 0
        0 for Griffin-Lim; librosa's and torchaudio's default is 0.99. Above 1 it may diverge
        (a warning says so).
    init_phase : {"random", "zeros"} or np.ndarray
        The initial phase: uniform random (drawn from ``random_state``), all zero, or an array
        broadcastable to ``magnitude.shape``: phases in radians (real) or an STFT whose phase
        is used (complex), e.g. the mixture's to refine the mixture phase.
    random_state : int, np.random.Generator, np.random.RandomState or None
        For ``init_phase="random"``. An int seeds a ``RandomState`` exactly as
        :func:`librosa.griffinlim` does, so the same seed gives the same initial phase.
    length : int, optional
        Length of the output signal in samples (pass the original length); with
        ``center=True`` it must satisfy ``1 + length // hop_length == n_frames``.
    n_fft, hop_length, win_length, window, center
        STFT settings as in :func:`course_utils.spectral.stft` (``n_fft`` inferred from the
        magnitude).
    pad_mode : {"constant", "reflect"}
        How the signal is extended at its ends before the centred analysis: zeros (the
        course's convention and librosa's default) or a mirror image (what torchaudio's
        ``GriffinLim`` does, and cannot be changed there).
    return_history : bool
        Also return the spectral convergence of every iterate.

    Returns
    -------
    y : np.ndarray, float32, shape ``magnitude.shape[:-2] + (n_samples,)``
        ``n_samples = length``, or ``hop_length * (n_frames - 1)``.
    history : np.ndarray, float64, shape ``(n_iter + 1,) + magnitude.shape[:-2]``
        Only with ``return_history=True``: ``history[k]`` is the spectral convergence in dB
        (:func:`spectral_convergence`) of the signal that ``n_iter=k`` returns (``history[0]``:
        the initial guess).

    Notes
    -----
    Taught in ``03_phase_reconstruction``. The magnitude is one source's at a time: if you
    pass several, they are reconstructed independently and their sum is not constrained to
    equal the mixture.

    Examples
    --------
    >>> S = np.abs(spectral.stft(y))
    >>> y_gl = griffin_lim(S, n_iter=100, length=len(y))
    >>> y_fgl, sc = griffin_lim(S, n_iter=100, momentum=0.99, length=len(y), return_history=True)
    """
    S = _magnitude(magnitude)
    if int(n_iter) != n_iter or n_iter < 0:
        raise ValueError(f"n_iter must be a non-negative integer, got {n_iter!r}.")
    if not np.isfinite(momentum) or momentum < 0:
        raise ValueError(f"momentum must be >= 0, got {momentum!r}.")
    if momentum > 1:
        warnings.warn(f"Griffin-Lim with momentum={momentum} > 1 may not converge.", stacklevel=2)
    n_fft, hop_length, win_length = _settings(S, n_fft, hop_length, win_length, pad_mode)
    kw = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window, center=center)

    X = S * _initial_phase(init_phase, S.shape, random_state)
    history = []
    T_prev = None
    for _ in range(int(n_iter)):
        y = spectral.istft(X, length=length, **kw)
        T = _stft(y, n_fft, hop_length, win_length, window, center, pad_mode)
        _check_frames(T.shape, S.shape, f"A signal of {y.shape[-1]} samples")
        if return_history:
            history.append(_sc_db(T, S, db=True))
        Z = T if T_prev is None else T + momentum * (T - T_prev)
        X = S * _unit(Z)
        T_prev = T
    y = spectral.istft(X, length=length, **kw)
    if not return_history:
        return y
    T = _stft(y, n_fft, hop_length, win_length, window, center, pad_mode)
    _check_frames(T.shape, S.shape, f"A signal of {y.shape[-1]} samples")
    history.append(_sc_db(T, S, db=True))
    return y, np.array(history, dtype=np.float64)
