"""The batch grader: every submission gets its row, whatever it does, and the same grades twice."""

import csv
from pathlib import Path

import nbformat
import pytest

from autograders import write_autograder
from course_utils import grading, results

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
    "spy": (["PATHS", "import os\nfound = [p for p in (SUBMISSIONS, AUTOGRADER) if os.path.exists(p)]\n"
             "answer = 0 if found else 42"], 0, 1, "ok", ""),
    "vandal": (["PATHS", "import shutil\nfor p in (SUBMISSIONS, AUTOGRADER, COURSE):\n    shutil.rmtree(p)",
                "answer = 42"], 0, 1, "ok", "FileNotFoundError"),
    "notjson": ("{ not json", 0, 0, "invalid", "not valid JSON"),
    "notnotebook": ('{"cells": "nope"}', 0, 0, "invalid", "not a Jupyter notebook"),
    "essay": ("My answer is 42.", 0, 0, "invalid", "not valid JSON"),
}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("grading")
    autograder = write_autograder(root / "autograder", {"q1": Q1, "q2": Q2})
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


# ------------------------------------------------------------------ submissions with a results file
#
# Homework 2's way: the notebook plus a results file (results.save_results) in a folder or zip.
# The question r1 reads the file with results.load_results under the assignment's size cap and
# re-scores the model in it on one second of a test song; q2 is graded from the notebook.

RESULTS = "results.json"
CAP = 48 * 1024            # the assignment's cap, checked by the test (as hw02's tests do)
ATTACHMENT_KB = 96         # the grader's own limit on a file handed in beside the notebook
R1 = f"""OK_FORMAT = True
test = {{'name': 'r1', 'points': 2, 'suites': [{{'cases': [
  {{'code': '>>> from course_utils import results\\n>>> _res = results.load_results("{RESULTS}", max_bytes={CAP}, assignment="demo")\\n>>> assert _res["separator"] is not None, "no model in the file"', 'hidden': False, 'locked': False}},
  {{'code': '>>> from course_utils import data, results, training\\n>>> _res = results.load_results("{RESULTS}", max_bytes={CAP})\\n>>> _t = data.load_dataset("bundled", split="test", verify=False)[0]\\n>>> _sdr = training.target_sdr(_t, _res["separator"].separate(_t.mixture[:22050])[0])\\n>>> assert abs(_sdr - _res["scores"][_t.name]) < 0.05, f"the file reports {{_res[\\'scores\\'][_t.name]:.2f}} dB but its model scores {{_sdr:.2f}} dB"', 'hidden': False, 'locked': False}}],
  'scored': True, 'setup': '', 'teardown': '', 'type': 'doctest'}}]}}
"""
NOTEBOOK = ["answer = 42"]
# name: (kind, notebook cells, results file: "good", "mismatch", "toobig", "huge", "corrupt" or None,
#        expected q2, r1, status, a word the message holds, a phrase the feedback holds)
ARTIFACT_CASES = {
    "good": ("folder", NOTEBOOK, "good", 1, 2, "ok", "", "Files handed in with the notebook: results.json"),
    "zipped": ("zip", NOTEBOOK, "good", 1, 2, "ok", "", "r1: 2 / 2"),
    "skipper": ("folder", ["answer = 42", "IGNORED:import time\ntime.sleep(1000)\nanswer = 0"], "good", 1, 2, "ok",
                "", "r1: 2 / 2"),
    "missing": ("folder", NOTEBOOK, None, 1, 0, "ok", "", "There is no results file"),
    "toobig": ("folder", NOTEBOOK, "toobig", 1, 0, "ok", "", "over the cap of 48 KB"),
    "huge": ("folder", NOTEBOOK, "huge", 1, 0, "ok", "left out results.json", "There is no results file"),
    "corrupt": ("zip", NOTEBOOK, "corrupt", 1, 0, "ok", "", "is not valid JSON"),
    "mismatch": ("folder", NOTEBOOK, "mismatch", 1, 1, "ok", "", "but its model scores"),
    "twonotebooks": ("folder", NOTEBOOK, "good", 0, 0, "invalid", "exactly one notebook", ""),
    "badzip": ("badzip", NOTEBOOK, None, 0, 0, "invalid", "not a readable zip file", ""),
}


