"""log_rmse: the known mistakes, and the rule that names one from the values it gives.

No log RMSE is computed here: the values each mistake gives come from the caller, computed by
the oracle (tests/log_rmse/oracle.py) for the hidden checks, and read from the stored values
(tests/log_rmse/expected.py) for the public ones. The oracle and the mistaken variants are
working code, so a student's release does not hold them.
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

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

# The mistakes named from a value: their ids are the keys of the values the callers give.
BY_VALUE = {mistake.id: mistake for mistake in (NO_CLAMP, CLAMPS_LABELS, LOG10, LOG1P, NO_SQRT, MEAN_OF_ROOTS, SUMS,
                                                BROADCAST, FLOAT32)}
Values = Mapping[str, Sequence[float]]  # mistake id -> the value of each of its variants on one input
Probe = tuple[object, object, Values]  # predictions, labels (tensors), and the values on them


def named_mistake(got: float, preds, expected: float, values: Values, probes: Sequence[Probe], tolerance: float,
                  rerun: Callable) -> Mistake | None:
    """The mistake that gives ``got`` on the failing input (``values``: each mistake's values
    there; ``expected``: the right one) and, through ``rerun(preds, labels)`` (the code under
    test again), what the code gives on each probe; None unless exactly one does.

    A mistake is named only when one of its values equals what the code gave on the same input;
    a value that equals the right answer explains nothing. The float32 mistake is named on the
    failing input alone (its value is close to the right one on every input)."""
    if got != got and bool((preds < 0).any()):
        return LOG_OF_NEGATIVE
    mistake = diagnose(got, _constants(values), rtol=tolerance, atol=tolerance, expected=expected)
    if mistake is None or mistake is FLOAT32:
        return mistake
    for probe_preds, probe_labels, probe_values in probes:
        variants = [(m, make) for m, make in _constants(probe_values) if m is mistake]
        if diagnose(rerun(probe_preds, probe_labels), variants, rtol=1e-5, atol=1e-7) is None:
            return None
    return mistake


def _constants(values: Values) -> list[tuple[Mistake, Callable[[], float]]]:
    return [(BY_VALUE[mistake_id], lambda value=value: value) for mistake_id, each in values.items() for value in each]


def device_error(error: BaseException) -> Mistake | None:
    """Which GPU rule an exception raised on GPU-like tensors reports."""
    text = str(error)
    if "numpy" in text and "cpu()" in text:
        return NUMPY_ON_GPU
    return CPU_TENSOR if "same device" in text else None
