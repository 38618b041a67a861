"""Grading throughput: ``course-grade`` on 20 correct submissions of homework 1.

Builds the hw01 autograder and solution into a temporary folder, copies the solution as 20
students' submissions, grades the folder with the default worker count (2, one per core on
the course's reference machine) and prints submissions per minute. Every submission must get
full marks, or the benchmark fails: a fast grader that grades wrongly is no use.

    python benchmarks/bench_grading.py [--submissions 20] [--workers 2] [--quick] [--json PATH]

``--quick`` grades 4 submissions (a smoke run). ``--json`` writes the format of the harness
(``benchmarks/run_all.py``): ``{"name": "grading", "ok": ..., "rows": [{"figure", "value",
"unit", "kind"}, ...], "details": {...}}``; the throughput is also given per worker, so that
runs with different worker counts compare.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import build_homework  # noqa: E402
from course_utils import grading  # noqa: E402

ASSIGNMENT = "hw01_masking_phase"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    parser.add_argument("--quick", action="store_true", help="grade 4 submissions (a smoke run)")
    args = parser.parse_args(argv)
    if args.quick:
        args.submissions = min(args.submissions, 4)
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp = Path(tmp)
        built = build_homework.build(ASSIGNMENT, student_dir=tmp / "student", build_dir=tmp / "build",
                                     execute=False, run_tests=False, sync=False)
        submissions = tmp / "submissions"
        submissions.mkdir()
        for i in range(args.submissions):
            shutil.copyfile(built["solution"], submissions / f"student{i:03d}.ipynb")
        start = time.perf_counter()
        table = grading.grade_batch(submissions, built["autograder"], tmp / "out", workers=args.workers)
        seconds = time.perf_counter() - start
    full = int((table["total"] == table["possible"]).sum())
    rate = args.submissions / seconds * 60
    rows = [("submissions", f"{args.submissions}"), ("workers", f"{args.workers}"), ("CPU cores", f"{os.cpu_count()}"),
            ("wall time (s)", f"{seconds:.1f}"), ("throughput (submissions/min)", f"{rate:.1f}"),
            ("seconds per submission per worker", f"{seconds * args.workers / args.submissions:.1f}"),
            ("full marks", f"{full} of {args.submissions}")]
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k:<{width}}  {v}" for k, v in rows))
    if args.json:
        ok = full == args.submissions
        rows = [dict(figure=f"throughput ({args.workers} workers)", value=round(rate, 1), unit="submissions/min",
                     kind="rate"),
                dict(figure="throughput per worker", value=round(rate / args.workers, 1), unit="submissions/min",
                     kind="rate"),
                dict(figure="seconds per submission per worker", value=round(seconds * args.workers / args.submissions, 2),
                     unit="s", kind="time"),
                dict(figure="graded with full marks", value=round(full / args.submissions, 3), unit="fraction",
                     kind="ratio", note="must be 1: every submission is correct")]
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"name": "grading", "ok": ok, "rows": rows, "details": {
            "submissions": args.submissions, "workers": args.workers, "cores": os.cpu_count(), "seconds": seconds,
            "per_minute": rate, "full_marks": full}}, indent=1))
    return 0 if full == args.submissions else 1


if __name__ == "__main__":
    sys.exit(main())
