"""Validates with `if not kernel_size or not stride`, which catches 0 but lets negative sizes and strides through."""


def conv_output_size(input_size, kernel_size, padding=0, stride=1):
    if input_size < 0 or padding < 0:
        raise ValueError("input_size and padding must not be negative")
    if not kernel_size or not stride:
        raise ValueError("kernel_size and stride must not be zero")
    if kernel_size > input_size + 2 * padding:
        raise ValueError("kernel larger than the padded input")
    return (input_size - kernel_size + 2 * padding) // stride + 1
