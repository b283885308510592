"""The checker's side of isolated grading: a submission's functions, called in a worker.

:class:`RemoteModule` stands where the imported module stood: ``impl.softmax(X)`` sends X to
the worker (grader/worker/serve.py), which runs the student's ``softmax`` and sends back plain
data: the result, what the call did to its tensor arguments (new values, new ``.grad``), and
torch's random state after it. The checker applies those, so a call behaves as it did in one
process: an in-place update shows on the checker's tensors, a seeded mask is the same mask,
a result that *is* the input comes back as the input. When an argument requires grad, the call
goes through :class:`_Bridge`, an ``autograd.Function`` whose backward is a vector-Jacobian
product computed in the worker, so ``backward()`` and ``gradcheck`` run unchanged here.

No verdict is computed in the worker, and nothing it sends is unpickled. A worker that stops,
hangs or floods its output costs the check it was running (:class:`WorkerFault`), and the next
call starts a fresh one.
"""
from __future__ import annotations

import builtins
import sys
import time
import types
from dataclasses import dataclass

import torch

from grader import sandbox
from grader.catalog import Limits
from grader.worker import wire

_SAFE_BASES = ("NotImplementedError", "ValueError", "TypeError", "IndexError", "KeyError", "ZeroDivisionError",
               "OverflowError", "ArithmeticError", "LookupError", "AttributeError", "AssertionError",
               "RuntimeError", "OSError", "MemoryError", "RecursionError", "ImportError", "NameError")
_CLASSES: dict[tuple[str, str], type] = {}


class WorkerFault(BaseException):
    """The worker stopped, ran over a limit, or broke the wire format while running the student's
    code: the check it was running fails with this sentence. A BaseException, so that neither a
    check's ``call`` wrapper nor hypothesis retries it (a replay would only hang again)."""

    def __init__(self, kind: str, message: str):
        self.kind = kind  # "timeout", "stopped" or "fault"
        super().__init__(message)


class Unsendable(Exception):
    """The student's code returned something that is not a tensor or a plain value."""


@dataclass
class _Loaded:
    names: dict[str, bool]


