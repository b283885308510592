"""Forgets to divide the gradient by batch_size.

Mistake: sgd.no_batch_size_division
"""
import torch


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad
            param.grad.zero_()
