"""Fills a result made with torch.zeros(X.shape) row by row: the result lives on the CPU, not on X's device.

Mistake: softmax.off_device
"""
import torch


def softmax(X):
    out = torch.zeros(X.shape, dtype=X.dtype)
    for i in range(X.shape[0]):
        row_exp = torch.exp(X[i] - X[i].max())
        out[i] = row_exp / row_exp.sum()
    return out
