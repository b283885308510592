"""train_epoch and train: the thorough checks used for grading.

Most checks hand the code under test a small recording network (tests.support.
training_loop_probes), an optimizer or d2l-style updater that records the gradients it was
given, and minibatches of uneven sizes (so that averaging over minibatches instead of
examples shows); they compare what was recorded and returned with an independent replay of
the same training run on a copy of the network. The convergence check trains a real model on
scikit-learn's handwritten digits within a fixed budget of epochs.
"""
import torch
from hypothesis import given, settings, strategies as st
from torch import nn

from tests.support import training_loop_probes as probes
from tests.support.data import digits, loader
from tests.support.report import check, fail

LR = 0.5
TRAIN_SIZES, TEST_SIZES = (5, 5, 3), (4, 2)
batch_sizes = st.lists(st.integers(1, 6), min_size=1, max_size=4)
seeds = st.integers(0, 2**16)

DEVICE_HINT = probes.DEVICE_HINT
UPDATE_HINT = "both figures are taken before each update, so a wrong update changes them: see the checks of the gradients"



_call = probes.call


def _is_float(value) -> bool:
    return isinstance(value, float)


def _check_figures(got, what: str):
    check(isinstance(got, (tuple, list)) and len(got) == 2 and all(map(_is_float, got)),
          f"{what} must return a tuple (mean_loss, accuracy) of two Python floats", got=got,
          hint="convert with float(...) or .item(); do not return tensors")


def _epoch(impl, sizes, seed, make_updater):
    """Run impl.train_epoch on a fresh ProbeNet; return (result, net, updater, batches, twin)."""
    net = probes.ProbeNet(seed=seed)
    twin = net.plain_copy()
    batches = probes.make_batches(sizes, seed=seed + 1)
    updater = make_updater(net)
    result = _call(impl.train_epoch, net, batches, probes.loss_fn(), updater)
    return result, net, updater, batches, twin


def _sgd(net):
    return probes.SpySGD(net.parameters(), lr=LR)


def _book_updater(net):
    return probes.SpyUpdater(net.parameters(), lr=LR)


def _batch_means(values, sizes):
    return sum(v / n for v, n in zip(values, sizes)) / len(sizes)


_grads_agree = probes.grads_agree


# --- train_epoch ------------------------------------------------------------------------


def test_epoch_figures_are_python_floats(impl):
    """train_epoch returns (mean_loss, accuracy) as two Python floats, the accuracy in [0, 1]."""
    got, *_ = _epoch(impl, TRAIN_SIZES, 0, _sgd)
    check(isinstance(got, (tuple, list)) and len(got) == 2 and all(map(_is_float, got)),
          "train_epoch must return a tuple (mean_loss, accuracy) of two Python floats", got=got,
          hint="accumulate float(l.sum()) and the correct count as Python numbers; do not return tensors")
    check(0.0 <= got[1] <= 1.0, f"train_epoch's accuracy must be a fraction in [0, 1], got {got[1]}",
          hint="divide the number of correct predictions by the number of examples")


@settings(max_examples=15)
@given(sizes=batch_sizes, seed=seeds)
def test_epoch_loss_is_the_mean_over_examples(impl, sizes, seed):
    """The mean loss is the sum of every example's loss, each taken before its minibatch's update, over the number of examples."""
    got, _, _, batches, twin = _epoch(impl, sizes, seed, _sgd)
    expected = probes.replay_epoch(twin, batches, LR, "mean")
    _check_figures(got, "train_epoch")
    if not probes.close(got[0], expected.mean_loss):
        hint = None
        if probes.close(got[0], _batch_means(expected.batch_loss_sums, sizes)):
            hint = "the loss was averaged over minibatches; sum l over all examples and divide by their number"
        elif len(sizes) > 1:
            hint = UPDATE_HINT
        fail(f"train_epoch on minibatches of sizes {list(sizes)} returned mean loss {got[0]!r}; "
             f"a replay of the same epoch gives {expected.mean_loss!r}", hint=hint)


