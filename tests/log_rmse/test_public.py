"""log_rmse: the checks every student sees."""
import math

import torch
from torch import nn

from tests.common.calls import call
from tests.common.report import check, fail
from tests.log_rmse.hints import RETURNS_TENSOR, oracle, value_mistake


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


def check_value(impl, got: float, preds, labels, what: str, tolerance: float) -> None:
    """got is the log RMSE of these predictions and labels within ``tolerance`` (relative and absolute)."""
    expected = oracle(preds, labels)

    def rerun(probe_preds, probe_labels):
        try:
            return float(impl.log_rmse(identity, probe_preds.clone(), probe_labels.clone()))
        except Exception as error:  # noqa: BLE001 - an exception is an outcome like any other
            return error

    check(math.isclose(got, expected, rel_tol=tolerance, abs_tol=tolerance),
          f"log_rmse {what} must be {expected!r}, got {got!r}",
          mistake=lambda: value_mistake(got, preds, labels, tolerance, rerun), predictions=preds, labels=labels)


def test_returns_a_python_float(impl, device):
    """log_rmse returns a Python float, not a tensor."""
    preds = torch.tensor([[2.0], [3.0]], device=device)
    log_rmse(impl, identity, preds, torch.tensor([[2.0], [4.0]], device=device))


def test_known_value(impl, device):
    """Predictions [e^2, 1] for labels [1, 1] give sqrt((2^2 + 0^2) / 2) = sqrt(2)."""
    preds, labels = torch.tensor([[math.e ** 2], [1.0]], device=device), torch.ones(2, 1, device=device)
    check_value(impl, log_rmse(impl, identity, preds, labels), preds, labels, "with predictions [[e^2], [1]] and labels "
                "[[1], [1]]", 1e-5)


def test_predictions_below_one_count_as_one(impl, device):
    """Predictions 0, 0.5 and 0.9 are clamped to 1, so with labels 1 the error is 0."""
    preds, labels = torch.tensor([[0.0], [0.5], [0.9]], device=device), torch.ones(3, 1, device=device)
    check_value(impl, log_rmse(impl, identity, preds, labels), preds, labels, "with predictions [[0], [0.5], [0.9]] and "
                "labels of 1 (predictions clamped to 1)", 1e-6)


def test_labels_below_one_are_not_clamped(impl, device):
    """A label of 0.5 is used as it is: prediction 1 against label 0.5 gives log(2)."""
    preds, labels = torch.ones(1, 1, device=device), torch.full((1, 1), 0.5, device=device)
    check_value(impl, log_rmse(impl, identity, preds, labels), preds, labels, "with prediction [[1]] and label [[0.5]]", 1e-5)
