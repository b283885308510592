"""log_rmse: the thorough checks used for grading.

Values are compared with a numpy float64 oracle:
``sqrt(mean((log(max(pred, 1)) - log(label)) ** 2))``.
"""
import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch import nn

from tests.common.devices import accelerator_mode, on_accelerator
from tests.common.hypo import given
from tests.common.report import check
from tests.common.strategies import float_dtypes
from tests.log_rmse import oracle
from tests.log_rmse.hints import device_error
from tests.log_rmse.test_public import identity, judge, log_rmse
from tests.common.forbidden import check_no_forbidden_calls

_NUMPY = {torch.float32: np.float32, torch.float64: np.float64}
# Predictions of a bad model too: negative, zero and between 0 and 1.
PREDICTIONS = st.sampled_from([-3.0, 0.0, 0.5, 1.0]) | st.floats(-100.0, 1e6, width=32)
LABELS = st.floats(0.5, 1e6, width=32)


def check_value(impl, got: float, preds, labels, what: str, tolerance: float) -> None:
    """got is the oracle's log RMSE of these predictions and labels within ``tolerance`` (relative and absolute)."""
    judge(impl, got, preds, labels, oracle.oracle(preds, labels),
          lambda: (oracle.mistake_values(preds, labels), oracle.probes(preds.dtype)), what, tolerance)


@st.composite
def predictions_and_labels(draw):
    """float32 or float64 predictions and positive labels, both of shape (n, 1), n >= 1."""
    dtype = draw(float_dtypes)
    n = draw(st.integers(1, 6))
    preds = draw(hnp.arrays(_NUMPY[dtype], (n, 1), elements=PREDICTIONS))
    labels = draw(hnp.arrays(_NUMPY[dtype], (n, 1), elements=LABELS))
    return torch.from_numpy(preds), torch.from_numpy(labels)


@given(data=predictions_and_labels())
def test_value_matches_the_log_rmse(impl, device, data):
    """For any predictions (negative, zero and below 1 included) and positive labels, the value is the log RMSE."""
    preds, labels = data
    got = log_rmse(impl, identity, preds.to(device), labels.to(device))
    tolerance = 1e-5 if preds.dtype == torch.float32 else 1e-9
    check_value(impl, got, preds, labels, f"for {tuple(preds.shape)} {preds.dtype} predictions", tolerance)


def test_returns_a_python_float_for_predictions_with_a_graph(impl, device):
    """For predictions that require grad the result is still a Python float (a numpy float64 passes; a tensor does not)."""
    preds = torch.tensor([[2.0], [3.0], [0.5]], device=device, requires_grad=True)
    net = nn.Linear(1, 1).to(device)  # the predictions leave it with a graph behind them
    with torch.no_grad():
        net.weight.fill_(1.0)
        net.bias.zero_()
    log_rmse(impl, net, preds, torch.tensor([[2.0], [4.0], [1.0]], device=device))


def test_predictions_below_one_count_as_one(impl, device):
    """Predictions below 1 (negative and zero included) count as 1; labels are logged as they are."""
    preds = torch.tensor([[-1e6], [-2.0], [0.0], [1e-3], [0.99], [1.0]], dtype=torch.float64, device=device)
    labels = torch.tensor([[3.0], [0.5], [10.0], [1.0], [2.0], [0.75]], dtype=torch.float64, device=device)
    check_value(impl, log_rmse(impl, identity, preds, labels), preds, labels, "with predictions below 1", 1e-9)


def test_labels_below_one_are_not_clamped(impl, device):
    """Labels between 0.5 and 1 are used as they are (only the predictions are clamped)."""
    preds = torch.tensor([[1.0], [2.0], [5.0]], device=device)
    labels = torch.tensor([[0.5], [0.6], [0.9]], device=device)
    check_value(impl, log_rmse(impl, identity, preds, labels), preds, labels, "with labels below 1", 1e-5)


def test_works_with_an_nn_module(impl, device):
    """With an nn.Linear as net: the right float, and no gradients left on the net's parameters."""
    net = nn.Linear(3, 1).to(device)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[100.0, -50.0, 1.0]]))
        net.bias.fill_(20.0)
    features = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [2.0, 1.0, 3.0]], device=device)
    labels = torch.tensor([[150.0], [1.0], [0.7], [200.0]], device=device)
    result = log_rmse(impl, net, features, labels)
    with torch.no_grad():
        preds = net(features)
    check_value(impl, result, preds, labels, "for nn.Linear predictions [[120], [-30], [21], [173]]", 1e-5)
    check(all(p.grad is None for p in net.parameters()), "log_rmse must not leave gradients on the net's parameters")


def test_works_on_a_gpu(impl):
    """With predictions and labels on a GPU (tensors that behave as CUDA tensors do, on any machine) the value is right."""
    preds = torch.tensor([[2.0], [0.5], [-3.0], [40.0]])
    labels = torch.tensor([[2.0], [1.0], [0.8], [35.0]])
    with accelerator_mode():
        got = log_rmse(impl, identity, on_accelerator(preds), on_accelerator(labels), explain=device_error)
    check_value(impl, got, preds, labels, "for predictions and labels on a GPU", 1e-5)


def test_uses_no_forbidden_call(impl, candidate):
    """Uses none of the library calls this exercise must not use (grader/catalog.py), in its source or when it runs."""
    check_no_forbidden_calls(impl, candidate, lambda: impl.log_rmse(nn.Identity(), torch.tensor([[2.0], [3.0]]), torch.tensor([[2.0], [4.0]])))
