"""The worker: the only process that imports a submission.

``python -m grader.worker.serve`` starts a *zygote*: it imports torch once and then, for each
exercise, forks a fresh child that applies the exercise's limits, imports the student's file
and answers calls on a socket the checker handed over. The child runs what it is asked to and
reports what happened, as data; it decides nothing. The checker judges.

Zygote requests (JSON datagrams on fd 0, a SOCK_SEQPACKET socket): ``spawn`` (with the child's
socket as an attached fd) and ``reap`` (kill every process of the sandbox but the zygote).
Child requests (wire messages): ``load``, ``call``, ``backward``.
"""
from __future__ import annotations

import errno
import importlib.util
import json
import os
import random
import resource
import select
import signal
import socket
import sys
import tempfile
import traceback
import types

import torch

from grader.worker import SCENARIOS, wire
from grader.worker.watch import Watch

OUTPUT_NAME = "output.txt"
SUBMISSION_FILE = ""  # the student's file this child imported (for "raised at" lines)
OWN_PID_NAMESPACE = False  # set by the sandbox: only then may reap kill every other process it sees


# --- the zygote ----------------------------------------------------------------------


def zygote() -> None:
    """Serve spawn requests from every attached checker until the last one has gone.

    One zygote may serve several checker processes, each on a control socket of its own
    (``attach`` hands over a new one): each checker's children are its own, and when a checker
    goes away (its socket closes) the children it left are killed and their files removed."""
    controls = [socket.socket(fileno=0)]
    children: dict[socket.socket, set[int]] = {controls[0]: set()}
    workdirs: dict[int, str] = {}  # each child's own directory under the temporary directory
    own_files = set(os.listdir(tempfile.gettempdir()))  # what the zygote itself left there
    mode = os.stat(tempfile.gettempdir()).st_mode & 0o7777  # a child may change it
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    while controls:
        for control in select.select(controls, [], [])[0]:
            try:
                message, fds, _, _ = socket.recv_fds(control, 1 << 16, 4)
            except (ConnectionError, OSError):
                message, fds = b"", []
            if not message:
                _detach(control, controls, children)
                _clear_temporary(own_files, children, workdirs, mode)
                continue
            request = json.loads(message)
            if request["op"] == "spawn":
                _prepare(request.get("exercise"))
                try:
                    _restore_mode(tempfile.gettempdir(), mode)
                    workdir = tempfile.mkdtemp(prefix="exercise-")
                except OSError as error:  # only code run here before can have made it unusable
                    for fd in fds:
                        os.close(fd)
                    control.send(json.dumps({"refused": f"no working directory: {error}"}).encode())
                    continue
                pid = os.fork()
                if pid == 0:
                    for each in controls:
                        each.close()
                    _child(socket.socket(fileno=fds[0]), request["limits"], workdir)
                    os._exit(0)
                for fd in fds:
                    os.close(fd)
                children[control].add(pid)
                workdirs[pid] = workdir
                control.send(json.dumps({"pid": pid}).encode())
            elif request["op"] == "attach":  # no reply: the new socket's owner asks it "ping"
                attached = socket.socket(fileno=fds[0])
                controls.append(attached)
                children[attached] = set()
            elif request["op"] == "reap":
                spared = set().union(*(pids for other, pids in children.items() if other is not control))
                children[control].clear()
                killed = _reap(spared)
                _clear_temporary(own_files, children, workdirs, mode)
                control.send(json.dumps({"reaped": killed}).encode())
            elif request["op"] == "ping":
                control.send(b'{"pong": true}')


def _detach(control: socket.socket, controls: list, children: dict) -> None:
    """A checker went away: kill what its children left, and stop serving it."""
    for pid in children.pop(control, set()):
        _kill_session(pid)
    controls.remove(control)
    control.close()


def _clear_temporary(own_files: set[str], children: dict, workdirs: dict[int, str], mode: int) -> None:
    """Remove what finished children left in the temporary directory (a small tmpfs in the
    sandbox), and give it back its permissions: one exercise that fills it, locks it or buries
    a tree in it must not leave the next one without room for its output."""
    live = set().union(*children.values())
    for pid in [pid for pid in workdirs if pid not in live]:
        del workdirs[pid]
    keep = own_files | {os.path.basename(workdirs[pid]) for pid in live}
    top = tempfile.gettempdir()
    _restore_mode(top, mode)
    for name in os.listdir(top):
        if name not in keep:
            _remove(top, name)


