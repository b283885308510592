"""train_epoch and train: the thorough checks used for grading.

Most checks hand the code under test a small recording network (tests/training_loop/probes.py),
an optimizer or d2l-style updater that records the gradients it was given, and minibatches of
uneven sizes (so that averaging over minibatches instead of examples shows); they compare what
was recorded and returned with an independent replay of the same training run on a copy of
the network. What the contract lets vary varies here: the loss (a hinge loss as well as
cross-entropy), the optimizer (Adam as well as SGD), randomness in the network (dropout), and
the gradients the parameters hold when training starts. The convergence check trains a real
model on scikit-learn's handwritten digits within a fixed budget of epochs.
"""
import torch
from hypothesis import settings, strategies as st

from tests.common import seeding
from tests.common.forbidden import check_no_forbidden_calls
from tests.common.hypo import given
from tests.common.report import check, fail
from tests.training_loop import hints, probes, replay
from tests.training_loop.scenario import Setup
from tests.training_loop.test_public import check_epoch_figures, check_eval_modes

LR = 0.5
TRAIN_SIZES, TEST_SIZES = (5, 5, 3), (4, 2)
batch_sizes = st.lists(st.integers(1, 6), min_size=1, max_size=4)
seeds = st.integers(0, 2**16)


def _epoch(impl, sizes, seed, updater="sgd", loss="cross_entropy", dropout=0.0, leftover=None):
    """Run impl.train_epoch on a fresh ProbeNet (seeded ``seed``, its minibatches ``seed + 1``,
    torch seeded ``seed`` right before the call: the same dropout masks as the replay's, for a
    loop that runs each minibatch once); return (result, net, updater, batches, twin), where
    net and updater are what the probes recorded and twin is a fresh copy of the network."""
    setup = Setup(sizes=tuple(sizes), seed=seed, batch_seed=seed + 1, dropout=dropout, leftover=leftover, loss=loss,
                  updater=updater, lr=0.05 if updater == "adam" else LR, rng_seed=seed)
    result, seen = hints.run(impl, setup)
    return result, seen.net, seen.updater, probes.make_batches(sizes, seed=seed + 1), \
        probes.ProbeNet(seed=seed, dropout=dropout)


def _replay(twin, batches, seed, reduction="mean", **kwargs):
    seeding.seed(seed)
    return replay.replay_epoch(twin, batches, LR, reduction, **kwargs)


def _check_grads(step_grads, expected, sizes, what: str, zero_grad_calls: int, leftover=None) -> None:
    for k, (got, want) in enumerate(zip(step_grads, expected.grads)):
        check(probes.grads_agree(got, want),
              f"at step {k + 1} of {what} (minibatch sizes {list(sizes)}) the gradients differ from those of that "
              "minibatch's mean loss at the parameters before the step",
              mistake=lambda: hints.optimizer_grads_mistake(step_grads, expected.grads, sizes, zero_grad_calls, leftover),
              expected_first_weight_grad=want[0], got=got[0])


# --- train_epoch ------------------------------------------------------------------------


def test_epoch_figures_are_python_floats(impl):
    """train_epoch returns (mean_loss, accuracy) as two Python floats, the accuracy in [0, 1]."""
    got, *_ = _epoch(impl, TRAIN_SIZES, 0)
    check(isinstance(got, (tuple, list)) and len(got) == 2 and all(isinstance(v, float) for v in got),
          "train_epoch must return a tuple (mean_loss, accuracy) of two Python floats", got=got,
          mistake=hints.RETURNS_TENSORS if isinstance(got, (tuple, list)) and any(isinstance(v, torch.Tensor) for v in got)
          else None)
    check(0.0 <= got[1] <= 1.0, f"train_epoch's accuracy must be a fraction in [0, 1], got {got[1]!r}")


