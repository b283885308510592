"""dropout_layer: the known mistakes, each named only when what was observed is that mistake's signature."""
from __future__ import annotations

import math

import torch

from grader.failures import Mistake

NO_RESCALE = Mistake("dropout.no_rescale",
                     "the survivors were not rescaled: divide them by (1 - dropout), so that the expected output equals X")
DIVIDES_BY_DROPOUT = Mistake("dropout.divides_by_dropout", "the survivors were divided by dropout: divide them by (1 - dropout)")
KEEPS_WITH_P = Mistake("dropout.keeps_with_probability_p", (
    "elements were kept with probability dropout: keep an element when its uniform random number is greater "
    "than dropout, torch.rand(X.shape, device=X.device) > dropout"))
ROUNDED_RATE = Mistake("dropout.rounded_keep_rate", (
    "elements were kept with a rounded probability, as integer draws do (torch.randint(0, 100) compared with "
    "100 * dropout keeps whole percents): compare a uniform draw with dropout itself, "
    "torch.rand(X.shape, device=X.device) > dropout"))
NORMAL_MASK = Mistake("dropout.normal_mask", (
    "the keep rate is that of a normal draw: torch.randn gives normal numbers; a uniform draw (torch.rand) "
    "exceeds dropout with probability 1 - dropout"))
OFF_DEVICE = Mistake("dropout.off_device", (
    "a tensor made without device= lives on the CPU whatever X's device: make the mask with "
    "torch.rand(X.shape, device=X.device) and zeros with torch.zeros_like(X). The book's torch.rand(X.shape) "
    "has this bug, which shows as soon as X is on a GPU"))
ZERO_DIVISION = Mistake("dropout.divides_by_zero_at_one", (
    "dropout == 1 divides by 1 - dropout = 0 (0 / 0 is NaN): return torch.zeros_like(X) first, as the book does"))
IN_PLACE = Mistake("dropout.in_place", "use out-of-place operations (mask * X), not X.mul_(...), X *= mask or X.zero_()")
SHARED_MASK = Mistake("dropout.shared_mask", (
    "one random number was drawn per column (or row) and broadcast: draw one per element, torch.rand(X.shape)"))
SAME_MASK = Mistake("dropout.same_mask_every_call", (
    "two calls dropped exactly the same elements: do not reseed (torch.manual_seed) or keep the mask between calls"))
FIXED_COUNT = Mistake("dropout.fixed_count", (
    "the same number of elements is dropped on every call: each element must be dropped independently, so the "
    "count varies like a binomial; do not drop a fixed number, round(dropout * n), of randomly chosen elements"))
DETACHED = Mistake("dropout.detached", (
    "the result is cut out of the autograd graph: no X.data, X.detach(), .numpy() or torch.no_grad() in "
    "dropout_layer (at dropout == 0 return X itself)"))
CHANGES_DTYPE = Mistake("dropout.changes_dtype", (
    "the result came back as float32: a mask made with .float() (as in the book) or a result converted with "
    ".float() turns float16, bfloat16 and float64 input into float32; make the mask with .to(X.dtype), or "
    "multiply by the boolean mask"))
NO_RANGE_CHECK = Mistake("dropout.no_range_check", (
    "check 0 <= dropout <= 1 first and raise ValueError (the book uses assert 0 <= dropout <= 1, which is "
    "accepted too)"))


def rescale_mistake(X: torch.Tensor, Y: torch.Tensor, dropout: float) -> Mistake | None:
    """NO_RESCALE or DIVIDES_BY_DROPOUT when every element of Y is 0 or that mistake's value."""
    if not (isinstance(Y, torch.Tensor) and Y.shape == X.shape) or Y.device.type == "meta" or not 0 < dropout < 1:
        return None
    Xd, Yd = X.detach().double().cpu(), Y.detach().double().cpu()
    kept = Yd != 0
    if not bool(kept.any()) or bool(kept.all()):  # with nothing dropped, a rescale by the kept fraction looks the same
        return None
    for mistake, scale in ((NO_RESCALE, 1.0), (DIVIDES_BY_DROPOUT, 1.0 / dropout)):
        if bool(torch.isclose(Yd[kept], Xd[kept] * scale, rtol=1e-3, atol=1e-6).all()):
            return mistake
    return None


def dtype_mistake(X: torch.Tensor, Y) -> Mistake | None:
    return CHANGES_DTYPE if isinstance(Y, torch.Tensor) and Y.dtype == torch.float32 != X.dtype else None


def device_error(error: BaseException) -> Mistake | None:
    """OFF_DEVICE when the error is torch's complaint about a CPU tensor mixed with another device."""
    return OFF_DEVICE if "device" in str(error) else None


def rounded_rates(dropout: float) -> set[float]:
    """The keep rates of a dropout rounded to whole tenths, percents or per mille (down, up or to
    nearest), other than the right one."""
    rates = set()
    for scale in (10, 100, 1000):
        scaled = round(dropout * scale, 6)  # 0.3 * 1000 is 300.00000000000006
        for rounding in (math.floor, math.ceil, round):
            rates.add(1 - rounding(scaled) / scale)
    return {rate for rate in rates if abs(rate - (1 - dropout)) > 1e-12 and 0 < rate < 1}
