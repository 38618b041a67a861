"""A small U-Net that predicts soft masks from magnitude spectrograms, and the Separator around it.

The network never sees a waveform or a phase. As in Open-Unmix, the pieces are kept apart:

- :class:`UNet` maps the magnitude spectrogram of a mixture, ``(batch, n_freq, n_frames)``, to
  one soft mask per target source, ``(batch, n_sources, n_freq, n_frames)``, values in
  ``[0, 1]``. It follows Jansson et al. (ISMIR 2017): strided 5x5 convolutions down (batch
  norm, leaky ReLU), transposed 5x5 convolutions up (batch norm, ReLU, dropout in the first
  decoder layers), skip connections between levels of equal size, a sigmoid at the end.
  Width and depth are parameters, so it can be sized for a CPU.
- :class:`Separator` joins the STFT (:mod:`course_utils.spectral`), the model, the mask and
  the inverse STFT. The estimate keeps the mixture's phase by default; it can also refine it
  with Griffin-Lim (:mod:`course_utils.phase`) or apply one Wiener-like step
  (:mod:`course_utils.masks`) first. Whole songs go through the model in overlapping chunks
  (bounded memory) and give the same masks as one pass.
- :func:`save` / :func:`load` write and read a model with its configuration (optionally in
  float16, for small files); :func:`pretrained` loads the checkpoint that ships with the
  course (``course_utils/checkpoints``).

Taught in ``05_unet_separation``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.patches import FancyBboxPatch
from torch import nn

from . import audio, spectral
from .data import STEMS
from .masks import wiener_like_mask
from .phase import griffin_lim

__all__ = ["N_BINS", "LOG_EPS", "PHASES", "CHECKPOINT_DIR", "UNet", "Separator", "count_parameters",
           "layer_table", "draw_architecture", "save", "load", "pretrained", "pretrained_path", "available_pretrained"]

N_BINS = 256
"""Frequency bins the default model sees: the lowest 256 of the 513 of ``n_fft=1024`` (0 to
5.5 kHz at 22050 Hz). The bins above get the mask value of the top bin (as Jansson et al. and
Spleeter do above 11 kHz at 44.1 kHz): they hold little energy, and the model costs half."""
LOG_EPS = 1e-3
"""Added to magnitudes before the logarithm of the model's input normalisation."""
PHASES = ("mixture", "griffin-lim")
"""How :class:`Separator` turns estimated magnitudes into signals."""
CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"
"""Where the shipped checkpoints live (inside the package)."""


