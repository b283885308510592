"""Converts the predictions and labels to float32 with .float() before computing.

Mistake: log_rmse.float32_arithmetic
"""
import torch


def log_rmse(net, features, labels):
    preds, labels = net(features).float(), labels.float()
    clipped = torch.clamp(preds, 1, float("inf"))
    return torch.sqrt(torch.mean((torch.log(clipped) - torch.log(labels)) ** 2)).item()
