"""Assigns param.data = param.data - ..., keeping the same parameter object (new storage)."""
import torch


def sgd(params, lr, batch_size):
    for param in params:
        param.data = param.data - lr * param.grad.data / batch_size
        param.grad.data = torch.zeros_like(param.grad.data)
