"""Clamps with torch.clamp(min=1), then finishes in numpy after .detach().cpu()."""
import numpy as np
import torch


def log_rmse(net, features, labels):
    preds = torch.clamp(net(features), min=1)
    diff = (torch.log(preds) - torch.log(labels)).detach().cpu().numpy()
    return float(np.sqrt(np.mean(np.square(diff))))
