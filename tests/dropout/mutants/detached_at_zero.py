"""Returns a detached copy of X at dropout 0, so no gradient reaches X there.

Mistake: dropout.detached
"""
import torch


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 0:
        return X.detach().clone()
    if dropout == 1:
        return torch.zeros_like(X)
    mask = (torch.rand(X.shape, device=X.device) > dropout).to(X.dtype)
    return mask * X / (1.0 - dropout)
