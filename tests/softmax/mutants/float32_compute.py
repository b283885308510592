"""Converts X to float32 with .float(), so float64 input comes back as float32.

Mistake: softmax.changes_dtype
"""
import torch


def softmax(X):
    X = X.float()
    X_exp = torch.exp(X - X.max(dim=1, keepdim=True).values)
    return X_exp / X_exp.sum(1, keepdim=True)
