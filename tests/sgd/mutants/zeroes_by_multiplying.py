"""Zeroes each gradient with param.grad *= 0, which leaves NaN where the gradient held inf or NaN.

Mistake: sgd.zeroes_by_multiplying
"""
import torch


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad *= 0
