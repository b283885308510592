"""log_rmse: the checks every student sees."""
import math

import torch

from tests.support.report import check


def _identity(X):
    return X


def test_returns_a_python_float(impl, device):
    """log_rmse returns a Python float, not a tensor."""
    preds = torch.tensor([[2.0], [3.0]], device=device)
    result = impl.log_rmse(_identity, preds, torch.tensor([[2.0], [4.0]], device=device))
    check(isinstance(result, float), f"log_rmse must return a Python float, got {type(result).__name__}", got=result,
          hint="end with rmse.item()")


def test_known_value(impl, device):
    """Predictions [e^2, 1] for labels [1, 1] give sqrt((2^2 + 0^2) / 2) = sqrt(2)."""
    preds = torch.tensor([[math.e ** 2], [1.0]], device=device)
    result = float(impl.log_rmse(_identity, preds, torch.ones(2, 1, device=device)))
    check(math.isclose(result, math.sqrt(2), rel_tol=1e-5),
          f"log_rmse with predictions [[e^2], [1]] and labels [[1], [1]] must be sqrt(2) = 1.41421; got {result!r}",
          hint="natural log (torch.log), then the square root of the MEAN of the squared differences")


def test_predictions_below_one_count_as_one(impl, device):
    """Predictions -5, 0 and 0.5 are clamped to 1, so with labels 1 the error is 0."""
    preds = torch.tensor([[-5.0], [0.0], [0.5]], device=device)
    result = float(impl.log_rmse(_identity, preds, torch.ones(3, 1, device=device)))
    check(math.isclose(result, 0.0, abs_tol=1e-6),
          f"log_rmse with predictions [[-5], [0], [0.5]] and labels of 1 must be 0 (predictions clamped to 1); got {result!r}",
          hint="clamp the predictions to at least 1 before the log: torch.clamp(net(features), 1, float('inf'))")


def test_labels_below_one_are_not_clamped(impl, device):
    """A label of 0.5 is used as it is: prediction 1 against label 0.5 gives log(2)."""
    result = float(impl.log_rmse(_identity, torch.ones(1, 1, device=device), torch.full((1, 1), 0.5, device=device)))
    check(math.isclose(result, math.log(2), rel_tol=1e-5),
          f"log_rmse with prediction [[1]] and label [[0.5]] must be log(2) = 0.693147; got {result!r}",
          hint="clamp only the predictions, never the labels")
