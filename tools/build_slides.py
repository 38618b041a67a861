"""Build the course's slide decks: `make slides` (writes build/slides/).

Every ``slides/NN_*.ipynb`` is a slide notebook: run top to bottom in a fresh kernel (so its
figures, players and numbers come from the bundled data on this machine), then exported by
nbconvert to a reveal.js page with the template in ``slides/template``. The JavaScript the
pages need (reveal.js and MathJax, pinned by ``slides/package-lock.json``) is installed with
``npm ci`` into ``slides/node_modules`` (again only when the lock file changes) and the files
the pages load are copied to ``<out>/lib``. The result is a folder that presents from disk
with no network: ``<out>/index.html`` links the decks.

Usage::

    python tools/build_slides.py [--out build/slides] [--jobs 2] [DECK ...]

``DECK`` is a deck's file name or its number prefix (``01``); by default all decks.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import html
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SLIDES = ROOT / "slides"
TEMPLATE = SLIDES / "template"
NODE_MODULES = SLIDES / "node_modules"
LOCK_STAMP = NODE_MODULES / ".course-lock-sha256"
LIB = "lib"
# What the pages load, as (package folder, path inside it). Folders are copied whole.
# MathJax: only the TeX input, the CommonHTML output and its TeX web fonts (6 MB of 73 MB).
LIB_FILES = [
    ("reveal.js", "dist/reveal.js"),
    ("reveal.js", "dist/reveal.css"),
    ("reveal.js", "dist/theme/white.css"),
    ("reveal.js", "dist/theme/fonts/source-sans-pro"),
    ("reveal.js", "plugin/notes/notes.js"),
    ("reveal.js", "LICENSE"),
    ("mathjax", "MathJax.js"),
    ("mathjax", "config/TeX-AMS_CHTML-full.js"),
    ("mathjax", "config/Safe.js"),
    ("mathjax", "extensions"),
    ("mathjax", "jax/input/TeX"),
    ("mathjax", "jax/output/CommonHTML"),
    ("mathjax", "jax/element"),
    ("mathjax", "fonts/HTML-CSS/TeX/woff"),
    ("mathjax", "LICENSE"),
]
MATHJAX_URL = f"{LIB}/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
WIDTH, HEIGHT = 1280, 720  # the slide canvas in CSS pixels (16:9); reveal.js scales it to the screen


class BuildError(RuntimeError):
    """Something the build needs is missing, with what to do about it."""


@dataclass
class Deck:
    """One built deck: its file, title, number of slides and build time."""

    path: Path
    title: str
    n_slides: int
    seconds: float


def deck_paths(selection=()) -> list[Path]:
    """The slide notebooks ``slides/NN_*.ipynb``, or those named (by file name or number) in ``selection``."""
    paths = sorted(SLIDES.glob("[0-9][0-9]_*.ipynb"))
    if not selection:
        return paths
    chosen = [p for p in paths if any(p.name == s or p.name.startswith(f"{s}_") or p.stem == s for s in selection)]
    if len(chosen) < len(selection):
        raise BuildError(f"No deck matches {selection}; decks: {[p.name for p in paths]}")
    return chosen


def lock_digest() -> str:
    """SHA-256 of ``slides/package-lock.json``: the key of the cached npm install."""
    return hashlib.sha256((SLIDES / "package-lock.json").read_bytes()).hexdigest()


def npm_install() -> None:
    """``npm ci`` in ``slides/``, unless ``node_modules`` was installed from this very lock file."""
    if LOCK_STAMP.exists() and LOCK_STAMP.read_text().strip() == lock_digest():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise BuildError("npm is missing: run `make system-deps` (installs node and npm) or install Node.js >= 18.")
    print("npm ci (slides/package-lock.json changed or not installed yet)", flush=True)
    # --ignore-scripts: the packages are plain files; nothing needs to run at install time
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
                   cwd=SLIDES, check=True)
    LOCK_STAMP.write_text(lock_digest() + "\n")


def copy_lib(out: Path, packages=None) -> None:
    """Copy the files of :data:`LIB_FILES` (of ``packages`` only, if given) from ``node_modules``
    to ``out/lib``, replacing what was there. ``make course`` copies MathJax for its pages."""
    shutil.rmtree(out / LIB, ignore_errors=True)
    for package, rel in LIB_FILES:
        if packages is not None and package not in packages:
            continue
        src, dst = NODE_MODULES / package / rel, out / LIB / package / rel
        if not src.exists():
            raise BuildError(f"{src} is missing: delete slides/node_modules and build again.")
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst)


def execute(path: Path):
    """Run a slide notebook in a fresh kernel (working directory ``slides/``) and return it."""
    import nbformat

    from course_utils.execution import notebook_client

    nb = nbformat.read(path, as_version=4)
    client = notebook_client(nb, cwd=SLIDES)
    # the kernel's own stderr holds only ipykernel's start-up notices; errors in a cell raise
    # CellExecutionError with the traceback, and a dead kernel raises DeadKernelError
    client.execute(stderr=subprocess.DEVNULL)
    return nb


def exporter():
    """nbconvert's slides exporter, set up for the course template and the local JavaScript."""
    from nbconvert import SlidesExporter

    return SlidesExporter(
        extra_template_basedirs=[str(SLIDES)], template_name=TEMPLATE.name,
        reveal_url_prefix=f"{LIB}/reveal.js", reveal_theme="white", reveal_transition="fade",
        reveal_width=str(WIDTH), reveal_height=str(HEIGHT), mathjax_url=MATHJAX_URL,
        # slides show results; the code stays in the notebook (and in the live RISE view)
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
    )


