"""Divides each row by its largest exponential instead of by the row's sum.

Mistake: softmax.not_divided_by_sum
"""
import torch


def softmax(X):
    X_exp = torch.exp(X)
    return X_exp / X_exp.max(dim=1, keepdim=True).values
