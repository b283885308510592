"""The data the convergence checks learn from is what it says it is."""
from __future__ import annotations

import torch

from tests.common import data


def test_digits_are_scikit_learns():
    """The digits read from scikit-learn's file, without importing it, equal load_digits()'s, in the fixed order."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    X, y = data._digits()
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    assert X.shape == (1797, 64) and X.dtype == torch.float32 and y.dtype == torch.long
    assert torch.equal(X, (torch.tensor(bunch.data, dtype=torch.float32) / 16.0)[order])
    assert torch.equal(y, torch.tensor(bunch.target, dtype=torch.long)[order])


def test_digits_split():
    """digits() gives 1,437 training and 360 test examples, as images when asked, scaled to [0, 1]."""
    X_train, y_train, X_test, y_test = data.digits(image=True)
    assert X_train.shape == (1437, 1, 8, 8) and X_test.shape == (360, 1, 8, 8)
    assert len(y_train) == 1437 and len(y_test) == 360
    assert float(X_train.min()) == 0.0 and float(X_train.max()) == 1.0
