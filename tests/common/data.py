"""Data for convergence checks, made or shipped offline: nothing is downloaded.

- ``synthetic_regression``: d2l's synthetic linear-regression data (3.1/3.2).
- ``digits``: scikit-learn's 1,797 real 8x8 handwritten digits, shipped inside its wheel,
  split 1,437 / 360 with a fixed permutation and scaled to [0, 1].
"""
from __future__ import annotations

import gzip
import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch


def synthetic_regression(w, b, num_examples: int, noise: float = 0.01, seed: int = 0):
    """``y = Xw + b + noise`` with standard normal features; labels have shape ``(n, 1)``."""
    generator = torch.Generator().manual_seed(seed)
    w = torch.as_tensor(w, dtype=torch.float32)
    X = torch.randn(num_examples, len(w), generator=generator)
    y = X @ w + b + noise * torch.randn(num_examples, generator=generator)
    return X, y.reshape(-1, 1)


def digits_file() -> Path:
    """scikit-learn's own copy of the digits (what ``load_digits`` reads), found without
    importing scikit-learn: that import costs most of a second in every process that loads
    the digits, the checker and the worker alike."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or spec.origin is None:
        raise RuntimeError("scikit-learn is not installed: the digits ship inside its wheel (see pyproject.toml)")
    return Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"


@lru_cache(maxsize=None)
def _digits() -> tuple[torch.Tensor, torch.Tensor]:
    with gzip.open(digits_file(), "rt", encoding="ascii") as rows:
        table = np.loadtxt(rows, delimiter=",")
    X = torch.tensor(table[:, :-1], dtype=torch.float32) / 16.0
    y = torch.tensor(table[:, -1].astype(np.int64), dtype=torch.long)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    return X[order], y[order]


def digits(image: bool = False, test_size: int = 360):
    """``(X_train, y_train, X_test, y_test)``; ``image=True`` shapes X as ``(n, 1, 8, 8)``."""
    X, y = _digits()
    if image:
        X = X.reshape(-1, 1, 8, 8)
    return X[test_size:], y[test_size:], X[:test_size], y[:test_size]


class Batches:
    """Minibatches ``(X, y)`` of a whole data set, like a ``DataLoader`` over a
    ``TensorDataset`` (reshuffled on every pass when ``shuffle``, from its own seeded
    generator, so the order never depends on the order of the checks; ``len`` is the
    number of minibatches), but sliced from the tensors at once instead of example by
    example, which made the convergence checks several times slower."""

    def __init__(self, X, y, batch_size: int, shuffle: bool, seed: int = 0):
        self.X, self.y, self.batch_size, self.shuffle = X, y, batch_size, shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return -(-len(self.y) // self.batch_size)

    def __iter__(self):
        order = torch.randperm(len(self.y), generator=self.generator) if self.shuffle else None
        for start in range(0, len(self.y), self.batch_size):
            if order is None:
                yield self.X[start:start + self.batch_size], self.y[start:start + self.batch_size]
            else:
                chosen = order[start:start + self.batch_size]
                yield self.X[chosen], self.y[chosen]


def loader(X, y, batch_size: int, shuffle: bool, seed: int = 0) -> Batches:
    return Batches(X, y, batch_size, shuffle, seed)
