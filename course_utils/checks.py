"""Self-checks for the notebooks' exercises: call one with your answer, read what it says.

Each check prints a short verdict (what is right, or what to look at) and returns
``True``/``False``; none of them raises on a wrong answer, so a notebook with an unfinished
exercise still runs top to bottom.
"""

from __future__ import annotations

import numpy as np

__all__ = ["report", "check_signal", "check_karaoke", "check_bass_boost"]


def report(ok: bool, message: str) -> bool:
    """Print ``message`` marked as passed or not yet, and return ``ok``."""
    print(("Correct: " if ok else "Not yet: ") + message)
    return bool(ok)


def check_signal(answer, expected: np.ndarray, *, name: str, rtol: float = 1e-4) -> bool:
    """Compare a signal with the expected one; explain shape, scaling or content errors.

    Parameters
    ----------
    answer : array-like or None
        The student's signal.
    expected : np.ndarray, shape ``(n_samples,)`` or ``(n_channels, n_samples)``
    name : str
        How the notebook calls the variable, for the messages.
    rtol : float
        Allowed error, relative to the expected signal's energy.
    """
    if answer is None:
        return report(False, f"`{name}` is still None: replace None with your expression.")
    answer = np.asarray(answer)
    if answer.shape != expected.shape:
        return report(False, f"`{name}` has shape {answer.shape}, expected {expected.shape}.")
    if not np.isfinite(answer).all():
        return report(False, f"`{name}` holds NaN or infinite samples.")
    energy = float(np.sum(expected.astype(np.float64) ** 2))
    error = float(np.sum((answer - expected).astype(np.float64) ** 2))
    if error <= rtol * energy:
        return report(True, f"`{name}` matches (relative error {error / energy:.1e}).")
    scale = float(np.dot(answer.ravel(), expected.ravel()) / energy) if energy > 0 else 0.0
    if abs(scale - 1) > 1e-3 and np.sum((answer - scale * expected) ** 2) <= rtol * energy:
        return report(False, f"`{name}` is the right signal scaled by {scale:.3f}: check the gain.")
    return report(False, f"`{name}` differs from the expected signal (relative error {error / energy:.2f}).")


def check_karaoke(instrumental, track) -> bool:
    """Exercise of ``00_introduction``: the instrumental (karaoke) mix is the mixture minus the vocals.

    Parameters
    ----------
    instrumental : np.ndarray, the shape of ``track.mixture``
    track : course_utils.data.Track
    """
    if instrumental is not None and np.asarray(instrumental).shape == track.mixture.shape:
        if np.allclose(instrumental, track.mixture, atol=1e-6):
            return report(False, "that is the whole mixture: the vocals are still in it.")
        if np.allclose(instrumental, track.stems["vocals"], atol=1e-6):
            return report(False, "that is the vocals alone: keep everything else instead.")
    return check_signal(instrumental, track.mixture - track.stems["vocals"], name="instrumental")


def check_bass_boost(boosted, track, *, gain_db: float = 6.0) -> bool:
    """Exercise of ``00_introduction``: raise the bass by ``gain_db`` dB and leave the rest as it is.

    Parameters
    ----------
    boosted : np.ndarray, the shape of ``track.mixture``
    track : course_utils.data.Track
    """
    gain = 10 ** (gain_db / 20)
    expected = track.mixture + (gain - 1) * track.stems["bass"]
    if boosted is not None and np.asarray(boosted).shape == expected.shape:
        wrong_db = track.mixture + (gain_db - 1) * track.stems["bass"]
        if np.allclose(boosted, wrong_db, atol=1e-5):
            return report(False, f"a gain of {gain_db} dB is a factor 10**({gain_db}/20) = {gain:.3f} "
                                 f"in amplitude, not {gain_db}.")
    return check_signal(boosted, expected, name="boosted")


# --------------------------------------------------------------------------------------------
# Exercises of ``01_stft_and_phase``.

__all__ += ["check_resolution", "check_cola_hop", "check_n_frames"]


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
    from . import spectral

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
    from . import spectral

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


# --------------------------------------------------------------------------------------------
# Exercises of ``02_masking``.

__all__ += ["check_two_source_irm", "check_ibm_owner"]


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
    from .data import STEMS

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


# --------------------------------------------------------------------------------------------
# Exercises of ``03_phase_reconstruction``.

__all__ += ["check_griffin_lim_step", "check_phase_prediction"]


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
    from . import spectral

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


