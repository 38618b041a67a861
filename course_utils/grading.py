"""Batch grading of homework notebooks that survives anything a submission does.

``otter run`` grades one notebook at a time in the grader's own environment, with no time
limit and no sandbox. This module keeps otter's test files (the ``tests/*.py`` inside the
``autograder.zip`` that ``otter assign`` builds) and grades each submission in a sandbox of
its own (:mod:`course_utils.sandbox`): a child forked from a warm interpreter, in its own PID,
network, mount, IPC and UTS namespaces, on a read-only view of the system in which the
submissions, the autograder and the grades do not exist, without privileges, as one process
with one thread, under limits on time, memory and disk.

Inside the child (:func:`_sandboxed`) the student's cells run first; then the public test
cases arrive and their results and reports go back; only then do the hidden cases arrive, and
only pass or fail goes back, so nothing the grader writes can hold hidden test code. Every
message carries a token of the request it answers: lines the student's code writes are skipped.
Before the cells, the child records the functions of the libraries the tests compare with, the
built-ins and the test harness (:class:`_Reference`); what the notebook replaced is put back
before the tests and reported, and such a submission gets the status ``tampered`` and 0.

A submission is a notebook file (``ada.ipynb``), or a folder (``ada/``) or zip file
(``ada.zip``) holding exactly one notebook and the files it produced, such as the results
file of homework 2 (:func:`course_utils.results.save_results`). Those files are size-capped
(``Limits.attachment_kb``) and put beside the notebook in the child's working directory,
as Gradescope puts the files a student uploads. Cells tagged ``otter_ignore`` (a long
training run) are skipped, as otter skips them.

Every entry in the submissions folder gets a row in ``grades.csv`` whatever it holds, and a
feedback file. Grading is deterministic: the same batch gives the same grades.

Command line (``course-grade`` once the package is installed)::

    course-grade SUBMISSIONS_DIR --autograder dist/autograder/autograder.zip --out grades/

Taught to instructors in the README, section "Grading a folder of submissions", and in
``notebooks/homework/README.md``.
"""

from __future__ import annotations

import argparse
import base64
import builtins
import contextlib
import dataclasses
import doctest
import gc
import io
import json
import os
import pkgutil
import random
import re
import secrets
import signal
import sys
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import nbformat
import numpy as np
import otter
import pandas as pd
from otter.test_files.ok_test import OKTestFile

from . import data, sandbox
from .results import size_text
from .sandbox import JobError

__all__ = ["Limits", "SubmissionResult", "Sandboxes", "Grader", "STATUSES", "read_submissions", "load_tests", "test_cases", "points_possible",
           "grade_batch", "IGNORE_TAG", "main"]

STATUS_OK = "ok"
IGNORE_TAG = "otter_ignore"
"""Cells with this tag are not run when grading (otter's own convention, so Gradescope agrees)."""
MAX_ATTACHMENTS = 32
_SKIPPED_NAMES = {"__MACOSX", ".ipynb_checkpoints", "__pycache__"}


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission.

    Attributes
    ----------
    wall_s : float
        Wall-clock seconds for the whole submission (student code and tests).
    cell_s : float
        Seconds for one cell of student code; a cell that runs longer is interrupted and
        grading goes on with the next cell.
    memory_mb : int
        Heap memory of the child process (``RLIMIT_DATA``).
    file_mb : int
        Largest file the child may write; its working folder and its ``/tmp`` hold 4 times
        that each.
    attachment_kb : int
        Largest file handed in beside the notebook (in a submission folder or zip); a
        larger one is left out, and the row's message says so.
    """

    wall_s: float = 600.0
    cell_s: float = 120.0
    memory_mb: int = 4096
    file_mb: int = 64
    attachment_kb: int = 1024


@dataclass
class SubmissionResult:
    """One row of ``grades.csv``."""

    student: str
    scores: dict[str, float]
    possible: dict[str, float]
    status: str
    message: str = ""
    feedback: str = field(default="", repr=False)

    @property
    def total(self) -> float:
        return round(sum(self.scores.values()), 4)


@dataclass
class _Submission:
    """What the grader read from one entry of the submissions folder (before running anything)."""

    student: str
    cells: list | None
    problem: str | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def student_id(path: Path) -> str:
    """The student id a submission carries: a file's stem (``ada.ipynb``, ``ada.zip``) or a
    folder's name (``ada/``), reduced to safe characters."""
    path = Path(path)
    name = path.name if path.is_dir() else path.stem
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "unnamed"


