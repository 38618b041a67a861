"""The course website (tools/build_site.py), built the way ``make course`` builds it and read in
headless Chromium offline: from disk and from a static web server on this machine, with every
request that would leave the machine sent to a recording proxy instead.

The site is built once per module from notebook 00 executed in fast mode by tools/run_course.py
(the slides are left out here: tests/test_slides.py builds them).
"""

import base64
import functools
import http.server
import io
import json
import os
import re
import socketserver
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import numpy as np
import pytest
import soundfile as sf
import yaml
from bs4 import BeautifulSoup
from test_slides import chromium

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import build_site  # noqa: E402

from course_utils import project  # noqa: E402

CHECKER = Path(__file__).with_name("site_checker.js")
NOTEBOOK = "00_introduction"
# what Chromium itself contacts even with its background services switched off (not the page)
BROWSER_OWN = {"accounts.google.com", "update.googleapis.com", "clients2.google.com"}
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate",
         "--no-pings", "--disable-extensions", "--disable-default-apps", "--disable-domain-reliability",
         "--autoplay-policy=no-user-gesture-required", "--window-size=1280,900"]


class Recorder(socketserver.BaseRequestHandler):
    """A proxy that forwards nothing: it writes down each request's first line and refuses it."""

    def handle(self):
        line = self.request.recv(65536).split(b"\r\n", 1)[0].decode("latin-1")
        self.server.requests.append(line)
        self.request.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")


def host_of(request_line: str) -> str:
    """``CONNECT host:443 HTTP/1.1`` or ``GET http://host/path HTTP/1.1`` -> ``host``."""
    target = request_line.split()[1]
    return target.rsplit(":", 1)[0] if "://" not in target else urlparse(target).hostname


@pytest.fixture(scope="module")
def proxy():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Recorder)
    server.requests = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


def browse(proxy, url: str, *, budget_ms: int = 30000) -> str:
    """Open ``url`` in headless Chromium whose only way out is the recording proxy; the DOM after
    ``budget_ms`` of virtual time."""
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run([chromium(), *FLAGS, f"--proxy-server=127.0.0.1:{proxy.server_address[1]}",
                               f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}", "--dump-dom", url],
                              capture_output=True, text=True, timeout=300)
    return done.stdout


def page_requests(proxy) -> list[str]:
    return [r for r in proxy.requests if host_of(r) not in BROWSER_OWN]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """``make course``'s output folder for notebook 00 (fast mode, no slides)."""
    out = tmp_path_factory.mktemp("course")
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "run_course.py"), "--only", f"{NOTEBOOK}.ipynb",
                          "--out", str(out), "--no-slides"], capture_output=True, text=True,
                         env={**os.environ, "COURSE_FAST": "1"})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return out, run.stdout


@pytest.fixture(scope="module")
def site(built):
    return built[0] / "site"


def probe(site: Path, page: str) -> Path:
    """A copy of ``page`` beside it with the checker injected (relative links still work)."""
    text = (site / page).read_text(encoding="utf-8")
    copy = site / f"_probe_{Path(page).name}"
    copy.write_text(text.replace("<head>", f"<head><script>{CHECKER.read_text()}</script>", 1), encoding="utf-8")
    return copy


def report_of(dom: str) -> dict:
    found = BeautifulSoup(dom, "html.parser").select_one("pre#course-report")
    assert found is not None, "the page never finished loading (no report from the checker)"
    return json.loads(found.get_text())


@pytest.fixture(scope="module")
def notebook_page(site, proxy):
    """The checker's report on notebook 00's page, opened from disk."""
    return report_of(browse(proxy, probe(site, f"{NOTEBOOK}.html").as_uri(), budget_ms=60000))


def test_landing_page_has_the_syllabus_with_goals_run_time_and_colab(built, site):
    out, _ = built
    page = BeautifulSoup((site / "index.html").read_text(encoding="utf-8"), "html.parser")
    nb = nbformat.read(ROOT / "notebooks" / f"{NOTEBOOK}.ipynb", as_version=4)
    entry = page.select_one("section#syllabus").find("a", href=f"{NOTEBOOK}.html").find_parent("li")
    goals = [" ".join(li.get_text().replace("\u2019", "'").split()) for li in entry.select("ol > li")]
    assert len(goals) == 6 and goals == [re.sub(r"[*`]", "", g) for g in build_site.goals(nb)]
    assert goals[0].startswith("write down the mixture model")
    wall = json.loads((out / "report.json").read_text())["rows"][0]["wall_s"]
    assert f"ran in {wall / 60:.1f} min" in entry.get_text()
    badge = entry.find("img", alt="Open in Colab")
    assert badge.find_parent("a")["href"] == project.colab_url(f"notebooks/{NOTEBOOK}.ipynb")
    assert (site / badge["src"]).is_file()  # the site's own copy, not an image on colab's server
    assert "What separation is" in entry.get_text()  # the topic from the notebook's metadata
    # the left-hand table of contents: the notebook, the homework (each assignment), slides, leaderboard
    nav = {a["href"] for a in page.select("nav.bd-docs-nav a")}
    assert {f"{NOTEBOOK}.html", "homework.html", "slides.html", "leaderboard.html"} <= nav
    assert {f"homework/{n}/{n}.html" for n in [*build_site.build_homework.assignments(), "capstone"]} <= nav


def test_notebook_page_reads_offline_with_math_figures_and_sound(notebook_page, site):
    r = notebook_page
    assert r["failed"] == [], r["failed"]
    assert r["mathjax"] and r["formulas"] >= 3 and r["typeset"] == r["formulas"] and r["errors"] == 0, r
    assert r["images"] >= 3 and r["imagesLoaded"] == r["images"], r
    player = r["player"]
    assert player["preload"] == "none" and player["error"] is None and player["played"] > 0, player
    assert player["src"].endswith(".mp3") and (site / build_site.AUDIO_DIR / player["src"]).is_file()


def test_every_player_is_an_mp3_file_at_the_clips_own_rate(built, site):
    out, _ = built
    page = (site / f"{NOTEBOOK}.html").read_text(encoding="utf-8")
    assert "data:audio" not in page and "data:image" not in page  # nothing embedded
    tags = re.findall(r"<audio[^>]*>", page)
    sources = re.findall(r'<source src="([^"]+)" type="audio/mpeg">', page)
    assert len(tags) == len(sources) >= 5 and all('preload="none"' in t for t in tags)
    # the executed notebook's first WAV and the first page player: same rate, same length, same sound
    executed = (out / "executed" / f"{NOTEBOOK}.ipynb").read_text()
    wav, sr = sf.read(io.BytesIO(base64.b64decode(
        re.search(r"data:audio/wav;base64,([A-Za-z0-9+/=]+)", executed).group(1))))
    mp3, sr_mp3 = sf.read(site / sources[0])
    assert sr_mp3 == sr
    assert abs(len(mp3) - len(wav)) < 0.05 * sr
    rms = lambda y: np.sqrt(np.mean(np.square(y)))  # noqa: E731
    assert abs(20 * np.log10(rms(mp3) / rms(wav))) < 0.5


def test_search_finds_a_word_from_a_notebook(site, proxy):
    # "underdetermined" is in notebook 00's prose and in no other page of this site
    dom = BeautifulSoup(browse(proxy, (site / "search.html").as_uri() + "?q=underdetermined"), "html.parser")
    found = {urlparse(a["href"]).path for a in dom.select("#search-results ul.search a")}
    assert f"{NOTEBOOK}.html" in found, dom.select_one("#search-results")


