"""Homework: each assignment builds from its one source, leaks nothing, and grades as it should.

Every assignment in ``notebooks/homework/source`` is built with otter assign into a temporary
folder (``tools/build_homework.py``), then:

- the committed student notebook and public tests are exactly what the source builds;
- no solution line, hidden test or otter marker is in the student files, and the public tests
  folder holds only public cases;
- graded with ``course_utils.grading.grade_batch`` against the built autograder, the solution
  notebook gets full marks on every autograded question and the untouched student notebook
  zero, and no cell of either raises; where students hand in files beside the notebook
  (``student_files``: homework 2's results file), the solution is submitted as a folder with
  the files its run wrote, and the untouched notebook alone;
- the autograder zip carries the course package, its checkpoints and its data, so grading
  fetches nothing, and never a file that students hand in.

Assignments with ``student_files`` are built with their solution executed (it writes those
files): for homework 2 that trains two small U-Nets, under a minute on one core.
"""

import json
import os
import statistics
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml

from course_utils import data, grading, results
from course_utils.project import SETUP_CELL

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import build_homework  # noqa: E402

NAMES = build_homework.assignments()
HW3 = "hw03_classical_separation"
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "# SOLUTION", "BEGIN TESTS", "END TESTS", "BEGIN TEST CONFIG",
           "END TEST CONFIG", "hidden: true", "ASSIGNMENT CONFIG", "# BEGIN QUESTION", "# END QUESTION",
           "Answer (instructor)")


def test_there_are_the_assignments():
    assert {"hw01_masking_phase", "hw02_learning_evaluation", "hw03_classical_separation"} <= set(NAMES)
    assert build_homework.student_files("hw02_learning_evaluation") == ["hw02_results.json"]
    assert build_homework.student_files("hw01_masking_phase") == []
    assert build_homework.student_files("hw03_classical_separation") == []


@pytest.fixture(scope="module", params=NAMES)
def built(request, tmp_path_factory):
    """Build one assignment from its committed source into a temporary folder."""
    name = request.param
    root = tmp_path_factory.mktemp(name)
    paths = build_homework.build(name, student_dir=root / "student", build_dir=root / "build",
                                 execute=bool(build_homework.student_files(name)), run_tests=False, sync=False)
    return {"name": name, "root": root, **paths}


@pytest.fixture(scope="module")
def graded(built):
    """The solution notebook and the untouched student notebook, graded as a batch."""
    submissions = built["root"] / "submissions"
    submissions.mkdir()
    if built["solution_files"]:  # the notebook and the files it wrote, in the student's folder
        (submissions / "solution").mkdir()
        (submissions / "solution" / f"{built['name']}.ipynb").write_bytes(built["solution"].read_bytes())
        for path in built["solution_files"]:
            (submissions / "solution" / path.name).write_bytes(path.read_bytes())
    else:
        (submissions / "solution.ipynb").write_bytes(built["solution"].read_bytes())
    (submissions / "untouched.ipynb").write_bytes(built["student"].read_bytes())
    if built["name"] == HW3:  # a plausible mistake: the mean over the periods instead of the median
        text = built["solution"].read_text()
        assert text.count("np.nanmedian(padded") == 1
        (submissions / "mean_not_median.ipynb").write_text(text.replace("np.nanmedian(padded", "np.nanmean(padded"))
    table = grading.grade_batch(submissions, built["autograder"], built["root"] / "grades",
                                limits=grading.Limits(wall_s=900, cell_s=300), workers=2)
    possible = grading.points_possible(grading.test_cases(grading.load_tests(built["autograder"])))
    return {row["student"]: row for row in table.to_dict("records")}, possible


def _source(name):
    return nbformat.read(build_homework.SOURCES / f"{name}.ipynb", as_version=4)


def _text(nb) -> str:
    return "\n".join(c.source for c in nb.cells)


def _public_tests_text(folder: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(folder.glob("*.py")))


