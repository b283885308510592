"""Starts with a UTF-8 byte-order mark, which Python reads past but a scan of the text as a
str did not parse, and takes the size from F.conv2d, which conv_output_size must not use."""
import torch
import torch.nn.functional as F


def conv_output_size(input_size, kernel_size, padding=0, stride=1):
    X = torch.empty(1, 1, input_size, input_size, device="meta")
    K = torch.empty(1, 1, kernel_size, kernel_size, device="meta")
    return F.conv2d(X, K, padding=padding, stride=stride).shape[-1]
