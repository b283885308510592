"""The book's softmax with each row's maximum (torch.max(X, dim=1, keepdim=True)[0]) subtracted first."""
import torch


def softmax(X):
    X_exp = torch.exp(X - torch.max(X, dim=1, keepdim=True)[0])
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition
