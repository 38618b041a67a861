"""Grading throughput: ``course-grade`` against ``otter run``, on the same honest submissions.

For each homework (hw01 and hw02) this builds the autograder and the solution into a
temporary folder and makes three kinds of honest submission: full marks (the solution), partial
(the solution with the second half of its answers put back to the student's ``...``) and zero
(the untouched student notebook), ``--copies`` of each. hw02's submissions are zip files
holding the notebook and its results file, which both tools accept. Then, in one run:

- ``otter run -a autograder.zip -o OUT SUBMISSION``, otter's own command, once per submission
  and one after the other, as an instructor runs it without Docker;
- ``course-grade SUBMISSIONS --autograder autograder.zip --out OUT``, once for the folder,
  with its default two workers, start-up of its fork server included.

It prints seconds per submission for both and their ratio, and fails unless both tools give
every submission the same score (a fast grader that grades differently is no use).

    python benchmarks/bench_grading.py [--copies 2] [--quick] [--json PATH]

``--quick`` uses one copy of each kind and hw01 only (a smoke run). ``--json`` writes the
format of the harness (``benchmarks/run_all.py``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import build_homework  # noqa: E402

ASSIGNMENTS = ("hw01_masking_phase", "hw02_learning_evaluation")
BIN = Path(sys.executable).parent


def partial_notebook(solution: Path, student: Path):
    """The solution with the second half of its answer cells replaced by the student's versions."""
    sol, stu = nbformat.read(solution, as_version=4), nbformat.read(student, as_version=4)
    sol_code = [c for c in sol.cells if c.cell_type == "code"]
    stu_code = [c for c in stu.cells if c.cell_type == "code"]
    answers = [i for i, (a, b) in enumerate(zip(sol_code, stu_code)) if a.source != b.source]
    for i in answers[len(answers) // 2:]:
        sol_code[i].source = stu_code[i].source
    return sol


def make_submissions(built: dict, name: str, folder: Path, copies: int) -> list[Path]:
    """Write ``copies`` full, partial and zero submissions; return their paths."""
    folder.mkdir(parents=True)
    kinds = {"full": nbformat.read(built["solution"], as_version=4),
             "partial": partial_notebook(built["solution"], built["student"]),
             "zero": nbformat.read(built["student"], as_version=4)}
    paths = []
    for kind, nb in kinds.items():
        for k in range(copies):
            if built["solution_files"]:  # the notebook and the results file, in one zip
                path = folder / f"{kind}{k}.zip"
                with zipfile.ZipFile(path, "w") as z:
                    z.writestr(f"{name}.ipynb", nbformat.writes(nb))
                    if kind != "zero":
                        for file in built["solution_files"]:
                            z.write(file, file.name)
            else:
                path = folder / f"{kind}{k}.ipynb"
                nbformat.write(nb, path)
            paths.append(path)
    return paths


def otter_scores(paths: list[Path], autograder: Path, out: Path) -> tuple[dict[str, float], float]:
    """Grade each submission with ``otter run``, one after the other; scores and seconds."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    scores = {}
    start = time.perf_counter()
    for path in paths:
        target = out / path.stem
        target.mkdir(parents=True)
        subprocess.run([str(BIN / "otter"), "run", "-a", str(autograder), "-o", str(target), "--no-logo", str(path)],
                       env=env, cwd=target, check=False, capture_output=True)
        results = json.loads((target / "results.json").read_text())
        scores[path.stem] = round(sum(t["score"] for t in results["tests"] if t.get("score") is not None), 4)
    return scores, time.perf_counter() - start


def course_grade_scores(folder: Path, autograder: Path, out: Path) -> tuple[dict[str, float], float, list[str]]:
    """Grade the folder with ``course-grade``; scores, seconds and statuses."""
    start = time.perf_counter()
    subprocess.run([str(BIN / "course-grade"), str(folder), "--autograder", str(autograder), "--out", str(out)],
                   check=True, capture_output=True)
    seconds = time.perf_counter() - start
    with (out / "grades.csv").open() as f:
        rows = list(csv.DictReader(f))
    return {r["student"]: round(float(r["total"]), 4) for r in rows}, seconds, [r["status"] for r in rows]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=2, help="submissions of each kind (full, partial, zero)")
    parser.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    parser.add_argument("--quick", action="store_true", help="one copy of each kind, hw01 only")
    args = parser.parse_args(argv)
    assignments = ASSIGNMENTS[:1] if args.quick else ASSIGNMENTS
    copies = 1 if args.quick else args.copies
    report, ok = [], True
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp = Path(tmp)
        for name in assignments:
            built = build_homework.build(name, student_dir=tmp / name / "student", build_dir=tmp / name / "build",
                                         execute=bool(build_homework.student_files(name)), run_tests=False, sync=False)
            paths = make_submissions(built, name, tmp / name / "submissions", copies)
            otter, otter_s = otter_scores(paths, built["autograder"], tmp / name / "otter")
            ours, ours_s, statuses = course_grade_scores(tmp / name / "submissions", built["autograder"],
                                                         tmp / name / "course-grade")
            same = otter == ours and set(statuses) == {"ok"}
            ok &= same
            report.append({"assignment": name, "submissions": len(paths), "otter_s": otter_s / len(paths),
                           "course_grade_s": ours_s / len(paths), "ratio": otter_s / ours_s, "same_scores": same,
                           "scores": {k: [otter[k], ours.get(k)] for k in sorted(otter)}})
    header = f"{'assignment':<26} {'subs':>4} {'otter run s/sub':>16} {'course-grade s/sub':>19} {'ratio':>6}  same scores"
    print(header)
    for r in report:
        print(f"{r['assignment']:<26} {r['submissions']:>4} {r['otter_s']:>16.1f} {r['course_grade_s']:>19.1f} "
              f"{r['ratio']:>5.1f}x  {'yes' if r['same_scores'] else 'NO: ' + json.dumps(r['scores'])}")
    print(f"(2 course-grade workers on {os.cpu_count()} cores; its fork server's start-up is included)")
    if args.json:
        rows = []
        for r in report:
            short = r["assignment"].split("_")[0]
            rows += [dict(figure=f"{short}: otter run", value=round(r["otter_s"], 2), unit="s/submission", kind="time"),
                     dict(figure=f"{short}: course-grade", value=round(r["course_grade_s"], 2), unit="s/submission",
                          kind="time"),
                     dict(figure=f"{short}: course-grade speed-up over otter run", value=round(r["ratio"], 2),
                          unit="x", kind="ratio", note="goal: at least 3"),
                     dict(figure=f"{short}: same scores as otter run", value=float(r["same_scores"]), unit="fraction",
                          kind="ratio", note="must be 1")]
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"name": "grading", "ok": ok, "rows": rows,
                                         "details": {"cores": os.cpu_count(), "copies": copies, "report": report}},
                                        indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
