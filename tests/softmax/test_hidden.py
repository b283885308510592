"""softmax: the thorough checks used for grading.

The oracle is torch.softmax computed in float64 on the same logits (never the solution).
"""
import pytest
import torch
from hypothesis import example, settings

from tests.common import autograd
from tests.common.hypo import given
from tests.common.calls import call
from tests.common.report import check, check_close, check_tensor
from tests.common.strategies import float_dtypes, shapes, tensors
from tests.softmax.hints import DETACHED, IN_PLACE, OFF_DEVICE, diagnose_output
from tests.softmax.test_public import softmax
from tests.common.forbidden import check_no_forbidden_calls

TOLERANCE = {torch.float32: dict(rtol=1e-4, atol=1e-6), torch.float64: dict(rtol=1e-9, atol=1e-12),
             # float16 and bfloat16 hold about 3 and 2 significant digits
             torch.float16: dict(rtol=5e-3, atol=1e-4), torch.bfloat16: dict(rtol=2e-2, atol=1e-3)}
# Logits near +-1000 are stored in float32 only to about 6e-5 (half a unit in the last place), so
# exp(X - logsumexp(X)), a correct way, is off by up to about 2e-4 relative there.
LARGE_TOLERANCE = {torch.float32: dict(rtol=5e-4, atol=1e-6), torch.float64: dict(rtol=1e-9, atol=1e-12)}


def _matrices(bound: float):
    return float_dtypes.flatmap(lambda dtype: tensors(shapes(min_dims=2, max_dims=2, max_side=6), dtype,
                                                      min_value=-bound, max_value=bound))


matrices = _matrices(50.0)
ONE_ROW = torch.tensor([[0.5, -2.0, 3.0, 1.0]])
ONE_CLASS = torch.tensor([[0.5], [-2.0], [3.0]], dtype=torch.float64)


def oracle(X: torch.Tensor) -> torch.Tensor:
    return torch.softmax(X.double(), dim=1)


def check_matches(impl, Y, X, summary: str, tolerance: dict) -> None:
    """Y is softmax(X): X's shape, dtype and device, no inf or NaN, torch.softmax's values."""
    explain = lambda: diagnose_output(X, Y, impl.softmax)
    check_tensor(Y, summary, shape=X.shape, dtype=X.dtype, device=X.device, mistake=explain, X=X, got=Y)
    check(bool(torch.isfinite(Y).all()), f"{summary}: it must contain no inf or NaN", X=X, got=Y, mistake=explain)
    check_close(Y, oracle(X), summary, dtype=X.dtype, **tolerance, X=X, mistake=explain)


@settings(max_examples=15)  # cheap properties; test_matches_torch_softmax draws the full 40
@given(X=matrices)
@example(X=ONE_ROW)
@example(X=ONE_CLASS)
def test_shape_and_dtype_for_any_matrix(impl, X):
    """For any (n, q) input in float32 or float64 (n = 1 and q = 1 included), the output has X's shape and dtype."""
    Y = softmax(impl, X)
    check_tensor(Y, "softmax(X) must keep X's shape and dtype", shape=X.shape, dtype=X.dtype,
                 mistake=lambda: diagnose_output(X, Y, impl.softmax), X=X, got=Y)


@settings(max_examples=15)  # cheap properties; test_matches_torch_softmax draws the full 40
@given(X=matrices)
@example(X=ONE_ROW)
@example(X=ONE_CLASS)
def test_rows_are_probability_distributions(impl, X):
    """Each row of the output is non-negative and sums to 1."""
    Y = softmax(impl, X)
    explain = lambda: diagnose_output(X, Y, impl.softmax)
    check_tensor(Y, "softmax(X) must keep X's shape", shape=X.shape, mistake=explain, X=X, got=Y)
    check(bool((Y >= 0).all()), "softmax(X) must have no negative entries", X=X, got=Y, mistake=explain)
    atol = 1e-5 if X.dtype == torch.float32 else 1e-12
    check_close(Y.sum(1), torch.ones(X.shape[0], dtype=torch.float64), "each row of softmax(X) must sum to 1",
                dtype=Y.dtype, rtol=0, atol=atol, X=X, output=Y, mistake=explain)


@given(X=matrices)
@example(X=ONE_ROW)
@example(X=ONE_CLASS)
def test_matches_torch_softmax(impl, X):
    """The output equals torch.softmax(X, dim=1) computed in float64, for logits in [-50, 50]."""
    check_matches(impl, softmax(impl, X), X, "softmax(X) must equal torch.softmax(X, dim=1)", TOLERANCE[X.dtype])


