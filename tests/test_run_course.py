"""`make course`'s runner: executes notebooks, keeps the executed copies, measures them, builds the site."""

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent


def make_notebook(path: Path, code: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    text = "# demo\n\nInline $x_i^2$ and a display $$\\sum_{i=1}^{N} \\frac{a_i}{b_i}.$$"
    nb.cells = [nbformat.v4.new_markdown_cell(text)] + [nbformat.v4.new_code_cell(c) for c in code]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_runner_writes_executed_notebooks_report_and_site_and_flags_failures(tmp_path):
    src = tmp_path / "nbs"
    src.mkdir()
    make_notebook(src / "01_good.ipynb", [
        "import numpy as np\nfrom course_utils import listening",
        "listening.players({'tone': np.sin(np.linspace(0, 2000, 8000)).astype('float32')}, sr=8000)",
        "import matplotlib.pyplot as plt\nplt.plot([0, 1])\nplt.title('a line')\nplt.show()",
        "big = np.ones(30_000_000)  # 240 MB, so peak memory is measurable\nprint(big.sum())",
        "import os\nprint('results go to', os.environ['COURSE_BUILD_DIR'])",
    ])
    make_notebook(src / "02_bad.ipynb", ["print('before')", "raise ValueError('boom')", "print('never')"])
    out = tmp_path / "build"
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "run_course.py"), "--notebooks", str(src),
                          "--out", str(out), "--timeout", "120", "--no-slides"], capture_output=True, text=True)
    assert run.returncode == 1, run.stdout + run.stderr  # one notebook failed
    report = json.loads((out / "report.json").read_text())
    rows = {r["notebook"]: r for r in report["rows"]}
    assert rows["01_good.ipynb"]["status"] == "ok"
    assert rows["02_bad.ipynb"]["status"] == "failed" and "boom" in rows["02_bad.ipynb"]["message"]
    assert rows["01_good.ipynb"]["peak_mb"] > 240  # the kernel's memory, not the runner's
    executed = nbformat.read(out / "executed" / "01_good.ipynb", as_version=4)
    assert "30000000.0" in executed.cells[4].outputs[0]["text"]
    assert f"results go to {out.resolve()}" in executed.cells[5].outputs[0]["text"]  # results go to the output folder
    # the site: each notebook a page (the failed one with its partial output), sound and figures as files
    page = (out / "site" / "01_good.html").read_text()
    assert page.count("<audio") == 1 and "data:audio" not in page and 'preload="none"' in page
    assert len(re.findall(r'<img [^>]*src="_images/[^"]+\.png"', page)) == 1 and "data:image" not in page
    bad = BeautifulSoup((out / "site" / "02_bad.html").read_text(), "html.parser").get_text()
    assert "before" in bad and "ValueError: boom" in bad
    assert nbformat.read(out / "executed" / "02_bad.ipynb", as_version=4).cells[3].outputs == []  # it stopped there
    assert "01_good.ipynb" in run.stdout and "failed" in run.stdout  # the printed table
    assert "page+figures (MB)" in run.stdout and "01_good.html" in run.stdout  # and the page weights
    assert {p["page"] for p in report["site"]["pages"]} >= {"index.html", "01_good.html", "02_bad.html"}


def test_runner_runs_only_the_notebooks_asked_for(tmp_path):
    src = tmp_path / "nbs"
    src.mkdir()
    make_notebook(src / "01_one.ipynb", ["print('one')"])
    make_notebook(src / "02_two.ipynb", ["print('two')"])
    out = tmp_path / "build"
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "run_course.py"), "--notebooks", str(src),
                          "--out", str(out), "--only", "02_*", "--no-site"], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    rows = json.loads((out / "report.json").read_text())["rows"]
    assert [r["notebook"] for r in rows] == ["02_two.ipynb"]
