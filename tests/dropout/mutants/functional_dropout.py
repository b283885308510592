"""Calls F.dropout, which the exercise forbids."""
import torch.nn.functional as F


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    return F.dropout(X, dropout, training=True)
