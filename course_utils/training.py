"""Training the U-Net and the waveform model: a remixing dataset, a plain training loop,
validation SDR, checkpoints.

- :class:`RemixDataset` draws random excerpts of the training songs and remixes their stems
  on the fly: every stem gets a random gain, and with probability ``p_incoherent`` each stem
  comes from a different song (an *incoherent* mixture), so the network sees far more
  mixtures than there are songs. Seeded: item ``i`` of epoch ``e`` is always the same.
- :func:`train` is the loop: the separator's own loss of each batch (for the U-Net, L1 between
  the masked mixture magnitude and the target magnitude; for the waveform model of notebook 08,
  L1 between the samples), Adam with a cosine learning-rate schedule, a tqdm progress bar, the validation
  SDR (:mod:`course_utils.metrics`, :func:`target_sdr`) after every epoch, the best model kept
  (optionally of an exponential moving average of the weights), early stopping, a time limit,
  mixed precision on a GPU, deterministic for a seed (on the CPU), resumable from its state
  file. Callbacks (e.g. :class:`LiveLossPlot`) see every step.
- ``python -m course_utils.training --help`` runs the same code from a terminal; it is how
  the shipped checkpoints were made (their command is stored in them).

Taught in ``05_unet_separation``; the waveform model is trained with it in ``08_waveform_separation``.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import display
from tqdm.auto import tqdm

from . import data, metrics, models, repro, spectral, waveform

__all__ = ["RemixDataset", "input_statistics", "masked_l1", "target_sdr", "validation_sdr", "TrainingLog",
           "LiveLossPlot", "train_epoch", "validate", "train", "DEFAULTS", "SCHEDULES", "main"]

DEFAULTS = dict(target="vocals", width=8, depth=5, n_bins=models.N_BINS, n_frames=128, batch_size=16,
                examples_per_epoch=256, epochs=40, lr=1e-3, weight_decay=0.0, patience=10, p_incoherent=0.5,
                gain_db=6.0, pitch_semitones=0.0, time_limit=540.0, ema=0.98, seed=0)
"""The default configuration, the one source of the defaults of :func:`train`,
:class:`RemixDataset`, :func:`build_separator` and ``python -m course_utils.training``, with which
the shipped checkpoints were trained (each with ``--target <stem> --half --time-limit 0``), and of
the benchmark. Trains in about two minutes on two unloaded CPU cores (early stopping after ~30 epochs)."""
SCHEDULES = ("cosine", None)
"""Learning-rate schedules of :func:`train`."""


# --------------------------------------------------------------------------------------------
# Data


class RemixDataset(torch.utils.data.Dataset):
    """Random excerpts of the training songs, remixed on the fly.

    Each item is a mixture excerpt and the target stems in it. The stems of an item come
    from one random song at one random offset (a *coherent* mixture, as recorded), or, with
    probability ``p_incoherent``, each from its own random song and offset (an *incoherent*
    mixture, which breaks the correlations a network could otherwise lean on). Every stem
    is scaled by a random gain of ``±gain_db`` dB and the mixture is their sum.

    Parameters
    ----------
    tracks : sequence of course_utils.data.Track
        Mono songs (the train split).
    targets : sequence of str
        Stems to return as targets, in order (names from :data:`course_utils.data.STEMS`).
    n_frames : int
        STFT frames per excerpt; the excerpt has ``(n_frames - 1) * hop_length`` samples.
    hop_length : int
        Of the STFT the model uses.
    examples_per_epoch : int
        Length of the dataset (items are drawn at random, so any length works).
    p_incoherent : float
        Probability of an incoherent mixture.
    gain_db : float
        Largest gain change of a stem, in dB (uniform in ``[-gain_db, gain_db]``).
    pitch_semitones : float
        Largest pitch shift in semitones (uniform in ``[-pitch_semitones, pitch_semitones]``),
        by resampling, which changes the tempo by the same factor; 0 (default) leaves the
        stems as they are. One shift for all stems of a coherent mixture, one per stem of an
        incoherent one.
    seed : int
        With the epoch (:meth:`set_epoch`) and the index, fixes every draw.

    Notes
    -----
    ``dataset[i]`` returns ``(mixture, targets)``: float32 tensors of shapes ``(n_samples,)``
    and ``(n_targets, n_samples)``. The STFT is left to the model's side (the Separator), so
    it runs on the GPU when there is one. Taught in ``05_unet_separation``.
    """

    def __init__(self, tracks, *, targets=(DEFAULTS["target"],), n_frames: int = DEFAULTS["n_frames"],
                 hop_length: int = spectral.HOP_LENGTH, examples_per_epoch: int = DEFAULTS["examples_per_epoch"],
                 p_incoherent: float = DEFAULTS["p_incoherent"], gain_db: float = DEFAULTS["gain_db"],
                 pitch_semitones: float = DEFAULTS["pitch_semitones"], seed: int = DEFAULTS["seed"]):
        tracks = list(tracks)
        if not tracks:
            raise ValueError("RemixDataset needs at least one track.")
        targets = (targets,) if isinstance(targets, str) else tuple(targets)
        unknown = set(targets) - set(data.STEMS)
        if unknown or not targets:
            raise ValueError(f"targets must be names from {data.STEMS}, got {targets}.")
        if not 0 <= p_incoherent <= 1:
            raise ValueError(f"p_incoherent must be in [0, 1], got {p_incoherent!r}.")
        if gain_db < 0:
            raise ValueError(f"gain_db must be >= 0, got {gain_db!r}.")
        if not 0 <= pitch_semitones <= 12:
            raise ValueError(f"pitch_semitones must be in [0, 12], got {pitch_semitones!r}.")
        self.n_samples = (int(n_frames) - 1) * int(hop_length)
        self.pitch_semitones = float(pitch_semitones)
        self.max_span = self._span(2 ** (self.pitch_semitones / 12))
        short = [t.name for t in tracks if t.mixture.shape[-1] < self.max_span]
        if n_frames < 2 or short:
            raise ValueError(f"Excerpts of {n_frames} frames ({self.max_span} samples before resampling) do not fit "
                             f"in {short}.")
        if any(t.mixture.ndim != 1 for t in tracks):
            raise ValueError("RemixDataset works on mono tracks (load_dataset(..., mono=True)).")
        self.sources = [np.stack([t.stems[s] for s in data.STEMS]).astype(np.float32) for t in tracks]
        self.names = [t.name for t in tracks]
        self.targets = targets
        self.target_index = [data.STEMS.index(s) for s in targets]
        self.n_frames = int(n_frames)
        self.examples_per_epoch = int(examples_per_epoch)
        self.p_incoherent = float(p_incoherent)
        self.gain_db = float(gain_db)
        self.seed = int(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the random draws of ``epoch`` (the training loop calls it)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.examples_per_epoch

    def _span(self, rate: float) -> int:
        """Samples read to make ``n_samples`` after resampling by ``rate``."""
        return int(math.ceil((self.n_samples - 1) * rate)) + 1

    def draw(self, index: int) -> dict:
        """The random choices behind item ``index`` of the current epoch.

        Returns
        -------
        dict
            ``incoherent`` (bool), and per stem (in :data:`course_utils.data.STEMS` order):
            ``songs`` (index into the tracks), ``offsets`` (first sample read), ``gains``
            (linear) and ``rates`` (resampling rate, 1 without pitch shifting).
        """
        rng = np.random.default_rng([self.seed, self.epoch, int(index)])
        n_stems = len(data.STEMS)
        incoherent = bool(rng.random() < self.p_incoherent)
        if incoherent:
            songs = rng.integers(len(self.sources), size=n_stems)
        else:
            songs = np.full(n_stems, rng.integers(len(self.sources)))
        gains = 10 ** (rng.uniform(-self.gain_db, self.gain_db, size=n_stems) / 20)
        if self.pitch_semitones > 0:  # one rate for a coherent mixture (the parts stay together)
            shifts = rng.uniform(-self.pitch_semitones, self.pitch_semitones, size=n_stems if incoherent else 1)
            rates = np.broadcast_to(2 ** (shifts / 12), (n_stems,)).copy()
        else:
            rates = np.ones(n_stems)
        spans = np.array([self._span(r) for r in rates])
        lengths = np.array([self.sources[s].shape[-1] for s in songs])
        offsets = rng.integers(0, lengths - spans + 1) if incoherent else \
            np.full(n_stems, rng.integers(0, (lengths - spans).min() + 1))
        return dict(incoherent=incoherent, songs=songs, offsets=offsets, gains=gains, rates=rates)

    def excerpt(self, song: int, stem: int, offset: int, rate: float) -> np.ndarray:
        """``n_samples`` of one stem from ``offset`` on, resampled by ``rate`` (linear interpolation).

        A rate above 1 reads more samples and squeezes them: pitch and tempo go up by that factor.
        """
        x = self.sources[song][stem]
        if rate == 1:
            return x[offset:offset + self.n_samples]
        span = self._span(rate)
        return np.interp(np.arange(self.n_samples) * rate, np.arange(span), x[offset:offset + span]).astype(np.float32)

    def __getitem__(self, index: int):
        if not 0 <= index < len(self):
            raise IndexError(index)
        d = self.draw(index)
        stems = np.stack([self.excerpt(s, k, o, r) * g
                          for k, (s, o, g, r) in enumerate(zip(d["songs"], d["offsets"], d["gains"], d["rates"]))])
        stems = stems.astype(np.float32)
        mixture = stems.sum(axis=0)
        return torch.from_numpy(mixture), torch.from_numpy(stems[self.target_index])


def input_statistics(tracks, *, n_bins: int = models.N_BINS, n_fft: int = spectral.N_FFT,
                     hop_length: int = spectral.HOP_LENGTH) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of ``log(|Y| + LOG_EPS)`` per frequency bin over the mixtures.

    Parameters
    ----------
    tracks : sequence of course_utils.data.Track
    n_bins, n_fft, hop_length : int

    Returns
    -------
    mean, scale : np.ndarray, float32, shape ``(n_bins,)``
        For :meth:`course_utils.models.UNet.set_input_statistics`.

    Notes
    -----
    Taught in ``05_unet_separation``.
    """
    logs = [np.log(np.abs(spectral.stft(t.mixture, n_fft=n_fft, hop_length=hop_length))[:n_bins] + models.LOG_EPS)
            for t in tracks]
    allv = np.concatenate(logs, axis=-1)
    return allv.mean(axis=-1).astype(np.float32), np.maximum(allv.std(axis=-1), 1e-3).astype(np.float32)


