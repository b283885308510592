"""Truncates a true division with int(), which equals floor here since the numerator is never negative."""
def conv_output_size(input_size, kernel_size, padding=0, stride=1):
    if input_size < 0 or padding < 0 or kernel_size < 1 or stride < 1:
        raise ValueError("bad arguments")
    if kernel_size > input_size + 2 * padding:
        raise ValueError("kernel larger than padded input")
    return int((input_size - kernel_size + 2 * padding) / stride) + 1
