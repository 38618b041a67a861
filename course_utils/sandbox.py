"""Run untrusted Python in isolated children forked from a warm interpreter (Linux only).

The batch grader (:mod:`course_utils.grading`) runs each student's notebook through this
module. A :class:`ForkServer` is a Python process that has already imported the heavy
packages (numpy, scipy, librosa, torch, the course package); for every job it forks a
fresh child, so a submission starts in milliseconds instead of the seconds an interpreter
and its imports take. Each child is sealed before any untrusted code runs:

- its own PID namespace: it sees only its own processes, cannot signal the grader or any
  other job, and everything it leaves running dies with it (the kernel kills a PID
  namespace when its first process, a small trusted init, exits);
- its own network namespace (no interfaces but a loopback that is down: no network), IPC
  and UTS namespaces;
- a root filesystem of its own (``pivot_root`` onto a fresh tmpfs): read-only views of the
  system folders (``/usr``, ``/etc``), of the Python installation and of the few paths the
  job needs (``expose``); a ``/dev`` that holds only ``null``, ``zero``, ``full``,
  ``random`` and ``urandom``; a read-only ``/proc`` of its own namespace; a size-limited
  private ``/tmp`` and a size-limited working folder ``/submission``. Nothing else of the
  host exists in its view: not the grader's files, not the other jobs, not the hidden tests;
- no privileges: as root, the job switches to a dedicated unprivileged uid (a fresh one per
  job, never a uid a person or service uses); as another user, a user namespace maps it to
  that user and every capability is dropped. ``no_new_privs`` is set;
- no second thread or process: ``RLIMIT_NPROC`` is 1 for that uid, so fork bombs, process
  floods and threads that outlive the notebook cannot exist; plus limits on memory, CPU
  time, file size and open files, and a wall-clock limit enforced from outside.

If the kernel refuses any of this, the job fails before running anything and
:func:`probe` says why; :class:`ForkServer` ``(unsafe=True)`` runs jobs without isolation
(own process group and resource limits only), for machines that cannot isolate.

Used by ``course-grade`` (README, "Grading homework").
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import platform
import resource
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["Jail", "ForkServer", "Job", "JobError", "probe", "SANDBOX_WORKDIR"]

SANDBOX_WORKDIR = "/submission"
"""The job's working folder inside its view (writable, size-limited, empty at the start)."""
DEVICES = ("null", "zero", "full", "random", "urandom")
"""The device nodes a job's ``/dev`` holds."""
SYSTEM_PATHS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/usr", "/etc")
"""System folders shown read-only (or re-created as the same symbolic links)."""

_UID_RANGE = (1_900_000_000, 2_000_000_000)  # uids no account uses; one fresh uid per job

_libc = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNS, _CLONE_NEWUTS, _CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
_CLONE_NEWUSER, _CLONE_NEWPID, _CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_NOATIME, _MS_NODIRATIME, _MS_BIND, _MS_REC = 32, 1024, 2048, 4096, 16384
_MS_PRIVATE, _MS_RELATIME, _MS_STRICTATIME = 1 << 18, 1 << 21, 1 << 24
_MNT_DETACH = 2
_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE, _PR_CAPBSET_DROP, _PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}.get(platform.machine())


class JobError(RuntimeError):
    """The sandbox could not be set up, or a job broke the protocol."""


@dataclass(frozen=True)
class Jail:
    """What one job may use.

    Attributes
    ----------
    wall_s : float
        Wall-clock seconds for the whole job; then it is killed, with everything it started.
    memory_mb : int
        Heap memory of the job's process (``RLIMIT_DATA``).
    file_mb : int
        Largest file the job may write (``RLIMIT_FSIZE``).
    disk_mb : int
        Size of the working folder and, separately, of ``/tmp`` (both in memory, tmpfs).
    open_files : int
        Open file descriptors (``RLIMIT_NOFILE``).
    """

    wall_s: float = 600.0
    memory_mb: int = 4096
    file_mb: int = 64
    disk_mb: int = 256
    open_files: int = 256


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, data=None) -> None:
    enc = (lambda x: None if x is None else os.fsencode(x))
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def _locked_flags(path: str) -> int:
    """The mount flags of ``path`` that a remount inside a user namespace must keep."""
    f = os.statvfs(path).f_flag
    pairs = ((os.ST_NOSUID, _MS_NOSUID), (os.ST_NODEV, _MS_NODEV), (os.ST_NOEXEC, _MS_NOEXEC),
             (os.ST_NOATIME, _MS_NOATIME), (os.ST_NODIRATIME, _MS_NODIRATIME), (os.ST_RELATIME, _MS_RELATIME))
    return sum(ms for st, ms in pairs if f & st)