@settings(max_examples=15)
@given(sizes=batch_sizes, seed=seeds)
def test_epoch_accuracy_is_the_fraction_over_examples(impl, sizes, seed):
    """The accuracy is the number of correct predictions (before each update) over the number of examples."""
    got, _, _, batches, twin = _epoch(impl, sizes, seed, _sgd)
    expected = probes.replay_epoch(twin, batches, LR, "mean")
    _check_figures(got, "train_epoch")
    if not probes.close(got[1], expected.accuracy, 1e-9):
        hint = None
        if probes.close(got[1], _batch_means(expected.batch_correct, sizes), 1e-9):
            hint = "the accuracy was averaged over minibatches; count correct predictions over all examples and divide by their number"
        elif len(sizes) > 1:
            hint = UPDATE_HINT
        fail(f"train_epoch on minibatches of sizes {list(sizes)} returned accuracy {got[1]!r}; "
             f"a replay of the same epoch gives {expected.accuracy!r}", hint=hint)


def test_optimizer_steps_once_per_minibatch(impl):
    """With an Optimizer, train_epoch calls step() exactly once per minibatch."""
    _, _, optimizer, batches, _ = _epoch(impl, TRAIN_SIZES, 0, _sgd)
    steps = len(optimizer.step_grads)
    check(steps == len(batches), f"train_epoch over {len(batches)} minibatches called optimizer.step() {steps} times; "
          f"expected {len(batches)}",
          hint="updater.step() belongs inside the loop over minibatches (check its indentation)" if steps < len(batches) else None)


@settings(max_examples=15)
@given(sizes=batch_sizes, seed=seeds)
def test_optimizer_sees_the_gradient_of_the_mean_loss(impl, sizes, seed):
    """At each step() the gradients are those of that minibatch's mean loss alone (zeroed before backward)."""
    _, _, optimizer, batches, twin = _epoch(impl, sizes, seed, _sgd)
    expected = probes.replay_epoch(twin, batches, LR, "mean")
    check(len(optimizer.step_grads) == len(batches),
          f"train_epoch over minibatches of sizes {list(sizes)} called optimizer.step() {len(optimizer.step_grads)} times; "
          f"expected {len(batches)}", hint="call updater.step() once per minibatch, inside the loop")
    for k, (got, want) in enumerate(zip(optimizer.step_grads, expected.grads)):
        if _grads_agree(got, want):
            continue
        hint = probes.optimizer_grad_hint(got, want, sizes[k], optimizer.zero_grad_calls)
        fail(f"at step {k + 1} of train_epoch (minibatch sizes {list(sizes)}) the gradients differ from those "
             f"of that minibatch's mean loss at the parameters before the step",
             hint=hint, expected_first_weight_grad=want[0], got=got[0])


def test_epoch_trains_in_train_mode_with_autograd(impl):
    """train_epoch puts the network in training mode (also when it was left in eval mode) and runs it with autograd."""
    net = probes.ProbeNet()
    net.eval()
    _call(impl.train_epoch, net, probes.make_batches(TRAIN_SIZES), probes.loss_fn(), _sgd(net))
    check(len(net.forwards) > 0, "train_epoch never called the network")
    modes = [(f.training, f.grad_enabled) for f in net.forwards]
    check(all(training for training, _ in modes),
          "train_epoch called a network that was in eval mode without putting it in training mode",
          hint="call net.train() at the start of train_epoch", modes_at_each_forward=modes)
    check(sum(grad for _, grad in modes) >= len(TRAIN_SIZES), "train_epoch ran the network with autograd disabled",
          hint="do not wrap the training forward pass in torch.no_grad()", modes_at_each_forward=modes)


@settings(max_examples=12)
@given(sizes=batch_sizes, seed=seeds)
def test_updater_is_called_with_each_batch_size(impl, sizes, seed):
    """A d2l-style updater is called once per minibatch with that minibatch's size."""
    _, _, updater, _, _ = _epoch(impl, sizes, seed, _book_updater)
    got = list(updater.batch_sizes)
    check(len(got) == len(sizes) and all(int(n) == size for n, size in zip(got, sizes)),
          f"train_epoch over minibatches of sizes {list(sizes)} must call updater(batch_size) once per minibatch "
          f"with those sizes", got_calls=got,
          hint="call updater(X.shape[0]) right after l.sum().backward(), inside the loop")


