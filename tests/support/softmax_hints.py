"""softmax: the likely mistakes behind a wrong output, shared by the public and hidden checks."""
from __future__ import annotations

import torch

OVERFLOW_HINT = (
    "the book's first version, exp(X) directly, overflows for large logits (exp(1000) is inf and "
    "inf / inf is NaN; exp(-1000) is 0 and 0 / 0 is NaN): subtract each row's maximum first, "
    "X - X.max(dim=1, keepdim=True).values"
)
GLOBAL_MAX_HINT = (
    "subtract each row's own maximum, X.max(dim=1, keepdim=True).values, not the maximum of the whole "
    "tensor: a row far below the global maximum underflows to 0 / 0"
)
KEEPDIM_HINT = "sum each row with keepdim=True (shape (n, 1)), so that the division broadcasts along the rows"
DTYPE_HINT = "keep X's dtype: do not convert X with .float() (float64 input must give float64 output)"


def overflow_hint(softmax, X: torch.Tensor) -> str:
    """Tell the global-maximum mistake (each row alone is fine) from no subtraction at all."""
    rows_alone_fine = all(bool(torch.isfinite(softmax(X[i:i + 1])).all()) for i in range(X.shape[0]))
    return GLOBAL_MAX_HINT if rows_alone_fine and X.shape[0] > 1 else OVERFLOW_HINT


def diagnose(X: torch.Tensor, Y) -> str | None:
    """The likely mistake behind a wrong output ``Y = softmax(X)``, when it is recognisable."""
    if not isinstance(Y, torch.Tensor):
        return None
    if Y.shape != X.shape:
        return KEEPDIM_HINT
    if Y.dtype != X.dtype:
        return DTYPE_HINT
    if Y.device.type == "meta":
        return None
    Y = Y.detach().double().cpu()
    if not bool(torch.isfinite(Y).all()):
        return OVERFLOW_HINT
    close = lambda a, b: bool(torch.isclose(a, torch.full_like(a, b), rtol=0, atol=1e-4).all())
    if bool((Y <= 0).all()) and close(Y.exp().sum(1), 1.0):
        return "this is the log-softmax; return the probabilities exp(X - max) / sum"
    if X.shape[0] > 1 and close(Y.sum(0), 1.0):
        return "the columns sum to 1: normalize each row (dim=1), not each column (dim=0)"
    if X.shape[0] > 1 and close(Y.sum().reshape(1), 1.0):
        return "the whole tensor sums to 1: divide by each row's sum, X_exp.sum(1, keepdim=True), not by X_exp.sum()"
    if close(Y.max(1).values, 1.0):
        return "each row's largest entry is 1: divide exp(X - max) by the row's sum (not by its max)"
    if X.shape[0] == X.shape[1] and X.shape[0] > 1:
        return KEEPDIM_HINT + " (without keepdim a square X is divided column by column)"
    return None


INPLACE_HINT = "do not modify X in place (X -= ...); write X = X - X.max(dim=1, keepdim=True).values"
DEVICE_HINT = ("build the result from X (torch.exp, /, torch.stack ...), not in a buffer made with "
               "torch.zeros(X.shape), which lives on the CPU whatever X's device")


def error_hint(error: Exception, default: str | None = None) -> str | None:
    """The likely mistake behind an exception raised by softmax(X)."""
    text = str(error)
    if "size of tensor" in text:
        return KEEPDIM_HINT
    if "in-place" in text or "leaf Variable" in text:
        return INPLACE_HINT
    if "meta" in text or "device" in text:
        return DEVICE_HINT
    return default
