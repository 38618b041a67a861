"""The batch grader: every submission gets its row, whatever it does, and the same grades twice."""

import csv
from pathlib import Path

import nbformat
import pytest

from course_utils import grading

Q1 = """OK_FORMAT = True
test = {'name': 'q1', 'points': 2, 'suites': [{'cases': [
  {'code': '>>> double(2)\\n4', 'hidden': False, 'locked': False},
  {'code': '>>> double(-3.5)\\n-7.0', 'hidden': True, 'locked': False}],
  'scored': True, 'setup': '', 'teardown': '', 'type': 'doctest'}]}
"""
Q2 = """OK_FORMAT = True
test = {'name': 'q2', 'points': 1, 'suites': [{'cases': [
  {'code': '>>> bool(abs(answer - 42) < 1e-9)\\nTrue', 'hidden': False, 'locked': False}],
  'scored': True, 'setup': '', 'teardown': '', 'type': 'doctest'}]}
"""
GOOD = ["import otter\ngrader = otter.Notebook('hw.ipynb')", "def double(x):\n    return 2 * x", "answer = 42",
        "grader.check('q1')"]

# name: (cells or raw text, expected q1, expected q2, expected status, a word the message holds)
CASES = {
    "good": (GOOD, 2, 1, "ok", ""),
    "half": (["def double(x):\n    return 4 if x == 2 else 0", "answer = 41"], 1, 0, "ok", ""),
    "exception": (["def double(x):\n    return 2 * x", "answer = 1 / 0"], 2, 0, "ok", "ZeroDivisionError"),
    "syntax": (["def double(x) return 2 * x", "answer = 42"], 0, 1, "ok", "SyntaxError"),
    "loop": (["def double(x):\n    return 2 * x", "while True:\n    pass", "answer = 42"], 2, 1, "ok", "longer than"),
    "hog": (["block = bytearray(64 * 1024 ** 3)", "answer = 42"], 0, 1, "ok", "MemoryError"),
    "chatty": (["for _ in range(200_000):\n    print('x' * 1000)", "answer = 42"], 0, 1, "ok", ""),
    "sysexit": (["import sys\nsys.exit(0)", "answer = 42"], 0, 1, "ok", "SystemExit"),
    "osexit": (["def double(x):\n    return 2 * x", "import os\nos._exit(1)"], 2, 0, "ok", "SystemExit"),
    "killer": (["answer = 42", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"], 0, 0, "crashed", "died"),
    "faker": (["print('q1 results: All test cases passed!\\nScore: 3 / 3')", "import sys\n"
               "sys.stdout.write('{\"scores\": {\"q1\": 2, \"q2\": 1}}\\n')"], 0, 0, "ok", ""),
    "spy": (["PATHS", "import os\nfound = os.listdir(SUBMISSIONS) + os.listdir(AUTOGRADER)\n"
             "answer = 0 if found else 42"], 0, 1, "ok", ""),
    "vandal": (["PATHS", "import shutil\nfor p in (SUBMISSIONS, AUTOGRADER, COURSE):\n    shutil.rmtree(p)",
                "answer = 42"], 0, 1, "ok", "Read-only"),
    "notjson": ("{ not json", 0, 0, "invalid", "not valid JSON"),
    "notnotebook": ('{"cells": "nope"}', 0, 0, "invalid", "not a Jupyter notebook"),
    "essay": ("My answer is 42.", 0, 0, "invalid", "not valid JSON"),
}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("grading")
    autograder = root / "autograder"
    (autograder / "tests").mkdir(parents=True)
    (autograder / "tests" / "q1.py").write_text(Q1)
    (autograder / "tests" / "q2.py").write_text(Q2)
    course = root / "course_files"
    course.mkdir()
    (course / "keep.txt").write_text("must survive")
    submissions = root / "submissions"
    submissions.mkdir()
    for name, (content, *_) in CASES.items():
        path = submissions / f"{name}.ipynb"
        if isinstance(content, str):
            path.write_text(content)
            continue
        nb = nbformat.v4.new_notebook()
        paths = f"SUBMISSIONS, AUTOGRADER, COURSE = {str(submissions)!r}, {str(autograder)!r}, {str(course)!r}"
        nb.cells = [nbformat.v4.new_code_cell(paths if c == "PATHS" else c) for c in content]
        nbformat.write(nb, path)
    limits = grading.Limits(wall_s=60, cell_s=4, memory_mb=2048, file_mb=8)
    first = grading.grade_batch(submissions, autograder, root / "out1", limits=limits, workers=2)
    second = grading.grade_batch(submissions, autograder, root / "out2", limits=limits, workers=2)
    return {"root": root, "first": first, "second": second, "course": course, "submissions": submissions}


def test_every_submission_gets_its_expected_row(batch):
    rows = {r["student"]: r for r in batch["first"].to_dict("records")}
    assert set(rows) == set(CASES)
    for name, (_, q1, q2, status, says) in CASES.items():
        row = rows[name]
        assert (row["q1"], row["q2"], row["status"]) == (q1, q2, status), (name, row)
        assert row["total"] == q1 + q2 and row["possible"] == 3
        assert says in row["message"], (name, row["message"])


def test_grades_file_and_feedback(batch):
    out = batch["root"] / "out1"
    with (out / "grades.csv").open() as f:
        table = list(csv.DictReader(f))
    assert [r["student"] for r in table] == sorted(CASES)
    assert list(table[0]) == ["student", "q1", "q2", "total", "possible", "status", "message"]
    feedback = (out / "feedback" / "good.txt").read_text()
    assert "Score: 3 / 3" in feedback and "hidden tests: 1 of 1 passed" in feedback
    half = (out / "feedback" / "half.txt").read_text()
    assert "q1: 1 / 2" in half and "hidden tests: 0 of 1 passed" in half and "Expected" in half
    assert "-7.0" not in feedback  # the hidden case's code is never shown


def test_same_batch_same_grades(batch):
    columns = ["student", "q1", "q2", "total", "status"]
    assert batch["first"][columns].equals(batch["second"][columns])


def test_nothing_outside_the_sandbox_was_touched(batch):
    assert (batch["course"] / "keep.txt").read_text() == "must survive"
    assert len(list(batch["submissions"].iterdir())) == len(CASES)
    assert Path(grading.__file__).is_file()
