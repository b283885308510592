"""Hypothesis strategies for the checks: small tensors with explicit shapes and dtypes."""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

FLOAT_DTYPES = (torch.float32, torch.float64)
_NUMPY = {torch.float32: np.float32, torch.float64: np.float64}

float_dtypes = st.sampled_from(FLOAT_DTYPES)


def shapes(min_dims: int = 1, max_dims: int = 4, min_side: int = 1, max_side: int = 5):
    """Tensor shapes; a side of 1 (batch size 1) is always possible."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def tensors(shape, dtype: torch.dtype = torch.float32, min_value: float = -10.0, max_value: float = 10.0):
    """Tensors of ``shape`` (a tuple or a strategy of tuples) with finite values in a range."""
    shape = st.just(tuple(shape)) if isinstance(shape, (tuple, list)) else shape
    elements = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, width=32)
    return shape.flatmap(lambda s: hnp.arrays(_NUMPY[dtype], s, elements=elements)).map(torch.from_numpy)


def tensors_of_any_float_dtype(shape, **bounds):
    return float_dtypes.flatmap(lambda dtype: tensors(shape, dtype, **bounds))