class Session:
    """One exercise's worker: a fresh child of the sandbox's zygote, with the exercise's limits;
    after a fault the next call starts another and imports the file again."""

    def __init__(self, box: sandbox.Sandbox, path, module_name: str, file_name: str, limits: Limits,
                 exercise: str | None = None):
        self.box, self.path, self.module_name, self.file_name, self.limits = box, path, module_name, file_name, limits
        self.exercise = exercise
        self.sock = None
        self.loaded: _Loaded | None = None
        self.load_error: Exception | None = None
        self.spent = 0.0
        self.calls = 0
        self.watch: tuple[str, ...] = ()  # forbidden calls the worker reports (tests/common/forbidden.py)
        self.seen: dict[str, str] = {}
        # Globals of the student's file that a call changed (grader/worker/serve.py's module_state):
        # code that keeps state gives results that depend on the calls before, so no hint names a
        # mistake for it (tests/conftest.py).
        self.kept_state: set[str] = set()
        self.rng_known: torch.Tensor | None = None  # torch's generator state as the worker holds it

    # -- the connection

    def _connect(self) -> None:
        self.rng_known = None
        try:
            self.sock = self.box.spawn(self.limits, self.exercise)
        except sandbox.SpawnRefused as error:
            raise WorkerFault("stopped", f"no fresh worker could start for {self.file_name} ({error}): code of this "
                                         "submission run before changed the sandbox's temporary directory") from None
        header, _ = self._exchange({"op": "load", "path": self.box.path_inside(self.path), "name": self.module_name},
                                   what=f"importing {self.file_name}")
        self._keep_output(header)
        if header["op"] == "raised":
            self.load_error = ImportFailure(header, self.file_name)
            raise self.load_error
        if header["op"] != "loaded":
            raise WorkerFault("fault", f"the worker answered {header['op']!r} to importing {self.file_name}")
        self.loaded = _Loaded(dict(header["names"]))

    def load(self) -> _Loaded:
        if self.load_error is not None:
            raise self.load_error
        if self.sock is None:
            self._connect()
        return self.loaded

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self.box.reap()

    def _exchange(self, header: dict, values: dict | None = None, what: str = "the call", calls: int = 1
                  ) -> tuple[dict, list]:
        left = self.limits.exercise_s - self.spent
        if left <= 0:
            raise WorkerFault("timeout", f"{self.file_name} has used up its {self.limits.exercise_s:g} s for all calls "
                                         "together, so the remaining checks were not run")
        limit = self.limits.call_s * calls
        timeout = min(limit, left)
        start = time.monotonic()
        try:
            self.sock.settimeout(timeout)
            wire.send(self.sock, header, values)
            reply = wire.receive(self.sock, deadline=start + timeout)
        except (TimeoutError, OSError, EOFError, wire.WireError) as error:
            self.spent += time.monotonic() - start
            self._lost()
            if isinstance(error, TimeoutError):
                if timeout < limit:
                    raise WorkerFault("timeout", f"{what} ran past the {self.limits.exercise_s:g} s {self.file_name} "
                                                 "may use for all its calls together") from None
                each = "one call" if calls == 1 else f"each of {calls} calls, {limit:g} s for all"
                raise WorkerFault("timeout", f"{what} ran for more than {limit:g} s, the limit for {each} (an endless "
                                             "loop, or a loop over far too many items?)") from None
            if isinstance(error, wire.WireError):
                raise WorkerFault("fault", f"{what}: the worker sent a broken message ({error})") from None
            raise WorkerFault("stopped", f"{what} stopped the process running your code: it exited (sys.exit, "
                                         "os._exit), crashed, or went over a limit (CPU "
                                         f"{self.limits.cpu_s} s, memory {self.limits.memory_mb} MiB)") from None
        self.spent += time.monotonic() - start
        return reply

    def _lost(self) -> None:
        """The child is gone or hung: kill what is left of it; the next call starts a new one."""
        if self.sock is not None:
            self.sock.close()
        self.sock = None
        self.box.reap()

    def _keep_output(self, header: dict) -> None:
        """What the code printed during the call, printed here too, so that pytest captures it
        with the check that ran it (the scoreboard shows it under a failing check)."""
        text = header.get("output")
        if text and isinstance(text, str):
            sys.stdout.write(text)

    # -- calls

    def call(self, target: list[str], args: tuple, kwargs: dict, call_id: int | None = None, times: int | None = None
             ) -> tuple[dict, list]:
        """Run ``target(*args, **kwargs)`` in the worker (``times`` times, each on a copy of the
        arguments, when given); the reply and its buffers."""
        self.load()
        self.calls += times or 1
        what = _call_name(target, args) if times is None else f"{times} calls of {_call_name(target, args)}"
        values = {"args": args, "kwargs": kwargs}
        rng = torch.get_rng_state()
        if self.rng_known is None or not torch.equal(rng, self.rng_known):
            values["rng"] = self.rng_known = rng
        header = {"op": "call", "target": target, "grad_enabled": torch.is_grad_enabled(),
                  "accelerator_mode": _accelerator_mode_on(), "call_id": call_id, "watch": list(self.watch),
                  "default_device": str(torch.get_default_device())}
        if times is not None:
            header["times"] = times
        reply, buffers = self._exchange(header, values, what=what, calls=times or 1)
        self._keep_output(reply)
        kept = reply.get("kept_state")
        if isinstance(kept, list):
            self.kept_state.update(str(name)[:80] for name in kept[:20])
        if self.watch and "seen" in reply:
            seen = wire.decode(reply["seen"], buffers)
            if isinstance(seen, dict):
                self.seen.update({str(k): str(v) for k, v in seen.items() if k in self.watch})
        return reply, buffers

    def backward(self, call_id: int, grads: list) -> list:
        reply, buffers = self._exchange({"op": "backward", "call_id": call_id}, {"grads": grads},
                                        what="the backward pass of your code")
        self._keep_output(reply)
        if reply["op"] == "raised":
            raise remote_exception(reply)
        if reply["op"] != "grads":
            raise WorkerFault("fault", f"the worker answered {reply['op']!r} to a backward pass")
        return wire.decode(reply["grads"], buffers)


def _call_name(target: list[str], args: tuple) -> str:
    """The call as the student wrote it: ``train(...)`` for a training run, ``forward(...)`` of a kept module."""
    if target[:1] == ["$scenario"] and args and isinstance(args[0], dict):
        return f"{args[0].get('function', 'the training run')}(...)"
    if target[:1] == ["$object"]:
        return "the module's forward(...)"
    return f"{'.'.join(target)}(...)"


