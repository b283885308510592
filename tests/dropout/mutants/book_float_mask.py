"""The book's code with the mask made on X's device, but .float() makes the mask float32: float16 input comes back float32.

Mistake: dropout.changes_dtype
"""
import torch


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    mask = (torch.rand(X.shape, device=X.device) > dropout).float()
    return mask * X / (1.0 - dropout)
