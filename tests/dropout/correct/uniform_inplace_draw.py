"""Fills an empty float32 tensor of X's shape on its device with uniform numbers and keeps those at or above dropout."""
import torch


def dropout_layer(X, dropout):
    if dropout < 0 or dropout > 1 or dropout != dropout:
        raise ValueError(f"bad dropout {dropout}")
    if dropout == 1:
        return torch.zeros_like(X)
    keep = torch.empty(X.shape, device=X.device).uniform_(0, 1) >= dropout
    return X * keep / (1 - dropout)
