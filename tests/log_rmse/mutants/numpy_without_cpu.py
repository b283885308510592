"""Finishes in numpy with .detach().numpy(), which fails for tensors on a GPU (no .cpu()).

Mistake: log_rmse.numpy_without_cpu
"""
import numpy as np
import torch


def log_rmse(net, features, labels):
    clipped = torch.clamp(net(features), 1, float("inf"))
    diff = (torch.log(clipped) - torch.log(labels)).detach().numpy()
    return float(np.sqrt(np.mean(diff ** 2)))
