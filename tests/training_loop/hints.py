"""train_epoch and train: the known mistakes, and how the checks recognise each one on what
the probes recorded."""
from __future__ import annotations

import linecache

import torch

from grader.failures import Mistake
from tests.common.calls import call as call_code
from tests.training_loop import probes, scenario
from tests.training_loop.scenario import Setup

LOSS_BY_BATCH = Mistake("training_loop.loss_averaged_over_batches", (
    "the loss was averaged over minibatches: sum l over all examples and divide by their number (the last "
    "minibatch may be smaller)"))
ACC_BY_BATCH = Mistake("training_loop.accuracy_averaged_over_batches", (
    "the accuracy was averaged over minibatches: count correct predictions over all examples and divide by their number"))
FIGURES_AFTER_UPDATE = Mistake("training_loop.figures_after_update", (
    "the figures were measured with another forward pass after the update: use the y_hat and l of the forward "
    "pass that the update used"))
LOSS_TYPO_ONE = Mistake("training_loop.loss_sum_is_batch_size", (
    "the mean loss is exactly 1: the loss sum was accumulated as 1 * X.shape[0] (a 1 where the loss l was "
    "meant?); accumulate float(l.sum())"))
RETURNS_TENSORS = Mistake("training_loop.returns_tensors",
                          "return Python floats (float(...) or .item()), not tensors")
ZEROED_AFTER_BACKWARD = Mistake("training_loop.zero_grad_after_backward", (
    "the gradients were zeroed between backward() and step(): call updater.zero_grad() before l.mean().backward()"))
ACCUMULATES = Mistake("training_loop.no_zero_grad", (
    "gradients accumulate across minibatches: call updater.zero_grad() before each backward()"))
SUM_WITH_OPTIMIZER = Mistake("training_loop.sum_backward_with_optimizer", (
    "with an Optimizer backpropagate l.mean(), not l.sum() (the optimizer does not divide by the batch size)"))
MEAN_WITH_UPDATER = Mistake("training_loop.mean_backward_with_updater", (
    "with the d2l updater backpropagate l.sum(): sgd divides by batch_size itself, so l.mean() divides twice"))
STEP_ONCE = Mistake("training_loop.step_after_the_loop", (
    "step() ran once for the whole epoch: it belongs inside the loop over minibatches (check its indentation)"))
LEFTOVER = Mistake("training_loop.zero_grad_after_step", (
    "the first step also saw the gradients left on the parameters from before: call updater.zero_grad() before "
    "backward(), not after step()"))
EXAMPLES_SEEN = Mistake("training_loop.updater_with_examples_seen", (
    "the updater was called with the number of examples seen so far: call updater(X.shape[0]) with this "
    "minibatch's size"))
UPDATER_BY_KEYWORD = Mistake("training_loop.updater_called_by_keyword", (
    "call the d2l updater with the batch size as its one positional argument, updater(X.shape[0]): its "
    "parameter may have any name (lambda n: ..., functools.partial), so updater(batch_size=...) can fail"))
IGNORES_LOSS = Mistake("training_loop.ignores_loss_argument", (
    "the loss function passed in was never called: compute l = loss(net(X), y) with the `loss` argument, "
    "whatever loss it is"))
OPTIMIZER_TYPE = Mistake("training_loop.checks_for_sgd_only", (
    "an Optimizer other than SGD was called like the d2l updater: test isinstance(updater, torch.optim.Optimizer), "
    "which every torch optimizer is, not torch.optim.SGD"))
NO_TRAIN_MODE = Mistake("training_loop.no_train_mode", (
    "call net.train() at the start of every epoch's training pass (the evaluation left the network in eval mode)"))
NO_EVAL_MODE = Mistake("training_loop.no_eval_mode", (
    "call net.eval() before evaluating (dropout and batch norm behave differently in eval mode)"))
EVAL_WITH_AUTOGRAD = Mistake("training_loop.evaluates_with_autograd", "evaluate inside `with torch.no_grad():`")
EVALUATES_ON_TRAIN = Mistake("training_loop.evaluates_on_train_iter",
                             "the test accuracy was measured on train_iter: evaluate on test_iter")
TEST_ACC_BY_BATCH = Mistake("training_loop.test_accuracy_averaged_over_batches", (
    "the test accuracy was averaged over minibatches: count correct predictions on test_iter and divide by its "
    "number of examples"))
REINITIALIZED = Mistake("training_loop.reinitializes_weights", (
    "the network's parameters changed before its first forward pass: train starts from the network's own "
    "parameters (no init_weights as in the book's train_ch6)"))
