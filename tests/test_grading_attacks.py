"""The batch grader against hostile submissions, tried the way an attacker would.

Every case is the untouched assignment (which earns 0) plus one attack. For each we check
the row's status, that the score is not above the untouched notebook's, that the batch
finished with one row per entry, and that nothing on the host changed: canary files next to
and above the temporary folder, the host's ``/dev``, no process left behind, no folder left
in the temporary folder. The batch runs twice: with the temporary folder in a scratch folder
(canaries around it) and at the system's default location.
"""

import csv
import os
import re
import socket
from pathlib import Path

import nbformat
import pytest

from autograders import write_autograder
from course_utils import grading, sandbox

MARKER = "HIDDEN-TEST-MARKER-7f3a"
Q1 = f"""OK_FORMAT = True
test = {{'name': 'q1', 'points': 2, 'suites': [{{'cases': [
  {{'code': '>>> import numpy as np\\n>>> assert np.allclose(double(np.arange(3.0)), [0.0, 2.0, 4.0])', 'hidden': False, 'locked': False}},
  {{'code': '>>> import numpy as np  # {MARKER}\\n>>> assert np.allclose(double(np.array([-3.5])), [-7.0])', 'hidden': True, 'locked': False}}],
  'scored': True, 'setup': '', 'teardown': '', 'type': 'doctest'}}]}}
"""
Q2 = """OK_FORMAT = True
test = {'name': 'q2', 'points': 1, 'suites': [{'cases': [
  {'code': '>>> import math\\n>>> assert math.isclose(answer, 42)', 'hidden': False, 'locked': False}],
  'scored': True, 'setup': '', 'teardown': '', 'type': 'doctest'}]}
"""
UNTOUCHED = ["import numpy as np", "def double(x):\n    ...", "answer = ..."]
SOLVED = ["import numpy as np", "def double(x):\n    return 2 * np.asarray(x)", "answer = 42"]

