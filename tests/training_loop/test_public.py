"""train_epoch and train: the checks every student sees.

They use a small recording network and optimizer (tests/training_loop/probes.py) and compare
with a replay of the same training run on a copy of the network.
"""
import torch
from torch import nn

from tests.common.data import digits, loader
from tests.common.report import check, fail
from tests.training_loop import hints, probes

LR = 0.5
SIZES = (5, 5, 3)  # uneven: the last minibatch is smaller


def check_epoch_figures(got, expected: probes.EpochReplay, sizes, what: str, after_update=None) -> None:
    """train_epoch returned (mean loss, accuracy) as Python floats equal to the replay's."""
    check(isinstance(got, (tuple, list)) and len(got) == 2 and all(isinstance(v, float) for v in got),
          f"{what} must return a tuple (mean_loss, accuracy) of two Python floats", got=got,
          mistake=hints.RETURNS_TENSORS if isinstance(got, (tuple, list)) and any(isinstance(v, torch.Tensor) for v in got)
          else None)
    for which, value, wanted in (("loss", got[0], expected.mean_loss), ("accuracy", got[1], expected.accuracy)):
        check(probes.close(value, wanted),
              f"{what} on minibatches of sizes {list(sizes)} returned mean {which} {value!r}; a replay of the same "
              f"epoch gives {wanted!r} (averaged over the {sum(sizes)} examples, each taken before its minibatch's update)",
              mistake=lambda which=which, value=value: hints.figure_mistake(value, which, expected, sizes, after_update))


def check_eval_modes(forwards, test_batches) -> None:
    """Every forward pass on a test minibatch ran in eval mode and without autograd, each said on its own."""
    on_test = [f for f in forwards if any(f.X.shape == X.shape and torch.equal(f.X, X) for X, _ in test_batches)]
    check(len(on_test) > 0, "train never ran the network on a minibatch of test_iter", mistake=hints.EVALUATES_ON_TRAIN)
    check(not any(f.training for f in on_test), "train evaluated on test_iter with the network in training mode",
          mistake=hints.NO_EVAL_MODE)
    check(not any(f.grad_enabled for f in on_test), "train evaluated on test_iter with autograd enabled",
          mistake=hints.EVAL_WITH_AUTOGRAD)


def test_train_epoch_returns_mean_loss_and_accuracy(impl):
    """train_epoch returns (mean loss, accuracy) as Python floats, averaged over examples."""
    net = probes.ProbeNet()
    expected = probes.replay_epoch(net.plain_copy(), probes.make_batches(SIZES), LR, "mean")
    after = probes.replay_epoch(net.plain_copy(), probes.make_batches(SIZES), LR, "mean", figures_after_update=True)
    got = hints.call(impl.train_epoch, net, probes.make_batches(SIZES), probes.loss_fn(), probes.SpySGD(net.parameters(), LR))
    check_epoch_figures(got, expected, SIZES, "train_epoch", after_update=after)


def test_optimizer_steps_once_per_minibatch_on_the_mean_loss(impl):
    """With an Optimizer: zero_grad, l.mean().backward() and one step() per minibatch."""
    net = probes.ProbeNet()
    expected = probes.replay_epoch(net.plain_copy(), probes.make_batches(SIZES), LR, "mean")
    optimizer = probes.SpySGD(net.parameters(), LR)
    hints.call(impl.train_epoch, net, probes.make_batches(SIZES), probes.loss_fn(), optimizer)
    steps = len(optimizer.step_grads)
    check(steps == len(SIZES), f"train_epoch over {len(SIZES)} minibatches called optimizer.step() {steps} times",
          mistake=hints.STEP_ONCE if steps == 1 else None)
    for k, (got, want) in enumerate(zip(optimizer.step_grads, expected.grads), start=1):
        check(probes.grads_agree(got, want), f"at step {k} the gradients must be those of minibatch {k}'s mean loss alone",
              mistake=lambda: hints.optimizer_grads_mistake(optimizer.step_grads, expected.grads, SIZES,
                                                            optimizer.zero_grad_calls),
              expected_first_weight_grad=want[0], got=got[0])


def test_book_updater_gets_each_batch_size(impl):
    """With a d2l-style updater: l.sum().backward(), then updater(batch_size) once per minibatch."""
    net = probes.ProbeNet()
    updater = probes.SpyUpdater(net.parameters(), LR)
    hints.call(impl.train_epoch, net, probes.make_batches(SIZES), probes.loss_fn(), updater)
    got = [int(n) for n in updater.batch_sizes]
    cumulative = [sum(SIZES[:k + 1]) for k in range(len(SIZES))]
    check(got == list(SIZES), f"train_epoch over minibatches of sizes {list(SIZES)} must call updater with those sizes, in order",
          got_calls=updater.batch_sizes, mistake=hints.EXAMPLES_SEEN if got == cumulative else None)


def test_train_returns_the_history(impl):
    """train returns one (train_loss, train_acc, test_acc) tuple of Python floats per epoch."""
    net = probes.ProbeNet()
    history = hints.call(impl.train, net, probes.make_batches(SIZES, seed=1), probes.make_batches((4, 2), seed=2),
                         probes.loss_fn(), 2, probes.SpySGD(net.parameters(), LR))
    last_only = isinstance(history, (tuple, list)) and len(history) == 3 and all(isinstance(v, float) for v in history)
    check(isinstance(history, (list, tuple)) and len(history) == 2
          and all(isinstance(e, (tuple, list)) and len(e) == 3 and all(isinstance(v, float) for v in e) for e in history),
          "train(..., num_epochs=2, ...) must return 2 tuples (train_loss, train_acc, test_acc) of Python floats",
          got=history, mistake=hints.LAST_EPOCH_ONLY if last_only else None)


def test_train_evaluates_in_eval_mode_without_autograd(impl):
    """train evaluates on test_iter once per epoch, in eval mode and without autograd."""
    net = probes.ProbeNet()
    test_batches = probes.make_batches((4, 2), seed=2)
    hints.call(impl.train, net, probes.make_batches(SIZES, seed=1), test_batches, probes.loss_fn(), 2,
               probes.SpySGD(net.parameters(), LR))
    check_eval_modes(net.forwards, test_batches)


def test_softmax_regression_learns_digits(impl):
    """Softmax regression on 8x8 digits with torch.optim.SGD (lr 0.5, batch 64) reaches >= 88 % test accuracy in 5 epochs."""
    X_train, y_train, X_test, y_test = digits()
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    history = hints.call(impl.train, net, loader(X_train, y_train, 64, shuffle=True), loader(X_test, y_test, 64, shuffle=False),
                         nn.CrossEntropyLoss(reduction="none"), 5, torch.optim.SGD(net.parameters(), lr=0.5))
    if not (isinstance(history, (list, tuple)) and len(history) == 5):
        fail("train(..., num_epochs=5, ...) must return one tuple per epoch", got=history)
    test_acc = history[-1][2]
    check(test_acc >= 0.88, f"after 5 epochs of SGD (lr 0.5) the test accuracy is {float(test_acc)!r}; expected >= 0.88 "
          "(a correct loop reaches about 0.93)")
