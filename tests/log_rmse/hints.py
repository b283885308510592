"""log_rmse: the oracle, and the known mistakes with the value each one computes."""
from __future__ import annotations

import numpy as np
import torch

from grader.failures import Mistake
from tests.common.mistakes import diagnose

NO_CLAMP = Mistake("log_rmse.no_clamp", "clamp the predictions to at least 1 (not 0) before the log: a prediction "
                   "below 1 gives a negative log, 0 gives -inf and a negative one NaN")
CLAMPS_LABELS = Mistake("log_rmse.clamps_labels", "clamp only the predictions, not the labels")
LOG10 = Mistake("log_rmse.log10", "use the natural log (torch.log), not log10")
LOG1P = Mistake("log_rmse.log1p", "use torch.log, not torch.log1p")
NO_SQRT = Mistake("log_rmse.no_sqrt", "take the square root of the mean squared error")
MEAN_OF_ROOTS = Mistake("log_rmse.mean_of_roots",
                        "the square root of the mean of the squares, not the mean of the per-example roots")
SUMS = Mistake("log_rmse.sums", "average the squared differences (mean), do not sum them")
BROADCAST = Mistake("log_rmse.broadcasts_to_n_by_n", (
    "predictions of shape (n,) minus labels of shape (n, 1) broadcast to (n, n): keep both of shape (n, 1)"))
LOG_OF_NEGATIVE = Mistake("log_rmse.log_of_negative", (
    "the result is NaN, the log of a negative prediction: clamp the predictions to at least 1 before taking "
    "the log"))
FLOAT32 = Mistake("log_rmse.float32_arithmetic", (
    "the value was computed in float32 from float64 input: keep the input's dtype (no .float())"))
RETURNS_TENSOR = Mistake("log_rmse.returns_tensor", (
    "return a Python float, rmse.item(): a tensor keeps its device and its autograd graph"))
NUMPY_ON_GPU = Mistake("log_rmse.numpy_without_cpu", (
    "a tensor on a GPU cannot become a numpy array: call .cpu() before .numpy(), or stay with torch operations "
    "and end with .item()"))
CPU_TENSOR = Mistake("log_rmse.cpu_tensor_on_gpu", (
    "a tensor made without device= (torch.ones(shape), torch.tensor(...)) lives on the CPU and cannot be combined "
    "with the predictions on a GPU: use torch.clamp, or make it with device=preds.device"))


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


# Inputs on which each known mistake gives its own value: a mistake is named only when the
# code under test gives that mistake's value on the failing input and on every one of these.
PROBES = [
    (torch.tensor([[0.5], [3.0], [20.0], [1.0]], dtype=torch.float64),
     torch.tensor([[2.0], [0.7], [30.0], [1.5]], dtype=torch.float64)),
    (torch.tensor([[0.0], [8.0], [0.25]], dtype=torch.float64), torch.tensor([[1.2], [2.0], [0.6]], dtype=torch.float64)),
]


def _float32(preds, labels):
    p32, y32 = preds.float(), labels.float()
    return lambda: torch.sqrt(torch.mean((torch.log(p32.clamp(min=1)) - torch.log(y32)) ** 2)).item()


def value_mistake(got: float, preds, labels, tolerance: float, rerun) -> Mistake | None:
    """The mistake that gives ``got`` on these predictions and labels and, through ``rerun(preds,
    labels)`` (the code under test again), what the code gives on the probes; None unless exactly one does."""
    if got != got and bool((preds < 0).any()):
        return LOG_OF_NEGATIVE
    mistake = diagnose(got, _variants(preds, labels) + [(FLOAT32, _float32(preds, labels))], rtol=tolerance,
                       atol=tolerance, expected=oracle(preds, labels))
    if mistake is None or mistake is FLOAT32:
        return mistake
    for probe_preds, probe_labels in PROBES:
        if preds.dtype != torch.float64:
            probe_preds, probe_labels = probe_preds.to(preds.dtype), probe_labels.to(preds.dtype)
        variants = [(m, make) for m, make in _variants(probe_preds, probe_labels) if m is mistake]
        if diagnose(rerun(probe_preds, probe_labels), variants, rtol=1e-5, atol=1e-7) is None:
            return None
    return mistake


def device_error(error: BaseException) -> Mistake | None:
    """Which GPU rule an exception raised on GPU-like tensors reports."""
    text = str(error)
    if "numpy" in text and "cpu()" in text:
        return NUMPY_ON_GPU
    return CPU_TENSOR if "same device" in text else None
