"""Batch grading of homework notebooks that survives anything a submission does.

``otter run`` grades one notebook at a time in the grader's own process, with no time
limit and no sandbox (STACK.md, "Homework grading"). This module keeps otter's test files
(the ``tests/*.py`` inside the ``autograder.zip`` that ``otter assign`` builds) and runs
each submission in a child process of its own:

- a fresh temporary working directory, removed afterwards;
- a wall-clock limit for the whole submission and a limit per cell (an endless loop costs
  the cell, not the whole notebook), a CPU-time limit, a memory limit, a file-size limit,
  output thrown away;
- when the grader runs as root, the child runs as the unprivileged user ``nobody``, so it
  can neither read the other submissions nor touch any file outside its directory;
- the tests reach the child only after the student's code has run, through a pipe, and the
  child answers with a random token the student's code never saw: printed "results" and
  test files searched for on disk are worth nothing.

A submission is a notebook file (``ada.ipynb``), or a folder (``ada/``) or zip file
(``ada.zip``) holding exactly one notebook and the files it produced, such as the results
file of homework 2 (:func:`save_results`). Those files are size-capped
(``Limits.attachment_kb``) and put beside the notebook in the child's working directory,
as Gradescope puts the files a student uploads. Cells tagged ``otter_ignore`` (a long
training run) are skipped, as otter skips them.

Every entry in the submissions folder gets a row in ``grades.csv`` whatever it holds, and a
feedback file. Grading is deterministic: the same batch gives the same grades.

Command line (``course-grade`` once the package is installed)::

    course-grade SUBMISSIONS_DIR --autograder dist/autograder/autograder.zip --out grades/

Taught to instructors in the README, section "Grading homework", and in
``notebooks/homework/README.md``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import math
import os
import re
import resource
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

__all__ = ["Limits", "SubmissionResult", "load_tests", "grade_submission", "grade_batch", "save_results",
           "load_results", "ResultsFileError", "RESULTS_FORMAT", "IGNORE_TAG", "main"]

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
        Largest file the child may write.
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
    from otter.test_files.ok_test import OKTestFile

    parsed = {}
    for name, source in tests.items():
        env: dict = {}
        exec(source, env)  # instructor-written test files
        test_file = OKTestFile.from_spec(env["test"])
        parsed[name] = {"all_or_nothing": bool(test_file.all_or_nothing), "cases": [
            {"name": c.name, "code": c.body, "hidden": bool(c.hidden), "points": float(c.points),
             "failure_message": c.failure_message} for c in test_file.test_cases]}
    return parsed


def points_possible(tests: dict[str, str]) -> dict[str, float]:
    """Points per question, as otter resolves them from the test files."""
    return {q: sum(c["points"] for c in spec["cases"]) for q, spec in test_cases(tests).items()}


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
    import nbformat

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


def _kb(n: int) -> str:
    return f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


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
            sub.notes.append(f"left out {name}: {_kb(size)}, over the {_kb(cap)} limit for a file handed in "
                             f"beside the notebook")
            continue
        data = read(cap + 1)
        if data is None or len(data) > cap:
            sub.notes.append(f"left out {name}: unreadable or over the {_kb(cap)} limit")
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


def _child_limits(limits: Limits):
    """The function the child runs before ``exec``: its own session and resource limits."""

    def apply():
        os.setsid()  # own process group: the parent can kill everything it spawns
        mb = 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (limits.memory_mb * mb, limits.memory_mb * mb))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_mb * mb, limits.file_mb * mb))
        cpu = int(limits.wall_s) + 5
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def _read_line(fd: int, deadline: float) -> bytes | None:
    """Read one line from ``fd`` before ``deadline``; None on timeout or end of file."""
    buffer = b""
    while not buffer.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            return None
        chunk = os.read(fd, 65536)
        if not chunk:
            return None
        buffer += chunk
        if len(buffer) > 16 * 1024 * 1024:
            return None
    return buffer


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def grade_submission(path: Path, tests: dict[str, str], *, limits: Limits = Limits(),
                     possible: dict[str, float] | None = None, hide=()) -> SubmissionResult:
    """Grade one submission in a sandboxed child process; never raises for a bad submission.

    Parameters
    ----------
    path : Path
        The submission: a notebook file, or a folder or ``.zip`` with one notebook and the
        files handed in with it (anything: the result says what was wrong with it).
    tests : dict of str to str
        From :func:`load_tests`.
    limits : Limits
    possible : dict, optional
        Points per question (computed from ``tests`` when not given).
    hide : sequence of Path
        Folders the submission must not see (the other submissions, the tests, the grades).

    Returns
    -------
    SubmissionResult
    """
    return _grade(_read_submission(path, limits), tests, limits=limits,
                  possible=points_possible(tests) if possible is None else possible, hide=hide)


def _grade(sub: _Submission, tests, *, limits: Limits, possible, hide) -> SubmissionResult:
    zero = {q: 0.0 for q in tests}
    notes = "; ".join(sub.notes)
    if sub.cells is None:
        return SubmissionResult(sub.student, zero, possible, "invalid", sub.problem,
                                f"Your submission could not be graded: {sub.problem}.")
    received = ("Files handed in with the notebook: " + ", ".join(f"{n} ({_kb(len(b))})" for n, b in sub.files.items())
                if sub.files else "No files handed in with the notebook.") + (f"\nNote: {notes}." if notes else "")
    workdir = Path(tempfile.mkdtemp(prefix=f"grade-{sub.student}-"))
    to_child_r, to_child_w = os.pipe()
    from_child_r, from_child_w = os.pipe()
    token = secrets.token_hex(16)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workdir), "TMPDIR": str(workdir),
           "PYTHONHASHSEED": "0", "COURSE_FAST": "1", "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(workdir),
           "NUMBA_CACHE_DIR": str(workdir), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1"}
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # keep the machine's BLAS workarounds
        if key in os.environ:
            env[key] = os.environ[key]
    command = [sys.executable, "-m", "course_utils.grading", "--child", str(to_child_r), str(from_child_w)]
    setup = {"cells": sub.cells, "cell_s": limits.cell_s, "workdir": str(workdir),
             "hide": [str(Path(h).resolve()) for h in hide], "tmpfs_mb": limits.file_mb * 4,
             "files": {name: base64.b64encode(data).decode("ascii") for name, data in sub.files.items()}}
    proc = subprocess.Popen(command, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, pass_fds=(to_child_r, from_child_w),
                            preexec_fn=_child_limits(limits))
    os.close(to_child_r)
    os.close(from_child_w)
    deadline = time.monotonic() + limits.wall_s
    outcome = None
    try:
        _write_all(to_child_w, (json.dumps(setup) + "\n").encode())
        ready = _read_line(from_child_r, deadline)
        if ready is not None and ready.startswith(b"ready"):
            # only now do the tests exist for the child, with the token its answer must carry
            _write_all(to_child_w, (json.dumps({"tests": test_cases(tests), "token": token}) + "\n").encode())
            os.close(to_child_w)
            to_child_w = -1
            outcome = _parse_outcome(_read_line(from_child_r, deadline), token)
    except OSError:  # the child died and closed its end
        outcome = None
    finally:
        for fd in (to_child_w, from_child_r):
            if fd >= 0:
                os.close(fd)
        timed_out = time.monotonic() >= deadline
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # whatever the submission left running
        except ProcessLookupError:
            pass
        proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    if outcome is None:
        if timed_out:
            status, message = "timeout", f"stopped after the {limits.wall_s:.0f} s limit"
        else:
            status, message = "crashed", f"the grading process died (exit status {proc.returncode})"
        return SubmissionResult(sub.student, zero, possible, status, "; ".join(filter(None, [message, notes])),
                                f"Your submission could not be graded: {message}.\n{received}")
    scores = {q: float(outcome["scores"].get(q, 0.0)) for q in tests}
    errors = outcome["cell_errors"]
    message = f"{len(errors)} cell(s) raised: " + "; ".join(errors[:3]) if errors else ""
    message = "; ".join(filter(None, [notes, message]))
    if not outcome["isolated"]:
        message = ("no filesystem isolation on this machine; " + message).strip("; ")
    return SubmissionResult(sub.student, scores, possible, STATUS_OK, message[:500],
                            f"{received}\n\n{outcome['feedback']}")


def _parse_outcome(line: bytes | None, token: str) -> dict | None:
    if line is None:
        return None
    try:
        outcome = json.loads(line)
    except ValueError:
        return None
    if not isinstance(outcome, dict) or outcome.get("token") != token:
        return None
    return outcome


def grade_batch(submissions: Path, autograder: Path, out: Path, *, limits: Limits = Limits(),
                workers: int = 2):
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

    Returns
    -------
    pandas.DataFrame
        One row per submission: student, one column per question, total, possible, status,
        message.
    """
    import pandas as pd

    tests = load_tests(autograder)
    possible = points_possible(tests)
    # read every submission before running any: nothing one does can change another's input
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
    hide = (submissions, autograder, out)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda sub: _grade(sub, tests, limits=limits, possible=possible, hide=hide), subs))
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


