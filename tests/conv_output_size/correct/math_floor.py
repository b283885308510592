"""math.floor((n - k + 2p) / s) + 1 after validating the arguments."""
import math


def conv_output_size(input_size, kernel_size, padding=0, stride=1):
    if min(input_size, padding) < 0:
        raise ValueError("input_size and padding must not be negative")
    if kernel_size < 1:
        raise ValueError("kernel_size must be positive")
    if stride < 1:
        raise ValueError("stride must be positive")
    padded = input_size + 2 * padding
    if kernel_size > padded:
        raise ValueError(f"kernel {kernel_size} does not fit in the padded input {padded}")
    return math.floor((padded - kernel_size) / stride) + 1
