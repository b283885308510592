"""sgd: the thorough checks used for grading.

Values are compared with an oracle the checks compute themselves in float64:
``param_old - lr * grad / batch_size``.
"""
import torch
from hypothesis import given, strategies as st
from torch import nn

from tests.support.data import loader, synthetic_regression
from tests.support.report import check, check_close, fail
from tests.support.sgd_step import step
from tests.support.strategies import float_dtypes, shapes

UNCHANGED_HINT = (
    "the parameter did not change: update the tensor itself in place (param -= ..., not "
    "param = param - ...), and zero the gradient only after using it"
)


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


def _hint(got, old, grad, lr, batch_size):
    """Name the likely mistake when the result matches a known wrong update."""
    got, old, grad = got.detach().double().cpu(), old.double(), grad.double()
    if torch.equal(got, old) and bool((grad != 0).any()):
        return UNCHANGED_HINT
    for wrong, hint in (
        (old + lr * grad / batch_size, "that is gradient ascent: subtract lr * grad / batch_size"),
        (old - lr * grad, "divide the gradient by batch_size: the loss is summed over the minibatch"),
    ):
        if torch.allclose(got, wrong, rtol=1e-5, atol=1e-5):
            return hint
    return None


@given(pairs=param_sets, lr=LRS, batch_size=st.integers(1, 64))
def test_update_values(impl, device, pairs, lr, batch_size):
    """For any shapes, dtype, lr and batch size, each param becomes param - lr * grad / batch_size."""
    pairs = _values_and_grads(pairs)
    params = _make(pairs, device)
    step(impl, params, lr, batch_size, what=f"sgd(params, lr={lr}, batch_size={batch_size})")
    for i, (param, (old, grad)) in enumerate(zip(params, pairs)):
        expected = old.double() - lr * grad.double() / batch_size
        check_close(param.detach(), expected,
                    f"param {i} after sgd(params, lr={lr}, batch_size={batch_size}) must be param - lr * grad / batch_size",
                    rtol=1e-5, atol=1e-5, hint=_hint(param, old, grad, lr, batch_size), old=old, grad=grad)


def test_every_parameter_in_the_list_is_updated(impl, device):
    """Every parameter is updated, not only the first one."""
    params = [torch.full((k,), float(k), device=device, requires_grad=True) for k in (1, 2, 3, 4)]
    for param in params:
        param.grad = torch.ones_like(param)
    step(impl, params, 0.5, 1, what="sgd(four params, lr=0.5, batch_size=1)")
    for k, param in zip((1, 2, 3, 4), params):
        check_close(param.detach(), torch.full((k,), k - 0.5),
                    f"parameter {k} of 4 (all ones gradients, lr 0.5, batch size 1) must become {k} - 0.5",
                    rtol=1e-6, atol=1e-6, hint="update every parameter: no return (or break) inside the for loop")


def test_params_may_be_a_generator(impl, device):
    """sgd(net.parameters(), ...) updates and zeroes every parameter of the net (params is iterated once)."""
    net = nn.Linear(3, 2).to(device)
    X = torch.arange(12.0, device=device).reshape(4, 3)
    (net(X) ** 2).sum().backward()
    old = [(p.detach().clone(), p.grad.clone()) for p in net.parameters()]
    try:
        step(impl, net.parameters(), 0.01, 4, what="sgd(net.parameters(), 0.01, 4)")
    except TypeError as error:
        fail(f"sgd(net.parameters(), 0.01, 4) raised TypeError: {error}",
             hint="params may be a generator: loop over it once with `for param in params` (no len() or indexing)")
    for (name, param), (value, grad) in zip(net.named_parameters(), old):
        check_close(param.detach(), value.double() - 0.01 * grad.double() / 4,
                    f"net.{name} after sgd(net.parameters(), 0.01, 4) must be {name} - 0.01 * grad / 4",
                    rtol=1e-5, atol=1e-6, hint=_hint(param, value.cpu(), grad.cpu(), 0.01, 4))
        check(param.grad is None or bool((param.grad == 0).all()),
              f"net.{name}.grad must be zero (or None) after sgd(net.parameters(), 0.01, 4)", grad=param.grad,
              hint="a generator can be iterated only once: zero each gradient in the same loop that updates it")


def test_gradients_are_zeroed(impl, device):
    """After the step every gradient is zero (or None)."""
    params = [torch.ones(2, 3, device=device, requires_grad=True),
              torch.ones(3, dtype=torch.float64, device=device, requires_grad=True),
              torch.ones((), device=device, requires_grad=True)]
    for param in params:
        param.grad = torch.full_like(param, 2.0)
    step(impl, params, 0.1, 5, what="sgd(params, 0.1, 5)")
    for i, param in enumerate(params):
        check(param.grad is None or bool((param.grad == 0).all()),
              f"param {i}.grad must be zero (or None) after sgd(params, 0.1, 5)", grad=param.grad,
              hint="call param.grad.zero_() after the update, or the next backward() adds to the old gradient")


@given(pairs=param_sets)
def test_update_is_in_place(impl, device, pairs):
    """The params list keeps the same tensors, still leaves on their device that require grad, with new values."""
    pairs = _values_and_grads(pairs)
    params = _make(pairs, device)
    originals = list(params)
    step(impl, params, 0.1, 2)
    for i, (param, original, (old, grad)) in enumerate(zip(params, originals, pairs)):
        check(param is original, f"sgd replaced param {i} in the params list with another tensor",
              hint="update each param in place (param -= ...), do not assign params[i] = ...")
        check(param.is_leaf and param.requires_grad and param.grad_fn is None and param.device.type == device.type,
              f"param {i} must still be a leaf tensor on {device.type} that requires grad after sgd", param=param,
              hint="do the update under torch.no_grad()")
        check_close(param.detach(), old.double() - 0.1 * grad.double() / 2,
                    f"param {i}, seen through the caller's tensor, must be param - 0.1 * grad / 2 after sgd(params, 0.1, 2)",
                    rtol=1e-5, atol=1e-5, hint=_hint(param, old, grad, 0.1, 2))


def test_two_steps_use_only_fresh_gradients(impl, device):
    """Two backward()+sgd steps in a row: the second uses only the second minibatch's gradient."""
    w = torch.tensor([1.0, -1.0], device=device, requires_grad=True)
    X = torch.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    expected = w.detach().double().cpu()
    for _ in range(2):
        (X @ w).sum().backward()  # gradient: X.sum(0) = [4, 6], whatever w is
        step(impl, [w], 0.1, 2)
        expected = expected - 0.1 * torch.tensor([4.0, 6.0], dtype=torch.float64) / 2
    check_close(w.detach(), expected, "after two steps of (X @ w).sum().backward(); sgd([w], 0.1, 2), w must be w - 2 * 0.1 * [4, 6] / 2",
                rtol=1e-6, atol=1e-6, hint="zero each gradient after the update, or backward() accumulates into it")


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
          f"of the truth; errors: w {w_err:.3g}, b {b_err:.3g}",
          w=w, b=b, hint="subtract lr * grad / batch_size and zero the gradients after each step")
