"""sgd: the known mistakes, each with how the checks recognise it on what they observed."""
from __future__ import annotations

import torch

from grader.failures import Mistake
from tests.common.calls import call
from tests.common.mistakes import diagnose

NOT_UPDATED = Mistake("sgd.not_updated", (
    "the parameter did not change although its gradient is not zero: update each parameter in place "
    "(param -= ...; param = param - ... only rebinds the name), on every call, with its gradient from before "
    "the gradient is zeroed"))
ASCENT = Mistake("sgd.gradient_ascent", "that is gradient ascent: subtract lr * grad / batch_size, do not add it")
NO_BATCH_DIVISION = Mistake("sgd.no_batch_size_division",
                            "divide the gradient by batch_size: the loss was summed over the minibatch")
ONLY_FIRST = Mistake("sgd.only_first_param", (
    "only the first parameter changed: update every parameter, with no return or break inside the loop"))
NOT_ZEROED = Mistake("sgd.gradient_not_zeroed", (
    "the gradient was left as it was: zero it after the update (param.grad.zero_(), or set it to None), or the "
    "next backward() adds to it"))
NOT_ZEROED_BY_PRODUCT = Mistake("sgd.zeroes_by_multiplying", (
    "a gradient holding inf or NaN stays NaN when multiplied by 0 (0 * inf is NaN): zero it with "
    "param.grad.zero_(), or set it to None"))
GENERATOR_TWICE = Mistake("sgd.iterates_twice", (
    "params was looped over twice: a generator such as net.parameters() is empty the second time, so zero each "
    "gradient in the same loop that updates it"))
NO_NO_GRAD = Mistake("sgd.no_no_grad", (
    "wrap the update in `with torch.no_grad():`; outside it, `param -= ...` on a leaf tensor that requires grad "
    "is refused by autograd"))
REPLACED = Mistake("sgd.replaces_params", (
    "the params list now holds other tensors: update each tensor in place (param -= ...) instead of assigning "
    "params[i] = ..."))
CHANGES_DTYPE = Mistake("sgd.changes_dtype", (
    "the parameter's dtype changed: update it in place (param -= ...) or keep its dtype, so that a float64 "
    "parameter stays float64"))
GRAD_OFF_DEVICE = Mistake("sgd.grad_off_device", (
    "a new gradient made with torch.zeros(param.shape) lives on the CPU whatever the parameter's device: zero "
    "the gradient in place, param.grad.zero_(), or set it to None"))


def _in_place_refusal() -> str:
    """What autograd says to `param -= ...` on a leaf that requires grad, outside torch.no_grad()."""
    leaf = torch.ones(2, requires_grad=True)
    try:
        leaf -= 1.0
    except RuntimeError as refusal:
        return str(refusal)
    return ""


def step_error(error: BaseException) -> Mistake | None:
    """The mistake behind an exception raised by sgd, when a known mistake raises the same one."""
    if isinstance(error, RuntimeError) and "assign a gradient with device type" in str(error):
        return GRAD_OFF_DEVICE
    return NO_NO_GRAD if isinstance(error, RuntimeError) and str(error) == _in_place_refusal() else None


def step(impl, params, lr, batch_size, *, what: str = "sgd(params, lr, batch_size)") -> None:
    """One call of impl.sgd; an exception fails the check, naming the mistake that raises it."""
    call(impl.sgd, params, lr, batch_size, what=what, explain=step_error)


def list_mistake(params, originals, pairs, lr: float, batch_size: int) -> Mistake | None:
    """REPLACED when the list holds other tensors; ONLY_FIRST when the first parameter was
    updated (and zeroed) and every later one left exactly as it was."""
    if any(p is not o for p, o in zip(params, originals)):
        return REPLACED
    if len(originals) < 2:
        return None
    (first, (old0, grad0)), rest = (originals[0], pairs[0]), list(zip(originals[1:], pairs[1:]))
    first_done = value_mistake(first.detach(), old0, grad0, lr, batch_size) is None and (
        first.grad is None or bool((first.grad == 0).all()))
    untouched = all(torch.equal(p.detach().cpu(), old.cpu()) and p.grad is not None and torch.equal(p.grad.cpu(), grad.cpu())
                    for p, (old, grad) in rest)
    return ONLY_FIRST if first_done and untouched else None


def value_mistake(got, old: torch.Tensor, grad: torch.Tensor, lr: float, batch_size: int) -> Mistake | None:
    """The mistake whose update gives ``got`` from ``old`` and ``grad``, if exactly one does."""
    old, grad = old.detach().double().cpu(), grad.detach().double().cpu()
    if not bool((grad != 0).any()):
        return None
    variants = [
        (NOT_UPDATED, lambda: old),
        (ASCENT, lambda: old + lr * grad / batch_size),
        (NO_BATCH_DIVISION, lambda: old - lr * grad),
    ]
    return diagnose(got, variants, rtol=1e-5, atol=1e-7, expected=old - lr * grad / batch_size)
