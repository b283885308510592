"""sgd: the thorough checks used for grading.

Values are compared with an oracle the checks compute themselves in float64:
``param_old - lr * grad / batch_size``.
"""
import torch
from hypothesis import example, strategies as st
from torch import nn

from tests.common.data import loader, synthetic_regression
from tests.common.hypo import given
from tests.common.report import check, check_close, check_tensor
from tests.common.strategies import float_dtypes, shapes
from tests.sgd.hints import (CHANGES_DTYPE, GENERATOR_TWICE, GRAD_OFF_DEVICE, NOT_UPDATED, NOT_ZEROED, NOT_ZEROED_BY_PRODUCT,
                             ONLY_FIRST,
                             REPLACED, list_mistake, step, value_mistake)
from tests.sgd.test_public import check_zeroed
from tests.common.forbidden import check_no_forbidden_calls

# The shapes and dtype of 1-3 parameters; their values and gradients are drawn from torch's
# generator, which hypothesis seeds for each example (few choices keep failures quick to explain).
LRS = st.sampled_from([0.001, 0.01, 0.03, 0.1, 0.5, 1.0, 2.0])
param_sets = st.tuples(float_dtypes, st.lists(shapes(max_dims=3), min_size=1, max_size=3))


def _values_and_grads(param_set):
    dtype, sizes = param_set
    return [(torch.randn(size, dtype=dtype) * 5, torch.randn(size, dtype=dtype) * 5) for size in sizes]


def _make(values_and_grads, device):
    params = []
    for value, grad in values_and_grads:
        param = value.clone().to(device).requires_grad_(True)
        param.grad = grad.clone().to(device)
        params.append(param)
    return params


def check_updated(param, old, grad, lr, batch_size, summary: str, device, list_mistake=None, **shown) -> None:
    """param (the caller's tensor) is old - lr * grad / batch_size, with old's dtype and on ``device``."""
    got = param.detach()

    def explain():
        if got.dtype != old.dtype:
            return CHANGES_DTYPE
        return (list_mistake() if list_mistake else None) or value_mistake(got, old, grad, lr, batch_size)

    check_close(got, old.double() - lr * grad.double() / batch_size, summary, dtype=old.dtype, device=device,
                rtol=1e-5, atol=1e-5, old=old, grad=grad, **shown, mistake=explain)


def check_all_updated(params, originals, pairs, lr, batch_size, device, what: str) -> None:
    """Each of the caller's tensors was updated in place (and the list still holds them)."""
    for i, (param, (old, grad)) in enumerate(zip(originals, pairs)):
        check_updated(param, old, grad, lr, batch_size, device=device,
                      summary=f"param {i}, seen through the caller's tensor, must be param - lr * grad / batch_size after {what}",
                      list_mistake=lambda: list_mistake(params, originals, pairs, lr, batch_size))


@given(pairs=param_sets, lr=LRS, batch_size=st.integers(1, 64))
def test_update_values(impl, device, pairs, lr, batch_size):
    """For any shapes, dtype, lr and batch size, each param becomes param - lr * grad / batch_size, keeping its dtype."""
    pairs = _values_and_grads(pairs)
    params = _make(pairs, device)
    originals = list(params)
    what = f"sgd(params, lr={lr}, batch_size={batch_size})"
    step(impl, params, lr, batch_size, what=what)
    check_all_updated(params, originals, pairs, lr, batch_size, device, what)


@given(scale=st.sampled_from([1e-3, 1e-6, 1e-9]), lr=st.sampled_from([0.01, 0.1]), batch_size=st.integers(1, 8))
@example(scale=1e-9, lr=0.1, batch_size=1)
def test_tiny_gradients_still_update(impl, device, scale, lr, batch_size):
    """However small the gradient, the change of a float64 parameter is exactly -lr * grad / batch_size (relative 1e-6)."""
    old = torch.linspace(-1.0, 1.0, 6, dtype=torch.float64)
    grad = scale * torch.tensor([1.0, -2.0, 0.5, 3.0, -1.0, 0.25], dtype=torch.float64)
    params = _make([(old, grad)], device)
    param = params[0]
    step(impl, params, lr, batch_size, what=f"sgd([w], lr={lr}, batch_size={batch_size})")
    change = param.detach() - old.to(device)
    wanted = -lr * grad / batch_size
    check_close(change, wanted, f"sgd([w], lr={lr}, batch_size={batch_size}) with gradients of size {scale:g} must change w "
                "by -lr * grad / batch_size", device=device, rtol=1e-6, atol=1e-3 * float(wanted.abs().min()),
                mistake=lambda: REPLACED if params[0] is not param else NOT_UPDATED if bool((change == 0).all()) else None,
                grad=grad)


