# Your file: fill in every body that raises NotImplementedError, then run
#     nox -s check -- training_loop
# (Generated from solutions/training_loop.py by `python -m grader.stubgen`; the signatures and
# docstrings are the contract the checks hold you to.)
"""The training loop (d2l 3.6 train_epoch_ch3 and train_ch3, 6.6 train_ch6)."""
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
    raise NotImplementedError("train_epoch: put the net in training mode; for each minibatch compute the loss, update as described, and add up the summed loss, the correct predictions and the number of examples")


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
    raise NotImplementedError("train: move the net and every minibatch to the device when one is given; each epoch, run the training pass, then measure the test accuracy in eval mode without autograd, and record the three figures")
