"""Skips parameters whose gradient is tiny (below 1e-4), to save work.

Mistake: sgd.not_updated
"""
import torch


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            if param.grad.abs().max() > 1e-4:
                param -= lr * param.grad / batch_size
            param.grad.zero_()
