"""Shifts by torch.amax over the last dimension and normalizes with Tensor.sub/exp/div methods."""
import torch


def softmax(X):
    shifted = X.sub(torch.amax(X, dim=-1, keepdim=True))
    numerator = shifted.exp()
    return numerator.div(numerator.sum(dim=-1, keepdim=True))
