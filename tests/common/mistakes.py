"""Naming a likely mistake only when it reproduces what was observed.

A check that fails computes the known mistaken variants on the same input and names a
mistake only when exactly one of them gives what the code under test gave: the same
values (within a tolerance, NaN and infinities where the result has them), or the same
exception with the same message.
"""
from __future__ import annotations

import math
from typing import Callable, Iterable

import torch

from grader.failures import Mistake

Variant = tuple[Mistake, Callable[[], object]]


def outcome(make: Callable[[], object]):
    """What ``make()`` returns, or the exception it raises."""
    try:
        return make()
    except Exception as error:  # noqa: BLE001
        return error


def same(observed, variant, rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    """Whether a variant's outcome reproduces the observed one."""
    if isinstance(observed, BaseException) or isinstance(variant, BaseException):
        return (type(observed) is type(variant) and isinstance(observed, BaseException)
                and str(observed) == str(variant))
    if isinstance(observed, torch.Tensor) and isinstance(variant, torch.Tensor):
        if observed.shape != variant.shape or observed.device.type == "meta" or variant.device.type == "meta":
            return False
        a, b = observed.detach().cpu().double(), variant.detach().cpu().double()
        return bool(torch.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True).all())
    if isinstance(observed, (int, float)) and isinstance(variant, (int, float)):
        if math.isnan(observed) or math.isnan(variant):
            return math.isnan(observed) and math.isnan(variant)
        return math.isclose(observed, variant, rel_tol=rtol, abs_tol=atol)
    return False


def diagnose(observed, variants: Iterable[Variant], rtol: float = 1e-4, atol: float = 1e-6,
             expected=None) -> Mistake | None:
    """The one mistake whose variant reproduces ``observed``; None when none or several do.

    A variant that gives the ``expected`` (correct) result on this input explains nothing
    and is skipped.
    """
    hits: dict[str, Mistake] = {}
    for mistake, make in variants:
        if mistake.id in hits:
            continue
        result = outcome(make)
        if same(observed, result, rtol, atol) and (expected is None or not same(expected, result, rtol, atol)):
            hits[mistake.id] = mistake
    return next(iter(hits.values())) if len(hits) == 1 else None


def diagnose_with_probes(observed, variants_on: Callable[[object], Iterable[Variant]], failing_input, rerun,
                         probes, rtol: float = 1e-4, atol: float = 1e-6, expected=None) -> Mistake | None:
    """Like :func:`diagnose`, for code that can be run again: the mistakes whose variant
    reproduces ``observed`` on the failing input and, on each of ``probes``, what ``rerun``
    (the code under test again) gives there. One input can be explained by several mistakes
    (on ``[[1000, -1000]]`` shifting by the row's mean is no shift at all); the probes tell
    them apart. None unless exactly one mistake is left."""
    hits: dict[str, Mistake] = {}
    for mistake, make in variants_on(failing_input):
        result = outcome(make)
        if same(observed, result, rtol, atol) and (expected is None or not same(expected, result, rtol, atol)):
            hits[mistake.id] = mistake
    for probe in probes:
        if len(hits) <= 1:
            break
        got = outcome(lambda probe=probe: rerun(probe))
        reproduced = {mistake.id for mistake, make in variants_on(probe) if same(got, outcome(make), rtol, atol)}
        hits = {key: mistake for key, mistake in hits.items() if key in reproduced}
    return next(iter(hits.values())) if len(hits) == 1 else None
