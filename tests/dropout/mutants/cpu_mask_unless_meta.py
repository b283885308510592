"""Makes the mask on the CPU, as the book does, except for a tensor on the 'meta' device, where
it uses X.device: passes a device check made on 'meta' only, and breaks on a real GPU.

Mistake: dropout.off_device
"""
import torch


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    device = X.device if X.device.type == "meta" else None
    mask = (torch.rand(X.shape, device=device) > dropout).to(X.dtype)
    return mask * X / (1.0 - dropout)
