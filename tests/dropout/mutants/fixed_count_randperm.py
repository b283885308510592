"""Drops exactly round(dropout * n) elements chosen with randperm, so the count never varies.

Mistake: dropout.fixed_count
"""
import torch


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    n = X.numel()
    dropped = torch.randperm(n, device=X.device)[:round(dropout * n)]
    mask = torch.ones(n, dtype=X.dtype, device=X.device)
    mask[dropped] = 0
    return mask.reshape(X.shape) * X / (1.0 - dropout)
