"""Adds the gradient (param += ...) instead of subtracting it: gradient ascent.

Mistake: sgd.gradient_ascent
"""
import torch


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param += lr * param.grad / batch_size
            param.grad.zero_()
