"""Returns the log-softmax (X - logsumexp) instead of the probabilities.

Mistake: softmax.log_softmax
"""
import torch


def softmax(X):
    return X - torch.logsumexp(X, dim=1, keepdim=True)
