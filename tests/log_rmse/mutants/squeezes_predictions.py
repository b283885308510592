"""Squeezes the predictions to shape (n,) but not the labels, so the difference broadcasts to (n, n).

Mistake: log_rmse.broadcasts_to_n_by_n
"""
import torch


def log_rmse(net, features, labels):
    preds = net(features).squeeze()
    clipped_preds = torch.clamp(preds, 1, float("inf"))
    rmse = torch.sqrt(torch.mean((torch.log(clipped_preds) - torch.log(labels)) ** 2))
    return rmse.item()
