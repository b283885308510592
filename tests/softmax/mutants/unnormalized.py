"""Returns exp(X - row max) and forgets to divide by the row sums.

Mistake: softmax.not_divided_by_sum
"""
import torch


def softmax(X):
    return torch.exp(X - X.max(dim=1, keepdim=True).values)