def test_previous_and_next_links_walk_the_course_in_order(site):
    order, page = [], "index.html"
    while page and len(order) < 20:
        order.append(page)
        soup = BeautifulSoup((site / page).read_text(encoding="utf-8"), "html.parser")
        nxt = soup.select_one("a.right-next")
        page = str((site / page).parent.joinpath(nxt["href"]).resolve().relative_to(site.resolve())) if nxt else None
        if page:
            assert (site / page).is_file(), page
            back = BeautifulSoup((site / page).read_text(encoding="utf-8"), "html.parser").select_one("a.left-prev")
            assert (site / page).parent.joinpath(back["href"]).resolve() == (site / order[-1]).resolve()
    names = [*build_site.build_homework.assignments(), "capstone"]
    assert order == ["index.html", f"{NOTEBOOK}.html", "homework.html",
                     *[f"homework/{n}/{n}.html" for n in names], "slides.html", "leaderboard.html"]


def test_site_works_from_a_static_web_server_and_nothing_leaves_the_machine(site, proxy, notebook_page):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    try:
        r = report_of(browse(proxy, f"http://127.0.0.1:{web.server_address[1]}/{probe(site, 'index.html').name}"))
    finally:
        web.shutdown()
    assert r["failed"] == [] and r["images"] == r["imagesLoaded"]
    # every page visited in this module (disk, search, web server) asked for nothing outside
    assert proxy.requests, "the recorder saw no traffic at all: is the proxy in use?"
    assert page_requests(proxy) == [], page_requests(proxy)


def test_the_recorder_catches_a_page_that_loads_from_the_network(tmp_path, proxy):
    """The check above can fail: a page with an external image and script is caught."""
    page = tmp_path / "leaky.html"
    page.write_text('<html><body><img src="https://cdn.example.org/x.png">'
                    '<script src="http://fonts.example.com/a.js"></script></body></html>')
    seen = len(proxy.requests)
    browse(proxy, page.as_uri(), budget_ms=5000)
    hosts = {host_of(r) for r in proxy.requests[seen:]} - BROWSER_OWN
    proxy.requests[seen:] = [r for r in proxy.requests[seen:] if host_of(r) in BROWSER_OWN]  # not the site's
    assert hosts == {"cdn.example.org", "fonts.example.com"}


def test_make_course_prints_page_weights_within_the_limits(built):
    out, stdout = built
    weights = json.loads((out / "report.json").read_text())["site"]
    assert "page+figures (MB)" in stdout and f"{weights['total_mb']:.1f} MB in all" in stdout
    assert weights["total_mb"] <= build_site.SITE_LIMIT_MB
    assert all(p["mb"] <= build_site.PAGE_LIMIT_MB for p in weights["pages"])
    page = next(p for p in weights["pages"] if p["page"] == f"{NOTEBOOK}.html")
    assert page["audio_mb"] > 0.1  # its players' files, counted apart


def test_page_weights_count_the_html_its_images_and_apart_its_audio(tmp_path):
    (tmp_path / "_images").mkdir()
    (tmp_path / "_images" / "a.png").write_bytes(b"x" * 2**20)
    (tmp_path / "s.mp3").write_bytes(b"x" * 2**19)
    page = '<img alt="" src="_images/a.png"><img src="_images/a.png"><audio><source src="s.mp3"></audio>'
    (tmp_path / "p.html").write_text(page)
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "q.html").write_text("theme file, not a page")
    rows = build_site.page_weights(tmp_path)
    assert rows == [{"page": "p.html", "mb": round((2**20 + len(page)) / 2**20, 2), "audio_mb": 0.5}]
    assert build_site.within_limits(rows, 61.0, fast=True) == ["the site weighs 61.0 MB"]
    assert build_site.within_limits(rows, 61.0, fast=False) == []
    assert build_site.within_limits([{"page": "big.html", "mb": 5.2, "audio_mb": 0}], 6, fast=False) == \
        ["big.html weighs 5.2 MB"]


def test_a_clip_heard_twice_is_stored_once(tmp_path):
    buffer = io.BytesIO()
    sf.write(buffer, 0.1 * np.sin(np.arange(22050) / 5.0), 22050, format="WAV")
    uri = base64.b64encode(buffer.getvalue()).decode()
    player = f'<audio  controls="controls" >\n<source src="data:audio/wav;base64,{uri}" type="audio/wav" />\n</audio>'
    markup = build_site.audio_to_files(player + player, tmp_path, prefix="a/")
    assert len(list(tmp_path.iterdir())) == 1 and markup.count('<audio preload="none"') == 2
    assert markup.count(f'src="a/{next(tmp_path.iterdir()).name}"') == 2


