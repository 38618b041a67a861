"""The short-time Fourier transform, with one convention across NumPy, librosa and PyTorch.

The convention (used by every notebook): a periodic Hann window of ``win_length = n_fft``
samples, ``hop_length = n_fft // 4``, frames centred on their time stamps by padding the
signal with ``n_fft // 2`` zeros at each end, no normalisation. Spectrograms are shaped
``(..., n_freq, n_frames)`` with ``n_freq = n_fft // 2 + 1``. With these settings the three
backends agree to float32 precision and the inverse recovers the signal.

Taught in ``01_stft_and_phase``.
"""

from __future__ import annotations

import librosa
import numpy as np
import scipy.signal

from .audio import AudioError, valid_array

__all__ = [
    "N_FFT", "HOP_LENGTH", "BACKENDS", "stft", "istft", "window_samples", "frequencies",
    "frame_times", "amplitude_to_db",
]

N_FFT = 1024
"""Default FFT size: 46 ms at the bundled set's 22050 Hz."""
HOP_LENGTH = N_FFT // 4
"""Default hop: 11.6 ms at 22050 Hz (75 % overlap)."""
BACKENDS = ("numpy", "librosa", "torch")


def _resolve(n_fft, hop_length, win_length):
    win_length = n_fft if win_length is None else win_length
    hop_length = win_length // 4 if hop_length is None else hop_length
    if not 0 < win_length <= n_fft:
        raise ValueError(f"win_length must be in (0, n_fft={n_fft}], got {win_length}.")
    if hop_length <= 0:
        raise ValueError(f"hop_length must be positive, got {hop_length}.")
    return hop_length, win_length


def window_samples(window: str = "hann", *, n_fft: int = N_FFT, win_length: int | None = None) -> np.ndarray:
    """The analysis window: ``scipy.signal.get_window`` (periodic), zero-padded to ``n_fft``.

    Returns
    -------
    np.ndarray, float32, shape ``(n_fft,)``
    """
    win_length = n_fft if win_length is None else win_length
    w = scipy.signal.get_window(window, win_length, fftbins=True).astype(np.float32)
    left = (n_fft - win_length) // 2
    return np.pad(w, (left, n_fft - win_length - left))


def _is_torch(x) -> bool:
    return type(x).__module__.startswith("torch")


def stft(y, *, n_fft: int = N_FFT, hop_length: int | None = None, win_length: int | None = None,
         window: str = "hann", center: bool = True, backend: str | None = None):
    """Short-time Fourier transform.

    Parameters
    ----------
    y : np.ndarray or torch.Tensor, shape ``(..., n_samples)``
        A NumPy signal, or a tensor (then the torch backend is used and a tensor returned,
        on the tensor's device, so models can train through it).
    n_fft, hop_length, win_length, window, center
        As in :func:`librosa.stft`; ``hop_length`` defaults to ``win_length // 4``.
    backend : {"numpy", "librosa", "torch"}, optional
        For NumPy input: who computes it (default ``"numpy"``, the from-scratch version in
        this module). All three return the same numbers.

    Returns
    -------
    np.ndarray (complex64) or torch.Tensor (complex), shape ``(..., n_fft // 2 + 1, n_frames)``
        ``n_frames = 1 + n_samples // hop_length`` when ``center=True``.
    """
    hop_length, win_length = _resolve(n_fft, hop_length, win_length)
    if _is_torch(y):
        return _stft_torch(y, n_fft, hop_length, win_length, window, center)
    y = valid_array(y, name="The signal given to stft", min_ndim=1, error=AudioError)
    backend = backend or "numpy"
    if backend == "numpy":
        w = window_samples(window, n_fft=n_fft, win_length=win_length)
        if center:
            pad = [(0, 0)] * (y.ndim - 1) + [(n_fft // 2, n_fft // 2)]
            y = np.pad(y, pad)
        if y.shape[-1] < n_fft:
            raise AudioError(f"Signal of {y.shape[-1]} samples is shorter than n_fft={n_fft}.")
        frames = np.lib.stride_tricks.sliding_window_view(y, n_fft, axis=-1)[..., ::hop_length, :]
        return np.fft.rfft(frames * w, axis=-1).swapaxes(-1, -2).astype(np.complex64)
    if backend == "librosa":
        return librosa.stft(y.astype(np.float32), n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                            window=window, center=center, pad_mode="constant").astype(np.complex64)
    if backend == "torch":
        import torch  # about 2 s to import: only the torch paths import it

        out = _stft_torch(torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32)),
                          n_fft, hop_length, win_length, window, center)
        return out.numpy().astype(np.complex64)
    raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}.")