def masked_l1(masks: torch.Tensor, mixture_mag: torch.Tensor, target_mag: torch.Tensor) -> torch.Tensor:
    """The training loss: mean ``| M ⊙ |Y| - |X| |`` over sources, bins, frames and the batch.

    Parameters
    ----------
    masks : torch.Tensor, shape ``(batch, n_targets, n_freq, n_frames)``
    mixture_mag : torch.Tensor, shape ``(batch, n_freq, n_frames)``
    target_mag : torch.Tensor, shape ``(batch, n_targets, n_freq, n_frames)``

    Returns
    -------
    torch.Tensor, scalar

    Notes
    -----
    As in Jansson et al. (2017). Taught in ``05_unet_separation``.
    """
    return (masks * mixture_mag[:, None] - target_mag).abs().mean()


def target_sdr(track, estimate, *, target: str = "vocals", filter_length: int | None = None) -> float:
    """BSS Eval SDR (dB) of one estimated stem of a song.

    Scored with :func:`course_utils.metrics.bss_eval` (512-tap distortion filters, whole song)
    against two references: the target and the rest of the mixture. A source's SDR depends
    only on how much of the estimate its own reference explains, so this is the same number
    as scoring against all four stems, at a fraction of the cost.

    Parameters
    ----------
    track : course_utils.data.Track
        A mono song (its ``mixture`` and ``stems``).
    estimate : np.ndarray, shape ``(n,)`` with ``n <= len(track.mixture)``
        The estimated stem; a shorter estimate is scored against the song's first ``n`` samples.
    target : str
        Which stem it estimates.
    filter_length : int, optional
        Distortion filter taps (default 512).

    Returns
    -------
    float

    Notes
    -----
    Taught in ``05_unet_separation``.
    """

    estimate = np.asarray(estimate)
    if estimate.ndim != 1 or estimate.size > track.mixture.shape[-1]:
        raise ValueError(f"estimate must be one mono signal no longer than the song ({track.mixture.shape[-1]} "
                         f"samples), got shape {estimate.shape}.")
    if target not in track.stems:
        raise ValueError(f"The track has no stem {target!r}; it has {list(track.stems)}.")
    n = estimate.size
    truth = track.stems[target][:n]
    refs = np.stack([truth, track.mixture[:n] - truth])
    filter_length = metrics.FILTER_LENGTH if filter_length is None else filter_length
    return float(metrics.bss_eval(refs, estimate[None], filter_length=filter_length,
                                  names=[target, "rest"]).sdr[0])


