"""Divides lr by batch_size inside the loop (lr /= batch_size), so each later parameter gets a smaller step."""
import torch


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            lr /= batch_size
            param -= lr * param.grad
            param.grad.zero_()
