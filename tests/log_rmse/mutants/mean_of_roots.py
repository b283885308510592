"""Takes the root per example before averaging: the mean absolute log error.

Mistake: log_rmse.mean_of_roots
"""
import torch


def log_rmse(net, features, labels):
    clipped_preds = torch.clamp(net(features), 1, float("inf"))
    per_example = torch.sqrt((torch.log(clipped_preds) - torch.log(labels)) ** 2)
    return per_example.mean().item()
