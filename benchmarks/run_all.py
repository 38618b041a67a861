"""Run every benchmark of ``benchmarks/`` and write one table: ``make bench``.

Each ``benchmarks/bench_*.py`` is run as a child process with ``--json FILE`` (and
``--quick`` for a smoke run). Most write the harness's format::

    {"name": "...", "ok": true, "rows": [{"figure": "...", "value": 1.0, "unit": "s",
                                          "kind": "time", "note": "..."}], "details": {...}}

``bench_unet.py`` writes its own report, which :func:`adapt_unet` reads. ``kind`` says how a
figure compares across machines:

- ``ratio``, ``value``, ``count``: measured against something else in the same run (a
  speed-up over museval, dB apart, a fraction of the oracle), or independent of the machine;
- ``time`` (seconds) and ``rate`` (per second): depend on the machine, so the table also gives
  them in **calibration units**: before the benchmarks, the harness times a fixed workload
  (:func:`calibrate`: FFTs, a matrix product and a small convolution network, the kinds of
  work the course does); a time divided by it, or a rate multiplied by it, compares between
  machines;
- ``memory`` (MB): as measured.

The table goes to the terminal and to ``benchmarks/results.md`` with the machine it ran on
(CPU model, cores, load average before and after, Python, NumPy and torch versions).

    python benchmarks/run_all.py [--quick] [--only metrics,unet] [--out benchmarks/results.md]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
KINDS = ("time", "rate", "ratio", "value", "count", "memory", "flag")


# --------------------------------------------------------------------------------------------
# The machine


def cpu_model() -> str:
    """The processor's name (``/proc/cpuinfo`` on Linux, else what ``platform`` knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def machine() -> dict:
    """What the benchmarks ran on, for the header of the results."""
    import numpy

    info = {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": numpy.__version__, "system": f"{platform.system()} {platform.release()}"}
    try:
        import torch

        info["torch"] = torch.__version__
        info["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    except ImportError:
        info["torch"] = "not installed"
    return info


def calibrate(*, repeat: int = 3) -> float:
    """Seconds for a fixed workload (best of ``repeat``): the unit that makes times comparable.

    The workload: 40 real FFTs of 2**18 samples, a 768 x 768 float64 matrix product five
    times, and a forward pass of a small 2-D convolution network on a (16, 1, 256, 128)
    batch (if torch is there). It uses the machine the way the course does (NumPy, BLAS,
    torch, all cores).
    """
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal(2**18)
    a, b = rng.standard_normal((768, 768)), rng.standard_normal((768, 768))
    try:
        import torch

        net = torch.nn.Sequential(torch.nn.Conv2d(1, 16, 5, stride=2, padding=2), torch.nn.LeakyReLU(),
                                  torch.nn.Conv2d(16, 32, 5, stride=2, padding=2), torch.nn.LeakyReLU()).eval()
        batch = torch.from_numpy(rng.standard_normal((16, 1, 256, 128)).astype(np.float32))
    except ImportError:
        net = batch = None
    best = float("inf")
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        for _ in range(40):
            np.fft.rfft(x)
        for _ in range(5):
            a @ b
        if net is not None:
            with torch.no_grad():
                net(batch)
        best = min(best, time.perf_counter() - start)
    return best


# --------------------------------------------------------------------------------------------
# Running the benchmarks


def discover(folder: Path) -> list[Path]:
    """Every ``bench_*.py`` in ``folder``, by name."""
    return sorted(folder.glob("bench_*.py"))


def bench_name(script: Path) -> str:
    return script.stem.removeprefix("bench_")


def adapt_unet(report: dict) -> dict:
    """``bench_unet.py``'s own report -> the harness's format (``name``, ``ok``, ``rows``)."""
    rows = []
    add = lambda figure, value, unit, kind, note="": rows.append(  # noqa: E731
        dict(figure=figure, value=value, unit=unit, kind=kind, note=note))
    add("U-Net parameters", report["parameters"], "", "count")
    speed = report.get("speed", {})
    if speed.get("train_examples_per_s") is not None:
        add("training throughput", speed["train_examples_per_s"], "examples/s", "rate")
    add("inference throughput", speed.get("inference_examples_per_s"), "examples/s", "rate")
    add("whole-song separation speed", speed.get("song_realtime_factor"), "x real time", "rate")
    training = report.get("training") or {}
    if training:
        add("training time", training["seconds"], "s", "time",
            f"{training['epochs']} epochs, stopped: {training['stopped']}")
    if training:
        reached = report.get("time_to_target")
        if reached:
            add("time to target quality", reached["seconds"], "s", "time", f"epoch {reached['epoch']}")
        else:
            add("time to target quality", None, "s", "time", "target not reached in this run")
    judged = report.get("judged_target", "vocals")
    results = report.get("results", {})
    for target in sorted(results, key=lambda t: (t != judged, t)):  # the judged stem first
        result = results[target]
        add(f"{target}: median test SDR", result["model_median"], "dB", "value",
            f"mixture {result['mixture_median']} dB, IRM {result['irm_median']} dB")
        add(f"{target}: fraction of the ideal ratio mask's SDR", result["fraction_of_irm"], "", "ratio",
            "target >= 0.8" if target == judged else "")
    memory = report.get("memory", {})
    if "peak_rss_mb" in memory:
        add("peak memory (process)", memory["peak_rss_mb"], "MB", "memory")
    add("target met", "yes" if report.get("target_met") else "no", "", "flag")
    return {"name": "unet", "ok": True, "rows": rows,
            "details": {"device": report.get("device"), "quick": report.get("quick")}}


ADAPTERS = {"unet": adapt_unet}
"""Benchmarks whose ``--json`` output is not the harness's format, and how to read it."""
EXTRA_ARGS = {"unet": ["--target", "vocals"]}
"""Arguments the harness adds: the U-Net benchmark trains the vocals model only (the stem the
course's promise is about; ``python benchmarks/bench_unet.py`` alone trains all four)."""


def run_benchmark(script: Path, *, quick: bool, workdir: Path, timeout: float | None) -> dict:
    """Run one benchmark script and return its result in the harness's format (with ``seconds``)."""
    name = bench_name(script)
    out = workdir / f"{name}.json"
    command = ([sys.executable, str(script), "--json", str(out)] + (["--quick"] if quick else [])
               + EXTRA_ARGS.get(name, []))
    print(f"\n=== {name}: {' '.join(Path(c).name if i < 2 else c for i, c in enumerate(command))}", flush=True)
    start = time.perf_counter()
    try:
        child = subprocess.run(command, cwd=ROOT, timeout=timeout, text=True, stdout=sys.stdout, stderr=sys.stderr)
        code = child.returncode
    except subprocess.TimeoutExpired:
        code = "timeout"
    seconds = time.perf_counter() - start
    if not out.is_file():
        return {"name": name, "ok": False, "rows": [], "seconds": seconds,
                "error": f"no results (exit {code})"}
    try:
        result = json.loads(out.read_text())
        if name in ADAPTERS and "rows" not in result:
            result = ADAPTERS[name](result)
        for row in result["rows"]:
            if row.get("kind") not in KINDS:
                raise ValueError(f"row {row.get('figure')!r} has kind {row.get('kind')!r}, not one of {KINDS}")
    except (ValueError, KeyError, TypeError) as exc:
        return {"name": name, "ok": False, "rows": [], "seconds": seconds, "error": f"unreadable results: {exc}"}
    result.update(seconds=seconds, ok=bool(result.get("ok", True)) and code == 0)
    if code != 0:
        result["error"] = f"exit {code}"
    return result


# --------------------------------------------------------------------------------------------
# The table


def _number(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 1000:
        return f"{int(value):,}"
    v = float(value)
    if v != 0 and (abs(v) < 0.01 or abs(v) >= 1e5):
        return f"{v:.2e}"
    return f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}"


def normalised(row: dict, calibration: float | None) -> str:
    """A time in calibration units (time / c), a rate per calibration unit (rate * c); else empty."""
    value = row.get("value")
    if calibration is None or value is None or isinstance(value, str):
        return ""
    if row["kind"] == "time":
        return _number(value / calibration)
    if row["kind"] == "rate":
        return _number(value * calibration)
    return ""


def table_rows(results: list[dict], calibration: float | None) -> list[list[str]]:
    """One row per figure: benchmark, figure, value, unit, per calibration unit, note."""
    rows = []
    for result in results:
        if not result["rows"]:
            rows.append([result["name"], "(no results)", "–", "", "", f"FAILED: {result.get('error', '?')}"])
        for r in result["rows"]:
            note = r.get("note", "")
            rows.append([result["name"], r["figure"], _number(r.get("value")), r.get("unit", ""),
                         normalised(r, calibration), note])
        if result["rows"] and not result["ok"]:
            rows.append([result["name"], "(status)", "FAILED", "", "", result.get("error", "a target or a check failed")])
    return rows


HEADER = ["benchmark", "figure", "value", "unit", "per calibration unit", "note"]


def format_text(rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(HEADER)]
    line = lambda cells: "  ".join(c.ljust(w) if i in (0, 1, 3, 5) else c.rjust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return "\n".join([line(HEADER), "-" * sum(widths + [2 * (len(widths) - 1)])] + [line(r) for r in rows])


def format_markdown(rows: list[list[str]], *, info: dict, quick: bool, calibration: float | None,
                    load: tuple, total_s: float, command: str) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["# Benchmark results", "",
             f"Written by `{command}` on {datetime.date.today().isoformat()} "
             f"({'QUICK smoke run: small inputs, not the real figures' if quick else 'full run'}), "
             f"in {total_s / 60:.1f} minutes.", "",
             "| machine | |", "|---|---|",
             f"| CPU | {cell(info['cpu'])} |", f"| cores | {info['cores']} |",
             f"| load average (1 min) before / after | {load[0]:.2f} / {load[1]:.2f} |",
             f"| system | {cell(info['system'])} |", f"| Python | {info['python']} |",
             f"| NumPy | {info['numpy']} |", f"| torch | {info.get('torch', '?')} |",
             f"| GPU | {cell(str(info.get('gpu', 'none')))} |",
             f"| calibration workload | {calibration:.3f} s |" if calibration else "| calibration workload | not run |",
             "",
             "Ratios (speed-ups against museval, fractions of the oracle) and dB differences are measured "
             "within the run and compare across machines as they are. Times and rates depend on the "
             "machine: the column *per calibration unit* divides a time by (or multiplies a rate by) the "
             "time of a fixed workload measured at the start of the same run (`benchmarks/run_all.py`, "
             "`calibrate`), so those compare across machines too. A busy machine (high load) slows "
             "everything down.", "",
             "| " + " | ".join(HEADER) + " |", "|" + "|".join(["---", "---", "---:", "---", "---:", "---"]) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="pass --quick to every benchmark (a smoke run)")
    parser.add_argument("--only", help="comma-separated benchmark names (e.g. metrics,grading)")
    parser.add_argument("--bench-dir", type=Path, default=HERE, help="folder of bench_*.py scripts")
    parser.add_argument("--out", type=Path, default=HERE / "results.md", help="the Markdown results file")
    parser.add_argument("--timeout", type=float, default=None, help="seconds allowed per benchmark")
    args = parser.parse_args(argv)
    scripts = discover(args.bench_dir)
    if args.only:
        wanted = [w.strip() for w in args.only.split(",") if w.strip()]
        unknown = set(wanted) - {bench_name(s) for s in scripts}
        if unknown:
            parser.error(f"no benchmark {sorted(unknown)} in {args.bench_dir}; there are "
                         f"{[bench_name(s) for s in scripts]}")
        scripts = [s for s in scripts if bench_name(s) in wanted]
    if not scripts:
        parser.error(f"no bench_*.py in {args.bench_dir}")
    info = machine()
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    calibration = calibrate(repeat=1 if args.quick else 3)
    print(f"{info['cpu']}, {info['cores']} cores, torch {info.get('torch')}; load {load_before:.2f}; "
          f"calibration workload {calibration:.3f} s", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        for script in scripts:
            results.append(run_benchmark(script, quick=args.quick, workdir=Path(tmp), timeout=args.timeout))
    rows = table_rows(results, calibration)
    total = time.perf_counter() - start
    load_after = os.getloadavg()[0]
    print("\n" + format_text(rows))
    command = "make bench" + (" QUICK=1" if args.quick else "")
    if args.only or args.bench_dir != HERE:
        command = "python benchmarks/run_all.py " + " ".join(argv if argv is not None else sys.argv[1:])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(format_markdown(rows, info=info, quick=args.quick, calibration=calibration,
                                        load=(load_before, load_after), total_s=total, command=command.strip()),
                        encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
