"""Forgets the + 1: (n - k + 2p) // s.

Mistake: conv_output_size.no_plus_one
"""


def conv_output_size(input_size, kernel_size, padding=0, stride=1):
    if input_size < 0 or padding < 0:
        raise ValueError("input_size and padding must not be negative")
    if kernel_size < 1 or stride < 1:
        raise ValueError("kernel_size and stride must be at least 1")
    if kernel_size > input_size + 2 * padding:
        raise ValueError("kernel larger than the padded input")
    return (input_size - kernel_size + 2 * padding) // stride
