"""Self-checks of ``03_phase_reconstruction`` (its prediction exercise uses :func:`check_prediction`)."""

from __future__ import annotations

import numpy as np

from .. import metrics, phase, spectral
from ._common import report

__all__ = ["check_griffin_lim_step", "check_spectral_convergence", "check_iterations"]


def check_griffin_lim_step(answer, previous, magnitude, *, length: int | None = None) -> bool:
    """Exercise of ``03_phase_reconstruction``: one Griffin-Lim iteration.

    The expected answer is ``magnitude · exp(j ∠ STFT(iSTFT(previous)))``: resynthesise,
    analyse again, keep the phase, impose the target magnitude.

    Parameters
    ----------
    answer : np.ndarray (complex) or None
        The student's next complex spectrogram, shaped like ``previous``.
    previous : np.ndarray, complex, shape ``(..., n_freq, n_frames)``
        The spectrogram the iteration starts from.
    magnitude : np.ndarray, real, shape ``previous.shape``
        The target magnitude.
    length : int, optional
        The signal length used for the inverse STFT (as in the notebook).
    """
    if answer is None:
        return report(False, "`X_next` is still None: replace None with your expression.")
    answer = np.asarray(answer)
    if answer.shape != previous.shape:
        if answer.ndim == previous.ndim - 1:
            return report(False, f"`X_next` has shape {answer.shape}, which looks like a signal; return the "
                                 f"complex spectrogram of shape {previous.shape} (STFT, then impose the magnitude).")
        return report(False, f"`X_next` has shape {answer.shape}, expected {previous.shape}.")
    if not np.iscomplexobj(answer):
        return report(False, "`X_next` is real: it should be complex, the target magnitude times a phase factor.")
    if not np.isfinite(answer).all():
        return report(False, "`X_next` holds NaN or infinite values (a division by |T| where T is zero?).")
    rebuilt = spectral.stft(spectral.istft(previous, length=length))
    if rebuilt.shape != previous.shape:
        return report(False, "the STFT of the resynthesised signal has another shape: pass `length=n` to istft.")
    expected = magnitude * np.exp(1j * np.angle(rebuilt))
    scale = float(np.linalg.norm(magnitude)) or 1.0
    error = float(np.linalg.norm(answer - expected)) / scale
    if error < 1e-3:
        return report(True, f"one Griffin-Lim step (relative difference {error:.1e}).")
    if float(np.linalg.norm(answer - rebuilt)) / scale < 1e-3:
        return report(False, "that is STFT(iSTFT(X)), the consistent spectrogram; now keep only its phase "
                             "and put the target magnitude back.")
    if float(np.linalg.norm(answer - previous)) / scale < 1e-3:
        return report(False, "`X_next` equals the spectrogram you started from: resynthesise it with istft "
                             "and analyse the signal again with stft.")
    if float(np.linalg.norm(np.abs(answer) - magnitude)) / scale > 1e-3:
        return report(False, "the magnitude of `X_next` is not the target magnitude: multiply the target "
                             "magnitude by exp(1j * phase).")
    if float(np.linalg.norm(answer - np.conj(expected))) / scale < 1e-3:
        return report(False, "the phase has the wrong sign: use np.angle(T), not its negative.")
    return report(False, f"the magnitude is right but the phase is not the phase of STFT(iSTFT(X)) "
                         f"(relative difference {error:.2f}).")


def check_spectral_convergence(answer, magnitude, signals) -> bool:
    """Exercise of ``03_phase_reconstruction``: the spectral convergence of each source, by hand.

    Parameters
    ----------
    answer : np.ndarray or None, shape ``(n_sources,)``
        ``20 log10(‖|STFT(y_i)| − A_i‖_F / ‖A_i‖_F)`` in dB, one per source.
    magnitude : np.ndarray, shape ``(n_sources, n_freq, n_frames)``
        The targets ``A_i``.
    signals : np.ndarray, shape ``(n_sources, n_samples)``
        The resynthesised signals ``y_i``.
    """
    if answer is None:
        return report(False, "`sc_db` is still None: replace None with one number per source.")
    got = np.asarray(answer, dtype=np.float64)
    A = np.asarray(magnitude, dtype=np.float64)
    if got.shape != A.shape[:1]:
        return report(False, f"`sc_db` has shape {got.shape}, expected ({A.shape[0]},): one value per source.")
    rebuilt = np.abs(spectral.stft(np.asarray(signals, dtype=np.float32))).astype(np.float64)
    ratio = np.linalg.norm((rebuilt - A).reshape(len(A), -1), axis=1) / np.linalg.norm(A.reshape(len(A), -1), axis=1)
    want = 20 * np.log10(ratio)
    if np.allclose(got, want, atol=1e-3):
        return report(True, f"spectral convergence {', '.join(f'{v:.1f}' for v in want)} dB.")
    if np.allclose(got, ratio, atol=1e-5):
        return report(False, "that is the ratio itself; give it in dB, 20 * log10(ratio).")
    if np.allclose(got, 10 * np.log10(ratio), atol=1e-3):
        return report(False, "a ratio of norms (amplitudes) is 20 log10 in dB, not 10 log10.")
    return report(False, "take ‖|STFT(y_i)| - A_i‖ over all bins, divide by ‖A_i‖ and convert to dB.")


def check_iterations(sdr_by_iter, best_iter, magnitude, mixture_stft, sources, *, iters, length: int) -> bool:
    """Exercise of ``03_phase_reconstruction``: the mean SDR after each number of Griffin-Lim
    iterations started from the mixture's phase, and the best of them.

    Parameters
    ----------
    sdr_by_iter : dict of int to float, or None
        Iterations to the mean SDR (dB, ``metrics.bss_eval``) of the four resynthesised sources.
    best_iter : int or None
        The number of iterations of ``iters`` with the highest mean SDR.
    magnitude : np.ndarray, shape ``(n_sources, n_freq, n_frames)``
    mixture_stft : np.ndarray, shape ``(n_freq, n_frames)``
        Its phase starts Griffin-Lim.
    sources : np.ndarray, shape ``(n_sources, n_samples)``
        The true sources.
    iters : sequence of int
    length : int
    """
    if sdr_by_iter is None or best_iter is None:
        return report(False, "`sdr_by_iter` or `best_iter` is still None: replace None with your answers.")
    if not isinstance(sdr_by_iter, dict) or sorted(sdr_by_iter) != sorted(iters):
        return report(False, f"`sdr_by_iter` maps each of {tuple(iters)} iterations to one mean SDR.")
    want = {k: float(np.mean(metrics.bss_eval(sources, phase.griffin_lim(
        magnitude, n_iter=k, init_phase=mixture_stft, length=length)).sdr)) for k in iters}
    wrong = [k for k in iters if not abs(float(sdr_by_iter[k]) - want[k]) <= 0.01]
    if wrong:
        k = wrong[0]
        return report(False, f"after {k} iterations the mean SDR is {want[k]:.2f} dB, not {float(sdr_by_iter[k]):.2f}: "
                             f"resynthesise all four sources with phase.griffin_lim(A, n_iter={k}, init_phase=Y, "
                             f"length=n) and average metrics.bss_eval(sources, y).sdr.")
    best = max(want, key=want.get)
    if best_iter != best:
        return report(False, f"`best_iter` is the number of iterations with the highest mean SDR: {best}.")
    return report(True, "mean SDR " + ", ".join(f"{v:.2f} dB after {k}" for k, v in want.items())
                  + f" iterations: {best} is the best of them.")
