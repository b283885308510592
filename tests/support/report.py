"""Failure messages in plain words: what was expected, on which small input, what came back."""
from __future__ import annotations

import torch


def show(value) -> str:
    """A short, readable rendering of a tensor (or anything else) for a failure message."""
    if isinstance(value, torch.Tensor):
        if value.device.type == "meta":
            return f"<tensor of shape {tuple(value.shape)} on meta>"
        body = repr(value.detach().cpu()).replace("\n", "\n    ")
        return f"{body}  # shape {tuple(value.shape)}, {value.dtype}, {value.device}"
    return repr(value)


def fail(summary: str, *, hint: str | None = None, **shown) -> None:
    """Raise an AssertionError: one sentence, then the named values, then the likely mistake."""
    lines = [summary]
    lines += [f"  {name}: {show(value)}" for name, value in shown.items()]
    if hint:
        lines.append(f"  Likely mistake: {hint}")
    raise AssertionError("\n".join(lines))


def check(condition: bool, summary: str, *, hint: str | None = None, **shown) -> None:
    if not condition:
        fail(summary, hint=hint, **shown)


def check_close(actual, expected, summary: str, *, rtol: float, atol: float, hint=None, **shown) -> None:
    """Values of ``actual`` within ``atol + rtol * |expected|`` of ``expected`` (same shape).

    ``hint`` may be a string or a function returning one, called only on failure (for hints
    that cost several reference computations to find).
    """
    if callable(hint):
        if is_close(actual, expected, rtol, atol):
            return
        hint = hint()
    if not isinstance(actual, torch.Tensor):
        fail(f"{summary} (expected a tensor, got {type(actual).__name__})", hint=hint, **shown)
    expected = expected.to(actual.device) if actual.device.type != "meta" else expected
    check(actual.shape == expected.shape, f"{summary}: expected shape {tuple(expected.shape)}, got {tuple(actual.shape)}", hint=hint, **shown)
    close = torch.isclose(actual.detach().to(expected.dtype), expected, rtol=rtol, atol=atol)
    if not bool(close.all()):
        worst = (actual.detach().to(expected.dtype) - expected).abs().max().item()
        fail(f"{summary} (largest difference {worst:.3g}, allowed {atol:.1g} + {rtol:.1g} * |expected|)",
             hint=hint, **{**shown, "expected": expected, "got": actual})


def is_close(actual, expected, rtol: float, atol: float) -> bool:
    """Whether ``actual`` is a tensor of ``expected``'s shape with close values (compared in float64)."""
    if not isinstance(actual, torch.Tensor) or actual.device.type == "meta" or actual.shape != expected.shape:
        return False
    return bool(torch.isclose(actual.detach().double().cpu(), expected.double().cpu(), rtol=rtol, atol=atol).all())
