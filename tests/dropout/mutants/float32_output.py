"""Converts the result to float32 with .float(), losing float64 inputs' dtype.

Mistake: dropout.changes_dtype
"""
import torch


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    mask = torch.rand(X.shape, device=X.device) > dropout
    return (mask * X / (1.0 - dropout)).float()
