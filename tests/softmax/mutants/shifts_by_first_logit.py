"""Subtracts each row's first logit, as if it were the largest one.

Mistake: softmax.shift_not_row_max
"""
import torch


def softmax(X):
    X_exp = torch.exp(X - X[:, 0:1])
    return X_exp / X_exp.sum(1, keepdim=True)