def _cases(test_source: str) -> list[dict]:
    env: dict = {}
    exec(test_source, env)
    return [case for suite in env["test"]["suites"] for case in suite["cases"]]


def _solution_lines(nb) -> tuple[dict[str, list[str]], set[str]]:
    """Lines of the solutions per question (fenced code, Markdown answers), and every other line."""
    solution, other = {}, set()
    question, in_block = None, False
    for cell in nb.cells:
        text = cell.source.strip()
        if cell.cell_type == "raw":
            if text.startswith("# BEGIN QUESTION"):
                question = yaml.safe_load(text.split("\n", 1)[1])["name"]
            in_block = {"# BEGIN SOLUTION": True, "# END SOLUTION": False}.get(text, in_block)
            continue
        fenced = False
        for line in cell.source.splitlines():
            stripped = line.strip()
            if not in_block:
                other.add(stripped)
            elif cell.cell_type == "markdown":
                solution.setdefault(question, []).append(stripped)
            elif stripped.startswith("# BEGIN SOLUTION"):
                fenced = True
            elif stripped.startswith("# END SOLUTION"):
                fenced = False
            elif fenced or stripped.endswith("# SOLUTION"):
                solution.setdefault(question, []).append(stripped)
            else:
                other.add(stripped)
    return solution, other


# ------------------------------------------------------------------ the committed files


@pytest.mark.parametrize("name", NAMES)
def test_source_starts_with_the_setup_cell_and_has_no_outputs(name):
    nb = _source(name)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].source == SETUP_CELL, "setup cell drifted: run `make homework`"
    assert not [c for c in code if c.outputs or c.execution_count], "commit the source without outputs"
    config = yaml.safe_load(nb.cells[0].source.split("\n", 1)[1])
    assert nb.cells[0].cell_type == "raw" and nb.cells[0].source.startswith("# ASSIGNMENT CONFIG")
    assert config["runs_on"] == "colab" and config["tests"]["files"] is True and config["export_cell"] is False


def test_committed_student_files_are_what_the_source_builds(built):
    committed = build_homework.HOMEWORK / built["name"]
    fresh = build_homework.normalized(nbformat.read(built["student"], as_version=4))
    current = build_homework.normalized(nbformat.read(committed / f"{built['name']}.ipynb", as_version=4))
    assert json.dumps(current, sort_keys=True) == json.dumps(fresh, sort_keys=True), \
        "the student notebook is out of date: run `make homework`"
    made = {p.name: p.read_text() for p in built["tests"].glob("*")}
    kept = {p.name: p.read_text() for p in (committed / "tests").glob("*")}
    assert kept == made, "the public tests are out of date: run `make homework`"
    handed_in = set(build_homework.student_files(built["name"]))  # written when the notebook runs there
    assert sorted(p.name for p in committed.iterdir() if not p.name.startswith(".") and p.name not in handed_in) \
        == sorted([f"{built['name']}.ipynb", "tests"])


