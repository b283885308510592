"""Draws the mask from a normal distribution (torch.randn) instead of a uniform one."""
import torch


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    mask = (torch.randn(X.shape, device=X.device) > dropout).float()
    return mask * X / (1.0 - dropout)
