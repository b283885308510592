"""Resets each gradient to a new torch.zeros(param.shape), which lives on the CPU whatever the parameter's device.

Mistake: sgd.grad_off_device
"""
import torch


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad = torch.zeros(param.shape, dtype=param.dtype)
