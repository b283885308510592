"""Loops forever in every call."""


def conv_output_size(input_size, kernel_size, padding=0, stride=1):
    while True:
        pass
