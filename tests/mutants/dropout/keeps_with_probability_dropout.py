"""Keeps an element with probability dropout instead of 1 - dropout (rand < dropout)."""
import torch


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    mask = (torch.rand(X.shape, device=X.device) < dropout).float()
    return mask * X / (1.0 - dropout)
