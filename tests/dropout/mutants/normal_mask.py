"""Draws the mask from a normal distribution (torch.randn) instead of a uniform one.

Mistake: dropout.normal_mask
"""
import torch


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    mask = (torch.randn(X.shape, device=X.device) > dropout).to(X.dtype)
    return mask * X / (1.0 - dropout)