def check_phase_prediction(prediction, measured: dict) -> bool:
    """Exercise of ``03_phase_reconstruction``: predict which phase gives the higher SDR, then measure.

    Parameters
    ----------
    prediction : str or None
        One of the keys of ``measured``.
    measured : dict of str to float
        The SDR in dB that the notebook measured for each option.
    """
    options = list(measured)
    if prediction is None:
        return report(False, f"`prediction` is still None: write one of {options}.")
    if prediction not in measured:
        return report(False, f"{prediction!r} is not one of the options {options}.")
    best = max(options, key=lambda k: measured[k])
    numbers = ", ".join(f"{k}: {v:.2f} dB" for k, v in measured.items())
    if prediction == best:
        return report(True, f"{best!r} gives the higher SDR ({numbers}).")
    return report(False, f"the measurement says {best!r} ({numbers}). Which bins does this mask keep, and "
                         "whose phase does the mixture have there?")


# --------------------------------------------------------------------------------------------
# 06_evaluation

__all__ += ["check_plain_projection", "check_metric_prediction"]


def check_plain_projection(answer, reference, estimate, *, name: str = "s_target") -> bool:
    """Exercise of ``06_evaluation``: the target part of an estimate by the plain projection.

    The expected answer is ``s_target = <ŝ, s> / <s, s> s``, the multiple of the reference
    closest to the estimate (lecture notes, "Evaluation Metrics").

    Parameters
    ----------
    answer : array-like or None, shape ``(n_samples,)``
        The student's ``s_target``.
    reference, estimate : np.ndarray, shape ``(n_samples,)``
        The true source ``s`` and the estimate ``ŝ``.
    name : str
        How the notebook calls the answer's variable, for the messages.
    """
    s = np.asarray(reference, dtype=np.float64)
    x = np.asarray(estimate, dtype=np.float64)
    if answer is None:
        return report(False, f"`{name}` is still None: replace None with your expression.")
    answer = np.asarray(answer)
    if answer.shape != s.shape:
        return report(False, f"`{name}` has shape {answer.shape}, expected {s.shape} (one sample per "
                             "sample of the reference).")
    if not np.isfinite(answer).all():
        return report(False, f"`{name}` holds NaN or infinite samples.")
    energy = float(s @ s)
    if energy == 0:
        return report(False, "the reference is silent: there is nothing to project onto.")
    alpha = float(x @ s) / energy
    expected = alpha * s
    scale = float(expected @ expected) or 1.0
    answer = answer.astype(np.float64)

    def close(a, b):
        return float(np.sum((a - b) ** 2)) <= 1e-6 * scale

    if close(answer, expected):
        return report(True, f"`{name}` is the reference scaled by <ŝ, s>/<s, s> = {alpha:.3f}.")
    if close(answer, s):
        return report(False, "that is the reference itself; the target part is the reference *rescaled* "
                             "by <ŝ, s>/<s, s>.")
    if close(answer, x):
        return report(False, "that is the whole estimate; keep only its part along the reference.")
    if float(x @ x) > 0 and close(answer, float(x @ s) / float(x @ x) * x):
        return report(False, "you projected the reference onto the estimate; project the estimate onto "
                             "the reference (divide by <s, s>, multiply s).")
    if close(answer, float(x @ s) * s):
        return report(False, "divide by the reference's energy <s, s> = np.dot(s, s).")
    denominator = float(np.sqrt(energy))
    if close(answer, float(x @ s) / denominator * s):
        return report(False, "divide by the energy <s, s>, not by the norm ||s||.")
    return report(False, f"`{name}` is not a multiple of the reference by <ŝ, s>/<s, s>.")


def check_metric_prediction(prediction, changes: dict) -> bool:
    """Exercise of ``06_evaluation``: predict which metric falls most when an estimate is changed.

    Parameters
    ----------
    prediction : str or None
        One of the keys of ``changes`` (e.g. ``"SIR"`` or ``"SAR"``).
    changes : dict of str to float
        The change in dB of each metric that the notebook measured (after minus before).
    """
    options = list(changes)
    if prediction is None:
        return report(False, f"`prediction` is still None: write one of {options}.")
    if prediction not in changes:
        return report(False, f"{prediction!r} is not one of the options {options}.")
    worst = min(options, key=lambda k: changes[k])
    numbers = ", ".join(f"{k}: {v:+.2f} dB" for k, v in changes.items())
    if prediction == worst:
        return report(True, f"{worst} falls the most ({numbers}).")
    return report(False, f"the measurement says {worst} falls the most ({numbers}). Is the added signal "
                         "explained by any of the true sources?")


# --------------------------------------------------------------------------------------------
# Exercises of ``04_classical_separation``.

__all__ += ["check_percussive_filter", "check_repet_mask", "check_kl_update"]


