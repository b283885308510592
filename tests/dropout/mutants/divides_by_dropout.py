"""Rescales the survivors by 1 / dropout instead of 1 / (1 - dropout).

Mistake: dropout.divides_by_dropout
"""
import torch


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    mask = (torch.rand(X.shape, device=X.device) > dropout).to(X.dtype)
    return mask * X / dropout
