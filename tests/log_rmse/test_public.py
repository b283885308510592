"""log_rmse: the checks every student sees.

Their expected values, and the value each known mistake gives on the same inputs, come from
tests/log_rmse/expected.py (stored values; no log RMSE is computed here)."""
import math

import torch
from torch import nn

from tests.common.calls import call
from tests.common.report import check, fail
from tests.log_rmse import expected
from tests.log_rmse.hints import RETURNS_TENSOR, named_mistake


# The net whose predictions are the features themselves: a torch.nn layer, which crosses to
# the worker as data (a plain function would not).
identity = nn.Identity()


def log_rmse(impl, net, features, labels, explain=None) -> float:
    """impl.log_rmse(...) as a Python float; an exception, or another type, fails the check."""
    result = call(impl.log_rmse, net, features, labels, what=f"log_rmse on {features.shape[0]} examples", explain=explain)
    if not isinstance(result, float):
        fail(f"log_rmse must return a Python float, got {type(result).__name__}", got=result,
             mistake=RETURNS_TENSOR if isinstance(result, torch.Tensor) else None)
    return result


def judge(impl, got: float, preds, labels, want: float, mistakes, what: str, tolerance: float) -> None:
    """got is ``want``, the log RMSE of these predictions and labels, within ``tolerance`` (relative
    and absolute). When it is not, ``mistakes()`` gives each known mistake's values on this input
    and the probes with each one's values there, and the hint names the mistake whose values are
    what the code gave, if exactly one's are (tests/log_rmse/hints.py)."""

    def rerun(probe_preds, probe_labels):
        try:
            return float(impl.log_rmse(identity, probe_preds.clone(), probe_labels.clone()))
        except Exception as error:  # noqa: BLE001 - an exception is an outcome like any other
            return error

    check(math.isclose(got, want, rel_tol=tolerance, abs_tol=tolerance),
          f"log_rmse {what} must be {want!r}, got {got!r}",
          mistake=lambda: named_mistake(got, preds, want, *mistakes(), tolerance, rerun),
          predictions=preds, labels=labels)


def check_case(impl, device, name: str, what: str, tolerance: float) -> None:
    """log_rmse on the fixed case ``name`` of tests/log_rmse/expected.py gives its stored value."""
    preds, labels = expected.inputs(name, device)
    want, values = expected.case(name)
    judge(impl, log_rmse(impl, identity, preds, labels), preds, labels, want, lambda: (values, expected.probes()),
          what, tolerance)


def test_returns_a_python_float(impl, device):
    """log_rmse returns a Python float, not a tensor."""
    preds = torch.tensor([[2.0], [3.0]], device=device)
    log_rmse(impl, identity, preds, torch.tensor([[2.0], [4.0]], device=device))


def test_known_value(impl, device):
    """Predictions [e^2, 1] for labels [1, 1] give sqrt((2^2 + 0^2) / 2) = sqrt(2)."""
    check_case(impl, device, "known_value", "with predictions [[e^2], [1]] and labels [[1], [1]]", 1e-5)


def test_predictions_below_one_count_as_one(impl, device):
    """Predictions 0, 0.5 and 0.9 are clamped to 1, so with labels 1 the error is 0."""
    check_case(impl, device, "predictions_below_one", "with predictions [[0], [0.5], [0.9]] and labels of 1 "
               "(predictions clamped to 1)", 1e-6)


def test_labels_below_one_are_not_clamped(impl, device):
    """A label of 0.5 is used as it is: prediction 1 against label 0.5 gives log(2)."""
    check_case(impl, device, "labels_below_one", "with prediction [[1]] and label [[0.5]]", 1e-5)