def _max_error(answer, expected, region=(slice(None), slice(None))) -> float:
    return float(np.max(np.abs(np.asarray(answer, dtype=np.float64)[region] - np.asarray(expected, np.float64)[region])))


def _array_answer(answer, shape, name: str):
    """None or the answer as a float array; prints what is wrong and returns None if it is unusable."""
    if answer is None:
        report(False, f"`{name}` is still None: replace None with your expression.")
        return None
    answer = np.asarray(answer)
    if answer.shape != tuple(shape):
        report(False, f"`{name}` has shape {answer.shape}, expected {tuple(shape)}.")
        return None
    if np.iscomplexobj(answer) or not np.isfinite(answer).all():
        report(False, f"`{name}` must be real and finite (work on the magnitude np.abs(Y); avoid 0 / 0).")
        return None
    return answer.astype(np.float64)


def check_percussive_filter(answer, S, *, kernel_size: int = 17) -> bool:
    """Exercise of ``04_classical_separation``: the percussive-enhanced spectrogram (median along frequency).

    Parameters
    ----------
    answer : np.ndarray or None, shape ``S.shape``
        The student's median-filtered spectrogram.
    S : np.ndarray, shape ``(n_freq, n_frames)``
        The magnitude spectrogram of the exercise.
    kernel_size : int
        The filter's length in frequency bins.
    """
    import scipy.ndimage

    S = np.asarray(S, dtype=np.float64)
    answer = _array_answer(answer, S.shape, "P17")
    if answer is None:
        return False
    tol = 1e-4 * max(float(S.max()), 1e-12)
    expected = scipy.ndimage.median_filter(S, size=(kernel_size, 1), mode="reflect")
    if _max_error(answer, expected) <= tol:
        return report(True, f"a median over {kernel_size} neighbouring frequency bins in every frame: "
                            "drum hits (vertical lines) survive, sustained partials do not.")
    if _max_error(answer, scipy.ndimage.median_filter(S, size=(1, kernel_size), mode="reflect")) <= tol:
        return report(False, "you filtered along time (axis 1): that keeps the harmonic, horizontal lines. "
                             "The percussive filter runs along frequency (axis 0).")
    if _max_error(answer, scipy.ndimage.uniform_filter(S, size=(kernel_size, 1), mode="reflect")) <= tol:
        return report(False, "that is a moving mean; use the median (np.median), which ignores outliers.")
    half = kernel_size // 2
    inner = (slice(half, S.shape[0] - half), slice(None))
    if S.shape[0] > 2 * half and _max_error(answer, expected, inner) <= tol:
        return report(False, "right away from the edges; at the lowest and highest bins mirror the spectrogram "
                             "(np.pad(..., mode='symmetric')) instead of padding with zeros.")
    return report(False, f"`P17` differs from the median over {kernel_size} frequency bins by up to "
                         f"{_max_error(answer, expected):.3g}.")


def check_repet_mask(answer, S, *, period: int) -> bool:
    """Exercise of ``04_classical_separation``: REPET's background mask for a given period.

    Parameters
    ----------
    answer : np.ndarray or None, shape ``S.shape``
        The student's background mask.
    S : np.ndarray, shape ``(n_freq, n_frames)``
        The magnitude spectrogram; its number of frames is a multiple of ``period``.
    period : int
        The repeating period in frames.
    """
    S = np.asarray(S, dtype=np.float64)
    answer = _array_answer(answer, S.shape, "background_mask")
    if answer is None:
        return False
    n_freq, n_frames = S.shape
    n_rep = n_frames // period
    segments = S[:, :n_rep * period].reshape(n_freq, n_rep, period)
    tiled = np.tile(np.median(segments, axis=1), n_rep)
    safe = np.where(S > 0, S, 1.0)
    live = S > 1e-6 * max(float(S.max()), 1e-12)
    expected = np.where(live, np.minimum(tiled, S) / safe, 1.0)

    def close(candidate):
        return _max_error(np.where(live, answer, 0), np.where(live, candidate, 0)) < 1e-3

    if close(expected):
        return report(True, "the median of the periods, capped by the mixture, divided by the mixture: "
                            "values in [0, 1], close to 1 where the music repeats.")
    if close(1 - expected):
        return report(False, "that is the foreground (voice) mask; the background mask is min(W, S) / S.")
    if close(tiled / safe):
        return report(False, "some values exceed 1: cap the model by the mixture first, np.minimum(W, S).")
    if close(np.minimum(np.tile(segments.mean(axis=1), n_rep), S) / safe):
        return report(False, "you averaged the periods; take the median, so the voice (an outlier) is ignored.")
    return report(False, f"`background_mask` differs from min(W, S) / S by up to {_max_error(answer, expected):.3f}.")


