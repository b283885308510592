"""Returns the 0-d tensor instead of a Python float (no .item()).

Mistake: log_rmse.returns_tensor
"""
import torch
from torch import nn


def log_rmse(net, features, labels):
    clipped_preds = torch.clamp(net(features), 1, float("inf"))
    return torch.sqrt(nn.MSELoss()(torch.log(clipped_preds), torch.log(labels)))
