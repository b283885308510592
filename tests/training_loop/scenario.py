"""The training runs the training_loop checks ask for, as data.

A check describes a run with a :class:`Setup` (which network, minibatches, loss and updater,
how many epochs, which device). :func:`run` builds those probes (tests/training_loop/probes.py)
where the student's code is, calls ``train_epoch`` or ``train`` with them, and returns the
result and what the probes recorded, as plain data: tensors, numbers, strings. With isolation
that is the sandboxed worker (grader/worker/serve.py runs :func:`run` there and sends the data
back); with ``--isolation=none`` it is this process. Either way the checker turns the data into
an :class:`Observed` and computes every verdict from it, against its own replay.
"""
from __future__ import annotations

import operator
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from tests.common import seeding
from tests.training_loop import probes


@dataclass(frozen=True)
class Setup:
    function: str = "train_epoch"        # or "train"
    net: str = "probe"                   # "probe", "must_move" (refuses use before net.to), "digits" (softmax regression)
    seed: int = 0                        # the probe network's parameters
    dropout: float = 0.0
    eval_first: bool = False             # net.eval() before the call
    leftover: float | None = None        # every parameter's .grad set to this before the call
    sizes: tuple[int, ...] = (5, 5, 3)   # the training minibatches (probes.make_batches)
    batch_seed: int = 0
    test_sizes: tuple[int, ...] = ()     # the test minibatches, for train
    test_seed: int = 2
    elsewhere: bool = False              # minibatches that refuse use until moved to the device
    loss: str = "cross_entropy"          # or "hinge" (probes.SpyLoss)
    updater: str = "sgd"                 # "sgd", "adam" (spying optimizers), "book" (probes.SpyUpdater),
    #                                      "book_function" (the same as a plain function), "torch_sgd"
    lr: float = 0.5
    num_epochs: int = 1
    device: str | None = None            # train's device argument
    rng_seed: int | None = None          # torch's generator seeded right before the call (dropout masks)

    @property
    def reduction(self) -> str:
        """How the loop must reduce the loss for this updater: mean for an Optimizer, sum for d2l's."""
        return "sum" if self.updater in ("book", "book_function") else "mean"


@dataclass
class ObservedNet:
    forwards: list[probes.Forward]
    moved_to: list[torch.device]
    initial: list[torch.Tensor]
    first_forward_params: list[torch.Tensor] | None
    parameters: list[tuple[str, torch.Tensor]]

    def named_parameters(self):
        return iter(self.parameters)

    def reinitialized(self) -> bool:
        """Whether the parameters were changed before the first forward pass (no training step can have done that)."""
        return self.first_forward_params is not None and not all(
            torch.equal(p, q) for p, q in zip(self.first_forward_params, self.initial))


@dataclass
class ObservedUpdater:
    step_grads: list[list[torch.Tensor | None]] = field(default_factory=list)  # an Optimizer's, at each step()
    zero_grad_calls: int = 0
    batch_sizes: list = field(default_factory=list)                           # d2l updater's, at each call
    grads: list[list[torch.Tensor | None]] = field(default_factory=list)


@dataclass
class Observed:
    net: ObservedNet
    updater: ObservedUpdater
    loss_calls: int


def call(impl, setup: Setup) -> tuple[object, Observed]:
    """Run ``setup`` with the code under test: in its worker when it is isolated, else here."""
    session = getattr(impl, "_session", None)
    if session is None:
        result, recorded = run(impl, asdict(setup))
    else:
        from grader.remote import RemoteFunction

        result, recorded = RemoteFunction(session, ["$scenario", "training_loop"])(asdict(setup))
    return result, observed(recorded)


def prepare() -> None:
    """What the runs need that takes seconds the first time, done once before any code is timed
    (the worker's zygote calls this before it forks the child that grades the exercise): the
    digits, and torch.optim's first optimizer (it imports torch._dynamo)."""
    from tests.common.data import digits

    digits()
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)


def run(module, setup: dict):
    """Build ``setup``'s probes, call ``module``'s function with them; ``(result, what they recorded)``."""
    setup = Setup(**{k: tuple(v) if k in ("sizes", "test_sizes") else v for k, v in setup.items()})
    net, loss, updater, args, kwargs = _build(setup)
    if setup.rng_seed is not None:
        seeding.seed(setup.rng_seed)
    result = getattr(module, setup.function)(*args, **kwargs)
    return result, _record(net, loss, updater)