def _mount_points() -> list[str]:
    """Every mount point of this mount namespace (``/proc/self/mountinfo``, escapes decoded)."""
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        raw = line.split()[4]
        points.append(raw.encode().decode("unicode_escape").encode("latin-1").decode())
    return points


def _bind_read_only(source: str, target: str) -> None:
    """Show ``source`` (and everything mounted below it) at ``target``, read-only."""
    _mount(source, target, None, _MS_BIND | _MS_REC)
    for point in sorted(p for p in set(_mount_points()) if p == target or p.startswith(target.rstrip("/") + "/")):
        try:
            _mount(None, point, None, _MS_BIND | _MS_REMOUNT | _MS_RDONLY | _locked_flags(point))
        except OSError:
            if point == target:
                raise  # the view itself must be read-only; a special submount may refuse


def _make_parents(root: str, path: str) -> str:
    """Create the folders of absolute ``path`` below ``root`` (mode 0755); return the target."""
    target = root + path
    os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
    return target


def _expose(root: str, path: str) -> None:
    """Make host ``path`` visible at the same place below ``root``: a link as a link, a
    folder or file as a read-only bind mount."""
    if os.path.islink(path) and os.path.dirname(path) == "/":  # /bin -> usr/bin (merged /usr)
        target = _make_parents(root, path)
        if not os.path.lexists(target):
            os.symlink(os.readlink(path), target)
        return
    real = os.path.realpath(path)
    target = _make_parents(root, real)
    if os.path.isdir(real):
        os.makedirs(target, mode=0o755, exist_ok=True)
    elif os.path.exists(real):
        if not os.path.exists(target):
            Path(target).touch(mode=0o644)
    else:
        return
    _bind_read_only(real, target)


def _cover(root: str, path: str) -> None:
    """Hide a host path that lies inside an exposed one (an empty read-only folder or file)."""
    target = root + os.path.realpath(path)
    if os.path.isdir(target):
        _mount("tmpfs", target, "tmpfs", _MS_RDONLY | _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, "size=4k,mode=0555")
    elif os.path.exists(target):
        _mount("/dev/null", target, None, _MS_BIND)