def count_slides(page: str) -> int:
    """Number of top-level slides (``<section>`` directly inside ``div.slides``) in a reveal.js page."""
    from bs4 import BeautifulSoup

    slides = BeautifulSoup(page, "html.parser").select_one("div.slides")
    return len(slides.find_all("section", recursive=False))


def build_deck(path: Path, out: Path) -> Deck:
    """Execute and export one deck to ``out/<name>.html``."""
    start = time.perf_counter()
    nb = execute(path)
    page, _ = exporter().from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
    (out / f"{path.stem}.html").write_text(page, encoding="utf-8")
    title = nb.metadata.get("title") or path.stem
    return Deck(path, title, count_slides(page), time.perf_counter() - start)


def write_index(decks: list[Deck], out: Path) -> Path:
    """A plain page linking the decks, with how to present them."""
    rows = "\n".join(f'<li><a href="{d.path.stem}.html">{html.escape(d.title)}</a> ({d.n_slides} slides)</li>'
                     for d in decks)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Music source separation: slides</title>
<style>body{{font-family:sans-serif;max-width:46em;margin:3em auto;line-height:1.5}}</style></head>
<body><h1>Music source separation: slides</h1>
<ol>
{rows}
</ol>
<p>Open a deck in a browser; everything it needs is in this folder (no network).
Keys: arrows move, <kbd>S</kbd> opens the speaker view with the notes and a timer,
<kbd>F</kbd> full screen, <kbd>Esc</kbd> the overview. Built by <code>make slides</code>.</p>
</body></html>
"""
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def build(out: Path, *, selection=(), jobs: int | None = None) -> list[Deck]:
    """Install the JavaScript, copy it next to the pages and build the decks (in parallel)."""
    paths = deck_paths(selection)
    npm_install()
    out.mkdir(parents=True, exist_ok=True)
    copy_lib(out)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(paths)))
    # kernels inherit this: decks built side by side share the cores instead of fighting for them
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(var, threads)
    with concurrent.futures.ProcessPoolExecutor(jobs) as pool:
        decks = list(pool.map(build_deck, paths, [out] * len(paths)))
    write_index(decks, out)
    return decks


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("decks", nargs="*", help="deck file names or number prefixes (default: all)")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "slides")
    parser.add_argument("--jobs", type=int, default=None, help="decks built at once (default: CPU count)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        decks = build(args.out, selection=args.decks, jobs=args.jobs)
    except BuildError as error:
        print(f"make slides: {error}", file=sys.stderr)
        return 1
    for d in decks:
        print(f"{d.path.name:<40} {d.n_slides:3d} slides  {d.seconds:5.1f} s")
    print(f"{len(decks)} decks in {args.out} ({time.perf_counter() - start:.1f} s); open {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
