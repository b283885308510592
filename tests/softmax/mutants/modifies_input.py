"""Subtracts the row maximum in place (X -= ...), modifying the caller's X.

Mistake: softmax.in_place
"""
import torch


def softmax(X):
    X -= X.max(dim=1, keepdim=True).values
    X_exp = torch.exp(X)
    return X_exp / X_exp.sum(1, keepdim=True)
