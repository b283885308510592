"""Independent references for the batch_norm checks, all in float64, and the known mistakes
with the wrong answer each one gives (unbiased variance, eps outside the square root, ...)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from grader.failures import Mistake
from tests.common.mistakes import diagnose
from tests.batch_norm.hints import (  # noqa: F401 - the mistakes and helpers shared with the public checks
    call, matches, DIMS_ALL, DIMS_BATCH_ONLY, EN_EDITION, EPS_OUTSIDE, GAMMA_BETA_SWAPPED, MODE, NAIVE_VARIANCE, NO_KEEPDIM, NOT_PARAMETERS,
    NOT_RETURNED, ONE_BRANCH, UNBIASED)

MOVING_SHAPE = Mistake("batch_norm.moving_shape_changed", (
    "the moving statistics must come back in the shape they were passed in: reshape the batch statistics to "
    "moving_mean.shape (with keepdim=True they are (1, C), which turns moving statistics of shape (C,) into (1, C))"))
KEEPS_GRAPH = Mistake("batch_norm.moving_stats_keep_graph", (
    "return moving_mean.detach() (the book returns moving_mean.data): otherwise every batch's graph stays alive"))
STATS_DETACHED = Mistake("batch_norm.stats_detached", (
    "keep the batch mean and variance in the graph: no X.detach(), .data or torch.no_grad() when computing them; "
    "the gradient flows through the statistics too"))
NO_RANK_CHECK = Mistake("batch_norm.no_rank_check", (
    "check X.dim() in (2, 4) first and raise ValueError (the book uses assert len(X.shape) in (2, 4))"))
PARAM_SHAPE = Mistake("batch_norm.layer_shapes", (
    "make gamma, beta and the moving statistics of shape (1, num_features) for num_dims == 2 and "
    "(1, num_features, 1, 1) otherwise"))
NOT_STORED = Mistake("batch_norm.layer_forgets_moving_stats", (
    "keep what batch_norm returns: Y, self.moving_mean, self.moving_var = batch_norm(...)"))
STORES_ONLY_IN_TRAIN_MODE = Mistake("batch_norm.layer_mode_from_self_training", (
    "only torch.is_grad_enabled() decides between training and prediction, not self.training: a forward "
    "pass with autograd on (in eval mode too) normalizes with the batch and updates the moving statistics"))
OFF_DEVICE = Mistake("batch_norm.layer_statistics_off_device", (
    "module.to(device) moves parameters and buffers but not plain tensor attributes: move moving_mean and "
    "moving_var to X.device in forward (as the book does), or register them as buffers"))


def moving_mistake(got, before, X, momentum, Y_uses_moving: bool, which: str) -> Mistake | None:
    """The mistake behind a wrong moving statistic ``which`` ("mean" or "var") returned in training mode
    (MODE when Y, too, was normalized with the moving statistics)."""
    if Y_uses_moving:
        return MODE
    stat = lambda dims=None, unbiased=False: batch_stats(X, dims, unbiased)[0 if which == "mean" else 1]
    update = lambda s, m=momentum: moving_update_broadcast(before, s, m)
    variants = [(NOT_RETURNED, lambda: before.double().cpu())]
    if momentum not in (0.5, 1.0):
        variants.append((EN_EDITION, lambda: update(stat(), 1.0 - momentum)))
    if which == "var":
        variants.append((UNBIASED, lambda: update(stat(unbiased=True))))
    variants.append((MOVING_SHAPE, lambda: update(stat())))
    if X.dim() == 4:
        variants += [(NO_KEEPDIM, lambda: update(stat().flatten())), (DIMS_BATCH_ONLY, lambda: update(stat(dims=(0,)))),
                     (DIMS_ALL, lambda: update(stat(dims=(0, 1, 2, 3))))]
    return diagnose(got, variants, rtol=1e-4, atol=1e-5, expected=moving_update(before, stat(), momentum))
UPDATES_IN_PREDICTION = Mistake("batch_norm.updates_in_prediction",
                                "update the moving statistics only in training mode (torch.is_grad_enabled() true)")


def stat_dims(rank: int) -> tuple[int, ...]:
    return (0,) if rank == 2 else (0, 2, 3)


def param_shape(X_shape) -> tuple[int, ...]:
    """(1, C) for 2-D input, (1, C, 1, 1) for 4-D input, as d2l's BatchNorm makes them."""
    return (1, X_shape[1]) if len(X_shape) == 2 else (1, X_shape[1], 1, 1)