def test_every_parameter_in_the_list_is_updated(impl, device):
    """Every parameter is updated, not only the first one."""
    params = [torch.full((k,), float(k), device=device, requires_grad=True) for k in (1, 2, 3, 4)]
    for param in params:
        param.grad = torch.ones_like(param)
    originals = list(params)
    step(impl, params, 0.5, 1, what="sgd(four params, lr=0.5, batch_size=1)")
    pairs = [(torch.full((k,), float(k)), torch.ones(k)) for k in (1, 2, 3, 4)]
    check_all_updated(params, originals, pairs, 0.5, 1, device, "sgd(four params, lr=0.5, batch_size=1)")


def _net_with_gradients(device):
    net = nn.Linear(3, 2).to(device)
    X = torch.arange(12.0, device=device).reshape(4, 3)
    (net(X) ** 2).sum().backward()
    return net


def _zeroes_a_list(impl, device) -> bool:
    """Whether impl.sgd zeroes the gradients when params is a list rather than a generator."""
    params = list(_net_with_gradients(device).parameters())
    step(impl, params, 0.01, 4)
    return all(p.grad is None or bool((p.grad == 0).all()) for p in params)


def test_params_may_be_a_generator(impl, device):
    """sgd(net.parameters(), ...) updates and zeroes every parameter of the net (params is iterated once)."""
    net = _net_with_gradients(device)
    old = [(p.detach().clone(), p.grad.clone()) for p in net.parameters()]
    step(impl, net.parameters(), 0.01, 4, what="sgd(net.parameters(), 0.01, 4)")
    params = list(net.parameters())
    for (name, param), (value, grad) in zip(net.named_parameters(), old):
        check_updated(param, value, grad, 0.01, 4, device=device,
                      summary=f"net.{name} after sgd(net.parameters(), 0.01, 4) must be {name} - 0.01 * grad / 4",
                      list_mistake=lambda: list_mistake(params, params, old, 0.01, 4))
        zeroed = param.grad is None or bool((param.grad == 0).all())
        check(zeroed, f"net.{name}.grad must be zero (or None) after sgd(net.parameters(), 0.01, 4)", grad=param.grad,
              mistake=None if zeroed else lambda: GENERATOR_TWICE if _zeroes_a_list(impl, device) else NOT_ZEROED)


def test_gradients_are_zeroed(impl, device):
    """After the step every gradient is zero (or None)."""
    params = [torch.ones(2, 3, device=device, requires_grad=True),
              torch.ones(3, dtype=torch.float64, device=device, requires_grad=True),
              torch.ones((), device=device, requires_grad=True)]
    for param in params:
        param.grad = torch.full_like(param, 2.0)
    olds = [(p.detach().clone(), p.grad.clone()) for p in params]
    step(impl, params, 0.1, 5, what="sgd(params, 0.1, 5)")
    for i, param in enumerate(params):
        check_zeroed(param, torch.full(param.shape, 2.0, dtype=param.dtype),
                     f"param {i}.grad must be zero (or None) after sgd(params, 0.1, 5)",
                     first_only=lambda: list_mistake(params, params, olds, 0.1, 5) == ONLY_FIRST)


def test_gradients_holding_inf_or_nan_are_zeroed_too(impl, device):
    """A gradient that holds inf or NaN is zeroed as well (0 * inf is NaN: multiplying by 0 does not zero it)."""
    w = torch.zeros(4, device=device, requires_grad=True)
    w.grad = torch.tensor([1.0, float("inf"), float("nan"), -float("inf")], device=device)
    step(impl, [w], 0.1, 1, what="sgd([w], 0.1, 1) with w.grad = [1, inf, nan, -inf]")
    check(w.grad is None or bool((w.grad == 0).all()), "after sgd with w.grad = [1, inf, nan, -inf], w.grad must be zero "
          "(or None)", grad=w.grad, mistake=NOT_ZEROED_BY_PRODUCT if w.grad is not None and w.grad[0] == 0 and bool(w.grad.isnan().any()) else None)