@settings(max_examples=15)
@given(sizes=batch_sizes, seed=seeds)
def test_epoch_figures_are_means_over_examples(impl, sizes, seed):
    """The mean loss and the accuracy are sums over every example, each taken before its minibatch's update, over the number of examples."""
    got, _, _, batches, twin = _epoch(impl, sizes, seed)
    expected = _replay(twin, batches, seed)
    after = _replay(probes.ProbeNet(seed=seed), batches, seed, figures_after_update=True)
    check_epoch_figures(got, expected, sizes, "train_epoch", after_update=after)


def test_optimizer_steps_once_per_minibatch(impl):
    """With an Optimizer, train_epoch calls step() exactly once per minibatch."""
    _, _, optimizer, batches, _ = _epoch(impl, TRAIN_SIZES, 0)
    steps = len(optimizer.step_grads)
    check(steps == len(batches), f"train_epoch over {len(batches)} minibatches called optimizer.step() {steps} times; "
          f"expected {len(batches)}", mistake=hints.STEP_ONCE if steps == 1 else None)


@settings(max_examples=15)
@given(sizes=batch_sizes, seed=seeds)
def test_optimizer_sees_the_gradient_of_the_mean_loss(impl, sizes, seed):
    """At each step() the gradients are those of that minibatch's mean loss alone (zeroed before backward)."""
    _, _, optimizer, batches, twin = _epoch(impl, sizes, seed)
    expected = _replay(twin, batches, seed)
    check(len(optimizer.step_grads) == len(batches),
          f"train_epoch over minibatches of sizes {list(sizes)} called optimizer.step() {len(optimizer.step_grads)} times; "
          f"expected {len(batches)}", mistake=hints.STEP_ONCE if len(optimizer.step_grads) == 1 else None)
    _check_grads(optimizer.step_grads, expected, sizes, "train_epoch", optimizer.zero_grad_calls)


def test_leftover_gradients_do_not_enter_the_first_step(impl):
    """Gradients left on the parameters before train_epoch do not reach the first step() (zero_grad comes before backward)."""
    _, _, optimizer, batches, twin = _epoch(impl, TRAIN_SIZES, 3, leftover=0.25)
    leftover = [torch.full_like(p, 0.25).detach() for p in twin.parameters()]
    expected = _replay(twin, batches, 3)
    _check_grads(optimizer.step_grads, expected, TRAIN_SIZES, "train_epoch with gradients left from before",
                 optimizer.zero_grad_calls, leftover)


def test_epoch_works_with_any_optimizer(impl):
    """With torch.optim.Adam (any Optimizer, not only SGD) the steps see each minibatch's mean-loss gradient and the figures match a replay with Adam."""
    got, _, optimizer, batches, twin = _epoch(impl, TRAIN_SIZES, 4, updater="adam")
    expected = _replay(twin, batches, 4, optimizer=torch.optim.Adam(twin.parameters(), lr=0.05))
    check(len(optimizer.step_grads) == len(batches), f"train_epoch with Adam over {len(batches)} minibatches called "
          f"step() {len(optimizer.step_grads)} times", mistake=hints.STEP_ONCE if len(optimizer.step_grads) == 1 else None)
    _check_grads(optimizer.step_grads, expected, TRAIN_SIZES, "train_epoch with Adam", optimizer.zero_grad_calls)
    check_epoch_figures(got, expected, TRAIN_SIZES, "train_epoch with Adam")


def test_epoch_uses_the_given_loss(impl):
    """With another elementwise loss (a multi-class hinge loss) the gradients and figures are that loss's, not cross-entropy's."""
    setup = Setup(sizes=TRAIN_SIZES, seed=5, batch_seed=6, loss="hinge", lr=LR, rng_seed=5)
    got, seen = hints.run(impl, setup)
    optimizer, batches, twin = seen.updater, probes.make_batches(TRAIN_SIZES, seed=6), probes.ProbeNet(seed=5)
    check(seen.loss_calls >= len(batches), f"train_epoch called the loss it was given {seen.loss_calls} times for "
          f"{len(batches)} minibatches", mistake=hints.IGNORES_LOSS if seen.loss_calls == 0 else None)
    expected = _replay(twin, batches, 5, loss=probes.SpyLoss())
    _check_grads(optimizer.step_grads, expected, TRAIN_SIZES, "train_epoch with a hinge loss", optimizer.zero_grad_calls)
    check_epoch_figures(got, expected, TRAIN_SIZES, "train_epoch with a hinge loss")


