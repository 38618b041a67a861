"""The course website, built from the notebooks ``make course`` executed (tools/run_course.py).

Sphinx with MyST-NB and the book theme, the Jupyter Book 1 stack without its wrapper: it builds
with no network (MyST-NB reads the stored outputs, ``nb_execution_mode = "off"``) and its pages
need none either (the theme ships its fonts and scripts; MathJax comes from the npm-pinned copy
that the slides use). Jupyter Book 2 (mystmd) would fetch its theme at build time.

What the pages embed is taken out of them:

* every audio player's WAV (a base64 ``data:`` URI in the executed notebook) becomes an MP3
  file beside the pages, at the clip's own sample rate, VBR at the encoder's best quality
  (:data:`MP3_QUALITY`), with ``preload="none"`` so that a page opens without loading its
  sound. MP3 because every browser plays it (Ogg Vorbis is not played everywhere and Opus
  resamples to 48 kHz); at this quality an encoder's artefacts stay well below those of the
  separators compared on the page.
* figures become image files (MyST-NB does that itself).
* interactive widgets (a slider in notebook 01) need a kernel: the page says so in their place, below
  the output of their first setting (course_utils.execution keeps it as the cell's output).

The slide decks (tools/build_slides.py embeds their sound and figures, so that a deck is one
file to present from) are copied into the site made light the same way, sharing its MathJax.

The landing page (``site/index.md``) gets the syllabus written from the notebooks (their goals,
this build's run time, a Colab link); the leaderboard of notebook 07 and the slides built by
``tools/build_slides.py`` get a page each. :func:`page_weights` measures every page with the
images it shows (audio loads only on play and is counted apart); ``make course`` prints the
table and fails when a page exceeds :data:`PAGE_LIMIT_MB` or the site :data:`SITE_LIMIT_MB`
(the fast-mode budget; full mode has more sound and is reported, not limited).
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_homework  # noqa: E402  (the assignments and their points)
import build_slides  # noqa: E402  (the npm-pinned MathJax)

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site"
sys.path.insert(0, str(ROOT))
from course_utils import project  # noqa: E402

MP3_QUALITY = 0.0          # libsndfile's compression level for MP3: 0 is LAME's best VBR quality
PAGE_LIMIT_MB = 5.0        # a page with its figures
SITE_LIMIT_MB = 60.0       # the whole site in fast mode
AUDIO_DIR = "_static/audio"
COLAB_BADGE = "![Open in Colab](_static/colab-badge.svg)"  # drawn for the site: the usual badge is an image on colab's server

WAV_SOURCE = re.compile(r'<source src="data:audio/wav;base64,([A-Za-z0-9+/=\s]+)" type="audio/wav"\s*/?>')
EMBEDDED_PNG = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=\s]+)"')
WIDGET = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = ("<p class='course-widget-note'><em>Interactive controls (sliders, buttons) stand here when the "
               "notebook runs in Colab or JupyterLab: they need a live kernel. This page shows what the cell "
               "printed and drew without them.</em></p>")


def audio_to_files(markup: str, audio_dir: Path, *, prefix: str) -> str:
    """Replace each embedded WAV player source in ``markup`` by an MP3 file written to ``audio_dir``.

    The file is named by a hash of the WAV, so a clip heard twice is stored once. ``prefix`` is
    the path from the page to ``audio_dir``. Players get ``preload="none"``.
    """
    import soundfile as sf

    def replace(match: re.Match) -> str:
        wav = base64.b64decode(match.group(1))
        name = hashlib.sha256(wav).hexdigest()[:16] + ".mp3"
        target = audio_dir / name
        if not target.exists():
            samples, sr = sf.read(io.BytesIO(wav), dtype="float32")
            audio_dir.mkdir(parents=True, exist_ok=True)
            sf.write(target, samples, sr, format="MP3", subtype="MPEG_LAYER_III", compression_level=MP3_QUALITY)
        return f'<source src="{prefix}{name}" type="audio/mpeg">'

    markup = WAV_SOURCE.sub(replace, markup)
    return re.sub(r"<audio(?![^>]*preload)", '<audio preload="none"', markup)


def images_to_files(markup: str, image_dir: Path, *, prefix: str) -> str:
    """Replace each embedded PNG image in ``markup`` by a file in ``image_dir`` (named by its hash)."""

    def replace(match: re.Match) -> str:
        png = base64.b64decode(match.group(1))
        name = hashlib.sha256(png).hexdigest()[:16] + ".png"
        image_dir.mkdir(parents=True, exist_ok=True)
        (image_dir / name).write_bytes(png)
        return f'src="{prefix}{name}"'

    return EMBEDDED_PNG.sub(replace, markup)


def light_deck(deck: Path) -> None:
    """Make a slide deck copied into the site light, as the notebook pages are: its sound and
    figures as files beside it (``audio/``, ``images/``), MathJax the site's own copy."""
    markup = deck.read_text(encoding="utf-8")
    markup = audio_to_files(markup, deck.parent / "audio", prefix="audio/")
    markup = images_to_files(markup, deck.parent / "images", prefix="images/")
    markup = markup.replace(f'src="{build_slides.MATHJAX_URL}"', f'src="../_static/{build_slides.MATHJAX_URL}"')
    deck.write_text(markup, encoding="utf-8")


