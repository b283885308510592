"""Draws the keep-mask with torch.bernoulli and raises ValueError for a bad dropout."""
import torch


def dropout_layer(X, dropout):
    if not (0.0 <= dropout <= 1.0):
        raise ValueError("dropout must lie in [0, 1]")
    if dropout == 1.0:
        return X * 0
    keep = torch.bernoulli(torch.full_like(X, 1.0 - dropout))
    return torch.where(keep.bool(), X / (1.0 - dropout), torch.zeros_like(X))
