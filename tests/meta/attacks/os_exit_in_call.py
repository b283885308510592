"""Calls os._exit(0) in the middle of a call."""
import os


def log_rmse(net, features, labels):
    os._exit(0)