@given(pairs=param_sets)
def test_update_is_in_place(impl, device, pairs):
    """The params list keeps the same tensors, still leaves on their device that require grad, with new values."""
    pairs = _values_and_grads(pairs)
    params = _make(pairs, device)
    originals = list(params)
    step(impl, params, 0.1, 2)
    for i, (param, original) in enumerate(zip(params, originals)):
        check(param is original, f"sgd replaced param {i} in the params list with another tensor", mistake=REPLACED)
        check(param.is_leaf and param.requires_grad and param.grad_fn is None,
              f"param {i} must still be a leaf tensor that requires grad after sgd", param=param)
    check_all_updated(params, originals, pairs, 0.1, 2, device, "sgd(params, 0.1, 2)")


def test_works_on_the_parameters_device(impl):
    """Parameters and gradients on another device stay there: no tensor is made on the CPU (checked on the 'meta' device)."""
    params = [torch.empty(2, 3, device="meta", requires_grad=True), torch.empty(3, device="meta", requires_grad=True)]
    for param in params:
        param.grad = torch.empty_like(param)
    step(impl, params, 0.1, 2, what="sgd(params, 0.1, 2) for params on the 'meta' device")
    for i, param in enumerate(params):
        check_tensor(param.detach(), f"param {i} must stay on the 'meta' device", shape=param.shape, device="meta")
        if param.grad is not None:
            check_tensor(param.grad, f"param {i}.grad must stay on the parameter's device (or be None)",
                         shape=param.shape, device="meta", mistake=GRAD_OFF_DEVICE)


def test_two_steps_use_only_fresh_gradients(impl, device):
    """Two backward()+sgd steps in a row: the second uses only the second minibatch's gradient."""
    w = torch.tensor([1.0, -1.0], device=device, requires_grad=True)
    X = torch.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    g = torch.tensor([4.0, 6.0], dtype=torch.float64)  # the gradient of (X @ w).sum(), whatever w is
    for _ in range(2):
        (X @ w).sum().backward()
        step(impl, [w], 0.1, 2)
    start = torch.tensor([1.0, -1.0], dtype=torch.float64)
    accumulated = start - 0.1 * g / 2 - 0.1 * 2 * g / 2
    check_close(w.detach(), (start - 2 * 0.1 * g / 2).to(device),
                "after two steps of (X @ w).sum().backward(); sgd([w], 0.1, 2), w must be w - 2 * 0.1 * [4, 6] / 2",
                dtype=torch.float32, rtol=1e-6, atol=1e-6,
                mistake=NOT_ZEROED if torch.allclose(w.detach().double().cpu(), accumulated) else None)


def test_linear_regression_converges(impl, device):
    """Training linear regression from scratch (d2l 3.2: batch 10, lr 0.03, 3 epochs) recovers w and b within 0.01."""
    true_w, true_b = torch.tensor([2.0, -3.4]), 4.2
    X, y = synthetic_regression(true_w.tolist(), true_b, 1000)
    w = torch.normal(0, 0.01, size=(2, 1), device=device, requires_grad=True)
    b = torch.zeros(1, device=device, requires_grad=True)
    batch_size, lr = 10, 0.03
    for _ in range(3):
        for Xb, yb in loader(X, y, batch_size, shuffle=True):
            Xb, yb = Xb.to(device), yb.to(device)
            loss = ((Xb @ w + b - yb) ** 2 / 2).sum()
            loss.backward()
            step(impl, [w, b], lr, batch_size)
    w_err = (w.detach().cpu().reshape(-1) - true_w).abs().max().item()
    b_err = abs(b.item() - true_b)
    check(w_err < 0.01 and b_err < 0.01,
          f"after 3 epochs of minibatch SGD (batch 10, lr 0.03) on y = X [2, -3.4] + 4.2, w and b must be within 0.01 "
          f"of the truth; errors: w {w_err!r}, b {b_err!r}", w=w, b=b)


def test_uses_no_forbidden_call(impl, candidate):
    """Uses none of the library calls this exercise must not use (grader/catalog.py), in its source or when it runs."""
    def step():
        w = torch.ones(3, requires_grad=True)
        w.grad = torch.ones(3)
        impl.sgd([w], 0.1, 1)

    check_no_forbidden_calls(impl, candidate, step)
