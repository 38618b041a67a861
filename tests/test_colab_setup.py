"""The setup cell's Colab branch, run for real in a Colab-like Python.

The Python is a fresh venv that sees the project's packages (those of the interpreter running
the tests, linked in, so no torch is downloaded) except torchaudio and the course itself: a
Colab with torch preinstalled and torchaudio missing, the case that used to crash. The cell
runs with ``google.colab`` stubbed, the repository's URL replaced by a local clone and
``/content/course`` by a temporary folder. It must install torchaudio matching torch, install
the course, leave torch as it was, import, and cost nothing when run again.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from course_utils.project import REPOSITORY, SETUP_CELL

ROOT = Path(__file__).resolve().parent.parent
HIDDEN = ("torchaudio", "course_utils", "course-utils", "__editable__.course_utils", "__editable___course_utils",
          "setuptools", "pkg_resources", "_distutils_hack", "distutils-precedence")
"""What the Colab-like Python must not see of the project's environment: torchaudio and the
course (to be installed), and the build tools, which the venv has of its own and which pip's
isolated builds must not find on an extra site folder."""


def colab_like_python(folder: Path) -> Path:
    """A venv whose extra site folder links every package of this environment but HIDDEN."""
    layer = folder / "preinstalled"
    layer.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.lower().startswith(HIDDEN):
            (layer / entry.name).symlink_to(entry)
    venv = folder / "venv"
    subprocess.run([sys._base_executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "preinstalled.pth").write_text(f"import site; site.addsitedir({str(layer)!r})\n")
    return python


RUN_CELL = """\
import json, sys, types
sys.modules["google.colab"] = types.ModuleType("google.colab")  # what Colab's kernel has imported
exec(compile(open(sys.argv[1]).read(), "setup cell", "exec"))
import importlib.metadata, torchaudio
from course_utils import metrics
print("RESULT " + json.dumps({"torch": importlib.metadata.version("torch"), "torchaudio": torchaudio.__version__,
                             "metrics": metrics.__file__, "fast": FAST}))
"""


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    folder = tmp_path_factory.mktemp("colab")
    python = colab_like_python(folder)
    origin = folder / "origin"  # stands in for GitHub: a clone of this repository's committed state
    subprocess.run(["git", "clone", "--quiet", "--depth", "1", f"file://{ROOT}", str(origin)], check=True)
    content = folder / "content" / "course"
    cell = SETUP_CELL.replace(REPOSITORY, f"file://{origin}").replace("/content/course", str(content))
    (folder / "cell.py").write_text(cell)
    (folder / "run.py").write_text(RUN_CELL)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}

    def run():
        done = subprocess.run([str(python), str(folder / "run.py"), str(folder / "cell.py")], cwd=folder,
                              capture_output=True, text=True, env=env, timeout=900)
        assert done.returncode == 0, done.stdout + done.stderr
        result = json.loads(done.stdout.split("RESULT ", 1)[1])
        return done.stdout, result

    return {"python": python, "content": content, "run": run}


def test_the_cell_installs_torchaudio_and_the_course_and_keeps_torch(colab):
    assert subprocess.run([str(colab["python"]), "-c", "import torchaudio"], capture_output=True).returncode != 0
    out, result = colab["run"]()
    torch = importlib.metadata.version("torch")
    assert result["torch"] == torch  # untouched
    assert result["torchaudio"].split("+")[0] == torch.split("+")[0]  # the same release
    assert Path(result["metrics"]).is_relative_to(colab["content"])  # the clone's package, installed editable
    assert "torchaudio is missing: installing torchaudio==" in out
    installed = out.split("Installed:", 1)[1].splitlines()[0]
    assert "course-utils==0.1.0" in installed and "torchaudio==" in installed
    assert "torch==" not in installed.replace("torchaudio==", "")
    for kept in ("ipython", "ipywidgets"):
        assert f"{kept}==" not in installed, f"{kept} must stay as the kernel has it"
    assert (colab["content"] / ".colab-installed").is_file()


def test_a_second_run_skips_the_install_only_after_a_completed_one(colab):
    out, result = colab["run"]()
    assert "The course is installed (torch " in out and "Installed:" not in out
    marker = colab["content"] / ".colab-installed"
    marker.unlink()  # as if an earlier run had stopped half-way: it installs (and checks) again
    out, _ = colab["run"]()
    assert "Installed: nothing new" in out and marker.is_file()


def test_without_torch_it_fails_loudly(tmp_path):
    script = textwrap.dedent(f"""
        import importlib.metadata, runpy, sys
        real = importlib.metadata.version
        def version(name):
            if name == "torch":
                raise importlib.metadata.PackageNotFoundError(name)
            return real(name)
        importlib.metadata.version = version
        sys.argv = ["colab_setup.py"]
        runpy.run_path({str(ROOT / "tools" / "colab_setup.py")!r}, run_name="__main__")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 1
    assert "Course setup failed: torch is not installed" in done.stderr and "pytorch.org" in done.stderr