def validation_sdr(separator: models.Separator, tracks, *, duration: float | None = None,
                   filter_length: int | None = None) -> dict[str, float]:
    """Median SDR (dB) over ``tracks`` of each of the separator's targets (:func:`target_sdr`).

    Parameters
    ----------
    separator : course_utils.models.Separator
    tracks : sequence of course_utils.data.Track
    duration : float, optional
        Score only the first ``duration`` seconds (faster).
    filter_length : int, optional
        Distortion filter taps (default 512).

    Returns
    -------
    dict
        Target name to median SDR in dB.

    Notes
    -----
    Taught in ``05_unet_separation``.
    """
    scores = {t: [] for t in separator.targets}
    for track in tracks:
        n = track.mixture.shape[-1] if duration is None else int(round(duration * track.sr))
        estimates = separator.separate(track.mixture[:n])
        for k, target in enumerate(separator.targets):
            scores[target].append(target_sdr(track, estimates[k], target=target, filter_length=filter_length))
    return {t: float(np.nanmedian(v)) for t, v in scores.items()}


# --------------------------------------------------------------------------------------------
# The log and the live plot


@dataclass
class TrainingLog:
    """What :func:`train` did, step by step and epoch by epoch (plain lists, easy to plot).

    Attributes
    ----------
    steps : list of dict
        One per optimisation step: ``step``, ``epoch``, ``loss``, ``time`` (s since start).
    epochs : list of dict
        One per epoch: ``epoch``, ``train_loss`` (mean), ``valid_sdr`` (mean over targets of
        the median SDR, dB), ``valid`` (per target), ``time``, ``examples_per_s``, ``best``.
    best_epoch : int or None
    stopped : str
        Why training ended (``"epochs"``, ``"early stopping"``, ``"time limit"``).
    config : dict
        The settings of the run.
    """

    steps: list = field(default_factory=list)
    epochs: list = field(default_factory=list)
    best_epoch: int | None = None
    stopped: str = ""
    config: dict = field(default_factory=dict)

    @property
    def best_sdr(self) -> float:
        if self.best_epoch is None:
            return float("nan")
        return next(e["valid_sdr"] for e in self.epochs if e["epoch"] == self.best_epoch)

    def to_dict(self) -> dict:
        return dict(steps=self.steps, epochs=self.epochs, best_epoch=self.best_epoch, stopped=self.stopped,
                    config=self.config)

    @classmethod
    def from_dict(cls, d: dict) -> TrainingLog:
        return cls(steps=list(d["steps"]), epochs=list(d["epochs"]), best_epoch=d["best_epoch"],
                   stopped=d.get("stopped", ""), config=dict(d.get("config", {})))

    def save(self, path) -> Path:
        """Write the log as JSON."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1))
        return path

    @classmethod
    def load(cls, path) -> TrainingLog:
        return cls.from_dict(json.loads(Path(path).read_text()))


class LiveLossPlot:
    """A training-curve figure that redraws itself in place while :func:`train` runs.

    In Jupyter the figure is displayed once and then updated (``display_id``); without a
    front end (nbval, a terminal) the updates cost little and the final figure remains.

    Parameters
    ----------
    every : int
        Redraw after this many steps (and after every epoch).
    title : str

    Notes
    -----
    Pass it in ``train(..., callbacks=[LiveLossPlot()])``. Taught in ``05_unet_separation``.
    """

    def __init__(self, *, every: int = 4, title: str = "Training"):
        self.every = max(1, int(every))
        self.title = title
        self.handle = None
        self.fig = None

    def _draw(self, log: TrainingLog) -> None:
        if self.fig is None:
            self.fig, (self.ax_loss, self.ax_sdr) = plt.subplots(1, 2, figsize=(11, 3.6), layout="constrained")
            plt.close(self.fig)  # shown through the display handle only
        ax, ax2 = self.ax_loss, self.ax_sdr
        ax.clear(), ax2.clear()
        if log.steps:
            t = np.array([s["step"] for s in log.steps])
            loss = np.array([s["loss"] for s in log.steps])
            ax.plot(t, loss, color="0.7", lw=0.8, label="each step")
            k = min(16, len(loss))
            smooth = np.convolve(loss, np.ones(k) / k, mode="valid")
            ax.plot(t[k - 1:], smooth, color="C0", lw=1.6, label=f"mean of {k} steps")
        ax.set(xlabel="Step", ylabel="L1 loss (magnitude)", title=f"{self.title}: training loss")
        ax.legend(loc="upper right")
        if log.epochs:
            ep = [e["epoch"] for e in log.epochs]
            ax2.plot(ep, [e["valid_sdr"] for e in log.epochs], "o-", color="C3", label="validation SDR")
            if log.best_epoch is not None:
                ax2.axvline(log.best_epoch, color="0.5", ls="--", lw=1, label=f"best (epoch {log.best_epoch})")
            ax2.legend(loc="lower right")
        ax2.set(xlabel="Epoch", ylabel="SDR (dB)", title="Validation SDR (median over songs)\n"
                f"{metrics.DEFINITIONS['sources']}")

        if self.handle is None:
            self.handle = display(self.fig, display_id=True)
        elif self.handle is not None:
            self.handle.update(self.fig)

    def __call__(self, log: TrainingLog, event: str) -> None:
        if event == "epoch" or (event == "step" and len(log.steps) % self.every == 0):
            self._draw(log)


# --------------------------------------------------------------------------------------------
# The loop


def _device(device) -> torch.device:
    if device is None:
        return repro.pick_device()
    return torch.device(device)


def _state_dict_copy(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _cosine(total_steps: int):
    """Learning-rate factor after ``step`` steps: half a cosine from 1 down to 1/50."""
    return lambda step: 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(step, total_steps) / total_steps))


@dataclass
class _Run:
    """What a training run carries from epoch to epoch, and what ``state_path`` stores."""

    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    scaler: torch.amp.GradScaler
    log: TrainingLog
    averaged: dict | None  # the moving average of the weights (``ema``), or None
    best_state: dict | None = None
    best_score: float | None = None
    bad_epochs: int = 0
    epoch: int = 0  # the last epoch completed
    elapsed: float = 0.0  # seconds of training before this process (a resumed run)

    def save(self, path, model_state: dict) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        torch.save(dict(model=model_state, optimizer=self.optimizer.state_dict(), scaler=self.scaler.state_dict(),
                        scheduler=self.scheduler.state_dict(), log=self.log.to_dict(), best_state=self.best_state,
                        best_score=self.best_score, averaged=self.averaged, epoch=self.epoch,
                        bad_epochs=self.bad_epochs, elapsed=self.elapsed, torch_rng=torch.get_rng_state()), path)

    def resume(self, path, model) -> None:
        state = torch.load(path, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        for part in ("optimizer", "scheduler", "scaler"):
            getattr(self, part).load_state_dict(state[part])
        self.log = TrainingLog.from_dict(state["log"])
        for key in ("best_state", "best_score", "averaged", "epoch", "bad_epochs", "elapsed"):
            setattr(self, key, state[key])
        torch.set_rng_state(state["torch_rng"])


def train_epoch(separator: models.Separator, loader, run: _Run, *, epoch: int, loss_fn, device, amp: bool,
                ema: float | None, start_time: float, callbacks=(), progress: bool = True) -> list[float]:
    """One pass over the remixed examples: the separator's loss of each batch
    (:meth:`course_utils.models.Separator.training_loss`: spectrograms, masks, masked loss; or
    :meth:`course_utils.waveform.WaveSeparator.training_loss`), one Adam step per batch.

    After every step the moving average of the weights is updated (with ``ema``), a row is
    added to ``run.log.steps`` and the callbacks are called with ``"step"``.

    Returns
    -------
    list of float
        The loss of every batch.

    Notes
    -----
    Taught in ``05_unet_separation``.
    """

    model = separator.model
    model.train()
    losses = []
    bar = tqdm(loader, desc=f"epoch {epoch}", leave=False, disable=not progress)
    for mixture, targets in bar:
        mixture, targets = mixture.to(device), targets.to(device)
        loss = separator.training_loss(mixture, targets, loss_fn=loss_fn, amp=amp)
        run.optimizer.zero_grad(set_to_none=True)
        run.scaler.scale(loss).backward()
        run.scaler.step(run.optimizer)
        run.scaler.update()
        run.scheduler.step()
        if run.averaged is not None:
            with torch.no_grad():
                for k, v in model.state_dict().items():
                    if v.is_floating_point():
                        run.averaged[k].mul_(ema).add_(v.detach(), alpha=1 - ema)
                    else:
                        run.averaged[k].copy_(v)
        losses.append(loss.item())
        run.log.steps.append(dict(step=len(run.log.steps) + 1, epoch=epoch, loss=losses[-1],
                                  lr=run.scheduler.get_last_lr()[0], time=time.perf_counter() - start_time))
        bar.set_postfix(loss=f"{losses[-1]:.4f}")
        for cb in callbacks:
            cb(run.log, "step")
    return losses


def validate(separator: models.Separator, valid_tracks, *, losses, duration: float | None = None):
    """The validation scores of the model as it is, and the one number that picks the best epoch.

    Returns
    -------
    valid : dict
        :func:`validation_sdr` per target (empty without validation songs).
    score : float
        Their mean; without validation songs minus the mean training loss of the epoch.

    Notes
    -----
    Taught in ``05_unet_separation``.
    """
    valid = validation_sdr(separator, valid_tracks, duration=duration) if len(valid_tracks) else {}
    score = float(np.mean(list(valid.values()))) if valid else -float(np.mean(losses))
    return valid, score


def _keep_if_best(separator, run: _Run, score: float, valid: dict, *, epoch: int, best_path, metadata) -> bool:
    """Early stopping's bookkeeping: keep (and write) the weights if ``score`` is the best yet."""
    if run.best_score is not None and score <= run.best_score:
        run.bad_epochs += 1
        return False
    run.best_score, run.bad_epochs = score, 0
    run.log.best_epoch = epoch
    run.best_state = _state_dict_copy(separator.model)
    if best_path is not None:
        models.save(best_path, separator.model, targets=separator.targets, epoch=epoch, valid_sdr=valid,
                    **(metadata or {}))
    return True


