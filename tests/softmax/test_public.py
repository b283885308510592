"""softmax: the checks every student sees."""
import torch

from tests.common.calls import call
from tests.common.report import check, check_close, check_tensor
from tests.softmax.hints import diagnose_error, diagnose_output


def softmax(impl, X):
    """impl.softmax(X); an exception fails the check, naming the mistake that raises it."""
    return call(impl.softmax, X, what=f"softmax(X) for X of shape {tuple(X.shape)}",
                explain=lambda error: diagnose_error(X, error))


def test_keeps_shape_dtype_and_device(impl, device):
    """The output has the input's shape, dtype and device (float32, float64, float16 and bfloat16)."""
    for dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
        X = torch.arange(10, dtype=dtype, device=device).reshape(2, 5) / 4
        Y = softmax(impl, X)
        check_tensor(Y, "softmax(X) must keep X's shape, dtype and device", shape=X.shape, dtype=dtype, device=device,
                     mistake=lambda: diagnose_output(X, Y, impl.softmax), X=X, got=Y)


def test_each_row_sums_to_one(impl):
    """Every entry is non-negative and every row sums to 1."""
    X = torch.tensor([[0.1, -1.2, 2.0, 0.5, 0.0], [1.5, 0.3, -0.7, 0.2, 1.1]])
    Y = softmax(impl, X)
    check_tensor(Y, "softmax(X) must return a tensor of X's shape", shape=X.shape, mistake=lambda: diagnose_output(X, Y, impl.softmax))
    check(bool((Y >= 0).all()), "softmax(X) must have no negative entries", X=X, got=Y,
          mistake=lambda: diagnose_output(X, Y, impl.softmax))
    check_close(Y.sum(1), torch.ones(2), "each row of softmax(X) must sum to 1", rtol=0, atol=1e-6, X=X, output=Y,
                mistake=lambda: diagnose_output(X, Y, impl.softmax))


def test_known_values(impl):
    """softmax([[1, 2, 3], [0, 0, 0]]) is [[0.0900, 0.2447, 0.6652], [1/3, 1/3, 1/3]]."""
    X = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    expected = torch.tensor([[0.09003057, 0.24472847, 0.66524096], [1 / 3, 1 / 3, 1 / 3]])
    Y = softmax(impl, X)
    check_close(Y, expected, "softmax(X) must be exp(X) divided by each row's sum of exp(X)",
                rtol=1e-5, atol=1e-7, X=X, mistake=lambda: diagnose_output(X, Y, impl.softmax))


def test_large_logits_do_not_overflow(impl):
    """Logits around +-1000, and a row whose logits span -1000 to 1000, give finite probabilities equal to softmax(X - row max)."""
    X = torch.tensor([[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -1002.0], [-1000.0, 1000.0, 0.0]])
    Y = softmax(impl, X)
    check_tensor(Y, "softmax(X) must return a tensor of X's shape", shape=X.shape, mistake=lambda: diagnose_output(X, Y, impl.softmax))
    check(bool(torch.isfinite(Y).all()), "softmax(X) for logits of size 1000 must contain no inf or NaN", X=X, got=Y,
          mistake=lambda: diagnose_output(X, Y, impl.softmax))
    expected = torch.tensor([[0.09003057, 0.24472847, 0.66524096], [0.66524096, 0.24472847, 0.09003057], [0.0, 1.0, 0.0]])
    # rtol 5e-4: float32 holds numbers near 1000 only to about 6e-5.
    check_close(Y, expected, "softmax(X) for logits of size 1000 must equal softmax(X - each row's max)",
                rtol=5e-4, atol=1e-7, X=X, mistake=lambda: diagnose_output(X, Y, impl.softmax))
