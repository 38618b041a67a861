"""The capstone (course_utils.capstone): submissions graded on hidden songs in the sandbox.

Two bundled test songs stand in for the hidden ones (an instructor renders new ones with
``tools/generate_dataset.py``); they are copied to a folder of the bundled layout that, like a
real hidden set, lies outside everything a submission can read. The reference submission is the
capstone notebook itself with the weights file it writes; its points are computed here a second
time from the course's U-Nets and must be equal.
"""

import csv
import os
import shutil
import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from course_utils import capstone, data, grading, methods, metrics, sandbox

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "homework" / "capstone" / "capstone.ipynb"
SONGS = ("song_072", "song_073")
# short limits, so that the submission that never returns costs seconds, not minutes
LIMITS = grading.Limits(wall_s=30, cell_s=10, memory_mb=3072, attachment_kb=capstone.WEIGHTS_MB * 1024)

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the sandbox needs Linux")


def copy_songs(target: Path) -> Path:
    """A folder in the bundled layout with the songs of :data:`SONGS` only."""
    source = data.bundled_root()
    target.mkdir(parents=True)
    for name in ("manifest.csv", "songs.csv"):
        with (source / name).open(newline="") as f:
            rows = list(csv.DictReader(f))
        with (target / name).open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(r for r in rows if r["song"] in SONGS)
    for song in SONGS:
        shutil.copytree(source / "test" / song, target / "test" / song)
    return target


def notebook(*sources: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import numpy as np\nfrom course_utils import capstone"),
                *map(nbformat.v4.new_code_cell, sources)]
    return nb


