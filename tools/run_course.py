"""Execute every course notebook and publish it: ``make course``.

For each notebook in ``notebooks/`` (in syllabus order) this runs the notebook in a fresh
kernel, writes the executed copy and an HTML page to the output folder, and measures the
wall time and the kernel's peak memory. It then writes ``index.html`` linking the pages,
``report.json`` with the measurements, and prints a table (and the leaderboard that notebook
07 writes into the same folder, ``leaderboard.md``). The pages typeset their formulas with the
MathJax that ``slides/package-lock.json`` pins, copied to ``lib/`` beside them, so they read
offline. It exits non-zero if any notebook
failed, after running all of them. ``--only 07_*`` runs a subset.

Each notebook runs in its own child process so that the kernel's peak memory can be read
from the operating system's accounting of that child's descendants.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import build_slides  # the npm-pinned MathJax, shared with the slides

ROOT = Path(__file__).resolve().parent.parent


def notebooks(folder: Path, only: str = "*") -> list[Path]:
    """The notebooks to run, in syllabus order (their names start with the number).

    ``only`` is a glob pattern on the file name (``"07_*"``), for a partial run.
    """
    return sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith(".") and p.match(only))


def run_one(notebook: Path, out: Path, timeout: int) -> dict:
    """Execute ``notebook`` and write ``out/<name>.ipynb`` and ``out/<name>.html``.

    Runs inside the child process; returns the row of the report.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from nbconvert import HTMLExporter

    nb = nbformat.read(notebook, as_version=4)
    os.environ.pop("MPLBACKEND", None)  # Agg would replace the kernel's inline backend: no figures
    os.environ["COURSE_BUILD_DIR"] = str(out.resolve())  # notebooks that write results (07's leaderboard) write here
    start = time.perf_counter()
    status, message = "ok", ""
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(notebook.parent)}}).execute()
    except CellExecutionError as exc:
        status, message = "failed", str(exc).strip().splitlines()[-1][:300]
    except Exception as exc:  # a dead kernel or a timeout: report it, keep the partial output
        status, message = "failed", f"{type(exc).__name__}: {exc}"[:300]
    wall = time.perf_counter() - start
    out.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out / notebook.name)
    body, _ = HTMLExporter(mathjax_url=build_slides.MATHJAX_URL).from_notebook_node(nb)
    (out / notebook.with_suffix(".html").name).write_text(body, encoding="utf-8")
    # ru_maxrss of the waited-for descendants: the kernel (kilobytes on Linux)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"notebook": notebook.name, "wall_s": round(wall, 1), "peak_mb": round(peak_mb),
            "status": status, "message": message}


def write_index(rows: list[dict], out: Path, *, fast: bool) -> Path:
    """Write ``out/index.html``: one line per notebook with its link and measurements."""
    lines = []
    for r in rows:
        page = html.escape(Path(r["notebook"]).with_suffix(".html").name)
        note = f" &mdash; {html.escape(r['message'])}" if r["message"] else ""
        lines.append(f"<tr><td><a href='{page}'>{html.escape(r['notebook'])}</a></td>"
                     f"<td>{r['wall_s']:.1f}</td><td>{r['peak_mb']}</td><td>{r['status']}{note}</td></tr>")
    mode = "fast" if fast else "full"
    index = out / "index.html"
    index.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>Music source separation course</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{padding:4px 12px}"
        "table{border-collapse:collapse}tr:nth-child(even){background:#f3f3f3}</style></head><body>"
        "<h1>Music source separation: the executed notebooks</h1>"
        f"<p>Run in {mode} mode on {html.escape(platform.node())} ({os.cpu_count()} CPU cores), "
        f"{time.strftime('%Y-%m-%d %H:%M')}.</p>"
        "<table><tr><th>Notebook</th><th>Wall time (s)</th><th>Peak memory (MB)</th><th>Status</th></tr>"
        + "".join(lines) + "</table></body></html>", encoding="utf-8")
    return index


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
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # used by the child process
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args.out, args.timeout)))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    build_slides.npm_install()
    build_slides.copy_lib(args.out, packages=("mathjax",))
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
    write_index(rows, args.out, fast=fast)
    (args.out / "report.json").write_text(json.dumps({"fast": fast, "cores": os.cpu_count(), "rows": rows},
                                                     indent=1))
    print(format_table(rows))
    board = args.out / ("leaderboard-fast.md" if fast else "leaderboard.md")  # written by notebook 07 in this mode
    if board.is_file():
        print(f"\n{board.read_text(encoding='utf-8')}")
    print(f"\nwrote {args.out / 'index.html'}")
    return 0 if rows and all(r["status"] == "ok" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
