"""The book's code with the mask made on X's device and converted to X's dtype."""
import torch


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    mask = (torch.rand(X.shape, device=X.device) > dropout).type(X.dtype)
    return mask * X / (1.0 - dropout)
