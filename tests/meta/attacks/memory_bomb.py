"""Allocates far more memory than an exercise may use, then a list that grows without end."""
import torch


def log_rmse(net, features, labels):
    try:
        hoard = torch.empty(64 << 30, dtype=torch.uint8)  # 64 GiB
        hoard.fill_(1)
    except RuntimeError:
        pass
    hoard = []
    while True:
        hoard.append(bytearray(64 << 20))
