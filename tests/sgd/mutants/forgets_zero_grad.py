"""Never zeroes the gradients, so they accumulate over minibatches.

Mistake: sgd.gradient_not_zeroed
"""
import torch


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
