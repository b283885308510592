"""Never checks that dropout is a probability.

Mistake: dropout.no_range_check
"""
import torch


def dropout_layer(X, dropout):
    if dropout >= 1:
        return torch.zeros_like(X)
    if dropout <= 0:
        return X
    mask = (torch.rand(X.shape, device=X.device) > dropout).to(X.dtype)
    return mask * X / (1.0 - dropout)
