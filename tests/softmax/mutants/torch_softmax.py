"""Calls torch.softmax, which the exercise forbids (the values are right)."""
import torch


def softmax(X):
    return torch.softmax(X, dim=1)
