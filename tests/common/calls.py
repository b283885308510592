"""Calling the code under test: a stub's NotImplementedError passes through (the exercise is
not started), and any other exception becomes a failure in words, with the likely mistake
when a check reproduces it."""
from __future__ import annotations

from typing import Callable

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
