# Your file: fill in every body that raises NotImplementedError, then run
#     nox -s check -- conv_output_size
# (Generated from solutions/conv_output_size.py by `python -m grader.stubgen`; the signatures and
# docstrings are the contract the checks hold you to.)
"""Output size of a convolution with padding and stride (d2l 6.3, 填充和步幅)."""


def conv_output_size(input_size: int, kernel_size: int, padding: int = 0, stride: int = 1) -> int:
    """Size of one spatial dimension after a convolution: ``floor((n - k + 2p) / s) + 1``.

    ``n`` is ``input_size``, ``k`` ``kernel_size``, ``p`` the padding added on each side and
    ``s`` the stride; the result equals what ``nn.Conv2d`` produces and is a Python ``int``.
    The sizes are those of real tensors (below 2**31), so float division is exact enough.

    Raises ``ValueError`` for a negative ``input_size`` or ``padding``, a ``kernel_size``
    below 1, a ``stride`` below 1, or a kernel larger than the padded input
    (``k > n + 2p``).
    """
    raise NotImplementedError("conv_output_size: validate the arguments, then compute the size with the formula of the docstring")
