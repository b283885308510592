"""Autograd through the code under test: gradients against finite differences."""
from __future__ import annotations

import torch

from grader.failures import is_stub
from tests.common.report import MaybeMistake, fail


def gradcheck(fn, inputs: tuple[torch.Tensor, ...], what: str, mistake: MaybeMistake = None, **kwargs) -> None:
    """``fn``'s autograd gradients equal finite differences at ``inputs`` (float64); a
    mismatch, or an exception of the code under test, fails the check in words."""
    try:
        torch.autograd.gradcheck(fn, inputs, raise_exception=True, **kwargs)
    except Exception as error:  # noqa: BLE001 - GradcheckError, or the code's own exception
        if is_stub(error):
            raise
        fail(f"the autograd gradient of {what} disagrees with finite differences: "
             f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}", mistake=mistake)
