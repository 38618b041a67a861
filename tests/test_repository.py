"""The repository keeps its promises: pins, environment files, clean and synced notebooks, README."""

import re
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import sync_notebooks  # noqa: E402
from course_utils.project import REPOSITORY, SETUP_CELL, colab_url  # noqa: E402

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
NOTEBOOKS = sorted((ROOT / "notebooks").rglob("*.ipynb"))


def lock_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements" / "lock.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_dependencies_are_ranges_not_pins():
    for spec in PYPROJECT["project"]["dependencies"]:
        req = Requirement(spec)
        assert not any(s.operator in ("==", "===") for s in req.specifier), f"{spec} is pinned"


def test_lock_pins_the_matched_torch_pair_and_satisfies_every_range():
    pins = lock_pins()
    assert pins["torch"] == "2.11.0" and pins["torchaudio"] == "2.11.0"
    declared = PYPROJECT["project"]["dependencies"] + PYPROJECT["project"]["optional-dependencies"]["tests"]
    for spec in declared:
        req = Requirement(spec)
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"{name} is declared but not in the lock"
        assert req.specifier.contains(pins[name]), f"lock has {name}=={pins[name]}, outside {req.specifier}"


def test_environment_yml_agrees_with_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    python = next(d for d in deps if isinstance(d, str) and d.startswith("python="))
    assert SpecifierSet(PYPROJECT["project"]["requires-python"]).contains(python.split("=")[1] + ".0")
    assert "ffmpeg" in deps
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict))
    (editable,) = pip_section
    extras = re.search(r"\[(.*)\]", editable).group(1).split(",")
    assert set(extras) <= set(PYPROJECT["project"]["optional-dependencies"]), extras
    # conda must not pin anything pyproject declares (one source of truth for versions)
    declared = {Requirement(s).name for s in PYPROJECT["project"]["dependencies"]}
    assert not [d for d in deps if isinstance(d, str) and d.split("=")[0] in declared]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"cells {dirty} have outputs: run `make sync` to strip them"


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")), ids=lambda p: p.name)
def test_notebook_starts_with_the_setup_cell(path):
    nb = nbformat.read(path, as_version=4)
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert first_code.source == SETUP_CELL, "setup cell drifted: run `make sync`"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), "title first"
    assert {"topic", "see_and_hear"} <= set(nb.metadata.get("course", {})), "metadata.course feeds the README"


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")), ids=lambda p: p.name)
def test_solution_blocks_show_the_solutions_the_tests_run(path):
    nb = nbformat.read(path, as_version=4)
    shown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    synced = [c.source for c in sync_notebooks.synced(nbformat.read(path, as_version=4)).cells
              if c.cell_type == "markdown"]
    assert shown == synced, "a solution block differs from its exercise's solution code: run `make sync`"


def test_readme_syllabus_is_in_sync_with_the_notebooks():
    readme = (ROOT / "README.md").read_text()
    block = readme.split(sync_notebooks.START)[1].split(sync_notebooks.END)[0].strip()
    assert block == sync_notebooks.syllabus_table(readme), "README syllabus drifted: run `make sync`"
    for path in sync_notebooks.course_notebooks():
        assert colab_url(path.relative_to(ROOT).as_posix()) in readme
    assert readme.count(REPOSITORY.removeprefix("https://github.com/")) >= len(sync_notebooks.course_notebooks())


def test_readme_names_exactly_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert "make course" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)
    makefile = (ROOT / "Makefile").read_text()
    for target in ("test", "course", "lab"):
        assert re.search(rf"^{target}:", makefile, re.M), target


def test_setup_cell_is_short_installs_only_on_colab_and_never_hides_errors():
    assert "%%capture" not in SETUP_CELL and "check=True" in SETUP_CELL
    assert 'if "google.colab" in sys.modules' in SETUP_CELL
    assert "/content/course/tools/colab_setup.py" in SETUP_CELL and (ROOT / "tools" / "colab_setup.py").is_file()
    assert len(SETUP_CELL.splitlines()) <= 11
    compile(SETUP_CELL, "setup cell", "exec")
    # the install logic keeps torch, torchaudio and the kernel's own packages (tests/test_colab_setup.py runs it)
    source = (ROOT / "tools" / "colab_setup.py").read_text()
    assert all(f'"{name}"' in source for name in ("torch", "torchaudio", "ipython", "ipywidgets"))


def test_package_docstring_lists_every_module_once():
    import course_utils

    package = ROOT / "course_utils"
    modules = sorted([p.stem for p in package.glob("*.py") if p.stem != "__init__"]
                     + [p.parent.name for p in package.glob("*/__init__.py")])
    listed = re.findall(r"^- :mod:`course_utils\.(\w+)` - ", course_utils.__doc__, re.M)
    assert sorted(listed) == modules, set(modules) ^ set(listed)
