"""Keeps an element with probability dropout instead of 1 - dropout (rand < dropout).

Mistake: dropout.keeps_with_probability_p
"""
import torch


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    mask = (torch.rand(X.shape, device=X.device) < dropout).to(X.dtype)
    return mask * X / (1.0 - dropout)