def _build_root(root: str, *, expose: list[str], hide: list[str], disk_mb: int, uid: int, gid: int) -> None:
    """Assemble the job's view below ``root`` and make it this process's ``/``."""
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)  # nothing we mount leaks to the host
    _mount("tmpfs", root, "tmpfs", _MS_NOSUID | _MS_NODEV, "size=1m,mode=0755")
    # the writable folders first, so that what is exposed below /tmp (a clone in /tmp) stays visible
    for place, options in (("/tmp", f"size={disk_mb}m,mode=1777"),
                           (SANDBOX_WORKDIR, f"size={disk_mb}m,mode=0700,uid={uid},gid={gid}")):
        os.makedirs(root + place, mode=0o755, exist_ok=True)
        _mount("tmpfs", root + place, "tmpfs", _MS_NOSUID | _MS_NODEV, options)
    for path in (*SYSTEM_PATHS, *expose):
        if os.path.lexists(path):
            _expose(root, path)
    for path in hide:
        if os.path.lexists(root + os.path.realpath(path)):
            _cover(root, path)
    os.makedirs(root + "/dev", mode=0o755)
    _mount("tmpfs", root + "/dev", "tmpfs", _MS_NOSUID | _MS_NOEXEC, "size=64k,mode=0755")
    for name in DEVICES:
        Path(root, "dev", name).touch(mode=0o666)
        _mount(f"/dev/{name}", f"{root}/dev/{name}", None, _MS_BIND)
    for name, to in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                     ("stderr", "/proc/self/fd/2"), ("shm", "/tmp")):  # POSIX shared memory lives in /tmp
        os.symlink(to, f"{root}/dev/{name}")
    _mount(None, root + "/dev", None, _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NOEXEC)
    os.makedirs(root + "/proc", mode=0o555)
    _mount("proc", root + "/proc", "proc", _MS_RDONLY | _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
    if _SYS_PIVOT_ROOT is None:
        raise OSError(0, f"pivot_root: unknown system call number on {platform.machine()}")
    os.chdir(root)
    _check(_libc.syscall(_SYS_PIVOT_ROOT, b".", b"."), "pivot_root")  # the old root now lies under "."
    _check(_libc.umount2(b".", _MNT_DETACH), "detach the host's root")
    os.chdir("/")
    _mount(None, "/", None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)


def _become_unprivileged(uid: int | None) -> None:
    """Switch to ``uid`` (as root) or drop every capability (in a user namespace mapped to
    the grader's own, unprivileged uid)."""
    for cap in range(64):
        _libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)  # all uids non-zero: every capability is gone
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    _check(_libc.capset(header, (ctypes.c_uint32 * 6)()), "capset")
    _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    _libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def _apply_limits(jail: Jail) -> None:
    """The job's resource limits (in unsafe mode too; root ignores ``RLIMIT_NPROC`` there)."""
    mb = 1024 * 1024
    for which, value in ((resource.RLIMIT_DATA, jail.memory_mb * mb), (resource.RLIMIT_FSIZE, jail.file_mb * mb),
                         (resource.RLIMIT_CPU, int(jail.wall_s) + 5), (resource.RLIMIT_CORE, 0),
                         (resource.RLIMIT_NOFILE, jail.open_files),
                         (resource.RLIMIT_NPROC, 1)):  # the uid already has this task: no second one
        resource.setrlimit(which, (value, value))


# ---------------------------------------------------------------- the three processes of a job
#
# server --fork--> supervisor (host PID namespace; enforces the wall clock, reports the end)
#                  --unshare, fork--> init (PID 1 of the new namespace; builds the view)
#                                     --fork--> job (drops privileges, runs the target)


def _close_fds(keep) -> None:
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _write_line(fd: int, obj) -> None:
    data = (json.dumps(obj) + "\n").encode()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _supervise(request: dict, fds: dict) -> None:
    """The supervisor: start the job's namespaces and init, enforce the wall clock, report."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    events = fds["events"]
    _write_line(events, {"supervisor": os.getpid()})
    jail = Jail(**request["jail"])
    start = time.monotonic()
    unsafe = request["unsafe"]
    if not unsafe:
        flags = _CLONE_NEWNS | _CLONE_NEWPID | _CLONE_NEWNET | _CLONE_NEWIPC | _CLONE_NEWUTS
        uid, gid = os.getuid(), os.getgid()  # read before: in a new user namespace they are unmapped
        if uid != 0:
            flags |= _CLONE_NEWUSER
        if _libc.unshare(flags) != 0:
            err = ctypes.get_errno()
            _write_line(events, {"setup_error": f"unshare namespaces: {os.strerror(err)}", "end": True})
            os._exit(1)
        if flags & _CLONE_NEWUSER:  # map the grader's own uid to itself: a user, with the namespace's capabilities
            Path("/proc/self/setgroups").write_text("deny")
            Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
            Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
    child = os.fork()
    if child == 0:
        _init(request, fds)
    os.close(fds["inbox"])
    os.close(fds["outbox"])
    pidfd = os.pidfd_open(child)
    remaining = jail.wall_s - (time.monotonic() - start)
    timed_out = not select.select([pidfd], [], [], max(remaining, 0))[0]
    if timed_out:
        os.kill(child, signal.SIGKILL)
    if unsafe:
        try:
            os.killpg(child, signal.SIGKILL)  # the job's own group: what it left running
        except ProcessLookupError:
            pass
    _, status = os.waitpid(child, 0)  # with PID 1 gone, the kernel has emptied the namespace
    _write_line(events, {"end": True, "timed_out": timed_out, "status": os.waitstatus_to_exitcode(status)})
    os._exit(0)


def _init(request: dict, fds: dict) -> None:
    """PID 1 of the job's namespace: build the view, start the job, wait for it, exit."""
    events = fds["events"]
    try:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        Path("/proc/self/oom_score_adj").write_text("1000")  # under memory pressure, jobs go first
        jail = Jail(**request["jail"])
        uid = request["uid"] if os.geteuid() == 0 else None
        os.setsid()  # a group of its own: no signal to "its group" reaches the supervisor or the grader
        if not request["unsafe"]:
            _build_root(request["root"], expose=request["expose"], hide=request["hide"], disk_mb=jail.disk_mb,
                        uid=os.getuid() if uid is None else uid, gid=os.getgid() if uid is None else uid)
            socket.sethostname("sandbox")
    except Exception as exc:  # noqa: BLE001 - report any failure to build the view, run nothing
        _write_line(events, {"setup_error": f"{type(exc).__name__}: {exc}"})
        os._exit(1)
    job = os.fork()
    if job == 0:
        os.close(events)
        _run_job(request, fds["inbox"], fds["outbox"], jail, None if request["unsafe"] else uid)
    os.close(fds["inbox"])
    os.close(fds["outbox"])
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # PID 1 ignores what it has no handler for
        signal.signal(sig, signal.SIG_DFL)
    while True:
        pid, status = os.wait()
        if pid == job:
            os._exit(min(max(os.waitstatus_to_exitcode(status), 0), 255))