def batch_stats(X: torch.Tensor, dims=None, unbiased: bool = False):
    """The batch mean and variance in float64, kept broadcastable against X."""
    X = X.detach().double().cpu()
    dims = stat_dims(X.dim()) if dims is None else dims
    mean = X.mean(dim=dims, keepdim=True)
    var = ((X - mean) ** 2).mean(dim=dims, keepdim=True)
    if unbiased:
        n = X.numel() // mean.numel()
        var = var * n / (n - 1) if n > 1 else torch.full_like(var, float("nan"))
    return mean, var


def training_output(X, gamma, beta, eps) -> torch.Tensor:
    """Y in training mode from torch.nn.functional.batch_norm (float64, on the CPU)."""
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


def moving_update_broadcast(moving, batch_stat, momentum) -> torch.Tensor:
    """The moving update as code that does not reshape computes it: the shapes broadcast."""
    return momentum * moving.detach().double().cpu() + (1.0 - momentum) * batch_stat.detach().double().cpu()


def _naive(X, gamma, beta, eps):
    """E[X^2] - E[X]^2 computed in X's own dtype, as the mistake computes it."""
    X = X.detach().cpu()
    dims = stat_dims(X.dim())
    mean = X.mean(dim=dims, keepdim=True)
    var = (X * X).mean(dim=dims, keepdim=True) - mean * mean
    return normalized(X, gamma, beta, mean, var, eps)


def _no_keepdim(X, gamma, beta, eps):
    X = X.detach().double().cpu()
    mean, var = batch_stats(X)
    return normalized(X, gamma, beta, mean.flatten(), var.flatten(), eps)


def training_mistake(Y, X, gamma, beta, eps, moving_mean=None, moving_var=None, rtol=1e-4, atol=1e-4) -> Mistake | None:
    """The mistake whose training-mode output equals Y (or raises what Y is), if exactly one does."""
    mean, var = batch_stats(X)
    candidates = [
        (UNBIASED, lambda: normalized(X, gamma, beta, mean, batch_stats(X, unbiased=True)[1], eps)),
        (EPS_OUTSIDE, lambda: normalized(X, gamma, beta, mean, var, eps, eps_outside=True)),
        (GAMMA_BETA_SWAPPED, lambda: normalized(X, beta, gamma, mean, var, eps)),
        (NAIVE_VARIANCE, lambda: _naive(X, gamma, beta, eps)),
    ]
    if X.dim() == 4:
        candidates += [
            (DIMS_BATCH_ONLY, lambda: normalized(X, gamma, beta, *batch_stats(X, dims=(0,)), eps)),
            (DIMS_ALL, lambda: normalized(X, gamma, beta, *batch_stats(X, dims=(0, 1, 2, 3)), eps)),
            (NO_KEEPDIM, lambda: _no_keepdim(X, gamma, beta, eps)),
        ]
    if moving_mean is not None:
        candidates.append((MODE, lambda: normalized(X, gamma, beta, moving_mean, moving_var, eps)))
    candidates = [(m, lambda make=make: make().expand_as(X.double().cpu())) for m, make in candidates]
    return diagnose(Y, candidates, rtol=rtol, atol=atol, expected=training_output(X, gamma, beta, eps))


def function_trains(impl, X: torch.Tensor) -> bool:
    """Whether impl.batch_norm, called directly with autograd on, normalizes X with its batch
    statistics and returns the updated moving statistics: then a layer's wrong moving
    statistics are the layer's own mistake."""
    shape = param_shape(X.shape)
    ones, zeros = torch.ones(shape, device=X.device), torch.zeros(shape, device=X.device)
    try:
        with torch.enable_grad():
            Y, mm, mv = impl.batch_norm(X, ones, zeros, zeros.clone(), ones.clone(), eps=1e-5, momentum=0.9)
    except Exception:  # noqa: BLE001 - a function that fails is not one that trains
        return False
    mean, var = batch_stats(X)
    return (matches(Y, training_output(X, ones, zeros, 1e-5)) and matches(mm, moving_update(zeros, mean, 0.9))
            and matches(mv, moving_update(ones, var, 0.9)))
