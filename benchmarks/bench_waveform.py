"""Benchmark of notebook 08's waveform model, side by side with the U-Net and Hybrid Demucs.

On the same machine, in one run:

- separation speed (seconds of music per second of computing, all four stems, one mono song of
  30 s at 22050 Hz made of the bundled test songs end to end): the shipped waveform model, the
  four shipped U-Nets of notebook 05, and Hybrid Demucs (``torchaudio.models.hdemucs_high``, the
  network a user would download instead, run through the course's chunked inference at its
  44.1 kHz in stereo; random weights: its speed does not depend on them);
- training throughput (examples of 1.5 s per second, forward and backward, batch 16): the
  waveform model for four stems against one U-Net for one stem, on the CPU and, when there is
  one, on the GPU;
- the test SDR per stem (BSS Eval "sources", whole songs, median over the bundled test songs)
  of the shipped waveform model, its ablation without the BiLSTM, the U-Nets and the ideal
  ratio mask, and the parameters of each model.

    python benchmarks/bench_waveform.py [--quick] [--json PATH]

``--quick`` separates 5 s, times a few steps and scores two songs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course_utils import data, methods, metrics, models, repro, state_of_the_art, training, waveform  # noqa: E402


def realtime_factor(separate, mixture: np.ndarray, sr: int, *, repeat: int) -> float:
    """Seconds of ``mixture`` separated per second of wall time (best of ``repeat`` after one warm-up)."""
    separate(mixture[: sr])
    best = min(_timed(separate, mixture) for _ in range(repeat))
    return mixture.size / sr / best


def _timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def training_rate(separator, dataset, *, device, steps: int, batch_size: int = 16) -> float:
    """Training examples per second: ``steps`` Adam steps on batches of the remixing dataset."""
    separator.to(device).train()
    optimizer = torch.optim.Adam(separator.model.parameters(), lr=1e-3)
    batches = [torch.utils.data.default_collate([dataset[i * batch_size + k] for k in range(batch_size)])
               for i in range(steps + 1)]

    def step(mixture, targets):
        loss = separator.training_loss(mixture.to(device), targets.to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    step(*batches[0])  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for mixture, targets in batches[1:]:
        step(mixture, targets)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * batch_size / (time.perf_counter() - start)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 5 s of music, few steps, two songs")
    parser.add_argument("--json", type=Path, help="write the harness's JSON here")
    args = parser.parse_args(argv)
    repro.seed_everything(0)
    sr = data.COURSE_SR
    tests = data.load_dataset("bundled", split="test", sr=sr)
    seconds = 5.0 if args.quick else 30.0
    song = np.concatenate([t.mixture for t in tests])[: int(seconds * sr)]
    repeat = 1 if args.quick else 2
    rows = []

    # separation speed, the same song for the three
    wave, _ = waveform.pretrained()
    unets = [models.pretrained(s)[0] for s in data.STEMS]
    import torchaudio

    demucs = torchaudio.models.hdemucs_high(sources=["drums", "bass", "other", "vocals"]).eval()
    speeds = {
        "waveform model (shipped)": realtime_factor(wave.separate, song, sr, repeat=repeat),
        "U-Net x 4 stems (shipped)": realtime_factor(lambda y: [u.separate(y) for u in unets], song, sr, repeat=repeat),
        "Hybrid Demucs (torchaudio hdemucs_high)": realtime_factor(
            lambda y: state_of_the_art.separate_waveform(demucs, y, sr=sr), song, sr, repeat=1),
    }
    for name, value in speeds.items():
        rows.append(dict(figure=f"separation speed, {name}", value=value, unit="x real time", kind="rate",
                         note=f"{seconds:g} s mono at {sr} Hz, CPU"))
    sizes = {"waveform model (shipped)": models.count_parameters(wave.model),
             "U-Net x 4 stems (shipped)": sum(models.count_parameters(u.model) for u in unets),
             "Hybrid Demucs (torchaudio hdemucs_high)": models.count_parameters(demucs)}
    for name, value in sizes.items():
        rows.append(dict(figure=f"parameters, {name}", value=value, unit="", kind="count"))

    # training throughput, CPU and GPU
    train_tracks = data.load_dataset("bundled", split="train", sr=sr)[:8]
    steps = 2 if args.quick else 8
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    for device in devices:
        for name, target, model in (("waveform model, 4 stems", data.STEMS, "wave"), ("U-Net, 1 stem", ("vocals",), "unet")):
            separator = training.build_separator(train_tracks, target=target, model=model)
            dataset = training.RemixDataset(train_tracks, targets=target, examples_per_epoch=16 * (steps + 1))
            rate = training_rate(separator, dataset, device=device, steps=steps)
            rows.append(dict(figure=f"training throughput, {name} ({device.type})", value=rate, unit="examples/s",
                             kind="rate", note="1.5 s excerpts, batch 16"))
    if len(devices) == 1:
        rows.append(dict(figure="training throughput on a GPU", value="not measured", unit="", kind="flag",
                         note="no GPU on this machine"))

    # scores on the test songs
    songs = tests[:2] if args.quick else tests
    compared = {"waveform model": methods.waveform(), "waveform model, no BiLSTM":
                methods.waveform(waveform.PRETRAINED_ABLATION), "U-Net": methods.unet(),
                "ideal ratio mask": methods.oracle("irm"), "mixture": methods.mixture()}
    sdr = metrics.summarise(metrics.evaluate(songs, compared, definition="sources"), metric="SDR", sources=data.STEMS)
    for name in compared:
        for stem in data.STEMS:
            rows.append(dict(figure=f"test SDR, {name}: {stem}", value=round(float(sdr.loc[name, stem]), 2), unit="dB",
                             kind="value", note=f"median over {len(songs)} bundled test songs, whole songs"))
    ok = bool((sdr.loc["waveform model"] > sdr.loc["mixture"]).all())
    rows.append(dict(figure="waveform model beats the mixture on every stem", value=int(ok), unit="", kind="flag",
                     note="must be 1"))

    width = max(len(r["figure"]) for r in rows)
    for r in rows:
        value = r["value"] if isinstance(r["value"], str) else f"{r['value']:,.3g}" if r["kind"] != "count" \
            else f"{r['value']:,}"
        print(f"{r['figure']:<{width}}  {value:>12} {r['unit']}")
    if args.json:
        args.json.write_text(json.dumps(dict(name="waveform", ok=ok, rows=rows,
                                             details=dict(sdr=sdr.round(3).to_dict()))))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