def _results_files(root: Path) -> dict[str, bytes]:
    """A tiny untrained U-Net and its true score, and the broken variants of that file."""
    import json

    import torch

    from course_utils import data, models, training

    torch.manual_seed(0)
    separator = models.Separator(models.UNet(width=2, depth=2))
    track = data.load_dataset("bundled", split="test", verify=False)[0]
    path = results.save_results(root / "model_only.json", assignment="demo", separator=separator)
    loaded = results.load_results(path)["separator"]  # the float16 weights the grader will see
    sdr = training.target_sdr(track, loaded.separate(track.mixture[:22050])[0])
    good = results.save_results(root / "good.json", assignment="demo", separator=separator,
                                scores={track.name: sdr}).read_bytes()
    blob = json.loads(good)

    def variant(**change):
        return json.dumps({**blob, **change}).encode()

    files = {"good": good, "mismatch": variant(scores={track.name: sdr + 3.0}),
             "toobig": variant(info={"padding": "x" * (CAP + 1024 - len(good))}),
             "huge": variant(info={"padding": "x" * (ATTACHMENT_KB * 1024 + 1024)}),
             "corrupt": good[: len(good) // 2]}
    assert len(files["good"]) < CAP < len(files["toobig"]) < ATTACHMENT_KB * 1024 < len(files["huge"])
    return files


def _notebook_bytes(cells) -> bytes:
    nb = nbformat.v4.new_notebook()
    for source in cells:
        cell = nbformat.v4.new_code_cell(source.removeprefix("IGNORED:"))
        if source.startswith("IGNORED:"):
            cell.metadata["tags"] = [grading.IGNORE_TAG]
        nb.cells.append(cell)
    return nbformat.writes(nb).encode()


@pytest.fixture(scope="module")
def artifact_batch(tmp_path_factory):
    import zipfile

    root = tmp_path_factory.mktemp("artifacts")
    autograder = write_autograder(root / "autograder", {"q2": Q2, "r1": R1})
    files = _results_files(root)
    submissions = root / "submissions"
    submissions.mkdir()
    for name, (kind, cells, results, *_) in ARTIFACT_CASES.items():
        content = {"homework.ipynb": _notebook_bytes(cells)}
        if results:
            content[RESULTS] = files[results]
        if name == "twonotebooks":
            content["copy.ipynb"] = content["homework.ipynb"]
        if kind == "folder":
            (submissions / name).mkdir()
            for file, data in content.items():
                (submissions / name / file).write_bytes(data)
        elif kind == "zip":  # zipped as a folder, as students do
            with zipfile.ZipFile(submissions / f"{name}.zip", "w") as z:
                for file, data in content.items():
                    z.writestr(f"{name}/{file}", data)
        else:
            (submissions / f"{name}.zip").write_bytes(b"PK\x03\x04 this is not a zip file")
    # generous time: importing PyTorch in each child takes seconds, more on a busy machine
    limits = grading.Limits(wall_s=300, cell_s=150, memory_mb=4096, file_mb=8, attachment_kb=ATTACHMENT_KB)
    first = grading.grade_batch(submissions, autograder, root / "out1", limits=limits, workers=2)
    return {"root": root, "first": first}


def test_results_file_cases_get_their_expected_rows(artifact_batch):
    rows = {r["student"]: r for r in artifact_batch["first"].to_dict("records")}
    assert set(rows) == set(ARTIFACT_CASES)
    for name, (*_, q2, r1, status, says, feedback_says) in ARTIFACT_CASES.items():
        row = rows[name]
        assert (row["q2"], row["r1"], row["status"]) == (q2, r1, status), (name, row)
        assert row["total"] == q2 + r1 and row["possible"] == 3
        assert says in (row["message"] if isinstance(row["message"], str) else ""), (name, row["message"])
        feedback = (artifact_batch["root"] / "out1" / "feedback" / f"{name}.txt").read_text()
        assert feedback_says in feedback, (name, feedback)
    assert not isinstance(rows["skipper"]["message"], str) or "longer than" not in rows["skipper"]["message"], \
        "the cell tagged otter_ignore must not run"



def test_save_and_load_results_round_trip(tmp_path):
    import torch

    from course_utils import models

    torch.manual_seed(1)
    separator = models.Separator(models.UNet(width=2, depth=2))
    path = results.save_results(tmp_path / "r.json", assignment="hw", separator=separator, scores={"a": 1.5},
                                info={"loss": "L1", "epochs": 3})
    res = results.load_results(path, max_bytes=10**6, assignment="hw")
    assert res["scores"] == {"a": 1.5} and res["info"] == {"loss": "L1", "epochs": 3}
    assert res["bytes"] == path.stat().st_size and res["separator"].targets == ("vocals",)
    for name, value in separator.model.state_dict().items():  # float16 on disk, float32 back
        got = res["separator"].model.state_dict()[name]
        assert got.dtype == value.dtype and torch.allclose(got.float(), value.float(), rtol=1e-3, atol=1e-3), name
    with pytest.raises(ValueError, match="finite"):
        results.save_results(tmp_path / "nan.json", assignment="hw", scores={"a": float("nan")})
    with pytest.raises(results.ResultsFileError, match="not 'other'"):
        results.load_results(path, assignment="other")
    with pytest.raises(results.ResultsFileError, match="over the cap"):
        results.load_results(path, max_bytes=1000)
    (tmp_path / "bad.json").write_text('{"format": "course_utils.grading/results-1", "scores": {"a": "high"}}')
    with pytest.raises(results.ResultsFileError, match="finite numbers"):
        results.load_results(tmp_path / "bad.json")
    (tmp_path / "nomodel.json").write_text('{"format": "course_utils.grading/results-1", "scores": {}, '
                                           '"model": "bm90IGEgbW9kZWw="}')
    with pytest.raises(results.ResultsFileError, match="does not load"):
        results.load_results(tmp_path / "nomodel.json")
    with pytest.raises(results.ResultsFileError, match="no results file"):
        results.load_results(tmp_path / "absent.json")
