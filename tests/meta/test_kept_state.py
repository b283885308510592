"""The worker tells the checker when a call changed the student's file's globals, so that no
hint is given for code whose results depend on the calls before (grader/worker/serve.py)."""
from __future__ import annotations

import textwrap
import types

import pytest

from grader.worker.serve import changed_state, module_state

STATEFUL = {
    "a list grows": ("SEEN = []", "def f(x):\n    SEEN.append(x)"),
    "a dict entry": ("VELOCITY = {}", "def f(x):\n    VELOCITY[0] = x"),
    "a nested entry": ("STATE = {'v': [0]}", "def f(x):\n    STATE['v'][0] += 1"),
    "a tensor in place": ("import torch\nT = torch.zeros(3)", "def f(x):\n    T.add_(1)"),
    "a tensor rebound": ("import torch\nT = torch.zeros(3)", "def f(x):\n    global T\n    T = T + 1"),
    "a counter rebound": ("N = 0", "def f(x):\n    global N\n    N += 1"),
    "a mutable default": ("", "def f(x, cache=[]):\n    cache.append(x)"),
    "a function attribute": ("", "def f(x):\n    f.calls = getattr(f, 'calls', 0) + 1"),
    "a closure": ("def make():\n    count = [0]\n    def f(x):\n        count[0] += 1\n    return f", "f = make()"),
    "a class attribute": ("class Box:\n    seen = 0", "def f(x):\n    Box.seen += 1"),
    "an object attribute": ("class Box:\n    pass\nBOX = Box()", "def f(x):\n    BOX.last = x"),
    "an lru_cache": ("import functools", "@functools.lru_cache\ndef f(x):\n    return x"),
    "a new global": ("", "def f(x):\n    globals()['made'] = x"),
}


def _module(setup: str, body: str) -> types.ModuleType:
    module = types.ModuleType("submission")
    exec(textwrap.dedent(setup) + "\n" + textwrap.dedent(body), vars(module))  # noqa: S102 - our own test code
    return module


@pytest.mark.parametrize("kind", list(STATEFUL))
def test_a_call_that_changes_a_global_is_seen(kind):
    module = _module(*STATEFUL[kind])
    before = module_state(module)
    module.f(1)
    assert changed_state(before, module_state(module)), f"{kind}: the change was not seen"


def test_pure_code_keeps_no_state():
    """Calls that only compute, in place on their arguments included, change no global."""
    module = _module("import torch\nSCALE = 2.0\nSHAPE = (1, 2)", """
        def f(x):
            x.mul_(SCALE)
            local = [x]
            return torch.stack(local).sum()
        """)
    import torch

    before = module_state(module)
    for _ in range(3):
        module.f(torch.ones(2))
    assert changed_state(before, module_state(module)) == []


def test_an_unreadable_global_does_not_break_the_fingerprint():
    module = _module("class Odd:\n    def __getattribute__(self, name):\n        raise RuntimeError(name)\nODD = Odd()",
                     "def f(x):\n    return x")
    before = module_state(module)
    module.f(1)
    assert changed_state(before, module_state(module)) == []
