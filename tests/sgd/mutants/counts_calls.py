"""Forgets to divide by batch_size, and counts its calls in a global: the count changes nothing
it computes, but code that keeps state gets no hint (what a stateful call gives can depend on
the calls before it, and coincide with a mistake it did not make)."""
import torch

CALLS = [0]


def sgd(params, lr, batch_size):
    CALLS[0] += 1
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad
            param.grad.zero_()
