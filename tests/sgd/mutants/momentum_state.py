"""Adds momentum 0.9 with a velocity kept between calls: the first step is right, later ones are not."""
import torch

_velocity = {}


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            v = _velocity.get(id(param), torch.zeros_like(param))
            v = 0.9 * v + param.grad / batch_size
            _velocity[id(param)] = v
            param -= lr * v
            param.grad.zero_()
