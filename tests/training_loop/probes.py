"""Probes for the training_loop checks: a network, an optimizer and a d2l-style updater that
record how the training loop used them, the figures a training run gives (``EpochReplay``),
and minibatches that behave like tensors on another device until they are moved.

The checks pass these objects to the code under test (through ``call``, which turns its
exceptions into plain-words failures) and compare what the probes recorded and what it
returned with what the replay (tests/training_loop/replay.py) computed.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch
import torch._dynamo  # noqa: F401  torch.optim imports it lazily at the first optimizer (seconds): do it with torch
from torch import nn


NUM_FEATURES, NUM_CLASSES = 4, 3


# --- the network ------------------------------------------------------------------------


@dataclass
class Forward:
    """One call of the probe network's forward."""

    X: torch.Tensor       # a detached CPU copy of the input
    training: bool        # net.training at the call
    grad_enabled: bool    # torch.is_grad_enabled() at the call


class ProbeNet(nn.Module):
    """A small two-layer network (float64), with dropout between the layers when asked, that
    records every forward call, the parameters it first ran with, and every request to move
    it to a device (``to``, ``cpu``, ``cuda``)."""

    def __init__(self, hidden: int = 5, seed: int = 0, dropout: float = 0.0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.hidden = nn.Linear(NUM_FEATURES, hidden).double()
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, NUM_CLASSES).double()
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype))
        self._d2l_initial = [p.detach().clone() for p in self.parameters()]
        self._d2l_first_forward_params: list[torch.Tensor] | None = None
        self._d2l_forwards: list[Forward] = []
        self._d2l_moved_to: list[torch.device] = []

    def forward(self, X):
        if isinstance(X, ElsewhereTensor):
            raise NotMovedError(f"net(X) was called with a minibatch X of {X.source} that was never moved to the "
                                "device (on a GPU: 'Expected all tensors to be on the same device')")
        if self._d2l_first_forward_params is None:
            self._d2l_first_forward_params = [p.detach().cpu().clone() for p in self.parameters()]
        self._d2l_forwards.append(Forward(X.detach().cpu().clone(), self.training, torch.is_grad_enabled()))
        return self.out(self.drop(torch.tanh(self.hidden(X))))

    def reinitialized(self) -> bool:
        """Whether the parameters were changed before the first forward pass (no training step can have done that)."""
        return self._d2l_first_forward_params is not None and not all(
            torch.equal(p, q) for p, q in zip(self._d2l_first_forward_params, self._d2l_initial))

    def to(self, *args, **kwargs):
        device = torch._C._nn._parse_to(*args, **kwargs)[0]
        if device is not None:
            self._d2l_moved_to.append(torch.device(device))
        return super().to(*args, **kwargs)

    def cpu(self):
        self._d2l_moved_to.append(torch.device("cpu"))
        return super().cpu()

    def cuda(self, device=None):
        self._d2l_moved_to.append(torch.device("cuda"))
        return super().cuda(device)

    def plain_copy(self) -> "ProbeNet":
        """A ProbeNet with the same parameters and dropout, for the replay (it records into its own lists)."""
        twin = ProbeNet(hidden=self.hidden.out_features, dropout=self.drop.p)
        twin.load_state_dict(copy.deepcopy(self.state_dict()))
        return twin


def make_batches(sizes, seed: int = 0, dtype=torch.float64):
    """A list of ``(X, y)`` minibatches of the given sizes (reusable, like a DataLoader)."""
    generator = torch.Generator().manual_seed(seed)
    batches = []
    for n in sizes:
        X = torch.randn(n, NUM_FEATURES, generator=generator, dtype=dtype)
        y = torch.randint(0, NUM_CLASSES, (n,), generator=generator)
        batches.append((X, y))
    return batches


def loss_fn():
    return nn.CrossEntropyLoss(reduction="none")


class SpyLoss(nn.Module):
    """An elementwise loss other than cross-entropy (multi-class hinge, reduction='none') that
    counts its calls: a loop must use the loss it is given."""

    def __init__(self):
        super().__init__()
        self.base = nn.MultiMarginLoss(reduction="none")
        self._d2l_calls = 0

    def forward(self, y_hat, y):
        self._d2l_calls += 1
        return self.base(y_hat, y)


# --- the updaters -----------------------------------------------------------------------


def spying(optimizer_class):
    """``optimizer_class`` recording, at each ``step()``, a copy of every parameter's gradient
    (None where there is none), and counting the ``zero_grad()`` calls."""

    class Spy(optimizer_class):
        def __init__(self, params, lr, **kwargs):
            super().__init__(params, lr=lr, **kwargs)
            self._d2l_step_grads: list[list[torch.Tensor | None]] = []
            self._d2l_zero_grad_calls = 0

        def _params(self):
            return [p for group in self.param_groups for p in group["params"]]

        def zero_grad(self, set_to_none: bool = True):
            self._d2l_zero_grad_calls += 1
            return super().zero_grad(set_to_none)

        def step(self, closure=None):
            self._d2l_step_grads.append([None if p.grad is None else p.grad.detach().cpu().clone() for p in self._params()])
            return super().step(closure)

    Spy.__name__ = Spy.__qualname__ = f"Spy{optimizer_class.__name__}"
    return Spy


SpySGD = spying(torch.optim.SGD)
SpyAdam = spying(torch.optim.Adam)


