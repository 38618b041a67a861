"""Execute every course notebook and publish the course website: ``make course``.

For each notebook in ``notebooks/`` (in syllabus order) this runs the notebook in a fresh
kernel, writes the executed copy to ``<out>/executed/``, and measures the wall time and the
kernel's peak memory. It then builds the lecture slides into ``<out>/slides/``
(tools/build_slides.py) and the website into ``<out>/site/`` from the executed notebooks
(tools/build_site.py: nothing runs twice), writes ``report.json`` with the measurements, and
prints two tables: the notebooks' run times and the site's page weights (and the leaderboard
that notebook 07 writes into the same folder, ``leaderboard.md``). It exits non-zero if any
notebook failed (after running all of them) or a page is over its weight limit. ``--only 07_*``
runs a subset; ``--no-slides`` and ``--no-site`` skip those steps.

Each notebook runs in its own child process so that the kernel's peak memory can be read
from the operating system's accounting of that child's descendants.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import build_site
import build_slides

ROOT = Path(__file__).resolve().parent.parent


def notebooks(folder: Path, only: str = "*") -> list[Path]:
    """The notebooks to run, in syllabus order (their names start with the number).

    ``only`` is a glob pattern on the file name (``"07_*"``), for a partial run.
    """
    return sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith(".") and p.match(only))


def run_one(notebook: Path, out: Path, timeout: int) -> dict:
    """Execute ``notebook`` and write the executed copy to ``out/executed/<name>.ipynb``.

    Runs inside the child process; returns the row of the report.
    """
    import nbformat
    from nbclient.exceptions import CellExecutionError

    from course_utils.execution import notebook_client

    nb = nbformat.read(notebook, as_version=4)
    os.environ.pop("MPLBACKEND", None)  # Agg would replace the kernel's inline backend: no figures
    os.environ["COURSE_BUILD_DIR"] = str(out.resolve())  # notebooks that write results (07's leaderboard) write here
    start = time.perf_counter()
    status, message = "ok", ""
    try:
        notebook_client(nb, cwd=notebook.parent, timeout=timeout).execute()
    except CellExecutionError as exc:
        status, message = "failed", str(exc).strip().splitlines()[-1][:300]
    except Exception as exc:  # a dead kernel or a timeout: report it, keep the partial output
        status, message = "failed", f"{type(exc).__name__}: {exc}"[:300]
    wall = time.perf_counter() - start
    (out / "executed").mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out / "executed" / notebook.name)
    # ru_maxrss of the waited-for descendants: the kernel (kilobytes on Linux)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"notebook": notebook.name, "wall_s": round(wall, 1), "peak_mb": round(peak_mb),
            "status": status, "message": message}


def format_table(rows: list[dict]) -> str:
    """The report as a fixed-width text table."""
    header = f"{'notebook':<40} {'wall (s)':>9} {'peak (MB)':>10}  status"
    body = [f"{r['notebook']:<40} {r['wall_s']:>9.1f} {r['peak_mb']:>10}  {r['status']}" for r in rows]
    return "\n".join([header, "-" * len(header), *body])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks", help="folder of notebooks")
    parser.add_argument("--out", type=Path, default=ROOT / "build", help="output folder")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    parser.add_argument("--only", default="*", help="run only the notebooks whose file name matches this glob")
    parser.add_argument("--no-slides", action="store_true", help="do not build the slides (the site says so)")
    parser.add_argument("--no-site", action="store_true", help="only run the notebooks (the benchmarks time them)")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # used by the child process
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args.out, args.timeout)))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for nb in notebooks(args.notebooks, args.only):
        print(f"running {nb.name} ...", flush=True)
        child = subprocess.run([sys.executable, __file__, "--one", str(nb), "--out", str(args.out),
                                "--timeout", str(args.timeout)], capture_output=True, text=True)
        if child.returncode == 0:
            rows.append(json.loads(child.stdout.strip().splitlines()[-1]))
        else:
            rows.append({"notebook": nb.name, "wall_s": 0.0, "peak_mb": 0, "status": "failed",
                         "message": (child.stderr.strip().splitlines() or ["no output"])[-1][:300]})
    fast = os.environ.get("COURSE_FAST", "0") not in ("", "0", "false", "no", "off")
    report = {"fast": fast, "cores": os.cpu_count(), "rows": rows}
    (args.out / "report.json").write_text(json.dumps(report, indent=1))
    print(format_table(rows))
    board = args.out / ("leaderboard-fast.md" if fast else "leaderboard.md")  # written by notebook 07 in this mode
    if board.is_file():
        print(f"\n{board.read_text(encoding='utf-8')}")
    ok = bool(rows) and all(r["status"] == "ok" for r in rows)
    if args.no_site:
        return 0 if ok else 1
    slides = None if args.no_slides else args.out / "slides"
    problems = []
    if slides:
        print("building the slides ...", flush=True)
        try:
            build_slides.build(slides)
        except build_slides.BuildError as error:  # the site is still worth having: it says the slides are missing
            problems, slides = [f"the slides: {error}"], None
    print("building the site ...", flush=True)
    problems += build_site.publish(args.out, report, slides=slides)
    return 0 if ok and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
