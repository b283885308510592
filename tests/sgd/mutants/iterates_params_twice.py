"""Updates in one loop and zeroes in a second one, which does nothing when params is a generator.

Mistake: sgd.iterates_twice
"""
import torch


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
    for param in params:
        param.grad.zero_()