def train(separator: models.Separator, train_set: RemixDataset, valid_tracks=(), *,
          epochs: int = DEFAULTS["epochs"], batch_size: int = DEFAULTS["batch_size"], lr: float = DEFAULTS["lr"],
          weight_decay: float = DEFAULTS["weight_decay"], schedule: str | None = "cosine",
          patience: int | None = DEFAULTS["patience"], loss=None, ema: float | None = DEFAULTS["ema"],
          time_limit: float | None = DEFAULTS["time_limit"], device=None, amp: bool | None = None,
          seed: int = DEFAULTS["seed"], valid_duration: float | None = None, best_path=None, state_path=None,
          resume: bool = False, callbacks=(), progress: bool = True, verbose: bool | None = None,
          metadata: dict | None = None) -> TrainingLog:
    """Train a Separator's model on a remixing dataset: L1 on the masked magnitude, Adam.

    Each epoch is one :func:`train_epoch`; then the model separates the validation songs and is
    scored (:func:`validate`); the best model so far is kept (and written to ``best_path``),
    and training stops early after ``patience`` epochs without improvement. At the end the
    model holds the best weights. The defaults are :data:`DEFAULTS`.

    Parameters
    ----------
    separator : course_utils.models.Separator or course_utils.waveform.WaveSeparator
        Its model is trained in place; its ``training_loss`` says what a batch costs.
    train_set : RemixDataset
    valid_tracks : sequence of course_utils.data.Track
        Songs to score after every epoch (none: no validation, the last epoch is kept).
    epochs : int
        Most epochs to run.
    batch_size, lr, weight_decay
        Batch size and Adam's settings.
    schedule : {"cosine", None}
        ``"cosine"``: the learning rate falls from ``lr`` to ``lr / 50`` along half a cosine over
        the ``epochs`` (step by step); None: constant.
    patience : int or None
        Early stopping: epochs without a better validation SDR before stopping (None: never).
    loss : callable, optional
        For the U-Net, ``loss(masks, mixture_mag, target_mag) -> scalar tensor``, default
        :func:`masked_l1`; for a waveform model, ``loss(estimates, targets)``, default
        :func:`course_utils.waveform.waveform_l1`.
    ema : float or None
        Keep an exponential moving average of the weights (and batch-norm statistics),
        ``avg = ema * avg + (1 - ema) * weights`` after every step, and validate, keep and
        return the average instead of the raw weights (smoother than the last step's).
        None: no averaging.
    time_limit : float or None
        Seconds: no epoch is started that would, at the pace so far, end after this (None: no limit).
    device : str or torch.device, optional
        Default: the GPU when there is one (:func:`course_utils.repro.pick_device`).
    amp : bool, optional
        Mixed precision (float16 autocast); default on for CUDA, off on the CPU.
    seed : int
        Seeds dropout and the dataset's draws: the same seed gives the same run (on the CPU).
    valid_duration : float, optional
        Score only the first seconds of each validation song.
    best_path : path, optional
        Write the best model there (:func:`course_utils.models.save`) whenever it improves.
    state_path : path, optional
        Write the full training state (model, optimiser, log, random state) there after every
        epoch; with ``resume=True`` continue from it if it exists.
    resume : bool
        Continue from ``state_path``. A resumed run ends exactly as an uninterrupted one (CPU).
    callbacks : sequence of callables
        Each called as ``callback(log, event)`` with ``event`` ``"step"`` or ``"epoch"``.
    progress : bool
        Show a tqdm progress bar.
    verbose : bool, optional
        Print one line per epoch (loss, validation SDR); default: as ``progress``.
    metadata : dict, optional
        Extra values stored with the best model.

    Returns
    -------
    TrainingLog

    Notes
    -----
    Taught in ``05_unet_separation``.
    """

    verbose = progress if verbose is None else bool(verbose)
    device = _device(device)
    amp = (device.type == "cuda") if amp is None else bool(amp)
    if amp and device.type != "cuda":
        raise ValueError("Mixed precision (amp=True) is for CUDA devices; on the CPU leave amp=None or False.")
    if ema is not None and not 0 < ema < 1:
        raise ValueError(f"ema must be in (0, 1), got {ema!r}.")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}.")
    model = separator.model.to(device)
    loader = torch.utils.data.DataLoader(train_set, batch_size=batch_size, shuffle=False, drop_last=True)
    if len(loader) == 0:
        raise ValueError(f"examples_per_epoch={len(train_set)} is smaller than batch_size={batch_size}.")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    factor = _cosine(epochs * len(loader)) if schedule == "cosine" else (lambda step: 1.0)
    config = dict(epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay, schedule=schedule, ema=ema,
                  patience=patience, time_limit=time_limit, seed=seed, amp=amp, device=str(device),
                  targets=list(separator.targets), model=dict(model.config), n_frames=train_set.n_frames,
                  examples_per_epoch=len(train_set), p_incoherent=train_set.p_incoherent, gain_db=train_set.gain_db)
    run = _Run(optimizer=optimizer, scheduler=torch.optim.lr_scheduler.LambdaLR(optimizer, factor),
               scaler=torch.amp.GradScaler("cuda", enabled=amp), log=TrainingLog(config=config),
               averaged=_state_dict_copy(model) if ema is not None else None)
    torch.manual_seed(seed)
    if resume and state_path is not None and Path(state_path).is_file():
        run.resume(state_path, model)
    log = run.log
    start_time = time.perf_counter() - run.elapsed
    cpu_start = time.process_time() - (log.epochs[-1]["cpu_time"] if log.epochs else 0.0)
    log.stopped = "epochs"
    for epoch in range(run.epoch + 1, epochs + 1):
        pace = [e["epoch_time"] for e in log.epochs]
        if time_limit is not None and pace and time.perf_counter() - start_time + float(np.mean(pace)) > time_limit:
            log.stopped = "time limit"
            break
        t0 = time.perf_counter()
        train_set.set_epoch(epoch)
        losses = train_epoch(separator, loader, run, epoch=epoch, loss_fn=loss,
                             device=device, amp=amp, ema=ema, start_time=start_time, callbacks=callbacks,
                             progress=progress)
        train_time = time.perf_counter() - t0
        raw = _state_dict_copy(model) if run.averaged is not None else None
        if raw is not None:  # validate (and keep) the averaged weights
            model.load_state_dict(run.averaged)
        valid, score = validate(separator, valid_tracks, losses=losses, duration=valid_duration)
        improved = _keep_if_best(separator, run, score, valid, epoch=epoch, best_path=best_path, metadata=metadata)
        log.epochs.append(dict(epoch=epoch, train_loss=float(np.mean(losses)), valid_sdr=score if valid else None,
                               valid=valid, time=time.perf_counter() - start_time, epoch_time=time.perf_counter() - t0,
                               cpu_time=time.process_time() - cpu_start,
                               examples_per_s=len(losses) * batch_size / train_time, best=improved))
        run.epoch, run.elapsed = epoch, time.perf_counter() - start_time
        if state_path is not None:
            run.save(state_path, raw if raw is not None else model.state_dict())
        if verbose:
            scores = " | valid SDR " + ", ".join(f"{k} {v:.2f} dB" for k, v in valid.items()) if valid else ""
            tqdm.write(f"epoch {epoch}: loss {np.mean(losses):.4f}{scores}" + (" (best)" if improved else ""))
        for cb in callbacks:
            cb(log, "epoch")  # the model holds the weights just validated
        if raw is not None:
            model.load_state_dict(raw)  # back to the raw weights to go on training
        if patience is not None and run.bad_epochs >= patience:
            log.stopped = "early stopping"
            break
    if run.best_state is not None:
        model.load_state_dict(run.best_state)
    model.eval()
    return log


