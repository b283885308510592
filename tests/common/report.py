"""How checks fail: one sentence, the values that show it, and a likely mistake only when
the check reproduced it (see grader.failures)."""
from __future__ import annotations

from typing import Callable, Union

import torch

from grader.failures import CheckFailure, Mistake

# A mistake, or a function that looks for one and is called only when the check fails
# (a reproduction may cost several reference computations).
MaybeMistake = Union[Mistake, None, Callable[[], Union[Mistake, None]]]


def fail(summary: str, *, mistake: MaybeMistake = None, **shown) -> None:
    raise CheckFailure(summary, shown=shown, mistake=mistake)


def check(condition: bool, summary: str, *, mistake: MaybeMistake = None, **shown) -> None:
    if not condition:
        fail(summary, mistake=mistake, **shown)


def same_device(a: torch.device, b: torch.device) -> bool:
    """``cuda`` and ``cuda:0`` count as the same device."""
    a, b = torch.device(a), torch.device(b)
    return a.type == b.type and (a.index is None or b.index is None or a.index == b.index)


def check_tensor(actual, summary: str, *, shape=None, dtype=None, device=None, mistake: MaybeMistake = None,
                 **shown) -> None:
    """``actual`` is a tensor with this shape, dtype and device (each when given)."""
    if not isinstance(actual, torch.Tensor):
        fail(f"{summary}: expected a tensor, got {type(actual).__name__}", mistake=mistake, got=actual, **shown)
    wanted = []
    if shape is not None and tuple(actual.shape) != tuple(shape):
        wanted.append(f"shape {tuple(shape)}, got {tuple(actual.shape)}")
    if dtype is not None and actual.dtype != dtype:
        wanted.append(f"dtype {dtype}, got {actual.dtype}")
    if device is not None and not same_device(actual.device, device):
        wanted.append(f"device {torch.device(device)}, got {actual.device}")
    if wanted:
        fail(f"{summary}: expected {'; '.join(wanted)}", mistake=mistake, **shown)


def check_close(actual, expected: torch.Tensor, summary: str, *, rtol: float, atol: float, dtype=None, device=None,
                mistake: MaybeMistake = None, **shown) -> None:
    """``actual`` is a tensor of ``expected``'s shape, of ``dtype`` and on ``device`` (by
    default ``expected``'s own: the expected value is never moved to the result), whose
    values are within ``atol + rtol * |expected|`` of ``expected`` (compared in float64)."""
    dtype = expected.dtype if dtype is None else dtype
    device = expected.device if device is None else device
    check_tensor(actual, summary, shape=expected.shape, dtype=dtype, device=device, mistake=mistake, **shown)
    got, want = actual.detach().cpu().double(), expected.detach().cpu().double()
    close = torch.isclose(got, want, rtol=rtol, atol=atol)
    if not bool(close.all()):
        worst = (got - want).abs().nan_to_num(float("inf")).max().item()
        fail(f"{summary} (largest difference {worst:.3g}, allowed {atol:.2g} + {rtol:.2g} * |expected|)",
             mistake=mistake, **{**shown, "expected": expected, "got": actual})


def is_close(actual, expected: torch.Tensor, rtol: float, atol: float) -> bool:
    """Whether ``actual`` is a readable tensor of ``expected``'s shape with close values (in float64)."""
    if not isinstance(actual, torch.Tensor) or actual.device.type == "meta" or actual.shape != expected.shape:
        return False
    return bool(torch.isclose(actual.detach().double().cpu(), expected.detach().double().cpu(), rtol=rtol, atol=atol).all())