def load_tests(autograder: Path) -> dict[str, str]:
    """Read otter's test files (``tests/<question>.py``) from an autograder zip or folder.

    Returns
    -------
    dict of str to str
        Question name to the test file's source, sorted by name.
    """
    autograder = Path(autograder)
    if autograder.is_dir():
        files = {p.stem: p.read_text() for p in (autograder / "tests").glob("*.py")}
    else:
        with zipfile.ZipFile(autograder) as z:
            files = {Path(n).stem: z.read(n).decode() for n in z.namelist()
                     if re.fullmatch(r"tests/[^/]+\.py", n)}
    if not files:
        raise ValueError(f"No otter test files (tests/*.py) in {autograder}.")
    return dict(sorted(files.items()))


def test_cases(tests: dict[str, str]) -> dict[str, dict]:
    """Parse otter's test files (in the grader, trusted) into plain data for the child.

    Returns
    -------
    dict of str to dict
        Per question: ``cases`` (each with ``name``, ``code``, ``hidden``, ``points``,
        ``failure_message``) and ``all_or_nothing``, with points resolved as otter does.
    """
    parsed = {}
    for name, source in tests.items():
        env: dict = {}
        exec(source, env)  # instructor-written test files
        test_file = OKTestFile.from_spec(env["test"])
        parsed[name] = {"all_or_nothing": bool(test_file.all_or_nothing), "cases": [
            {"name": c.name, "code": c.body, "hidden": bool(c.hidden), "points": float(c.points),
             "failure_message": c.failure_message} for c in test_file.test_cases]}
    return parsed


def points_possible(cases: dict[str, dict]) -> dict[str, float]:
    """Points per question of the cases parsed by :func:`test_cases`, as otter resolves them."""
    return {q: sum(c["points"] for c in spec["cases"]) for q, spec in cases.items()}


# ---------------------------------------------------------------- reading a submission


def _ignored(cell) -> bool:
    """Whether otter skips this cell when grading (tag ``otter_ignore`` or ``otter: {ignore: true}``)."""
    meta = cell.get("metadata", {})
    otter_meta = meta.get("otter", {})
    return IGNORE_TAG in (meta.get("tags") or []) or (isinstance(otter_meta, dict) and bool(otter_meta.get("ignore")))


def _parse_notebook(raw: bytes):
    """Parse a notebook's bytes; return ``(code_cells, None)`` or ``(None, reason)``.

    Code cells tagged ``otter_ignore`` are left out, as otter leaves them out.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not a readable text file ({type(exc).__name__})"
    try:
        json.loads(text)
    except ValueError as exc:
        return None, f"not valid JSON ({exc})"
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several kinds for malformed notebooks
        return None, f"valid JSON but not a Jupyter notebook ({str(exc).splitlines()[0][:200]})"
    return [c.source for c in nb.cells if c.cell_type == "code" and not _ignored(c)], None


def _read_notebook(path: Path):
    """Parse a submitted notebook file; return ``(code_cells, None)`` or ``(None, reason)``."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        return None, f"not a readable file ({type(exc).__name__})"
    return _parse_notebook(raw)


def _member_path(name: str) -> str | None:
    """A safe relative POSIX path for a file inside a submission, or None to skip it."""
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", ".")]
    if not parts or name.startswith("/") or ".." in parts:
        return None
    if any(p in _SKIPPED_NAMES or p.startswith(".") for p in parts):
        return None
    return "/".join(parts)


def _strip_common_folder(names: list[str]) -> dict[str, str]:
    """Map each path to itself without a first folder that every path shares (a zipped folder)."""
    firsts = {n.split("/", 1)[0] for n in names}
    if len(firsts) == 1 and all("/" in n for n in names):
        return {n: n.split("/", 1)[1] for n in names}
    return {n: n for n in names}


def _read_bundle(student: str, entries: dict[str, tuple[int, object]], limits: Limits, kind: str) -> _Submission:
    """A submission from a folder or zip: ``entries`` maps a relative path to ``(size, read)``."""
    entries = {new: entries[old] for old, new in _strip_common_folder(sorted(entries)).items()}
    notebooks = sorted(n for n in entries if n.lower().endswith(".ipynb"))
    if len(notebooks) != 1:
        found = f"{len(notebooks)} notebooks ({', '.join(notebooks[:5])})" if notebooks else "no notebook (.ipynb)"
        return _Submission(student, None, f"the {kind} holds {found}; hand in exactly one notebook")
    sub = _Submission(student, None)
    size, read = entries.pop(notebooks[0])
    sub.cells, sub.problem = _parse_notebook(read(None))
    cap = limits.attachment_kb * 1024
    for name, (size, read) in sorted(entries.items()):
        if len(sub.files) >= MAX_ATTACHMENTS:
            sub.notes.append(f"left out {len(entries) - MAX_ATTACHMENTS} more files (at most {MAX_ATTACHMENTS})")
            break
        if size > cap:
            sub.notes.append(f"left out {name}: {size_text(size)}, over the {size_text(cap)} limit for a file "
                             f"handed in beside the notebook")
            continue
        data = read(cap + 1)
        if data is None or len(data) > cap:
            sub.notes.append(f"left out {name}: unreadable or over the {size_text(cap)} limit")
            continue
        sub.files[name] = data
    return sub


def _read_file(path: Path, limit: int | None) -> bytes | None:
    try:
        with path.open("rb") as f:
            return f.read(-1 if limit is None else limit)
    except OSError:
        return None if limit is not None else b""


def _read_submission(path: Path, limits: Limits) -> _Submission:
    """Read one entry of the submissions folder: a notebook, a folder or a zip; never raises."""
    path = Path(path)
    student = student_id(path)
    if path.is_dir():
        entries = {}
        for p in sorted(path.rglob("*")):
            rel = _member_path(p.relative_to(path).as_posix())
            if rel is None or p.is_dir():
                continue
            if p.is_symlink() or not p.is_file():
                continue  # links could point anywhere: never followed
            entries[rel] = (p.stat().st_size, lambda limit, p=p: _read_file(p, limit))
        return _read_bundle(student, entries, limits, "folder")
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as z:
                entries = {}
                for info in z.infolist():
                    rel = _member_path(info.filename)
                    if rel is None or info.is_dir():
                        continue

                    def read(limit, info=info):
                        try:
                            with z.open(info) as f:
                                return f.read(-1 if limit is None else limit)
                        except (zipfile.BadZipFile, OSError, RuntimeError, EOFError, NotImplementedError):
                            return None if limit is not None else b""

                    entries[rel] = (info.file_size, read)
                return _read_bundle(student, entries, limits, "zip file")
        except (zipfile.BadZipFile, OSError) as exc:
            return _Submission(student, None, f"not a readable zip file ({exc})")
    cells, problem = _read_notebook(path)
    return _Submission(student, cells, problem)


# ---------------------------------------------------------------- grading one submission

STATUSES = {"ok": "graded", "tampered": "replaced library or grader code: every autograded point is 0",
            "timeout": "ran past the wall-clock limit", "crashed": "its process died before the tests finished",
            "invalid": "not a notebook the grader can run",
            "error": "the sandbox could not be set up, or the grader itself failed"}
"""What each value of the ``status`` column means."""

# Everything a submission may import is imported once, in the fork server: each submission
# then starts in milliseconds instead of the seconds these imports take.
PRELOAD = ("numpy", "scipy", "scipy.signal", "scipy.linalg", "pandas", "matplotlib", "matplotlib.pyplot", "soundfile",
           "librosa", "torch", "torchaudio", "IPython", "IPython.display", "IPython.core.inputtransformer2", "doctest",
           "otter", "course_utils")


def _preload() -> list[str]:
    """The modules of :data:`PRELOAD` and every module of the course package."""
    return [*PRELOAD, *(f"course_utils.{m.name}" for m in pkgutil.iter_modules([str(Path(__file__).parent)]))]