# name: (attack cells, appended to the untouched notebook; expected status; a word the message holds)
ATTACKS = {
    "kill_parent": ("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos.kill(-1, signal.SIGKILL)\n"
                    "os.kill(1, signal.SIGTERM)", "ok", ""),
    "kill_group": ("import os, signal\nos.killpg(0, signal.SIGKILL)", "crashed", "died"),
    "fork_bomb": ("import os\nwhile True:\n    os.fork()", "ok", "BlockingIOError"),
    "process_flood": ("import subprocess\nprocs = [subprocess.Popen(['sleep', '600']) for _ in range(50)]", "ok",
                      "BlockingIOError"),
    "lingering_thread": ("import threading, time, numpy\n"
                         "def patch():\n    while True:\n        numpy.allclose = lambda *a, **k: True\n"
                         "        time.sleep(0.001)\n"
                         "threading.Thread(target=patch, daemon=True).start()", "ok", "can't start new thread"),
    "atexit": ("import atexit, os\natexit.register(lambda: os.write(1, b'q1: 2 / 2'))\n"
               "atexit.register(lambda: [os.write(fd, b'{\"results\": [true, true]}\\n') for fd in range(3, 20)])",
               "ok", ""),
    "signals": ("import signal\nfor s in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):\n"
                "    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    pass", "timeout", "limit"),
    "setsid": ("import os\nos.setsid()\nos.setpgid(0, 0) if hasattr(os, 'setpgid') else None", "ok", ""),
    "close_channel": ("import os\nfor fd in range(256):\n    try:\n        os.close(fd)\n    except OSError:\n"
                      "        pass", "crashed", "died"),
    "flood_channel": ("import os, json\nfake = json.dumps({'token': 'guess', 'results': [True, True, True], "
                      "'reports': ['', '', ''], 'errors': [], 'tampered': []}).encode() + b'\\n'\n"
                      "for fd in range(1, 40):\n    try:\n        os.write(fd, fake * 200)\n    except OSError:\n"
                      "        pass\nfor _ in range(2000):\n    print('x' * 10000)", "ok", ""),
    # every entry of the view is attacked; only writable trees are walked (a read-only bind refuses
    # the first unlink as it does the last, and walking /usr would only race the cell's time limit)
    "chdir_symlink": ("import glob, os, shutil\nos.chdir('/')\nfor p in glob.glob('/*') + glob.glob('../../*') + "
                      "glob.glob('/dev/*') + glob.glob('/dev/shm/*') + glob.glob('/sys/fs/cgroup/*') + CANARIES:\n"
                      "    if p.startswith(('/tmp', '/submission', '/dev/shm')) or os.access(p, os.W_OK):\n"
                      "        shutil.rmtree(p, ignore_errors=True)\n    for remove in (os.remove, os.rmdir):\n"
                      "        try:\n            remove(p)\n        except OSError:\n            pass\n"
                      "os.chdir('/submission')\nos.symlink('/etc', 'etc')\nopen('etc/course-grade-owned', 'w')",
                      "ok", "Read-only file system"),
    "disk_bomb": ("block = b'x' * (1 << 20)\nfor place in ('big.bin', '/tmp/big.bin'):\n"
                  "    with open(place, 'wb') as f:\n        try:\n            for _ in range(10_000):\n"
                  "                f.write(block)\n        except OSError:\n            pass\n"
                  "open('/tmp/more.bin', 'wb').write(b'x' * (400 << 20))", "ok", ""),
    "memory_bomb": ("hold = []\nwhile True:\n    hold.append(bytearray(256 << 20))", "ok", "MemoryError"),
    "tamper_numpy": ("import math, numpy\nalways = lambda *a, **k: True\nnumpy.allclose = numpy.isclose = always\n"
                     "numpy.testing.assert_allclose = lambda *a, **k: None\nmath.isclose = always", "tampered",
                     "numpy.allclose"),
    "tamper_code": ("import numpy\nnumpy.allclose._implementation.__code__ = (\n"
                    "    lambda a, b, rtol=1e-05, atol=1e-08, equal_nan=False: True).__code__", "tampered",
                    "numpy.allclose._implementation.__code__"),
    "tamper_builtins": ("import builtins, types\nreal_import = builtins.__import__\n"
                        "fake = types.SimpleNamespace(allclose=lambda *a, **k: True, isclose=lambda *a, **k: True)\n"
                        "builtins.__import__ = lambda name, *a, **k: fake if name in ('numpy', 'math') else "
                        "real_import(name, *a, **k)", "tampered", "builtins.__import__"),
    "tamper_harness": ("import doctest\ndoctest.DocTestRunner.run = lambda self, *a, **k: doctest.TestResults(0, 0)\n"
                       "doctest.OutputChecker.check_output = lambda self, *a: True", "tampered", "DocTestRunner.run"),
    "tamper_modules": ("import sys, types\nsys.modules['numpy'] = types.SimpleNamespace(allclose=lambda *a, **k: True)\n"
                       "sys.modules['math'] = types.SimpleNamespace(isclose=lambda *a, **k: True)", "tampered",
                       "sys.modules['numpy']"),
    "tamper_in_test": ("import numpy\ndef double(x):\n    numpy.allclose = lambda *a, **k: True  # while a test runs\n"
                       "    return x", "tampered", "numpy.allclose"),
    "tamper_hooks": ("import sys\nsys.displayhook = lambda value: print('True')\n"
                     "sys.addaudithook(lambda event, args: None)", "tampered", "sys.addaudithook"),
    "steal_tests": ("import os\nseen = 0\nfor top, dirs, files in os.walk('/'):\n"
                    "    dirs[:] = [d for d in dirs if os.path.join(top, d) not in ('/proc', '/sys', '/dev', '/usr')]\n"
                    "    for f in files:  # where otter's tests and the instructor's notebooks would be\n"
                    "        if f.endswith(('.zip', '.ipynb')) or f.startswith('q') and f.endswith('.py'):\n"
                    "            seen += 1\n            try:\n"
                    "                text = open(os.path.join(top, f), errors='replace').read()\n"
                    "            except OSError:\n                continue\n"
                    f"            if {MARKER!r} in text or f == 'autograder.zip':\n"
                    "                raise RuntimeError(os.path.join(top, f) + text)\n"
                    "raise RuntimeError(f'no tests in {seen} files')", "ok", "no tests in"),
    "steal_in_test": ("import sys\n"
                      "def double(x):\n    sources = [f.f_code.co_filename for f in [sys._getframe(i) for i in "
                      "range(1, 6)]]\n    print('\\n'.join(sources) + str(sys._getframe(2).f_locals.get('example')))\n"
                      "    return 2 * x + 1", "ok", ""),
    "network": ("import socket\ns = socket.create_connection(('127.0.0.1', PORT), timeout=2)\ns.sendall(b'stolen')",
                "ok", "Network is unreachable"),
    "privileges": ("import os\nos.setuid(0)", "ok", "PermissionError"),
}


def _write_notebook(path: Path, cells) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, path)


