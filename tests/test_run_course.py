"""`make course`'s runner: executes notebooks, writes HTML with audio players, an index and a table."""

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
from bs4 import BeautifulSoup
from test_slides import run_browser  # headless Chromium with the network blocked

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import build_slides  # noqa: E402


def make_notebook(path: Path, code: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    text = "# demo\n\nInline $x_i^2$ and a display $$\\sum_{i=1}^{N} \\frac{a_i}{b_i}.$$"
    nb.cells = [nbformat.v4.new_markdown_cell(text)] + [nbformat.v4.new_code_cell(c) for c in code]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_runner_writes_pages_index_and_report_and_flags_failures(tmp_path):
    src = tmp_path / "nbs"
    src.mkdir()
    make_notebook(src / "01_good.ipynb", [
        "import numpy as np\nfrom course_utils import listening",
        "listening.players({'tone': np.sin(np.linspace(0, 2000, 8000)).astype('float32')}, sr=8000)",
        "import matplotlib.pyplot as plt\nplt.plot([0, 1])\nplt.title('a line')\nplt.show()",
        "big = np.ones(30_000_000)  # 240 MB, so peak memory is measurable\nprint(big.sum())",
        "import os\nprint('results go to', os.environ['COURSE_BUILD_DIR'])",
    ])
    make_notebook(src / "02_bad.ipynb", ["raise ValueError('boom')"])
    out = tmp_path / "build"
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "run_course.py"), "--notebooks", str(src),
                          "--out", str(out), "--timeout", "120"], capture_output=True, text=True)
    assert run.returncode == 1, run.stdout + run.stderr  # one notebook failed
    rows = {r["notebook"]: r for r in json.loads((out / "report.json").read_text())["rows"]}
    assert rows["01_good.ipynb"]["status"] == "ok"
    assert rows["02_bad.ipynb"]["status"] == "failed" and "boom" in rows["02_bad.ipynb"]["message"]
    assert rows["01_good.ipynb"]["peak_mb"] > 240  # the kernel's memory, not the runner's
    page = (out / "01_good.html").read_text()
    assert page.count("<audio") == 1 and "data:audio/wav;base64" in page
    assert "30000000.0" in page
    assert len(re.findall(r'<img [^>]*src="data:image/png', page)) == 1  # the figure is in the page
    index = (out / "index.html").read_text()
    assert "href='01_good.html'" in index and "href='02_bad.html'" in index
    assert "01_good.ipynb" in run.stdout and "failed" in run.stdout  # the printed table
    assert f"results go to {out.resolve()}" in page  # notebooks that write results write into the output folder
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', page)
    assert [s for s in scripts if "mathjax" in s.lower()] == [build_slides.MATHJAX_URL], scripts
    # offline (every request that leaves the machine fails), MathJax from lib/ typesets both formulas
    dom = BeautifulSoup(run_browser("--virtual-time-budget=30000", "--dump-dom", (out / "01_good.html").as_uri()),
                        "html.parser")
    typeset = dom.select("span.MathJax_CHTML")
    assert len(typeset) == 2, f"{len(typeset)} typeset formulas"
    assert "Math Processing Error" not in dom.get_text() and "$x_i^2$" not in dom.get_text()


def test_runner_runs_only_the_notebooks_asked_for(tmp_path):
    src = tmp_path / "nbs"
    src.mkdir()
    make_notebook(src / "01_one.ipynb", ["print('one')"])
    make_notebook(src / "02_two.ipynb", ["print('two')"])
    out = tmp_path / "build"
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "run_course.py"), "--notebooks", str(src),
                          "--out", str(out), "--only", "02_*"], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    rows = json.loads((out / "report.json").read_text())["rows"]
    assert [r["notebook"] for r in rows] == ["02_two.ipynb"]
