"""Sums the squared log differences instead of averaging them.

Mistake: log_rmse.sums
"""
import torch
from torch import nn


def log_rmse(net, features, labels):
    clipped_preds = torch.clamp(net(features), 1, float("inf"))
    loss = nn.MSELoss(reduction="sum")
    return torch.sqrt(loss(torch.log(clipped_preds), torch.log(labels))).item()
