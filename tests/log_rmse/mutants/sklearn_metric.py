"""Uses scikit-learn's mean_squared_log_error, which the exercise forbids (and which logs 1 + x).

Mistake: log_rmse.log1p
"""
import math

import torch
from sklearn.metrics import mean_squared_log_error


def log_rmse(net, features, labels):
    with torch.no_grad():
        preds = torch.clamp(net(features), 1, float("inf"))
    return math.sqrt(mean_squared_log_error(labels.detach().cpu().numpy(), preds.detach().cpu().numpy()))
