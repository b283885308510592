"""The sandbox's own promises, checked on a zygote shared by two checkers (as grade shares
one): a child cannot signal any other process, a checker's clean-up spares the other
checker's children, and what a finished child left in the temporary directory is removed."""
from __future__ import annotations

import os
import textwrap
import time

import pytest

from grader import sandbox
from grader.catalog import Limits
from grader.remote import RemoteModule, Session, WorkerFault
from grader.sandbox import SUBMISSION_ROOT, Sandbox

MODES = ["rlimits"] + (["bwrap"] if sandbox.mode()[0] == "bwrap" else [])
LIMITS = Limits(call_s=20, exercise_s=60)

SOURCE = '''
import os, signal, tempfile

COUNT = [0]


def count():
    """State kept by this process: it says whether the same child answers."""
    COUNT[0] += 1
    return COUNT[0]


def signal_others():
    """Try to signal the parent, init and every other process in sight; what happened to each."""
    me = os.getpid()
    others = {os.getppid(), 1} | {int(p) for p in os.listdir("/proc") if p.isdigit()}
    refused = []
    for pid in sorted(others - {me}):
        try:
            os.kill(pid, 0)
        except PermissionError:
            refused.append(True)
        except ProcessLookupError:
            pass
        else:
            refused.append(False)
    os.kill(me, 0)  # its own process stays reachable
    return [len(refused), all(refused)]


def litter():
    """Leave files beside the worker's own directory and in it."""
    top = tempfile.gettempdir()
    with open(os.path.join(top, "left-behind.txt"), "w") as f:
        f.write("x" * 1000)
    os.makedirs(os.path.join(top, "locked", "inner"))
    os.chmod(os.path.join(top, "locked"), 0o500)
    with open("here.txt", "w") as f:
        f.write("y")
    return sorted(os.listdir(top))


def leftovers():
    """What is in the temporary directory besides the workers' own folders (and torch's cache)."""
    return sorted(name for name in os.listdir(tempfile.gettempdir()) if not name.startswith(("exercise-", "torchinductor_")))


def sees(pid):
    return os.path.exists(f"/proc/{pid}")


def parent_memory():
    """Try to open the zygote's memory for writing: what happened."""
    try:
        with open(f"/proc/{os.getppid()}/mem", "r+b"):
            return "opened"
    except PermissionError:
        return "refused"


def vandalize():
    """Bury a tree 3000 levels deep in the temporary directory, then make that directory read-only."""
    top = tempfile.gettempdir()
    fd = os.open(top, os.O_RDONLY)
    for _ in range(3000):
        os.mkdir("d", dir_fd=fd)
        inner = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    os.close(fd)
    os.chmod(top, 0o555)
    return "done"


def output_files():
    """Every worker's output file that can be found by name in the temporary directory."""
    top = tempfile.gettempdir()
    return [name for name in os.listdir(top) if os.path.exists(os.path.join(top, name, "output.txt"))]


def shout():
    print("a line of output")
    return 1


def trickle():
    """Announce a large reply on the worker's own socket, then send it a byte at a time."""
    import gc, struct, time
    from grader.worker import serve, wire
    sock = next(o for o in gc.get_objects() if isinstance(o, serve.Child)).sock
    sock.sendall(wire._LENGTH.pack(1 << 20, 0))
    while True:
        time.sleep(0.1)
        sock.sendall(b" ")
'''


@pytest.fixture(scope="module", params=MODES)
def zygote(request, tmp_path_factory):
    """One zygote per mode for the whole module, as grade launches one for all its checkers."""
    folder = tmp_path_factory.mktemp("submission")
    (folder / "probe.py").write_text(textwrap.dedent(SOURCE), encoding="utf-8")
    launched = Sandbox({folder: SUBMISSION_ROOT}, request.param)
    launched.launch()
    yield folder / "probe.py", launched
    launched.close()