LAST_EPOCH_ONLY = Mistake("training_loop.returns_last_epoch_only", (
    "return the figures of every epoch (a list of tuples), not only those of the last"))
ASSERTS = Mistake("training_loop.asserts_on_figures", (
    "train must return the history, never assert on it: the book's train_ch3 ends with asserts (train_loss < "
    "0.5, accuracies > 0.7) that only hold for its Fashion-MNIST run"))
NOT_MOVED = Mistake("training_loop.minibatch_not_moved", (
    "move every minibatch X, y of both iterators to the device before use: X.to(device), y.to(device)"))
MOVES_WITHOUT_DEVICE = Mistake("training_loop.moves_without_a_device", (
    "without a device train leaves the network and the data where they are: the book's train_ch6 defaults to "
    "d2l.try_gpu(), this contract has no default device"))
NET_NOT_MOVED = Mistake("training_loop.net_not_moved", "move the network once, net.to(device), before training")


def _failing_line(error: BaseException) -> str:
    """The source line that raised ``error``: as the worker reported it, or from the traceback."""
    where = getattr(error, "_d2l_where", None)
    if where:
        return where.split(": ", 1)[-1]
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return linecache.getline(tb.tb_frame.f_code.co_filename, tb.tb_lineno) if tb is not None else ""


def _asserts_on_figures(error: AssertionError) -> bool:
    """Whether the failing assert statement is about the figures (loss or accuracy)."""
    line = _failing_line(error)
    return line.strip().startswith("assert") and any(word in line for word in ("loss", "acc"))


def explain_error(error: BaseException, setup: Setup) -> Mistake | None:
    """The mistake an exception of train_epoch or train shows. The probes' own errors are told
    by their class's name: raised in the worker, they arrive here as classes of that name."""
    kind = type(error).__name__
    if kind == probes.NotMovedError.__name__:
        return NOT_MOVED
    if kind == probes.NetNotMovedError.__name__:
        return NET_NOT_MOVED
    if isinstance(error, AssertionError):
        return ASSERTS if _asserts_on_figures(error) else None
    if isinstance(error, TypeError) and setup.reduction == "sum" and "keyword" in str(error):
        return UPDATER_BY_KEYWORD
    if isinstance(error, TypeError) and "not callable" in str(error) and setup.updater == "adam":
        return OPTIMIZER_TYPE
    return None


def run(impl, setup: Setup):
    """Run train_epoch or train on ``setup``'s probes: ``(result, what they recorded)``; an
    exception fails the check, naming the mistake it shows."""
    return call_code(scenario.call, impl, setup, what=setup.function,
                     explain=lambda error: explain_error(error, setup))


def _batch_mean(values, sizes) -> float:
    return sum(v / n for v, n in zip(values, sizes)) / len(sizes)


def figure_mistake(got: float, which: str, expected: probes.EpochReplay, sizes, after_update: probes.EpochReplay | None):
    """The mistake behind a wrong mean loss (``which`` = "loss") or accuracy of train_epoch."""
    if isinstance(got, torch.Tensor):
        return RETURNS_TENSORS
    if not isinstance(got, float):
        return None
    per_batch = expected.batch_loss_sums if which == "loss" else expected.batch_correct
    if len(sizes) > 1 and len(set(sizes)) > 1 and probes.close(got, _batch_mean(per_batch, sizes)):
        return LOSS_BY_BATCH if which == "loss" else ACC_BY_BATCH
    if which == "loss" and got == 1.0:
        return LOSS_TYPO_ONE
    if after_update is not None:
        again = after_update.mean_loss if which == "loss" else after_update.accuracy
        if probes.close(got, again) and not probes.close(again, expected.mean_loss if which == "loss" else expected.accuracy):
            return FIGURES_AFTER_UPDATE
    return None


def optimizer_grads_mistake(step_grads, expected_grads, sizes, zero_grad_calls: int, leftover=None):
    """The mistake behind the first step whose gradients differ from the replay's."""
    for k, (got, want) in enumerate(zip(step_grads, expected_grads)):
        if probes.grads_agree(got, want):
            continue
        if all(g is None or bool((g == 0).all()) for g in got):
            return ZEROED_AFTER_BACKWARD
        if leftover is not None and k == 0 and zero_grad_calls > 0 and probes.grads_agree(got, [w + l for w, l in zip(want, leftover)]):
            return LEFTOVER
        if k > 0 and zero_grad_calls == 0 and probes.grads_agree(got, [sum(ws) for ws in zip(*expected_grads[:k + 1])]):
            return ACCUMULATES
        if probes.grads_agree([None if g is None else g / sizes[k] for g in got], want):
            return SUM_WITH_OPTIMIZER
        return None
    return None