class Sandboxes:
    """The fork server that every submission of a batch is forked from, with one job's limits.

    Parameters
    ----------
    limits : Limits
    hide : sequence of Path
        Paths no submission may see even if they lie in a folder it reads (the
        submissions, the autograder or hidden songs, the grades).
    expose : sequence of Path
        Folders each submission may read, beside the system and Python's installation.
    tmp_dir : Path, optional
        Where the (empty) mount points of the sandboxes are made; default the system's.
    unsafe : bool
        Grade even where the machine cannot isolate submissions (every row then says so).

    Raises
    ------
    course_utils.sandbox.JobError
        When the machine cannot isolate submissions and ``unsafe`` is False.
    """

    def __init__(self, *, limits: Limits = Limits(), hide=(), expose=(), tmp_dir=None, unsafe: bool = False):
        self.limits, self.unsafe = limits, unsafe
        env = {"PYTHONHASHSEED": "0", "COURSE_FAST": "1", "COURSE_FFT_WORKERS": "1", "MPLBACKEND": "Agg",
               "HOME": sandbox.SANDBOX_WORKDIR,
               "TMPDIR": "/tmp", **{k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
                                    if k in os.environ}}  # keep the machine's BLAS workarounds
        self.server = sandbox.ForkServer(preload=_preload(), env=env, expose=[str(e) for e in expose],
                                         hide=[str(h) for h in hide], tmp_dir=tmp_dir, unsafe=unsafe)
        self.jail = sandbox.Jail(wall_s=limits.wall_s, memory_mb=limits.memory_mb, file_mb=limits.file_mb,
                                 disk_mb=limits.file_mb * 4)
        if not unsafe:
            problem = sandbox.probe(self.server)
            if problem:
                self.server.close()
                raise JobError(
                    f"This machine cannot isolate submissions ({problem}). Grade as root, or where user "
                    f"namespaces are allowed; or pass --unsafe to grade without isolation (a submission can "
                    f"then read and change your files).")

    def notes(self, sub: _Submission) -> str:
        """What a row's message says whatever happens: unsafe grading, files left out."""
        unsafe = "unsafe: graded without isolation (--unsafe)" if self.unsafe else ""
        return "; ".join(filter(None, [unsafe, *sub.notes]))

    def close(self) -> None:
        self.server.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Grader(Sandboxes):
    """Grade submissions against one assignment's tests, each in its own sandbox.

    Use it as a context manager, or call :meth:`close`.

    Parameters
    ----------
    tests : dict of str to str
        From :func:`load_tests`.
    limits, hide, tmp_dir, unsafe
        As for :class:`Sandboxes`; every submission may read the bundled songs.
    """

    def __init__(self, tests: dict[str, str], *, limits: Limits = Limits(), hide=(), tmp_dir=None,
                 unsafe: bool = False):
        self.tests = tests
        self.cases = test_cases(tests)
        self.possible = points_possible(self.cases)
        super().__init__(limits=limits, hide=hide, expose=[data.bundled_root()], tmp_dir=tmp_dir, unsafe=unsafe)

    def grade(self, sub: _Submission) -> SubmissionResult:
        """Grade one submission read by :func:`_read_submission`; never raises."""
        try:
            return self._grade(sub)
        except Exception as exc:  # noqa: BLE001 - the grader's own failure (e.g. its server died): still a row
            message = f"the grader failed ({type(exc).__name__}: {str(exc)[:200]})"
            return SubmissionResult(sub.student, {q: 0.0 for q in self.tests}, self.possible, "error", message,
                                    f"Your submission could not be graded: {message}.")

    def _grade(self, sub: _Submission) -> SubmissionResult:
        zero = {q: 0.0 for q in self.tests}
        notes = self.notes(sub)
        if sub.cells is None:
            return SubmissionResult(sub.student, zero, self.possible, "invalid",
                                    "; ".join(filter(None, [sub.problem, notes])),
                                    f"Your submission could not be graded: {sub.problem}.")
        received = ("Files handed in with the notebook: "
                    + ", ".join(f"{n} ({size_text(len(b))})" for n, b in sub.files.items())
                    if sub.files else "No files handed in with the notebook.") + (
                        f"\nNote: {'; '.join(sub.notes)}." if sub.notes else "")
        public = [(q, c) for q, spec in self.cases.items() for c in spec["cases"] if not c["hidden"]]
        hidden = [(q, c) for q, spec in self.cases.items() for c in spec["cases"] if c["hidden"]]
        token = secrets.token_hex(16)
        setup = {"token": token, "cells": sub.cells, "cell_s": self.limits.cell_s,
                 "files": {name: base64.b64encode(data).decode("ascii") for name, data in sub.files.items()}}
        with self.server.job("course_utils.grading:_sandboxed", jail=self.jail) as job:
            # the hidden cases enter the sandbox only after the public reports (the feedback) are out
            ready = job.send(setup) and _answer(job, token)
            if ready and not all(isinstance(ready.get(k), list) for k in ("errors", "tampered")):
                ready = None  # not what our side of the sandbox sends
            shown = ready and _ask(job, [c for _, c in public])
            secret = shown and _ask(job, [c for _, c in hidden], reports=False)
            end = job.finish()
        if end["setup_error"]:
            message = f"the sandbox could not be set up ({end['setup_error']})"
            return SubmissionResult(sub.student, zero, self.possible, "error", message,
                                    f"Your submission could not be graded: {message}.\n{received}")
        if not secret:
            if end["timed_out"]:
                status, message = "timeout", f"stopped after the {self.limits.wall_s:.0f} s limit"
            else:
                status, message = "crashed", f"the grading process died (exit status {end['status']})"
            return SubmissionResult(sub.student, zero, self.possible, status, "; ".join(filter(None, [message, notes])),
                                    f"Your submission could not be graded: {message}.\n{received}")
        passed = {id(c): ok for (_, c), ok in zip(public, shown["results"])}
        passed.update({id(c): ok for (_, c), ok in zip(hidden, secret["results"])})
        reports = {id(c): report for (_, c), report in zip(public, shown["reports"])}
        scores, feedback = _score(self.cases, passed, reports)
        tampered = sorted({str(t) for answer in (ready, shown, secret) for t in answer.get("tampered", [])})
        errors = ready.get("errors", [])[:50]
        message = f"{len(errors)} cell(s) raised: " + "; ".join(str(e)[:160] for e in errors[:3]) if errors else ""
        status = STATUS_OK
        if tampered:
            status, scores = "tampered", zero
            found = ", ".join(str(t)[:80] for t in tampered[:8]) + (" ..." if len(tampered) > 8 else "")
            message = f"replaced {found}"
            feedback = (f"Your notebook replaced {found}. The tests ran on the originals, and a submission that "
                        f"replaces library or grader code gets no autograded points; ask your instructor if this "
                        f"was not on purpose.\n\n" + feedback)
        return SubmissionResult(sub.student, scores, self.possible, status,
                                "; ".join(filter(None, [notes, message]))[:500], f"{received}\n\n{feedback}")

