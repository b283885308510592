"""Checks only that the padded input holds the kernel, so a negative padding (that still fits) passes."""


def conv_output_size(input_size, kernel_size, padding=0, stride=1):
    if input_size < 0 or kernel_size < 1 or stride < 1:
        raise ValueError("bad input_size, kernel_size or stride")
    if kernel_size > input_size + 2 * padding:
        raise ValueError("kernel larger than the padded input")
    return (input_size - kernel_size + 2 * padding) // stride + 1
