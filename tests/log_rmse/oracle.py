"""log_rmse's float64 numpy oracle, and the known mistakes' variants with the value each one
computes: the hidden checks use them directly; the public ones read their values on fixed
inputs from tests/log_rmse/expected.py. This is working code, so a student's release never
holds it (grader/release.py refuses it).
"""
from __future__ import annotations

import numpy as np
import torch

from tests.common.mistakes import outcome
from tests.log_rmse.hints import (
    BROADCAST, CLAMPS_LABELS, FLOAT32, LOG10, LOG1P, MEAN_OF_ROOTS, NO_CLAMP, NO_SQRT, SUMS, Probe, Values)


def oracle(preds, labels) -> float:
    p, y = preds.double().cpu().numpy(), labels.double().cpu().numpy()
    return float(np.sqrt(np.mean((np.log(np.maximum(p, 1.0)) - np.log(y)) ** 2)))


def _variants(preds, labels):
    p, y = preds.detach().double().cpu().numpy(), labels.detach().double().cpu().numpy()
    c = np.maximum(p, 1.0)

    def quietly(make):
        def compute():
            with np.errstate(all="ignore"):
                return float(make())
        return compute

    d = lambda: np.log(c) - np.log(y)
    return [(mistake, quietly(make)) for mistake, make in [
        (NO_CLAMP, lambda: np.sqrt(np.mean((np.log(p) - np.log(y)) ** 2))),
        (NO_CLAMP, lambda: np.sqrt(np.mean((np.log(np.maximum(p, 0.0)) - np.log(y)) ** 2))),
        (CLAMPS_LABELS, lambda: np.sqrt(np.mean((np.log(c) - np.log(np.maximum(y, 1.0))) ** 2))),
        (LOG10, lambda: np.sqrt(np.mean((np.log10(c) - np.log10(y)) ** 2))),
        (LOG1P, lambda: np.sqrt(np.mean((np.log1p(c) - np.log1p(y)) ** 2))),
        (NO_SQRT, lambda: np.mean(d() ** 2)),
        (MEAN_OF_ROOTS, lambda: np.mean(np.abs(d()))),
        (SUMS, lambda: np.sqrt(np.sum(d() ** 2))),
        (BROADCAST, lambda: np.sqrt(np.mean((np.log(c).reshape(1, -1) - np.log(y)) ** 2))),
    ]]


def _float32(preds, labels):
    p32, y32 = preds.float(), labels.float()
    return lambda: torch.sqrt(torch.mean((torch.log(p32.clamp(min=1)) - torch.log(y32)) ** 2)).item()


# Inputs on which each known mistake gives its own value: a mistake is named only when the
# code under test gives that mistake's value on the failing input and on every one of these.
PROBES = [
    (torch.tensor([[0.5], [3.0], [20.0], [1.0]], dtype=torch.float64),
     torch.tensor([[2.0], [0.7], [30.0], [1.5]], dtype=torch.float64)),
    (torch.tensor([[0.0], [8.0], [0.25]], dtype=torch.float64), torch.tensor([[1.2], [2.0], [0.6]], dtype=torch.float64)),
]


def _values(variants) -> Values:
    values: dict[str, list[float]] = {}
    for mistake, make in variants:
        value = outcome(make)
        if not isinstance(value, BaseException):  # an exception is no value the code could have given
            values.setdefault(mistake.id, []).append(value)
    return values


def mistake_values(preds, labels) -> Values:
    """Each known mistake's values on these predictions and labels (the float32 one included)."""
    return _values(_variants(preds, labels) + [(FLOAT32, _float32(preds, labels))])


def probes(dtype: torch.dtype) -> list[Probe]:
    """The probes in ``dtype`` (float64 ones stay float64), with each mistake's values on them."""
    made = []
    for probe_preds, probe_labels in PROBES:
        if dtype != torch.float64:
            probe_preds, probe_labels = probe_preds.to(dtype), probe_labels.to(dtype)
        made.append((probe_preds, probe_labels, _values(_variants(probe_preds, probe_labels))))
    return made

