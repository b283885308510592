"""Applies the mask in place, modifying the caller's X.

Mistake: dropout.in_place
"""
import torch


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return X.zero_()
    if dropout == 0:
        return X
    mask = (torch.rand(X.shape, device=X.device) > dropout).to(X.dtype)
    X.mul_(mask).div_(1.0 - dropout)
    return X