# --------------------------------------------------------------------------------------------
# Command line: the same code as the notebook


MODELS = ("unet", "wave")
"""What :func:`build_separator` builds: the spectrogram U-Net (notebook 05) or the waveform model (08)."""


def build_separator(train_tracks, *, target=DEFAULTS["target"], model: str = "unet", width: int | None = None,
                    depth: int | None = None, n_bins: int = DEFAULTS["n_bins"], lstm_layers: int = 2,
                    glu: bool = True):
    """A fresh model wrapped in its Separator: the U-Net (input statistics from ``train_tracks``)
    or the waveform model.

    Parameters
    ----------
    train_tracks : sequence of course_utils.data.Track
    target : str or sequence of str
        The stem(s) to separate; one mask (or one waveform) each.
    model : {"unet", "wave"}
        :class:`course_utils.models.UNet` or :class:`course_utils.waveform.WaveUNet1d`.
    width, depth : int, optional
        Of either model; default: the model's own (U-Net: :data:`DEFAULTS`).
    n_bins : int
        The U-Net's bins (:class:`course_utils.models.UNet`).
    lstm_layers, glu
        The waveform model's BiLSTM layers and gates (:class:`course_utils.waveform.WaveUNet1d`).

    Returns
    -------
    course_utils.models.Separator or course_utils.waveform.WaveSeparator

    Notes
    -----
    Taught in ``05_unet_separation`` and ``08_waveform_separation``.
    """
    targets = (target,) if isinstance(target, str) else tuple(target)
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}.")
    if model == "wave":
        sizes = {k: v for k, v in dict(width=width, depth=depth).items() if v is not None}
        net = waveform.WaveUNet1d(n_sources=len(targets), lstm_layers=lstm_layers, glu=glu, **sizes)
        return waveform.WaveSeparator(net, targets=targets, sr=train_tracks[0].sr)
    net = models.UNet(n_sources=len(targets), width=DEFAULTS["width"] if width is None else width,
                      depth=DEFAULTS["depth"] if depth is None else depth, n_bins=n_bins)
    net.set_input_statistics(*input_statistics(train_tracks, n_bins=n_bins))
    return models.Separator(net, targets=targets)


