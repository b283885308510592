"""What batch_norm's public checks compare with, and the known mistakes they name.

The oracle is torch's own batch norm: ``torch.nn.functional.batch_norm`` for the training
output, and its running statistics for the moving-statistics update; each mistaken variant is
F.batch_norm given the statistics that mistake computes. No batch norm written by hand ships
with the public checks (the hidden ones use tests/batch_norm/oracle.py). Two conventions of
F.batch_norm differ from the contract's, and the code below says where it corrects for them:

- the contract updates ``moving = momentum * moving + (1 - momentum) * batch``, F.batch_norm
  ``running = (1 - momentum) * running + momentum * batch``: the contract's momentum ``m`` is
  F.batch_norm's ``1 - m`` (its own convention is the English edition's, d2l.ai);
- F.batch_norm normalizes with the biased variance but updates ``running_var`` with the
  unbiased one (divided by n - 1), while the contract's moving variance takes the biased one,
  ``torch.var(..., unbiased=False)``. F.batch_norm's ``running_var`` is the unbiased-variance
  mistake.

The mistakes the public checks can name are defined here, once; tests/batch_norm/oracle.py
(the hidden checks' hand-written oracle) imports them.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from grader.failures import Mistake
from tests.common.calls import call as call_code
from tests.common.mistakes import diagnose
from tests.common.report import is_close

UNBIASED = Mistake("batch_norm.unbiased_variance", (
    "variance off by n/(n-1): use the biased variance ((X - mean) ** 2).mean(...), not X.var(...), whose "
    "default divides by n - 1"))
EN_EDITION = Mistake("batch_norm.momentum_swapped", (
    "momentum applied the other way round: this exercise follows 动手学深度学习 (zh), moving = momentum * moving "
    "+ (1 - momentum) * batch_statistic. The English edition (d2l.ai) writes (1 - momentum) * moving + momentum * "
    "batch_statistic and passes momentum=0.1 instead, which the contract here does not follow"))
EPS_OUTSIDE = Mistake("batch_norm.eps_outside_sqrt",
                      "eps belongs inside the square root: (X - mean) / torch.sqrt(var + eps)")
GAMMA_BETA_SWAPPED = Mistake("batch_norm.gamma_beta_swapped", "gamma and beta are swapped: Y = gamma * X_hat + beta")
DIMS_BATCH_ONLY = Mistake("batch_norm.stats_over_dim0_only_4d", (
    "for 4-D input take the statistics over dims (0, 2, 3) (per channel), not over dim 0 only"))
DIMS_ALL = Mistake("batch_norm.stats_over_all_dims_4d",
                   "for 4-D input take the statistics per channel over dims (0, 2, 3), not over all dims")
NO_KEEPDIM = Mistake("batch_norm.no_keepdim", (
    "keep the dims of the statistics (keepdim=True): of shape (C,) they broadcast along the last dimension of X "
    "instead of per channel"))
MODE = Mistake("batch_norm.mode_not_from_grad_enabled", (
    "only torch.is_grad_enabled() decides the mode: with autograd on, normalize with the batch statistics and "
    "update the moving ones; under torch.no_grad(), normalize with the moving statistics and return them "
    "unchanged. Not X.requires_grad, a flag of your own, or self.training"))
NAIVE_VARIANCE = Mistake("batch_norm.naive_variance", (
    "E[X^2] - E[X]^2 cancels catastrophically when the mean is large against the spread (X near 1000 +- 0.01 in "
    "float32 leaves nothing, or a negative variance): compute ((X - mean) ** 2).mean(...)"))
ONE_BRANCH = Mistake("batch_norm.name_defined_in_one_branch", (
    "a name is only defined in one branch: in training mode compute X_hat and update the moving statistics after "
    "the 2-D/4-D if/else, for both ranks (check the indentation)"))
NOT_RETURNED = Mistake("batch_norm.returns_old_moving_stats",
                       "the moving statistics passed in came back unchanged: return the updated ones")
NOT_PARAMETERS = Mistake("batch_norm.gamma_beta_not_parameters", (
    "wrap gamma and beta in nn.Parameter: a tensor with requires_grad=True is not registered, so "
    "parameters() leaves it out and no optimizer ever learns it"))


def _double(*tensors: torch.Tensor) -> list[torch.Tensor]:
    return [t.detach().double().cpu() for t in tensors]


def _channel_dims(X: torch.Tensor) -> tuple[int, ...]:
    return (0,) if X.dim() == 2 else (0, 2, 3)


def _variance(X: torch.Tensor, dims=None, unbiased: bool = False) -> torch.Tensor:
    """torch.var over ``dims`` (per channel by default), in float64, keeping dims."""
    (X,) = _double(X)
    return torch.var(X, dim=_channel_dims(X) if dims is None else dims, unbiased=unbiased, keepdim=True)


def _mean(X: torch.Tensor, dims=None) -> torch.Tensor:
    (X,) = _double(X)
    return torch.mean(X, dim=_channel_dims(X) if dims is None else dims, keepdim=True)


def training_output(X, gamma, beta, eps) -> torch.Tensor:
    """Y in training mode: F.batch_norm with the batch statistics (float64, on the CPU)."""
    X, gamma, beta = _double(X, gamma, beta)
    if X.numel() == X.shape[1]:  # F.batch_norm refuses one value per channel; then X - mean = 0 and Y = beta
        return beta.expand_as(X).clone()
    return F.batch_norm(X, None, None, gamma.flatten(), beta.flatten(), training=True, eps=eps)


def normalized_with(X, gamma, beta, mean, var, eps) -> torch.Tensor:
    """X normalized with the given per-channel statistics, scaled and shifted: F.batch_norm in prediction mode."""
    X, gamma, beta, mean, var = _double(X, gamma, beta, mean, var)
    return F.batch_norm(X, mean.flatten(), var.flatten(), gamma.flatten(), beta.flatten(), training=False, eps=eps)


def _running_after(X, before_mean, before_var, torch_momentum: float) -> tuple[torch.Tensor, torch.Tensor]:
    """F.batch_norm's running mean and running variance after training on X, in the shapes passed in."""
    (X,) = _double(X)
    running_mean, running_var = (s.flatten().clone() for s in _double(before_mean, before_var))
    F.batch_norm(X, running_mean, running_var, training=True, momentum=torch_momentum)
    return running_mean.reshape(before_mean.shape), running_var.reshape(before_var.shape)


