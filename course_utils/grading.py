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

Every file in the submissions folder gets a row in ``grades.csv`` whatever it holds, and a
feedback file. Grading is deterministic: the same batch gives the same grades.

Command line (``course-grade`` once the package is installed)::

    course-grade SUBMISSIONS_DIR --autograder dist/autograder/autograder.zip --out grades/

Taught to instructors in the README, section "Grading homework".
"""

from __future__ import annotations

import argparse
import json
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
from pathlib import Path

__all__ = ["Limits", "SubmissionResult", "load_tests", "grade_submission", "grade_batch", "main"]

STATUS_OK = "ok"


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
    """

    wall_s: float = 600.0
    cell_s: float = 120.0
    memory_mb: int = 4096
    file_mb: int = 64


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


def student_id(path: Path) -> str:
    """The student id a submission's file name carries: its stem, reduced to safe characters."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", path.stem) or "unnamed"


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


def _read_notebook(path: Path):
    """Parse a submission; return ``(code_cells, None)`` or ``(None, reason)``."""
    import nbformat

    try:
        raw = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as exc:
        return None, f"not a readable text file ({type(exc).__name__})"
    try:
        json.loads(raw)
    except ValueError as exc:
        return None, f"not valid JSON ({exc})"
    try:
        nb = nbformat.reads(raw, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several kinds for malformed notebooks
        return None, f"valid JSON but not a Jupyter notebook ({str(exc).splitlines()[0][:200]})"
    return [c.source for c in nb.cells if c.cell_type == "code"], None


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


def grade_submission(path: Path, tests: dict[str, str], *, limits: Limits = Limits(),
                     possible: dict[str, float] | None = None, hide=()) -> SubmissionResult:
    """Grade one submission in a sandboxed child process; never raises for a bad submission.

    Parameters
    ----------
    path : Path
        The submitted file (anything: the result says what was wrong with it).
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
    cells, problem = _read_notebook(path)
    return _grade_cells(student_id(path), cells, problem, tests, limits=limits,
                        possible=points_possible(tests) if possible is None else possible, hide=hide)


def _grade_cells(student: str, cells, problem, tests, *, limits: Limits, possible, hide) -> SubmissionResult:
    zero = {q: 0.0 for q in tests}
    if cells is None:
        return SubmissionResult(student, zero, possible, "invalid", problem,
                                f"Your submission could not be graded: {problem}.")
    workdir = Path(tempfile.mkdtemp(prefix=f"grade-{student}-"))
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
    setup = {"cells": cells, "cell_s": limits.cell_s, "workdir": str(workdir),
             "hide": [str(Path(h).resolve()) for h in hide], "tmpfs_mb": limits.file_mb * 4}
    proc = subprocess.Popen(command, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, pass_fds=(to_child_r, from_child_w),
                            preexec_fn=_child_limits(limits))
    os.close(to_child_r)
    os.close(from_child_w)
    deadline = time.monotonic() + limits.wall_s
    outcome = None
    try:
        os.write(to_child_w, (json.dumps(setup) + "\n").encode())
        ready = _read_line(from_child_r, deadline)
        if ready is not None and ready.startswith(b"ready"):
            # only now do the tests exist for the child, with the token its answer must carry
            os.write(to_child_w, (json.dumps({"tests": test_cases(tests), "token": token}) + "\n").encode())
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
        return SubmissionResult(student, zero, possible, status, message,
                                f"Your submission could not be graded: {message}.")
    scores = {q: float(outcome["scores"].get(q, 0.0)) for q in tests}
    errors = outcome["cell_errors"]
    message = f"{len(errors)} cell(s) raised: " + "; ".join(errors[:3]) if errors else ""
    if not outcome["isolated"]:
        message = ("no filesystem isolation on this machine; " + message).strip("; ")
    return SubmissionResult(student, scores, possible, STATUS_OK, message[:500], outcome["feedback"])


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
    """Grade every file in ``submissions`` and write ``grades.csv`` and ``feedback/<student>.txt``.

    Parameters
    ----------
    submissions : Path
        A folder of submitted files, one per student, named by student id.
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
    files = sorted(p for p in Path(submissions).iterdir() if p.is_file() and not p.name.startswith("."))
    parsed = [(student_id(p), *_read_notebook(p)) for p in files]
    hide = (submissions, autograder, out)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda item: _grade_cells(*item, tests, limits=limits, possible=possible,
                                                          hide=hide), parsed))
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


class _CellTimeout(BaseException):
    """Raised in a cell that runs past its time; BaseException so bare ``except Exception`` misses it."""


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
    parser.add_argument("submissions", type=Path, help="folder with one submitted notebook per student")
    parser.add_argument("--autograder", type=Path, required=True, help="autograder.zip from otter assign")
    parser.add_argument("--out", type=Path, required=True, help="where grades.csv and feedback/ go")
    parser.add_argument("--workers", type=int, default=2, help="submissions graded in parallel")
    parser.add_argument("--timeout", type=float, default=Limits.wall_s, help="seconds per submission")
    parser.add_argument("--cell-timeout", type=float, default=Limits.cell_s, help="seconds per cell")
    parser.add_argument("--memory-mb", type=int, default=Limits.memory_mb, help="memory per submission")
    args = parser.parse_args(argv)
    limits = Limits(wall_s=args.timeout, cell_s=args.cell_timeout, memory_mb=args.memory_mb)
    table = grade_batch(args.submissions, args.autograder, args.out, limits=limits, workers=args.workers)
    print(table.drop(columns="message").to_string(index=False))
    print(f"\nwrote {args.out / 'grades.csv'} and {len(table)} feedback files in {args.out / 'feedback'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
