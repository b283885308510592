"""dropout_layer: the checks every student sees."""
import math

import torch

from tests.common.calls import call
from tests.common.report import check, check_close, check_tensor
from tests.dropout.hints import (KEEPS_WITH_P, NORMAL_MASK, ROUNDED_RATE, ZERO_DIVISION, device_error, dtype_mistake,
                                 rescale_mistake, rounded_rates)


def dropout_layer(impl, X, dropout, copy: bool = True):
    """impl.dropout_layer(X, dropout); an exception fails the check in words. With ``copy``
    the code gets a copy of X, so that only the check of that property sees an in-place change."""
    given = X.clone() if copy and X.device.type != "meta" and not X.requires_grad else X
    return call(impl.dropout_layer, given, dropout, what=f"dropout_layer(X, {dropout}) for X of shape {tuple(X.shape)}",
                explain=device_error if X.device.type != "cpu" else None)


def test_keeps_shape_dtype_and_device(impl, device):
    """The output has the input's shape, dtype and device (float32, float64, float16 and bfloat16)."""
    for dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
        X = torch.arange(16, dtype=dtype, device=device).reshape(2, 8)
        Y = dropout_layer(impl, X, 0.5)
        check_tensor(Y, f"dropout_layer(X, 0.5) for {dtype} X must keep X's shape, dtype and device",
                     shape=X.shape, dtype=dtype, device=device, mistake=dtype_mistake(X, Y), X=X, got=Y)


def test_dropout_zero_and_one(impl, device):
    """dropout=0 returns X unchanged; dropout=1 returns zeros."""
    X = torch.arange(16, dtype=torch.float32, device=device).reshape(2, 8)
    check_close(dropout_layer(impl, X, 0.0), X, "dropout_layer(X, 0) must return X unchanged", rtol=0, atol=0, X=X)
    Y = dropout_layer(impl, X, 1.0)
    nan = isinstance(Y, torch.Tensor) and Y.device.type != "meta" and bool(Y.isnan().any())
    check_close(Y, torch.zeros_like(X), "dropout_layer(X, 1) must return zeros", rtol=0, atol=0, X=X,
                mistake=ZERO_DIVISION if nan else None)


def test_survivors_are_rescaled(impl, device):
    """Every element is either dropped (0) or kept and divided by 1 - dropout."""
    X = torch.arange(1, 17, dtype=torch.float32, device=device).reshape(2, 8)
    Y = dropout_layer(impl, X, 0.5)
    check_tensor(Y, "dropout_layer(X, 0.5) must keep X's shape", shape=X.shape, got=Y)
    kept = Y != 0
    check_close(Y[kept], X[kept] / 0.5, "the kept elements of dropout_layer(X, 0.5) must equal X / (1 - 0.5)",
                rtol=1e-6, atol=0, X=X, output=Y, mistake=lambda: rescale_mistake(X, Y, 0.5))


def _binomial_within(count: int, n: int, rate: float, sds: float = 6.0) -> bool:
    return abs(count - n * rate) <= sds * math.sqrt(n * rate * (1 - rate))


def check_keep_rate(impl, device, n: int, p: float, dtype=torch.float32) -> None:
    """dropout_layer(torch.ones(n), p) keeps n * (1 - p) elements within 6 standard deviations."""
    Y = dropout_layer(impl, torch.ones(n, device=device, dtype=dtype), p)
    check_tensor(Y, f"dropout_layer(torch.ones({n}), {p}) must keep X's shape", shape=(n,), got=Y)
    kept = int((Y != 0).sum())
    normal_rate = 0.5 * math.erfc(p / math.sqrt(2))  # P(randn > p)
    sd = math.sqrt(n * p * (1 - p))
    # A rounded rate is named only where its 6-sd band does not touch the right one's.
    rounded = [rate for rate in rounded_rates(p) if abs(rate - (1 - p)) * n > 12 * sd]
    mistake = (KEEPS_WITH_P if p != 0.5 and _binomial_within(kept, n, p) else
               NORMAL_MASK if _binomial_within(kept, n, normal_rate) else
               ROUNDED_RATE if any(_binomial_within(kept, n, rate) for rate in rounded) else None)
    check(_binomial_within(kept, n, 1 - p),
          f"dropout_layer(torch.ones({n}), {p}) kept {kept} elements; expected {n * (1 - p):.0f} +- {6 * sd:.0f}",
          mistake=mistake)


def test_keep_rate(impl, device):
    """About 1 - dropout of the elements are kept (bound: 6 standard deviations)."""
    check_keep_rate(impl, device, 20_000, 0.3)