class ImportFailure(Exception):
    """Importing the student's file failed in the worker (the loader turns it into a SubmissionError)."""

    def __init__(self, header: dict, file_name: str):
        self.header, self.file_name = header, file_name
        super().__init__(header.get("message", ""))

    def as_exception(self) -> Exception:
        h = self.header
        if h.get("syntax_line") is not None:
            error = SyntaxError(h.get("syntax_msg") or h["message"])
            error.lineno = h["syntax_line"]
            return error
        if h.get("module_missing") is not None:
            return ModuleNotFoundError(h["message"], name=h["module_missing"])
        return remote_exception(h)


def _accelerator_mode_on() -> bool:
    stack = torch.overrides._get_current_function_mode_stack()
    return any(type(mode).__name__ == "_FactoriesOnAccelerator" for mode in stack)


def remote_exception(header: dict) -> BaseException:
    """An exception raised in the worker, rebuilt here as an instance of a class with the same
    name that derives from the same built-in exception (so ``pytest.raises(ValueError)`` and the
    checks' ``isinstance`` tests see what they would have seen in one process)."""
    name, message = str(header.get("type", "Exception")), str(header.get("message", ""))
    base_name = next((b for b in header.get("bases", []) if b in _SAFE_BASES), "Exception")
    base = getattr(builtins, base_name)
    if header.get("stub"):
        error = NotImplementedError(message)
    else:
        key = (name, base_name)
        if key not in _CLASSES:
            _CLASSES[key] = base if name == base_name else type(name, (base,), {"__module__": "submission"})
        error = _CLASSES[key](message)
    error._d2l_stub = bool(header.get("stub"))  # decided where it was raised (grader.failures.is_stub)
    error._d2l_where = header.get("where")  # the student's line that raised it, as text
    return error


class RemoteModule(types.SimpleNamespace):
    """The student's module as the checks see it: its public functions and classes, called in the worker."""

    def __init__(self, session: Session):
        super().__init__()
        object.__setattr__(self, "_session", session)

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        names = self._session.load().names
        if name not in names:
            raise AttributeError(f"module {self._session.file_name!r} has no attribute {name!r}")
        if not names[name]:
            raise AttributeError(f"{name} in {self._session.file_name} is not a function; the grader calls only functions")
        return RemoteFunction(self._session, [name])


class RemoteFunction:
    """A function of the submission; calling it runs it in the worker."""

    _next_call = 0

    def __init__(self, session: Session, target: list[str]):
        self.session, self.target = session, target
        self.__name__ = self.__qualname__ = target[-1]

    def __repr__(self) -> str:
        return f"<{'.'.join(self.target)} of {self.session.file_name}, run in the worker>"

    def __call__(self, *args, **kwargs):
        args, kwargs = _materialize(args), _materialize(kwargs)
        inputs = wire.tensors_in((args, kwargs))
        if torch.is_grad_enabled() and any(t.requires_grad for t in inputs):
            return _bridged(self, args, kwargs, inputs)
        reply, buffers = self.session.call(self.target, args, kwargs)
        return _finish(reply, buffers, inputs, _lists(args, kwargs), self.session)

    def repeat(self, times: int, *args, **kwargs) -> list:
        """``times`` calls, each on its own copy of the arguments (which stay as they are), in one
        round trip; for calls without gradients (tests/common/calls.py's ``calls``)."""
        if not (type(times) is int and times >= 1):
            raise ValueError(f"repeat needs a positive number of calls, not {times!r}")
        args, kwargs = _materialize(args), _materialize(kwargs)
        inputs = wire.tensors_in((args, kwargs))
        if torch.is_grad_enabled() and any(t.requires_grad for t in inputs):
            raise ValueError("repeat cannot carry gradients: call the function once per input that requires grad")
        reply, buffers = self.session.call(self.target, args, kwargs, times=times)
        results = _finish(reply, buffers, inputs, _lists(args, kwargs), self.session)
        if not isinstance(results, list) or len(results) != times:
            raise WorkerFault("fault", f"the worker answered {times} calls with something else than {times} results")
        return results


