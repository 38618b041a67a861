"""Benchmark of notebook 05's U-Net: train the default configuration, then measure it.

Trains one model per stem (vocals, drums, bass, other; the command of the shipped checkpoints),
then prints the number of parameters, training and inference throughput (examples per second),
the time the vocals training took to reach the target, the final test SDR per source next to
the mixture baseline and the oracle masks (same STFT), and the peak memory.

The target (the course's promise): full-mode training on a 2-core CPU in at most 10 minutes
reaches a median vocals SDR on the bundled test split of at least 80 % of the ideal ratio
mask's, and beats the mixture on every test song. Scores are BSS Eval SDR (512-tap filters,
whole songs) from course_utils.metrics; the oracle masks come from course_utils.masks.

    python benchmarks/bench_unet.py                   # the real run (2-3 minutes per stem on 2 cores)
    python benchmarks/bench_unet.py --target vocals   # one stem only
    python benchmarks/bench_unet.py --quick           # a smoke run of a few seconds
    python benchmarks/bench_unet.py --json out.json   # also write the numbers for a harness
    python benchmarks/bench_unet.py --shipped         # score the shipped checkpoint(s), no training

It uses the GPU when there is one (course_utils.repro.pick_device; COURSE_DEVICE=cpu forces the CPU).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course_utils import data, masks, models, repro, training  # noqa: E402

TARGET_FRACTION = 0.8
TIME_BUDGET = 600.0  # seconds of training allowed by the target


def sdr_of(track, target: str, estimate: np.ndarray) -> float:
    """BSS Eval SDR of one estimated stem (the same as against all four stems, see training.target_sdr)."""
    return training.target_sdr(track, estimate, target=target)


def baselines(tracks, targets) -> dict:
    """Per method, target and song: the SDR of the mixture itself and of the oracle masks."""
    out = {}
    for kind in ("mixture", "irm", "ibm"):
        for track in tracks:
            est = None if kind == "mixture" else masks.oracle_estimates(track, kind=kind)
            for target in targets:
                estimate = track.mixture if est is None else est[data.STEMS.index(target)]
                out.setdefault(kind, {}).setdefault(target, []).append(sdr_of(track, target, estimate))
    return out


def train_one(target: str, d: dict, train_tracks, valid_tracks, *, device, seed: int, quick: bool):
    """Train one model of configuration ``d`` for ``target``; also keep each new best epoch's weights."""
    repro.seed_everything(seed)
    separator = training.build_separator(train_tracks, target=target, width=d["width"], depth=d["depth"],
                                         n_bins=d["n_bins"])
    dataset = training.RemixDataset(train_tracks, targets=separator.targets, n_frames=d["n_frames"],
                                    examples_per_epoch=d["examples_per_epoch"], p_incoherent=d["p_incoherent"],
                                    gain_db=d["gain_db"], pitch_semitones=d["pitch_semitones"], seed=seed)
    snapshots = {}

    def keep_best(log, event):  # remember every new best model, to find when the target was reached
        if event == "epoch" and log.epochs[-1]["best"]:
            snapshots[log.epochs[-1]["epoch"]] = {k: v.detach().cpu().clone()
                                                  for k, v in separator.model.state_dict().items()}

    t0 = time.perf_counter()
    log = training.train(separator, dataset, valid_tracks, epochs=d["epochs"], batch_size=d["batch_size"],
                         lr=d["lr"], weight_decay=d["weight_decay"], patience=d["patience"],
                         time_limit=d["time_limit"], ema=d["ema"], device=device, seed=seed,
                         progress=False, verbose=not quick, callbacks=[keep_best],
                         valid_duration=3.0 if quick else None)
    info = dict(seconds=round(time.perf_counter() - t0, 1), epochs=len(log.epochs), stopped=log.stopped,
                best_epoch=log.best_epoch, best_valid_sdr=round(log.best_sdr, 2),
                examples_per_s=round(float(np.mean([e["examples_per_s"] for e in log.epochs])), 1),
                cpu_seconds=round(log.epochs[-1]["cpu_time"], 1))
    return separator, log, info, snapshots


def model_scores(separator, tracks) -> dict:
    estimates = [separator.separate(t.mixture) for t in tracks]
    return {target: [sdr_of(t, target, est[k]) for t, est in zip(tracks, estimates)]
            for k, target in enumerate(separator.targets)}


