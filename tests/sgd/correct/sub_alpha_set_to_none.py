"""Uses Tensor.sub_ with alpha under torch.no_grad() and sets each gradient to None."""
import torch


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for p in params:
            p.sub_(p.grad, alpha=lr / batch_size)
            p.grad = None
