"""Computes each row separately and stacks the rows (on X's device, since every row comes from X)."""
import torch


def softmax(X):
    rows = []
    for row in X:
        e = (row - row.max()).exp()
        rows.append(e / e.sum())
    return torch.stack(rows)
