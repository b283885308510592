"""sgd: the checks every student sees."""
import torch

from tests.common.report import check, check_close
from tests.sgd.hints import NOT_ZEROED, ONLY_FIRST, REPLACED, step, value_mistake


def check_zeroed(param, grad_before, summary: str, first_only=lambda: False) -> None:
    """param.grad is zero or None; naming the mistake when it is still the gradient it had."""
    grad = param.grad
    unchanged = grad is not None and grad.shape == grad_before.shape and torch.equal(grad.detach().cpu(), grad_before.cpu())
    check(grad is None or bool((grad == 0).all()), summary, grad=grad,
          mistake=lambda: None if not unchanged else ONLY_FIRST if first_only() else NOT_ZEROED)


def test_one_step_values(impl, device):
    """One step subtracts lr * grad / batch_size from the parameter."""
    w = torch.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    grad = torch.tensor([2.0, -4.0, 6.0], device=device)
    w.grad = grad.clone()
    params = [w]
    step(impl, params, 0.1, 4, what="sgd([w], lr=0.1, batch_size=4)")
    check_close(w.detach(), torch.tensor([0.95, 2.1, 2.85], device=device),
                "after sgd([w], lr=0.1, batch_size=4) with w = [1, 2, 3] and w.grad = [2, -4, 6], w must be w - 0.1 * grad / 4",
                rtol=1e-6, atol=1e-6, mistake=lambda: REPLACED if params[0] is not w else
                value_mistake(w, torch.tensor([1.0, 2.0, 3.0]), grad, 0.1, 4))


def test_every_parameter_is_updated(impl, device):
    """Both w and b of a linear model are updated."""
    w = torch.ones(2, 1, device=device, requires_grad=True)
    b = torch.zeros(1, device=device, requires_grad=True)
    w.grad, b.grad = torch.full((2, 1), 10.0, device=device), torch.full((1,), -10.0, device=device)
    step(impl, [w, b], 0.5, 10, what="sgd([w, b], lr=0.5, batch_size=10)")
    check_close(w.detach(), torch.full((2, 1), 0.5, device=device), "w must become 1 - 0.5 * 10 / 10 = 0.5",
                rtol=1e-6, atol=1e-6)
    first_only = bool((w.detach() == 0.5).all()) and bool((b.detach() == 0).all())
    check_close(b.detach(), torch.full((1,), 0.5, device=device), "b, the second parameter, must become 0 + 0.5 * 10 / 10 = 0.5",
                rtol=1e-6, atol=1e-6, mistake=ONLY_FIRST if first_only else None)


def test_gradient_is_zeroed(impl, device):
    """After the step, each gradient is zero (or None), ready for the next backward()."""
    w = torch.ones(3, device=device, requires_grad=True)
    w.grad = torch.ones(3, device=device)
    step(impl, [w], 0.1, 1, what="sgd([w], 0.1, 1)")
    check_zeroed(w, torch.ones(3), "after sgd([w], 0.1, 1), w.grad must be zero (or None)")


def test_stays_a_leaf_that_requires_grad(impl, device):
    """The parameter is updated in place: the same tensor, still a leaf that requires grad."""
    w = torch.ones(2, 3, device=device, requires_grad=True)
    w.grad = torch.ones(2, 3, device=device)
    params = [w]
    step(impl, params, 1.0, 2, what="sgd([w], 1.0, 2)")
    check(params[0] is w, "sgd must not replace the tensors in the params list", mistake=REPLACED)
    check(w.is_leaf and w.requires_grad and w.grad_fn is None and w.device.type == device.type,
          "after sgd, w must still be a leaf tensor on its device that requires grad (no grad_fn)", w=w)
    check_close(w.detach(), torch.full((2, 3), 0.5, device=device), "w must have been changed in place to 1 - 1.0 * 1 / 2",
                rtol=1e-6, atol=1e-6, mistake=lambda: value_mistake(w, torch.ones(2, 3), torch.ones(2, 3), 1.0, 2))
