"""The book's code verbatim: the mask is made on the CPU with torch.rand(X.shape).

Mistake: dropout.off_device, dropout.changes_dtype
"""
import torch


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X / (1.0 - dropout)