def _build(setup: Setup):
    net = _net(setup)
    batches = _batches(setup)
    loss = probes.SpyLoss() if setup.loss == "hinge" else probes.loss_fn()
    updater = _updater(setup, net)
    if setup.leftover is not None:
        for p in net.parameters():
            p.grad = torch.full_like(p, setup.leftover)
    if setup.eval_first:
        net.eval()
    call_updater = _as_function(updater) if setup.updater == "book_function" else updater
    if setup.function == "train_epoch":
        return net, loss, updater, (net, batches[0], loss, call_updater), {}
    kwargs = {} if setup.device is None else {"device": torch.device(setup.device)}
    return net, loss, updater, (net, *batches, loss, setup.num_epochs, call_updater), kwargs


def _net(setup: Setup) -> nn.Module:
    if setup.net == "digits":
        return nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    kind = probes.MustMoveNet if setup.net == "must_move" else probes.ProbeNet
    return kind(seed=setup.seed, dropout=setup.dropout)


def _batches(setup: Setup):
    if setup.net == "digits":
        from tests.common.data import digits, loader

        X_train, y_train, X_test, y_test = digits()
        return loader(X_train, y_train, 64, shuffle=True), loader(X_test, y_test, 64, shuffle=False)
    train = probes.make_batches(setup.sizes, seed=setup.batch_seed)
    test = probes.make_batches(setup.test_sizes, seed=setup.test_seed)
    if setup.elsewhere:
        train, test = probes.elsewhere(train, "train_iter"), probes.elsewhere(test, "test_iter")
    return train, test


def _updater(setup: Setup, net: nn.Module):
    if setup.updater == "adam":
        return probes.SpyAdam(net.parameters(), lr=setup.lr)
    if setup.updater in ("book", "book_function"):
        return probes.SpyUpdater(net.parameters(), lr=setup.lr)
    if setup.updater == "torch_sgd":
        return torch.optim.SGD(net.parameters(), lr=setup.lr)
    return probes.SpySGD(net.parameters(), lr=setup.lr)


def _as_function(updater):
    def updater_function(batch_size):  # what the book writes: lambda batch_size: d2l.sgd(params, lr, batch_size)
        return updater(batch_size)

    return updater_function


def _record(net: nn.Module, loss, updater) -> dict:
    # The probes keep their records under private names (tests/training_loop/probes.py), which
    # code under test cannot reach without a construct the tampering rule refuses
    # (grader/forbidden.py): a loop that rewrote net.forwards[-1].training scored full marks.
    recorded = {"net": {"forwards": [{"X": f.X, "training": f.training, "grad_enabled": f.grad_enabled}
                                     for f in getattr(net, "_d2l_forwards", [])],
                        "moved_to": [str(d) for d in getattr(net, "_d2l_moved_to", [])],
                        "initial": list(getattr(net, "_d2l_initial", [])),
                        "first_forward_params": getattr(net, "_d2l_first_forward_params", None),
                        "parameters": [[name, p.detach()] for name, p in net.named_parameters()]},
                "updater": {key: getattr(updater, f"_d2l_{key}") for key in ("step_grads", "zero_grad_calls", "grads")
                            if hasattr(updater, f"_d2l_{key}")},
                "loss_calls": getattr(loss, "_d2l_calls", 0)}
    if hasattr(updater, "_d2l_batch_sizes"):
        recorded["updater"]["batch_sizes"] = [_plain(n) for n in updater._d2l_batch_sizes]
    return recorded


def _plain(value):
    """A batch size as the code passed it, as data (an int-like such as numpy.int64 becomes an int)."""
    if isinstance(value, (int, float, torch.Tensor)):
        return value
    try:
        return operator.index(value)
    except TypeError:
        return repr(value)


def observed(recorded: dict) -> Observed:
    """What :func:`run` recorded, as the checks read it (the checker's side)."""
    net = recorded["net"]
    return Observed(
        ObservedNet([probes.Forward(**f) for f in net["forwards"]], [torch.device(d) for d in net["moved_to"]],
                    list(net["initial"]), net["first_forward_params"],
                    [(str(name), p) for name, p in net["parameters"]]),
        ObservedUpdater(**recorded["updater"]), int(recorded["loss_calls"]))