class SpyUpdater:
    """A d2l-style updater ``updater(batch_size)``: it records the batch size and every
    parameter's gradient, then updates as the book's ``sgd`` does (``p -= lr * p.grad /
    batch_size``, here through torch.optim.SGD, so that no hand-written sgd ships with the
    checks) and zeroes the gradients in place, as ``d2l.sgd`` does."""

    def __init__(self, params, lr):
        self.params = list(params)
        self.lr = lr
        self._d2l_batch_sizes: list = []
        self._d2l_grads: list[list[torch.Tensor | None]] = []
        self._sgd = torch.optim.SGD(self.params, lr=lr)

    def __call__(self, batch_size, /):  # the contract calls updater(X.shape[0]): positional, whatever the name
        self._d2l_batch_sizes.append(batch_size)
        self._d2l_grads.append([None if p.grad is None else p.grad.detach().cpu().clone() for p in self.params])
        for group in self._sgd.param_groups:
            group["lr"] = self.lr / float(batch_size)
        self._sgd.step()
        self._sgd.zero_grad(set_to_none=False)


# --- what the checks compare with: the figures of a training run (tests/training_loop/replay.py) ---


@dataclass
class EpochReplay:
    mean_loss: float
    accuracy: float
    grads: list[list[torch.Tensor]] = field(default_factory=list)  # per minibatch, per parameter
    batch_loss_sums: list[float] = field(default_factory=list)      # per minibatch: the summed loss
    batch_correct: list[int] = field(default_factory=list)          # per minibatch: correct predictions


# --- minibatches that must be moved before use --------------------------------------------

_METADATA = {
    torch.Tensor.shape.__get__, torch.Tensor.dtype.__get__,
    torch.Tensor.ndim.__get__, torch.Tensor.is_cuda.__get__, torch.Tensor.requires_grad.__get__,
    torch.Tensor.size, torch.Tensor.numel, torch.Tensor.dim, torch.Tensor.__len__,
    torch.Tensor.__repr__, torch.Tensor.__format__,
}


ELSEWHERE = torch.device("meta")  # the device an ElsewhereTensor reports


class NotMovedError(RuntimeError):
    """What using a minibatch that was not moved to the device raises (like CUDA's
    'Expected all tensors to be on the same device')."""


class ElsewhereTensor(torch.Tensor):
    """A minibatch tensor that behaves as if it lived on another device: its shape, size and
    dtype can be read, but any computation with it raises NotMovedError until it is moved
    with ``.to(device)`` (or ``.cpu()``, or an operation given ``device=``), which returns a
    plain tensor."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func == torch.Tensor.device.__get__:  # method-wrappers compare equal, never identical
            # Elsewhere: so that a loop that moves a minibatch only when it is not already on
            # the device (`if X.device != device`) moves it, as it would from a real GPU.
            return ELSEWHERE
        if func in _METADATA:
            with torch._C.DisableTorchFunctionSubclass():
                return func(*args, **kwargs)
        target = None
        if func is torch.Tensor.to:
            target = torch._C._nn._parse_to(*args[1:], **kwargs)[0]
        elif func is torch.Tensor.cpu:
            target = torch.device("cpu")
        elif func is torch.Tensor.cuda:
            target = torch.device("cuda")
        elif "device" in kwargs and kwargs["device"] is not None:
            target = kwargs["device"]
        plain_args = tuple(a.as_subclass(torch.Tensor) if isinstance(a, ElsewhereTensor) else a for a in args)
        if target is not None:
            with torch._C.DisableTorchFunctionSubclass():
                result = func(*plain_args, **kwargs)
            return result.as_subclass(torch.Tensor) if isinstance(result, torch.Tensor) else result
        if func is torch.Tensor.to:  # a dtype-only conversion: still elsewhere
            with torch._C.DisableTorchFunctionSubclass():
                return func(*plain_args, **kwargs).as_subclass(cls)
        source = next((getattr(a, "source", "") for a in args if isinstance(a, ElsewhereTensor)), "")
        raise NotMovedError(
            f"{getattr(func, '__name__', func)} was applied to a minibatch of {source or 'an iterator'} that was "
            "never moved to the device (on a GPU: 'Expected all tensors to be on the same device')"
        )


def elsewhere(batches, source: str):
    """The same minibatches, as tensors that must be moved to the device before use;
    ``source`` ("train_iter" or "test_iter") is named when one is used unmoved."""
    wrapped = []
    for X, y in batches:
        X, y = X.as_subclass(ElsewhereTensor), y.as_subclass(ElsewhereTensor)
        X.source = y.source = source
        wrapped.append((X, y))
    return wrapped


class NetNotMovedError(RuntimeError):
    """What using a MustMoveNet before ``net.to(device)`` raises."""


class MustMoveNet(ProbeNet):
    """A ProbeNet whose forward raises NetNotMovedError until ``net.to(device)`` (or
    ``.cpu()``/``.cuda()``) was called."""

    def forward(self, X):
        if not self._d2l_moved_to:
            raise NetNotMovedError("the network was used before it was moved to the device (net.to(device))")
        return super().forward(X)


# --- comparing ---------------------------------------------------------------------------

# Figures are sums over at most a few dozen examples: a correct loop that accumulates them in
# float32 (torch.zeros(3) as an accumulator, say) is within about 1e-6 of the float64 replay.
FIGURE_TOLERANCE = 1e-5


def close(a, b, tol: float = FIGURE_TOLERANCE) -> bool:
    """A figure returned as a Python float, within ``tol`` (relative, absolute below 1) of ``b``."""
    return isinstance(a, float) and abs(a - b) <= tol * max(1.0, abs(b))


def grads_agree(got, expected) -> bool:
    """Recorded gradients (None where missing) equal the expected ones, parameter by parameter."""
    return len(got) == len(expected) and all(
        g is not None and g.shape == e.shape and torch.allclose(g.double(), e.double(), rtol=1e-6, atol=1e-9)
        for g, e in zip(got, expected))
