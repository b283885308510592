"""Computes float16 and bfloat16 input in float32 "for stability" and forgets to convert the result back.

Mistake: softmax.changes_dtype
"""
import torch


def softmax(X):
    if X.dtype in (torch.float16, torch.bfloat16):
        X = X.float()
    X_exp = torch.exp(X - X.max(dim=1, keepdim=True).values)
    return X_exp / X_exp.sum(dim=1, keepdim=True)