def inference_speed(separator, *, n_frames: int, batch_size: int, device, repeats: int = 3) -> float:
    """Examples (excerpts of ``n_frames`` frames) per second through STFT, model and inverse STFT."""
    separator.model.eval()
    x = torch.randn(batch_size, (n_frames - 1) * separator.hop_length, device=device) * 0.1
    with torch.no_grad():
        separator(x)  # warm-up
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(repeats):
            separator(x)
        if device.type == "cuda":
            torch.cuda.synchronize()
    return repeats * batch_size / (time.perf_counter() - t0)


def peak_memory_mb(device) -> dict:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    out = {"peak_rss_mb": round(rss, 1)}
    if device.type == "cuda":
        out["peak_cuda_mb"] = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    return out


def table(rows, columns) -> str:
    widths = [max(len(str(c)), *(len(str(r[i])) for r in rows)) for i, c in enumerate(columns)]
    line = "  ".join(str(c).rjust(w) for c, w in zip(columns, widths))
    return "\n".join([line, "-" * len(line)] + ["  ".join(str(v).rjust(w) for v, w in zip(r, widths)) for r in rows])


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: a tiny model for a few seconds")
    parser.add_argument("--json", help="write the numbers to this JSON file")
    parser.add_argument("--shipped", action="store_true", help="score the shipped checkpoints only (no training)")
    parser.add_argument("--target", nargs="+", choices=data.STEMS,
                        help="stem(s) to train, one model each (default: all four; --quick: vocals)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="override a setting of training.DEFAULTS, e.g. --set width=12 epochs=60")
    args = parser.parse_args(argv)

    device = repro.pick_device()
    repro.seed_everything(args.seed)
    d = dict(training.DEFAULTS)
    for item in args.set:
        key, _, value = item.partition("=")
        if key not in d or key == "target":
            raise SystemExit(f"--set: unknown setting {key!r}; choose from {sorted(set(d) - {'target'})}")
        d[key] = type(d[key])(value) if d[key] is not None else float(value)
    load = os.getloadavg()
    print(f"device: {device} | torch {torch.__version__} | {os.cpu_count()} CPUs | load average at start "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} | {'quick' if args.quick else 'full'} run")
    train_tracks = data.load_dataset("bundled", split="train")
    valid_tracks = data.load_dataset("bundled", split="valid")
    test_tracks = data.load_dataset("bundled", split="test")
    if args.quick:
        d.update(width=4, depth=3, examples_per_epoch=16, batch_size=8, epochs=2, time_limit=None)
        valid_tracks, test_tracks = valid_tracks[:1], test_tracks[:2]
    report = dict(device=str(device), torch=str(torch.__version__), python=platform.python_version(),
                  cpus=os.cpu_count(), load_average_start=[round(v, 2) for v in load], quick=args.quick,
                  config=d)

    if args.shipped:
        shipped = models.available_pretrained()
        separators = {t: models.pretrained(t, device=device)[0] for t in shipped}
        targets = shipped
        trainings, snapshots, logs = {}, {}, {}
    else:
        targets = args.target or (["vocals"] if args.quick else list(data.STEMS))
        separators, trainings, snapshots, logs = {}, {}, {}, {}
        for target in targets:  # one model per stem, each with the same settings and seed
            separators[target], logs[target], trainings[target], snapshots[target] = train_one(
                target, d, train_tracks, valid_tracks, device=device, seed=args.seed, quick=args.quick)

    base = baselines(test_tracks, targets)
    scores = {t: model_scores(separators[t], test_tracks)[t] for t in targets}
    irm_median = {t: float(np.median(base["irm"][t])) for t in targets}
    goal = {t: TARGET_FRACTION * irm_median[t] for t in targets}
    judged = "vocals" if "vocals" in targets else targets[0]  # the course's promise is about the vocals
    train_info = trainings.get(judged)

    reached = None
    if train_info is not None:  # first "best" checkpoint whose test SDR meets the target
        sep = separators[judged]
        final = {k: v.clone() for k, v in sep.model.state_dict().items()}
        for epoch in sorted(snapshots[judged]):
            sep.model.load_state_dict(snapshots[judged][epoch])
            s = model_scores(sep, test_tracks)[judged]
            ok = np.median(s) >= goal[judged] and all(a > b for a, b in zip(s, base["mixture"][judged]))
            if ok:
                e = next(e for e in logs[judged].epochs if e["epoch"] == epoch)
                reached = dict(epoch=epoch, seconds=round(e["time"], 1), test_sdr=round(float(np.median(s)), 2))
                break
        sep.model.load_state_dict(final)

    sep = separators[judged]
    speed = dict(train_examples_per_s=train_info["examples_per_s"] if train_info else None,
                 inference_examples_per_s=round(inference_speed(sep, n_frames=d["n_frames"],
                                                                batch_size=d["batch_size"], device=device), 1))
    t0 = time.perf_counter()
    sep.separate(test_tracks[0].mixture)
    song_seconds = time.perf_counter() - t0
    speed["song_realtime_factor"] = round(test_tracks[0].duration / song_seconds, 1)

    n_params = models.count_parameters(sep.model)
    print(f"\nparameters: {n_params:,} ({sep.model.config})")
    for t, info in trainings.items():
        print(f"training {t}: {info['epochs']} epochs in {info['seconds']} s (stopped: {info['stopped']}), "
              f"best epoch {info['best_epoch']} (validation SDR {info['best_valid_sdr']} dB), "
              f"process CPU time {info['cpu_seconds']} s")
    print(f"throughput: training {speed['train_examples_per_s']} examples/s, inference "
          f"{speed['inference_examples_per_s']} examples/s (excerpts of {d['n_frames']} frames), "
          f"whole song {speed['song_realtime_factor']}x real time")
    if train_info:
        print(f"time to reach the target ({judged}): " + (f"{reached['seconds']} s (epoch {reached['epoch']}, test SDR "
                                               f"{reached['test_sdr']} dB)" if reached else "not reached"))

    rows, results = [], {}
    for t in targets:
        m, mix = scores[t], base["mixture"][t]
        results[t] = dict(model=[round(v, 2) for v in m], mixture=[round(v, 2) for v in mix],
                          irm=[round(v, 2) for v in base["irm"][t]], ibm=[round(v, 2) for v in base["ibm"][t]],
                          model_median=round(float(np.median(m)), 2), irm_median=round(irm_median[t], 2),
                          ibm_median=round(float(np.median(base["ibm"][t])), 2),
                          mixture_median=round(float(np.median(mix)), 2),
                          fraction_of_irm=round(float(np.median(m)) / irm_median[t], 3),
                          goal=round(goal[t], 2), shortfall_db=round(max(0.0, goal[t] - float(np.median(m))), 2),
                          beats_mixture_on_every_song=bool(all(a > b for a, b in zip(m, mix))))
        r = results[t]
        rows.append((t, r["mixture_median"], r["model_median"], r["ibm_median"], r["irm_median"],
                     f"{100 * r['fraction_of_irm']:.0f}%", r["goal"],
                     "yes" if r["beats_mixture_on_every_song"] else "NO"))
    print(f"\nTest split ({len(test_tracks)} songs), median SDR in dB:")
    print(table(rows, ["source", "mixture", "U-Net", "IBM", "IRM", "U-Net/IRM", "goal (80%)",
                       "> mixture on every song"]))
    song_rows = [(tr.name, *(results[judged][k][i] for k in ("mixture", "model", "ibm", "irm")))
                 for i, tr in enumerate(test_tracks)]
    print(f"\nPer song ({judged}), SDR in dB:")
    print(table(song_rows, ["song", "mixture", "U-Net", "IBM", "IRM"]))

    memory = peak_memory_mb(device)
    load_end = os.getloadavg()
    print(f"\npeak memory: {memory} | load average at end {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f}")
    r = results[judged]
    ok = r["model_median"] >= r["goal"] and r["beats_mixture_on_every_song"]
    within_time = train_info is None or (train_info["seconds"] <= TIME_BUDGET)
    verdict = f"target ({judged}: median SDR >= {TARGET_FRACTION:.0%} of the IRM's, above the mixture on every song"
    verdict += f", trained in <= {TIME_BUDGET:.0f} s): " if train_info else "): "
    verdict += "met" if ok and within_time else "NOT met"
    if not ok:
        verdict += f" (median {r['model_median']} dB, goal {r['goal']} dB: short by {r['shortfall_db']} dB)"
    if not within_time:
        verdict += f" (training took {train_info['seconds']} s)"
    print(verdict)
    report.update(judged_target=judged, parameters=n_params, model_config=sep.model.config, training=train_info,
                  trainings=trainings,
                  speed=speed,
                  time_to_target=reached, results=results, memory=memory,
                  load_average_end=[round(v, 2) for v in load_end], target_met=bool(ok and within_time))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
        print(f"wrote {args.json}")
    return report


if __name__ == "__main__":
    main()