class UNet(nn.Module):
    """U-Net on magnitude spectrograms that outputs one soft mask per source (Jansson et al. 2017).

    Encoder: ``depth`` blocks of [5x5 convolution with stride 2 -> batch norm -> leaky ReLU],
    each halving frequency and time and doubling the channels (``width``, ``2 width``, ...).
    Decoder: the mirror image with transposed convolutions (batch norm, ReLU, 50 % dropout in
    the first ``n_dropout`` blocks); each decoder block also receives the encoder output of the
    same size (skip connection). The last block gives ``n_sources`` channels and a sigmoid.

    The input is normalised inside the model: ``(log(|Y| + LOG_EPS) - mean) / scale`` per
    frequency bin, with ``mean`` and ``scale`` buffers set from training data
    (:meth:`set_input_statistics`), so the model takes plain magnitudes.

    Parameters
    ----------
    n_sources : int
        Number of masks (targets) predicted.
    width : int
        Channels of the first encoder block; the block ``l`` has ``width * 2**l``.
    depth : int
        Number of encoder (and decoder) blocks. ``n_bins`` must be divisible by ``2**depth``.
    kernel_size : int
        Odd size of the square convolution kernels (5 in the paper).
    n_bins : int
        Frequency bins the network sees (the lowest ones); higher bins of the input get the
        mask value of the top bin.
    dropout : float
        Dropout probability of the first ``n_dropout`` decoder blocks.
    n_dropout : int
        How many decoder blocks use dropout (3 in the paper).
    negative_slope : float
        Slope of the encoder's leaky ReLU for negative inputs.

    Notes
    -----
    Taught in ``05_unet_separation``.
    """

    architecture = "unet"

    def __init__(self, *, n_sources: int = 1, width: int = 8, depth: int = 5, kernel_size: int = 5,
                 n_bins: int = N_BINS, dropout: float = 0.5, n_dropout: int = 3, negative_slope: float = 0.2):
        super().__init__()
        n_sources = audio.valid_int(n_sources, name="n_sources")
        width = audio.valid_int(width, name="width")
        depth = audio.valid_int(depth, name="depth")
        kernel_size = audio.valid_int(kernel_size, name="kernel_size", minimum=3)
        n_bins = audio.valid_int(n_bins, name="n_bins", minimum=2)
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}.")
        if n_bins % 2**depth:
            raise ValueError(f"n_bins={n_bins} must be divisible by 2**depth={2**depth} (each block halves it).")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}.")
        self.config = dict(n_sources=n_sources, width=width, depth=depth, kernel_size=kernel_size, n_bins=n_bins,
                           dropout=float(dropout), n_dropout=int(n_dropout), negative_slope=float(negative_slope))
        pad = kernel_size // 2
        channels = [1] + [width * 2**level for level in range(depth)]
        self.encoder = nn.ModuleList(
            nn.Sequential(nn.Conv2d(channels[i], channels[i + 1], kernel_size, stride=2, padding=pad),
                          nn.BatchNorm2d(channels[i + 1]), nn.LeakyReLU(negative_slope))
            for i in range(depth))
        self.decoder = nn.ModuleList()
        for j, level in enumerate(reversed(range(depth))):  # level depth-1 (bottom) ... 0 (top)
            c_in = channels[level + 1] * (1 if level == depth - 1 else 2)  # skip connections double it
            c_out = channels[level] if level > 0 else n_sources
            up = nn.ConvTranspose2d(c_in, c_out, kernel_size, stride=2, padding=pad, output_padding=1)
            if level == 0:
                self.decoder.append(nn.Sequential(up))  # the sigmoid follows in forward()
            else:
                block = [up, nn.BatchNorm2d(c_out), nn.ReLU()]
                if j < n_dropout and dropout > 0:
                    block.append(nn.Dropout(dropout))
                self.decoder.append(nn.Sequential(*block))
        self.register_buffer("input_mean", torch.zeros(n_bins))
        self.register_buffer("input_scale", torch.ones(n_bins))

    @property
    def n_sources(self) -> int:
        return self.config["n_sources"]

    @property
    def n_bins(self) -> int:
        return self.config["n_bins"]

    @property
    def frame_multiple(self) -> int:
        """The number of frames is padded to a multiple of this (``2**depth``)."""
        return 2 ** self.config["depth"]

    @property
    def context(self) -> int:
        """Frames on each side of a frame that can change its mask (an upper bound).

        Each encoder block widens the view by ``kernel_size // 2`` frames of its input
        resolution, each decoder block by about as much at its own; the sum is below
        ``2 * (kernel_size // 2) * 2**depth``. Chunked inference keeps this many frames of
        context on each side of every chunk, so its result equals one pass.
        """
        return 2 * (self.config["kernel_size"] // 2) * 2 ** self.config["depth"]

    def set_input_statistics(self, mean, scale) -> None:
        """Set the per-bin normalisation of ``log(|Y| + LOG_EPS)`` (arrays of shape ``(n_bins,)``)."""
        mean = torch.as_tensor(np.asarray(mean, dtype=np.float32)).reshape(-1)
        scale = torch.as_tensor(np.asarray(scale, dtype=np.float32)).reshape(-1)
        if mean.shape != (self.n_bins,) or scale.shape != (self.n_bins,):
            raise ValueError(f"mean and scale must have shape ({self.n_bins},), got {tuple(mean.shape)} "
                             f"and {tuple(scale.shape)}.")
        if not torch.all(scale > 0):
            raise ValueError("scale must be positive in every bin.")
        self.input_mean.copy_(mean)
        self.input_scale.copy_(scale)

    def normalize(self, magnitude: torch.Tensor) -> torch.Tensor:
        """The network's input: ``(log(|Y| + LOG_EPS) - mean) / scale``, shape ``(batch, n_bins, n_frames)``."""
        x = torch.log(magnitude[..., : self.n_bins, :] + LOG_EPS)
        return (x - self.input_mean[:, None]) / self.input_scale[:, None]

    def forward(self, magnitude: torch.Tensor) -> torch.Tensor:
        """Soft masks for a batch of magnitude spectrograms.

        Parameters
        ----------
        magnitude : torch.Tensor, float, shape ``(batch, n_freq, n_frames)``
            ``|STFT|`` of the mixtures, ``n_freq >= n_bins`` (513 for ``n_fft=1024``); any
            number of frames (padded inside to a multiple of ``2**depth`` with silence).

        Returns
        -------
        torch.Tensor, shape ``(batch, n_sources, n_freq, n_frames)``, values in ``[0, 1]``
        """
        if magnitude.ndim != 3:
            raise ValueError(f"magnitude must be shaped (batch, n_freq, n_frames), got {tuple(magnitude.shape)}.")
        n_freq, n_frames = magnitude.shape[-2:]
        if n_freq < self.n_bins:
            raise ValueError(f"The model needs at least n_bins={self.n_bins} frequency bins, got {n_freq}.")
        if torch.is_complex(magnitude):
            raise ValueError("The model takes magnitudes: pass the absolute value of the STFT.")
        extra = -n_frames % self.frame_multiple
        if extra:  # pad with silence at the end; the masks of those frames are cut off again
            magnitude = nn.functional.pad(magnitude, (0, extra))
        x = self.normalize(magnitude)[:, None]  # (batch, 1, n_bins, frames)
        skips = []
        for block in self.encoder:
            x = block(x)
            skips.append(x)
        x = skips.pop()
        for i, block in enumerate(self.decoder):
            if i > 0:
                x = torch.cat([x, skips.pop()], dim=1)
            x = block(x)
        mask = torch.sigmoid(x)[..., :n_frames]
        if n_freq > self.n_bins:  # the bins above the model's range take the top bin's value
            mask = torch.cat([mask, mask[..., -1:, :].expand(-1, -1, n_freq - self.n_bins, -1)], dim=-2)
        return mask


def count_parameters(model: nn.Module, *, trainable_only: bool = True) -> int:
    """The number of (trainable) parameters of ``model``. Taught in ``05_unet_separation``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def layer_table(model: UNet, *, n_frames: int = 256, n_freq: int = spectral.N_FFT // 2 + 1):
    """Every block of a :class:`UNet` with the shape of its output and its parameter count.

    Parameters
    ----------
    model : UNet
    n_frames, n_freq : int
        The size of the input magnitude spectrogram to trace.

    Returns
    -------
    pandas.DataFrame
        Columns ``block``, ``part`` (encoder, decoder), ``channels``, ``freq`` and ``frames``
        (the output's shape), ``parameters``; one row per block, input to output.

    Notes
    -----
    Taught in ``05_unet_separation``.
    """

    if not isinstance(model, UNet):
        raise TypeError(f"layer_table needs a UNet, got {type(model).__name__}.")
    rows = []
    hooks = []

    def record(name, part, module):
        def hook(_, __, out):
            rows.append(dict(block=name, part=part, channels=out.shape[1], freq=out.shape[2], frames=out.shape[3],
                             parameters=count_parameters(module)))
        return module.register_forward_hook(hook)

    for i, block in enumerate(model.encoder):
        hooks.append(record(f"down {i + 1}", "encoder", block))
    for i, block in enumerate(model.decoder):
        hooks.append(record(f"up {len(model.decoder) - i}", "decoder", block))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            p = next(model.parameters())
            model(torch.ones(1, n_freq, n_frames, device=p.device))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    first = dict(block="input", part="input", channels=1, freq=model.n_bins,
                 frames=n_frames + (-n_frames % model.frame_multiple), parameters=0)
    return pd.DataFrame([first] + rows)


def draw_architecture(model: UNet, *, n_frames: int = 128, ax=None, title: str | None = None):
    """Draw a :class:`UNet` as a "U": the encoder going down, the decoder coming up, skips across.

    Every block is a box labelled with the shape of its output (channels x frequency bins x
    frames) and its number of parameters; box heights follow the number of frequency bins.

    Parameters
    ----------
    model : UNet
    n_frames : int
        Frames of the input to trace.
    ax : matplotlib.axes.Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    Taught in ``05_unet_separation``.
    """

    table = layer_table(model, n_frames=n_frames)
    depth = model.config["depth"]
    if ax is None:
        _, ax = plt.subplots(figsize=(12, 5.2), layout="constrained")
    positions = [(0, 0)] + [(level, -level) for level in range(1, depth + 1)]
    positions += [(depth + j, -(depth - j)) for j in range(1, depth + 1)]
    colors = {"input": "#dddddd", "encoder": "#9ecae1", "decoder": "#fdae6b"}
    top = table["freq"].max()
    for (x, y), row in zip(positions, table.itertuples()):
        h = 0.25 + 0.45 * row.freq / top
        ax.add_patch(FancyBboxPatch((x - 0.42, y - h / 2), 0.84, h, boxstyle="round,pad=0.02",
                                    facecolor=colors[row.part], edgecolor="0.3"))
        label = "mixture\n|Y|" if row.part == "input" else ("mask\n(sigmoid)" if row.block == "up 1" else row.block)
        ax.text(x, y + 0.04, label, ha="center", va="center", fontsize=8.5, fontweight="bold")
        ax.text(x, y - h / 2 - 0.08, f"{row.channels}×{row.freq}×{row.frames}" +
                (f"\n{row.parameters:,} p." if row.parameters else ""), ha="center", va="top", fontsize=7.5)
    for (x0, y0), (x1, y1) in zip(positions[:-1], positions[1:]):
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="->", color="0.25", lw=1.2, shrinkA=18, shrinkB=18))
    for level in range(1, depth):  # encoder level -> the decoder block that reads it
        (x0, y0), (x1, y1) = positions[level], positions[2 * depth - level]
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="->", color="C2", lw=1.2, ls="--", shrinkA=20, shrinkB=20))
    ax.text(depth, 0.05, "dashed: skip connections (concatenated)", ha="center", color="C2", fontsize=9)
    ax.set(xlim=(-0.7, 2 * depth + 0.7), ylim=(-depth - 0.9, 0.6), title=title or
           f"U-Net: {count_parameters(model):,} parameters (boxes: channels × frequency bins × frames)")
    ax.axis("off")
    return ax


class Separator(nn.Module):
    """STFT -> model -> masks -> inverse STFT: separate waveforms with a mask-predicting model.

    Parameters
    ----------
    model : UNet (or any module mapping ``(batch, n_freq, n_frames)`` magnitudes to
        ``(batch, n_targets, n_freq, n_frames)`` masks)
    targets : sequence of str
        The names of the model's masks, in order (e.g. ``("vocals",)``).
    n_fft, hop_length : int
        The STFT the model was trained with (course defaults).
    chunk_frames : int
        Frames per model call in :meth:`masks` (bounded memory); songs no longer than this go
        through in one pass.

    Notes
    -----
    The transform is kept out of the model (as in Open-Unmix), so the same model can be
    used with other phase choices and chunk sizes. Taught in ``05_unet_separation``.
    """

    def __init__(self, model: nn.Module, *, targets=("vocals",), n_fft: int = spectral.N_FFT,
                 hop_length: int = spectral.HOP_LENGTH, chunk_frames: int = 1024):
        super().__init__()
        targets = (targets,) if isinstance(targets, str) else tuple(targets)
        n_sources = getattr(model, "n_sources", len(targets))
        if len(targets) != n_sources:
            raise ValueError(f"The model predicts {n_sources} masks but {len(targets)} targets were named: {targets}.")
        self.model = model
        self.targets = targets
        self.n_fft = audio.valid_int(n_fft, name="n_fft", minimum=2)
        self.hop_length = audio.valid_int(hop_length, name="hop_length")
        self.chunk_frames = audio.valid_int(chunk_frames, name="chunk_frames")

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    # -- the transform ------------------------------------------------------------------------

    def stft(self, y: torch.Tensor) -> torch.Tensor:
        """Complex STFT of waveforms ``(..., n_samples)`` -> ``(..., n_freq, n_frames)`` (course convention)."""
        return spectral.stft(y, n_fft=self.n_fft, hop_length=self.hop_length)

    def istft(self, Y: torch.Tensor, length: int) -> torch.Tensor:
        """Inverse of :meth:`stft`: ``(..., n_freq, n_frames)`` -> ``(..., length)``."""
        return spectral.istft(Y, n_fft=self.n_fft, hop_length=self.hop_length, length=length)

    # -- training path: a batch of waveforms, one pass ----------------------------------------

    def forward(self, mixture: torch.Tensor) -> torch.Tensor:
        """Separate a batch of mono mixtures in one pass (differentiable; mixture phase).

        Parameters
        ----------
        mixture : torch.Tensor, shape ``(batch, n_samples)``

        Returns
        -------
        torch.Tensor, shape ``(batch, n_targets, n_samples)``
        """
        Y = self.stft(mixture)
        M = self.model(Y.abs())
        return self.istft(M * Y[:, None], mixture.shape[-1])

    def training_loss(self, mixture: torch.Tensor, targets: torch.Tensor, *, loss_fn=None, amp: bool = False):
        """The loss of one batch: ``loss_fn(masks, |Y|, |X|)`` on magnitudes, default
        :func:`course_utils.training.masked_l1`.

        Parameters
        ----------
        mixture : torch.Tensor, shape ``(batch, n_samples)``
        targets : torch.Tensor, shape ``(batch, n_targets, n_samples)``
        loss_fn : callable, optional
        amp : bool
            Run the model under float16 autocast (CUDA).
        """
        with torch.no_grad():
            mix_mag = self.stft(mixture).abs()
            target_mag = self.stft(targets).abs()
        with torch.autocast(mixture.device.type, dtype=torch.float16, enabled=amp):
            masks = self.model(mix_mag)
        if loss_fn is None:
            from .training import masked_l1  # training imports this module

            loss_fn = masked_l1
        return loss_fn(masks.float(), mix_mag, target_mag)

    # -- inference path: one song, chunked ----------------------------------------------------

    def chunk_windows(self, n_frames: int, chunk_frames: int) -> list[tuple[int, int, int, int]]:
        """The windows of chunked inference over ``n_frames`` frames (a multiple of ``model.frame_multiple``).

        Returns
        -------
        list of ``(start, stop, keep_from, keep_to)``
            The model sees frames ``start:stop`` (at most ``chunk_frames``; starts on the
            model's stride grid) and its masks are kept for ``keep_from:keep_to``, at least
            ``model.context`` frames from the chunk's edges except at the song's ends. The kept
            ranges tile ``[0, n_frames)``.
        """
        multiple = getattr(self.model, "frame_multiple", 1)
        context = getattr(self.model, "context", 0)
        if n_frames <= chunk_frames:
            return [(0, n_frames, 0, n_frames)]
        chunk = chunk_frames - chunk_frames % multiple
        step = chunk - 2 * context
        step -= step % multiple
        if step < multiple:
            raise ValueError(f"chunk_frames={chunk_frames} leaves no room next to {context} frames of context on "
                             f"each side; use at least {2 * context + 2 * multiple}.")
        windows = []
        keep_from = 0
        while keep_from < n_frames:
            start = max(0, min(keep_from - context, n_frames - chunk))
            start -= start % multiple  # stay on the model's stride grid, so chunks see what one pass sees
            stop = min(start + chunk, n_frames)
            keep_to = n_frames if stop == n_frames else min(stop - context, keep_from + step)
            windows.append((start, stop, keep_from, keep_to))
            keep_from = keep_to
        return windows

    @torch.no_grad()
    def masks(self, magnitude, *, chunk_frames: int | None = None) -> np.ndarray:
        """The model's masks for one song, computed in overlapping chunks.

        Each chunk is run with ``model.context`` frames of context on both sides and only its
        middle is kept, so the result equals one pass over the whole song (where one fits in
        memory), while memory stays bounded by the chunk size.

        Parameters
        ----------
        magnitude : np.ndarray or torch.Tensor, shape ``(n_freq, n_frames)``
            ``|STFT|`` of one mono mixture.
        chunk_frames : int, optional
            Frames per model call (default ``self.chunk_frames``).

        Returns
        -------
        np.ndarray, float32, shape ``(n_targets, n_freq, n_frames)``
        """
        chunk_frames = self.chunk_frames if chunk_frames is None else audio.valid_int(chunk_frames, name="chunk_frames")
        mag = torch.as_tensor(np.asarray(magnitude) if not torch.is_tensor(magnitude) else magnitude)
        if mag.ndim != 2 or torch.is_complex(mag):
            raise ValueError(f"magnitude must be a real array shaped (n_freq, n_frames), got shape {tuple(mag.shape)}"
                             f"{' (complex: pass its absolute value)' if torch.is_complex(mag) else ''}.")
        was_training = self.model.training
        self.model.eval()
        try:
            multiple = getattr(self.model, "frame_multiple", 1)
            n_frames = mag.shape[-1]
            padded = nn.functional.pad(mag.float(), (0, -n_frames % multiple))  # the one-pass padding
            out = np.empty((len(self.targets),) + tuple(padded.shape), dtype=np.float32)
            for start, stop, keep_from, keep_to in self.chunk_windows(padded.shape[-1], chunk_frames):
                piece = padded[None, :, start:stop].to(self.device)
                M = self.model(piece)[0].float().cpu().numpy()
                out[..., keep_from:keep_to] = M[..., keep_from - start:keep_to - start]
        finally:
            self.model.train(was_training)
        return out[..., :n_frames]

    def separate(self, mixture, *, phase: str = "mixture", wiener: bool = False, n_iter: int = 32,
                 chunk_frames: int | None = None, return_masks: bool = False):
        """Separate one mono song into the model's targets.

        Parameters
        ----------
        mixture : np.ndarray, shape ``(n_samples,)``
        phase : {"mixture", "griffin-lim"}
            ``"mixture"``: masked STFT with the mixture's phase (default). ``"griffin-lim"``:
            the masked magnitude with phase refined by ``n_iter`` Griffin-Lim iterations
            (:func:`course_utils.phase.griffin_lim`, started from the mixture's phase).
        wiener : bool
            Replace the masks by one Wiener-like step (:func:`course_utils.masks.wiener_like_mask`)
            over the estimated magnitudes ``M_i |Y|`` and, when the targets do not cover the
            whole mixture, a residual ``(1 - sum_i M_i) |Y|``: each bin is shared in proportion
            to the estimated powers.
        n_iter : int
            Griffin-Lim iterations.
        chunk_frames : int, optional
            See :meth:`masks`.
        return_masks : bool
            Also return the masks used.

        Returns
        -------
        estimates : np.ndarray, float32, shape ``(n_targets, n_samples)``
            In the order of ``self.targets``.
        masks : np.ndarray, float32, shape ``(n_targets, n_freq, n_frames)``
            Only with ``return_masks=True``.

        Notes
        -----
        Taught in ``05_unet_separation``.
        """
        if phase not in PHASES:
            raise ValueError(f"phase must be one of {PHASES}, got {phase!r}.")
        y = audio.valid_array(mixture, name="mixture", ndim=1, shape="(a mono signal, (n_samples,))",
                              real=True).astype(np.float32, copy=False)
        Y = spectral.stft(y, n_fft=self.n_fft, hop_length=self.hop_length)
        M = self.masks(np.abs(Y), chunk_frames=chunk_frames)
        if wiener:
            est = M * np.abs(Y)
            residual = np.clip(1 - M.sum(axis=0), 0, None) * np.abs(Y)
            M = wiener_like_mask(np.concatenate([est, residual[None]]))[: len(M)]
        if phase == "mixture":
            out = spectral.istft(M * Y, n_fft=self.n_fft, hop_length=self.hop_length, length=y.size)
        else:
            out = griffin_lim(M * np.abs(Y), n_iter=n_iter, init_phase=Y, length=y.size,
                              n_fft=self.n_fft, hop_length=self.hop_length)
        out = np.asarray(out, dtype=np.float32)
        return (out, M) if return_masks else out


# --------------------------------------------------------------------------------------------
# Checkpoints


def save(path, model: UNet, *, targets=("vocals",), half: bool = False, **metadata) -> Path:
    """Write a model, its configuration and metadata to ``path`` (a ``.pt`` file).

    Parameters
    ----------
    path : str or Path
    model : UNet
    targets : sequence of str
        What the model's masks are (stored, so :func:`load` can build the Separator).
    half : bool
        Store floating-point weights as float16 (half the size; they are converted back to
        float32 when loaded).
    **metadata
        Anything else to keep (training command, scores, ...), plain Python values.

    Returns
    -------
    Path

    Notes
    -----
    Taught in ``05_unet_separation``.
    """
    targets = (targets,) if isinstance(targets, str) else tuple(targets)
    state = {k: (v.detach().cpu().half() if half and v.is_floating_point() else v.detach().cpu())
             for k, v in model.state_dict().items()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"format": "course_utils.models/1", "architecture": model.architecture, "config": dict(model.config),
                "targets": list(targets), "state_dict": state, "metadata": metadata}, path)
    return path


def load(path, *, device=None) -> tuple[Separator, dict]:
    """Read a checkpoint written by :func:`save` and build its :class:`Separator`.

    Parameters
    ----------
    path : str or Path
    device : str or torch.device, optional
        Where to put the model (default the CPU).

    Returns
    -------
    separator : Separator
        In evaluation mode, weights in float32.
    metadata : dict

    Raises
    ------
    FileNotFoundError, ValueError
        For a missing file, or a file that is not such a checkpoint.

    Notes
    -----
    Taught in ``05_unet_separation``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No checkpoint at {path}.")
    return from_checkpoint(torch.load(path, map_location="cpu", weights_only=True), device=device, name=str(path))


def from_checkpoint(blob: dict, *, device=None, name: str = "the checkpoint") -> tuple[Separator, dict]:
    """Build the :class:`Separator` of a checkpoint already read into memory (what :func:`save`
    writes, as ``torch.load`` returns it): :func:`load` without the file, for a file that packs
    several checkpoints (the capstone's weights).

    Notes
    -----
    Used in ``notebooks/homework/capstone``.
    """
    if not isinstance(blob, dict) or blob.get("format") != "course_utils.models/1":
        raise ValueError(f"{name} is not a checkpoint written by course_utils.models.save.")
    architecture = blob.get("architecture", UNet.architecture)  # the first U-Net checkpoints did not say
    if architecture == UNet.architecture:
        model, wrap = UNet(**blob["config"]), Separator
    else:
        from . import waveform  # it imports this module

        if architecture != waveform.WaveUNet1d.architecture:
            raise ValueError(f"{name} holds an unknown architecture {architecture!r}.")
        model, wrap = waveform.WaveUNet1d(**blob["config"]), waveform.WaveSeparator
    model.load_state_dict({k: (v.float() if v.is_floating_point() else v) for k, v in blob["state_dict"].items()})
    model.to(device or "cpu").eval()
    return wrap(model, targets=blob["targets"]), blob["metadata"]


def available_pretrained() -> list[str]:
    """The targets for which a checkpoint ships with the course, in :data:`course_utils.data.STEMS` order."""

    found = {p.stem.removeprefix("unet_") for p in CHECKPOINT_DIR.glob("unet_*.pt")}
    return [t for t in STEMS if t in found] + sorted(found - set(STEMS))


def pretrained_path(target: str = "vocals") -> Path:
    """Path of the shipped checkpoint for ``target`` (``course_utils/checkpoints/unet_<target>.pt``)."""
    path = CHECKPOINT_DIR / f"unet_{target}.pt"
    if not path.is_file():
        raise FileNotFoundError(f"No shipped checkpoint for {target!r} in {CHECKPOINT_DIR}; shipped: "
                                f"{available_pretrained()}.")
    return path


def pretrained(target: str = "vocals", *, device=None) -> tuple[Separator, dict]:
    """The U-Net trained for ``target`` that ships with the course, ready to separate.

    Returns
    -------
    separator : Separator
    metadata : dict
        How it was trained (the command that reproduces it, the training log's summary).

    Notes
    -----
    Taught in ``05_unet_separation``.
    """
    return load(pretrained_path(target), device=device)