def _torch_window(window, n_fft, win_length, like):
    import torch

    w = window_samples(window, n_fft=n_fft, win_length=win_length)
    return torch.from_numpy(w).to(device=like.device, dtype=like.real.dtype if like.is_complex() else like.dtype)


def _stft_torch(y, n_fft, hop_length, win_length, window, center):
    import torch

    shape = y.shape
    flat = y.reshape(-1, shape[-1])
    spec = torch.stft(flat, n_fft=n_fft, hop_length=hop_length, win_length=n_fft,
                      window=_torch_window(window, n_fft, win_length, flat), center=center,
                      pad_mode="constant", return_complex=True)
    return spec.reshape(*shape[:-1], *spec.shape[-2:])


def istft(Y, *, hop_length: int | None = None, win_length: int | None = None, n_fft: int | None = None,
          window: str = "hann", center: bool = True, length: int | None = None, backend: str | None = None):
    """Inverse STFT by weighted overlap-add; undoes :func:`stft` with the same settings.

    Parameters
    ----------
    Y : np.ndarray or torch.Tensor, complex, shape ``(..., n_fft // 2 + 1, n_frames)``
    hop_length, win_length, n_fft, window, center
        The settings of the forward transform (``n_fft`` is inferred from ``Y``).
    length : int, optional
        Trim or zero-pad the output to exactly this many samples (pass the original length).
    backend : {"numpy", "librosa", "torch"}, optional
        For NumPy input (default ``"numpy"``); a tensor always uses torch.

    Returns
    -------
    np.ndarray (float32) or torch.Tensor, shape ``(..., n_samples)``
    """
    n_fft = 2 * (Y.shape[-2] - 1) if n_fft is None else n_fft
    hop_length, win_length = _resolve(n_fft, hop_length, win_length)
    if _is_torch(Y):
        return _istft_torch(Y, n_fft, hop_length, win_length, window, center, length)
    Y = np.asarray(Y)
    backend = backend or "numpy"
    if backend == "numpy":
        w = window_samples(window, n_fft=n_fft, win_length=win_length).astype(np.float64)
        frames = np.fft.irfft(Y.swapaxes(-1, -2), n=n_fft, axis=-1) * w  # (..., n_frames, n_fft)
        n_frames = frames.shape[-2]
        total = n_fft + hop_length * (n_frames - 1)
        out = np.zeros(Y.shape[:-2] + (total,))
        envelope = np.zeros(total)
        for i in range(n_frames):  # overlap-add; n_frames is small next to n_samples
            out[..., i * hop_length:i * hop_length + n_fft] += frames[..., i, :]
            envelope[i * hop_length:i * hop_length + n_fft] += w**2
        out /= np.where(envelope > 1e-10, envelope, 1.0)
        if center:
            out = out[..., n_fft // 2:]
            if length is None:
                out = out[..., :total - n_fft]
        return _fix_length(out, length).astype(np.float32)
    if backend == "librosa":
        return librosa.istft(Y, hop_length=hop_length, win_length=win_length, n_fft=n_fft, window=window,
                             center=center, length=length).astype(np.float32)
    if backend == "torch":
        import torch

        out = _istft_torch(torch.from_numpy(np.ascontiguousarray(Y)), n_fft, hop_length, win_length, window,
                           center, length)
        return out.numpy().astype(np.float32)
    raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}.")


def _fix_length(y: np.ndarray, length: int | None) -> np.ndarray:
    if length is None:
        return y
    if y.shape[-1] >= length:
        return y[..., :length]
    return np.pad(y, [(0, 0)] * (y.ndim - 1) + [(0, length - y.shape[-1])])


def _istft_torch(Y, n_fft, hop_length, win_length, window, center, length):
    import torch

    shape = Y.shape
    flat = Y.reshape(-1, *shape[-2:])
    y = torch.istft(flat, n_fft=n_fft, hop_length=hop_length, win_length=n_fft,
                    window=_torch_window(window, n_fft, win_length, flat), center=center, length=length)
    return y.reshape(*shape[:-2], y.shape[-1])


def frequencies(*, sr: int, n_fft: int = N_FFT) -> np.ndarray:
    """Centre frequency in Hz of each STFT bin, shape ``(n_fft // 2 + 1,)``."""
    return np.fft.rfftfreq(n_fft, d=1.0 / sr)


def frame_times(n_frames: int, *, sr: int, hop_length: int = HOP_LENGTH) -> np.ndarray:
    """Time in seconds of each STFT frame's centre (with ``center=True``), shape ``(n_frames,)``."""
    return np.arange(n_frames) * hop_length / sr


