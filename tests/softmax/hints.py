"""softmax: the known mistakes, each with the variant that reproduces it on the same input."""
from __future__ import annotations

import torch

from grader.failures import Mistake
from tests.common.mistakes import diagnose, diagnose_with_probes

NO_MAX_SHIFT = Mistake("softmax.no_max_shift", (
    "the book's first version, exp(X) directly, overflows for large logits (exp(1000) is inf and inf / inf "
    "is NaN; exp(-1000) is 0 and 0 / 0 is NaN): subtract each row's maximum first, as the contract says"))
GLOBAL_MAX = Mistake("softmax.global_max", (
    "subtract each row's own maximum, not the maximum of the whole tensor: a row far below the global "
    "maximum underflows to 0 / 0"))
NOT_ROW_MAX = Mistake("softmax.shift_not_row_max", (
    "subtract each row's maximum: shifting by the row's mean, minimum or first element still overflows when "
    "the logits of one row are far apart, such as [-1000, 1000]"))
NO_KEEPDIM = Mistake("softmax.no_keepdim", (
    "a row's max or sum taken without keepdim=True has shape (n,), which broadcasts against X's (n, q) "
    "along the wrong dimension: take row statistics with keepdim=True"))
NOT_DIVIDED_BY_SUM = Mistake("softmax.not_divided_by_sum", (
    "each row's largest entry is 1: divide the exponentials by their row's sum (not by its maximum, and not "
    "leaving them undivided)"))
OVER_COLUMNS = Mistake("softmax.over_columns", "the columns sum to 1: normalize each row (dim=1), not each column (dim=0)")
GLOBAL_SUM = Mistake("softmax.global_sum",
                     "the whole tensor sums to 1: divide by each row's own sum, not by the sum over all entries")
LOG_SOFTMAX = Mistake("softmax.log_softmax", "this is the log-softmax: return the probabilities, not their logarithms")
CHANGES_DTYPE = Mistake("softmax.changes_dtype", (
    "keep X's dtype: do not convert X with .float(), or convert the result back (float64, float16 and bfloat16 "
    "input must give output of that dtype)"))
IN_PLACE = Mistake("softmax.in_place", "do not modify X in place (X -= ...); compute a new tensor, X - X.max(...)")
OFF_DEVICE = Mistake("softmax.off_device", (
    "build the result from X with tensor operations; a buffer made with torch.zeros(X.shape) (or torch.tensor) "
    "lives on the CPU whatever X's device"))
DETACHED = Mistake("softmax.detached", (
    "the result is cut out of the autograd graph: no X.detach(), X.data, .numpy() or torch.no_grad() on the "
    "values you return"))


def _row_max(X, keepdim=True):
    return X.max(dim=1, keepdim=keepdim).values


def _normalize(E, dim=1, keepdim=True):
    return E / E.sum(dim, keepdim=keepdim)


def _variants(X: torch.Tensor):
    """(mistake, how that mistake computes softmax(X)) for every known wrong computation."""
    exp = torch.exp
    return [
        (NO_MAX_SHIFT, lambda: _normalize(exp(X))),
        (GLOBAL_MAX, lambda: _normalize(exp(X - X.max()))),
        (NOT_ROW_MAX, lambda: _normalize(exp(X - X.mean(dim=1, keepdim=True)))),
        (NOT_ROW_MAX, lambda: _normalize(exp(X - X.min(dim=1, keepdim=True).values))),
        (NOT_ROW_MAX, lambda: _normalize(exp(X - X[:, :1]))),
        (NO_KEEPDIM, lambda: _normalize(exp(X - _row_max(X, keepdim=False)))),
        (NO_KEEPDIM, lambda: _normalize(exp(X - _row_max(X)), keepdim=False)),
        (NO_KEEPDIM, lambda: _normalize(exp(X - _row_max(X, keepdim=False)), keepdim=False)),
        (NOT_DIVIDED_BY_SUM, lambda: exp(X - _row_max(X)) / exp(X - _row_max(X)).max(dim=1, keepdim=True).values),
        (NOT_DIVIDED_BY_SUM, lambda: exp(X) / exp(X).max(dim=1, keepdim=True).values),
        (OVER_COLUMNS, lambda: _normalize(exp(X - X.max(dim=0, keepdim=True).values), dim=0)),
        (OVER_COLUMNS, lambda: _normalize(exp(X), dim=0)),
        (GLOBAL_SUM, lambda: exp(X - _row_max(X)) / exp(X - _row_max(X)).sum()),
        (LOG_SOFTMAX, lambda: X - torch.logsumexp(X, dim=1, keepdim=True)),
        (NOT_DIVIDED_BY_SUM, lambda: exp(X - _row_max(X))),
    ]


# Inputs on which mistakes that coincide on some input differ: on [[1000, 990, 995]] the book's
# exp(X) overflows, while shifting by the row's mean, minimum or first logit does not.
PROBES = [torch.tensor([[1000.0, 990.0, 995.0]]), torch.tensor([[0.5, -1.0, 2.0, 0.0], [1.5, 0.25, -0.5, 1.0]])]


def diagnose_output(X: torch.Tensor, Y, softmax=None) -> Mistake | None:
    """The mistake behind a wrong ``Y = softmax(X)``: the one known mistake that gives Y (and,
    when ``softmax`` is given to run again, what it gives on the probes too)."""
    if isinstance(Y, torch.Tensor) and Y.dtype != X.dtype and Y.dtype == torch.float32:
        return CHANGES_DTYPE
    if not isinstance(Y, torch.Tensor) or X.device.type == "meta":
        return None
    X = X.detach()
    tolerance = dict(rtol=5e-4, atol=1e-6) if X.dtype == torch.float32 else dict(rtol=1e-7, atol=1e-12)
    expected = torch.softmax(X.double(), dim=1)
    if softmax is None:
        return diagnose(Y, _variants(X), expected=expected, **tolerance)
    return diagnose_with_probes(Y, _variants, X, lambda probe: softmax(probe.clone()), PROBES, expected=expected,
                                **tolerance)


def diagnose_error(X: torch.Tensor, error: BaseException) -> Mistake | None:
    """The mistake behind an exception raised by ``softmax(X)``, when a variant raises the same one."""
    return diagnose(error, _variants(X.detach()))