def _contract_update(before, batch_statistic, momentum) -> torch.Tensor:
    """The contract's ``momentum * moving + (1 - momentum) * batch_statistic``, in the moving statistic's shape."""
    before, batch_statistic = _double(before, batch_statistic)
    return momentum * before + (1.0 - momentum) * batch_statistic.reshape(before.shape)


def expected_moving_mean(X, before_mean, before_var, momentum) -> torch.Tensor:
    """moving_mean after one training batch: F.batch_norm's running mean, with its momentum 1 - ``momentum``."""
    return _running_after(X, before_mean, before_var, 1.0 - momentum)[0]


def expected_moving_var(X, before_var, momentum) -> torch.Tensor:
    """moving_var after one training batch, with the biased variance (F.batch_norm's running_var has the unbiased one)."""
    return _contract_update(before_var, _variance(X, unbiased=False), momentum)


def moving_mistake(got, X, before_mean, before_var, momentum, Y_uses_moving: bool, which: str) -> Mistake | None:
    """The mistake behind a wrong moving statistic ``which`` ("mean" or "var") returned in training mode
    (MODE when Y, too, was normalized with the moving statistics)."""
    if Y_uses_moving:
        return MODE
    before = before_mean if which == "mean" else before_var
    if which == "mean":
        expected = expected_moving_mean(X, before_mean, before_var, momentum)
        english = lambda: _running_after(X, before_mean, before_var, momentum)[0]
    else:
        expected = expected_moving_var(X, before_var, momentum)
        english = lambda: _contract_update(before_var, _variance(X), 1.0 - momentum)
    variants = [(NOT_RETURNED, lambda: _double(before)[0])]
    if momentum not in (0.5, 1.0):
        variants.append((EN_EDITION, english))
    if which == "var":
        variants.append((UNBIASED, lambda: _running_after(X, before_mean, before_var, 1.0 - momentum)[1]))
    return diagnose(got, variants, rtol=1e-4, atol=1e-5, expected=expected)