# ---------------------------------------------------------------- results files (homework artifacts)

RESULTS_FORMAT = "course_utils.grading/results-1"
"""The ``format`` field of a results file written by :func:`save_results`."""


class ResultsFileError(ValueError):
    """A results file that is missing, too large, not JSON, or not what :func:`save_results` writes."""


def save_results(path, *, assignment: str, scores: dict | None = None, separator=None, info: dict | None = None):
    """Write a homework's results file: scores, a trained model and notes, as one small JSON file.

    Homework that trains a model is not retrained by the grader: the student trains in their
    own session and hands in this file with the notebook; the grader checks its size, reads
    it with :func:`load_results` and re-scores the model on a song or two.

    Parameters
    ----------
    path : str or Path
        Where to write it (e.g. ``"hw02_results.json"``, beside the notebook).
    assignment : str
        The assignment's name (checked when grading).
    scores : dict of str to float, optional
        Scores to report, e.g. SDR in dB per test song. Every value must be finite.
    separator : course_utils.models.Separator, optional
        The trained model, stored with :func:`course_utils.models.save` in float16
        (base64 inside the JSON; a U-Net of 40 000 parameters takes about 120 KB).
    info : dict, optional
        Anything else worth keeping, as plain JSON values (loss, epochs, training time...).

    Returns
    -------
    Path

    Notes
    -----
    Used in ``notebooks/homework`` (homework 2).
    """
    blob = {"format": RESULTS_FORMAT, "assignment": str(assignment), "scores": {}, "info": info or {}}
    for name, value in (scores or {}).items():
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"The score of {name!r} is {value}: every reported score must be a finite number.")
        blob["scores"][str(name)] = value
    if separator is not None:
        from . import models

        with tempfile.TemporaryDirectory() as tmp:
            saved = models.save(Path(tmp) / "model.pt", separator.model, targets=separator.targets, half=True)
            blob["model"] = base64.b64encode(saved.read_bytes()).decode("ascii")
    try:
        text = json.dumps(blob, indent=1, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"info must hold plain JSON values (numbers, strings, lists, dicts): {exc}") from None
    path = Path(path)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def load_results(path, *, max_bytes: int | None = None, assignment: str | None = None) -> dict:
    """Read and check a results file written by :func:`save_results`.

    Parameters
    ----------
    path : str or Path
    max_bytes : int, optional
        The assignment's cap on the file's size; a larger file is refused.
    assignment : str, optional
        The assignment it must belong to.

    Returns
    -------
    dict
        ``assignment``, ``scores`` (str to float), ``info``, ``bytes`` (file size),
        ``separator`` (a :class:`course_utils.models.Separator` on the CPU in evaluation
        mode, or None if the file holds no model) and ``model_metadata``.

    Raises
    ------
    ResultsFileError
        (a ``ValueError``) saying what is wrong: missing, over the cap, not JSON, a field
        missing or of the wrong kind, a model that does not load.

    Notes
    -----
    Nothing in the file is executed: it is JSON, and the model is read with
    ``torch.load(weights_only=True)``. Used in ``notebooks/homework`` (homework 2).
    """
    path = Path(path)
    if not path.is_file():
        raise ResultsFileError(f"There is no results file {path.name!r} here ({path.resolve().parent}): run the "
                               f"cells that write it, and hand it in beside the notebook.")
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise ResultsFileError(f"{path.name} is {_kb(size)}, over the cap of {_kb(max_bytes)} for this assignment: "
                               f"keep the model small (fewer channels or levels) and the info short.")
    try:
        blob = json.loads(path.read_bytes().decode("utf-8"),
                          parse_constant=lambda c: (_ for _ in ()).throw(ValueError(f"{c} is not allowed")))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ResultsFileError(f"{path.name} is not valid JSON ({str(exc)[:200]}): write it with "
                               f"course_utils.grading.save_results and do not edit it by hand.") from None
    problems = []
    if not isinstance(blob, dict):
        raise ResultsFileError(f"{path.name} holds a JSON {type(blob).__name__}, not the object save_results writes.")
    if blob.get("format") != RESULTS_FORMAT:
        problems.append(f"its format is {blob.get('format')!r}, not {RESULTS_FORMAT!r}")
    if assignment is not None and blob.get("assignment") != assignment:
        problems.append(f"it belongs to assignment {blob.get('assignment')!r}, not {assignment!r}")
    scores = blob.get("scores")
    if not isinstance(scores, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in scores.values()):
        problems.append("'scores' must map names to finite numbers")
    info = blob.get("info", {})
    if not isinstance(info, dict):
        problems.append("'info' must be a JSON object")
    if "model" in blob and not isinstance(blob["model"], str):
        problems.append("'model' must be the base64 text save_results writes")
    if problems:
        raise ResultsFileError(f"{path.name} is not a valid results file: " + "; ".join(problems) + ".")
    separator, metadata = None, {}
    if "model" in blob:
        from . import models

        try:
            raw = base64.b64decode(blob["model"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ResultsFileError(f"The model in {path.name} is not valid base64 ({exc}).") from None
        with tempfile.TemporaryDirectory() as tmp:
            model_path = Path(tmp) / "model.pt"
            model_path.write_bytes(raw)
            try:
                separator, metadata = models.load(model_path)
            except Exception as exc:  # torch raises many kinds for a damaged file
                raise ResultsFileError(f"The model in {path.name} does not load ({type(exc).__name__}: "
                                       f"{str(exc)[:200]}).") from None
    return {"assignment": blob.get("assignment"), "scores": {str(k): float(v) for k, v in scores.items()},
            "info": info, "bytes": size, "separator": separator, "model_metadata": metadata}


# ---------------------------------------------------------------- the child process


class _CellTimeout(BaseException):
    """Raised in a cell that runs past its time; BaseException so bare ``except Exception`` misses it."""


def _isolate(workdir: str, hide: list[str], tmpfs_mb: int) -> bool:
    """Seal the filesystem for this process, before any student code runs; True if it worked.

    In a private mount namespace (a user namespace too when not root): the folders in
    ``hide`` are covered by empty read-only tmpfs mounts, every mount becomes read-only,
    ``workdir`` becomes a small writable tmpfs, and
    the capabilities that could undo this are dropped. Not a security boundary against a
    determined attacker (use containers, e.g. Gradescope, for that), but deleting or
    rewriting files, and reading other submissions or the tests, fail.
    """
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
    MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18

    def mount(source, target, fstype, flags, data=None):
        enc = (lambda x: x.encode() if isinstance(x, str) else x)
        if libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)) != 0:
            raise OSError(ctypes.get_errno(), f"mount {target}")

    uid, gid = os.geteuid(), os.getegid()
    flags = CLONE_NEWNS if uid == 0 else CLONE_NEWNS | CLONE_NEWUSER
    if libc.unshare(flags) != 0:
        return False
    try:
        if uid != 0:  # become root inside a user namespace of our own, mapped to ourselves outside
            Path("/proc/self/setgroups").write_text("deny")
            Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
            Path("/proc/self/gid_map").write_text(f"0 {gid} 1")
        mount("none", "/", None, MS_REC | MS_PRIVATE)
        for path in hide:
            if os.path.isdir(path):
                mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=16k")
        mount_points = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
        for target in sorted(set(mount_points), key=len):
            if target.startswith(("/proc", "/sys", "/dev")):
                continue
            try:
                mount("none", target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_REC)
            except OSError:
                pass  # some special mounts refuse; the main filesystems do not
        mount("tmpfs", workdir, "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmpfs_mb}m,mode=0777")
        os.chdir(workdir)
        # drop every capability, for good: nothing can be remounted or bypassed afterwards
        PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP = 38, 24
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        for cap in range(64):
            libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
        data = (ctypes.c_uint32 * 6)()
        if libc.capset(header, data) != 0:
            raise OSError(ctypes.get_errno(), "capset")
    except OSError:
        return False
    return True