def test_slides_page_links_every_deck_copied_beside_it(tmp_path):
    slides = tmp_path / "slides"
    slides.mkdir()
    for name in ("01_separation_and_stft.html", "02_masking_and_phase.html", "index.html"):
        (slides / name).write_text("<html></html>")
    src = tmp_path / "src"
    (src / "_extra").mkdir(parents=True)
    build_site.slides_page(src, slides)
    links = re.findall(r'href="([^"]+)"', (src / "slides.md").read_text())
    assert links == ["slides/01_separation_and_stft.html", "slides/02_masking_and_phase.html"]
    assert all((src / "_extra" / link).is_file() for link in links)
    build_site.slides_page(src, None)
    assert "make slides" in (src / "slides.md").read_text()


def test_a_deck_copied_into_the_site_keeps_its_sound_and_figures_as_files(tmp_path):
    buffer = io.BytesIO()
    sf.write(buffer, 0.1 * np.sin(np.arange(44100) / 9.0), 44100, format="WAV")
    wav = base64.b64encode(buffer.getvalue()).decode()
    png = base64.b64encode(b"\x89PNG not really").decode()
    deck = tmp_path / "01_deck.html"
    deck.write_text(f'<script src="{build_site.build_slides.MATHJAX_URL}"></script><img alt="" src="data:image/png;base64,{png}">'
                    f'<audio controls="controls"><source src="data:audio/wav;base64,{wav}" type="audio/wav" /></audio>')
    build_site.light_deck(deck)
    page = deck.read_text()
    assert "data:" not in page and f'src="../_static/{build_site.build_slides.MATHJAX_URL}"' in page
    (image,), (clip,) = (tmp_path / "images").iterdir(), (tmp_path / "audio").iterdir()
    assert f'src="images/{image.name}"' in page and image.read_bytes() == b"\x89PNG not really"
    assert f'<source src="audio/{clip.name}" type="audio/mpeg">' in page and sf.info(clip).samplerate == 44100


def test_leaderboard_page_holds_notebook_07s_table(tmp_path):
    board = tmp_path / "leaderboard.md"
    board.write_text("Bundled test songs: median over 8 songs; dB\n\n| method | SDR vocals |\n|---|---:|\n"
                     "| mixture | -4.1 |\n| U-Net | 7.6 |\n")
    build_site.leaderboard_page(tmp_path, board)
    page = (tmp_path / "leaderboard.md").read_text()
    assert page.startswith("# Leaderboard\n") and page.endswith(board.read_text())
    build_site.leaderboard_page(tmp_path, tmp_path / "missing.md")
    assert "did not write a leaderboard" in (tmp_path / "leaderboard.md").read_text()


def test_widgets_are_noted_not_lost_silently():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("interact(f)")
    cell.outputs = [nbformat.v4.new_output("display_data", data={build_site.WIDGET: {"model_id": "x"},
                                                                 "text/plain": "interactive(...)"})]
    nb.cells = [cell]
    nb.metadata["widgets"] = {"state": {}}
    page = build_site.page_notebook(nb, Path("/nonexistent"), prefix="")
    assert page.cells[0].outputs[0]["data"] == {"text/html": build_site.WIDGET_NOTE}
    assert "widgets" not in page.metadata


def test_pages_workflow_builds_with_make_course_and_publishes_the_site():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text())
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    runs = " ".join(s.get("run", "") for s in steps)
    assert "make course" in runs
    uploads = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-pages-artifact")]
    assert uploads and uploads[0]["with"]["path"] == "build/site"
    assert any(str(s.get("uses", "")).startswith("actions/deploy-pages") for s in steps)
    assert workflow["permissions"]["pages"] == "write"
