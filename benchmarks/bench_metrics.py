"""Benchmark: course_utils.metrics against museval on a MUSDB-sized example.

4 sources x 30 s x 2 channels at 44.1 kHz (``--quick``: 5 s), music-like sources and
estimates from a perturbed soft mask. Two comparisons:

- whole-signal BSS Eval, "sources" definition: ``metrics.bss_eval`` against
  ``museval.metrics.bss_eval(..., bsseval_sources_version=True)`` with the window set to the
  whole signal (the mode where both compute the same thing; goal: <= 0.01 dB apart);
- frame-wise BSS Eval v4 (1 s frames, "images", the official numbers):
  ``metrics.bss_eval_frames`` against ``museval.evaluate`` (goal: medians <= 0.01 dB apart).

Goal for both: at least 10x faster than museval. Prints a table, the targets and whether
they are met; ``--json PATH`` also writes the numbers in the format of the harness
(``benchmarks/run_all.py``): ``{"name": "metrics", "ok": ..., "rows": [{"figure", "value",
"unit", "kind"}, ...], "details": {...}}``, where every figure is a ratio or a difference
measured in this run (speed-ups against museval on the same machine, dB apart), plus our
own wall times. Run from the repository root:

    python benchmarks/bench_metrics.py [--quick] [--json PATH] [--repeat N]

Both implementations run with one BLAS thread (``repro.one_blas_thread``), so that the
comparison is of algorithms, not of OpenBLAS threading on a busy machine; pass
``--museval-blas default`` to time museval with the BLAS library's default threads instead.
Wall time is the best of ``--repeat`` runs for ours and one run for museval (a slow
one); CPU time is reported beside it, as a check when the machine is busy.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.signal

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from course_utils import metrics, repro  # noqa: E402

SR = 44100
TARGET_SPEEDUP = 10.0
TARGET_MATCH_DB = 0.01


def make_track(seconds: float, *, seed: int = 0):
    """Four music-like stereo stems (vocals with a pause, drums, bass, chords) and estimates
    from a perturbed Wiener-like soft mask on the mixture (leakage and musical-noise artifacts)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    note_len = int(0.25 * SR)

    def melody(lo, hi, n_harm, decay):
        f = 110 * 2 ** (rng.integers(lo, hi, size=n // note_len + 1) / 12)
        f = np.repeat(f, note_len)[:n]
        phase = 2 * np.pi * np.cumsum(f) / SR
        env = np.exp(-decay * (t % 0.25))
        return env * sum(np.sin(k * phase) / k**1.2 for k in range(1, n_harm + 1))

    vocals = melody(12, 36, 12, 2.0) * (1 + 0.3 * np.sin(2 * np.pi * 5 * t))
    vocals[int(0.3 * n):int(0.3 * n) + 2 * SR] = 0  # a 2 s pause: frames where museval gives NaN
    hits = np.zeros(n)
    hits[:: int(0.125 * SR)] = rng.uniform(0.3, 1, size=len(hits[:: int(0.125 * SR)]))
    drums = scipy.signal.lfilter([1], [1, -0.9995], hits) * rng.standard_normal(n) * 0.5
    drums = scipy.signal.lfilter(*scipy.signal.butter(2, 0.3), drums)
    bass = melody(-12, 0, 3, 1.0)
    other = sum(melody(0, 24, 6, 0.5) for _ in range(3)) / 2
    stems = []
    for j, mono in enumerate((vocals, drums, bass, other)):
        pan = [0.5, 0.3, 0.5, 0.7][j]
        stereo = np.stack([np.sqrt(1 - pan) * mono, np.sqrt(pan) * np.roll(mono, 3 * j)])
        stereo += 0.003 * rng.standard_normal(stereo.shape)  # a recording's noise floor
        stems.append(stereo / np.abs(stereo).max() * 0.5)
    refs = np.stack(stems)
    refs[0, :, int(0.3 * n):int(0.3 * n) + 2 * SR] = 0
    _, _, spec = scipy.signal.stft(refs, nperseg=2048)
    mix = spec.sum(0)
    power = np.abs(spec) ** 2 * rng.uniform(0.5, 2.0, size=spec.shape)  # a model's errors
    mask = power / (power.sum(0) + 1e-12)
    _, ests = scipy.signal.istft(mask * mix, nperseg=2048)
    return refs.astype(np.float32), ests[..., :n].astype(np.float32)


def timed(fn, repeat):
    walls, cpus, out = [], [], None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", metrics.SilenceWarning)  # the vocals' pause, reported below
            out = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    i = int(np.argmin(walls))
    return out, walls[i], cpus[i]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 s instead of 30 s (a smoke run)")
    parser.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    parser.add_argument("--repeat", type=int, default=3, help="runs of ours (best wall time is kept)")
    parser.add_argument("--museval-blas", choices=("one", "default"), default="one",
                        help="BLAS threads for museval (ours always uses one)")
    args = parser.parse_args(argv)
    import museval  # needs ffmpeg on PATH

    seconds = 5.0 if args.quick else 30.0
    refs, ests = make_track(seconds)
    r_mus, e_mus = refs.transpose(0, 2, 1), ests.transpose(0, 2, 1)  # museval: (src, samples, ch)
    museval_ctx = repro.one_blas_thread if args.museval_blas == "one" else contextlib.nullcontext
    load_before = os.getloadavg()[0]
    print(f"4 sources x {seconds:g} s x 2 channels at {SR} Hz; {os.cpu_count()} cores, "
          f"load average {load_before:.1f}; museval BLAS threads: {args.museval_blas}")

    rows = []

    # 1. whole signal, "sources" definition: the matching mode
    ours, wall, cpu = timed(lambda: metrics.bss_eval(refs, ests), args.repeat)
    with museval_ctx():
        (m_sdr, _, m_sir, m_sar, _), m_wall, m_cpu = timed(lambda: museval.metrics.bss_eval(
            r_mus, e_mus, window=np.inf, hop=np.inf, compute_permutation=False,
            bsseval_sources_version=True), 1)
    diff = np.abs(np.stack([ours.sdr - m_sdr[:, 0], ours.sir - m_sir[:, 0], ours.sar - m_sar[:, 0]]))
    rows.append(dict(name="whole signal, sources (bss_eval)", ours_s=wall, ours_cpu_s=cpu, museval_s=m_wall,
                     museval_cpu_s=m_cpu, speedup=m_wall / wall, max_diff_db=float(diff.max()),
                     median_diff_db=float(diff.max()), target_db=TARGET_MATCH_DB,
                     sdr=ours.sdr.round(3).tolist()))

    # 2. frame-wise v4, "images": the official numbers
    frames, wall, cpu = timed(lambda: metrics.bss_eval_frames(refs, ests, sr=SR), args.repeat)
    with museval_ctx():
        official, m_wall, m_cpu = timed(lambda: museval.evaluate(r_mus, e_mus, win=SR, hop=SR), 1)
    ours_m = [frames.sdr, frames.isr, frames.sir, frames.sar]
    same_nan = all(np.array_equal(np.isnan(a), np.isnan(b)) for a, b in zip(ours_m, official))
    frame_diff = max(float(np.nanmax(np.abs(a - b))) for a, b in zip(ours_m, official))
    median_diff = max(float(np.max(np.abs(np.nanmedian(a, 1) - np.nanmedian(b, 1)))) for a, b in zip(ours_m, official))
    rows.append(dict(name="frame-wise v4, images (bss_eval_frames)", ours_s=wall, ours_cpu_s=cpu, museval_s=m_wall,
                     museval_cpu_s=m_cpu, speedup=m_wall / wall, max_diff_db=frame_diff, median_diff_db=median_diff,
                     target_db=TARGET_MATCH_DB, same_nan_frames=same_nan,
                     nan_frames=int(np.isnan(frames.sdr[0]).sum()), n_frames=int(frames.sdr.shape[1]),
                     sdr=frames.median().sdr.round(3).tolist()))

    for r in rows:
        r["cpu_speedup"] = r["museval_cpu_s"] / r["ours_cpu_s"]
    header = (f"{'comparison':42s} {'ours s':>8s} {'(cpu)':>7s} {'museval s':>10s} {'(cpu)':>7s} "
              f"{'speedup':>8s} {'(cpu)':>7s} {'max |diff| dB':>14s} {'median diff dB':>15s}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['name']:42s} {r['ours_s']:8.2f} {r['ours_cpu_s']:7.2f} {r['museval_s']:10.2f} "
              f"{r['museval_cpu_s']:7.2f} {r['speedup']:7.1f}x {r['cpu_speedup']:6.1f}x {r['max_diff_db']:14.2e} "
              f"{r['median_diff_db']:15.2e}")
    print()
    met = True
    for r in rows:
        ok_speed = r["speedup"] >= TARGET_SPEEDUP
        ok_diff = r["median_diff_db"] <= r["target_db"] and r.get("same_nan_frames", True)
        met &= ok_speed and ok_diff
        short = r["speedup"] / TARGET_SPEEDUP
        print(f"{r['name']}: speed target >= {TARGET_SPEEDUP:g}x, achieved {r['speedup']:.1f}x wall, "
              f"{r['cpu_speedup']:.1f}x cpu ({'met' if ok_speed else f'short by {1 / short:.2f}x'}); difference target <= "
              f"{r['target_db']:g} dB, achieved {r['median_diff_db']:.1e} dB ({'met' if ok_diff else 'NOT met'})")
    frames_row = rows[1]
    print(f"frames: {frames_row['n_frames']} frames, {frames_row['nan_frames']} NaN (the vocals' pause), "
          f"same NaN frames as museval: {frames_row['same_nan_frames']}")
    load_after = os.getloadavg()[0]
    print(f"load average after: {load_after:.1f}. All targets met: {met}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        short = {rows[0]["name"]: "whole signal", rows[1]["name"]: "frame-wise v4"}
        harness_rows = []
        for r in rows:
            label = short[r["name"]]
            harness_rows += [
                dict(figure=f"{label}: speed-up over museval (wall)", value=round(r["speedup"], 1), unit="x",
                     kind="ratio", note=f"target >= {TARGET_SPEEDUP:g}x"),
                dict(figure=f"{label}: speed-up over museval (CPU time)", value=round(r["cpu_speedup"], 1), unit="x",
                     kind="ratio"),
                dict(figure=f"{label}: largest median difference to museval", value=float(f"{r['median_diff_db']:.2e}"),
                     unit="dB", kind="value", note=f"target <= {r['target_db']:g} dB"),
                dict(figure=f"{label}: ours, wall time ({seconds:g} s of 4 stereo stems)", value=round(r["ours_s"], 3),
                     unit="s", kind="time"),
            ]
        args.json.write_text(json.dumps(dict(name="metrics", ok=bool(met), rows=harness_rows, details=dict(
            config=dict(sources=4, seconds=seconds, channels=2, sr=SR, quick=args.quick, repeat=args.repeat,
                        museval_blas=args.museval_blas, cores=os.cpu_count(), python=platform.python_version(),
                        numpy=np.__version__, museval=importlib.metadata.version("museval"),
                        load_average=[load_before, load_after]),
            targets=dict(speedup=TARGET_SPEEDUP, match_db=TARGET_MATCH_DB, frames_median_db=TARGET_MATCH_DB),
            results=rows, all_targets_met=bool(met))), indent=2))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
