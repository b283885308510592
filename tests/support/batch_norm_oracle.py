"""Independent references for the batch_norm checks, all in float64, and the recognisable
wrong answers (unbiased variance, eps outside the square root, ...) used to name a mistake."""
from __future__ import annotations


import torch
import torch.nn.functional as F

from tests.support.report import fail, is_close

UNBIASED_HINT = ("variance off by n/(n-1): use the biased variance ((X - mean) ** 2).mean(...), "
                 "not X.var(...), whose default divides by n - 1")
EN_EDITION_HINT = ("momentum applied the other way round: this exercise follows 动手学深度学习 (zh), "
                   "moving = momentum * moving + (1 - momentum) * batch_statistic. The English edition "
                   "(d2l.ai) writes (1 - momentum) * moving + momentum * batch_statistic and passes "
                   "momentum=0.1 instead, which the contract here does not follow")



def stat_dims(rank: int) -> tuple[int, ...]:
    return (0,) if rank == 2 else (0, 2, 3)


def param_shape(X_shape) -> tuple[int, ...]:
    """(1, C) for 2-D input, (1, C, 1, 1) for 4-D input, as d2l's BatchNorm makes them."""
    return (1, X_shape[1]) if len(X_shape) == 2 else (1, X_shape[1], 1, 1)


def batch_stats(X: torch.Tensor, dims=None, unbiased: bool = False):
    """The batch mean and variance in float64, kept broadcastable against X."""
    X = X.detach().double()
    dims = stat_dims(X.dim()) if dims is None else dims
    mean = X.mean(dim=dims, keepdim=True)
    var = ((X - mean) ** 2).mean(dim=dims, keepdim=True)
    if unbiased:
        n = X.numel() // mean.numel()
        var = var * n / (n - 1) if n > 1 else torch.full_like(var, float("nan"))
    return mean, var


def training_output(X, gamma, beta, eps) -> torch.Tensor:
    """Y in training mode from torch.nn.functional.batch_norm (float64)."""
    Xd, g, b = X.detach().double().cpu(), gamma.detach().double().cpu(), beta.detach().double().cpu()
    per_channel = Xd.numel() // Xd.shape[1]
    if per_channel == 1:  # F.batch_norm refuses one value per channel; then X - mean = 0 and Y = beta
        return b.expand_as(Xd).clone()
    return F.batch_norm(Xd, None, None, g.flatten(), b.flatten(), training=True, eps=eps)


def normalized(X, gamma, beta, mean, var, eps, eps_outside=False) -> torch.Tensor:
    Xd, g, b = X.detach().double().cpu(), gamma.detach().double().cpu(), beta.detach().double().cpu()
    mean, var = mean.detach().double().cpu(), var.detach().double().cpu()
    scale = var.sqrt() + eps if eps_outside else (var + eps).sqrt()
    return g * (Xd - mean) / scale + b


def moving_update(moving, batch_stat, momentum) -> torch.Tensor:
    moving = moving.detach().double().cpu()
    return momentum * moving + (1.0 - momentum) * batch_stat.detach().double().cpu().reshape(moving.shape)


def matches(actual, expected, rtol=1e-4, atol=1e-4) -> bool:
    return is_close(actual, expected, rtol, atol)


def training_mistake(Y, X, gamma, beta, eps, moving_mean=None, moving_var=None) -> str | None:
    """Name the mistake if Y equals a recognisable wrong training-mode output."""
    mean, var = batch_stats(X)
    candidates = [
        ("variance off by n/(n-1): use the biased variance ((X - mean) ** 2).mean(...), not X.var(...)",
         lambda: normalized(X, gamma, beta, mean, batch_stats(X, unbiased=True)[1], eps)),
        ("eps belongs inside the square root: (X - mean) / torch.sqrt(var + eps)",
         lambda: normalized(X, gamma, beta, mean, var, eps, eps_outside=True)),
        ("gamma and beta are swapped: Y = gamma * X_hat + beta",
         lambda: normalized(X, beta, gamma, mean, var, eps)),
    ]
    if X.dim() == 4:
        candidates += [
            ("for 4-D input take the statistics over dims (0, 2, 3) (per channel), not over dim 0 only",
             lambda: normalized(X, gamma, beta, *batch_stats(X, dims=(0,)), eps)),
            ("for 4-D input take the statistics per channel over dims (0, 2, 3), not over all dims",
             lambda: normalized(X, gamma, beta, *batch_stats(X, dims=(0, 1, 2, 3)), eps)),
        ]
    if moving_mean is not None:
        candidates.append(
            ("training mode (torch.is_grad_enabled() true) must use the batch statistics; decide the mode "
             "with torch.is_grad_enabled(), not X.requires_grad or a flag",
             lambda: normalized(X, gamma, beta, moving_mean, moving_var, eps)))
    for hint, make in candidates:
        if matches(Y, make().expand_as(X.double().cpu())):
            return hint
    return None


def call(fn, *args, what: str, **kwargs):
    """Call student code; any exception other than NotImplementedError becomes a plain failure."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise
    except Exception as error:  # noqa: BLE001 - a crash is reported in words
        hint = None
        if isinstance(error, (UnboundLocalError, NameError)):
            hint = ("a name is only defined in one branch: in training mode compute X_hat and update the "
                    "moving statistics after the 2-D/4-D if/else, for both ranks (check the indentation)")
        elif isinstance(error, RuntimeError) and "size of tensor" in str(error):
            hint = "keep the dims of the statistics (keepdim=True) so they broadcast against X"
        fail(f"{what} raised {type(error).__name__}: {error}", hint=hint)
