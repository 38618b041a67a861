"""The slide decks (`make slides`): built offline, complete, and rendered by a real browser.

One build of every deck into a temporary folder (``tools/build_slides.py``, as ``make slides``
runs it), then checks on the HTML (slide counts, speaker notes, audio that decodes, no external
URL) and in headless Chromium with the network blocked: MathJax typesets every formula, nothing
fails to load, no slide overflows the 1280 x 720 canvas, and screenshots of the first slide, a
slide with math and a slide with a figure of each deck are not blank.

Chromium and npm are required, not optional: `make test` installs them (tools/system_deps.sh),
and without them these tests fail with what to install.
"""

from __future__ import annotations

import base64
import concurrent.futures
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from bs4 import BeautifulSoup
from PIL import Image

from course_utils import slides

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import build_slides  # noqa: E402

EXPECTED_SLIDES = {
    "01_separation_and_stft": 19,
    "02_masking_and_phase": 14,
    "03_classical_and_deep": 15,
    "04_evaluation_and_tools": 14,
}
"""Slides per deck: change it here when a deck gains or loses a slide."""
MIN_PLAYERS = 5          # every deck has several "listen" moments
CHECKER = ROOT / "slides" / "checker.js"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
EXTERNAL = re.compile(r"^\s*(https?:|ftp:)?//", re.I)
CSS_EXTERNAL = re.compile(r"(url\(\s*['\"]?\s*(https?:)?//|@import\s+['\"]?(https?:)?//)", re.I)
MATH = re.compile(r"\$\$.+?\$\$|\$[^$\s][^$]*?\$|\\\(.+?\\\)", re.S)


# ------------------------------------------------------------------------------------------
# The build, and Chromium


def chromium() -> str:
    """The Chromium (or Chrome) executable; fails, never skips, when there is none."""
    for name in (os.environ.get("CHROMIUM"), *BROWSERS):
        if name and shutil.which(name):
            return shutil.which(name)
    pytest.fail("Headless Chromium is needed to check the slides: run `make system-deps` "
                "(installs it with apt-get) or install chromium, or set CHROMIUM=/path/to/chrome.")


