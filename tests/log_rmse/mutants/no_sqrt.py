"""Forgets the square root: returns the mean squared log error.

Mistake: log_rmse.no_sqrt
"""
import torch
from torch import nn


def log_rmse(net, features, labels):
    clipped_preds = torch.clamp(net(features), 1, float("inf"))
    mse = nn.MSELoss()(torch.log(clipped_preds), torch.log(labels))
    return mse.item()
