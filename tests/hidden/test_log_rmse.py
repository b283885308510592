"""log_rmse: the thorough checks used for grading.

Values are compared with a numpy float64 oracle:
``sqrt(mean((log(max(pred, 1)) - log(label)) ** 2))``.
"""
import math

import numpy as np
import torch
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp
from torch import nn

from tests.support.report import check, fail
from tests.support.strategies import float_dtypes

_NUMPY = {torch.float32: np.float32, torch.float64: np.float64}
# Predictions of a bad model too: negative, zero and between 0 and 1.
PREDICTIONS = st.sampled_from([-3.0, 0.0, 0.5, 1.0]) | st.floats(-100.0, 1e6, width=32)
LABELS = st.floats(0.5, 1e6, width=32)


@st.composite
def predictions_and_labels(draw):
    """float32 or float64 predictions and positive labels, both of shape (n, 1), n >= 1."""
    dtype = draw(float_dtypes)
    n = draw(st.integers(1, 6))
    preds = draw(hnp.arrays(_NUMPY[dtype], (n, 1), elements=PREDICTIONS))
    labels = draw(hnp.arrays(_NUMPY[dtype], (n, 1), elements=LABELS))
    return torch.from_numpy(preds), torch.from_numpy(labels)


def oracle(preds, labels) -> float:
    p, y = preds.double().cpu().numpy(), labels.double().cpu().numpy()
    return float(np.sqrt(np.mean((np.log(np.maximum(p, 1.0)) - np.log(y)) ** 2)))


def _wrong_values(preds, labels):
    """What the usual mistakes compute, with the mistake each one makes."""
    p, y = preds.double().cpu().numpy(), labels.double().cpu().numpy()
    c = np.maximum(p, 1.0)
    with np.errstate(all="ignore"):
        d = np.log(c) - np.log(y)
        yield np.sqrt(np.mean((np.log(p) - np.log(y)) ** 2)), "clamp the predictions to at least 1 before the log"
        yield np.sqrt(np.mean((np.log(np.maximum(p, 0.0)) - np.log(y)) ** 2)), "clamp to 1, not 0: log(0) is -inf"
        yield np.sqrt(np.mean((np.log(c) - np.log(np.maximum(y, 1.0))) ** 2)), "clamp only the predictions, not the labels"
        yield np.sqrt(np.mean((np.log10(c) - np.log10(y)) ** 2)), "use the natural log (torch.log), not log10"
        yield np.sqrt(np.mean((np.log1p(c) - np.log1p(y)) ** 2)), "use torch.log, not torch.log1p"
        yield np.mean(d ** 2), "take the square root of the mean squared error"
        yield np.mean(np.abs(d)), "square root of the mean of the squares, not the mean of the per-example roots"
        yield np.sqrt(np.sum(d ** 2)), "average the squared differences (mean), do not sum them"
        yield np.sqrt(np.mean((np.log(c).reshape(1, -1) - np.log(y)) ** 2)), (
            "predictions of shape (n,) minus labels of shape (n, 1) broadcast to (n, n): keep both (n, 1)")
        yield np.sqrt(np.mean((np.maximum(np.log(p), 0.0) - np.log(y)) ** 2)), (
            "clamp the predictions before the log: the log of a negative prediction is NaN")


def _hint(got, preds, labels):
    if math.isnan(got):
        return "a NaN: clamp the predictions to at least 1 before the log, so that no log of a negative number is taken"
    for value, hint in _wrong_values(preds, labels):
        if math.isfinite(value) and math.isclose(got, float(value), rel_tol=1e-5, abs_tol=1e-6):
            return hint
    if math.isinf(got):
        return "an infinity: clamp the predictions to at least 1 (not 0) before the log"
    return None


def _call(impl, net, features, labels):
    result = impl.log_rmse(net, features, labels)
    try:
        return float(result)
    except (TypeError, ValueError) as error:
        fail(f"log_rmse must return a Python float, got {type(result).__name__} ({error})", got=result,
             hint="return rmse.item()")


def _check_value(got, expected, what, preds, labels, tolerance):
    close = math.isclose(got, expected, rel_tol=tolerance, abs_tol=tolerance)
    check(close, f"log_rmse {what} must be {expected!r}, got {got!r}",
          hint=_hint(got, preds, labels), predictions=preds, labels=labels)


@given(data=predictions_and_labels())
def test_value_matches_the_log_rmse(impl, device, data):
    """For any predictions (negative, zero and below 1 included) and positive labels, the value is the log RMSE."""
    preds, labels = data
    got = _call(impl, lambda X: X, preds.to(device), labels.to(device))
    tolerance = 1e-5 if preds.dtype == torch.float32 else 1e-9
    _check_value(got, oracle(preds, labels), f"for {tuple(preds.shape)} {preds.dtype} predictions", preds, labels, tolerance)


def test_returns_a_python_float(impl, device):
    """The result is a Python float (a numpy float64, which is one, passes; a tensor does not)."""
    preds = torch.tensor([[2.0], [3.0], [0.5]], device=device, requires_grad=True)
    result = impl.log_rmse(lambda X: X * 1, preds, torch.tensor([[2.0], [4.0], [1.0]], device=device))
    check(isinstance(result, float), f"log_rmse must return a Python float, got {type(result).__name__}", got=result,
          hint="end with rmse.item(): a tensor keeps the device and the autograd graph")


def test_predictions_below_one_count_as_one(impl, device):
    """Predictions below 1 (negative and zero included) count as 1; labels are logged as they are."""
    preds = torch.tensor([[-1e6], [-2.0], [0.0], [1e-3], [0.99], [1.0]], dtype=torch.float64, device=device)
    labels = torch.tensor([[3.0], [0.5], [10.0], [1.0], [2.0], [0.75]], dtype=torch.float64, device=device)
    got = _call(impl, lambda X: X, preds, labels)
    _check_value(got, oracle(preds, labels), "with predictions below 1", preds.cpu(), labels.cpu(), 1e-9)


def test_labels_below_one_are_not_clamped(impl, device):
    """Labels between 0.5 and 1 are used as they are (only the predictions are clamped)."""
    preds = torch.tensor([[1.0], [2.0], [5.0]], device=device)
    labels = torch.tensor([[0.5], [0.6], [0.9]], device=device)
    got = _call(impl, lambda X: X, preds, labels)
    _check_value(got, oracle(preds, labels), "with labels below 1", preds.cpu(), labels.cpu(), 1e-5)


def test_works_with_an_nn_module(impl, device):
    """With an nn.Linear as net: the right float, and no gradients left on the net's parameters."""
    net = nn.Linear(3, 1).to(device)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[100.0, -50.0, 1.0]]))
        net.bias.fill_(20.0)
    features = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [2.0, 1.0, 3.0]], device=device)
    labels = torch.tensor([[150.0], [1.0], [0.7], [200.0]], device=device)
    result = impl.log_rmse(net, features, labels)
    check(isinstance(result, float), f"log_rmse(net, features, labels) must return a Python float, got {type(result).__name__}",
          got=result, hint="end with rmse.item()")
    with torch.no_grad():
        preds = net(features)
    _check_value(result, oracle(preds, labels), "for nn.Linear predictions [[120], [-30], [21], [173]]",
                 preds.cpu(), labels.cpu(), 1e-5)
    check(all(p.grad is None for p in net.parameters()), "log_rmse must not leave gradients on the net's parameters",
          hint="do not call backward() in log_rmse")