def run_browser(*args: str, timeout: float = 300) -> str:
    """Run headless Chromium with the network blocked; return its stdout."""
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", "--window-size=1280,720",
             # any request that leaves the machine fails: the decks must present offline
             "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND"]
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run([chromium(), *flags, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout)
    return done.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Build every deck once, the way `make slides` does: ``(out folder, {name: Deck}, seconds)``."""
    out = tmp_path_factory.mktemp("slides")
    start = time.perf_counter()
    decks = build_slides.build(out)
    return out, {d.path.stem: d for d in decks}, time.perf_counter() - start


@pytest.fixture(scope="module")
def pages(built):
    """Every built deck's HTML, parsed: ``{name: BeautifulSoup}``."""
    out, decks, _ = built
    return {name: BeautifulSoup((out / f"{name}.html").read_text(encoding="utf-8"), "html.parser")
            for name in decks}


def top_sections(page: BeautifulSoup) -> list:
    return page.select_one("div.reveal div.slides").find_all("section", recursive=False)


def slide_with(page: BeautifulSoup, has, *, avoid=()) -> int:
    """Index of the first slide after the title for which ``has(section)`` holds, not in ``avoid`` if possible."""
    found = [i for i, section in enumerate(top_sections(page)) if i > 0 and has(section)]
    assert found, "no such slide"
    return next((i for i in found if i not in avoid), found[0])


def has_math(section) -> bool:
    return bool(MATH.search(section.get_text()))


def has_figure(section) -> bool:
    return section.select_one('img[src^="data:image/png"]') is not None


def rendered(out: Path, name: str) -> BeautifulSoup:
    """The deck's DOM after Chromium ran it (with :data:`CHECKER` injected), parsed."""
    page = (out / f"{name}.html").read_text(encoding="utf-8")
    probe = out / f"_check_{name}.html"          # beside the deck, so lib/ resolves the same
    probe.write_text(page.replace("<head>", f"<head><script>{CHECKER.read_text()}</script>", 1), encoding="utf-8")
    return BeautifulSoup(run_browser("--virtual-time-budget=60000", "--dump-dom", probe.as_uri()), "html.parser")


def screenshot(out: Path, name: str, index: int) -> Path:
    """PNG of slide ``index`` of a deck, as a 1280 x 720 browser window shows it."""
    png = out / f"_shot_{name}_{index}.png"
    run_browser("--virtual-time-budget=10000", f"--screenshot={png}",
                f"{(out / f'{name}.html').as_uri()}?transition=none#/{index}")
    return png


@pytest.fixture(scope="module")
def browser(built, pages):
    """Chromium's view of every deck: ``{name: {"dom", "report", "shots": {kind: png}}}``.

    All browser runs (a DOM dump and three screenshots per deck) go in parallel.
    """
    out, decks, _ = built
    chosen = {}
    for name, page in pages.items():
        math = slide_with(page, has_math, avoid=[i for i, s in enumerate(top_sections(page)) if has_figure(s)])
        chosen[name] = {"first": 0, "math": math, "figure": slide_with(page, has_figure, avoid=[math])}
    with concurrent.futures.ThreadPoolExecutor((os.cpu_count() or 1) + 1) as pool:
        doms = {name: pool.submit(rendered, out, name) for name in decks}
        shots = {(name, kind): pool.submit(screenshot, out, name, i)
                 for name, kinds in chosen.items() for kind, i in kinds.items()}
        result = {}
        for name in decks:
            dom = doms[name].result()
            report = dom.select_one("pre#course-report")
            result[name] = {"dom": dom, "report": json.loads(report.text) if report else None,
                            "shots": {kind: shots[name, kind].result() for kind in chosen[name]},
                            "chosen": chosen[name]}
    return result


# ------------------------------------------------------------------------------------------
# The build and the HTML


def test_build_makes_every_deck_with_the_expected_slides(built, pages):
    out, decks, seconds = built
    print(f"built {len(decks)} decks in {seconds:.1f} s")
    assert set(decks) == set(EXPECTED_SLIDES), "a deck was added or removed: update EXPECTED_SLIDES"
    for name, deck in decks.items():
        assert deck.n_slides == EXPECTED_SLIDES[name], f"{name}: {deck.n_slides} slides"
        assert len(top_sections(pages[name])) == EXPECTED_SLIDES[name]
    index = (out / "index.html").read_text()
    assert all(f'href="{name}.html"' in index for name in decks)


def test_every_slide_has_speaker_notes(pages):
    for name, page in pages.items():
        for i, section in enumerate(top_sections(page)):
            notes = " ".join(n.get_text(" ", strip=True) for n in section.select("aside.notes"))
            assert len(notes) > 100, f"{name}, slide {i}: speaker notes missing or too short"


def test_code_stays_in_the_notebook_and_no_cell_failed(pages):
    for name, page in pages.items():
        assert not page.select(".jp-CodeMirrorEditor"), f"{name}: code cells are shown"
        errors = page.select('[data-mime-type="application/vnd.jupyter.stderr"], .jp-OutputArea-output pre')
        text = " ".join(e.get_text() for e in errors)
        assert "Traceback" not in text and "Error" not in text, f"{name}: {text[:300]}"


def decode_player(src: str, deck: Path):
    """Samples and rate of one ``<audio>`` source: a data URI or a file beside the deck."""
    if src.startswith("data:"):
        header, payload = src.split(",", 1)
        assert header.startswith("data:audio/") and header.endswith(";base64"), header[:40]
        return sf.read(io.BytesIO(base64.b64decode(payload)))
    path = (deck.parent / src).resolve()
    assert path.is_file() and deck.parent.resolve() in path.parents, f"{src} is not a file beside the deck"
    return sf.read(path)


def test_every_audio_player_has_a_source_that_decodes(built, pages):
    out, _, _ = built
    for name, page in pages.items():
        players = page.select("audio")
        assert len(players) >= MIN_PLAYERS, f"{name}: only {len(players)} audio players"
        for k, audio in enumerate(players):
            sources = [audio.get("src")] if audio.get("src") else [s.get("src") for s in audio.select("source")]
            assert sources and all(sources), f"{name}, player {k}: no source"
            for src in sources:
                y, sr = decode_player(src, out / f"{name}.html")
                assert sr >= 8000 and len(y) >= sr, f"{name}, player {k}: {len(y)} samples at {sr} Hz"
                assert np.isfinite(y).all() and 1e-3 < np.max(np.abs(y)) <= 1.0, f"{name}, player {k}: level"


def test_no_external_url_anywhere(built, pages):
    out, _, _ = built
    for name, page in pages.items():
        for tag in page.find_all(True):
            for attr in ("src", "href", "poster", "data", "action", "srcset", "xlink:href"):
                value = tag.get(attr)
                assert not (value and EXTERNAL.match(value)), f"{name}: <{tag.name} {attr}={value[:80]}>"
                if value and not value.startswith(("data:", "#", "javascript:")):
                    local = (out / value.split("?")[0].split("#")[0]).resolve()
                    assert local.exists(), f"{name}: {value} is not in the build"
            assert not CSS_EXTERNAL.search(tag.get("style", "")), f"{name}: external url() in a style"
        for style in page.select("style"):
            assert not CSS_EXTERNAL.search(style.get_text()), f"{name}: external url() or @import in CSS"
        for script in page.select("script"):
            assert not re.search(r"https?://", script.get_text()), f"{name}: a script names a URL"
    for css in (out / "lib").rglob("*.css"):
        assert not CSS_EXTERNAL.search(css.read_text(errors="replace")), f"{css} loads something remote"


# ------------------------------------------------------------------------------------------
# In the browser


def test_browser_loaded_everything_and_reveal_started(browser):
    for name, seen in browser.items():
        report = seen["report"]
        assert report is not None, f"{name}: the page never finished (no report from the checker)"
        assert report["failed"] == [], f"{name}: failed to load {report['failed']}"
        assert report["total"] == EXPECTED_SLIDES[name]
        assert "ready" in seen["dom"].select_one("div.reveal")["class"], f"{name}: reveal.js did not start"


def test_checker_ignores_what_reveal_unloads_and_measures_players_on_their_slide(built):
    """Under load the checker once reported ``failed to load ['SOURCE']``: reveal.js unloads
    the slides beyond its view distance by removing their players' ``<source>`` src, and a
    source still loading then reports an error with no src. This page makes both things
    happen on purpose (a far jump right away, and such an error event): the checker must
    report no failed resource, and the player's duration measured when its slide is shown."""
    out, _, _ = built
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(22050 * 20, dtype=np.float32), 22050, format="WAV", subtype="PCM_16")
    uri = "data:audio/wav;base64," + base64.b64encode(buffer.getvalue()).decode()
    page = f"""<!doctype html><html><head><meta charset="utf-8"><script>{CHECKER.read_text()}</script>
<link rel="stylesheet" href="lib/reveal.js/dist/reveal.css"></head><body><div class="reveal"><div class="slides">
<section><audio controls><source src="{uri}" type="audio/wav"></audio></section>
<section>two</section><section>three</section><section>four</section></div></div>
<script src="lib/reveal.js/dist/reveal.js"></script>
<script>Reveal.initialize({{viewDistance: 1}}); Reveal.on("ready", function () {{
  Reveal.slide(3);
  var emptied = document.createElement("source");
  document.querySelectorAll("section")[1].appendChild(emptied);
  emptied.dispatchEvent(new Event("error"));
}});</script></body></html>"""
    probe = out / "_check_unload.html"
    probe.write_text(page, encoding="utf-8")
    dom = BeautifulSoup(run_browser("--virtual-time-budget=60000", "--dump-dom", probe.as_uri()), "html.parser")
    report = json.loads(dom.select_one("pre#course-report").text)
    assert report["failed"] == []
    assert [a["error"] for a in report["audio"]] == [None] and abs(report["audio"][0]["duration"] - 20) < 0.1