def test_epoch_with_dropout_in_the_network(impl):
    """For a network with dropout, each minibatch runs through it once: the figures are those of the forward pass the update used."""
    got, _, optimizer, batches, twin = _epoch(impl, TRAIN_SIZES, 6, dropout=0.5)
    expected = _replay(twin, batches, 6)
    twin_after = probes.ProbeNet(seed=6, dropout=0.5)
    after = _replay(twin_after, batches, 6, figures_after_update=True)
    check_epoch_figures(got, expected, TRAIN_SIZES, "train_epoch on a network with dropout", after_update=after)
    _check_grads(optimizer.step_grads, expected, TRAIN_SIZES, "train_epoch on a network with dropout",
                 optimizer.zero_grad_calls)


def test_epoch_trains_in_train_mode_with_autograd(impl):
    """train_epoch puts the network in training mode (also when it was left in eval mode) and runs it with autograd."""
    _, seen = hints.run(impl, Setup(sizes=TRAIN_SIZES, eval_first=True, lr=LR))
    net = seen.net
    check(len(net.forwards) > 0, "train_epoch never called the network")
    modes = [(f.training, f.grad_enabled) for f in net.forwards]
    check(all(training for training, _ in modes),
          "train_epoch called a network that was in eval mode without putting it in training mode",
          mistake=hints.NO_TRAIN_MODE, modes_at_each_forward=modes)
    check(sum(grad for _, grad in modes) >= len(TRAIN_SIZES), "train_epoch ran the network with autograd disabled",
          modes_at_each_forward=modes)


@settings(max_examples=12)
@given(sizes=batch_sizes, seed=seeds)
def test_updater_is_called_with_each_batch_size(impl, sizes, seed):
    """A d2l-style updater is called once per minibatch with that minibatch's size."""
    _, _, updater, _, _ = _epoch(impl, sizes, seed, updater="book")
    got = [int(n) for n in updater.batch_sizes]
    cumulative = [sum(sizes[:k + 1]) for k in range(len(sizes))]
    check(got == list(sizes), f"train_epoch over minibatches of sizes {list(sizes)} must call updater(batch_size) once per "
          "minibatch with those sizes", got_calls=updater.batch_sizes,
          mistake=hints.EXAMPLES_SEEN if got == cumulative and len(sizes) > 1 else None)


@settings(max_examples=15)
@given(sizes=batch_sizes, seed=seeds)
def test_updater_sees_the_gradient_of_the_summed_loss(impl, sizes, seed):
    """With a d2l-style updater the gradients are those of the minibatch's summed loss (the updater divides by the size)."""
    got_result, _, updater, batches, twin = _epoch(impl, sizes, seed, updater="book")
    expected = _replay(twin, batches, seed, reduction="sum")
    check(len(updater.grads) == len(batches),
          f"train_epoch over minibatches of sizes {list(sizes)} called updater {len(updater.grads)} times; expected {len(batches)}")
    for k, (got, want) in enumerate(zip(updater.grads, expected.grads)):
        check(probes.grads_agree(got, want), f"at updater call {k + 1} of train_epoch (minibatch sizes {list(sizes)}) the "
              "gradients differ from those of that minibatch's summed loss",
              mistake=lambda got=got, want=want, k=k: hints.MEAN_WITH_UPDATER if sizes[k] > 1 and probes.grads_agree(
                  [None if g is None else g * sizes[k] for g in got], want) else None,
              expected_first_weight_grad=want[0], got=got[0])
    check_epoch_figures(got_result, expected, sizes, "train_epoch with a d2l updater")


# --- train --------------------------------------------------------------------------------


