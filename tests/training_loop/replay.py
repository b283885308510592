"""The replay: what a correct training loop computes on the probes, done independently, for
the checks to compare with. It is a working training loop, so a student's release does not
hold it: the public checks there read its figures for their fixed runs from a file
(tests/training_loop/expected.py)."""
from __future__ import annotations

import torch
from torch import nn

from tests.training_loop.probes import EpochReplay


def replay_epoch(net: nn.Module, batches, lr: float, reduction: str, loss=None, optimizer=None,
                 figures_after_update: bool = False) -> EpochReplay:
    """Train ``net`` (a copy, modified in place) one epoch as the contract says: for each
    minibatch, the loss and the predictions at the current parameters, then one update with
    the gradient of the loss's mean (``reduction='mean'``, an Optimizer) or of its sum
    (``reduction='sum'``, the d2l updater, which divides by the batch size). The update is
    ``optimizer.step()`` when an optimizer over ``net``'s parameters is given (torch's own,
    as the oracle), plain SGD with ``lr`` otherwise. The grads recorded are those the updater
    must see. ``figures_after_update`` measures the figures the way the known mistake does,
    with a second forward pass after the update."""
    loss = loss or nn.functional.cross_entropy
    params = list(net.parameters())
    net.train()
    replay = EpochReplay(0.0, 0.0)
    for X, y in batches:
        X, y = X.to(params[0].device), y.to(params[0].device)
        scores = net(X)
        losses = loss(scores, y, reduction="none") if loss is nn.functional.cross_entropy else loss(scores, y)
        objective = losses.mean() if reduction == "mean" else losses.sum()
        g = torch.autograd.grad(objective, params)
        replay.grads.append([gi.detach().cpu().clone() for gi in g])
        if optimizer is not None:
            for p, gi in zip(params, g):
                p.grad = gi
            optimizer.step()
            optimizer.zero_grad()
        else:
            with torch.no_grad():
                for p, gi in zip(params, g):
                    if reduction == "mean":
                        p -= lr * gi
                    else:  # the order of d2l.sgd's operations
                        p -= lr * gi / X.shape[0]
        if figures_after_update:
            with torch.no_grad():
                scores = net(X)
                losses = loss(scores, y, reduction="none") if loss is nn.functional.cross_entropy else loss(scores, y)
        replay.batch_loss_sums.append(float(losses.detach().double().sum()))
        replay.batch_correct.append(int((scores.argmax(dim=1) == y).sum()))
    count = sum(X.shape[0] for X, _ in batches)
    replay.mean_loss = sum(replay.batch_loss_sums) / count
    replay.accuracy = sum(replay.batch_correct) / count
    return replay


def replay_accuracy(net: nn.Module, batches, by_batch: bool = False) -> float:
    """The accuracy over ``batches`` in eval mode under no_grad (``by_batch``: the mean of the
    minibatch accuracies, as the known mistake computes it)."""
    device = next(net.parameters()).device
    net.eval()
    correct, count, fractions = 0, 0, []
    with torch.no_grad():
        for X, y in batches:
            X, y = X.to(device), y.to(device)
            right = int((net(X).argmax(dim=1) == y).sum())
            correct, count = correct + right, count + X.shape[0]
            fractions.append(right / X.shape[0])
    return sum(fractions) / len(fractions) if by_batch else correct / count


def replay_train(net: nn.Module, train_batches, test_batches, num_epochs: int, lr: float, reduction: str,
                 optimizer=None, test_by_batch: bool = False):
    """The history ``[(train_loss, train_acc, test_acc), ...]`` a correct ``train`` returns."""
    history = []
    for _ in range(num_epochs):
        epoch = replay_epoch(net, train_batches, lr, reduction, optimizer=optimizer)
        history.append((epoch.mean_loss, epoch.accuracy, replay_accuracy(net, test_batches, by_batch=test_by_batch)))
    return history
