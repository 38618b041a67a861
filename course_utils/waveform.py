"""A small waveform-to-waveform separator in the spirit of Demucs v2, and the Separator around it.

No STFT anywhere: the network reads the mixture's samples and writes every stem's samples.

- :class:`WaveUNet1d` (a tiny Demucs, Défossez et al. 2019, arXiv:1911.13254): an encoder of
  strided 1-D convolutions (kernel 8, stride 4: each block shortens the signal 4 times and
  widens the channels), each followed by a 1x1 convolution and a gated linear unit (GLU);
  a bidirectional LSTM over the shortest sequence (about 86 steps a second at 22050 Hz with
  four blocks); a decoder of transposed convolutions that mirrors the encoder, with a skip
  connection from each encoder block. The last block gives one waveform per stem.
  ``lstm_layers=0`` and ``glu=False`` switch off the two architectural ingredients whose
  removal cost Demucs v2 SDR in its ablation (:data:`course_utils.state_of_the_art.DEMUCS_V2_ABLATION`;
  the BiLSTM the most), so the notebook can train without them.
- :class:`WaveSeparator` joins the input normalisation (each mixture divided by its standard
  deviation, the estimates multiplied back), the model and the chunking of whole songs
  (overlapping segments, cross-faded), with the same ``separate`` and ``targets`` as the
  U-Net's :class:`course_utils.models.Separator`, so the training loop, validation, the
  leaderboard and the metrics treat both alike.
- Checkpoints are written and read by :func:`course_utils.models.save` / :func:`course_utils.models.load`
  (the checkpoint records which architecture it holds); :func:`pretrained` loads the one that ships.

Taught in ``08_waveform_separation``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from . import audio, models
from .data import STEMS

__all__ = ["KERNEL_SIZE", "STRIDE", "WaveUNet1d", "layer_table", "WaveSeparator", "waveform_l1", "pretrained",
           "PRETRAINED", "PRETRAINED_ABLATION"]

KERNEL_SIZE = 8
"""Kernel of every strided (transposed) convolution, as in Demucs."""
STRIDE = 4
"""Each encoder block shortens the signal by this factor (and each decoder block lengthens it)."""
PRETRAINED = "wave_tiny"
"""Name of the shipped waveform model (``course_utils/checkpoints/wave_tiny.pt``): all four stems."""
PRETRAINED_ABLATION = "wave_tiny_no_lstm"
"""The same model trained the same way without its BiLSTM (the ablation of notebook 08)."""


class WaveUNet1d(nn.Module):
    """A tiny Demucs: strided 1-D convolutions down, a BiLSTM, transposed convolutions up.

    Encoder block ``l`` (``l = 0 .. depth-1``): ``Conv1d(kernel 8, stride 4)`` -> ReLU ->
    ``Conv1d(1x1)`` to twice the channels -> GLU (half of the channels gate the other half
    through a sigmoid). Channels: ``width * growth**l``.
    Bottleneck: ``lstm_layers`` layers of bidirectional LSTM, then a linear layer back to the
    channels (skipped when ``lstm_layers=0``).
    Decoder block (mirror order): add the encoder block's output (skip connection) ->
    ``Conv1d(1x1)`` to twice the channels -> GLU -> ``ConvTranspose1d(kernel 8, stride 4)`` ->
    ReLU (not after the last block, which gives ``n_sources`` waveforms).
    With ``glu=False`` each GLU becomes a 1x1 convolution to the same channels and a ReLU.

    Parameters
    ----------
    n_sources : int
        Waveforms predicted (one per stem).
    width : int
        Channels of the first encoder block.
    depth : int
        Encoder (and decoder) blocks; the input length must be a multiple of ``4**depth``
        (:class:`WaveSeparator` pads it).
    growth : int
        Channel factor from one block to the next.
    lstm_layers : int
        Layers of the bidirectional LSTM at the bottleneck (0: none).
    glu : bool
        Gated linear units after the 1x1 convolutions (else ReLU).

    Notes
    -----
    Input ``(batch, 1, n_samples)``, output ``(batch, n_sources, n_samples)``. The input is
    expected at unit standard deviation (the Separator normalises it). Taught in
    ``08_waveform_separation``.
    """

    architecture = "wave-unet-1d"

    def __init__(self, *, n_sources: int = len(STEMS), width: int = 16, depth: int = 4, growth: int = 2,
                 lstm_layers: int = 2, glu: bool = True):
        super().__init__()
        n_sources = audio.valid_int(n_sources, name="n_sources")
        width = audio.valid_int(width, name="width")
        depth = audio.valid_int(depth, name="depth")
        growth = audio.valid_int(growth, name="growth")
        lstm_layers = audio.valid_int(lstm_layers, name="lstm_layers", minimum=0)
        self.config = dict(n_sources=n_sources, width=width, depth=depth, growth=growth, lstm_layers=lstm_layers,
                           glu=bool(glu))
        pad = (KERNEL_SIZE - STRIDE) // 2  # so that a block maps length n to exactly n / STRIDE

        def gate(channels):
            if glu:
                return [nn.Conv1d(channels, 2 * channels, 1), nn.GLU(dim=1)]
            return [nn.Conv1d(channels, channels, 1), nn.ReLU()]

        channels = [1] + [width * growth**level for level in range(depth)]
        self.encoder = nn.ModuleList(
            nn.Sequential(nn.Conv1d(channels[i], channels[i + 1], KERNEL_SIZE, STRIDE, padding=pad), nn.ReLU(),
                          *gate(channels[i + 1]))
            for i in range(depth))
        self.decoder = nn.ModuleList()
        for level in reversed(range(depth)):
            c_out = channels[level] if level > 0 else n_sources
            block = gate(channels[level + 1]) + [nn.ConvTranspose1d(channels[level + 1], c_out, KERNEL_SIZE, STRIDE,
                                                                     padding=pad)]
            if level > 0:
                block.append(nn.ReLU())
            self.decoder.append(nn.Sequential(*block))
        bottom = channels[-1]
        self.lstm = nn.LSTM(bottom, bottom, num_layers=lstm_layers, bidirectional=True,
                            batch_first=True) if lstm_layers else None
        self.lstm_out = nn.Linear(2 * bottom, bottom) if lstm_layers else None

    @property
    def n_sources(self) -> int:
        return self.config["n_sources"]

    @property
    def length_multiple(self) -> int:
        """Input lengths must be multiples of this (``4**depth`` samples)."""
        return STRIDE ** self.config["depth"]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3 or x.shape[1] != 1 or x.shape[-1] % self.length_multiple:
            raise ValueError(f"Input must be shaped (batch, 1, n_samples) with n_samples a multiple of "
                             f"{self.length_multiple}, got {tuple(x.shape)}.")
        skips = []
        for block in self.encoder:
            x = block(x)
            skips.append(x)
        if self.lstm is not None:
            y, _ = self.lstm(x.transpose(1, 2))  # (batch, time, 2 * channels)
            x = self.lstm_out(y).transpose(1, 2)
        for block in self.decoder:
            x = block(x + skips.pop())
        return x


def layer_table(model: WaveUNet1d, *, n_samples: int = 32768):
    """Every block of a :class:`WaveUNet1d` with the shape of its output and its parameter count.

    Parameters
    ----------
    model : WaveUNet1d
    n_samples : int
        Length of the input to trace (a multiple of ``model.length_multiple``).

    Returns
    -------
    pandas.DataFrame
        Columns ``block``, ``part`` (encoder, bottleneck, decoder), ``channels``, ``samples``
        (the output's shape), ``parameters``; one row per block, input to output.

    Notes
    -----
    Taught in ``08_waveform_separation``.
    """
    import pandas as pd

    parts = [(f"encoder {i + 1}", "encoder", b) for i, b in enumerate(model.encoder)]
    if model.lstm is not None:
        parts.append(("BiLSTM + linear", "bottleneck", model.lstm_out))
    parts += [(f"decoder {i + 1}", "decoder", b) for i, b in enumerate(model.decoder)]
    shapes = {}
    hooks = [module.register_forward_hook(lambda m, i, out, name=name: shapes.__setitem__(name, tuple(out.shape)))
             for name, _, module in parts]
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, 1, n_samples))
    finally:
        for h in hooks:
            h.remove()
    rows = [dict(block="input", part="", channels=1, samples=n_samples, parameters=0)]
    for name, part, module in parts:
        size = sum(p.numel() for p in module.parameters())
        if part == "bottleneck":
            size += sum(p.numel() for p in model.lstm.parameters())
        shape = shapes[name]  # (1, channels, samples) or, after the LSTM's linear layer, (1, samples, channels)
        channels, samples = (shape[1], shape[2]) if part != "bottleneck" else (shape[2], shape[1])
        rows.append(dict(block=name, part=part, channels=channels, samples=samples, parameters=size))
    return pd.DataFrame(rows)


def waveform_l1(estimates: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The waveform model's training loss: mean ``|x̂ - x|`` over stems, samples and the batch (as Demucs).

    Parameters
    ----------
    estimates, targets : torch.Tensor, shape ``(batch, n_targets, n_samples)``

    Returns
    -------
    torch.Tensor, scalar

    Notes
    -----
    Taught in ``08_waveform_separation``.
    """
    return (estimates - targets).abs().mean()


class WaveSeparator(nn.Module):
    """A waveform model with its input normalisation and chunked inference: mixture in, stems out.

    Parameters
    ----------
    model : WaveUNet1d
    targets : sequence of str
        The names of the model's outputs, in order.
    segment : float
        Seconds per model call in :meth:`separate` (bounded memory); longer songs go through in
        segments that overlap by ``overlap`` seconds and are cross-faded linearly.
    overlap : float
    sr : int
        Sample rate the model was trained at (to turn seconds into samples).

    Notes
    -----
    The mixture is divided by its standard deviation before the model and the estimates are
    multiplied by it after: the model sees the same level whatever the song's, and the
    separation is linear in the mixture's gain. Taught in ``08_waveform_separation``.
    """

    def __init__(self, model: WaveUNet1d, *, targets=STEMS, segment: float = 10.0, overlap: float = 1.0,
                 sr: int = 22050):
        super().__init__()
        targets = (targets,) if isinstance(targets, str) else tuple(targets)
        if len(targets) != model.n_sources:
            raise ValueError(f"The model predicts {model.n_sources} stems but {len(targets)} targets were named: "
                             f"{targets}.")
        if not 0 <= overlap < segment:
            raise ValueError(f"overlap must be in [0, segment), got overlap={overlap!r}, segment={segment!r}.")
        self.model = model
        self.targets = targets
        self.segment = float(segment)
        self.overlap = float(overlap)
        self.sr = audio.valid_int(sr, name="sr")

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def forward(self, mixture: torch.Tensor) -> torch.Tensor:
        """Separate a batch of mono mixtures in one pass (differentiable): the training path.

        Parameters
        ----------
        mixture : torch.Tensor, shape ``(batch, n_samples)``

        Returns
        -------
        torch.Tensor, shape ``(batch, n_targets, n_samples)``
        """
        n = mixture.shape[-1]
        scale = mixture.std(dim=-1, keepdim=True).clamp_min(1e-5)
        x = nn.functional.pad(mixture / scale, (0, -n % self.model.length_multiple))
        return self.model(x[:, None])[..., :n] * scale[:, None]

    def training_loss(self, mixture: torch.Tensor, targets: torch.Tensor, *, loss_fn=None, amp: bool = False):
        """The loss of one batch: ``loss_fn(estimates, targets)``, default :func:`waveform_l1`.

        Parameters
        ----------
        mixture : torch.Tensor, shape ``(batch, n_samples)``
        targets : torch.Tensor, shape ``(batch, n_targets, n_samples)``
        """
        with torch.autocast(mixture.device.type, dtype=torch.float16, enabled=amp):
            estimates = self(mixture)
        return (waveform_l1 if loss_fn is None else loss_fn)(estimates.float(), targets)

    def _segments(self, n: int) -> list[tuple[int, int]]:
        """``(start, stop)`` of the overlapping segments that cover ``n`` samples."""
        size = int(round(self.segment * self.sr))
        if n <= size:
            return [(0, n)]
        step = size - int(round(self.overlap * self.sr))
        starts = list(range(0, n - size, step)) + [n - size]
        return [(s, s + size) for s in starts]

    @torch.no_grad()
    def separate(self, mixture) -> np.ndarray:
        """Separate one mono song into the model's targets.

        Segments of ``segment`` seconds go through the model one at a time; where two overlap
        their estimates are cross-faded with linear weights (which sum to 1 everywhere).

        Parameters
        ----------
        mixture : np.ndarray, shape ``(n_samples,)``

        Returns
        -------
        np.ndarray, float32, shape ``(n_targets, n_samples)``
            In the order of ``self.targets``.

        Notes
        -----
        Taught in ``08_waveform_separation``.
        """
        y = audio.valid_array(mixture, name="mixture", ndim=1, shape="(a mono signal, (n_samples,))",
                              real=True).astype(np.float32, copy=False)
        was_training = self.model.training
        self.model.eval()
        try:
            segments = self._segments(y.size)
            out = np.zeros((len(self.targets), y.size), dtype=np.float64)
            weight = np.zeros(y.size)
            fade = int(round(self.overlap * self.sr))
            for start, stop in segments:
                piece = torch.from_numpy(y[start:stop]).to(self.device)[None]
                est = self(piece)[0].float().cpu().numpy()
                w = np.ones(stop - start)
                if len(segments) > 1 and fade:
                    ramp = np.linspace(0, 1, fade + 2)[1:-1]
                    if start > 0:
                        w[:fade] = ramp
                    if stop < y.size:
                        w[-fade:] = ramp[::-1]
                out[:, start:stop] += w * est
                weight[start:stop] += w
        finally:
            self.model.train(was_training)
        return (out / weight).astype(np.float32)


def pretrained(name: str = PRETRAINED, *, device=None) -> tuple[WaveSeparator, dict]:
    """A waveform model that ships with the course (``course_utils/checkpoints/<name>.pt``).

    Parameters
    ----------
    name : {"wave_tiny", "wave_tiny_no_lstm"}

    Returns
    -------
    separator : WaveSeparator
    metadata : dict
        How it was trained (the command, the training log's summary).

    Notes
    -----
    Taught in ``08_waveform_separation``.
    """
    return models.load(models.CHECKPOINT_DIR / f"{name}.pt", device=device)
