"""Adds momentum 0.9 with a velocity kept between calls: the first step is right, later ones are not.

The velocity is kept per position in params (not per id(param): ids are reused by new tensors
at addresses that differ from machine to machine, which made this mutant's later steps, and so
the self-test's verdict on its hints, depend on memory layout).
"""
import torch

_velocity = {}


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for i, param in enumerate(params):
            v = _velocity.get(i)
            v = torch.zeros_like(param) if v is None or v.shape != param.shape else v.to(param.device, param.dtype)
            v = 0.9 * v + param.grad / batch_size
            _velocity[i] = v
            param -= lr * v
            param.grad.zero_()
