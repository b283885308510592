"""Subtracts the maximum of the whole tensor instead of each row's maximum.

Mistake: softmax.global_max
"""
import torch


def softmax(X):
    X_exp = torch.exp(X - X.max())
    return X_exp / X_exp.sum(1, keepdim=True)
