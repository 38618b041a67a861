"""Self-checks of ``08_waveform_separation``."""

from __future__ import annotations

import numpy as np

from ._common import report

__all__ = ["encoder_receptive_field", "check_receptive_field", "shift_average", "check_shift_trick"]


def encoder_receptive_field(model) -> int:
    """Input samples that one output step of the model's encoder depends on, measured with autograd.

    A copy of the encoder with every weight made positive, fed a positive signal, keeps every
    ReLU and gate open, so the gradient of one bottleneck step is non-zero exactly on the
    samples that step sees.

    Parameters
    ----------
    model : course_utils.waveform.WaveUNet1d

    Returns
    -------
    int
    """
    import copy

    import torch

    encoder = copy.deepcopy(model.encoder).float()
    with torch.no_grad():
        for p in encoder.parameters():
            p.abs_().add_(1e-3)
    n = 64 * model.length_multiple
    x = torch.ones(1, 1, n, requires_grad=True)
    h = x
    for block in encoder:
        h = block(h)
    h[0, 0, h.shape[-1] // 2].backward()
    seen = np.flatnonzero(x.grad[0, 0].numpy())
    return int(seen[-1] - seen[0] + 1)


def check_receptive_field(answer, model, *, sr: int) -> bool:
    """Exercise of ``08_waveform_separation``: how many input samples one bottleneck step of the
    encoder sees (before the BiLSTM), computed from the kernel sizes and strides.

    Parameters
    ----------
    answer : int or None
    model : course_utils.waveform.WaveUNet1d
    sr : int
        To say the answer in milliseconds.
    """
    if answer is None:
        return report(False, "`receptive_field` is still None: replace None with your count.")
    measured = encoder_receptive_field(model)
    try:
        value = int(answer)
    except (TypeError, ValueError):
        return report(False, f"`receptive_field` should be one whole number of samples, got {answer!r}.")
    if value != measured:
        hint = ("each block adds (kernel - 1) steps of its input, and one input step of block l spans "
                "stride**l samples of the waveform")
        return report(False, f"{value} samples; measured with autograd: a different number. Hint: {hint}.")
    return report(True, f"{value} samples, {1000 * value / sr:.0f} ms at {sr} Hz (autograd agrees): the "
                        "convolutions alone see a few tens of milliseconds; the BiLSTM sees the whole excerpt.")


def shift_average(separator, mixture, shifts) -> np.ndarray:
    """The shift trick: separate ``mixture`` delayed by each shift, undo the delay, average.

    Parameters
    ----------
    separator : course_utils.waveform.WaveSeparator
    mixture : np.ndarray, shape ``(n_samples,)``
    shifts : sequence of int
        Delays in samples.

    Returns
    -------
    np.ndarray, float32, shape ``(n_targets, n_samples)``
    """
    estimates = [separator.separate(np.concatenate([np.zeros(s, np.float32), mixture]))[:, s:] for s in shifts]
    return np.mean(estimates, axis=0).astype(np.float32)


def check_shift_trick(answer, separator, track, *, shifts) -> bool:
    """Exercise of ``08_waveform_separation``: the estimates averaged over delayed copies of the
    mixture (Demucs's *shift trick*), and what it changes in SDR.

    Parameters
    ----------
    answer : np.ndarray or None, shape ``(n_targets, n_samples)``
    separator : course_utils.waveform.WaveSeparator
    track : course_utils.data.Track
        A mono song.
    shifts : sequence of int
    """
    from .. import metrics

    if answer is None:
        return report(False, "`averaged` is still None: replace None with your estimates.")
    want = shift_average(separator, track.mixture, shifts)
    got = np.asarray(answer)
    if got.shape != want.shape:
        return report(False, f"`averaged` has shape {got.shape}, expected {want.shape}: one row per stem, "
                             "as long as the song (cut the delay off again).")
    if not np.allclose(got, want, atol=1e-4 * max(float(np.abs(want).max()), 1e-9)):
        once = separator.separate(track.mixture)
        if np.allclose(got, once, atol=1e-5):
            return report(False, "`averaged` equals one plain separation: did every shift get separated?")
        return report(False, "delay the mixture by each shift (zeros in front), separate, drop the first `shift` "
                             "samples of the estimates, and average over the shifts.")
    refs = np.stack([track.stems[s] for s in separator.targets])
    plain = metrics.bss_eval(refs, separator.separate(track.mixture), names=list(separator.targets)).sdr
    shifted = metrics.bss_eval(refs, got, names=list(separator.targets)).sdr
    change = ", ".join(f"{s} {b - a:+.2f} dB" for s, a, b in zip(separator.targets, plain, shifted))
    return report(True, f"SDR change from averaging {len(shifts)} shifts on {track.name}: {change}.")