def _child(read_fd: int, write_fd: int) -> None:
    """Run the student's cells, say ready, receive the tests, run them, answer with the token."""
    import random

    import numpy as np

    inbox = os.fdopen(read_fd, "rb")
    outbox = os.fdopen(write_fd, "wb", buffering=0)
    setup = json.loads(inbox.readline())
    cell_s = setup["cell_s"]
    from IPython.core.inputtransformer2 import TransformerManager

    isolated = _isolate(setup["workdir"], setup["hide"], setup["tmpfs_mb"])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails instead of killing us
    for name, data in setup.get("files", {}).items():  # the files handed in, beside the notebook
        target = Path(setup["workdir"], *PurePosixPath(name).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(data))

    def on_alarm(signum, frame):
        raise _CellTimeout(f"cell ran longer than {cell_s:.0f} s")

    signal.signal(signal.SIGALRM, on_alarm)
    real_exit = os._exit
    os._exit = lambda status=0: (_ for _ in ()).throw(SystemExit(status))  # keep grading after os._exit
    _silence_otter()
    random.seed(0)
    np.random.seed(0)
    torch_seeded = False
    transform = TransformerManager().transform_cell
    namespace: dict = {"__name__": "__main__"}
    errors = []
    for i, source in enumerate(setup["cells"]):
        try:
            signal.setitimer(signal.ITIMER_REAL, cell_s)
            code = compile(transform(source), f"<cell {i + 1}>", "exec")
            exec(code, namespace)
        except BaseException as exc:  # noqa: BLE001 - a student's cell may raise anything, even SystemExit
            errors.append(f"cell {i + 1}: {type(exc).__name__}: {str(exc)[:120]}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if "torch" in sys.modules and not torch_seeded:  # seed torch once the student has imported it
            sys.modules["torch"].manual_seed(0)
            torch_seeded = True
    outbox.write(b"ready\n")
    request = json.loads(inbox.readline())
    scores, feedback = _run_tests(request["tests"], namespace, cell_s)
    answer = {"token": request["token"], "scores": scores, "feedback": feedback, "cell_errors": errors,
              "isolated": isolated}
    outbox.write((json.dumps(answer) + "\n").encode())
    real_exit(0)


def _silence_otter() -> None:
    """Make the student's ``otter.Notebook`` calls no-ops: the grader runs the tests itself."""
    try:
        import otter
    except ImportError:
        return

    class GradingNotebook:
        def __init__(self, *args, **kwargs):
            pass

        def __getattr__(self, name):
            return lambda *args, **kwargs: None

    otter.Notebook = GradingNotebook


def _run_case(name: str, code: str, namespace: dict) -> tuple[bool, str]:
    """Run one doctest case in the student's namespace, as otter does; ``(passed, report)``."""
    import contextlib
    import doctest
    import io

    examples = [e for e in doctest.DocTestParser().parse(code, name) if isinstance(e, doctest.Example)]
    runner = doctest.DocTestRunner(verbose=False)
    report = io.StringIO()
    with contextlib.redirect_stdout(report), contextlib.redirect_stderr(report):
        result = runner.run(doctest.DocTest(examples, namespace, name, None, None, code), out=report.write,
                            clear_globs=False)
    return result.failed == 0, report.getvalue()


def _run_tests(tests: dict[str, dict], namespace: dict, cell_s: float) -> tuple[dict, str]:
    """Score every question; the feedback shows public cases in full and counts hidden ones."""
    scores, parts = {}, []
    for question, spec in tests.items():
        passed, lines = [], []
        for case in spec["cases"]:
            try:
                signal.setitimer(signal.ITIMER_REAL, cell_s)
                ok, report = _run_case(case["name"], case["code"], namespace)
            except BaseException as exc:  # noqa: BLE001 - a test may call into broken student code
                ok, report = False, f"{type(exc).__name__}: {str(exc)[:200]}"
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            passed.append(ok)
            if not case["hidden"]:
                lines.append(f"  {case['name']}: " + ("passed" if ok else "failed\n" + (
                    f"    {case['failure_message']}\n" if case["failure_message"] else "")
                    + "    " + report.strip().replace("\n", "\n    ")))
        hidden = [ok for ok, case in zip(passed, spec["cases"]) if case["hidden"]]
        if hidden:
            lines.append(f"  hidden tests: {sum(hidden)} of {len(hidden)} passed")
        earned = sum(c["points"] for ok, c in zip(passed, spec["cases"]) if ok)
        possible = sum(c["points"] for c in spec["cases"])
        if spec["all_or_nothing"] and not all(passed):
            earned = 0.0
        scores[question] = earned
        parts.append(f"{question}: {earned:g} / {possible:g}\n" + "\n".join(lines))
    return scores, "\n\n".join(parts)


def main(argv=None) -> int:
    """Command-line entry point ``course-grade``."""
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "--child":
        _child(int(argv[1]), int(argv[2]))
        return 0
    parser = argparse.ArgumentParser(prog="course-grade", description="Grade a folder of homework submissions.")
    parser.add_argument("submissions", type=Path,
                        help="folder with one entry per student: ID.ipynb, or a folder ID/ or ID.zip holding one "
                             "notebook and the files handed in with it")
    parser.add_argument("--autograder", type=Path, required=True, help="autograder.zip from otter assign")
    parser.add_argument("--out", type=Path, required=True, help="where grades.csv and feedback/ go")
    parser.add_argument("--workers", type=int, default=2, help="submissions graded in parallel")
    parser.add_argument("--timeout", type=float, default=Limits.wall_s, help="seconds per submission")
    parser.add_argument("--cell-timeout", type=float, default=Limits.cell_s, help="seconds per cell")
    parser.add_argument("--memory-mb", type=int, default=Limits.memory_mb, help="memory per submission")
    parser.add_argument("--attachment-kb", type=int, default=Limits.attachment_kb,
                        help="largest file handed in beside a notebook (larger ones are left out)")
    args = parser.parse_args(argv)
    limits = Limits(wall_s=args.timeout, cell_s=args.cell_timeout, memory_mb=args.memory_mb,
                    attachment_kb=args.attachment_kb)
    table = grade_batch(args.submissions, args.autograder, args.out, limits=limits, workers=args.workers)
    print(table.drop(columns="message").to_string(index=False))
    print(f"\nwrote {args.out / 'grades.csv'} and {len(table)} feedback files in {args.out / 'feedback'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