def _restore_mode(path: str, mode: int) -> None:
    try:
        if os.stat(path).st_mode & 0o7777 != mode:
            os.chmod(path, mode)
    except OSError:
        pass


def _remove(top: str, name: str, budget: int = 1_000_000) -> None:
    """Remove ``top/name``, however deep, whatever its permissions. Each directory met is first
    moved up into ``top`` under a new name and emptied there, so that neither the stack (a
    recursive walk overflows on a tree thousands of levels deep) nor the open files nor the
    path length grow with the depth."""
    base = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    pending, made = [name], 0
    try:
        while pending and budget > 0:
            budget -= 1
            current = pending.pop()
            try:
                fd = os.open(current, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=base)
            except OSError:  # a file, a link, or gone
                _quietly(os.unlink, current, dir_fd=base)
                continue
            try:
                _quietly(os.fchmod, fd, 0o700)
                for entry in list(os.scandir(fd)):
                    if entry.is_dir(follow_symlinks=False):
                        made += 1
                        hoisted = f".removing-{os.getpid()}-{made}"
                        if _quietly(os.rename, entry.name, hoisted, src_dir_fd=fd, dst_dir_fd=base):
                            pending.append(hoisted)
                    else:
                        _quietly(os.unlink, entry.name, dir_fd=fd)
            except OSError:
                pass
            finally:
                os.close(fd)
            _quietly(os.rmdir, current, dir_fd=base)
    finally:
        os.close(base)


def _quietly(operation, *args, **kwargs) -> bool:
    try:
        operation(*args, **kwargs)
        return True
    except OSError:
        return False


def _kill_session(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)  # a child leads its own session and process group
    except (ProcessLookupError, PermissionError):
        pass


def _prepare(exercise) -> None:
    """Import the exercise's scenario module (and what it imports: torch.optim's first use loads
    torch._dynamo, seconds) once, here, so that no child pays for it within its call limits."""
    if exercise in SCENARIOS:
        importlib.import_module(SCENARIOS[exercise]).prepare()