def _answer(job, token: str):
    """The job's first message that carries ``token`` (lines written by the student's code are skipped)."""
    while True:
        message = job.receive()
        if message is None:
            return None
        if isinstance(message, dict) and message.get("token") == token:
            return message


def _ask(job, cases: list[dict], *, reports: bool = True):
    """Send test cases, return the job's answer: ``results`` (one bool per case) and, for
    public cases, ``reports``; None if the job did not answer in that form."""
    token = secrets.token_hex(16)
    if not job.send({"token": token, "reports": reports,
                     "cases": [{"name": c["name"], "code": c["code"]} for c in cases]}):
        return None
    answer = _answer(job, token)
    if answer is None:
        return None
    results = answer.get("results")
    if not isinstance(results, list) or len(results) != len(cases) or not all(isinstance(r, bool) for r in results):
        return None
    if reports:
        texts = answer.get("reports")
        if not isinstance(texts, list) or len(texts) != len(cases):
            return None
        answer["reports"] = [str(t)[:4000] for t in texts]
    if not isinstance(answer.get("tampered", []), list):
        return None
    return answer


def _score(cases: dict, passed: dict, reports: dict) -> tuple[dict, str]:
    """Points per question and the feedback: public cases in full, hidden ones only counted."""
    scores, parts = {}, []
    for question, spec in cases.items():
        lines = []
        for case in spec["cases"]:
            if not case["hidden"]:
                ok = passed[id(case)]
                lines.append(f"  {case['name']}: " + ("passed" if ok else "failed\n" + (
                    f"    {case['failure_message']}\n" if case["failure_message"] else "")
                    + "    " + reports[id(case)].strip().replace("\n", "\n    ")))
        hidden = [passed[id(c)] for c in spec["cases"] if c["hidden"]]
        if hidden:
            lines.append(f"  hidden tests: {sum(hidden)} of {len(hidden)} passed")
        earned = sum(c["points"] for c in spec["cases"] if passed[id(c)])
        if spec["all_or_nothing"] and not all(passed[id(c)] for c in spec["cases"]):
            earned = 0.0
        scores[question] = earned
        parts.append(f"{question}: {earned:g} / {sum(c['points'] for c in spec['cases']):g}\n" + "\n".join(lines))
    return scores, "\n\n".join(parts)


def read_submissions(submissions: Path, limits: Limits) -> list[_Submission]:
    """Every entry of the folder ``submissions``, read before any runs (nothing one does can
    change another's input), with one unique student name each."""
    entries = sorted(p for p in Path(submissions).iterdir()
                     if not p.name.startswith(".") and (p.is_file() or p.is_dir()))
    subs, seen = [], set()
    for p in entries:
        sub = _read_submission(p, limits)
        base, k = sub.student, 2
        while sub.student in seen:  # "ada.ipynb" and "ada/": two rows, two names
            sub.student, k = f"{base}-{k}", k + 1
        seen.add(sub.student)
        subs.append(sub)
    return subs


def grade_batch(submissions: Path, autograder: Path, out: Path, *, limits: Limits = Limits(), workers: int = 2,
                tmp_dir=None, unsafe: bool = False):
    """Grade every entry of ``submissions`` and write ``grades.csv`` and ``feedback/<student>.txt``.

    Parameters
    ----------
    submissions : Path
        A folder with one entry per student, named by student id: a notebook file
        (``ada.ipynb``), or a folder (``ada/``) or zip file (``ada.zip``) with one notebook
        and the files handed in with it. Names starting with a dot are skipped.
    autograder : Path
        The ``autograder.zip`` (or its unzipped folder) from ``otter assign``.
    out : Path
        Output folder (created).
    limits : Limits
    workers : int
        Submissions graded in parallel.
    tmp_dir : Path, optional
        Where the sandboxes' mount points are made (default: the system's temporary folder).
    unsafe : bool
        Grade without isolation where the machine cannot provide it (see :class:`Grader`).

    Returns
    -------
    pandas.DataFrame
        One row per submission: student, one column per question, total, possible, status,
        message.
    """
    tests = load_tests(autograder)
    subs = read_submissions(submissions, limits)
    with Grader(tests, limits=limits, hide=(submissions, autograder, out), tmp_dir=tmp_dir, unsafe=unsafe) as grader:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(grader.grade, subs))
        possible = grader.possible
    out = Path(out)
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    rows = []
    for r in results:
        rows.append({"student": r.student, **r.scores, "total": r.total, "possible": sum(possible.values()),
                     "status": r.status, "message": r.message})
        (out / "feedback" / f"{r.student}.txt").write_text(
            f"Student: {r.student}\nScore: {r.total:g} / {sum(possible.values()):g}\nStatus: {r.status}\n\n"
            f"{r.feedback}\n", encoding="utf-8")
    table = pd.DataFrame(rows, columns=["student", *tests, "total", "possible", "status", "message"])
    table.to_csv(out / "grades.csv", index=False)
    return table


