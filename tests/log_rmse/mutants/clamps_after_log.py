"""Clamps the log of the predictions at 0 instead of the predictions at 1: NaN for negative predictions.

Mistake: log_rmse.log_of_negative
"""
import torch


def log_rmse(net, features, labels):
    log_preds = torch.clamp(torch.log(net(features)), min=0)
    rmse = torch.sqrt(torch.mean((log_preds - torch.log(labels)) ** 2))
    return rmse.item()
