# Your file: fill in every body that raises NotImplementedError, then run
#     nox -s check -- batch_norm
# (Generated from solutions/batch_norm.py by `python -m grader.stubgen`; the signatures and
# docstrings are the contract the checks hold you to.)
"""Batch normalization from scratch (d2l 7.5, 批量规范化)."""
import torch
from torch import nn


def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum):
    """Normalize ``X`` with batch statistics (training) or moving statistics (prediction).

    Returns ``(Y, moving_mean, moving_var)``.

    - Prediction mode is when ``torch.is_grad_enabled()`` is false: ``X`` is normalized with
      ``moving_mean`` and ``moving_var``, which are returned unchanged.
    - Training mode otherwise. For 2-D input ``(N, C)`` the mean and the variance are taken
      over dim 0; for 4-D input ``(N, C, H, W)`` over dims 0, 2 and 3 (keeping dims, so that
      they broadcast). The variance is the biased one (divide by the number of values, as
      ``((X - mean) ** 2).mean()``). The moving statistics are updated as
      ``moving = momentum * moving + (1 - momentum) * batch_statistic``.
    - ``X_hat = (X - mean) / sqrt(var + eps)`` and ``Y = gamma * X_hat + beta``.
    - The returned moving statistics have the shape of the ones passed in and carry no
      autograd history (``.detach()``, or ``.data`` as in the book), so that a model does
      not keep every batch's graph alive through them.
    - In training mode, input of any rank other than 2 or 4 raises ``ValueError`` (an
      ``assert`` as in the book is accepted too).
    """
    raise NotImplementedError("batch_norm: in prediction mode normalize with the moving statistics; in training mode normalize with the batch mean and biased variance, per feature or per channel, and update the moving statistics with momentum")


class BatchNorm(nn.Module):
    """The batch normalization layer of d2l 7.5 built on ``batch_norm``.

    ``num_dims`` is 2 for a fully connected layer's output ``(N, C)`` and 4 for a
    convolutional layer's output ``(N, C, H, W)``. ``gamma`` (ones) and ``beta`` (zeros) are
    learnable parameters of shape ``(1, C)`` or ``(1, C, 1, 1)``; ``moving_mean`` (zeros) and
    ``moving_var`` (ones) have the same shape and are not learned. ``forward`` follows ``X`` to
    its device, calls ``batch_norm`` with ``eps=1e-5`` and ``momentum=0.9`` and keeps the
    updated moving statistics. As in ``batch_norm``, only ``torch.is_grad_enabled()`` decides
    between batch statistics (training) and moving statistics (prediction), not
    ``self.training``: under ``torch.no_grad()`` the layer predicts, ``.eval()`` or not.
    """

    def __init__(self, num_features, num_dims):
        super().__init__()
        raise NotImplementedError("BatchNorm.__init__: make gamma and beta learnable parameters and the moving mean and variance plain tensors, all of the shape the docstring gives")

    def forward(self, X):
        raise NotImplementedError("BatchNorm.forward: follow X to its device, call batch_norm with the eps and momentum of the docstring, and keep the moving statistics it returns")