class RemoteLayer(torch.nn.Module):
    """A module of the student's own class (``BatchNorm(3, 2)``), kept in the worker. Its
    tensors live here, as the module's own parameters, buffers and tensor attributes, so that
    ``.to()``, ``.eval()``, ``named_parameters()``, an optimizer and the checks all work on
    them as on a local module. A forward pass sends them with the input; the worker loads them
    into its object, runs its ``forward`` and sends back the output and the tensors the object
    holds then (a moving mean rebound to a new tensor). Gradients flow through the usual bridge."""

    def __init__(self, session: Session, handle: int, record: dict, state: dict):
        super().__init__()
        self._d2l_remote = (session, handle, str(record.get("class", "Module")), str(record.get("repr", "")))
        self._d2l_load(state)

    def __repr__(self) -> str:
        return f"{self._d2l_remote[3] or self._d2l_remote[2]} (your {self._d2l_remote[2]}, run in the worker)"

    def forward(self, *args, **kwargs):
        session, handle = self._d2l_remote[:2]
        result = RemoteFunction(session, ["$object", str(handle)])(wire.object_state(self), *args, **kwargs)
        if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict)):
            raise WorkerFault("fault", "the worker's answer to a forward pass is not (output, state)")
        self._d2l_load(result[1])
        return result[0]

    def _d2l_owner(self, path: str) -> torch.nn.Module:
        owner = self
        for key in path.split(".") if path else ():
            if key not in owner._modules:
                owner.add_module(key, torch.nn.Module())
            owner = owner._modules[key]
        return owner

    def _d2l_slot(self, dotted: str) -> tuple[torch.nn.Module, str]:
        path, _, key = dotted.rpartition(".")
        return self._d2l_owner(path), key

    def _d2l_load(self, state: dict) -> None:
        """Take the worker's state: a tensor that is already this module's stays, another one is set."""
        try:
            for path, flag in state["training"]:
                self._d2l_owner(path).training = bool(flag)
            for kind in ("params", "buffers", "attrs"):
                for dotted, tensor in state[kind]:
                    self._d2l_set(kind, *self._d2l_slot(dotted), tensor)
        except (KeyError, TypeError, ValueError) as error:
            raise WorkerFault("fault", f"the worker described a module it keeps in a way this side cannot read ({error})") from None

    @staticmethod
    def _d2l_set(kind: str, owner: torch.nn.Module, key: str, tensor) -> None:
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"{key} is not a tensor")
        if kind == "params":
            if owner._parameters.get(key) is not tensor:
                owner._parameters[key] = tensor if isinstance(tensor, torch.nn.Parameter) else torch.nn.Parameter(tensor)
        elif kind == "buffers":
            if owner._buffers.get(key) is not tensor:
                owner._buffers[key] = tensor
        elif owner.__dict__.get(key) is not tensor:
            owner.__dict__[key] = tensor


def _materialize(value):
    """Generators as :class:`wire.OneShot` lists, so that their tensors are known here too;
    every other container is kept as the same object (the code may change a list in place)."""
    if isinstance(value, types.GeneratorType) or type(value).__name__.endswith("iterator"):
        return wire.OneShot(_materialize(item) for item in value)
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        items = tuple(_materialize(item) for item in value)
        return value if all(a is b for a, b in zip(items, value)) else items
    return value


def _finish(reply: dict, buffers: list, inputs: list, lists: dict, session: Session):
    """Apply what the call did to the checker's tensors and return its result (or raise its error)."""
    op = reply["op"]
    if "rng" in reply:  # else the call left the generator as it was sent
        state = wire.decode(reply["rng"], buffers)
        if not isinstance(state, torch.Tensor) or state.dtype != torch.uint8 or state.shape != session.rng_known.shape:
            raise WorkerFault("fault", "the worker sent back a random generator state that is not one")
        torch.set_rng_state(state)
        session.rng_known = state
    if "after" in reply:
        _apply_changes(inputs, wire.decode(reply["after"], buffers))
    if reply.get("lists"):
        _apply_list_changes(lists, wire.decode(reply["lists"], buffers, aliases=inputs))
    if op == "raised":
        raise remote_exception(reply)
    if op == "unsendable":
        raise Unsendable(reply.get("message", "the result is not a tensor or a plain value"))
    if op != "returned":
        raise WorkerFault("fault", f"the worker answered {op!r} to a call")
    return wire.decode(reply["result"], buffers, objects=lambda handle, record, state: RemoteLayer(
        session, handle, record, state), aliases=inputs)


