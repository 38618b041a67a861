"""Build every homework assignment from its one instructor source: ``make homework``.

For each ``notebooks/homework/source/<name>.ipynb`` (otter-grader's assign format: solutions,
public and hidden tests, written questions) this

1. rewrites the source's setup cell from ``course_utils.project.SETUP_CELL`` (the same cell
   that ``make sync`` writes into the lecture notebooks) and strips outputs, if needed;
2. stages a copy in a temporary folder with the ``requirements.txt`` of the grading image
   (see :func:`requirements_txt`), executes it in a fresh kernel (a failing solution or test
   stops the build here) and runs ``otter assign`` on it; otter grades its own solution
   notebook with every test, public and hidden, and fails unless it gets full marks;
3. writes the student version, committed so that students get it:
   ``notebooks/homework/<name>/<name>.ipynb`` (solutions and hidden tests removed) and its
   public tests ``notebooks/homework/<name>/tests/q*.py``;
4. writes the instructor's files, never committed (``build/`` is ignored):
   ``build/homework/<name>/autograder.zip`` (all tests, for ``course-grade`` and Gradescope),
   ``build/homework/<name>/solution.ipynb`` (solutions, no tests) and, for an assignment whose
   students hand in files besides the notebook (``student_files`` in its configuration, e.g.
   homework 2's ``hw02_results.json``), the files the solution wrote, under
   ``build/homework/<name>/solution_files/``;
5. rewrites the assignments table of ``notebooks/homework/README.md``.

The autograder zip is otter's, plus a ``course/`` folder: the ``course_utils`` package with its
``pyproject.toml``, its shipped checkpoints and the bundled test split, installed into
Gradescope's image at build time (``-e /autograder/source/course`` in its requirements) so that
grading clones and downloads nothing. Files that students hand in are never in it: otter
leaves ``student_files`` out of the zip, and uses the solution's copies only to grade the
solution notebook (``otter assign``'s own check). ``tests/test_homework.py`` checks that the committed student files are what this
script makes from the source, that nothing secret leaks into them, and that the solution
scores full marks and the untouched student version zero.

Usage::

    python tools/build_homework.py                 # every assignment
    python tools/build_homework.py hw01_masking_phase --no-execute --no-run-tests
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))
from course_utils.project import colab_badge  # noqa: E402
from sync_notebooks import synced  # noqa: E402

HOMEWORK = ROOT / "notebooks" / "homework"
SOURCES = HOMEWORK / "source"
BUILD = ROOT / "build" / "homework"
README = HOMEWORK / "README.md"
START, END = "<!-- assignments:start -->", "<!-- assignments:end -->"
PAYLOAD = "course"                        # folder of the course inside the autograder zip
GRADESCOPE_SOURCE = "/autograder/source"  # where Gradescope unpacks the zip
PAYLOAD_DATA_SPLIT = "test"               # the bundled split the assignments use
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
"""Notebooks run with one math thread when building, as in ``course-grade``: on a busy shared
machine, PyTorch's threads compete and a small U-Net trains ten times slower."""


def assignments() -> list[str]:
    """Names of every assignment: the source notebooks in ``notebooks/homework/source``."""
    return sorted(p.stem for p in SOURCES.glob("*.ipynb"))


def config(source: Path) -> dict:
    """The otter configuration (the ``# ASSIGNMENT CONFIG`` raw cell) of a source notebook."""
    import yaml

    nb = nbformat.read(source, as_version=4)
    cell = next((c for c in nb.cells if c.cell_type == "raw" and c.source.lstrip().startswith("# ASSIGNMENT CONFIG")),
                None)
    if cell is None:
        raise ValueError(f"{source} has no '# ASSIGNMENT CONFIG' raw cell (otter's assignment configuration).")
    return yaml.safe_load(cell.source.split("\n", 1)[1]) or {}


def student_files(name: str) -> list[str]:
    """Files that students of assignment ``name`` hand in beside the notebook (``student_files``).

    The solution notebook writes them when it runs, so building such an assignment executes it.
    """
    return [str(f) for f in config(SOURCES / f"{name}.ipynb").get("student_files", [])]


