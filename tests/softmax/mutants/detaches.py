"""Shifts X.detach() by the row maximum, which cuts the result out of the autograd graph.

Mistake: softmax.detached
"""
import torch


def softmax(X):
    shifted = X.detach() - X.detach().max(dim=1, keepdim=True).values
    X_exp = torch.exp(shifted)
    return X_exp / X_exp.sum(1, keepdim=True)