def _naive(X, gamma, beta, eps):
    """Normalized with E[X^2] - E[X]^2 computed in X's own dtype, as the mistake computes it."""
    X = X.detach().cpu()
    dims = _channel_dims(X)
    mean = torch.mean(X, dim=dims, keepdim=True)
    naive_var = torch.mean(X * X, dim=dims, keepdim=True) - mean * mean
    return normalized_with(X, gamma, beta, mean, naive_var, eps)


def _over_dim0_only(X, gamma, beta, eps):
    """4-D X normalized per position (c, h, w) over the batch: F.batch_norm on X as (N, C * H * W)."""
    X, gamma, beta = _double(X, gamma, beta)
    flat = X.reshape(X.shape[0], -1)
    scale, shift = (t.expand(1, *X.shape[1:]).flatten() for t in (gamma, beta))
    return F.batch_norm(flat, None, None, scale, shift, training=True, eps=eps).reshape(X.shape)


def _over_all_dims(X, gamma, beta, eps):
    channels = X.shape[1]
    mean, var = _mean(X, dims=tuple(range(X.dim()))), _variance(X, dims=tuple(range(X.dim())))
    return normalized_with(X, gamma, beta, mean.flatten().expand(channels), var.flatten().expand(channels), eps)


def _no_keepdim(X, gamma, beta, eps):
    """Statistics of shape (C,), which broadcast along X's last dimension W instead of per channel."""
    (X64,) = _double(X)
    mean, var = _mean(X).flatten(), _variance(X).flatten()
    _ = X64 - mean  # raises what the mistake raises unless C is 1 or W
    width = X64.shape[-1]
    along_width = F.batch_norm(X64.movedim(-1, 1), mean.expand(width), var.expand(width), training=False, eps=eps)
    gamma, beta = _double(gamma, beta)
    return gamma * along_width.movedim(1, -1) + beta


def training_mistake(Y, X, gamma, beta, eps, rtol=1e-4, atol=1e-4) -> Mistake | None:
    """The mistake whose training-mode output equals Y (or raises what Y is), if exactly one does."""
    mean = _mean(X)
    candidates = [
        (UNBIASED, lambda: normalized_with(X, gamma, beta, mean, _variance(X, unbiased=True), eps)),
        (EPS_OUTSIDE, lambda: normalized_with(X, gamma, beta, mean, (_variance(X).sqrt() + eps) ** 2, 0.0)),
        (GAMMA_BETA_SWAPPED, lambda: normalized_with(X, beta, gamma, mean, _variance(X), eps)),
        (NAIVE_VARIANCE, lambda: _naive(X, gamma, beta, eps)),
    ]
    if X.dim() == 4:
        candidates += [
            (DIMS_BATCH_ONLY, lambda: _over_dim0_only(X, gamma, beta, eps)),
            (DIMS_ALL, lambda: _over_all_dims(X, gamma, beta, eps)),
            (NO_KEEPDIM, lambda: _no_keepdim(X, gamma, beta, eps)),
        ]
    shape = X.shape
    candidates = [(m, lambda make=make: make().expand(shape)) for m, make in candidates]
    return diagnose(Y, candidates, rtol=rtol, atol=atol, expected=training_output(X, gamma, beta, eps))


def matches(actual, expected, rtol=1e-4, atol=1e-4) -> bool:
    return is_close(actual, expected, rtol, atol)


def call(fn, *args, what: str, **kwargs):
    """Call the code under test; an exception fails the check in words, naming the mistake it shows."""
    def explain(error):
        if isinstance(error, (UnboundLocalError, NameError)):
            return ONE_BRANCH
        X = args[0] if args and isinstance(args[0], torch.Tensor) else None
        if X is not None and len(args) >= 3 and X.dim() == 4 and torch.is_grad_enabled() and X.device.type != "meta":
            return diagnose(error, [(NO_KEEPDIM, lambda: _no_keepdim(X, args[1], args[2], 1e-5))])
        return None

    return call_code(fn, *args, what=what, explain=explain, **kwargs)