def amplitude_to_db(S: np.ndarray, *, ref: float | None = None, amin: float = 1e-5,
                    top_db: float | None = 80.0) -> np.ndarray:
    """Convert a magnitude spectrogram to decibels: ``20 log10(max(S, amin) / ref)``.

    Parameters
    ----------
    S : np.ndarray, shape ``(..., n_freq, n_frames)``
        Magnitudes (``np.abs`` of an STFT).
    ref : float, optional
        The 0 dB level; by default the largest value of ``S`` (so the loudest bin is 0 dB).
    amin : float
        Floor that keeps silence finite.
    top_db : float, optional
        Clip everything more than ``top_db`` below the maximum.

    Returns
    -------
    np.ndarray, float32, same shape as ``S``
    """
    S = np.abs(np.asarray(S))
    ref = float(S.max()) if ref is None else ref
    db = 20 * np.log10(np.maximum(S, amin)) - 20 * np.log10(max(ref, amin))
    if top_db is not None:
        db = np.maximum(db, db.max() - top_db)
    return db.astype(np.float32)


# --------------------------------------------------------------------------------------------
# Overlap-add and phase: taught in ``01_stft_and_phase``.

__all__ += ["window_envelope", "cola_deviation", "phase_deviation", "instantaneous_frequency"]


def window_envelope(window: str = "hann", *, n_fft: int = N_FFT, hop_length: int | None = None, n_frames: int,
                    win_length: int | None = None, power: float = 1.0) -> np.ndarray:
    """The sum of the shifted windows, ``sum_m w(n - m * hop_length) ** power``.

    Overlap-adding the frames of an STFT multiplies the signal by this envelope, so the
    inverse recovers the signal where the envelope is constant (the COLA condition) or where
    it can be divided out (wherever it is not zero).

    Parameters
    ----------
    window : str
        A window name for :func:`scipy.signal.get_window`, as in :func:`stft`.
    n_fft, hop_length, win_length
        As in :func:`stft`; ``hop_length`` defaults to ``win_length // 4``.
    n_frames : int
        How many frames are added, at least 1.
    power : float
        ``1``: the plain sum, for a window applied once (at analysis only). ``2``: the sum of
        squares, for a window applied at analysis and again at synthesis, as :func:`istft`
        does (the same as :func:`librosa.filters.window_sumsquare`).

    Returns
    -------
    np.ndarray, float64, shape ``(n_fft + hop_length * (n_frames - 1),)``
        Frame ``m`` covers samples ``m * hop_length`` to ``m * hop_length + n_fft - 1``
        (the frame grid before centring removes ``n_fft // 2`` samples at the start).

    Notes
    -----
    Taught in ``01_stft_and_phase``.
    """
    hop_length, win_length = _resolve(n_fft, hop_length, win_length)
    if int(n_frames) != n_frames or n_frames < 1:
        raise ValueError(f"n_frames must be a positive integer, got {n_frames}.")
    if not power > 0:
        raise ValueError(f"power must be positive, got {power}.")
    n_frames = int(n_frames)
    w = window_samples(window, n_fft=n_fft, win_length=win_length).astype(np.float64) ** power
    starts = np.arange(n_frames) * hop_length
    index = (starts[:, None] + np.arange(n_fft)).ravel()
    return np.bincount(index, weights=np.tile(w, n_frames), minlength=n_fft + hop_length * (n_frames - 1))