@settings(max_examples=15)
@given(sizes=batch_sizes, seed=seeds)
def test_updater_sees_the_gradient_of_the_summed_loss(impl, sizes, seed):
    """With a d2l-style updater the gradients are those of the minibatch's summed loss (the updater divides by the size)."""
    got_result, _, updater, batches, twin = _epoch(impl, sizes, seed, _book_updater)
    expected = probes.replay_epoch(twin, batches, LR, "sum")
    check(len(updater.grads) == len(batches),
          f"train_epoch over minibatches of sizes {list(sizes)} called updater {len(updater.grads)} times; expected {len(batches)}")
    for k, (got, want) in enumerate(zip(updater.grads, expected.grads)):
        if _grads_agree(got, want):
            continue
        hint = None
        if _grads_agree([None if g is None else g * sizes[k] for g in got], want):
            hint = "with the d2l updater backpropagate l.sum(): sgd divides by batch_size itself, so l.mean() divides twice"
        fail(f"at updater call {k + 1} of train_epoch (minibatch sizes {list(sizes)}) the gradients differ from "
             "those of that minibatch's summed loss", hint=hint, expected_first_weight_grad=want[0], got=got[0])
    _check_figures(got_result, "train_epoch")
    check(probes.close(got_result[0], expected.mean_loss),
          f"train_epoch with a d2l updater returned mean loss {got_result[0]!r}; the replay gives {expected.mean_loss!r}")


# --- train --------------------------------------------------------------------------------


def _run_train(impl, num_epochs=2, updater=_sgd, device=None, net_class=probes.ProbeNet, wrap=lambda b: b):
    net = net_class()
    twin = net.plain_copy()
    train_batches = probes.make_batches(TRAIN_SIZES, seed=1)
    test_batches = probes.make_batches(TEST_SIZES, seed=2)
    upd = updater(net)
    kwargs = {} if device is None else {"device": device}
    history = _call(impl.train, net, wrap(train_batches), wrap(test_batches), probes.loss_fn(), num_epochs, upd, **kwargs)
    reduction = "mean" if isinstance(upd, torch.optim.Optimizer) else "sum"
    expected = probes.replay_train(twin, train_batches, test_batches, num_epochs, LR, reduction)
    return history, expected, net, train_batches, test_batches


def _check_history_shape(history, num_epochs):
    ok = (isinstance(history, (list, tuple)) and len(history) == num_epochs
          and all(isinstance(e, (tuple, list)) and len(e) == 3 and all(map(_is_float, e)) for e in history))
    hint = None
    if isinstance(history, (tuple, list)) and len(history) == 3 and not isinstance(history[0], (tuple, list)):
        hint = "return the figures of every epoch (a list of tuples), not only those of the last"
    elif not ok:
        hint = "append (train_loss, train_acc, test_acc) as Python floats once per epoch and return the list"
    check(ok, f"train(..., num_epochs={num_epochs}, ...) must return {num_epochs} tuples (train_loss, train_acc, test_acc) "
          "of Python floats", got=history, hint=hint)


def test_train_returns_one_triple_of_floats_per_epoch(impl):
    """train returns num_epochs tuples (train_loss, train_acc, test_acc) of Python floats."""
    history, *_ = _run_train(impl, num_epochs=3)
    _check_history_shape(history, 3)


def _check_history(history, expected, what):
    _check_history_shape(history, len(expected))
    for epoch, (got, want) in enumerate(zip(history, expected), start=1):
        for name, g, w, tol in zip(("train_loss", "train_acc", "test_acc"), got, want, (1e-7, 1e-9, 1e-9)):
            check(probes.close(g, w, tol), f"{what}: epoch {epoch}'s {name} is {g!r}; a replay of the same run gives {w!r}",
                  got_history=history, expected_history=expected,
                  hint="train from the network's current parameters (no re-initialization); each epoch is one "
                       "train_epoch pass followed by the accuracy on test_iter")


def test_train_history_matches_a_replay(impl):
    """Each epoch's (train_loss, train_acc, test_acc) matches an independent replay of the same run with an Optimizer."""
    history, expected, *_ = _run_train(impl, num_epochs=3)
    _check_history(history, expected, "train with torch.optim.SGD")


def test_train_with_the_book_updater_matches_a_replay(impl):
    """With a d2l-style updater, each epoch's figures match an independent replay."""
    history, expected, *_ = _run_train(impl, num_epochs=2, updater=_book_updater)
    _check_history(history, expected, "train with a d2l updater")


def _is_one_of(X, batches):
    return any(X.shape == B.shape and torch.equal(X, B) for B, _ in batches)