SUBMISSIONS = {
    "mixture": "def separate(mixture, sr):\n    return {stem: mixture for stem in capstone.STEMS}",
    "crashes": "import os, signal\ndef separate(mixture, sr):\n    os.kill(os.getpid(), signal.SIGKILL)",
    "raises": "def separate(mixture, sr):\n    raise RuntimeError('not trained yet')",
    "too_slow": "import time\ndef separate(mixture, sr):\n    time.sleep(1000)",
    # blocks the per-song timer and never returns: only the wall-clock limit ends it
    "never_returns": "import signal, time\ndef separate(mixture, sr):\n"
                     "    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])\n    time.sleep(1000)",
    "half_length": "def separate(mixture, sr):\n    return {stem: mixture[::2] for stem in capstone.STEMS}",
    "three_stems": "def separate(mixture, sr):\n    return {stem: mixture for stem in ('vocals', 'drums', 'bass')}",
    "not_finite": "def separate(mixture, sr):\n    return {stem: mixture * np.nan for stem in capstone.STEMS}",
    "no_function": "estimate = 'I forgot the function'",
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade every submission once, as ``course-grade --capstone`` does: ``(table, out, songs)``."""
    base = tmp_path_factory.mktemp("capstone")
    hidden = copy_songs(base / "hidden")
    subs = base / "submissions"
    subs.mkdir()
    # the reference: the capstone notebook and the weights file its otter_ignore cell writes
    reference = subs / "reference"
    reference.mkdir()
    shutil.copy(NOTEBOOK, reference / NOTEBOOK.name)
    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    packing = [c.source for c in cells if "otter_ignore" in c.metadata.get("tags", [])]
    here = os.getcwd()
    try:
        os.chdir(reference)
        namespace = {}
        for source in [c.source for c in cells if c.cell_type == "code"][1:2] + packing:  # imports, then packing
            exec(source, namespace)
    finally:
        os.chdir(here)
    assert (reference / "weights.pt").is_file()
    for name, source in SUBMISSIONS.items():
        nbformat.write(notebook(source), subs / f"{name}.ipynb")
    # weights over the cap are left out, with a note; the notebook then cannot load them
    oversized = subs / "oversized"
    shutil.copytree(reference, oversized)
    with (oversized / "weights.pt").open("ab") as f:
        f.write(b"\0" * (capstone.WEIGHTS_MB * 2**20))
    out = base / "grades"
    exit_code = grading.main([str(subs), "--capstone", str(hidden), "--out", str(out), "--timeout", str(LIMITS.wall_s),
                              "--cell-timeout", str(LIMITS.cell_s), "--memory-mb", str(LIMITS.memory_mb)])
    assert exit_code == 0
    songs = capstone.hidden_songs(hidden)
    assert [t.name for t in songs] == list(SONGS)
    return pd.read_csv(out / "grades.csv"), out, songs


def row(table, student):
    return table.set_index("student").loc[student]


def test_the_reference_gets_the_points_of_the_course_unets(graded):
    table, _, songs = graded
    expected = metrics.summarise(metrics.evaluate(songs, {"U-Net": methods.unet()}, definition="v4"),
                                 metric="SDR", sources=capstone.STEMS).loc["U-Net"]
    got = row(table, "reference")
    assert got["status"] == "ok"
    for stem in capstone.STEMS:
        assert got[f"SDR {stem}"] == pytest.approx(expected[stem], abs=0.02)  # the estimates travel as float32
    want = capstone.points({s: float(expected[s]) for s in capstone.STEMS})
    assert {s: got[f"points {s}"] for s in capstone.STEMS} == want
    assert got["points"] == sum(want.values()) > 0


def test_the_mixture_gets_the_baseline_row(graded):
    table, _, songs = graded
    expected = metrics.summarise(metrics.evaluate(songs, {"mixture": methods.mixture()}, definition="v4"),
                                 metric="SDR", sources=capstone.STEMS).loc["mixture"]
    got = row(table, "mixture")
    assert got["status"] == "ok" and got["points"] == 0
    assert [got[f"SDR {s}"] for s in capstone.STEMS] == pytest.approx(list(expected), abs=0.02)


@pytest.mark.parametrize("student, status, says", [
    ("crashes", "crashed", "died"),
    ("raises", "failed", "RuntimeError: not trained yet"),
    ("too_slow", "failed", f"ran longer than {LIMITS.cell_s:.0f} s"),
    ("never_returns", "timeout", f"{LIMITS.wall_s:.0f} s limit"),
    ("half_length", "wrong-output", "expected the mixture's"),
    ("three_stems", "wrong-output", "not ['vocals', 'drums', 'bass', 'other']"),
    ("not_finite", "wrong-output", "finite"),
    ("no_function", "no-separator", ""),
    ("oversized", "failed", "weights.pt"),
])
def test_a_broken_submission_gets_its_status_and_no_points(graded, student, status, says):
    table, out, _ = graded
    got = row(table, student)
    assert got["status"] == status and got["points"] == 0, dict(got)
    assert says in str(got.get("message", "")) + (out / "feedback" / f"{student}.txt").read_text()
    assert np.isnan(got["SDR vocals"])


def test_oversized_weights_are_left_out_with_a_note(graded):
    _, out, _ = graded
    feedback = (out / "feedback" / "oversized.txt").read_text()
    assert "left out weights.pt" in feedback and f"{capstone.WEIGHTS_MB}.0 MB limit" in feedback


def test_the_leaderboard_ranks_by_points_and_is_written_three_ways(graded):
    table, out, songs = graded
    assert list(table["student"][:2]) == ["reference", "mixture"]  # the most points first, then the baseline
    assert list(table["points"]) == sorted(table["points"], reverse=True)
    md = (out / "leaderboard.md").read_text()
    assert md.splitlines()[0].startswith(f"{len(songs)} hidden songs") and "| 1 | reference |" in md
    page = (out / "leaderboard.html").read_text()
    assert "<td>reference</td>" in page and "<script" not in page and "http" not in page
    scores = pd.read_csv(out / "leaderboard.csv")
    assert set(scores["method"]) == {"reference", "mixture"} and set(scores["track"]) == set(SONGS)


def test_a_submission_sees_no_hidden_stem(tmp_path):
    """The hidden songs are hidden from the sandbox: a separator that looks for them finds nothing."""
    hidden = copy_songs(tmp_path / "hidden")
    (hidden / "MARKER-7f3a").write_text("a file only the hidden folder holds")
    probe = ("import os\nfound = []\nfor top in ('/', '/tmp', os.getcwd()):\n    for d, _, fs in os.walk(top):\n"
             "        found += [os.path.join(d, f) for f in fs if f == 'MARKER-7f3a']\n"
             "def separate(mixture, sr):\n    if found:\n        raise RuntimeError(f'found {found[:2]}')\n"
             "    return {stem: mixture for stem in capstone.STEMS}")
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(notebook(probe), subs / "snoop.ipynb")
    try:
        table = capstone.grade_capstone(subs, hidden, tmp_path / "out", limits=LIMITS)
    except sandbox.JobError as exc:
        pytest.skip(f"this machine cannot isolate submissions: {exc}")
    assert table["status"][0] == "ok", table["status"][0]


def test_the_readmes_state_the_contract_of_the_module():
    thresholds = ", ".join(f"{t:g}" for t in capstone.THRESHOLDS[:-1]) + f" and {capstone.THRESHOLDS[-1]:g} dB"
    for readme in (ROOT / "README.md", ROOT / "notebooks" / "homework" / "README.md"):
        text = " ".join(readme.read_text().split())
        assert thresholds in text and f"at most {capstone.WEIGHTS_MB} MB" in text, readme
