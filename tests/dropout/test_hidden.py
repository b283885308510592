"""dropout_layer: the thorough checks used for grading.

Statistical checks state their false-failure bound: each allows 6 standard deviations (or
more), so a correct implementation fails one with probability below 1e-8, whatever random
numbers it draws.
"""
import math

import pytest
import torch
from hypothesis import strategies as st

from grader.failures import is_stub
from tests.common.calls import calls
from tests.common.devices import DEVICE, accelerator_mode, on_accelerator
from tests.common.hypo import given
from tests.common.report import check, check_close, check_tensor, fail
from tests.common.strategies import float_dtypes, shapes, tensors
from tests.dropout.hints import (DETACHED, FIXED_COUNT, IN_PLACE, NO_RANGE_CHECK, NO_RESCALE, OFF_DEVICE, SAME_MASK,
                                 SHARED_MASK, ZERO_DIVISION, device_error, dtype_mistake, rescale_mistake)
from tests.dropout.test_public import check_keep_rate, dropout_layer
from tests.common.forbidden import check_no_forbidden_calls

probabilities = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]) | st.floats(0.0, 1.0)
# float16 and bfloat16 hold about 3 and 2 significant digits: X / (1 - dropout) is rounded there.
SURVIVOR_RTOL = {torch.float32: 1e-5, torch.float64: 1e-9, torch.float16: 2e-3, torch.bfloat16: 1e-2}


def check_dropped_or_rescaled(X, Y, dropout) -> None:
    """Y has X's shape, dtype and device, and each element is 0 or X / (1 - dropout)."""
    check_tensor(Y, f"dropout_layer(X, {dropout}) must keep X's shape, dtype and device", shape=X.shape, dtype=X.dtype,
                 device=X.device, mistake=dtype_mistake(X, Y), X=X, got=Y)
    if dropout == 1:
        check_close(Y, torch.zeros_like(X), "dropout_layer(X, 1) must be all zeros", rtol=0, atol=0, X=X,
                    mistake=ZERO_DIVISION if bool(Y.isnan().any()) else None)
        return
    scaled = X.double() / (1 - dropout)
    ok = torch.isclose(Y.double(), scaled, rtol=SURVIVOR_RTOL[X.dtype], atol=1e-6) | (Y == 0)
    check(bool(ok.all()), f"each element of dropout_layer(X, {dropout}) must be 0 or X / (1 - {dropout})",
          mistake=lambda: rescale_mistake(X, Y, dropout), X=X, expected_survivors=scaled.to(X.dtype), got=Y)


@given(X=float_dtypes.flatmap(lambda dtype: tensors(shapes(max_side=3), dtype)), dropout=probabilities)
def test_every_element_is_dropped_or_rescaled(impl, X, dropout):
    """For any shape, dtype and dropout, each output element is 0 or X / (1 - dropout)."""
    check_dropped_or_rescaled(X, dropout_layer(impl, X, dropout), dropout)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_input(impl, device, dtype):
    """float16 and bfloat16 input gives output of that dtype, each element 0 or X / (1 - dropout)."""
    X = (torch.arange(1, 41, device=device) / 8).reshape(5, 8).to(dtype)
    for dropout in (0.0, 0.3, 0.5, 1.0):
        check_dropped_or_rescaled(X, dropout_layer(impl, X, dropout), dropout)


def test_expectation_is_preserved(impl, device):
    """The mean output equals the input's mean: E[dropout(X)] = X (bound: 6 sd)."""
    n = 40_000
    for p in (0.2, 0.5, 0.8):
        Y = dropout_layer(impl, torch.full((n,), 3.0, device=device), p)
        check_tensor(Y, f"dropout_layer(torch.full(({n},), 3.0), {p}) must keep X's shape", shape=(n,), got=Y)
        sd = 3.0 * (p / ((1 - p) * n)) ** 0.5
        mean = float(Y.double().mean())
        check(abs(mean - 3.0) <= 6 * sd,
              f"dropout_layer(torch.full(({n},), 3.0), {p}) has mean {mean!r}; expected 3.0 +- {6 * sd:.4f}",
              mistake=NO_RESCALE if abs(mean - 3.0 * (1 - p)) < 6 * sd else None)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_keep_rate_matches_one_minus_dropout(impl, device, p):
    """Each element is kept with probability 1 - dropout (bound: 6 sd of the binomial count)."""
    check_keep_rate(impl, device, 20_000, p)


