"""dropout_layer: the checks every student sees."""
import torch

from tests.support.report import check, check_close


def test_keeps_shape_dtype_and_device(impl, device):
    """The output has the input's shape, dtype and device."""
    for dtype in (torch.float32, torch.float64):
        X = torch.arange(16, dtype=dtype, device=device).reshape(2, 8)
        Y = impl.dropout_layer(X, 0.5)
        check(isinstance(Y, torch.Tensor), "dropout_layer must return a tensor", got=Y)
        check(
            (Y.shape, Y.dtype, Y.device.type) == (X.shape, X.dtype, X.device.type),
            f"dropout_layer(X, 0.5) must keep shape {tuple(X.shape)}, dtype {X.dtype} and device {X.device}",
            X=X, got=Y,
        )


def test_dropout_zero_and_one(impl, device):
    """dropout=0 returns X unchanged; dropout=1 returns zeros."""
    X = torch.arange(16, dtype=torch.float32, device=device).reshape(2, 8)
    check_close(impl.dropout_layer(X, 0.0), X, "dropout_layer(X, 0) must return X unchanged", rtol=0, atol=0, X=X)
    check_close(impl.dropout_layer(X, 1.0), torch.zeros_like(X), "dropout_layer(X, 1) must return zeros",
                rtol=0, atol=0, hint="dropout == 1 divides by 1 - dropout = 0; return torch.zeros_like(X) first", X=X)


def test_survivors_are_rescaled(impl, device):
    """Every element is either dropped (0) or kept and divided by 1 - dropout."""
    X = torch.arange(1, 17, dtype=torch.float32, device=device).reshape(2, 8)
    Y = impl.dropout_layer(X, 0.5)
    kept = Y != 0
    check_close(Y[kept], X[kept] / 0.5, "the kept elements of dropout_layer(X, 0.5) must equal X / (1 - 0.5)",
                rtol=1e-6, atol=0, X=X, output=Y,
                hint="the survivors must be divided by (1 - dropout), so that the expected output equals X")


def test_keep_rate(impl, device):
    """About 1 - dropout of the elements are kept (bound: 6 standard deviations)."""
    n, p = 20_000, 0.3
    Y = impl.dropout_layer(torch.ones(n, device=device), p)
    kept = int((Y != 0).sum())
    sd = (n * p * (1 - p)) ** 0.5
    check(abs(kept - n * (1 - p)) <= 6 * sd,
          f"dropout_layer(torch.ones({n}), {p}) kept {kept} elements; expected {n * (1 - p):.0f} +- {6 * sd:.0f}",
          hint="keep an element when its uniform random number is greater than dropout (torch.rand(...) > dropout)")