@settings(max_examples=25)
@given(X=_matrices(1000.0))
@example(X=torch.tensor([[1000.0, -1000.0]]))
@example(X=torch.tensor([[-1000.0, 1000.0, 0.0]], dtype=torch.float64))
def test_wide_logits_match_torch_softmax(impl, X):
    """For logits anywhere in [-1000, 1000], far apart within one row too, the output is finite and equals torch.softmax."""
    check_matches(impl, softmax(impl, X), X, "softmax(X) for logits in [-1000, 1000] must equal torch.softmax(X, dim=1)",
                  LARGE_TOLERANCE[X.dtype])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_input(impl, device, dtype):
    """float16 and bfloat16 logits give probabilities of that dtype, equal to torch.softmax within that precision."""
    X = (torch.linspace(-6, 6, 15, dtype=torch.float64).reshape(3, 5)).to(dtype).to(device)
    check_matches(impl, softmax(impl, X), X, f"softmax(X) for {dtype} X must equal torch.softmax(X, dim=1)", TOLERANCE[dtype])


def _large_logits(case: str, dtype: torch.dtype) -> torch.Tensor:
    noise = 3 * torch.randn(4, 6, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    if case == "around_plus_1000":
        X = 1000 + noise
    elif case == "around_minus_1000":
        X = -1000 + noise
    elif case == "rows_of_different_scales":  # rows near 0, near 1000, near -1000, near 500
        X = noise + torch.tensor([[0.0], [1000.0], [-1000.0], [500.0]], dtype=torch.float64)
    else:  # each row spans about -1000 to 1000, its largest logit anywhere in the row
        base = torch.tensor([-1000.0, 1000.0, 0.0, 500.0, -500.0, 990.0], dtype=torch.float64)
        X = noise + torch.stack([base.roll(i) for i in range(4)])
    return X.to(dtype)


@pytest.mark.parametrize("case", ["around_plus_1000", "around_minus_1000", "rows_of_different_scales", "rows_spanning_2000"])
def test_large_logits_are_stable(impl, case):
    """Logits around +-1000, rows of very different scales, or rows spanning -1000 to 1000 give no inf or NaN and match torch.softmax."""
    for dtype in (torch.float32, torch.float64):
        X = _large_logits(case, dtype)
        check_matches(impl, softmax(impl, X), X, f"softmax(X) for {dtype} logits {case.replace('_', ' ')} must equal "
                      "torch.softmax(X, dim=1)", LARGE_TOLERANCE[dtype])


def test_gradient_matches_finite_differences(impl):
    """Autograd's gradient of softmax agrees with finite differences (float64 gradcheck)."""
    X = 3 * torch.randn(3, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    leaf = X.clone().requires_grad_(True)
    Y = softmax(impl, leaf)
    check(isinstance(Y, torch.Tensor) and Y.requires_grad,
          "softmax(X) for X with requires_grad=True must return a result that autograd can differentiate", X=X, got=Y,
          mistake=DETACHED if isinstance(Y, torch.Tensor) else None)
    autograd.gradcheck(impl.softmax, (X.clone().requires_grad_(True),), "softmax(X)")


def test_input_is_not_modified(impl, device):
    """softmax leaves X as it was."""
    X = torch.tensor([[1.0, 2.0, 3.0], [4.0, -1.0, 0.5]], device=device)
    before = X.clone()
    softmax(impl, X)
    check(torch.equal(X, before), "softmax(X) modified X in place", before=before, after=X, mistake=IN_PLACE)


def _device_error(error: BaseException):
    text = str(error)
    return OFF_DEVICE if "meta" in text or "device" in text else None


def test_works_on_the_input_device(impl):
    """The result is computed on X's device (checked with the 'meta' device, so also on a CPU-only machine)."""
    X = torch.empty(3, 4, device="meta")
    Y = call(impl.softmax, X, what="softmax(X) for X on the 'meta' device", explain=_device_error)
    check_tensor(Y, "softmax(X) for X of shape (3, 4) on the 'meta' device must return a tensor of that shape on that device",
                 shape=X.shape, dtype=X.dtype, device=X.device,
                 mistake=OFF_DEVICE if isinstance(Y, torch.Tensor) and Y.device.type != "meta" else None, got=Y)


def test_uses_no_forbidden_call(impl, candidate):
    """Uses none of the library calls this exercise must not use (grader/catalog.py), in its source or when it runs."""
    check_no_forbidden_calls(impl, candidate, lambda: impl.softmax(torch.randn(3, 4)))