# ---------------------------------------------------------------- inside the sandbox


class _CellTimeout(BaseException):
    """Raised in a cell that runs past its time; BaseException so bare ``except Exception`` misses it."""


_MISSING = object()
# Where a replaced function could turn a failing test into a passing one: the test harness,
# the interpreter's built-ins and the libraries the tests compare with.
_WATCHED = ("builtins", "math", "cmath", "operator", "functools", "itertools", "doctest", "json", "re", "io",
            "contextlib", "numpy", "numpy.testing", "numpy.linalg", "numpy.fft", "numpy.random", "numpy.lib",
            "scipy", "scipy.signal", "scipy.linalg", "torch", "torch.nn", "torch.nn.functional", "torch.testing",
            "librosa", "pandas", "otter", "course_utils")
_CONSTANTS = ("builtins", "math", "cmath", "numpy")  # where numbers (pi, inf) are watched too


class _Reference:
    """What the interpreter looked like before the student's code ran, to compare and restore.

    Watched: every function, class and module bound in :data:`_WATCHED` and the course's
    modules (and their functions' code), the methods of the classes defined there and of
    the built-in and numpy scalar types, the ``sys.modules`` entries and the hooks the
    interpreter calls on its own (``sys.displayhook``, trace and profile functions).
    """

    def __init__(self):
        self.entries = []  # (label, owner, key, value); owner a module/class (attribute) or dict (item)
        names = [n for n in sys.modules if n in _WATCHED or n.startswith("course_utils.")]
        types_ = [object, type, int, float, complex, bool, str, bytes, list, tuple, dict, set, frozenset, range, slice,
                  np.ndarray, np.generic, np.number, np.bool_, np.floating, np.integer, np.complexfloating,
                  np.float32, np.float64, np.complex64, np.complex128, np.int64]
        if "torch" in sys.modules:
            types_.append(sys.modules["torch"].Tensor)
        for name in names:
            module = sys.modules[name]
            self.entries.append((f"sys.modules[{name!r}]", sys.modules, name, module))
            for key, value in list(vars(module).items()):
                if callable(value) or isinstance(value, type(sys)) or (
                        name in _CONSTANTS and isinstance(value, (int, float, complex)) and not key.startswith("_")):
                    self._add(f"{name}.{key}", module, key, value)
                if isinstance(value, type) and value.__module__ == name and value not in types_:
                    types_.append(value)
        for cls in types_:
            for key, value in list(vars(cls).items()):
                if callable(value) or isinstance(value, (staticmethod, classmethod, property)):
                    self._add(f"{cls.__qualname__}.{key}", cls, key, value)
        self.entries.append(("builtins.__import__", builtins, "__import__", builtins.__import__))
        self.hooks = {"sys.displayhook": sys.__displayhook__}
        self.path_hooks = (list(sys.meta_path), list(sys.path_hooks))

    def _add(self, label, owner, key, value) -> None:
        self.entries.append((label, owner, key, value))
        function = type(_answer)
        for name, inner in ((label, value), (f"{label}._implementation", getattr(value, "_implementation", None)),
                            (f"{label}.__wrapped__", getattr(value, "__wrapped__", None))):
            if isinstance(inner, function):  # a Python function (or numpy's wrapped one): its code can be swapped
                for part in ("__code__", "__defaults__", "__kwdefaults__"):
                    self.entries.append((f"{name}.{part}", inner, part, getattr(inner, part)))

    @staticmethod
    def _current(owner, key):
        if isinstance(owner, dict):
            return owner.get(key, _MISSING)
        if key in ("__code__", "__defaults__", "__kwdefaults__"):
            return getattr(owner, key)
        return vars(owner).get(key, _MISSING)

    def restore(self, namespace: dict, aliases: dict) -> list[str]:
        """Put every watched object back; return what had been replaced.

        ``aliases`` maps names the notebook bound to modules (``np``) to those modules: the
        tests see them again under those names, whatever the notebook rebound them to.
        """
        found = []
        for label, owner, key, value in self.entries:
            if self._current(owner, key) is not value:
                found.append(label)
                try:
                    if isinstance(owner, dict):
                        owner[key] = value
                    else:
                        setattr(owner, key, value)
                except (TypeError, AttributeError):
                    pass  # a built-in type changed through the garbage collector: found, and 0 points
        if sys.displayhook is not sys.__displayhook__:
            found.append("sys.displayhook")
            sys.displayhook = sys.__displayhook__
        if sys.gettrace() is not None or sys.getprofile() is not None:
            found.append("a trace or profile function")
        sys.settrace(None)
        sys.setprofile(None)
        threading.settrace(None)
        threading.setprofile(None)
        if gc.callbacks:
            found.append("gc.callbacks")
            gc.callbacks.clear()
        sys.meta_path[:], sys.path_hooks[:] = self.path_hooks
        if namespace.get("__builtins__") not in (builtins, vars(builtins)):
            found.append("__builtins__ of the notebook")
        namespace["__builtins__"] = builtins
        for name, module in aliases.items():
            value = namespace.get(name)
            if value is not module:
                if value is not None and any(hasattr(value, a) for a in dir(module) if not a.startswith("_")):
                    found.append(f"{name} (the notebook's {module.__name__})")
                namespace[name] = module
        return sorted(set(found) | set(_Reference.blocked))

    blocked: list[str] = []  # audit hooks the notebook tried to add (refused)


