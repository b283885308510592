"""Uses X.data, which cuts the output out of the autograd graph.

Mistake: dropout.detached
"""
import torch


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    mask = (torch.rand(X.shape, device=X.device) > dropout).to(X.dtype)
    return mask * X.data / (1.0 - dropout)
