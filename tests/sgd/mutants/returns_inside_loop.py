"""Returns inside the for loop, so only the first parameter is updated.

Mistake: sgd.only_first_param
"""
import torch


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()
            return
