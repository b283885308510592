# Your file: fill in every body that raises NotImplementedError, then run
#     nox -s check -- dropout
# (Generated from solutions/dropout.py by `python -m grader.stubgen`; the signatures and
# docstrings are the contract the checks hold you to.)
"""Dropout from scratch (d2l 4.6, 暂退法)."""
import torch


def dropout_layer(X: torch.Tensor, dropout: float) -> torch.Tensor:
    """Zero each element of ``X`` with probability ``dropout``; rescale the survivors.

    Each element is kept independently with probability ``1 - dropout``, and every kept
    element is multiplied by ``1 / (1 - dropout)`` so that the expected value of each output
    element equals the input element. (Draw the uniform numbers in float32: drawn in
    bfloat16 they are too coarse to keep elements with that probability.)

    Contract:
    - ``dropout == 1`` returns a tensor of zeros and ``dropout == 0`` returns ``X`` unchanged.
    - The result has the shape, dtype and device of ``X``, float16 and bfloat16 included (a
      mask made with ``.float()`` would turn them into float32); the random mask is made on
      ``X.device`` (``torch.rand(X.shape)`` alone would make it on the CPU).
    - ``X`` itself is never modified.
    - ``dropout`` outside ``[0, 1]``, or NaN, raises ``ValueError`` (an ``assert`` as in the
      book is accepted too).
    """
    raise NotImplementedError("dropout_layer: draw a uniform random mask on X's device, zero the dropped elements and rescale the survivors")