@pytest.mark.parametrize("p", [1 / 3, 0.123], ids=["1/3", "0.123"])
def test_keep_rate_for_a_dropout_that_is_not_a_round_number(impl, device, p):
    """For dropout 1/3 and 0.123 too, each element is kept with probability 1 - dropout (6 sd on 2**21 elements: a keep probability off by 0.003 or more fails, such as one rounded to whole percents)."""
    check_keep_rate(impl, device, 2**21, p)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_keep_rate_in_half_precision(impl, device, dtype):
    """For float16 and bfloat16 X too, each element is kept with probability 1 - dropout (6 sd on 2**21 elements)."""
    check_keep_rate(impl, device, 2**21, 0.3, dtype)


def _variance_bounds(n: int, p: float, samples: int, sds: float = 8.0) -> tuple[float, float]:
    """Where the sample variance of ``samples`` Binomial(n, p) counts lies, within ``sds`` of its standard deviation."""
    var = n * p * (1 - p)
    fourth = 3 * var ** 2 + var * (1 - 6 * p * (1 - p))  # the binomial's fourth central moment
    sd = math.sqrt((fourth - var ** 2 * (samples - 3) / (samples - 1)) / samples)
    return var - sds * sd, var + sds * sd


def test_number_dropped_varies_like_a_binomial(impl, device):
    """Drops are independent: over 400 calls on 16 elements, and over the 400 rows of one call, the kept count has the binomial's variance (8 sd)."""
    n, p, samples = 16, 0.5, 400
    low, high = _variance_bounds(n, p, samples)
    results = calls(impl.dropout_layer, samples, torch.ones(n, device=device), p, what=f"dropout_layer(torch.ones({n}), {p})",
                    explain=device_error if device.type != "cpu" else None)
    masks_of_calls = torch.stack([Y != 0 for Y in results])
    Y = dropout_layer(impl, torch.ones(samples, n, device=device), p)
    check_tensor(Y, f"dropout_layer(torch.ones({samples}, {n}), {p}) must keep X's shape", shape=(samples, n), got=Y)
    for masks, what in ((masks_of_calls, f"{samples} calls of dropout_layer(torch.ones({n}), {p})"),
                        (Y != 0, f"the rows of dropout_layer(torch.ones({samples}, {n}), {p})")):
        counts = masks.sum(dim=1).tolist()
        variance = torch.tensor(counts, dtype=torch.float64).var().item()
        repeated = bool((masks == masks[:1]).all())
        check(low <= variance <= high,
              f"the number of kept elements over {what} has variance {variance!r}; independent drops give "
              f"{n * p * (1 - p)!r} (between {low!r} and {high!r})",
              mistake=None if repeated or len(set(counts)) > 1 else FIXED_COUNT, counts=counts[:20])


def test_elements_are_dropped_independently(impl, device):
    """The mask is drawn per element: neighbouring rows and columns agree about half the time at dropout 0.5."""
    Y = dropout_layer(impl, torch.ones(200, 100, device=device), 0.5)
    check_tensor(Y, "dropout_layer(torch.ones(200, 100), 0.5) must keep X's shape", shape=(200, 100), got=Y)
    kept = (Y != 0).float()
    for dim, name in ((0, "rows"), (1, "columns")):
        agree = float((kept.narrow(dim, 0, kept.shape[dim] - 1) == kept.narrow(dim, 1, kept.shape[dim] - 1)).float().mean())
        check(abs(agree - 0.5) <= 0.05,
              f"adjacent {name} of dropout_layer(torch.ones(200, 100), 0.5) share a fraction {agree!r} of their mask; expected 0.5 +- 0.05",
              mistake=SHARED_MASK if agree == 1.0 else None)


def test_each_call_draws_a_new_mask(impl, device):
    """Two calls draw two different masks."""
    X = torch.ones(1000, device=device)
    first, second = dropout_layer(impl, X, 0.5).clone(), dropout_layer(impl, X, 0.5)
    check(not torch.equal(first, second), "two calls of dropout_layer(torch.ones(1000), 0.5) dropped exactly the same elements",
          mistake=SAME_MASK)