def test_test_accuracy_is_measured_on_test_iter(impl):
    """Each epoch's test accuracy is the fraction of test_iter's examples the network classifies correctly."""
    history, expected, net, train_batches, test_batches = _run_train(impl)
    _check_history_shape(history, 2)
    on_test = [f for f in net.forwards if _is_one_of(f.X, test_batches)]
    check(len(on_test) >= 2 * len(test_batches),
          f"train ran the network on {len(on_test)} minibatches of test_iter in 2 epochs; expected {2 * len(test_batches)}",
          hint="evaluate on test_iter (not train_iter) once after each epoch's training pass")
    for epoch, (got, want) in enumerate(zip(history, expected), start=1):
        check(probes.close(got[2], want[2], 1e-9), f"epoch {epoch}'s test accuracy is {got[2]!r}; expected {want[2]!r}",
              hint="the test accuracy is correct predictions on test_iter divided by its number of examples")


def test_evaluation_runs_in_eval_mode_without_autograd(impl):
    """The test minibatches go through the network in eval mode (net.eval()) and under torch.no_grad()."""
    _, _, net, _, test_batches = _run_train(impl)
    on_test = [f for f in net.forwards if _is_one_of(f.X, test_batches)]
    check(len(on_test) > 0, "train never ran the network on a minibatch of test_iter", hint="evaluate on test_iter after each epoch")
    check(not any(f.training for f in on_test), "train evaluated on test_iter with the network in training mode",
          hint="call net.eval() before evaluating (dropout and batch norm behave differently in eval mode)")
    check(not any(f.grad_enabled for f in on_test), "train evaluated on test_iter with autograd enabled",
          hint="evaluate inside with torch.no_grad():")


def test_every_epoch_trains_in_train_mode(impl):
    """After an evaluation in eval mode, the next epoch's training pass is in training mode again."""
    _, _, net, train_batches, _ = _run_train(impl, num_epochs=2)
    on_train = [f for f in net.forwards if _is_one_of(f.X, train_batches) and f.grad_enabled]
    check(len(on_train) >= 2 * len(train_batches),
          f"train ran {len(on_train)} training forward passes in 2 epochs of {len(train_batches)} minibatches; "
          f"expected {2 * len(train_batches)}")
    check(all(f.training for f in on_train), "an epoch after the first trained the network in eval mode",
          hint="call net.train() at the start of every epoch's training pass (the evaluation left it in eval mode)",
          modes=[f.training for f in on_train])


def test_moves_the_net_and_every_minibatch_to_the_device(impl):
    """With device given, the network and every minibatch of both iterators are moved there (minibatches that refuse use until moved)."""
    history, expected, net, *_ = _run_train(impl, device=torch.device("cpu"), net_class=probes.MustMoveNet,
                                            wrap=probes.elsewhere)
    check(torch.device("cpu") in net.moved_to, "train(..., device=cpu) never moved the network (net.to(device))",
          hint=DEVICE_HINT)
    _check_history(history, expected, "train(..., device=cpu)")


def test_trains_on_the_device(impl, device):
    """With device given, training on that device gives the replay's figures and leaves the network there."""
    history, expected, net, *_ = _run_train(impl, device=device)
    for name, p in net.named_parameters():
        check(p.device.type == device.type, f"after train(..., device={device}) the parameter {name} is on {p.device}",
              hint=DEVICE_HINT)
    _check_history_shape(history, 2)
    for epoch, (got, want) in enumerate(zip(history, expected), start=1):
        check(all(probes.close(g, w, 1e-6) for g, w in zip(got, want)),
              f"train(..., device={device}): epoch {epoch}'s figures differ from a replay on the CPU",
              got=got, expected=want)


def test_softmax_regression_learns_digits_with_the_book_updater(impl):
    """Softmax regression on 8x8 digits with a d2l-style sgd updater (lr 0.5, batch 64) reaches >= 88 % test accuracy in 10 epochs."""
    X_train, y_train, X_test, y_test = digits()
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    params = list(net.parameters())

    def updater(batch_size):  # d2l.sgd(params, lr, batch_size)
        with torch.no_grad():
            for p in params:
                p -= 0.5 * p.grad / batch_size
                p.grad.zero_()

    history = _call(impl.train, net, loader(X_train, y_train, 64, shuffle=True), loader(X_test, y_test, 64, shuffle=False),
                    nn.CrossEntropyLoss(reduction="none"), 10, updater)
    _check_history_shape(history, 10)
    test_acc = history[-1][2]
    check(test_acc >= 0.88, f"after 10 epochs of d2l-style sgd (lr 0.5) the test accuracy is {test_acc:.3f}; expected >= 0.88 "
          "(a correct loop reaches about 0.94)",
          hint="backpropagate l.sum() and call updater(X.shape[0]) once per minibatch")
