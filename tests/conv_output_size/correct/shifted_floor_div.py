"""(n - k + 2p + s) // s, the book's formula with the + 1 folded into the division, after validation."""


def conv_output_size(input_size, kernel_size, padding=0, stride=1):
    checks = [
        (input_size >= 0, "input_size must not be negative"),
        (padding >= 0, "padding must not be negative"),
        (kernel_size >= 1, "kernel_size must be at least 1"),
        (stride >= 1, "stride must be at least 1"),
        (kernel_size <= input_size + 2 * padding, "kernel larger than the padded input"),
    ]
    for ok, message in checks:
        if not ok:
            raise ValueError(message)
    return (input_size - kernel_size + 2 * padding + stride) // stride
