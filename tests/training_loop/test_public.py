"""train_epoch and train: the checks every student sees.

They hand the code a small recording network and optimizer (tests/training_loop/probes.py),
built where the code runs (tests/training_loop/scenario.py: in its sandboxed worker), and
compare what those recorded with a replay of the same training run on a copy of the network
(tests/training_loop/expected.py: the replay itself in the course repository, its stored
figures in a student's release).
"""
import torch

from tests.common.report import check, fail
from tests.training_loop import expected as replayed
from tests.training_loop import hints, probes
from tests.training_loop.expected import LR, SIZES
from tests.training_loop.scenario import Setup

EPOCH = Setup(sizes=SIZES, lr=LR)
TRAIN = Setup(function="train", sizes=SIZES, batch_seed=1, test_sizes=(4, 2), test_seed=2, num_epochs=2, lr=LR)


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
    expected, after = replayed.epoch("epoch"), replayed.epoch("epoch_figures_after_update")
    got, _ = hints.run(impl, EPOCH)
    check_epoch_figures(got, expected, SIZES, "train_epoch", after_update=after)


def test_optimizer_steps_once_per_minibatch_on_the_mean_loss(impl):
    """With an Optimizer: zero_grad, l.mean().backward() and one step() per minibatch."""
    expected = replayed.epoch("epoch")
    _, seen = hints.run(impl, EPOCH)
    optimizer = seen.updater
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
    _, seen = hints.run(impl, Setup(sizes=SIZES, lr=LR, updater="book"))
    sizes = seen.updater.batch_sizes
    got = [int(n) for n in sizes] if all(isinstance(n, (int, float, torch.Tensor)) for n in sizes) else sizes
    cumulative = [sum(SIZES[:k + 1]) for k in range(len(SIZES))]
    check(got == list(SIZES), f"train_epoch over minibatches of sizes {list(SIZES)} must call updater with those sizes, in order",
          got_calls=sizes, mistake=hints.EXAMPLES_SEEN if got == cumulative else None)


def test_train_returns_the_history(impl):
    """train returns one (train_loss, train_acc, test_acc) tuple of Python floats per epoch."""
    history, _ = hints.run(impl, TRAIN)
    last_only = isinstance(history, (tuple, list)) and len(history) == 3 and all(isinstance(v, float) for v in history)
    check(isinstance(history, (list, tuple)) and len(history) == 2
          and all(isinstance(e, (tuple, list)) and len(e) == 3 and all(isinstance(v, float) for v in e) for e in history),
          "train(..., num_epochs=2, ...) must return 2 tuples (train_loss, train_acc, test_acc) of Python floats",
          got=history, mistake=hints.LAST_EPOCH_ONLY if last_only else None)


def test_train_evaluates_in_eval_mode_without_autograd(impl):
    """train evaluates on test_iter once per epoch, in eval mode and without autograd."""
    _, seen = hints.run(impl, TRAIN)
    check_eval_modes(seen.net.forwards, probes.make_batches(TRAIN.test_sizes, seed=TRAIN.test_seed))


def test_softmax_regression_learns_digits(impl):
    """Softmax regression on 8x8 digits with torch.optim.SGD (lr 0.5, batch 64) reaches >= 88 % test accuracy in 5 epochs."""
    history, _ = hints.run(impl, Setup(function="train", net="digits", updater="torch_sgd", lr=0.5, num_epochs=5))
    if not (isinstance(history, (list, tuple)) and len(history) == 5):
        fail("train(..., num_epochs=5, ...) must return one tuple per epoch", got=history)
    test_acc = history[-1][2]
    check(isinstance(test_acc, (int, float)) and test_acc >= 0.88,
          f"after 5 epochs of SGD (lr 0.5) the test accuracy is {test_acc!r}; expected >= 0.88 "
          "(a correct loop reaches about 0.93)")
