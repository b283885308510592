# Your file: fill in every body that raises NotImplementedError, then run
#     nox -s check -- log_rmse
# (Generated from solutions/log_rmse.py by `python -m grader.stubgen`; the signatures and
# docstrings are the contract the checks hold you to.)
"""The log root-mean-squared error of the Kaggle house-price competition (d2l 4.10)."""
import torch


def log_rmse(net, features, labels) -> float:
    """Root mean squared error between the logarithms of predictions and labels.

    ``sqrt(mean((log(max(net(features), 1)) - log(labels)) ** 2))``: the predictions
    (shape ``(n, 1)``, like ``labels``) are clamped to at least 1 before the natural
    logarithm, so that a bad prediction cannot make the logarithm ``-inf`` or ``NaN``; the
    labels are positive and are not clamped. Returns a Python ``float``. The tensors may be
    on any device, a GPU included.
    """
    raise NotImplementedError("log_rmse: clamp the predictions to at least 1, take natural logs of predictions and labels, and return the root of their mean squared difference as a Python float")
