"""Writes param = param - ..., which rebinds the loop variable and leaves the tensor unchanged.

Mistake: sgd.not_updated
"""
import torch


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            grad = param.grad
            param = param - lr * grad / batch_size
            grad.zero_()
