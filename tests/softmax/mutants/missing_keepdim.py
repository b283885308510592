"""Sums each row without keepdim=True, so the division broadcasts along the wrong dimension.

Mistake: softmax.no_keepdim
"""
import torch


def softmax(X):
    X_exp = torch.exp(X - X.max(dim=1, keepdim=True).values)
    return X_exp / X_exp.sum(1)
