"""Draws whole percents, torch.randint(0, 100) >= 100 * dropout: the keep probability is rounded (0.66 for dropout 1/3).

Mistake: dropout.rounded_keep_rate
"""
import math

import torch


def dropout_layer(X: torch.Tensor, dropout: float) -> torch.Tensor:
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    mask = (torch.randint(0, 100, X.shape, device=X.device) >= math.ceil(100 * dropout)).to(X.dtype)
    return mask * X / (1.0 - dropout)
