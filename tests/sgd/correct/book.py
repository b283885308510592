"""The book's code (d2l 3.2): in-place update and zero_() under torch.no_grad()."""
import torch


def sgd(params, lr, batch_size):  #@save
    """小批量随机梯度下降"""
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()
