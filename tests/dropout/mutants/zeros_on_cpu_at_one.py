"""Returns torch.zeros(X.shape, dtype=X.dtype) at dropout 1: those zeros live on the CPU whatever X's device.

Mistake: dropout.off_device
"""
import torch


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros(X.shape, dtype=X.dtype)
    mask = (torch.rand(X.shape, device=X.device) > dropout).to(X.dtype)
    return mask * X / (1.0 - dropout)
