"""dropout_layer: the thorough checks used for grading.

Statistical checks state their false-failure bound: each allows 6 standard deviations (or
more), so a correct implementation fails one with probability below 1e-8, whatever random
numbers it draws.
"""
import pytest
import torch
from hypothesis import given, strategies as st

from tests import adapter
from tests.support.report import check, check_close, fail
from tests.support.strategies import float_dtypes, shapes, tensors

probabilities = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]) | st.floats(0.0, 1.0)
BOOK_DEVICE_HINT = (
    "make the mask on X's device: torch.rand(X.shape, device=X.device). The book's "
    "torch.rand(X.shape) always makes it on the CPU, which fails as soon as X is on a GPU"
)


@given(X=float_dtypes.flatmap(lambda dtype: tensors(shapes(), dtype)), dropout=probabilities)
def test_every_element_is_dropped_or_rescaled(impl, X, dropout):
    """For any shape, dtype and dropout, each output element is 0 or X / (1 - dropout)."""
    Y = impl.dropout_layer(X, dropout)
    check(isinstance(Y, torch.Tensor) and (Y.shape, Y.dtype) == (X.shape, X.dtype),
          f"dropout_layer(X, {dropout}) must return a tensor of X's shape and dtype", X=X, got=Y)
    if dropout == 1:
        check_close(Y, torch.zeros_like(X), "dropout_layer(X, 1) must be all zeros", rtol=0, atol=0, X=X)
        return
    scaled = X / (1 - dropout)
    ok = torch.isclose(Y, scaled, rtol=1e-5, atol=1e-6) | (Y == 0)
    if not bool(ok.all()):
        hint = None
        if bool(torch.isclose(Y[~ok], X[~ok]).all()):
            hint = "the survivors were not rescaled: divide them by (1 - dropout)"
        fail(f"each element of dropout_layer(X, {dropout}) must be 0 or X / (1 - {dropout})",
             hint=hint, X=X, expected_survivors=scaled, got=Y)


def test_expectation_is_preserved(impl, device):
    """The mean output equals the input's mean: E[dropout(X)] = X (bound: 6 sd)."""
    n = 40_000
    for p in (0.2, 0.5, 0.8):
        Y = impl.dropout_layer(torch.full((n,), 3.0, device=device), p)
        sd = 3.0 * (p / ((1 - p) * n)) ** 0.5
        mean = float(Y.double().mean())
        check(abs(mean - 3.0) <= 6 * sd,
              f"dropout_layer(torch.full(({n},), 3.0), {p}) has mean {mean:.4f}; expected 3.0 +- {6 * sd:.4f}",
              hint="the survivors must be divided by (1 - dropout)" if abs(mean - 3.0 * (1 - p)) < 6 * sd else None)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_keep_rate_matches_one_minus_dropout(impl, device, p):
    """Each element is kept with probability 1 - dropout (bound: 6 sd of the binomial count)."""
    n = 20_000
    kept = int((impl.dropout_layer(torch.ones(n, device=device), p) != 0).sum())
    sd = (n * p * (1 - p)) ** 0.5
    check(abs(kept - n * (1 - p)) <= 6 * sd,
          f"dropout_layer(torch.ones({n}), {p}) kept {kept}; expected {n * (1 - p):.0f} +- {6 * sd:.0f}",
          hint="keep where torch.rand(X.shape) > dropout: uniform numbers (torch.rand, not torch.randn), greater than dropout")


def test_elements_are_dropped_independently(impl, device):
    """The mask is drawn per element: neighbouring rows and columns agree about half the time at dropout 0.5."""
    Y = impl.dropout_layer(torch.ones(200, 100, device=device), 0.5)
    kept = (Y != 0).float()
    for dim, name in ((0, "rows"), (1, "columns")):
        agree = float((kept.narrow(dim, 0, kept.shape[dim] - 1) == kept.narrow(dim, 1, kept.shape[dim] - 1)).float().mean())
        check(abs(agree - 0.5) <= 0.05,
              f"adjacent {name} of dropout_layer(torch.ones(200, 100), 0.5) share {agree:.0%} of their mask; expected about 50%",
              hint="draw one random number per element: torch.rand(X.shape), not a mask broadcast along a dimension")


def test_each_call_draws_a_new_mask(impl, device):
    """Two calls draw two different masks."""
    X = torch.ones(1000, device=device)
    first, second = impl.dropout_layer(X, 0.5), impl.dropout_layer(X, 0.5)
    check(not torch.equal(first, second), "two calls of dropout_layer(torch.ones(1000), 0.5) dropped exactly the same elements",
          hint="do not reseed (torch.manual_seed) or cache the mask inside dropout_layer")


def test_mask_is_made_on_the_input_device(impl):
    """The mask is made on X's device (checked with a tensor on the 'meta' device, so also on a CPU-only machine)."""
    X = torch.ones(4, 5, device="meta")
    try:
        Y = impl.dropout_layer(X, 0.5)
    except NotImplementedError:
        raise
    except RuntimeError as error:
        fail(f"dropout_layer(X, 0.5) failed for X on a device other than the CPU: {error}", hint=BOOK_DEVICE_HINT)
    check(isinstance(Y, torch.Tensor) and Y.device == X.device and Y.shape == X.shape,
          "dropout_layer(X, 0.5) for X on the 'meta' device must return a tensor of X's shape on that device",
          hint=BOOK_DEVICE_HINT, got=Y)


@pytest.mark.parametrize("p", [0.5, 1.0])
def test_input_is_not_modified(impl, device, p):
    """dropout_layer leaves X as it was."""
    X = torch.arange(1, 13, dtype=torch.float32, device=device).reshape(3, 4)
    before = X.clone()
    impl.dropout_layer(X, p)
    check(torch.equal(X, before), f"dropout_layer(X, {p}) modified X in place", before=before, after=X,
          hint="use out-of-place operations (mask * X), not X.mul_ or X *= mask")


def test_gradient_is_the_scaled_mask(impl):
    """Backpropagating through dropout gives mask / (1 - dropout): dY/dX equals Y / X."""
    X = torch.arange(1, 41, dtype=torch.float64).reshape(5, 8)
    p = 0.5
    torch.manual_seed(1)
    Y = impl.dropout_layer(X, p)
    torch.manual_seed(1)
    (grad,) = adapter.vjp(lambda x: impl.dropout_layer(x, p), (X,), torch.ones_like(X))
    check_close(grad, Y.detach() / X, "the gradient of dropout_layer(X, 0.5).sum() with respect to X must be mask / (1 - 0.5)",
                rtol=1e-6, atol=0, hint="keep X in the autograd graph: no X.data, .detach() or torch.no_grad() in dropout_layer")


@given(dropout=st.floats(-10, -1e-6) | st.floats(1 + 1e-6, 10) | st.just(float("nan")))
def test_rejects_a_dropout_outside_zero_one(impl, dropout):
    """A dropout outside [0, 1] (or NaN) raises ValueError (or AssertionError, as the book's assert does)."""
    try:
        result = impl.dropout_layer(torch.ones(3, 4), dropout)
    except (ValueError, AssertionError):
        return
    fail(f"dropout_layer(X, {dropout}) returned instead of raising ValueError", got=result,
         hint="check 0 <= dropout <= 1 first and raise ValueError (the book uses assert 0 <= dropout <= 1)")