def _apply_changes(inputs: list, changes: list) -> None:
    if not isinstance(changes, list) or len(changes) != len(inputs):
        raise WorkerFault("fault", "the worker reported changes for tensors it was not given")
    for tensor, change in zip(inputs, changes):
        if change is None:
            continue
        with torch.no_grad():
            if change["data"] is not None:
                tensor.data = change["data"]
            if change["grad_in_place"] and tensor.grad is not None:
                tensor.grad.data = change["grad"]  # the same gradient tensor, changed in place
            elif change["grad_changed"]:
                tensor.grad = change["grad"]


def _lists(args, kwargs) -> dict:
    """The list arguments by the key the worker names them with (see serve._lists)."""
    found = {f"args.{i}": a for i, a in enumerate(args) if isinstance(a, list) and not isinstance(a, wire.OneShot)}
    found.update({f"kwargs.{k}": a for k, a in kwargs.items() if isinstance(a, list) and not isinstance(a, wire.OneShot)})
    return found


def _apply_list_changes(lists: dict, changed: dict) -> None:
    if not isinstance(changed, dict) or set(changed) - set(lists):
        raise WorkerFault("fault", "the worker reported changes to lists it was not given")
    for key, items in changed.items():
        lists[key][:] = items


def _bridged(function: RemoteFunction, args, kwargs, inputs):
    """A call whose inputs require grad: each new output that needs grad becomes the output of
    its own :class:`_Bridge` node, whose inputs are exactly the inputs the worker's graph of that
    output reaches. (One node for all outputs would link an output to inputs it does not depend
    on: a moving mean that keeps last batch's graph would then drag it into this batch's backward.)"""
    RemoteFunction._next_call += 1
    call_id = RemoteFunction._next_call
    grad_inputs = [t for t in inputs if t.requires_grad]
    reply, buffers = function.session.call(function.target, args, kwargs, call_id)
    result = _finish(reply, buffers, inputs, _lists(args, kwargs), function.session)
    fresh = [t for t in wire.tensors_in(result) if not any(t is i for i in inputs)]
    needs, depends = reply.get("needs_grad", []), reply.get("depends", [])
    if len(needs) != len(fresh) or len(depends) != len(fresh):
        raise WorkerFault("fault", "the worker described the gradients of other outputs than it sent")
    mapping = {}
    for index, (tensor, need, reached) in enumerate(zip(fresh, needs, depends)):
        tensor.requires_grad_(False)
        if not need:
            continue
        if not all(type(i) is int and 0 <= i < len(grad_inputs) for i in reached):
            raise WorkerFault("fault", "the worker named inputs it was not given")
        piece = _Piece(function.session, call_id, index, len(fresh), len(grad_inputs), list(reached), tensor)
        mapping[id(tensor)] = _Bridge.apply(piece, *[grad_inputs[i] for i in reached]) if reached else \
            tensor.requires_grad_(True)
    return _replace(result, mapping)


@dataclass
class _Piece:
    """One output of a bridged call: where its vector-Jacobian product is computed."""
    session: Session
    call_id: int
    index: int
    n_outputs: int
    n_inputs: int
    reached: list[int]
    value: torch.Tensor


class _Bridge(torch.autograd.Function):
    """An output computed in the worker; its backward is the worker's vector-Jacobian product."""

    @staticmethod
    def forward(ctx, piece: _Piece, *inputs):
        ctx.piece = piece
        return piece.value

    @staticmethod
    def backward(ctx, grad):
        piece = ctx.piece
        grads = [None] * piece.n_outputs
        grads[piece.index] = grad
        found = piece.session.backward(piece.call_id, grads)
        if not isinstance(found, list) or len(found) != piece.n_inputs:
            raise WorkerFault("fault", "the worker's backward pass gave gradients for other inputs")
        return (None, *[found[i] for i in piece.reached])


def _replace(value, mapping: dict):
    if isinstance(value, torch.Tensor):
        return mapping.get(id(value), value)
    if isinstance(value, list):
        return [_replace(item, mapping) for item in value]
    if isinstance(value, tuple):
        return tuple(_replace(item, mapping) for item in value)
    if isinstance(value, dict):
        return {key: _replace(item, mapping) for key, item in value.items()}
    return value
