"""Subtracts each row's minimum, which makes every logit non-negative and overflows for rows that span 2000.

Mistake: softmax.shift_not_row_max
"""
import torch


def softmax(X):
    shifted = X - torch.min(X, dim=1, keepdim=True)[0]
    X_exp = shifted.exp()
    return X_exp / X_exp.sum(1, keepdim=True)
