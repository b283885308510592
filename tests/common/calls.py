"""Calling the code under test: a stub's NotImplementedError passes through (the exercise is
not started), and any other exception becomes a failure in words, with the likely mistake
when a check reproduces it."""
from __future__ import annotations

from typing import Callable

import torch

from grader.failures import Mistake, is_stub
from tests.common.report import fail


def call(fn, *args, what: str, explain: Callable[[BaseException], Mistake | None] | None = None, **kwargs):
    """``fn(*args, **kwargs)``; an exception fails as "``what`` raised ...", naming the
    mistake ``explain(error)`` reproduces."""
    try:
        return fn(*args, **kwargs)
    except BaseException as error:  # noqa: BLE001 - student code may raise anything
        if is_stub(error) or not isinstance(error, Exception):
            raise
        first_line = (str(error).strip().splitlines() or [""])[0]
        fail(f"{what} raised {type(error).__name__}: {first_line}", mistake=explain(error) if explain else None)


def calls(fn, times: int, *args, what: str, explain: Callable[[BaseException], Mistake | None] | None = None,
          **kwargs) -> list:
    """``times`` results of ``fn(*args, **kwargs)``, each call given its own copy of the tensor
    arguments (so that none sees what an earlier call did to them, and the arguments stay as
    they are); an exception fails as in :func:`call`. Code that runs in a worker is called there
    ``times`` times in one round trip."""
    repeat = getattr(fn, "repeat", None)
    if repeat is not None:
        return call(repeat, times, *args, what=f"{times} calls of {what}", explain=explain, **kwargs)
    return call(lambda: [fn(*_copies(args), **_copies(kwargs)) for _ in range(times)], what=f"{times} calls of {what}",
                explain=explain)


def _copies(value):
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, (list, tuple)):
        return type(value)(_copies(item) for item in value)
    if isinstance(value, dict):
        return {key: _copies(item) for key, item in value.items()}
    return value