def test_math_is_typeset_by_mathjax(browser, pages):
    for name, seen in browser.items():
        dom = seen["dom"]
        sources = dom.select('script[type^="math/tex"]')            # MathJax keeps each formula's TeX here
        output = dom.select(".MathJax_CHTML")                       # and renders it next to it
        expected = sum(len(MATH.findall(s.get_text())) for s in top_sections(pages[name]))
        assert expected >= 1, f"{name}: no formula in the deck"
        assert len(sources) >= expected, f"{name}: {len(sources)} of {expected} formulas seen by MathJax"
        assert len(output) == len(sources), f"{name}: {len(output)} of {len(sources)} formulas rendered"
        assert not dom.select(".mjx-merror, .MathJax_Error"), f"{name}: MathJax reported an error"
        assert not MATH.search(dom.select_one("div.slides").get_text(" ")), f"{name}: raw TeX left on a slide"


def test_no_slide_overflows_the_canvas(browser):
    for name, seen in browser.items():
        report = seen["report"]
        assert len(report["slides"]) == EXPECTED_SLIDES[name]
        for s in report["slides"]:
            assert s["height"] <= report["height"], f"{name}, slide {s['index']}: {s['height']} px tall"
            assert s["width"] <= report["width"], f"{name}, slide {s['index']}: {s['width']} px wide"