def _run_train(impl, num_epochs=2, updater="sgd", device=None, must_move=False, wrap=False):
    """Run impl.train on a fresh ProbeNet (a MustMoveNet, minibatches that must be moved: ``must_move``, ``wrap``);
    return (history, the replay's history, what the network recorded, train batches, test batches)."""
    setup = Setup(function="train", net="must_move" if must_move else "probe", sizes=TRAIN_SIZES, batch_seed=1,
                  test_sizes=TEST_SIZES, test_seed=2, elsewhere=wrap, updater=updater, lr=LR, num_epochs=num_epochs,
                  device=None if device is None else str(device))
    history, seen = hints.run(impl, setup)
    train_batches = probes.make_batches(TRAIN_SIZES, seed=1)
    test_batches = probes.make_batches(TEST_SIZES, seed=2)
    expected = replay.replay_train(probes.ProbeNet(), train_batches, test_batches, num_epochs, LR, setup.reduction)
    return history, expected, seen.net, train_batches, test_batches


def _check_history_shape(history, num_epochs):
    ok = (isinstance(history, (list, tuple)) and len(history) == num_epochs
          and all(isinstance(e, (tuple, list)) and len(e) == 3 and all(isinstance(v, float) for v in e) for e in history))
    last_only = isinstance(history, (tuple, list)) and len(history) == 3 and all(isinstance(v, float) for v in history)
    tensors = isinstance(history, (tuple, list)) and any(
        isinstance(v, torch.Tensor) for e in history if isinstance(e, (tuple, list)) for v in e)
    check(ok, f"train(..., num_epochs={num_epochs}, ...) must return {num_epochs} tuples (train_loss, train_acc, test_acc) "
          "of Python floats", got=history,
          mistake=hints.LAST_EPOCH_ONLY if last_only else hints.RETURNS_TENSORS if tensors else None)


def test_train_returns_one_triple_of_floats_per_epoch(impl):
    """train returns num_epochs tuples (train_loss, train_acc, test_acc) of Python floats."""
    history, *_ = _run_train(impl, num_epochs=3)
    _check_history_shape(history, 3)


def _check_history(history, expected, what, net):
    _check_history_shape(history, len(expected))
    for epoch, (got, want) in enumerate(zip(history, expected), start=1):
        for name, g, w in zip(("train_loss", "train_acc", "test_acc"), got, want):
            check(probes.close(g, w), f"{what}: epoch {epoch}'s {name} is {g!r}; a replay of the same run gives {w!r}",
                  got_history=history, expected_history=expected,
                  mistake=hints.REINITIALIZED if net.reinitialized() else None)


def test_train_history_matches_a_replay(impl):
    """Each epoch's (train_loss, train_acc, test_acc) matches an independent replay of the same run with an Optimizer."""
    history, expected, net, *_ = _run_train(impl, num_epochs=3)
    _check_history(history, expected, "train with torch.optim.SGD", net)


def test_train_with_the_book_updater_matches_a_replay(impl):
    """With a d2l-style updater, each epoch's figures match an independent replay."""
    history, expected, net, *_ = _run_train(impl, num_epochs=2, updater="book")
    _check_history(history, expected, "train with a d2l updater", net)


def _is_one_of(X, batches):
    return any(X.shape == B.shape and torch.equal(X, B) for B, _ in batches)


def test_test_accuracy_is_measured_on_test_iter(impl):
    """Each epoch's test accuracy is the fraction of test_iter's examples the network classifies correctly."""
    history, expected, net, train_batches, test_batches = _run_train(impl)
    _check_history_shape(history, 2)
    on_test = [f for f in net.forwards if _is_one_of(f.X, test_batches)]
    evaluated_train = any(_is_one_of(f.X, train_batches) and not f.grad_enabled for f in net.forwards)
    check(len(on_test) >= 2 * len(test_batches),
          f"train ran the network on {len(on_test)} minibatches of test_iter in 2 epochs; expected {2 * len(test_batches)}",
          mistake=hints.EVALUATES_ON_TRAIN if not on_test and evaluated_train else None)
    by_batch = replay.replay_train(probes.ProbeNet(), train_batches, test_batches, 2, LR, "mean", test_by_batch=True)
    for epoch, (got, want) in enumerate(zip(history, expected), start=1):
        check(probes.close(got[2], want[2]), f"epoch {epoch}'s test accuracy is {got[2]!r}; expected {want[2]!r}",
              mistake=hints.TEST_ACC_BY_BATCH if probes.close(got[2], by_batch[epoch - 1][2]) else None)


