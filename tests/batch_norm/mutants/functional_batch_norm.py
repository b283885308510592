"""Normalizes in training mode with F.batch_norm, which the exercise forbids (the values are right)."""
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
    if not torch.is_grad_enabled():
        X_hat = (X - moving_mean) / torch.sqrt(moving_var + eps)
        return gamma * X_hat + beta, moving_mean, moving_var
    if X.dim() == 2:
        dims = (0,)
    elif X.dim() == 4:
        dims = (0, 2, 3)
    else:
        raise ValueError(f"batch_norm expects a 2-D (N, C) or 4-D (N, C, H, W) input, got shape {tuple(X.shape)}")
    mean = X.mean(dim=dims, keepdim=True)
    var = ((X - mean) ** 2).mean(dim=dims, keepdim=True)
    flat = 1 if X.dim() == 2 else X.shape[1]
    Y = torch.nn.functional.batch_norm(X, None, None, weight=gamma.reshape(-1), bias=beta.reshape(-1), training=True,
                                       eps=eps)
    new_mean = momentum * moving_mean + (1.0 - momentum) * mean.reshape(moving_mean.shape)
    new_var = momentum * moving_var + (1.0 - momentum) * var.reshape(moving_var.shape)
    return Y, new_mean.detach(), new_var.detach()


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
        shape = (1, num_features) if num_dims == 2 else (1, num_features, 1, 1)
        self.gamma = nn.Parameter(torch.ones(shape))
        self.beta = nn.Parameter(torch.zeros(shape))
        self.moving_mean = torch.zeros(shape)
        self.moving_var = torch.ones(shape)

    def forward(self, X):
        if self.moving_mean.device != X.device:
            self.moving_mean = self.moving_mean.to(X.device)
            self.moving_var = self.moving_var.to(X.device)
        Y, self.moving_mean, self.moving_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean, self.moving_var, eps=1e-5, momentum=0.9
        )
        return Y
