"""Autograd through the code under test: gradients against finite differences, and
vector-Jacobian products."""
from __future__ import annotations

import torch

from tests.common.report import fail


def gradcheck(fn, inputs: tuple[torch.Tensor, ...], what: str, **kwargs) -> None:
    """``fn``'s autograd gradients equal finite differences at ``inputs`` (float64)."""
    try:
        torch.autograd.gradcheck(fn, inputs, raise_exception=True, **kwargs)
    except NotImplementedError:  # a stub (a RuntimeError subclass): not a gradient mismatch
        raise
    except RuntimeError as error:  # GradcheckError is one
        fail(f"the autograd gradient of {what} disagrees with finite differences: {str(error).splitlines()[0]}")


def vjp(fn, inputs: tuple[torch.Tensor, ...], cotangent: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The vector-Jacobian product of ``fn`` at ``inputs`` for ``cotangent`` (zeros where unused)."""
    inputs = tuple(x.detach().requires_grad_(True) for x in inputs)
    output = fn(*inputs)
    if not (isinstance(output, torch.Tensor) and output.requires_grad):
        return tuple(torch.zeros_like(x) for x in inputs)
    grads = torch.autograd.grad(output, inputs, cotangent, allow_unused=True)
    return tuple(torch.zeros_like(x) if g is None else g for x, g in zip(inputs, grads))