def _run_job(request: dict, inbox: int, outbox: int, jail: Jail, uid: int | None) -> None:
    """The job: drop privileges and limits, then call the target with the job's channel."""
    status = 1
    try:
        if not request["unsafe"]:
            _become_unprivileged(uid)
            os.chdir(SANDBOX_WORKDIR)
        else:
            os.chdir(request["root"])
        _apply_limits(jail)
        os.environ.clear()
        os.environ.update(request["env"])
        tempfile.tempdir = None
        module, name = request["target"].split(":")
        target = getattr(importlib.import_module(module), name)
        target(Channel(inbox, outbox))
        status = 0
    finally:
        os._exit(status)


class Channel:
    """The job's end of its two pipes: one JSON object per line in each direction."""

    def __init__(self, inbox: int, outbox: int):
        self._inbox = os.fdopen(inbox, "rb")
        self._outbox = outbox

    def receive(self):
        line = self._inbox.readline(64 * 1024 * 1024)
        if not line:
            raise EOFError("the grader closed the channel")
        return json.loads(line)

    def send(self, obj) -> None:
        _write_line(self._outbox, obj)


# ---------------------------------------------------------------- the server process


def _serve(sock: socket.socket, preload: list[str]) -> None:
    """The fork server's loop: import everything once, then fork one supervisor per request."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    for module in preload:
        importlib.import_module(module)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # supervisors are reaped by the kernel
    sock.send(json.dumps({"tasks": len(os.listdir("/proc/self/task")), "paths": _python_paths()}).encode())
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(sock, 1 << 20, 3)
        except OSError:
            break
        if not message:
            break
        request = json.loads(message)
        named = dict(zip(("inbox", "outbox", "events"), fds))
        if os.fork() == 0:
            sock.close()
            _close_fds(set(fds))
            try:
                _supervise(request, named)
            finally:
                os._exit(1)
        for fd in fds:
            os.close(fd)
    os._exit(0)


def _python_paths() -> list[str]:
    """What a forked interpreter reads at run time: its installation and the packages it imported."""
    paths = {sys.base_prefix, sys.prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    for name, module in list(sys.modules.items()):
        if "." in name:
            continue
        file = getattr(module, "__file__", None)
        if file:
            real = os.path.realpath(file)
            paths.add(os.path.dirname(real) if os.path.basename(real) == "__init__.py" else real)
        else:
            paths.update(os.path.realpath(p) for p in getattr(module, "__path__", []) or [])
    roots = sorted(p for p in paths if p and p != "/")
    return [p for p in roots if not any(p.startswith(r.rstrip("/") + "/") for r in roots if r != p)]


class ForkServer:
    """A warm interpreter that forks one isolated child per job.

    Parameters
    ----------
    preload : sequence of str
        Modules imported once in the server (every job starts with them imported).
    env : dict of str to str
        The environment of the server and of every job.
    expose : sequence of str
        Host paths each job sees read-only, beside the system folders and Python's installation.
    hide : sequence of str
        Host paths no job sees, even where they lie inside an exposed folder.
    tmp_dir : str, optional
        Where the grader makes each job's (empty) mount point; default the system's.
    unsafe : bool
        Run jobs without namespaces (process group and resource limits only).
    """

    def __init__(self, *, preload=(), env=None, expose=(), hide=(), tmp_dir=None, unsafe: bool = False):
        self.preload, self.unsafe = list(preload), unsafe
        self.tmp_dir = str(tmp_dir or tempfile.gettempdir())
        self.hide = [str(Path(h).resolve()) for h in hide]
        self._home = tempfile.mkdtemp(prefix="course-grade-server-", dir=self.tmp_dir)
        # one math thread: a server must stay single-threaded to be forked safely
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OMP_NUM_THREADS": "1",
                    "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **(env or {})}
        self.env.setdefault("MPLCONFIGDIR", os.path.join(self._home, "matplotlib"))
        self.env.setdefault("NUMBA_CACHE_DIR", "/tmp/numba")
        self._lock = threading.Lock()
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        code = (f"import socket, sys; from course_utils import sandbox; "
                f"sandbox._serve(socket.socket(fileno={child.fileno()}), {self.preload!r})")
        self._process = subprocess.Popen([sys.executable, "-c", code], env=self.env, cwd=self._home,
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, pass_fds=(child.fileno(),))
        child.close()
        self._sock = parent
        try:
            hello = self._sock.recv(1 << 20)
            if not hello:
                raise JobError(f"the fork server did not start (exit status {self._process.wait()})")
            info = json.loads(hello)
            if info["tasks"] != 1:
                raise JobError(f"the fork server runs {info['tasks']} threads after its imports: forking it is unsafe")
        except BaseException:
            self.close()
            raise
        self.expose = sorted({*expose, *info["paths"]})

    def job(self, target: str, *, jail: Jail, env: dict | None = None) -> "Job":
        """Fork a sealed child that runs ``target`` (``"module:function"``, called with its channel)."""
        inbox_r, inbox_w = os.pipe()
        outbox_r, outbox_w = os.pipe()
        events_r, events_w = os.pipe()
        root = tempfile.mkdtemp(prefix="course-grade-job-", dir=self.tmp_dir)  # an empty mount point
        request = {"target": target, "jail": asdict(jail), "unsafe": self.unsafe, "root": root,
                   "expose": self.expose, "hide": self.hide, "uid": _UID_RANGE[0] + secrets.randbelow(
                       _UID_RANGE[1] - _UID_RANGE[0]), "env": {**self.env, **(env or {})}}
        try:
            with self._lock:
                socket.send_fds(self._sock, [json.dumps(request).encode()], [inbox_r, outbox_w, events_w])
        finally:
            for fd in (inbox_r, outbox_w, events_w):
                os.close(fd)
        return Job(inbox_w, outbox_r, events_r, root, jail)

    def close(self) -> None:
        self._sock.close()
        try:
            self._process.wait(timeout=10)
        except Exception:  # noqa: BLE001
            self._process.kill()
            self._process.wait()
        shutil.rmtree(self._home, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Job:
    """The grader's end of one job: send and receive lines, then :meth:`finish`.

    The job's own messages come through its pipe; what the supervisor says (the job could
    not be set up, it ended, it ran out of time) comes through a pipe the job never holds.
    """

    def __init__(self, inbox: int, outbox: int, events: int, root: str, jail: Jail):
        self._inbox, self._outbox, self._events, self.root = inbox, outbox, events, root
        self.deadline = time.monotonic() + jail.wall_s + 30  # the supervisor's clock runs out first
        self._buffers = {outbox: b"", events: b""}
        self._open = {outbox, events}
        self.supervisor: int | None = None
        self.setup_error: str | None = None
        self.end: dict | None = None
        self._finished: dict | None = None

    def send(self, obj) -> bool:
        """Write one message; False if the job no longer reads."""
        try:
            _write_line(self._inbox, obj)
            return True
        except OSError:
            return False

    def _event(self, line: bytes) -> None:
        try:
            event = json.loads(line)
        except ValueError:
            return
        self.supervisor = event.get("supervisor", self.supervisor)
        self.setup_error = event.get("setup_error", self.setup_error)
        if event.get("end"):
            self.end = event

    def _pump(self, want: int | None) -> bytes | None:
        """Read until a whole line arrives on ``want``; with None, until the supervisor is gone."""
        events = self._events
        while True:
            while b"\n" in self._buffers[events]:
                line, self._buffers[events] = self._buffers[events].split(b"\n", 1)
                self._event(line)
            if want is not None and b"\n" in self._buffers[want]:
                line, self._buffers[want] = self._buffers[want].split(b"\n", 1)
                return line
            if (want if want is not None else events) not in self._open:
                return None  # that end was closed: nothing more will come
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                return None
            for fd in select.select(list(self._open), [], [], remaining)[0]:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    self._open.discard(fd)
                elif fd == events or want is not None:
                    self._buffers[fd] = (self._buffers[fd] + chunk)[-(64 << 20):]  # a flood is cut, not kept

    def receive(self):
        """The job's next message (a JSON value), or None if it ended, broke the format or ran out of time."""
        line = self._pump(self._outbox)
        if line is None:
            return None
        try:
            return json.loads(line)
        except ValueError:
            return None

    def finish(self) -> dict:
        """Wait until the job and everything it started are gone; remove its mount point.

        Returns
        -------
        dict
            ``timed_out`` (bool), ``status`` (exit status; negative: killed by that signal)
            and ``setup_error`` (why the sandbox could not be built, or None).
        """
        if self._finished is not None:
            return self._finished
        os.close(self._inbox)
        self._pump(None)
        if self.end is None and self.supervisor is not None:  # the supervisor itself hung
            try:
                os.kill(self.supervisor, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for fd in (self._outbox, self._events):
            os.close(fd)
        shutil.rmtree(self.root, ignore_errors=True)
        end = self.end or {"timed_out": True, "status": None}
        self._finished = {"timed_out": bool(end.get("timed_out")), "status": end.get("status"),
                          "setup_error": self.setup_error}
        return self._finished

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.finish()


def _probe_job(channel) -> None:
    """What a job sees of its isolation (run by :func:`probe`), and which exposed paths it cannot read."""
    exposed = channel.receive()
    facts = {"unreadable": [p for p in exposed if not os.access(p, os.R_OK)], "pid": os.getpid(),
             "uid": os.getuid(), "processes": sorted(p for p in os.listdir("/proc") if p.isdigit()),
             "root_writable": os.access("/", os.W_OK), "work_writable": os.access(SANDBOX_WORKDIR, os.W_OK)}
    try:
        socket.create_connection(("127.0.0.1", 9), timeout=1).close()
        facts["network"] = "reachable"
    except OSError as exc:
        facts["network"] = exc.strerror
    try:
        child = os.fork()
        if child == 0:
            os._exit(0)
        facts["fork"] = "allowed"
    except OSError:
        facts["fork"] = "refused"
    channel.send(facts)


def probe(server: ForkServer) -> str | None:
    """Run one empty job; None if it was isolated as this module promises, else what was not."""
    with server.job("course_utils.sandbox:_probe_job", jail=Jail(wall_s=30)) as job:
        job.send(server.expose)
        facts = job.receive()
        end = job.finish()
    if end["setup_error"]:
        return end["setup_error"]
    if not isinstance(facts, dict):
        return f"the probe job ended without an answer (exit status {end['status']})"
    problems = [what for what, bad in (
        ("not in a PID namespace of its own", facts["pid"] != 2 or facts["processes"] != ["1", "2"]),
        ("runs as root", facts["uid"] == 0), ("the root folder is writable", facts["root_writable"]),
        ("the working folder is not writable", not facts["work_writable"]),
        ("the network is reachable", facts["network"] == "reachable"), ("it may fork", facts["fork"] != "refused"),
        (f"it cannot read {', '.join(facts['unreadable'])} (make them readable by other users)", facts["unreadable"]))
        if bad]
    return "; ".join(problems) or None