def _sandbox_processes() -> list[str]:
    """Processes that run as a sandbox uid or inside a PID namespace below ours."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        uid = int(re.search(r"^Uid:\s+(\d+)", status, re.M).group(1))
        nspid = re.search(r"^NSpid:(.*)$", status, re.M)
        if sandbox._UID_RANGE[0] <= uid < sandbox._UID_RANGE[1] or (nspid and len(nspid.group(1).split()) > 1):
            found.append(entry.name)
    return found


def _run_batch(root: Path, tmp_dir) -> dict:
    autograder = write_autograder(root / "autograder", {"q1": Q1, "q2": Q2})
    submissions = root / "submissions"
    submissions.mkdir()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    canaries = [root / "canary-above.txt"]
    if tmp_dir is not None:
        canaries.append(Path(tmp_dir) / "canary-next.txt")
    canaries.append(Path(tmp_dir or "/tmp") / f"canary-{root.name}.txt")
    for canary in canaries:
        canary.write_text("must survive")
    prelude = f"PORT, CANARIES = {listener.getsockname()[1]}, {[str(c) for c in canaries]!r}"
    _write_notebook(submissions / "untouched.ipynb", UNTOUCHED)
    _write_notebook(submissions / "solved.ipynb", SOLVED)
    for name, (attack, *_) in ATTACKS.items():
        _write_notebook(submissions / f"{name}.ipynb", [*UNTOUCHED, prelude, attack])
    dev_before = sorted(os.listdir("/dev"))
    temp_before = set(os.listdir(tmp_dir or "/tmp"))
    limits = grading.Limits(wall_s=25, cell_s=10, memory_mb=2048, file_mb=16)
    table = grading.grade_batch(submissions, autograder, root / "out", limits=limits, workers=2, tmp_dir=tmp_dir)
    try:
        connection = listener.accept()[0]
        connected = True
        connection.close()
    except BlockingIOError:
        connected = False
    listener.close()
    seen = {str(c): c.read_text() if c.exists() else None for c in canaries}
    for canary in canaries:
        canary.unlink(missing_ok=True)  # the one in the system's /tmp too
    return {"rows": {r["student"]: r for r in table.to_dict("records")}, "out": root / "out",
            "canaries": seen, "connected": connected,
            "dev": (dev_before, sorted(os.listdir("/dev"))), "left": _sandbox_processes(),
            "temp_new": set(os.listdir(tmp_dir or "/tmp")) - temp_before, "submissions": len(ATTACKS) + 2}


@pytest.fixture(scope="module", params=["scratch", "default"])
def attacked(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("attacks")
    tmp_dir = None
    if request.param == "scratch":  # a deep temporary folder, with canaries next to and above it
        tmp_dir = root / "scratch" / "tmp"
        tmp_dir.mkdir(parents=True)
    return _run_batch(root, tmp_dir)


def test_the_untouched_and_solved_notebooks_score_as_expected(attacked):
    rows = attacked["rows"]
    assert (rows["untouched"]["total"], rows["untouched"]["status"]) == (0, "ok")
    assert (rows["solved"]["q1"], rows["solved"]["q2"], rows["solved"]["status"]) == (2, 1, "ok")


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_gets_its_row_and_no_points(attacked, name):
    rows = attacked["rows"]
    assert len(rows) == attacked["submissions"], "the batch must give every entry a row"
    _, status, says = ATTACKS[name]
    row = rows[name]
    message = row["message"] if isinstance(row["message"], str) else ""
    assert row["status"] == status, (name, row)
    assert row["total"] <= rows["untouched"]["total"], (name, row)
    assert says in message, (name, message)


def test_nothing_on_the_host_changed(attacked):
    assert set(attacked["canaries"].values()) == {"must survive"}, attacked["canaries"]
    before, after = attacked["dev"]
    assert before == after, "the host's /dev changed"
    assert not attacked["connected"], "a submission reached a server on the host's loopback"
    assert attacked["left"] == [], f"processes left behind: {attacked['left']}"
    assert not [n for n in attacked["temp_new"] if n.startswith("course-grade-")], attacked["temp_new"]


def test_hidden_tests_never_reach_what_the_grader_writes(attacked):
    out = attacked["out"]
    written = (out / "grades.csv").read_text() + "".join(p.read_text() for p in (out / "feedback").iterdir())
    assert MARKER not in written and "-3.5" not in written
    assert "hidden tests: 0 of 1 passed" in (out / "feedback" / "steal_in_test.txt").read_text()


def test_tampering_is_reported_to_the_student(attacked):
    feedback = (attacked["out"] / "feedback" / "tamper_numpy.txt").read_text()
    assert "Status: tampered" in feedback and "numpy.allclose" in feedback and "Score: 0 / 3" in feedback


def test_a_machine_that_cannot_isolate_is_refused_unless_unsafe(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sandbox, "probe", lambda server: "no namespaces here")
    autograder = write_autograder(tmp_path / "autograder", {"q2": Q2})
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    _write_notebook(submissions / "solved.ipynb", SOLVED)
    argv = [str(submissions), "--autograder", str(autograder), "--out", str(tmp_path / "out")]
    assert grading.main(argv) == 2
    assert "cannot isolate submissions (no namespaces here)" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    assert grading.main([*argv, "--unsafe", "--timeout", "60"]) == 0
    with (tmp_path / "out" / "grades.csv").open() as f:
        row = next(csv.DictReader(f))
    assert (row["q2"], row["status"]) == ("1.0", "ok") and "unsafe: graded without isolation" in row["message"]
