"""Draws the mask with numpy, which makes it on the CPU whatever X's device.

Mistake: dropout.off_device
"""
import numpy as np
import torch


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    keep = torch.from_numpy(np.random.rand(*X.shape) > dropout)
    return keep.to(X.dtype) * X / (1.0 - dropout)