def normalized(nb):
    """``nb`` without cell ids, outputs, execution counts and the executing kernel's details."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    nb.metadata["language_info"] = {"name": "python"}  # executing adds the Python version
    for cell in nb.cells:
        cell.pop("id", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
    nb.nbformat_minor = 4
    return nb


def sync_source(path: Path) -> bool:
    """Write the canonical setup cell into a source notebook; True if the file changed."""
    before = path.read_text(encoding="utf-8")
    nb = synced(nbformat.reads(before, as_version=4))
    after = nbformat.writes(nb) + "\n"
    if after != before:
        path.write_text(after, encoding="utf-8")
        return True
    return False


# ------------------------------------------------------------------ the grading image


def _lock_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements" / "lock.txt").read_text().splitlines():
        if line and not line.startswith("#") and "==" in line:
            name, version = line.split("==")
            pins[_canonical(name)] = version.strip()
    return pins


_BASE = {"pip", "setuptools", "wheel", "distribute"}  # in every environment; `pip freeze` leaves them out


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_pins() -> list[str]:
    """``name==version`` for every package that ``course-utils`` needs at run time.

    The dependency closure of ``course-utils`` (no extras) as installed in this environment,
    for Linux x86_64 and this Python (3.11, the lock's and the grading image's), each at its
    version in ``requirements/lock.txt``.
    """
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement

    pins = _lock_pins()
    seen: dict[str, str] = {}
    done: set[tuple[str, frozenset]] = set()
    todo = [(Requirement(r), "") for r in (distribution("course-utils").requires or [])]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        name = _canonical(req.name)
        if name in _BASE or (name, frozenset(req.extras)) in done:
            continue
        done.add((name, frozenset(req.extras)))
        if name not in pins:
            raise RuntimeError(f"{name} (needed by course-utils) is not in requirements/lock.txt: run `make lock`.")
        seen[name] = pins[name]
        try:
            requires = distribution(req.name).requires or []
        except PackageNotFoundError as exc:
            raise RuntimeError(f"{req.name} is in the lock but not installed here: run `make setup`.") from exc
        for extra_name in ("", *sorted(req.extras)):  # its own requirements, and those of the extras asked for
            todo.extend((Requirement(r), extra_name) for r in requires)
    return [f"{n}=={v}" for n, v in sorted(seen.items())]


def requirements_txt() -> str:
    """The ``requirements.txt`` that otter puts into the autograder's environment.

    Otter's ``setup.sh`` installs it with ``otter-grader`` itself when Gradescope builds the
    grading image (once, when the zip is uploaded): the course package from the zip's
    ``course/`` folder, editable so that it finds the bundled data beside it, and its
    dependencies at the versions the course is tested with.
    """
    return "\n".join([
        "# The grading image's packages (written by tools/build_homework.py; otter adds otter-grader).",
        "# The course package, shipped inside this zip: nothing is cloned or downloaded at grading time.",
        f"-e {GRADESCOPE_SOURCE}/{PAYLOAD}",
        "# Its dependencies at the versions of requirements/lock.txt (Python 3.11, Linux x86_64).",
        *runtime_pins(),
    ]) + "\n"


def payload_files() -> dict[str, Path]:
    """Files of the course that go into the autograder zip, by their path inside ``course/``."""
    files = {name: ROOT / name for name in ("pyproject.toml", "README.md", "LICENSE")}
    for path in sorted((ROOT / "course_utils").rglob("*.py")):  # the modules and the checks subpackage
        files[path.relative_to(ROOT).as_posix()] = path
    for pattern in ("*.pt", "*.log.json", "README.md"):  # the package data: shipped U-Net checkpoints
        for path in sorted((ROOT / "course_utils" / "checkpoints").glob(pattern)):
            files[f"course_utils/checkpoints/{path.name}"] = path
    data = ROOT / "data"
    for name in ("LICENSE.md", "README.md"):
        if (data / name).is_file():
            files[f"data/{name}"] = data / name
    bundled = data / "bundled"
    for name in ("manifest.csv", "songs.csv"):
        files[f"data/bundled/{name}"] = bundled / name
    for path in sorted((bundled / PAYLOAD_DATA_SPLIT).rglob("*")):
        if path.is_file():
            files[path.relative_to(ROOT).as_posix()] = path
    return files


# ------------------------------------------------------------------ building one assignment


def _stage(source: Path, stage: Path) -> Path:
    """Copy the source into ``stage`` with the current setup cell and the grading requirements."""
    nb = synced(nbformat.read(source, as_version=4))
    config = next((c for c in nb.cells if c.cell_type == "raw" and c.source.lstrip().startswith("# ASSIGNMENT CONFIG")),
                  None)
    if config is None:
        raise ValueError(f"{source} has no '# ASSIGNMENT CONFIG' raw cell (otter's assignment configuration).")
    if not re.search(r"^requirements:", config.source, re.M):
        config.source = config.source.rstrip("\n") + "\nrequirements: requirements.txt"
    master = stage / source.name
    nbformat.write(nb, master)
    (stage / "requirements.txt").write_text(requirements_txt())
    return master


def _execute(master: Path, timeout: int) -> None:
    """Run the master notebook in a fresh kernel in its folder, keeping the outputs in the file."""
    from nbclient.exceptions import CellExecutionError

    from course_utils.execution import notebook_client

    nb = nbformat.read(master, as_version=4)
    os.environ.pop("MPLBACKEND", None)  # Agg would replace the kernel's inline backend
    saved = {k: os.environ.get(k) for k in ONE_THREAD}
    os.environ.update(ONE_THREAD)  # the kernel inherits it
    try:
        notebook_client(nb, cwd=master.parent, timeout=timeout).execute()
    except CellExecutionError as exc:
        raise RuntimeError(f"{master.name}: a cell of the instructor notebook failed (a solution or a test is "
                           f"wrong):\n{exc}") from None
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    nbformat.write(nb, master)


def _otter_assign(master: Path, dist: Path, run_tests: bool) -> None:
    command = [sys.executable, "-m", "otter", "assign", str(master), str(dist)]
    if not run_tests:
        command.append("--no-run-tests")
    env = {**os.environ, **ONE_THREAD,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("MPLBACKEND", None)
    done = subprocess.run(command, cwd=master.parent, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"otter assign failed for {master.name}:\n{done.stdout}\n{done.stderr}")


def _write_student(dist_student: Path, name: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tests = out / "tests"
    if tests.is_dir():
        shutil.rmtree(tests)
    for path in sorted(dist_student.rglob("*")):
        if not path.is_file():
            continue
        target = out / path.relative_to(dist_student)
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".ipynb":
            nbformat.write(normalized(nbformat.read(path, as_version=4)), target)
        else:
            shutil.copyfile(path, target)


def _write_autograder(dist_autograder: Path, name: str, out: Path, stage: Path) -> Path:
    (zipped,) = dist_autograder.glob(f"{name}-autograder_*.zip")
    out.mkdir(parents=True, exist_ok=True)
    handed_in = out / "solution_files"
    if handed_in.is_dir():
        shutil.rmtree(handed_in)
    for file in student_files(name):  # what the solution hands in beside the notebook
        target = handed_in / file
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(stage / file, target)
    target = out / "autograder.zip"
    with zipfile.ZipFile(zipped) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        for arcname, path in payload_files().items():
            dst.write(path, f"{PAYLOAD}/{arcname}")
    solution = nbformat.read(dist_autograder / f"{name}.ipynb", as_version=4)
    nbformat.write(normalized(solution), out / "solution.ipynb")
    return target


def build(name: str, *, student_dir: Path | None = None, build_dir: Path | None = None, execute: bool = True,
          run_tests: bool = True, sync: bool = True, timeout: int = 600) -> dict[str, Path]:
    """Build one assignment.

    Parameters
    ----------
    name : str
        The source's name (``notebooks/homework/source/<name>.ipynb``).
    student_dir : Path, optional
        Where the student notebook and its ``tests/`` go; default ``notebooks/homework/<name>``.
    build_dir : Path, optional
        Where ``autograder.zip`` and ``solution.ipynb`` go; default ``build/homework/<name>``.
    execute : bool
        Run the instructor notebook first (outputs for otter; a failing cell stops the build).
        Required for an assignment with ``student_files``: running the solution writes them.
    run_tests : bool
        Let ``otter assign`` grade its solution notebook with every test (full marks or it fails).
    sync : bool
        Rewrite the source's setup cell in place if it drifted from ``SETUP_CELL``.
    timeout : int
        Seconds per cell when executing.

    Returns
    -------
    dict
        ``student`` (the student notebook), ``tests`` (its public tests folder), ``autograder``
        (the zip), ``solution`` (the solution notebook), ``solution_files`` (the files the
        solution hands in beside the notebook; empty for most assignments).
    """
    source = SOURCES / f"{name}.ipynb"
    if not source.is_file():
        raise FileNotFoundError(f"No assignment {name!r}: {source} does not exist (have: {assignments()}).")
    if student_files(name) and not execute:
        raise ValueError(f"{name}: students hand in {student_files(name)} beside the notebook, which only running "
                         f"the solution produces; build it with execute=True.")
    if sync and sync_source(source):
        print(f"{name}: rewrote the setup cell of {source.relative_to(ROOT)}")
    student_dir = HOMEWORK / name if student_dir is None else Path(student_dir)
    build_dir = BUILD / name if build_dir is None else Path(build_dir)
    with tempfile.TemporaryDirectory(prefix=f"homework-{name}-") as tmp:
        stage = Path(tmp) / "stage"
        stage.mkdir()
        master = _stage(source, stage)
        if execute:
            _execute(master, timeout)
        dist = Path(tmp) / "dist"
        _otter_assign(master, dist, run_tests)
        _write_student(dist / "student", name, student_dir)
        zipped = _write_autograder(dist / "autograder", name, build_dir, stage)
    return {"student": student_dir / f"{name}.ipynb", "tests": student_dir / "tests", "autograder": zipped,
            "solution": build_dir / "solution.ipynb",
            "solution_files": [build_dir / "solution_files" / f for f in student_files(name)]}


# ------------------------------------------------------------------ the README's table


def question_points(source: Path) -> tuple[float, float]:
    """Points of the autograded and of the manually graded questions of a source notebook."""
    import yaml

    auto = manual = 0.0
    for cell in nbformat.read(source, as_version=4).cells:
        if cell.cell_type == "raw" and cell.source.lstrip().startswith("# BEGIN QUESTION"):
            config = yaml.safe_load(cell.source.split("\n", 1)[1]) or {}
            points = config.get("points", 1)
            points = sum(points) if isinstance(points, list) else float(points)
            if config.get("manual"):
                manual += points
            else:
                auto += points
    return auto, manual


def assignments_table() -> str:
    """The README's table of assignments, written from the sources."""
    rows = ["| Assignment | Topic | Points (autograded + written) | Colab |", "|---|---|---|---|"]
    for name in assignments():
        source = SOURCES / f"{name}.ipynb"
        topic = nbformat.read(source, as_version=4).metadata.get("course", {}).get("topic", "")
        auto, manual = question_points(source)
        rel = f"notebooks/homework/{name}/{name}.ipynb"
        rows.append(f"| [{name}]({name}/{name}.ipynb) | {topic} | {auto:g} + {manual:g} | {colab_badge(rel)} |")
    return "\n".join(rows)


def write_readme_table() -> bool:
    """Rewrite the table between the markers of ``notebooks/homework/README.md``; True if it changed."""
    text = README.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise ValueError(f"{README} lacks the markers {START} ... {END}.")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{START}\n{assignments_table()}\n{END}{tail}"
    if new != text:
        README.write_text(new, encoding="utf-8")
        return True
    return False


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="assignments to build (default: all)")
    parser.add_argument("--no-execute", action="store_true",
                        help="do not run the instructor notebook first (not for assignments with student_files)")
    parser.add_argument("--no-run-tests", action="store_true", help="skip otter's grading of the solution notebook")
    args = parser.parse_args(argv)
    names = args.names or assignments()
    for name in names:
        paths = build(name, execute=not args.no_execute, run_tests=not args.no_run_tests)
        print(f"{name}: student notebook {paths['student'].relative_to(ROOT)} (+ tests/), "
              f"autograder {paths['autograder'].relative_to(ROOT)}, solutions {paths['solution'].relative_to(ROOT)}")
    if README.is_file():
        write_readme_table()
    return 0


if __name__ == "__main__":
    sys.exit(main())