__all__ += ["MODELS", "build_separator"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m course_utils.training",
                                description="Train the course's U-Net (notebook 05) or waveform model (08) on "
                                            "the bundled set.")
    d = DEFAULTS
    p.add_argument("--target", default=d["target"], nargs="+", choices=data.STEMS, help="stem(s) to separate")
    p.add_argument("--out", required=True, help="where to write the best model (.pt)")
    p.add_argument("--log", help="training log (JSON); default: next to --out, .log.json")
    p.add_argument("--dataset", default="bundled", choices=data.DATASETS)
    p.add_argument("--model", default="unet", choices=MODELS, help="the spectrogram U-Net or the waveform model")
    p.add_argument("--width", type=int, default=None, help="default: the model's own")
    p.add_argument("--depth", type=int, default=None, help="default: the model's own")
    p.add_argument("--lstm-layers", type=int, default=2, help="waveform model: BiLSTM layers (0: none)")
    p.add_argument("--no-glu", action="store_true", help="waveform model: ReLU instead of gated linear units")
    p.add_argument("--n-bins", type=int, default=d["n_bins"])
    p.add_argument("--n-frames", type=int, default=d["n_frames"], help="frames per training excerpt")
    p.add_argument("--batch-size", type=int, default=d["batch_size"])
    p.add_argument("--examples-per-epoch", type=int, default=d["examples_per_epoch"])
    p.add_argument("--epochs", type=int, default=d["epochs"])
    p.add_argument("--lr", type=float, default=d["lr"])
    p.add_argument("--schedule", default="cosine", choices=["cosine", "none"], help="learning-rate schedule")
    p.add_argument("--ema", type=float, default=d["ema"], help="average the weights with this decay per step")
    p.add_argument("--patience", type=int, default=d["patience"])
    p.add_argument("--p-incoherent", type=float, default=d["p_incoherent"])
    p.add_argument("--gain-db", type=float, default=d["gain_db"])
    p.add_argument("--pitch-semitones", type=float, default=d["pitch_semitones"])
    p.add_argument("--weight-decay", type=float, default=d["weight_decay"])
    p.add_argument("--time-limit", type=float, default=d["time_limit"], help="seconds (0: none)")
    p.add_argument("--seed", type=int, default=d["seed"])
    p.add_argument("--device", default=None, help="cpu or cuda (default: the GPU if there is one)")
    p.add_argument("--state", help="training state file, written every epoch (for --resume)")
    p.add_argument("--resume", action="store_true", help="continue from --state")
    p.add_argument("--half", action="store_true", help="store the weights as float16 (half the size)")
    p.add_argument("--quiet", action="store_true", help="no progress bar (one line per epoch only)")
    return p


