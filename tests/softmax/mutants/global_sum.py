"""Divides by the sum over all elements instead of each row's sum.

Mistake: softmax.global_sum
"""
import torch


def softmax(X):
    X_exp = torch.exp(X - X.max(dim=1, keepdim=True).values)
    return X_exp / X_exp.sum()
