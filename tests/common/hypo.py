"""``given`` for the checks: hypothesis's, plus the drawn input kept on the failure.

Hypothesis replays the smallest failing example last and raises that replay's exception;
the wrapper records the drawn arguments (never the fixtures), as they were before the call,
on it as ``example``, so the scoreboard shows the shrunk input without reading hypothesis's
text. ``example`` is a dict, or a function giving one, for exceptions other than CheckFailure.
"""
from __future__ import annotations

import functools

import hypothesis

import torch

from grader.failures import show, snapshot


def _fresh(value):
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_fresh(v) for v in value)
    return value


def given(**strategies):
    def decorate(test):
        @functools.wraps(test)
        def recording(*args, **kwargs):
            # Fresh copies for the test: an explicit @example's tensors are shared by every run of
            # the check, and code under test that changes them in place must not change later runs.
            kwargs = {name: _fresh(value) if name in strategies else value for name, value in kwargs.items()}
            drawn = {name: snapshot(kwargs[name]) for name in strategies if name in kwargs}
            try:
                return test(*args, **kwargs)
            except BaseException as error:
                try:  # rendered only when reported, not for each example tried while shrinking
                    error.example = lambda: {name: show(value) for name, value in drawn.items()}
                except AttributeError:  # an exception type that takes no attributes
                    pass
                raise

        return hypothesis.given(**strategies)(recording)

    return decorate