def test_browser_decodes_every_player(browser):
    for name, seen in browser.items():
        audio = seen["report"]["audio"]
        assert len(audio) >= MIN_PLAYERS
        assert all(a["error"] is None for a in audio), f"{name}: a player failed to decode"
        assert all(a["duration"] and a["duration"] >= 1 for a in audio), f"{name}: {audio}"


def pixels(png: Path) -> np.ndarray:
    image = np.asarray(Image.open(png).convert("RGB"), dtype=np.float64)
    assert image.shape == (720, 1280, 3), image.shape
    return image


def test_screenshots_are_not_blank(browser):
    for name, seen in browser.items():
        shots = {kind: pixels(png) for kind, png in seen["shots"].items()}
        for kind, image in shots.items():
            gray = image.mean(axis=2)
            inked = np.mean(gray < 200)                              # text, lines, images
            assert gray.std() > 15 and inked > 0.01, f"{name}, {kind} slide: blank ({inked:.3f} inked)"
        # a figure brings colour (spectrograms, coloured curves); the text and math slides are grey
        chroma = {kind: np.mean(image.max(axis=2) - image.min(axis=2) > 60) for kind, image in shots.items()}
        assert chroma["figure"] > 0.015, f"{name}: no figure seen {chroma}"
        # three different slides, not one page shown three times (the hash picks the slide)
        assert len(set(seen["chosen"].values())) == 3, seen["chosen"]
        kinds = list(shots)
        for a, b in zip(kinds, kinds[1:]):
            assert np.mean(np.abs(shots[a] - shots[b])) > 3, f"{name}: {a} and {b} screenshots are the same"


# ------------------------------------------------------------------------------------------
# The sources and the helper module (no build needed)


@pytest.mark.parametrize("path", build_slides.deck_paths(), ids=lambda p: p.name)
def test_slide_notebooks_are_committed_clean_with_notes_after_every_slide(path):
    nb = nbformat.read(path, as_version=4)
    assert not [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert nb.metadata.get("title"), "the deck's title (metadata.title) names the HTML page"
    kinds = [c.metadata.get("slideshow", {}).get("slide_type", "-") for c in nb.cells]
    starts = [i for i, k in enumerate(kinds) if k == "slide"] + [len(kinds)]
    for a, b in zip(starts, starts[1:]):
        assert "notes" in kinds[a:b], f"the slide starting at cell {a} has no notes cell"


def test_metric_definitions_are_data_with_a_citation():
    table = slides.metric_definitions()
    assert table["Metric"].tolist() == ["SDR", "SIR", "SAR"] and table.shape == (3, 3)
    assert "Quick Notes" in table.attrs["source"] and "Evaluation Metrics" in table.attrs["source"]


def test_html_table_formats_escapes_and_highlights():
    df = pd.DataFrame({"model": ["a<b", "c"], "sdr": [-1.234, np.nan], "n": [3, 4], "extra": [True, False]},
                      index=["x", "y"])
    page = BeautifulSoup(slides.html_table(df, digits={"sdr": 1}, highlight=[1], caption="src").data, "html.parser")
    rows = page.select("tbody tr")
    assert [td.get_text() for td in rows[0].select("td")] == ["a<b", "−1.2", "3", "yes"]
    assert rows[1].select("td")[1].get_text() == "N/A" and rows[1].get("class") == ["highlight"]
    assert page.select_one("caption").get_text() == "src" and "num" in page.select("th")[1]["class"]
    with_index = BeautifulSoup(slides.html_table(df, index=True, highlight=["x"], na_rep="").data, "html.parser")
    assert [th.get_text() for th in with_index.select("th")] == ["", "model", "sdr", "n", "extra"]
    assert with_index.select("tbody tr")[0].get("class") == ["highlight"]
    assert with_index.select("tbody tr")[1].select("td")[2].get_text() == ""
    capped = pd.DataFrame({"SDR": [250.0, 12.34, np.inf]}, index=["hidden reference", "system", "perfect"])
    cells = BeautifulSoup(slides.html_table(capped, index=True, digits=1, ceiling=60).data, "html.parser").select("td.num")
    assert [td.get_text() for td in cells] == ["> 60", "12.3", "∞"]