def page_notebook(nb, audio_dir: Path, *, prefix: str):
    """The executed notebook ``nb`` as the site shows it: audio as files, widgets noted."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET in data:
                output["data"] = {"text/html": WIDGET_NOTE}
            elif "text/html" in data:
                markup = data["text/html"]
                markup = "".join(markup) if isinstance(markup, list) else markup
                data["text/html"] = audio_to_files(markup, audio_dir, prefix=prefix)
    return nb


def goals(nb) -> list[str]:
    """The numbered list under "In this notebook you will" in the notebook's first cell (Markdown)."""
    _, found, after = nb.cells[0].source.partition("In this notebook you will")
    if not found:
        return []
    block = after.split("\n", 1)[-1].strip("\n").split("\n\n", 1)[0]
    return [" ".join(item.split()) for item in re.split(r"^\d+\.\s+", block, flags=re.M)[1:]]


def syllabus(notebooks: list[Path], report: dict) -> str:
    """The landing page's syllabus: each notebook's topic and goals, this build's run time, Colab."""
    times = {r["notebook"]: r for r in report["rows"]}
    blocks = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        title = nb.cells[0].source.splitlines()[0].lstrip("# ").strip()
        row = times.get(path.name, {})
        run = f"ran in {row['wall_s'] / 60:.1f} min on {report['cores']} CPU cores" if row else "not run"
        colab = project.colab_url(f"notebooks/{path.name}")
        items = "\n".join(f"   {i}. {g}" for i, g in enumerate(goals(nb), 1))
        blocks.append(f"- **[{title}]({path.stem}.ipynb)** ({run}) [{COLAB_BADGE}]({colab})\n\n"
                      f"   {nb.metadata.get('course', {}).get('topic', '')}\n\n{items}")
    return "\n\n".join(blocks)


def homework_page(src: Path) -> int:
    """``homework.md`` and the student notebooks under ``homework/``, the capstone last; returns the
    number of assignments (the capstone apart)."""
    names = build_homework.assignments()
    rows = ["| Assignment | Topic | Points (autograded + written) | Colab |", "|---|---|---|---|"]
    for name in names:
        source = build_homework.SOURCES / f"{name}.ipynb"
        student = ROOT / "notebooks" / "homework" / name / f"{name}.ipynb"
        (src / "homework" / name).mkdir(parents=True, exist_ok=True)
        shutil.copy(student, src / "homework" / name / student.name)
        auto, manual = build_homework.question_points(source)
        topic = nbformat.read(source, as_version=4).metadata.get("course", {}).get("topic", "")
        colab = project.colab_url(f"notebooks/homework/{name}/{name}.ipynb")
        rows.append(f"| [{name}](homework/{name}/{name}.ipynb) | {topic} | {auto:g} + {manual:g} "
                    f"| [{COLAB_BADGE}]({colab}) |")
    capstone = ROOT / "notebooks" / "homework" / "capstone" / "capstone.ipynb"
    (src / "homework" / "capstone").mkdir(parents=True, exist_ok=True)
    shutil.copy(capstone, src / "homework" / "capstone" / capstone.name)
    topic = nbformat.read(capstone, as_version=4).metadata["course"]["topic"]
    colab = project.colab_url("notebooks/homework/capstone/capstone.ipynb")
    rows.append(f"| [capstone](homework/capstone/capstone.ipynb) | {topic} | points from the hidden songs' "
                f"scores | [{COLAB_BADGE}]({colab}) |")
    toc = "\n".join(f"homework/{n}/{n}" for n in [*names, "capstone"])
    (src / "homework.md").write_text(
        "# Homework\n\nGraded assignments that build on the notebooks. Each is a notebook with questions "
        "answered in code (checked by public tests you run yourself, `grader.check(\"q1\")`, and by hidden "
        "tests at grading time) and a few answered in words. The pages below show the assignments as "
        "students receive them; work on them in Colab or in a clone of the repository (its "
        "`notebooks/homework/README.md` says how to submit).\n\n" + "\n".join(rows)
        + f"\n\n```{{toctree}}\n:hidden:\n\n{toc}\n```\n", encoding="utf-8")
    return len(names)


