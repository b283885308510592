"""Forgets to rescale the survivors by 1 / (1 - dropout).

Mistake: dropout.no_rescale
"""
import torch


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    mask = (torch.rand(X.shape, device=X.device) > dropout).to(X.dtype)
    return mask * X
