"""Calls the d2l updater as updater(batch_size=X.shape[0]): an updater whose parameter has another name fails.

Mistake: training_loop.updater_called_by_keyword
"""
import torch


def accuracy(y_hat: torch.Tensor, y: torch.Tensor) -> float:
    """Number of correct predictions (given, not an exercise): ``y_hat`` holds one row of
    class scores per example, ``y`` the class indices."""
    return float((y_hat.argmax(dim=1) == y).sum())


def train_epoch(net, train_iter, loss, updater):
    """Train ``net`` for one epoch over ``train_iter``; return ``(mean_loss, accuracy)``.

    - ``net`` is an ``nn.Module`` and is put in training mode (``net.train()``).
    - ``loss`` is elementwise (``reduction='none'``): one value per example; it may be any
      such loss, not only cross-entropy.
    - If ``updater`` is a ``torch.optim.Optimizer`` (any of them, not only SGD): for each
      minibatch zero the gradients, backpropagate ``l.mean()`` and take one ``step()``;
      gradients left on the parameters from before do not enter the first step.
    - Otherwise ``updater`` is a d2l-style callable such as ``lambda batch_size: sgd(params,
      lr, batch_size)``: backpropagate ``l.sum()`` and call ``updater(X.shape[0])`` (it also
      zeroes the gradients).
    - Both figures are averages over examples, not over minibatches (the last minibatch may
      be smaller), of the losses and predictions of the forward pass that each minibatch's
      update uses (before that update: each minibatch goes through ``net`` once, which
      matters when ``net`` has dropout), returned as Python floats; the accuracy is a
      fraction in ``[0, 1]``.
    """
    net.train()
    total_loss, total_correct, total_examples = 0.0, 0.0, 0
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(batch_size=X.shape[0])
        total_loss += float(l.detach().sum())
        total_correct += accuracy(y_hat, y)
        total_examples += y.numel()
    return total_loss / total_examples, total_correct / total_examples


def train(net, train_iter, test_iter, loss, num_epochs, updater, device=None):
    """Train for ``num_epochs`` epochs; return one ``(train_loss, train_acc, test_acc)``
    tuple (or list) of floats per epoch.

    - Each epoch runs the training pass of ``train_epoch`` (same rules, ``net.train()``), then
      measures the accuracy on ``test_iter`` with ``net.eval()`` and without autograd
      (``torch.no_grad()``), averaged over examples.
    - If ``device`` is given, ``net`` is moved there once (``net.to(device)``) and every
      minibatch ``X`` and ``y``, from both iterators, is moved there before use. Without a
      device nothing is moved (no default such as the book's ``d2l.try_gpu()``).
    - Training starts from ``net``'s current parameters: no re-initialization (such as
      train_ch6's ``init_weights``), and no ``assert`` on the figures (train_ch3 ends with some).
    """
    if device is not None:
        net.to(device)

    def on_device(data_iter):
        for X, y in data_iter:
            yield (X.to(device), y.to(device)) if device is not None else (X, y)

    history = []
    for _ in range(num_epochs):
        train_loss, train_acc = train_epoch(net, on_device(train_iter), loss, updater)
        net.eval()
        correct, count = 0.0, 0
        with torch.no_grad():
            for X, y in on_device(test_iter):
                correct += accuracy(net(X), y)
                count += y.numel()
        history.append((train_loss, train_acc, correct / count))
    return history