def main(argv=None) -> TrainingLog:
    """Entry point of ``python -m course_utils.training``: train, save the best model and the log."""
    args = _parser().parse_args(argv)
    argv = sys.argv[1:] if argv is None else list(argv)

    repro.seed_everything(args.seed)
    train_tracks = data.load_dataset(args.dataset, split="train")
    valid_tracks = data.load_dataset(args.dataset, split="valid")
    separator = build_separator(train_tracks, target=args.target, model=args.model, width=args.width,
                                depth=args.depth, n_bins=args.n_bins, lstm_layers=args.lstm_layers,
                                glu=not args.no_glu)
    dataset = RemixDataset(train_tracks, targets=separator.targets, n_frames=args.n_frames,
                           examples_per_epoch=args.examples_per_epoch, p_incoherent=args.p_incoherent,
                           gain_db=args.gain_db, pitch_semitones=args.pitch_semitones, seed=args.seed)
    command = "python -m course_utils.training " + shlex.join(argv)
    log = train(separator, dataset, valid_tracks, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                weight_decay=args.weight_decay,
                schedule=None if args.schedule == "none" else args.schedule, ema=args.ema,
                patience=args.patience, time_limit=args.time_limit or None, device=args.device, seed=args.seed,
                state_path=args.state, resume=args.resume, progress=not args.quiet, verbose=True)
    log.config["command"] = command
    out = Path(args.out)
    log_path = Path(args.log) if args.log else out.with_suffix(".log.json")
    summary = dict(command=command, best_epoch=log.best_epoch, valid_sdr=log.best_sdr, stopped=log.stopped,
                   epochs_run=len(log.epochs), train_seconds=round(log.epochs[-1]["time"], 1) if log.epochs else 0,
                   device=log.config["device"], torch=str(torch.__version__), log=log_path.name)
    models.save(out, separator.model, targets=separator.targets, half=args.half, **summary)
    log.save(log_path)
    print(f"best epoch {log.best_epoch} of {len(log.epochs)} ({log.stopped}): validation SDR "
          f"{log.best_sdr:.2f} dB -> {out} ({out.stat().st_size / 1e6:.2f} MB), log {log_path}")
    return log


if __name__ == "__main__":
    main()