def _reap(spared: set[int]) -> int:
    """Kill every process in the sandbox's pid namespace except its init, the zygote, and the
    sessions of ``spared`` (children that other checkers are still using)."""
    if not OWN_PID_NAMESPACE:
        return 0
    mine, killed = {1, os.getpid()}, 0
    for _ in range(3):  # a process may fork while the others die
        # A spared child itself by its pid: just forked, it may not have made its own session yet.
        pids = [pid for pid in _pids() if pid not in mine and pid not in spared and _session(pid) not in spared]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        if not pids:
            break
    return killed


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _session(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except OSError:
        return None


# --- a child: one exercise -----------------------------------------------------------


def _child(sock: socket.socket, limits: dict, workdir: str) -> None:
    die_with_parent()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setsid()
    os.chdir(workdir)
    output = os.open(OUTPUT_NAME, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.close(output)
    # Read back through fd 1 only, never by name: a worker graded beside this one (same user,
    # same /tmp) could replace the file with a link to /dev/zero.
    os.unlink(OUTPUT_NAME)
    sys.stdout = open(1, "w", buffering=1, closefd=False)
    sys.stderr = open(2, "w", buffering=1, closefd=False)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # over the output cap, a write fails (EFBIG) instead
    _apply_limits(limits)
    Child(sock, limits).serve()


def _apply_limits(limits: dict) -> None:
    vm = _vm_size()
    settings = {
        resource.RLIMIT_AS: vm + (limits["memory_mb"] << 20),
        resource.RLIMIT_CPU: limits["cpu_s"],
        resource.RLIMIT_FSIZE: limits["output_bytes"],
        resource.RLIMIT_NOFILE: 64,
        resource.RLIMIT_CORE: 0,
    }
    for which, value in settings.items():
        resource.setrlimit(which, (value, value))
    if limits.get("no_fork"):
        from grader.worker import nofork

        nofork.install()


def _vm_size() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


class Child:
    """Answers one exercise's calls: imports the file, runs what it is asked, reports as data."""

    def __init__(self, sock: socket.socket, limits: dict):
        self.sock = sock
        self.limits = limits
        self.module = None
        _seed_others()
        self.graphs: dict[int, tuple[list, list]] = {}  # call id -> (inputs needing grad, the call's new outputs)
        self.objects: list[torch.nn.Module] = []  # modules of the student's own classes, by the id the checker knows
        # torch's generator as the checker last saw it: a call sends it only when it differs, and a
        # reply only when the call changed it (5 KB each way otherwise, on every call).
        self.rng: torch.Tensor | None = None
        # The module's fingerprint after the last call: what the next call starts from (anything
        # that ran in between, a backward pass included, counts as that call's doing).
        self.state: dict[str, object] = {}

    def serve(self) -> None:
        while True:
            try:
                header, buffers = wire.receive(self.sock)
            except EOFError:
                return
            op = header.get("op")
            try:
                if op == "load":
                    self._load(header)
                elif op == "call":
                    self._call(header, buffers)
                elif op == "backward":
                    self._backward(header, buffers)
                else:
                    raise wire.WireError(f"unknown request {op!r}")
            except wire.WireError as error:
                wire.send(self.sock, {"op": "fault", "message": str(error)})

    def _reply_raised(self, error: BaseException, values: dict | None = None, aliases=None,
                      kept_state: list[str] = ()) -> None:
        wire.send(self.sock, {"op": "raised", **describe_error(error, self.limits), "output": read_output(),
                              "kept_state": list(kept_state)}, values, aliases=aliases)

    def _load(self, header: dict) -> None:
        path, name = header["path"], header["name"]
        global SUBMISSION_FILE
        SUBMISSION_FILE = os.path.realpath(path)
        try:
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        except BaseException as error:  # noqa: BLE001 - a submission may raise anything, SystemExit included
            self._reply_raised(error)
            return
        self.module = module
        self.state = module_state(module)
        names = {key: callable(value) for key, value in vars(module).items() if not key.startswith("_")}
        wire.send(self.sock, {"op": "loaded", "names": names, "output": read_output()})

    def _keep(self, module: torch.nn.Module) -> int:
        self.objects.append(module)
        return len(self.objects) - 1

    def _target(self, path: list[str]):
        if path[:1] == ["$object"] and len(path) == 2:
            return self._forward_of(path[1])
        if path[:1] == ["$scenario"] and len(path) == 2 and path[1] in SCENARIOS:
            scenario = importlib.import_module(SCENARIOS[path[1]])
            return lambda *args, **kwargs: scenario.run(self.module, *args, **kwargs)
        target = self.module
        for name in path:
            if not isinstance(name, str) or name.startswith("_"):
                raise wire.WireError(f"cannot call {name!r}")
            target = getattr(target, name)
        return target

    def _forward_of(self, handle: str):
        """A kept module's forward, after loading the tensors the checker holds for it."""
        index = int(handle) if handle.isdigit() else -1
        if not 0 <= index < len(self.objects):
            raise wire.WireError(f"no kept module {handle!r}")
        module = self.objects[index]

        def forward(state, *args, **kwargs):
            _load_state(module, state)
            output = module(*args, **kwargs)
            return output, wire.object_state(module)

        return forward

    def _call(self, header: dict, buffers) -> None:
        args = wire.decode(header["args"], buffers)
        kwargs = wire.decode(header["kwargs"], buffers)
        rng = wire.decode(header["rng"], buffers) if "rng" in header else self.rng
        if not isinstance(rng, torch.Tensor):
            raise wire.WireError("a call without the random generator's state")
        torch.set_rng_state(rng)
        inputs = wire.tensors_in((args, kwargs))
        before = [_snapshot(t) for t in inputs]
        lists = _lists(args, kwargs)
        lists_before = {key: [id(item) for item in items] for key, items in lists.items()}
        modes = _accelerator_mode() if header.get("accelerator_mode") else _null()
        default = header.get("default_device")
        device = torch.device(default) if default in ("meta", "cuda", "cuda:0", "mps") else _null()
        watch = Watch([rule for rule in header.get("watch", []) if isinstance(rule, str)])
        state_before = self.state
        times = header.get("times", 1)
        if type(times) is not int or not 1 <= times <= MAX_TIMES:
            raise wire.WireError(f"cannot repeat a call {times!r} times")
        try:
            function = self._target(header["target"])
            if "times" in header:
                function = _repeated(function, times, header, buffers)
            with torch.set_grad_enabled(bool(header.get("grad_enabled"))), modes, device, watch:
                result = function(*args, **kwargs)
        except BaseException as error:  # noqa: BLE001
            self._reply_raised(error, {"after": _after(inputs, before), **self._rng_after(rng),
                                       "lists": _lists_after(lists, lists_before), "seen": watch.seen},
                               aliases={id(t): i for i, t in enumerate(inputs)}, kept_state=self._kept_state(state_before))
            return
        aliases = {id(t): i for i, t in enumerate(inputs)}
        outputs = [t for t in wire.tensors_in(result) if id(t) not in aliases]
        call_id = header.get("call_id")
        needs_grad = [bool(t.requires_grad) for t in outputs]
        graph_inputs = [t for t in inputs if t.requires_grad]
        depends = [_inputs_reached(t, graph_inputs) if need else [] for t, need in zip(outputs, needs_grad)]
        if call_id is not None and any(needs_grad):
            self._remember(call_id, graph_inputs, outputs)
        buffers_out = {"result": result, "after": _after(inputs, before), **self._rng_after(rng),
                       "lists": _lists_after(lists, lists_before), "seen": watch.seen}
        try:
            wire.send(self.sock, {"op": "returned", "needs_grad": needs_grad, "depends": depends, "output": read_output(),
                                  "kept_state": self._kept_state(state_before)},
                      buffers_out,
                      objects=self._keep, aliases=aliases)
        except wire.WireError as error:
            wire.send(self.sock, {"op": "unsendable", "message": str(error), "output": read_output()})

    def _rng_after(self, rng: torch.Tensor) -> dict:
        """The generator's state for the reply, when the call changed it."""
        self.rng = torch.get_rng_state()
        return {} if torch.equal(self.rng, rng) else {"rng": self.rng}

    def _kept_state(self, before: dict) -> list[str]:
        self.state = module_state(self.module)
        return changed_state(before, self.state)

    def _remember(self, call_id: int, inputs: list, outputs: list) -> None:
        self.graphs[call_id] = (inputs, outputs)
        while len(self.graphs) > 256:
            self.graphs.pop(next(iter(self.graphs)))

    def _backward(self, header: dict, buffers) -> None:
        inputs, outputs = self.graphs.get(header["call_id"], (None, None))
        if inputs is None:
            raise wire.WireError("backward of a call the worker no longer holds")
        grads = wire.decode(header["grads"], buffers)
        pairs = [(out, g) for out, g in zip(outputs, grads) if g is not None and out.requires_grad]
        try:
            found = torch.autograd.grad([o for o, _ in pairs], inputs, [g for _, g in pairs], retain_graph=True,
                                        allow_unused=True) if pairs and inputs else [None] * len(inputs)
        except BaseException as error:  # noqa: BLE001
            self._reply_raised(error)
            return
        wire.send(self.sock, {"op": "grads"}, {"grads": list(found)})


MAX_TIMES = 100_000


def _repeated(function, times: int, header: dict, buffers):
    """``times`` calls of ``function``, each on its own copy of the arguments (decoded again
    from the message, so that no call sees what an earlier one did to them): what the checker
    would get from calling that many times, in one round trip."""

    def run(*_template, **_ignored):
        return [function(*wire.decode(header["args"], buffers), **wire.decode(header["kwargs"], buffers))
                for _ in range(times)]

    return run


# --- state the submission keeps between calls -----------------------------------------

_DEPTH, _ITEMS = 3, 256  # how far into containers the fingerprint looks


def module_state(module) -> dict[str, object]:
    """A fingerprint of what a call could leave behind in the student's module: each global
    (not an imported module) with the contents of its containers, a function's defaults,
    attributes and closure, a class's attributes, an object's attributes, a tensor's identity
    and in-place version. Two fingerprints differ when a call changed any of it."""
    if module is None:
        return {}
    return {name: _safely(value) for name, value in vars(module).items()
            if not name.startswith("__") and not issubclass(type(value), types.ModuleType)}


def _safely(value):
    try:
        return _digest(value, 0)
    except Exception:  # noqa: BLE001 - an object whose attributes cannot be read is known by its identity
        return ("unreadable", type(value).__name__, id(value))


def changed_state(before: dict, after: dict) -> list[str]:
    """The globals whose fingerprint a call changed, added or removed."""
    return sorted(name for name in before.keys() | after.keys() if before.get(name, _MISSING) != after.get(name, _MISSING))


_MISSING = object()


def _digest(value, depth: int):
    if isinstance(value, torch.Tensor):
        return ("tensor", id(value), value._version, tuple(value.shape), str(value.dtype))
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return value
    if depth >= _DEPTH:
        return ("deep", type(value).__name__, id(value))
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_digest(v, depth + 1) for v in list(value)[:_ITEMS]]
        return (type(value).__name__, len(value), tuple(sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items))
    if isinstance(value, dict):
        return ("dict", len(value), tuple((_digest(k, depth + 1), _digest(v, depth + 1)) for k, v in list(value.items())[:_ITEMS]))
    if isinstance(value, types.FunctionType):
        cells = tuple(_cell(c, depth) for c in value.__closure__ or ())
        return ("function", _digest(value.__defaults__, depth + 1), _digest(value.__kwdefaults__, depth + 1),
                _digest(vars(value), depth + 1), cells)
    if isinstance(value, (types.BuiltinFunctionType, types.MethodWrapperType)):
        return ("builtin", id(value))
    if hasattr(value, "cache_info") and callable(value.cache_info):  # functools.lru_cache / cache
        try:
            return ("cached", value.cache_info().currsize, _digest(getattr(value, "__wrapped__", None), depth + 1))
        except Exception:  # noqa: BLE001
            return ("cached", id(value))
    if isinstance(value, type):
        attrs = {k: v for k, v in vars(value).items() if not k.startswith("__")}
        return ("class", id(value), _digest(attrs, depth + 1))
    attrs = getattr(value, "__dict__", None)
    return ("object", type(value).__name__, id(value), _digest(dict(attrs), depth + 1) if isinstance(attrs, dict) else None)


def _cell(cell, depth: int):
    try:
        return _digest(cell.cell_contents, depth + 1)
    except ValueError:  # an empty cell
        return None


def _inputs_reached(tensor: torch.Tensor, inputs: list[torch.Tensor]) -> list[int]:
    """The positions in ``inputs`` of the leaves that ``tensor``'s autograd graph reaches."""
    where = {id(t): i for i, t in enumerate(inputs)}
    reached, seen, stack = set(), set(), [tensor.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        leaf = getattr(node, "variable", None)
        if leaf is not None and id(leaf) in where:
            reached.add(where[id(leaf)])
        stack.extend(following for following, _ in node.next_functions)
    return sorted(reached)


def _load_state(module: torch.nn.Module, state) -> None:
    """Give a kept module the tensors the checker holds for it (see grader.remote.RemoteLayer)."""
    try:
        for path, flag in state["training"]:
            module.get_submodule(path).training = bool(flag)
        for kind in ("params", "buffers", "attrs"):
            for dotted, tensor in state[kind]:
                path, _, key = dotted.rpartition(".")
                owner = module.get_submodule(path)
                if kind == "params":
                    owner._parameters[key] = tensor
                elif kind == "buffers":
                    owner._buffers[key] = tensor
                else:
                    owner.__dict__[key] = tensor
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise wire.WireError(f"a module state that does not fit the kept module ({error})") from None


def _seed_others() -> None:
    """Python's and numpy's generators, seeded once when the child starts (from then on they
    advance from call to call, as they would in one process): the same numbers on every run."""
    random.seed(0)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(0)


def _lists(args, kwargs) -> dict:
    """The list arguments, which the code may change in place (``params[i] = ...``)."""
    found = {f"args.{i}": a for i, a in enumerate(args) if type(a) is list}
    found.update({f"kwargs.{k}": a for k, a in kwargs.items() if type(a) is list})
    return found


def _lists_after(lists: dict, before: dict) -> dict:
    """The lists whose items are no longer the same objects, with their items now."""
    return {key: items for key, items in lists.items() if [id(item) for item in items] != before[key]}


def _snapshot(tensor: torch.Tensor) -> tuple:
    grad = tensor.grad
    return _state(tensor.detach()), None if grad is None else _state(grad), grad


def _state(tensor: torch.Tensor) -> tuple:
    values = None if tensor.device.type == "meta" else tensor.detach().clone()
    return tensor.dtype, tuple(tensor.shape), tensor.device, values


def _after(inputs: list, before: list) -> list:
    """For each input tensor, None if the call left it as it was, else its new data and grad."""
    changes = []
    for tensor, (old_data, old_grad, grad_object) in zip(inputs, before):
        data_changed = not _same(tensor.detach(), old_data)
        grad = tensor.grad
        grad_changed = (grad is None) != (old_grad is None) or (grad is not None and not _same(grad, old_grad))
        if not (data_changed or grad_changed):
            changes.append(None)
            continue
        changes.append({"data": tensor.detach() if data_changed else None, "grad_changed": grad_changed,
                        "grad": grad.detach() if grad_changed and grad is not None else None,
                        "grad_in_place": grad_changed and grad is not None and grad is grad_object})
    return changes


def _same(now: torch.Tensor, then: tuple) -> bool:
    dtype, shape, device, values = then
    if (now.dtype, tuple(now.shape), now.device) != (dtype, shape, device):
        return False
    if values is None:
        return True
    if torch.equal(now, values):
        return True
    return now.is_floating_point() and torch.equal(now.isnan(), values.isnan()) and torch.equal(
        now.nan_to_num(), values.nan_to_num())


def _accelerator_mode():
    from tests.common.devices import accelerator_mode

    return accelerator_mode()


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_LIBRARIES = tuple(os.path.dirname(os.path.realpath(m.__file__)) for m in (torch,))


def describe_error(error: BaseException, limits: dict) -> dict:
    """An exception as data: its class, the built-in classes it derives from, its message."""
    message = str(error)
    if isinstance(error, OSError) and error.errno == errno.EFBIG:
        message = (f"the code printed more than the {limits['output_bytes'] >> 10} KiB of output the grader keeps "
                   "(remove the prints in loops)")
    if isinstance(error, MemoryError) or "not enough memory" in message or "DefaultCPUAllocator" in message:
        message = f"the code used more than the {limits['memory_mb']} MiB of memory an exercise may use ({message[:200]})"
    bases = [cls.__name__ for cls in type(error).__mro__ if cls.__module__ == "builtins"]
    frames = traceback.extract_tb(error.__traceback__)
    last = frames[-1] if frames else None
    theirs = [f for f in frames if SUBMISSION_FILE and os.path.realpath(f.filename) == SUBMISSION_FILE]
    where = (f"{os.path.basename(theirs[-1].filename)}, line {theirs[-1].lineno}, in {theirs[-1].name}: "
             f"{(theirs[-1].line or '').strip()}") if theirs else None
    return {"type": type(error).__name__, "bases": bases, "message": message, "where": where,
            "stub": type(error) is NotImplementedError and last is not None and (last.line or "").lstrip().startswith("raise")
            and not os.path.realpath(last.filename).startswith(_LIBRARIES),
            "module_missing": getattr(error, "name", None) if isinstance(error, ModuleNotFoundError) else None,
            "syntax_line": getattr(error, "lineno", None) if isinstance(error, SyntaxError) else None,
            "syntax_msg": getattr(error, "msg", None) if isinstance(error, SyntaxError) else None}


def read_output(limit: int = 4000) -> str:
    """The tail of what the code printed since the last call; the file is emptied."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        size = os.fstat(1).st_size
        if not size:
            return ""
        start = max(0, size - limit)
        text = os.pread(1, size - start, start).decode("utf-8", "replace")
        os.ftruncate(1, 0)
        os.lseek(1, 0, os.SEEK_SET)  # fds 1 and 2 share one file offset
        return text
    except OSError:
        return ""


def _prewarm() -> None:
    """Run once in the zygote what torch initializes lazily (the meta device's kernels load a
    second of Python modules on first use), so that no child pays for it in its first call."""
    x = torch.ones(2, 3, requires_grad=True)
    (x.exp() / x.exp().sum(1, keepdim=True)).sum().backward()
    meta = torch.empty(2, 3, device="meta", requires_grad=True)
    meta.grad = torch.empty_like(meta)
    with torch.no_grad():
        meta -= 0.1 * meta.grad / 2
        meta.grad.zero_()
    (torch.rand(meta.shape, device="meta") > 0.5).float() * meta
    torch.nn.functional.conv2d(torch.empty(1, 1, 5, 5, device="meta"), torch.empty(1, 1, 3, 3, device="meta"))
    with torch.device("meta"):
        torch.nn.Linear(2, 2)


def not_dumpable() -> None:
    """Make this process (and the children it forks) not dumpable: then no other process of the
    same user can open its /proc/PID/mem, which a child could otherwise write the zygote's
    memory through (seccomp refuses ptrace and process_vm_writev, not open)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE
    except (OSError, AttributeError):
        pass  # not Linux


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies: without bubblewrap's pid namespace,
    nothing else stops a child that loops forever once the checker is gone."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the rlimits (CPU seconds) still end it


def main(prepare: tuple[str, ...] = ()) -> None:
    """Start the zygote; ``prepare`` names the exercises whose scenarios it imports at once,
    before its first request (while the checker itself is still starting)."""
    die_with_parent()
    not_dumpable()
    torch.set_num_threads(1)
    _prewarm()
    for exercise in prepare:
        _prepare(exercise)
    zygote()


if __name__ == "__main__":
    main()