def _refuse_audit_hooks(event: str, args) -> None:
    """Our audit hook: a notebook may not add its own (they could run code inside the tests)."""
    if event == "sys.addaudithook":
        _Reference.blocked.append("sys.addaudithook")
        raise RuntimeError("audit hooks are not allowed while grading")


def _reset_signals(handler) -> None:
    """Default handlers for every signal but our cell timer; no timer left running."""
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.alarm(0)
    special = {signal.SIGALRM: handler, signal.SIGINT: signal.default_int_handler,
               signal.SIGPIPE: signal.SIG_IGN, signal.SIGXFSZ: signal.SIG_IGN}  # as Python starts, and ours
    for sig in signal.valid_signals() - {signal.SIGKILL, signal.SIGSTOP}:
        try:
            signal.signal(sig, special.get(sig, signal.SIG_DFL))
        except (OSError, ValueError, RuntimeError):
            pass
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


@dataclass
class _Run:
    """A submission's cells, run in the sandbox: their namespace and what is needed to check it."""

    namespace: dict
    errors: list
    reference: "_Reference"
    aliases: dict
    on_alarm: object
    cell_s: float
    real_exit: object

    def restore(self) -> list[str]:
        """Default signal handlers again; the watched objects put back; what had been replaced."""
        _reset_signals(self.on_alarm)
        return self.reference.restore(self.namespace, self.aliases)


