"""Self-checks of ``05_unet_separation``."""

from __future__ import annotations

import numpy as np

from ._common import report

__all__ = ["check_unet_parameters", "check_masked_loss", "check_binary_mask"]


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
    from .. import models  # torch: loaded by the check that needs it, not by every notebook

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
    import torch  # not at the top: importing the checks must stay fast for notebooks without torch

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
