"""Returns exp(X - row max) and forgets to divide by the row sums."""
import torch


def softmax(X):
    return torch.exp(X - X.max(dim=1, keepdim=True).values)