def cola_deviation(window: str = "hann", *, n_fft: int = N_FFT, hop_length: int | None = None,
                   win_length: int | None = None, power: float = 1.0) -> float:
    """How far a window/hop pair is from constant overlap-add (COLA): 0 when it satisfies it.

    The envelope of :func:`window_envelope` is periodic with period ``hop_length`` away from
    the edges; this is its peak-to-peak ripple over one period, relative to its mean.

    Parameters
    ----------
    window, n_fft, hop_length, win_length, power
        As in :func:`window_envelope` (``power=2`` checks the sum of squared windows instead).

    Returns
    -------
    float
        ``(max - min) / mean`` of the steady-state envelope: about 1e-7 (float32 windows) for
        a Hann window with ``hop_length = n_fft // 4`` or ``n_fft // 2``; above 1 for a hop
        of ``3 * n_fft // 4``; at least 1 when the hop leaves gaps between the windows.

    Notes
    -----
    Taught in ``01_stft_and_phase``.
    """
    hop_length, win_length = _resolve(n_fft, hop_length, win_length)
    k = -(-n_fft // hop_length)  # frames that can overlap one sample
    envelope = window_envelope(window, n_fft=n_fft, hop_length=hop_length, n_frames=2 * k + 1,
                               win_length=win_length, power=power)
    period = envelope[k * hop_length:(k + 1) * hop_length]  # every frame that covers it exists
    mean = period.mean()
    if mean <= 0:
        raise ValueError(f"The {window!r} window of {win_length} samples is zero everywhere.")
    return float((period.max() - period.min()) / mean)


def _phase_input(Y, n_fft, hop_length):
    Y = np.asarray(Y)
    if Y.ndim < 2:
        raise ValueError(f"Expected an STFT shaped (..., n_freq, n_frames), got shape {Y.shape}.")
    if not np.iscomplexobj(Y):
        raise ValueError("Phase needs the complex STFT (the output of stft), not a magnitude.")
    n_freq = Y.shape[-2]
    n_fft = 2 * (n_freq - 1) if n_fft is None else n_fft
    if n_fft // 2 + 1 != n_freq:
        raise ValueError(f"Y has {n_freq} frequency bins, but n_fft={n_fft} gives {n_fft // 2 + 1}.")
    hop_length, _ = _resolve(n_fft, hop_length, None)
    return Y, n_fft, hop_length


def phase_deviation(Y, *, hop_length: int | None = None, n_fft: int | None = None) -> np.ndarray:
    """Frame-to-frame phase advance minus the advance expected at the bin's centre, wrapped.

    For frame ``m`` and bin ``k``::

        dev[k, m] = wrap(angle(Y[k, m]) - angle(Y[k, m - 1]) - 2 pi k hop_length / n_fft)

    with ``wrap`` mapping into ``[-pi, pi)``. A steady sinusoid gives a constant deviation
    along time in the bins around its frequency; noise gives random values.

    Parameters
    ----------
    Y : np.ndarray, complex, shape ``(..., n_fft // 2 + 1, n_frames)``
        An STFT from :func:`stft`.
    hop_length : int, optional
        The STFT's hop (default ``n_fft // 4``).
    n_fft : int, optional
        Inferred from ``Y``'s number of bins.

    Returns
    -------
    np.ndarray, float64, the shape of ``Y``
        In radians. The first frame has no predecessor and is NaN. Only bins with a
        significant magnitude carry meaning (the phase of a near-zero bin is arbitrary).

    Notes
    -----
    Taught in ``01_stft_and_phase``.
    """
    Y, n_fft, hop_length = _phase_input(Y, n_fft, hop_length)
    Y = Y.astype(np.complex128)
    advance = np.angle(Y[..., 1:] * np.conj(Y[..., :-1]))  # angle difference, already wrapped
    expected = 2 * np.pi * np.arange(Y.shape[-2]) * hop_length / n_fft
    dev = np.mod(advance - expected[:, None] + np.pi, 2 * np.pi) - np.pi
    return np.concatenate([np.full(Y.shape[:-1] + (1,), np.nan), dev], axis=-1)


def instantaneous_frequency(Y, *, sr: int, hop_length: int | None = None, n_fft: int | None = None) -> np.ndarray:
    """Instantaneous frequency in Hz of every STFT bin, from the phase advance between frames.

    ``f[k, m] = k * sr / n_fft + phase_deviation[k, m] * sr / (2 pi hop_length)``: the bin's
    centre frequency, corrected by how much faster or slower than expected its phase turned.
    Near a steady sinusoid (within about ``n_fft / (2 * hop_length)`` bins of it) every bin
    reports the sinusoid's frequency, far more precisely than the bin spacing ``sr / n_fft``.

    Parameters
    ----------
    Y : np.ndarray, complex, shape ``(..., n_fft // 2 + 1, n_frames)``
        An STFT from :func:`stft`.
    sr : int
        Sample rate in Hz.
    hop_length, n_fft
        As in :func:`phase_deviation`.

    Returns
    -------
    np.ndarray, float64, the shape of ``Y``
        In Hz; NaN in the first frame. Meaningful only where the magnitude is significant.

    Notes
    -----
    Taught in ``01_stft_and_phase``.
    """
    if not sr > 0:
        raise ValueError(f"sr must be positive, got {sr}.")
    Y, n_fft, hop_length = _phase_input(Y, n_fft, hop_length)
    dev = phase_deviation(Y, hop_length=hop_length, n_fft=n_fft)
    centre = np.arange(Y.shape[-2]) * sr / n_fft
    return centre[:, None] + dev * sr / (2 * np.pi * hop_length)