def slides_page(src: Path, slides: Path | None) -> None:
    """``slides.md``, linking the decks copied from ``slides`` (a ``build_slides`` output folder)."""
    text = ("# Slides\n\nThe lecture decks (reveal.js), for instructors. Every deck works offline: open it, "
            "press <kbd>S</kbd> for the speaker view with notes and a timer, <kbd>F</kbd> for full screen.\n\n")
    decks = sorted(slides.glob("[0-9]*.html")) if slides else []
    if decks:
        copy = src / "_extra" / "slides"
        shutil.copytree(slides, copy, ignore=shutil.ignore_patterns("mathjax"))  # the site has MathJax
        for deck in decks:
            light_deck(copy / deck.name)
        text += "\n".join(f'- <a href="slides/{d.name}">{html.escape(d.stem.replace("_", " "))}</a>' for d in decks)
    else:
        text += "Not built in this run: `make slides` builds them into `build/slides/`."
    (src / "slides.md").write_text(text + "\n", encoding="utf-8")


def leaderboard_page(src: Path, board: Path | None) -> None:
    """``leaderboard.md``: notebook 07's Markdown table of this build."""
    body = board.read_text(encoding="utf-8") if board and board.is_file() else \
        "Notebook 07 did not write a leaderboard in this build."
    (src / "leaderboard.md").write_text(
        "# Leaderboard\n\nEvery method of the course on the same test songs, scored the same way, as notebook 07 "
        "computed it in this build of the site ([07](07_tools_and_state_of_the_art.ipynb) explains the "
        "columns and shows the figure).\n\n" + body,
        encoding="utf-8")