def check_kl_update(answer, V, W, H) -> bool:
    """Exercise of ``04_classical_separation``: one multiplicative update of the activations (KL cost).

    Parameters
    ----------
    answer : np.ndarray or None, shape ``H.shape``
        The student's updated activations.
    V : np.ndarray, shape ``(n_freq, n_frames)``
    W : np.ndarray, shape ``(n_freq, n_components)``
    H : np.ndarray, shape ``(n_components, n_frames)``
        The values before the update.
    """
    V, W, H = (np.asarray(a, dtype=np.float64) for a in (V, W, H))
    answer = _array_answer(answer, H.shape, "H_new")
    if answer is None:
        return False
    ratio = V / (W @ H)
    expected = H * (W.T @ ratio) / W.sum(axis=0)[:, None]
    tol = 1e-6 * max(float(np.abs(expected).max()), 1e-12)
    if _max_error(answer, expected) <= tol:
        return report(True, "H * (W.T @ (V / WH)) / (W.T @ 1): every factor is non-negative and the KL cost "
                            "cannot go up.")
    if _max_error(answer, H * (W.T @ ratio)) <= tol:
        return report(False, "the denominator is missing: divide by W.T @ 1, the column sums of W "
                             "(W.sum(axis=0)[:, None]).")
    if _max_error(answer, H * (W.T @ V) / (W.T @ W @ H)) <= tol:
        return report(False, "that is the update for the Euclidean distance (Lee & Seung's other rule); this "
                             "notebook minimises the KL divergence: H * (W.T @ (V / WH)) / (W.T @ 1).")
    return report(False, f"`H_new` differs from the KL update by up to {_max_error(answer, expected):.3g}.")


# --------------------------------------------------------------------------------------------
# Exercises of ``05_unet_separation``.

__all__ += ["check_unet_parameters", "check_masked_loss", "check_binary_mask"]


def check_unet_parameters(answer, *, width: int, depth: int, kernel_size: int = 5, n_bins: int = 256,
                          n_sources: int = 1) -> bool:
    """Exercise of ``05_unet_separation``: the number of parameters of a U-Net, from its layers.

    Parameters
    ----------
    answer : int or None
        The student's count.
    width, depth, kernel_size, n_bins, n_sources : int
        The configuration of :class:`course_utils.models.UNet` asked about.
    """
    from . import models

    if answer is None:
        return report(False, "`n_params` is still None: replace None with your count.")
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return report(False, f"`n_params` should be one whole number, got {answer!r}.")
    model = models.UNet(width=width, depth=depth, kernel_size=kernel_size, n_bins=n_bins, n_sources=n_sources)
    expected = models.count_parameters(model)
    if value == expected:
        return report(True, f"UNet(width={width}, depth={depth}) has {expected:,} parameters.")
    k2 = kernel_size**2
    ch = [1] + [width * 2**i for i in range(depth)]
    biases = sum(ch[1:]) + sum(ch[1:-1]) + n_sources
    batch_norm = 2 * (sum(ch[1:]) + sum(ch[1:-1]))
    no_skip = sum(k2 * ch[i + 1] * (ch[i] if i else n_sources) for i in range(depth))
    with_skip = sum(k2 * ch[i + 1] * (1 if i == depth - 1 else 2) * (ch[i] if i else n_sources) for i in range(depth))
    hints = {
        expected - biases: "you left out the biases: every convolution has one per output channel.",
        expected - batch_norm: "you left out batch norm: it learns a scale and a shift per channel "
                               "(its running mean and variance are buffers, not parameters).",
        expected - biases - batch_norm: "you counted only the kernels: add a bias per output channel and "
                                        "batch norm's scale and shift per channel.",
        expected - with_skip + no_skip: "the decoder blocks (except the lowest) read the skip connection too: "
                                        "their input has twice the channels.",
    }
    if value in hints:
        return report(False, hints[value])
    return report(False, f"{value:,.0f} is {abs(value - expected):,.0f} {'more' if value > expected else 'less'} "
                         "than the true count. Count per block: kernel_size² × C_in × C_out weights + C_out "
                         "biases, + 2 × C_out for batch norm (none after the last block).")


