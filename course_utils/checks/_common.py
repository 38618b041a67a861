"""What every self-check shares: the verdict line, signals compared, predictions checked."""

from __future__ import annotations

import numpy as np

__all__ = ["report", "data_claim", "check_signal", "check_prediction"]


def report(ok: bool, message: str) -> bool:
    """Print ``message`` marked as passed or not yet, and return ``ok``."""
    print(("Correct: " if ok else "Not yet: ") + message)
    return bool(ok)


def data_claim(holds: bool, claim: str, *, dataset: str) -> bool:
    """A statement the notebook makes about the bundled songs: asserted on them, reported on others.

    A property of a *method* (the ratio mask beats the mixture) is a plain ``assert``. A property
    of the *songs* (the bass starts on drum onsets) is true of the bundled set, where the notebook
    asserts it, and may or may not be true of other music: there it is printed as an observation,
    so that a notebook run on MUSDB18 says what it found instead of stopping.

    Parameters
    ----------
    holds : bool
        Whether the statement is true on the data at hand.
    claim : str
        The statement, as the notebook's prose makes it.
    dataset : str
        The notebook's ``DATASET``.
    """
    if dataset == "bundled":
        assert holds, f"the bundled songs no longer show it: {claim}"
    else:
        verdict = "holds here too" if holds else "does NOT hold here (it does on the bundled songs)"
        print(f"On {dataset}, the bundled songs' finding {verdict}: {claim}")
    return bool(holds)


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


def check_prediction(prediction, measured: dict, *, expect: str, verdict: str, hint: str,
                     name: str = "prediction") -> bool:
    """Predict, then measure: is ``prediction`` the option with the highest (or lowest) value?

    The "predict, then measure" exercises of ``03_phase_reconstruction`` (which phase gives
    the higher SDR) and ``06_evaluation`` (which metric falls the most) call it.

    Parameters
    ----------
    prediction : str or None
        The student's answer, one of the keys of ``measured``.
    measured : dict of str to float
        What the notebook measured for each option, in dB.
    expect : {"highest", "lowest"}
        Which end the right answer is at.
    verdict : str
        What the right option does, for the message (``"gives the higher SDR"``).
    hint : str
        A question that points a wrong prediction at the reason.
    name : str
        How the notebook calls the answer's variable, for the messages.
    """
    if expect not in ("highest", "lowest"):
        raise ValueError(f"expect must be 'highest' or 'lowest', got {expect!r}.")
    options = list(measured)
    if prediction is None:
        return report(False, f"`{name}` is still None: write one of {options}.")
    if prediction not in measured:
        return report(False, f"{prediction!r} is not one of the options {options}.")
    pick = max if expect == "highest" else min
    best = pick(options, key=lambda k: measured[k])
    numbers = ", ".join(f"{k}: {v:.2f} dB" for k, v in measured.items())
    if prediction == best:
        return report(True, f"{best!r} {verdict} ({numbers}).")
    return report(False, f"the measurement says {best!r} {verdict} ({numbers}). {hint}")
