"""Rebuilds each parameter's data in float32 (param.data = (...).float()), so float64 parameters become float32.

Mistake: sgd.changes_dtype
"""
import torch


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param.data = (param - lr * param.grad / batch_size).float()
            param.grad.zero_()
