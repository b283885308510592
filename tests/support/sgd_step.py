"""Shared by the sgd checks: one call of ``sgd`` with plain-words failures for the usual crashes."""
from __future__ import annotations

from tests.support.report import fail

NO_GRAD_HINT = (
    "wrap the update in `with torch.no_grad():`; outside it, `param -= ...` on a leaf tensor "
    "that requires grad is refused by autograd"
)


def step(impl, params, lr, batch_size, *, what: str = "sgd(params, lr, batch_size)") -> None:
    """Call ``impl.sgd``; turn autograd's in-place error into a failure with a hint."""
    try:
        impl.sgd(params, lr, batch_size)
    except NotImplementedError:
        raise
    except RuntimeError as error:
        if "leaf" in str(error) or "in-place" in str(error):
            fail(f"{what} raised RuntimeError: {error}", hint=NO_GRAD_HINT)
        raise
