"""train_epoch and train: the checks every student sees.

They use a small recording network and optimizer (tests/support/training_loop_probes.py)
and compare with a replay of the same training run on a copy of the network.
"""
import torch
from torch import nn

from tests.support import training_loop_probes as probes
from tests.support.data import digits, loader
from tests.support.report import check, fail

LR = 0.5
SIZES = (5, 5, 3)  # uneven: the last minibatch is smaller



def test_train_epoch_returns_mean_loss_and_accuracy(impl):
    """train_epoch returns (mean loss, accuracy) as Python floats, averaged over examples."""
    net = probes.ProbeNet()
    expected = probes.replay_epoch(net.plain_copy(), probes.make_batches(SIZES), LR, "mean")
    got = probes.call(impl.train_epoch, net, probes.make_batches(SIZES), probes.loss_fn(), probes.SpySGD(net.parameters(), LR))
    check(isinstance(got, (tuple, list)) and len(got) == 2 and all(isinstance(v, float) for v in got),
          "train_epoch must return a tuple (mean_loss, accuracy) of two Python floats", got=got,
          hint="convert with float(...) or .item(); do not return tensors")
    by_batch = [sum(v / n for v, n in zip(values, SIZES)) / len(SIZES)
                for values in (expected.batch_loss_sums, expected.batch_correct)]
    if probes.close(got[0], by_batch[0]) or probes.close(got[1], by_batch[1], 1e-9):
        hint = "sum l and the correct predictions over all examples and divide by their number, not by the number of minibatches"
    else:
        hint = "the figures are taken before each update, so wrong updates change them: see the optimizer check"
    check(probes.close(got[0], expected.mean_loss) and probes.close(got[1], expected.accuracy, 1e-9),
          f"train_epoch on minibatches of sizes {list(SIZES)} must return the loss and accuracy averaged over "
          "the 13 examples, each taken before its minibatch's update",
          expected=(expected.mean_loss, expected.accuracy), got=got, hint=hint)


def test_optimizer_steps_once_per_minibatch_on_the_mean_loss(impl):
    """With an Optimizer: zero_grad, l.mean().backward() and one step() per minibatch."""
    net = probes.ProbeNet()
    expected = probes.replay_epoch(net.plain_copy(), probes.make_batches(SIZES), LR, "mean")
    optimizer = probes.SpySGD(net.parameters(), LR)
    probes.call(impl.train_epoch, net, probes.make_batches(SIZES), probes.loss_fn(), optimizer)
    check(len(optimizer.step_grads) == len(SIZES),
          f"train_epoch over {len(SIZES)} minibatches called optimizer.step() {len(optimizer.step_grads)} times",
          hint="call updater.step() once per minibatch, inside the loop")
    for k, (got, want) in enumerate(zip(optimizer.step_grads, expected.grads), start=1):
        check(probes.grads_agree(got, want), f"at step {k} the gradients must be those of minibatch {k}'s mean loss alone",
              hint=probes.optimizer_grad_hint(got, want, SIZES[k - 1], optimizer.zero_grad_calls)
              or "updater.zero_grad(), then l.mean().backward(), then updater.step()",
              expected_first_weight_grad=want[0], got=got[0])


def test_book_updater_gets_each_batch_size(impl):
    """With a d2l-style updater: l.sum().backward(), then updater(batch_size) once per minibatch."""
    net = probes.ProbeNet()
    updater = probes.SpyUpdater(net.parameters(), LR)
    probes.call(impl.train_epoch, net, probes.make_batches(SIZES), probes.loss_fn(), updater)
    check([int(n) for n in updater.batch_sizes] == list(SIZES),
          f"train_epoch over minibatches of sizes {list(SIZES)} must call updater with those sizes, in order",
          got_calls=updater.batch_sizes, hint="call updater(X.shape[0]) inside the loop")


def test_train_returns_the_history_and_evaluates_in_eval_mode(impl):
    """train returns one (train_loss, train_acc, test_acc) per epoch and evaluates in eval mode without autograd."""
    net = probes.ProbeNet()
    test_batches = probes.make_batches((4, 2), seed=2)
    history = probes.call(impl.train, net, probes.make_batches(SIZES, seed=1), test_batches, probes.loss_fn(), 2,
                          probes.SpySGD(net.parameters(), LR))
    check(isinstance(history, (list, tuple)) and len(history) == 2
          and all(isinstance(e, (tuple, list)) and len(e) == 3 and all(isinstance(v, float) for v in e) for e in history),
          "train(..., num_epochs=2, ...) must return 2 tuples (train_loss, train_acc, test_acc) of Python floats",
          got=history)
    on_test = [f for f in net.forwards if any(f.X.shape == X.shape and torch.equal(f.X, X) for X, _ in test_batches)]
    check(len(on_test) >= 2 * len(test_batches), f"train must run the network on test_iter's {len(test_batches)} "
          f"minibatches once per epoch; it did {len(on_test)} times in 2 epochs")
    check(all(not f.training and not f.grad_enabled for f in on_test),
          "train must evaluate on test_iter in eval mode and without autograd",
          hint="net.eval() and with torch.no_grad(): before the evaluation loop")


def test_softmax_regression_learns_digits(impl):
    """Softmax regression on 8x8 digits with torch.optim.SGD (lr 0.5, batch 64) reaches >= 88 % test accuracy in 10 epochs."""
    X_train, y_train, X_test, y_test = digits()
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    history = probes.call(impl.train, net, loader(X_train, y_train, 64, shuffle=True), loader(X_test, y_test, 64, shuffle=False),
                          nn.CrossEntropyLoss(reduction="none"), 10, torch.optim.SGD(net.parameters(), lr=0.5))
    if not (isinstance(history, (list, tuple)) and len(history) == 10):
        fail("train(..., num_epochs=10, ...) must return one tuple per epoch", got=history)
    test_acc = history[-1][2]
    check(test_acc >= 0.88, f"after 10 epochs of SGD (lr 0.5) the test accuracy is {float(test_acc):.3f}; expected >= 0.88 "
          "(a correct loop reaches about 0.94)",
          hint="zero_grad, l.mean().backward() and step() once per minibatch")
