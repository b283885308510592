"""softmax: the checks every student sees."""
import torch

from tests.support.report import check, check_close, fail
from tests.support.softmax_hints import DTYPE_HINT, diagnose, error_hint, overflow_hint


def test_keeps_shape_dtype_and_device(impl, device):
    """The output has the input's shape, dtype and device."""
    for dtype in (torch.float32, torch.float64):
        X = torch.arange(10, dtype=dtype, device=device).reshape(2, 5) / 4
        try:
            Y = impl.softmax(X)
        except NotImplementedError:
            raise
        except RuntimeError as error:
            fail(f"softmax(X) failed for X of shape (2, 5): {error}", hint=error_hint(error))
        check(isinstance(Y, torch.Tensor), "softmax must return a tensor", got=Y)
        check((Y.shape, Y.dtype, Y.device.type) == (X.shape, X.dtype, X.device.type),
              f"softmax(X) must keep shape {tuple(X.shape)}, dtype {X.dtype} and device {X.device}", X=X, got=Y,
              hint=DTYPE_HINT if Y.dtype != X.dtype else diagnose(X, Y))


def test_each_row_sums_to_one(impl):
    """Every entry is non-negative and every row sums to 1."""
    X = torch.tensor([[0.1, -1.2, 2.0, 0.5, 0.0], [1.5, 0.3, -0.7, 0.2, 1.1]])
    Y = impl.softmax(X)
    check(bool((Y >= 0).all()), "softmax(X) must have no negative entries", X=X, got=Y, hint=diagnose(X, Y))
    check_close(Y.sum(1), torch.ones(2), "each row of softmax(X) must sum to 1", rtol=0, atol=1e-6, X=X, output=Y,
                hint=diagnose(X, Y))


def test_known_values(impl):
    """softmax([[1, 2, 3], [0, 0, 0]]) is [[0.0900, 0.2447, 0.6652], [1/3, 1/3, 1/3]]."""
    X = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    expected = torch.tensor([[0.09003057, 0.24472847, 0.66524096], [1 / 3, 1 / 3, 1 / 3]])
    Y = impl.softmax(X)
    check_close(Y, expected, "softmax(X) must be exp(X) divided by each row's sum of exp(X)",
                rtol=1e-5, atol=1e-7, X=X, hint=diagnose(X, Y))


def test_large_logits_do_not_overflow(impl):
    """Logits around 1000 give finite probabilities, not inf or NaN."""
    X = torch.tensor([[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -1002.0]])
    Y = impl.softmax(X)
    if not bool(torch.isfinite(Y).all()):
        fail("softmax(X) for logits around +-1000 must contain no inf or NaN", X=X, got=Y,
             hint=overflow_hint(impl.softmax, X))
    expected = torch.tensor([[0.09003057, 0.24472847, 0.66524096], [0.66524096, 0.24472847, 0.09003057]])
    # rtol 5e-4: float32 holds numbers near 1000 only to about 6e-5.
    check_close(Y, expected, "softmax(X) for logits around +-1000 must equal softmax(X - each row's max)",
                rtol=5e-4, atol=1e-7, X=X, hint=diagnose(X, Y))