def test_evaluation_runs_in_eval_mode_without_autograd(impl):
    """The test minibatches go through the network in eval mode (net.eval()) and under torch.no_grad()."""
    _, _, net, _, test_batches = _run_train(impl)
    check_eval_modes(net.forwards, test_batches)


def test_every_epoch_trains_in_train_mode(impl):
    """After an evaluation in eval mode, the next epoch's training pass is in training mode again."""
    _, _, net, train_batches, _ = _run_train(impl, num_epochs=2)
    on_train = [f for f in net.forwards if _is_one_of(f.X, train_batches) and f.grad_enabled]
    check(len(on_train) >= 2 * len(train_batches),
          f"train ran {len(on_train)} training forward passes in 2 epochs of {len(train_batches)} minibatches; "
          f"expected {2 * len(train_batches)}")
    check(all(f.training for f in on_train), "an epoch after the first trained the network in eval mode",
          mistake=hints.NO_TRAIN_MODE, modes=[f.training for f in on_train])


def test_moves_the_net_and_every_minibatch_to_the_device(impl):
    """With device given, the network and every minibatch of both iterators are moved there (minibatches that refuse use until moved)."""
    history, expected, net, *_ = _run_train(impl, device=torch.device("cpu"), must_move=True, wrap=True)
    check(torch.device("cpu") in net.moved_to, "train(..., device=cpu) never moved the network (net.to(device))",
          mistake=hints.NET_NOT_MOVED)
    _check_history(history, expected, "train(..., device=cpu)", net)


def test_without_a_device_nothing_is_moved(impl):
    """Without device, train never moves the network (there is no default device)."""
    _, _, net, *_ = _run_train(impl)
    check(not net.moved_to, f"train(...) without a device moved the network to {[str(d) for d in net.moved_to]}",
          mistake=hints.MOVES_WITHOUT_DEVICE)


def test_trains_on_the_device(impl, device):
    """With device given, training on that device gives the replay's figures and leaves the network there."""
    history, expected, net, *_ = _run_train(impl, device=device)
    for name, p in net.named_parameters():
        check(p.device.type == device.type, f"after train(..., device={device}) the parameter {name} is on {p.device}",
              mistake=hints.NET_NOT_MOVED)
    _check_history_shape(history, 2)
    for epoch, (got, want) in enumerate(zip(history, expected), start=1):
        check(all(probes.close(g, w) for g, w in zip(got, want)),
              f"train(..., device={device}): epoch {epoch}'s figures differ from a replay on the CPU",
              got=got, expected=want)


def test_softmax_regression_learns_digits_with_the_book_updater(impl):
    """Softmax regression on 8x8 digits with a d2l-style sgd updater (lr 0.5, batch 64) reaches >= 88 % test accuracy in 5 epochs."""
    history, _ = hints.run(impl, Setup(function="train", net="digits", updater="book_function", lr=0.5, num_epochs=5))
    _check_history_shape(history, 5)
    test_acc = history[-1][2]
    if not isinstance(test_acc, float):
        fail("train's test accuracy must be a Python float", got=test_acc)
    check(test_acc >= 0.88, f"after 5 epochs of d2l-style sgd (lr 0.5) the test accuracy is {test_acc!r}; expected >= 0.88 "
          "(a correct loop reaches about 0.93)")


def test_uses_no_forbidden_call(impl, candidate):
    """Reaches into none of the grader's code, the probes' records or torch's internals (grader/forbidden.py)."""
    check_no_forbidden_calls(impl, candidate)
