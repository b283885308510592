"""Validates with assert, which raises AssertionError instead of the ValueError the contract asks for.

Mistake: conv_output_size.asserts
"""


def conv_output_size(input_size, kernel_size, padding=0, stride=1):
    assert input_size >= 0 and padding >= 0
    assert kernel_size >= 1 and stride >= 1
    assert kernel_size <= input_size + 2 * padding
    return (input_size - kernel_size + 2 * padding) // stride + 1
