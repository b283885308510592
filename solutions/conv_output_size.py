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
    # BEGIN SOLUTION: validate the arguments, then compute the size with the formula of the docstring
    if input_size < 0 or padding < 0:
        raise ValueError(f"sizes must not be negative, got input_size={input_size}, padding={padding}")
    if kernel_size < 1:
        raise ValueError(f"kernel_size must be at least 1, got {kernel_size}")
    if stride < 1:
        raise ValueError(f"stride must be at least 1, got {stride}")
    if kernel_size > input_size + 2 * padding:
        raise ValueError(
            f"kernel_size {kernel_size} is larger than the padded input {input_size} + 2 * {padding}"
        )
    return (input_size - kernel_size + 2 * padding) // stride + 1
    # END SOLUTION
