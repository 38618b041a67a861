"""The short-time Fourier transform, with one convention across NumPy, librosa and PyTorch.

The convention (used by every notebook): a periodic Hann window of ``win_length = n_fft``
samples, ``hop_length = n_fft // 4``, frames centred on their time stamps by padding the
signal with ``n_fft // 2`` zeros at each end, no normalisation. Spectrograms are shaped
``(..., n_freq, n_frames)`` with ``n_freq = n_fft // 2 + 1``. With these settings the three
backends agree to float32 precision and the inverse recovers the signal.

Taught in ``01_stft_and_phase``.
"""

from __future__ import annotations

import numpy as np
import scipy.signal

from .audio import AudioError

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
    y = np.asarray(y)
    if y.shape[-1] == 0 or not np.isfinite(y).all():
        raise AudioError("stft needs a non-empty signal with finite samples.")
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
        import librosa

        return librosa.stft(y.astype(np.float32), n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                            window=window, center=center, pad_mode="constant").astype(np.complex64)
    if backend == "torch":
        import torch

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
        import librosa

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
