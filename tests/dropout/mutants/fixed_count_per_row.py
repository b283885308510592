"""Drops exactly round(dropout * width) elements of each row (a randperm per row), so every row keeps the same number.

Mistake: dropout.fixed_count
"""
import torch


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    width = X.shape[-1] if X.dim() else 1
    order = torch.rand(X.shape, device=X.device).argsort(dim=-1) if X.dim() else torch.zeros((), device=X.device)
    mask = (order >= round(dropout * width)).to(X.dtype)
    return mask * X / (1.0 - dropout)