@pytest.fixture
def shared(zygote):
    """Two checkers' views of the zygote, as grade hands them out (each a socket of its own)."""
    path, launched = zygote
    first, second = Sandbox.adopt(launched.handover()), Sandbox.adopt(launched.handover())
    yield path, first, second
    first.close()
    second.close()


def _worker(box: Sandbox, path) -> RemoteModule:
    return RemoteModule(Session(box, path, "probe", "probe.py", LIMITS))


def test_a_child_can_signal_only_itself(shared):
    """kill() from student code to its parent (the zygote), init or a sibling fails with EPERM."""
    path, first, second = shared
    sibling = _worker(second, path)
    sibling.count()
    seen, all_refused = _worker(first, path).signal_others()
    assert seen >= 2 and all_refused, f"{seen} other processes, all refused: {all_refused}"
    assert sibling.count() == 2, "the sibling's worker did not survive"


def test_clean_up_spares_the_other_checkers_children(shared):
    """A checker's reap kills its own children's leftovers only; the other checker's child keeps running."""
    path, first, second = shared
    survivor = _worker(first, path)
    assert survivor.count() == 1
    doomed = _worker(second, path)
    doomed.count()
    doomed._session.close()  # the end of an exercise: reap
    assert survivor.count() == 2, "the other checker's worker was killed by this checker's reap"


def test_a_finished_childs_files_are_removed(shared):
    """Files a child left in the temporary directory, even in a folder it made read-only, are gone after its reap."""
    path, first, _ = shared
    littering = _worker(first, path)
    before = littering.leftovers()  # what the sandbox holds there itself (binds of a checkout under /tmp)
    assert "left-behind.txt" in littering.litter()
    littering._session.close()
    assert _worker(first, path).leftovers() == before


def test_a_departed_checkers_children_are_killed(shared):
    """When a checker goes (its socket to the zygote closes), the children it left are killed."""
    path, first, second = shared
    abandoned = _worker(second, path)
    abandoned.count()
    pid = second.children[-1]
    second.control.close()  # the checker is gone, without a reap
    watcher = _worker(first, path)
    for _ in range(50):
        if not watcher.sees(pid):
            break
    assert not watcher.sees(pid), f"the abandoned child {pid} still runs"


def test_a_reply_that_trickles_in_still_ends_at_the_call_limit(shared):
    """The call limit covers the whole reply: a worker sending a byte every 0.1 s is cut off at call_s."""
    path, first, _ = shared
    session = Session(first, path, "probe", "probe.py", Limits(call_s=2, exercise_s=60))
    start = time.monotonic()
    with pytest.raises(WorkerFault, match="more than 2 s"):
        RemoteModule(session).trickle()
    assert time.monotonic() - start < 10


def test_a_child_cannot_open_the_zygotes_memory(shared):
    """/proc/<zygote>/mem cannot be opened from a worker (the zygote is not dumpable)."""
    path, first, _ = shared
    if first.mode == "rlimits" and os.geteuid() == 0:
        pytest.skip("the weaker mode runs the worker as the grading user, here root, whom nothing refuses")
    assert _worker(first, path).parent_memory() == "refused"


def test_a_vandalized_temporary_directory_is_repaired(shared):
    """After a child buries a deep tree and locks the temporary directory, the next worker starts and finds it clean."""
    path, first, second = shared
    bystander = _worker(second, path)
    assert bystander.count() == 1
    vandal = _worker(first, path)
    before = vandal.leftovers()  # what the sandbox holds there itself (binds of a checkout under /tmp)
    assert vandal.vandalize() == "done"
    vandal._session.close()
    assert _worker(first, path).leftovers() == before
    assert bystander.count() == 2, "the zygote died cleaning up, and the other checker's worker with it"


def test_no_worker_can_reach_anothers_output_file(shared):
    """A worker's output file is open but has no name (a sibling could have swapped it for /dev/zero), and output still comes back."""
    path, first, second = shared
    talker = _worker(second, path)
    assert talker.shout() == 1
    assert _worker(first, path).output_files() == []
