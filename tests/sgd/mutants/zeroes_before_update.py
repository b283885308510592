"""Zeroes the gradient before using it, so the update subtracts zero.

Mistake: sgd.not_updated
"""
import torch


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param.grad.zero_()
            param -= lr * param.grad / batch_size
