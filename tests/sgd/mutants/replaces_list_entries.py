"""Assigns params[i] = params[i] - ..., replacing the caller's tensors instead of updating them.

Mistake: sgd.replaces_params
"""
import torch


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for i in range(len(params)):
            grad = params[i].grad
            params[i] = params[i] - lr * grad / batch_size
            grad.zero_()