@pytest.mark.parametrize("p", [0.5, 1.0])
def test_mask_is_made_on_the_input_device(impl, p):
    """The mask (and the zeros at dropout 1) are made on X's device (checked with a tensor on the 'meta' device, so also on a CPU-only machine)."""
    X = torch.ones(4, 5, device="meta")
    Y = dropout_layer(impl, X, p)
    check_tensor(Y, f"dropout_layer(X, {p}) for X on the 'meta' device must return a tensor of X's shape on that device",
                 shape=X.shape, device=X.device, mistake=OFF_DEVICE if isinstance(Y, torch.Tensor) else None, got=Y)


@pytest.mark.parametrize("p", [0.5, 1.0])
def test_mask_is_made_on_a_gpu_inputs_device(impl, p):
    """For X that behaves as a tensor on a GPU (tests/common/devices.py), the output is on X's device, each element 0 or X / (1 - dropout): a mask made on the CPU cannot be combined with it (a check on the 'meta' device alone can be special-cased)."""
    X = on_accelerator(torch.ones(4, 5))
    with accelerator_mode():
        Y = dropout_layer(impl, X, p)
    check_tensor(Y, f"dropout_layer(X, {p}) for X on a GPU must return a tensor of X's shape on X's device",
                 shape=X.shape, device=DEVICE, got=Y)
    allowed = [0.0] if p == 1 else [0.0, 1 / (1 - p)]
    values = Y.cpu()
    check(bool(torch.isin(values, torch.tensor(allowed, dtype=values.dtype)).all()),
          f"dropout_layer(X, {p}) for X of ones on a GPU must give only {' or '.join(map(str, allowed))}", got=values)


@pytest.mark.parametrize("p", [0.5, 1.0])
def test_input_is_not_modified(impl, device, p):
    """dropout_layer leaves X as it was."""
    X = torch.arange(1, 13, dtype=torch.float32, device=device).reshape(3, 4)
    before = X.clone()
    dropout_layer(impl, X, p, copy=False)
    check(torch.equal(X, before), f"dropout_layer(X, {p}) modified X in place", X_as_passed=before, X_afterwards=X,
          mistake=IN_PLACE)


@pytest.mark.parametrize("p", [0.0, 0.5])
def test_gradient_is_the_scaled_mask(impl, p):
    """Backpropagating through dropout gives mask / (1 - dropout): the gradient of Y.sum() is Y / X (1 at dropout 0)."""
    X = torch.arange(1, 41, dtype=torch.float64).reshape(5, 8).requires_grad_(True)
    Y = dropout_layer(impl, X, p)
    check_tensor(Y, f"dropout_layer(X, {p}) must keep X's shape", shape=X.shape, got=Y)
    check(Y.requires_grad, f"dropout_layer(X, {p}) for X with requires_grad=True must return a result autograd can "
          "differentiate", mistake=DETACHED, got=Y)
    (grad,) = torch.autograd.grad(Y.sum(), X, allow_unused=True)
    grad = torch.zeros_like(X) if grad is None else grad
    check_close(grad, Y.detach() / X.detach(), f"the gradient of dropout_layer(X, {p}).sum() with respect to X must be "
                f"mask / (1 - {p})", rtol=1e-6, atol=0)


@given(dropout=st.floats(-10, -1e-6) | st.floats(1 + 1e-6, 10) | st.just(float("nan")))
def test_rejects_a_dropout_outside_zero_one(impl, dropout):
    """A dropout outside [0, 1] (or NaN) raises ValueError (or AssertionError, as the book's assert does)."""
    try:
        result = impl.dropout_layer(torch.ones(3, 4), dropout)
    except (ValueError, AssertionError):
        return
    except Exception as error:  # noqa: BLE001
        if is_stub(error):
            raise
        fail(f"dropout_layer(X, {dropout}) raised {type(error).__name__} ({error}) instead of ValueError")
    fail(f"dropout_layer(X, {dropout}) returned instead of raising ValueError", got=result, mistake=NO_RANGE_CHECK)


def test_uses_no_forbidden_call(impl, candidate):
    """Uses none of the library calls this exercise must not use (grader/catalog.py), in its source or when it runs."""
    check_no_forbidden_calls(impl, candidate, lambda: impl.dropout_layer(torch.ones(4, 5), 0.5))
