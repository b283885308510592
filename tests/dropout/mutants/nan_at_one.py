"""Has no special case for dropout == 1, so it divides 0 by 0 and returns NaN.

Mistake: dropout.divides_by_zero_at_one
"""
import torch


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    mask = (torch.rand(X.shape, device=X.device) > dropout).to(X.dtype)
    return mask * X / (1.0 - dropout)
