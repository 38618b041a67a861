"""Self-checks of ``01_stft_and_phase``."""

from __future__ import annotations

import numpy as np

from .. import spectral
from ._common import report

__all__ = ["check_resolution", "check_cola_hop", "check_n_frames", "check_stft"]


def _close(value, target: float, rtol: float) -> bool:
    return value is not None and bool(np.isfinite(value)) and abs(float(value) - target) <= rtol * abs(target)


def check_resolution(hz_per_bin, ms_per_hop, *, sr: int, n_fft: int, hop_length: int, rtol: float = 5e-3) -> bool:
    """Exercise of ``01_stft_and_phase``: the STFT's frequency step (Hz per bin) and time step (ms per hop).

    Parameters
    ----------
    hz_per_bin, ms_per_hop : float or None
        The student's answers (rounding to two or three significant digits is accepted).
    sr, n_fft, hop_length : int
        The settings of the exercise.
    rtol : float
        Accepted relative error.
    """
    if hz_per_bin is None or ms_per_hop is None:
        return report(False, "replace None with your expressions for `hz_per_bin` and `ms_per_hop`.")
    try:
        hz, ms = float(hz_per_bin), float(ms_per_hop)
    except (TypeError, ValueError):
        return report(False, "`hz_per_bin` and `ms_per_hop` should each be one number.")
    want_hz, want_ms = sr / n_fft, 1000 * hop_length / sr
    hz_ok, ms_ok = _close(hz, want_hz, rtol), _close(ms, want_ms, rtol)
    if hz_ok and ms_ok:
        return report(True, f"{want_hz:.2f} Hz per bin and {want_ms:.2f} ms per hop.")
    hints = []
    if not hz_ok:
        if _close(hz, sr / (n_fft // 2 + 1), rtol) or _close(hz, sr / 2 / (n_fft // 2 + 1), rtol):
            hints.append(f"`hz_per_bin`: the {n_fft // 2 + 1} bins run from 0 Hz to sr / 2 in "
                         f"{n_fft // 2} steps, so neighbouring bins are sr / n_fft apart.")
        elif _close(hz, n_fft / sr, rtol):
            hints.append("`hz_per_bin` is upside down: it is sr / n_fft.")
        elif _close(hz, sr / hop_length, rtol):
            hints.append("`hz_per_bin` depends on the FFT size, not on the hop.")
        else:
            hints.append(f"`hz_per_bin` = {hz:g} is off: how far apart (in Hz) are the bins of an "
                         f"{n_fft}-point DFT at {sr} Hz?")
    if not ms_ok:
        if _close(ms, hop_length / sr, rtol):
            hints.append("`ms_per_hop` is in seconds: multiply by 1000 for milliseconds.")
        elif _close(ms, 1000 * n_fft / sr, rtol):
            hints.append("`ms_per_hop` is the window's duration; the frames advance by hop_length samples.")
        elif _close(ms, 1000 * sr / hop_length, rtol) or _close(ms, sr / hop_length, rtol):
            hints.append("`ms_per_hop` is upside down: a hop lasts hop_length / sr seconds.")
        else:
            hints.append(f"`ms_per_hop` = {ms:g} is off: how long do {hop_length} samples last at {sr} Hz?")
    return report(False, " ".join(hints))


def check_cola_hop(hop_length, *, window: str = "blackman", n_fft: int = 1536, tol: float = 1e-4) -> bool:
    """Exercise of ``01_stft_and_phase``: the largest hop for which ``window`` satisfies COLA.

    COLA is taken to hold when :func:`course_utils.spectral.cola_deviation` is below ``tol``.

    Parameters
    ----------
    hop_length : int or None
        The student's hop in samples.
    window : str
        The window (``scipy.signal.get_window`` name).
    n_fft : int
        The window's length in samples.
    tol : float
        Largest accepted ripple of the summed windows, relative to their mean.
    """
    if hop_length is None:
        return report(False, "the hop is still None: replace None with a number of samples.")
    if isinstance(hop_length, (float, np.floating)) and float(hop_length).is_integer():
        hop_length = int(hop_length)
    if not isinstance(hop_length, (int, np.integer)) or isinstance(hop_length, bool) or not 0 < hop_length <= n_fft:
        return report(False, f"the hop should be a whole number of samples between 1 and n_fft = {n_fft}, "
                             f"got {hop_length!r}.")
    deviation = spectral.cola_deviation(window, n_fft=n_fft, hop_length=int(hop_length))
    if deviation >= tol:
        hint = ""
        if hop_length == n_fft // 2 and window != "hann":
            hint = " (n_fft / 2 works for Hann, whose window has a single cosine; look at the envelope)"
        return report(False, f"with hop = {hop_length} the summed {window} windows ripple by "
                             f"{deviation:.1%} of their mean{hint}. Try other hops with spectral.cola_deviation.")
    larger = next((h for h in range(n_fft, hop_length, -1)
                   if spectral.cola_deviation(window, n_fft=n_fft, hop_length=h) < tol), None)
    if larger is not None:
        return report(False, f"hop = {hop_length} satisfies COLA (ripple {deviation:.0e}), "
                             f"but a larger hop does too: look for the largest.")
    return report(True, f"hop = {hop_length} is the largest COLA hop for a {n_fft}-sample {window} window "
                        f"(ripple {deviation:.0e}; {n_fft / hop_length:g} frames overlap each sample).")


def check_n_frames(answer, *, n_samples: int, n_fft: int, hop_length: int, center: bool = True) -> bool:
    """Exercise of ``01_stft_and_phase``: how many frames :func:`course_utils.spectral.stft` returns.

    Parameters
    ----------
    answer : int or None
        The student's prediction.
    n_samples, n_fft, hop_length : int
        The signal's length and the STFT's settings.
    center : bool
        Whether the frames are centred (the course's convention, padding ``n_fft // 2`` zeros
        at each end).
    """
    if answer is None:
        return report(False, "`n_frames` is still None: replace None with your prediction.")
    y = np.zeros(n_samples, dtype=np.float32)
    expected = spectral.stft(y, n_fft=n_fft, hop_length=hop_length, center=center).shape[-1]
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return report(False, f"`n_frames` should be a whole number, got {answer!r}.")
    if value == expected:
        return report(True, f"{expected} frames.")
    if not value.is_integer():
        return report(False, f"{value:g} is not a whole number: frames come whole (use //).")
    value = int(value)
    padded = n_samples + (2 * (n_fft // 2) if center else 0)
    if center and value == n_samples // hop_length:
        hint = (f"one short: the padded signal has {padded} samples, and n_fft-sample frames start at "
                f"0, hop, 2 hop, ... as long as a whole frame fits. Did you count the one at 0?")
    elif center and value == 1 + (n_samples - n_fft) // hop_length:
        hint = "that count is for frames that start at sample 0 (center=False); centring pads n_fft // 2 " \
               "zeros at each end."
    else:
        hint = (f"{value} is off by {value - expected:+d}: count how many n_fft-sample frames, one every hop "
                f"samples, fit in the {padded} samples of the {'padded ' if center else ''}signal.")
    return report(False, hint)


def check_stft(stft_fn, y: np.ndarray, *, n_fft: int = 1024, hop_length: int = 256) -> bool:
    """Exercise of ``01_stft_and_phase``: an STFT written by hand, against :func:`course_utils.spectral.stft`.

    Parameters
    ----------
    stft_fn : callable or None
        The student's ``stft_fn(y, n_fft=..., hop_length=...)``, returning ``(n_fft // 2 + 1, n_frames)``.
    y : np.ndarray, shape ``(n_samples,)``
    n_fft, hop_length : int
    """
    if stft_fn is None:
        return report(False, "replace None with your function (def my_stft(y, n_fft, hop_length): ...).")
    if not callable(stft_fn):
        return report(False, f"pass the function itself, not its result ({type(stft_fn).__name__}).")
    expected = spectral.stft(y, n_fft=n_fft, hop_length=hop_length)
    try:
        got = np.asarray(stft_fn(y, n_fft=n_fft, hop_length=hop_length))
    except Exception as error:  # noqa: BLE001 - the student's code may fail in any way
        return report(False, f"calling it raised {type(error).__name__}: {error}")
    if got.shape == expected.shape[::-1]:
        return report(False, f"shape {got.shape}: put frequencies first, (n_fft // 2 + 1, n_frames) (transpose).")
    if got.ndim == 2 and got.shape[0] == expected.shape[0] and got.shape[1] == expected.shape[1] - n_fft // hop_length:
        return report(False, f"{got.shape[1]} frames, expected {expected.shape[1]}: centred frames need "
                             f"n_fft // 2 zeros before and after the signal.")
    if got.shape != expected.shape:
        return report(False, f"shape {got.shape}, expected {expected.shape} (n_fft // 2 + 1 bins, "
                             f"1 + len(y) // hop_length frames).")
    scale = float(np.abs(expected).max())
    error = float(np.abs(got - expected).max()) / scale
    if error < 1e-4:
        return report(True, f"your STFT equals spectral.stft (largest difference {error:.1e} of the peak).")
    if float(np.abs(np.abs(got) - np.abs(expected)).max()) / scale < 1e-4:
        return report(False, "the magnitudes are right but not the phases: frame t starts at sample t * hop_length "
                             "of the padded signal, and np.fft.rfft gives the phase relative to the frame's start.")
    return report(False, f"the values differ from spectral.stft by up to {error:.2f} of the peak: multiply each "
                         "frame by the periodic Hann window (scipy.signal.get_window('hann', n_fft)) before the FFT.")
