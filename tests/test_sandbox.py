"""The sandbox of course_utils.sandbox: what a job sees and may do, as root and as a user."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from course_utils import sandbox

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="these tests start the grader as root")


@pytest.fixture(scope="module")
def server():
    """A server whose jobs also see a folder in the host's /tmp (where a clone may live)."""
    env = {"PYTHONPATH": str(Path(__file__).parent)}
    shared = Path(tempfile.mkdtemp(prefix="sandbox-shared-", dir="/tmp"))
    shared.chmod(0o755)  # readable by the job's uid, as a clone is
    (shared / "data.txt").write_text("read me")
    with sandbox.ForkServer(preload=["sandbox_jobs"], env=env, expose=[str(shared)],
                            hide=[str(REPO / "notebooks")]) as srv:
        srv.shared = shared
        yield srv
    shutil.rmtree(shared)


def test_probe_finds_the_promised_isolation(server):
    assert sandbox.probe(server) is None


def test_a_job_sees_a_read_only_view_with_bounded_room(server):
    hidden = [str(REPO / "notebooks" / "homework" / "source"), str(REPO / "README.md"), "/home",
              "/var", "/run", __file__]
    assert all(os.path.exists(p) for p in hidden)  # on the host, that is
    with server.job("sandbox_jobs:report_view", jail=sandbox.Jail(wall_s=60, disk_mb=8, file_mb=64)) as job:
        job.send({"paths": [*hidden, str(REPO / "course_utils" / "sandbox.py"), str(server.shared / "data.txt")],
                  "mb": 8, "writes": [str(server.shared / "owned")]})
        facts = job.receive()
    assert facts["exists"][str(server.shared / "data.txt")], "an exposed folder below /tmp must stay visible"
    assert facts["dev"] == sorted([*sandbox.DEVICES, "fd", "stdin", "stdout", "stderr", "shm"])
    assert facts["cwd"] == sandbox.SANDBOX_WORKDIR
    assert sandbox._UID_RANGE[0] <= facts["uid"] < sandbox._UID_RANGE[1]
    assert not any(facts["exists"][p] for p in hidden), facts["exists"]
    assert facts["exists"][str(REPO / "course_utils" / "sandbox.py")]
    assert "writable" not in facts, facts.get("writable")
    for place, (megabytes, error) in facts["written"].items():  # each in-memory folder holds disk_mb
        assert 6 <= megabytes <= 8 and error == "No space left on device", (place, megabytes, error)


@pytest.mark.skipif(not (shutil.which("setpriv") and Path("/usr/bin/python3").exists()),
                    reason="needs setpriv and the system's python3")
def test_as_an_unprivileged_user_it_isolates_or_refuses():
    """The grader run by a user, not root: through a user namespace where the kernel allows
    one, else the probe names what is missing (and course-grade refuses)."""
    tmp_path = Path(tempfile.mkdtemp(prefix="sandbox-user-", dir="/tmp"))  # a folder the user can reach
    tmp_path.chmod(0o1777)
    # the module (standard library only) where that user can read it: the clone may be private
    package = Path(tempfile.mkdtemp(prefix="sandbox-code-", dir="/tmp"))
    package.chmod(0o755)
    (package / "course_utils").mkdir(mode=0o755)
    for name in ("__init__.py", "sandbox.py"):
        shutil.copyfile(REPO / "course_utils" / name, package / "course_utils" / name)
        (package / "course_utils" / name).chmod(0o644)
    user = ["setpriv", "--reuid=4321", "--regid=4321", "--clear-groups"]  # an account-less uid, not nobody
    userns = subprocess.run([*user, "unshare", "--user", "--map-root-user", "true"], capture_output=True).returncode == 0
    code = ("from course_utils import sandbox\n"
            f"with sandbox.ForkServer(env={{'PYTHONPATH': {str(package)!r}}}, tmp_dir={str(tmp_path)!r}) as srv:\n"
            "    print(repr(sandbox.probe(srv)))")
    try:
        done = subprocess.run([*user, "/usr/bin/python3", "-c", code], cwd=tmp_path, capture_output=True, text=True,
                              env={"PYTHONPATH": str(package), "PATH": os.environ["PATH"]}, timeout=120)
        left = list(tmp_path.iterdir())
    finally:
        shutil.rmtree(tmp_path)
        shutil.rmtree(package)
    assert done.returncode == 0, done.stderr
    verdict = done.stdout.strip()
    if userns:
        assert verdict == "None", verdict
    else:
        assert verdict not in ("None", "''"), verdict
    assert not left, "mount points and the server's folder are removed"


def test_probe_names_an_exposed_folder_the_job_cannot_read():
    locked = Path(tempfile.mkdtemp(prefix="sandbox-locked-", dir="/tmp"))  # mode 0700, root's
    try:
        with sandbox.ForkServer(expose=[str(locked)]) as srv:
            problem = sandbox.probe(srv)
    finally:
        locked.rmdir()
    assert problem is not None and f"cannot read {locked}" in problem
