"""softmax: the thorough checks used for grading.

The oracle is torch.softmax computed in float64 on the same logits (never the solution).
"""
import pytest
import torch
from hypothesis import example, given, settings, strategies as st

from tests import adapter
from tests.support.report import check, check_close, fail
from tests.support.softmax_hints import DEVICE_HINT, INPLACE_HINT, diagnose, error_hint, overflow_hint
from tests.support.strategies import float_dtypes, shapes, tensors

TOLERANCE = {torch.float32: dict(rtol=1e-4, atol=1e-6), torch.float64: dict(rtol=1e-9, atol=1e-12)}
# Logits near +-1000 are stored in float32 only to about 6e-5 (half a unit in the last place), so
# exp(X - logsumexp(X)), a correct way, is off by up to about 2e-4 relative there.
LARGE_TOLERANCE = {torch.float32: dict(rtol=5e-4, atol=1e-6), torch.float64: dict(rtol=1e-9, atol=1e-12)}

matrices = st.tuples(float_dtypes, shapes(min_dims=2, max_dims=2, max_side=6)).flatmap(
    lambda ds: tensors(ds[1], ds[0], min_value=-50.0, max_value=50.0))
ONE_ROW = torch.tensor([[0.5, -2.0, 3.0, 1.0]])
ONE_CLASS = torch.tensor([[0.5], [-2.0], [3.0]], dtype=torch.float64)


def oracle(X: torch.Tensor) -> torch.Tensor:
    return torch.softmax(X.double(), dim=1)


def call(impl, X: torch.Tensor):
    """impl.softmax(X), with a shape error explained in plain words."""
    try:
        return impl.softmax(X)
    except NotImplementedError:
        raise
    except RuntimeError as error:
        fail(f"softmax(X) failed for X of shape {tuple(X.shape)}: {error}", hint=error_hint(error), X=X)


@settings(max_examples=15)  # cheap properties; test_matches_torch_softmax draws the full 40
@given(X=matrices)
@example(X=ONE_ROW)
@example(X=ONE_CLASS)
def test_shape_and_dtype_for_any_matrix(impl, X):
    """For any (n, q) input in float32 or float64 (n = 1 and q = 1 included), the output has X's shape and dtype."""
    Y = call(impl, X)
    check(isinstance(Y, torch.Tensor) and (Y.shape, Y.dtype) == (X.shape, X.dtype),
          f"softmax(X) must return a tensor of shape {tuple(X.shape)} and dtype {X.dtype}", X=X, got=Y,
          hint=diagnose(X, Y))


@settings(max_examples=15)  # cheap properties; test_matches_torch_softmax draws the full 40
@given(X=matrices)
@example(X=ONE_ROW)
@example(X=ONE_CLASS)
def test_rows_are_probability_distributions(impl, X):
    """Each row of the output is non-negative and sums to 1."""
    Y = call(impl, X)
    check(isinstance(Y, torch.Tensor) and Y.shape == X.shape, f"softmax(X) must return a tensor of shape {tuple(X.shape)}",
          X=X, got=Y, hint=diagnose(X, Y))
    check(bool((Y >= 0).all()), "softmax(X) must have no negative entries", X=X, got=Y, hint=diagnose(X, Y))
    atol = 1e-5 if X.dtype == torch.float32 else 1e-12
    check_close(Y.sum(1), torch.ones(X.shape[0], dtype=Y.dtype), "each row of softmax(X) must sum to 1",
                rtol=0, atol=atol, X=X, output=Y, hint=diagnose(X, Y))


@given(X=matrices)
@example(X=ONE_ROW)
@example(X=ONE_CLASS)
def test_matches_torch_softmax(impl, X):
    """The output equals torch.softmax(X, dim=1) computed in float64, for logits in [-50, 50]."""
    Y = call(impl, X)
    check_close(Y, oracle(X).to(X.dtype), "softmax(X) must equal torch.softmax(X, dim=1)", **TOLERANCE[X.dtype],
                X=X, hint=diagnose(X, Y))


def _large_logits(case: str, dtype: torch.dtype) -> torch.Tensor:
    noise = 3 * torch.randn(4, 6, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    if case == "around_plus_1000":
        X = 1000 + noise
    elif case == "around_minus_1000":
        X = -1000 + noise
    else:  # rows of very different scales: near 0, near 1000, near -1000, near 500
        X = noise + torch.tensor([[0.0], [1000.0], [-1000.0], [500.0]], dtype=torch.float64)
    return X.to(dtype)


@pytest.mark.parametrize("case", ["around_plus_1000", "around_minus_1000", "rows_of_different_scales"])
def test_large_logits_are_stable(impl, case):
    """Logits around +-1000, or rows of very different scales, give no inf or NaN and match torch.softmax."""
    for dtype in (torch.float32, torch.float64):
        X = _large_logits(case, dtype)
        Y = call(impl, X)
        check(isinstance(Y, torch.Tensor) and Y.shape == X.shape, f"softmax(X) must return a tensor of shape {tuple(X.shape)}",
              X=X, got=Y, hint=diagnose(X, Y))
        if not bool(torch.isfinite(Y).all()):
            fail(f"softmax(X) for {dtype} logits {case.replace('_', ' ')} must contain no inf or NaN",
                 hint=overflow_hint(impl.softmax, X), X=X, got=Y)
        check_close(Y, oracle(X).to(dtype), f"softmax(X) for {dtype} logits {case.replace('_', ' ')} must equal torch.softmax(X, dim=1)",
                    **LARGE_TOLERANCE[dtype], X=X, hint=diagnose(X, Y))


def test_gradient_matches_finite_differences(impl):
    """Autograd's gradient of softmax agrees with finite differences (float64 gradcheck)."""
    X = 3 * torch.randn(3, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    leaf = X.clone().requires_grad_(True)
    try:
        Y = impl.softmax(leaf)
    except NotImplementedError:
        raise
    except RuntimeError as error:
        fail(f"softmax(X) failed for X with requires_grad=True: {error}", hint=error_hint(error, INPLACE_HINT))
    check(isinstance(Y, torch.Tensor) and Y.requires_grad,
          "softmax(X) for X with requires_grad=True must return a result that autograd can differentiate", X=X, got=Y,
          hint="keep X in the autograd graph: no X.data, .detach(), .numpy() or torch.no_grad() on the values you return")
    adapter.gradcheck(impl.softmax, (X.clone().requires_grad_(True),))


def test_input_is_not_modified(impl, device):
    """softmax leaves X as it was."""
    X = torch.tensor([[1.0, 2.0, 3.0], [4.0, -1.0, 0.5]], device=device)
    before = X.clone()
    call(impl, X)
    check(torch.equal(X, before), "softmax(X) modified X in place", before=before, after=X, hint=INPLACE_HINT)


def test_works_on_the_input_device(impl):
    """The result is computed on X's device (checked with the 'meta' device, so also on a CPU-only machine)."""
    X = torch.empty(3, 4, device="meta")
    try:
        Y = impl.softmax(X)
    except NotImplementedError as error:
        if "meta" not in str(error):
            raise
        fail(f"softmax(X) failed for X on a device other than the CPU: {error}", hint=DEVICE_HINT)
    except RuntimeError as error:
        fail(f"softmax(X) failed for X on the 'meta' device: {error}", hint=error_hint(error, DEVICE_HINT))
    check(isinstance(Y, torch.Tensor) and (Y.device, Y.shape, Y.dtype) == (X.device, X.shape, X.dtype),
          "softmax(X) for X of shape (3, 4) on the 'meta' device must return a tensor of that shape on that device",
          hint=DEVICE_HINT, got=Y)
