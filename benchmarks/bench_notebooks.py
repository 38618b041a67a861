"""Benchmark: every course notebook's wall time and peak memory, in fast and in full mode.

Wraps ``tools/run_course.py`` (which runs each notebook in a fresh kernel and reads the
kernel's peak resident memory from the operating system), once with ``COURSE_FAST=1`` and
once with ``COURSE_FAST=0``, into a temporary folder, and reports one row per notebook and
mode plus the totals. ``--quick`` runs fast mode only, on the notebooks matching ``--only``
(default for a quick run: ``00_*``). Writes the harness's format with ``--json``:
``{"name": "notebooks", "ok": ..., "rows": [{"figure", "value", "unit", "kind"}, ...]}``.

    python benchmarks/bench_notebooks.py [--quick] [--only GLOB] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_mode(fast: bool, only: str, out: Path, timeout: int) -> dict:
    """Run ``tools/run_course.py`` in one mode; return its report (``rows``) and exit code."""
    env = dict(os.environ, COURSE_FAST="1" if fast else "0")
    env.pop("MPLBACKEND", None)
    child = subprocess.run([sys.executable, str(ROOT / "tools" / "run_course.py"), "--out", str(out),
                            "--only", only, "--timeout", str(timeout), "--no-site"], env=env, capture_output=True, text=True)
    report = out / "report.json"
    if not report.is_file():
        raise RuntimeError(f"run_course.py wrote no report (exit {child.returncode}): {child.stderr[-500:]}")
    return {**json.loads(report.read_text()), "returncode": child.returncode}


def rows_of(report: dict, mode: str) -> list[dict]:
    """The harness rows of one mode: wall time and peak memory per notebook, and the totals."""
    rows = []
    for r in report["rows"]:
        name = Path(r["notebook"]).stem
        note = "" if r["status"] == "ok" else f"FAILED: {r['message']}"
        rows.append(dict(figure=f"{name} ({mode}): wall time", value=r["wall_s"], unit="s", kind="time", note=note))
        rows.append(dict(figure=f"{name} ({mode}): peak memory", value=r["peak_mb"], unit="MB", kind="memory",
                         note=note))
    if len(report["rows"]) > 1:
        rows.append(dict(figure=f"all notebooks ({mode}): wall time", value=round(sum(r["wall_s"] for r in report["rows"]), 1),
                         unit="s", kind="time"))
        rows.append(dict(figure=f"all notebooks ({mode}): largest peak memory",
                         value=max(r["peak_mb"] for r in report["rows"]), unit="MB", kind="memory"))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fast mode only, on --only (default 00_*)")
    parser.add_argument("--only", help="glob of the notebooks to run (default: all; 00_* with --quick)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    parser.add_argument("--json", type=Path, help="write the harness's rows to this JSON file")
    args = parser.parse_args(argv)
    only = args.only or ("00_*" if args.quick else "*")
    modes = [("fast", True)] if args.quick else [("fast", True), ("full", False)]
    rows, ok = [], True
    with tempfile.TemporaryDirectory(prefix="bench-notebooks-") as tmp:
        for mode, fast in modes:
            print(f"running the notebooks ({only}) in {mode} mode ...", flush=True)
            report = run_mode(fast, only, Path(tmp) / mode, args.timeout)
            ok &= report["returncode"] == 0
            rows += rows_of(report, mode)
    width = max(len(r["figure"]) for r in rows)
    for r in rows:
        print(f"{r['figure']:<{width}}  {r['value']:>8} {r['unit']}  {r.get('note', '')}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"name": "notebooks", "ok": bool(ok), "rows": rows,
                                         "details": {"only": only, "modes": [m for m, _ in modes]}}, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
