"""exp(X - logsumexp(X)) per row."""
import torch


def softmax(X):
    return torch.exp(X - torch.logsumexp(X, dim=1, keepdim=True))
