"""Which library calls a piece of code makes, seen at torch's Python API and at its dispatcher.

:class:`Watch` records, while it is active, every torch function or Tensor method called
(``torch.softmax``, ``torch.nn.functional.dropout``, ``Tensor.softmax``; torch.nn's modules
call these too) and every aten operator that reaches the dispatcher (``aten._softmax``), and
reports which of a list of rules they match. A rule is a dotted name; it matches the name
itself and everything under it (``torch.optim`` matches ``torch.optim.sgd.sgd``).
"""
from __future__ import annotations

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

_MODULES = {"torch._C._VariableFunctions": "torch", "torch._C._nn": "torch.nn.functional",
            "torch._C._special": "torch.special", "torch.functional": "torch"}


def function_name(func) -> str:
    """``torch.softmax``, ``torch.nn.functional.dropout`` or ``Tensor.softmax`` for a function torch dispatches."""
    name = getattr(func, "__name__", repr(func))
    owner = getattr(func, "__objclass__", None) or getattr(getattr(func, "__self__", None), "__class__", None)
    if owner is not None and issubclass(owner, torch._C.TensorBase) or "TensorBase" in getattr(func, "__qualname__", ""):
        return f"Tensor.{name}"
    module = getattr(func, "__module__", None) or ""
    return f"{_MODULES.get(module, module)}.{name}"


def matches(name: str, rules) -> list[str]:
    return [rule for rule in rules if name == rule or name.startswith(rule + ".")]


class _Functions(TorchFunctionMode):
    def __init__(self, watch):
        super().__init__()
        self.watch = watch

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.watch.saw(function_name(func))
        return func(*args, **(kwargs or {}))


class _Operators(TorchDispatchMode):
    def __init__(self, watch):
        super().__init__()
        self.watch = watch

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.watch.saw(f"aten.{func.overloadpacket.__name__}")
        return func(*args, **(kwargs or {}))


class Watch:
    """``with Watch(rules) as w: ...`` then ``w.seen``: the rules the code inside broke."""

    def __init__(self, rules):
        self.rules = tuple(rules)
        self.seen: dict[str, str] = {}  # rule -> the call that broke it
        self._modes = (_Functions(self), _Operators(self))

    def saw(self, name: str) -> None:
        for rule in matches(name, self.rules):
            self.seen.setdefault(rule, name)

    def __enter__(self):
        if self.rules:
            for mode in self._modes:
                mode.__enter__()
        return self

    def __exit__(self, *exc):
        if self.rules:
            for mode in reversed(self._modes):
                mode.__exit__(*exc)
        return False
