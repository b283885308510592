"""Draws one mask for the last dimension and broadcasts it over every row.

Mistake: dropout.shared_mask
"""
import torch


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    mask = (torch.rand(X.shape[-1], device=X.device) > dropout).to(X.dtype)
    return mask * X / (1.0 - dropout)