def _run_cells(setup: dict) -> _Run:
    """Inside the sandbox: write the files handed in, then run the student's cells, each under
    ``setup["cell_s"]``, after recording what they could replace (:class:`_Reference`)."""
    cell_s = setup["cell_s"]
    for name, data in setup.get("files", {}).items():  # the files handed in, beside the notebook
        target = Path(*PurePosixPath(name).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(data))

    def on_alarm(signum, frame):
        raise _CellTimeout(f"cell ran longer than {cell_s:.0f} s")

    _silence_otter()
    real_exit = os._exit
    os._exit = lambda status=0: (_ for _ in ()).throw(SystemExit(status))  # keep grading after os._exit
    reference = _Reference()
    sys.addaudithook(_refuse_audit_hooks)
    _reset_signals(on_alarm)
    random.seed(0)
    np.random.seed(0)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(0)
    from IPython.core.inputtransformer2 import TransformerManager

    transform = TransformerManager().transform_cell
    namespace: dict = {"__name__": "__main__"}
    errors, aliases = [], {}
    for i, source in enumerate(setup["cells"]):
        try:
            signal.setitimer(signal.ITIMER_REAL, cell_s)
            exec(compile(transform(source), f"<cell {i + 1}>", "exec"), namespace)
        except BaseException as exc:  # noqa: BLE001 - a student's cell may raise anything, even SystemExit
            errors.append(f"cell {i + 1}: {type(exc).__name__}: {str(exc)[:120]}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        for name, value in list(namespace.items()):
            if isinstance(value, type(sys)) and sys.modules.get(value.__name__) is value:
                aliases.setdefault(name, value)
    return _Run(namespace, errors, reference, aliases, on_alarm, cell_s, real_exit)


def _timed(run: _Run, function, *args):
    """``function(*args)`` under the cell time limit; ``(value, None)`` or ``(None, "Error: ...")``."""
    try:
        signal.setitimer(signal.ITIMER_REAL, run.cell_s)
        return function(*args), None
    except BaseException as exc:  # noqa: BLE001 - student code may raise anything
        return None, f"{type(exc).__name__}: {str(exc)[:200]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _sandboxed(channel) -> None:
    """The job run in the sandbox: the student's cells, then the tests the grader sends.

    Messages, one JSON line each: the grader sends the setup (cells, files, a token); this
    answers with the cell errors and what the notebook replaced; the grader sends the
    public cases, this answers with results and reports; then the hidden cases, answered
    with results only. Each answer carries the token of its request.
    """
    setup = channel.receive()
    run = _run_cells(setup)
    channel.send({"token": setup["token"], "errors": run.errors, "tampered": run.restore()})
    for _ in range(2):  # the public cases, then the hidden ones
        request = channel.receive()
        results, reports = [], []
        for case in request["cases"]:
            outcome, error = _timed(run, _run_case, case["name"], case["code"], run.namespace)
            ok, report = outcome if error is None else (False, error)  # a test may call into broken student code
            results.append(bool(ok))
            reports.append(report)
        answer = {"token": request["token"], "results": results, "tampered": run.restore()}
        if request["reports"]:
            answer["reports"] = reports
        channel.send(answer)
    run.real_exit(0)


def _silence_otter() -> None:
    """Make the student's ``otter.Notebook`` calls no-ops: the grader runs the tests itself."""
    class GradingNotebook:
        def __init__(self, *args, **kwargs):
            pass

        def __getattr__(self, name):
            return lambda *args, **kwargs: None

    otter.Notebook = GradingNotebook


def _run_case(name: str, code: str, namespace: dict) -> tuple[bool, str]:
    """Run one doctest case in the student's namespace, as otter does; ``(passed, report)``."""
    examples = [e for e in doctest.DocTestParser().parse(code, name) if isinstance(e, doctest.Example)]
    runner = doctest.DocTestRunner(verbose=False)
    report = io.StringIO()
    with contextlib.redirect_stdout(report), contextlib.redirect_stderr(report):
        result = runner.run(doctest.DocTest(examples, namespace, name, None, None, code), out=report.write,
                            clear_globs=False)
    return result.failed == 0, report.getvalue()


def main(argv=None) -> int:
    """Command-line entry point ``course-grade``."""
    from . import capstone  # it builds on this module

    if argv is None:
        argv = sys.argv[1:]
    parser = argparse.ArgumentParser(prog="course-grade", description="Grade a folder of homework submissions.")
    parser.add_argument("submissions", type=Path,
                        help="folder with one entry per student: ID.ipynb, or a folder ID/ or ID.zip holding one "
                             "notebook and the files handed in with it")
    task = parser.add_mutually_exclusive_group(required=True)
    task.add_argument("--autograder", type=Path, help="autograder.zip from otter assign (a homework)")
    task.add_argument("--capstone", type=Path, metavar="HIDDEN",
                      help="the capstone: a folder of hidden songs in the bundled layout (course_utils.capstone)")
    parser.add_argument("--out", type=Path, required=True, help="where grades.csv and feedback/ go")
    parser.add_argument("--workers", type=int, default=2, help="submissions graded in parallel")
    parser.add_argument("--timeout", type=float, help=f"seconds per submission (default {Limits.wall_s:g})")
    parser.add_argument("--cell-timeout", type=float,
                        help=f"seconds per cell, and per song for the capstone (default {Limits.cell_s:g})")
    parser.add_argument("--memory-mb", type=int, help=f"memory per submission (default {Limits.memory_mb})")
    parser.add_argument("--attachment-kb", type=int,
                        help=f"largest file handed in beside a notebook, larger ones are left out (default "
                             f"{Limits.attachment_kb}; the capstone's weights file: {capstone.LIMITS.attachment_kb})")
    parser.add_argument("--tmp-dir", type=Path, help="where the sandboxes' mount points go (default: the system's)")
    parser.add_argument("--unsafe", action="store_true",
                        help="grade even if this machine cannot isolate submissions (every row says so)")
    args = parser.parse_args(argv)
    defaults = capstone.LIMITS if args.capstone else Limits()
    given = {"wall_s": args.timeout, "cell_s": args.cell_timeout, "memory_mb": args.memory_mb,
             "attachment_kb": args.attachment_kb}
    limits = dataclasses.replace(defaults, **{k: v for k, v in given.items() if v is not None})
    try:
        if args.capstone:
            table = capstone.grade_capstone(args.submissions, args.capstone, args.out, limits=limits,
                                            workers=args.workers, tmp_dir=args.tmp_dir, unsafe=args.unsafe)
            statuses, shown = capstone.STATUSES, table
        else:
            table = grade_batch(args.submissions, args.autograder, args.out, limits=limits, workers=args.workers,
                                tmp_dir=args.tmp_dir, unsafe=args.unsafe)
            statuses, shown = STATUSES, table.drop(columns="message")
    except JobError as exc:
        print(f"course-grade: {exc}", file=sys.stderr)
        return 2
    print(shown.to_string(index=False))
    for status in sorted(set(table["status"])):
        print(f"  {status}: {statuses.get(status, '')}")
    print(f"\nwrote {args.out / 'grades.csv'} and {len(table)} feedback files in {args.out / 'feedback'}"
          + (f", and the leaderboard (.csv, .md, .html) in {args.out}" if args.capstone else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