def test_student_notebook_finds_its_tests_locally_and_on_colab(built):
    from importlib.metadata import version

    nb = nbformat.read(built["student"], as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code[0] == SETUP_CELL
    init = code[1]
    assert "otter.Notebook(" in init and f'"otter-grader=={version("otter-grader")}"' in init
    colab = re.search(r'HOMEWORK_DIR = "(/content/course/[^"]+)"', init).group(1)
    # the setup cell clones the repository to /content/course: the same folder there as here
    assert (ROOT / Path(colab).relative_to("/content/course") / "tests").is_dir()
    assert Path(colab).name == built["name"] and 'HOMEWORK_DIR = "."' in init
    assert "/content/course" in SETUP_CELL
    assert not any("grader.export(" in c for c in code), "export is disabled on Colab: no export cell"
    checks = [c for c in code if c.startswith("grader.check(")]
    assert len(checks) == len(list(built["tests"].glob("q*.py")))


# ------------------------------------------------------------------ nothing leaks


def test_no_solution_reaches_the_student_files(built):
    source = _source(built["name"])
    solutions, other = _solution_lines(source)
    student = _text(nbformat.read(built["student"], as_version=4))
    public = _public_tests_text(built["tests"])
    questions = {yaml.safe_load(c.source.split("\n", 1)[1])["name"] for c in source.cells
                 if c.cell_type == "raw" and c.source.startswith("# BEGIN QUESTION")}
    assert set(solutions) == questions, "every question has a solution"
    for question, lines in solutions.items():
        distinctive = [line for line in lines if len(line) >= 12 and line not in other]
        assert distinctive, f"{question}: no distinctive solution line to look for"
        for line in distinctive:
            assert line not in student, f"{question}: solution line in the student notebook: {line!r}"
            assert line not in public, f"{question}: solution line in the public tests: {line!r}"
    for marker in MARKERS:
        assert marker not in student and marker not in public, marker
    assert not [c for c in nbformat.read(built["student"], as_version=4).cells if c.cell_type == "raw"]


def test_no_hidden_test_reaches_the_student_files(built):
    tests = grading.load_tests(built["autograder"])
    student = _text(nbformat.read(built["student"], as_version=4))
    public = _public_tests_text(built["tests"])
    # lines of public cases (of any question, e.g. a shared import) are not secrets
    shown = {line for source in tests.values() for c in _cases(source) if not c["hidden"]
             for line in c["code"].splitlines()}
    for question, source in tests.items():
        cases = _cases(source)
        secret = [line for c in cases if c["hidden"] for line in c["code"].splitlines()
                  if line not in shown and len(line) >= 20]
        assert secret, f"{question}: no hidden test to look for"
        for line in secret:
            assert line[4:] not in student and line not in public, f"{question}: hidden test leaked: {line!r}"


def test_public_tests_are_exactly_the_public_cases(built):
    tests = grading.load_tests(built["autograder"])
    public = {p.stem: p.read_text() for p in built["tests"].glob("*.py")}
    assert set(public) == set(tests)
    for question, source in tests.items():
        everything = _cases(source)
        given = _cases(public[question])
        assert given and not any(c["hidden"] for c in given), f"{question}: the public file has no or hidden cases"
        assert [c["code"] for c in given] == [c["code"] for c in everything if not c["hidden"]]
        assert any(c["hidden"] for c in everything), f"{question}: hidden tests check more than the public ones"


# ------------------------------------------------------------------ grading


def test_solution_scores_full_marks(graded):
    rows, possible = graded
    row = rows["solution"]
    assert row["status"] == "ok", row
    assert "raised" not in row["message"], row["message"]
    for question, points in possible.items():
        assert points > 0 and row[question] == points, (question, row[question], points)


def test_untouched_student_notebook_scores_zero_and_runs(graded):
    rows, possible = graded
    row = rows["untouched"]
    assert row["status"] == "ok", row
    assert "raised" not in row["message"], f"a cell of the untouched notebook raised: {row['message']}"
    assert all(row[question] == 0 for question in possible), row


def test_hw03_a_wrong_repeating_model_loses_the_points_of_the_tests_it_fails(built, graded):
    if built["name"] != HW3:
        pytest.skip("homework 3's mistake")
    rows, possible = graded
    row = rows["mean_not_median"]
    assert row["status"] == "ok", row
    # q4: only the public case without an outlier passes (0.5 of 3); q6: its estimates are no longer
    # the reference's (1 point lost); every other question keeps its full marks
    assert row["q4"] == 0.5 and row["q6"] == possible["q6"] - 1, row
    assert all(row[q] == possible[q] for q in ("q1", "q2", "q3", "q5")), row


# ------------------------------------------------------------------ the autograder zip


def test_autograder_zip_is_self_contained(built, tmp_path):
    with zipfile.ZipFile(built["autograder"]) as z:
        names = set(z.namelist())
        environment = yaml.safe_load(z.read("environment.yml"))
        z.extractall(tmp_path)
    assert {"run_autograder", "setup.sh", "otter_config.json"} <= names
    assert {f"tests/{p.name}" for p in built["tests"].glob("*.py")} <= names
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    assert f"-e {build_homework.GRADESCOPE_SOURCE}/{build_homework.PAYLOAD}" in pip
    assert "torch==2.11.0" in pip and any(p.startswith("otter-grader") for p in pip)
    assert all("git+" not in p and "http" not in p for p in pip), "nothing fetched from a repository"
    assert {f"course/course_utils/checkpoints/unet_{stem}.pt" for stem in ("vocals", "drums", "bass", "other")} \
        <= names, "the shipped checkpoints (models.pretrained) are in the image"
    for file in build_homework.student_files(built["name"]):
        assert not [n for n in names if Path(n).name == file], f"{file} is handed in by students: not in the zip"
    # the course package in the zip loads the bundled test songs from beside itself
    payload = tmp_path / build_homework.PAYLOAD
    code = ("import course_utils, pathlib; from course_utils import data\n"
            f"assert pathlib.Path(course_utils.__file__).is_relative_to({str(payload)!r}), course_utils.__file__\n"
            "print(len(data.load_dataset('bundled', split='test')))")
    env = {k: v for k, v in os.environ.items() if k != "COURSE_DATA_DIR"} | {"PYTHONPATH": str(payload)}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    shipped = len({t.name for t in data.load_dataset("bundled", split="test", verify=False)})
    assert done.returncode == 0 and done.stdout.strip() == str(shipped), done.stderr[-2000:]


def test_readme_table_is_in_sync():
    readme = build_homework.README.read_text()
    block = readme.split(build_homework.START)[1].split(build_homework.END)[0].strip()
    assert block == build_homework.assignments_table(), "homework README table drifted: run `make homework`"
    for command in ("make homework", "course-grade", "autograder.zip", "Gradescope", "Colab"):
        assert command in readme, command


# ------------------------------------------------------------------ homework 2: the results file

HW2 = "hw02_learning_evaluation"


def test_training_cells_are_skipped_when_grading():
    """The cells that train and write the results file carry otter's ignore tag, in the source and
    the student notebook alike, so neither course-grade nor otter (Gradescope) retrains."""
    student = nbformat.read(build_homework.HOMEWORK / HW2 / f"{HW2}.ipynb", as_version=4)
    for nb in (_source(HW2), student):
        code = [c for c in nb.cells if c.cell_type == "code"]
        ignored = [c.source for c in code if grading.IGNORE_TAG in c.metadata.get("tags", [])]
        graded = "\n".join(c.source for c in code if grading.IGNORE_TAG not in c.metadata.get("tags", []))
        assert len(ignored) == 2, "two cells: training, and writing the results file"
        assert "training.train(" in ignored[0] and "results.save_results(" in ignored[1]
        assert "training.train(" not in graded and 'split="train"' not in graded, \
            "nothing the grader runs trains, or needs the training songs (not in the autograder image)"


def test_solution_results_file_is_small_and_honest(built):
    if built["name"] != HW2:
        pytest.skip("homework 2 only")
    from course_utils import data, training

    (path,) = built["solution_files"]
    res = results.load_results(path, max_bytes=256 * 1024, assignment=HW2)
    tracks = data.load_dataset("bundled", split="test", verify=False)
    assert sorted(res["scores"]) == [t.name for t in tracks]
    valid = res["info"]["valid_sdr"]
    assert set(valid) == {"L1", "compressed"} and res["info"]["loss"] == max(valid, key=valid.get)
    median = statistics.median(res["scores"].values())
    assert 0 < median < 12, res["scores"]  # above the mixture (about -5 dB), below the IRM oracle (about 13 dB)
    t = tracks[1]
    assert abs(training.target_sdr(t, res["separator"].separate(t.mixture)[0]) - res["scores"][t.name]) < 0.05