def build(executed: list[Path], out: Path, *, report: dict, board: Path | None = None,
          slides: Path | None = None) -> Path:
    """Build the site from ``executed`` notebooks into ``out``; returns ``out / "index.html"``.

    The Sphinx source folder is ``out`` with ``_src`` appended; it is rebuilt from scratch.
    """
    src = out.with_name(out.name + "_src")
    shutil.rmtree(src, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(SITE, src)
    (src / "_extra").mkdir(exist_ok=True)
    build_slides.npm_install()
    build_slides.copy_lib(src / "_static", packages=("mathjax",))
    for path in executed:
        nb = page_notebook(nbformat.read(path, as_version=4), src / AUDIO_DIR, prefix=f"{AUDIO_DIR}/")
        nbformat.write(nb, src / path.name)
    n_homework = homework_page(src)
    slides_page(src, slides)
    leaderboard_page(src, board)
    mode = "in fast mode (less data, same code: the numbers differ from a full run)." if report.get("fast") \
        else "in full mode."
    index = (SITE / "index.md").read_text(encoding="utf-8").format(
        syllabus=syllabus(executed, report), toc_notebooks="\n".join(p.stem for p in executed),
        n_homework=n_homework, mode_sentence=mode)
    (src / "index.md").write_text(index, encoding="utf-8")
    env = dict(os.environ, COURSE_SITE_MATHJAX=build_slides.MATHJAX_URL,
               COURSE_SITE_REPOSITORY=project.REPOSITORY, COURSE_SITE_BRANCH=project.BRANCH)
    done = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-d", str(src / "_doctrees"), str(src), str(out)],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"sphinx-build failed:\n{done.stdout}\n{done.stderr}")
    warnings = [w for w in done.stderr.splitlines() if "WARNING" in w]
    if warnings:
        print("sphinx warnings:\n" + "\n".join(warnings[:20]), flush=True)
    return out / "index.html"


def page_weights(site: Path) -> list[dict]:
    """Every page of ``site`` with its weight: the HTML and the local images it shows, and apart
    from them the audio its players would load on play (MB)."""
    rows = []
    for page in sorted(site.rglob("*.html")):
        rel = page.relative_to(site)
        if rel.parts[0] == "_static" or rel.parts[:2] == ("slides", "lib"):
            continue
        text = page.read_text(encoding="utf-8", errors="replace")
        refs = {(page.parent / m).resolve() for m in re.findall(r'<img[^>]*\ssrc="([^":]+)"', text)}
        audio = {(page.parent / m).resolve() for m in re.findall(r'<source src="([^":]+)"', text)}
        size = page.stat().st_size + sum(p.stat().st_size for p in refs if p.is_file())
        rows.append({"page": str(rel), "mb": round(size / 2**20, 2),
                     "audio_mb": round(sum(p.stat().st_size for p in audio if p.is_file()) / 2**20, 2)})
    return rows


def site_mb(site: Path) -> float:
    return round(sum(p.stat().st_size for p in site.rglob("*") if p.is_file()) / 2**20, 1)


def format_weights(rows: list[dict], total_mb: float) -> str:
    """The pages as a text table, the heaviest first, with the site's total."""
    heavy = sorted(rows, key=lambda r: -r["mb"])
    lines = [f"{'page':<52} {'page+figures (MB)':>18} {'audio (MB)':>11}", "-" * 83]
    lines += [f"{r['page']:<52} {r['mb']:>18.2f} {r['audio_mb']:>11.2f}" for r in heavy]
    lines.append(f"site: {len(rows)} pages, {total_mb:.1f} MB in all (limits: {PAGE_LIMIT_MB:g} MB a page with its "
                 f"figures, {SITE_LIMIT_MB:g} MB the site in fast mode)")
    return "\n".join(lines)


def within_limits(rows: list[dict], total_mb: float, *, fast: bool) -> list[str]:
    """What exceeds the limits (empty when the site is within them)."""
    over = [f"{r['page']} weighs {r['mb']} MB" for r in rows if r["mb"] > PAGE_LIMIT_MB]
    if fast and total_mb > SITE_LIMIT_MB:
        over.append(f"the site weighs {total_mb} MB")
    return over


def publish(build_dir: Path, report: dict, *, slides: Path | None = None) -> list[str]:
    """Build ``build_dir/site`` from the notebooks executed into ``build_dir/executed`` (as listed in
    ``report``, which gains the page weights and is rewritten), print the weights; returns what is
    over the limits."""
    executed = [build_dir / "executed" / r["notebook"] for r in report["rows"]]
    board = build_dir / ("leaderboard-fast.md" if report["fast"] else "leaderboard.md")
    index = build([p for p in executed if p.is_file()], build_dir / "site", report=report, board=board,
                  slides=slides)
    rows, total = page_weights(index.parent), site_mb(index.parent)
    report["site"] = {"total_mb": total, "pages": rows}
    (build_dir / "report.json").write_text(json.dumps(report, indent=1))
    print(f"\n{format_weights(rows, total)}")
    over = within_limits(rows, total, fast=report["fast"])
    for problem in over:
        print(f"over the limit: {problem}")
    print(f"\nopen {index}")
    return over


def main(argv=None) -> int:
    """Rebuild the site from what ``make course`` left in a build folder, running no notebook
    (after an edit of ``site/``)."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--build", type=Path, default=ROOT / "build", help="make course's output folder")
    args = parser.parse_args(argv)
    report = json.loads((args.build / "report.json").read_text())
    slides = args.build / "slides"
    return 1 if publish(args.build, report, slides=slides if slides.is_dir() else None) else 0


if __name__ == "__main__":
    sys.exit(main())