def check_masked_loss(loss_fn, *, kind: str = "l2") -> bool:
    """Exercise of ``05_unet_separation``: a loss on the masked magnitude, like ``training.masked_l1``.

    ``kind="l2"`` expects the mean squared error ``mean((M ⊙ |Y| - |X|)²)``.

    Parameters
    ----------
    loss_fn : callable or None
        ``loss_fn(masks, mixture_mag, target_mag)`` with tensors shaped
        ``(batch, n_targets, n_freq, n_frames)``, ``(batch, n_freq, n_frames)`` and
        ``(batch, n_targets, n_freq, n_frames)``, returning a scalar tensor.
    kind : {"l2"}
    """
    import torch

    if kind != "l2":
        raise ValueError(f"kind must be 'l2', got {kind!r}.")
    if loss_fn is None:
        return report(False, "`masked_l2` is still None: write a function (masks, mixture_mag, target_mag) -> loss.")
    if not callable(loss_fn):
        return report(False, "`masked_l2` should be a function.")
    g = torch.Generator().manual_seed(0)
    M = torch.rand(2, 1, 6, 5, generator=g, requires_grad=True)
    Y = torch.rand(2, 6, 5, generator=g) * 3
    X = torch.rand(2, 1, 6, 5, generator=g)
    try:
        value = loss_fn(M, Y, X)
    except Exception as exc:  # the student's code: report, never raise
        return report(False, f"calling masked_l2 failed: {type(exc).__name__}: {exc}")
    if not torch.is_tensor(value) or value.numel() != 1:
        return report(False, "the loss should be one number (a scalar tensor): average over everything with .mean().")
    if not value.requires_grad:
        return report(False, "the loss does not depend on the masks through torch operations (no gradient): "
                             "use torch functions, not NumPy.")
    diff = M * Y[:, None] - X
    candidates = {
        "expected": (diff**2).mean(),
        "sum": (diff**2).sum(),
        "rmse": (diff**2).mean().sqrt(),
        "unmasked": ((Y[:, None] - X) ** 2).mean(),
        "mask_only": ((M - X) ** 2).mean(),
        "l1": diff.abs().mean(),
    }
    close = {k: bool(torch.isclose(value.detach().float(), v.detach().float(), rtol=1e-4)) for k, v in candidates.items()}
    if close["expected"]:
        return report(True, "mean((M ⊙ |Y| − |X|)²): squared errors weigh loud bins even more than L1 does.")
    hints = {"sum": "you summed the squared errors: take the mean, so the loss does not grow with the batch size.",
             "rmse": "that is the root of the mean squared error; leave out the square root.",
             "unmasked": "the masks are not in it: the estimate is masks * mixture_mag[:, None].",
             "mask_only": "you compared the mask with the target magnitude; compare the masked mixture magnitude.",
             "l1": "that is the L1 loss (absolute values); square the errors instead."}
    for k, hint in hints.items():
        if close[k]:
            return report(False, hint)
    return report(False, f"masked_l2 gives {float(value):.4f}, expected {float(candidates['expected']):.4f}.")


def check_binary_mask(answer, soft_mask, *, threshold: float = 0.5) -> bool:
    """Exercise of ``05_unet_separation``: the binary mask that keeps the bins where the soft mask exceeds a threshold.

    Parameters
    ----------
    answer : np.ndarray or None, shape ``soft_mask.shape``
        The student's mask (bool or 0/1 numbers).
    soft_mask : np.ndarray, shape ``(..., n_freq, n_frames)``
        The network's soft mask, values in ``[0, 1]``.
    threshold : float
    """
    soft = np.asarray(soft_mask)
    if answer is None:
        return report(False, "`binary` is still None: replace None with your expression.")
    answer = np.asarray(answer)
    if answer.shape != soft.shape:
        return report(False, f"`binary` has shape {answer.shape}, expected {soft.shape} (one value per bin).")
    values = np.unique(answer.astype(np.float64))
    if not np.isin(values, (0.0, 1.0)).all():
        return report(False, "`binary` holds values other than 0 and 1: compare the soft mask with the threshold.")
    expected = soft > threshold
    got = answer.astype(bool)
    if np.array_equal(got, expected):
        return report(True, f"the binary mask keeps {expected.mean():.0%} of the bins, all or nothing.")
    if np.array_equal(got, ~expected) or np.array_equal(got, soft < threshold):
        return report(False, "that mask is the wrong way round: keep the bins where the soft mask is large.")
    wrong = float(np.mean(got != expected))
    return report(False, f"`binary` differs from (soft_mask > {threshold}) in {wrong:.1%} of the bins.")


# --------------------------------------------------------------------------------------------
# 07_tools_and_state_of_the_art


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
    from . import state_of_the_art as sota

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
    from .state_of_the_art import chunk_bounds

    want = chunk_bounds(n_samples, segment=segment, overlap=overlap)
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
