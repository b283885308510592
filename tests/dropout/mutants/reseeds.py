"""Reseeds the generator inside the function, so every call drops the same elements.

Mistake: dropout.same_mask_every_call
"""
import torch


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    torch.manual_seed(42)
    mask = (torch.rand(X.shape, device=X.device) > dropout).to(X.dtype)
    return mask * X / (1.0 - dropout)
