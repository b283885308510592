"""Comprehension style: padding='same', MaxPool2d(2) with the default stride, classifier from a list."""
from torch import nn


def vgg_block(num_convs, in_channels, out_channels):
    sizes = [in_channels] + [out_channels] * num_convs
    convs = [layer for c_in, c_out in zip(sizes, sizes[1:])
             for layer in (nn.Conv2d(c_in, c_out, 3, padding="same"), nn.ReLU())]
    return nn.Sequential(*convs, nn.MaxPool2d(2))


def vgg(conv_arch, in_channels=1, num_classes=10):
    ins = [in_channels] + [out for _, out in conv_arch[:-1]]
    blocks = [vgg_block(n, c_in, c_out) for (n, c_out), c_in in zip(conv_arch, ins)]
    last = conv_arch[-1][1]
    head = [nn.Flatten()]
    for n_in, n_out in ((last * 7 * 7, 4096), (4096, 4096)):
        head += [nn.Linear(n_in, n_out), nn.ReLU(), nn.Dropout(0.5)]
    return nn.Sequential(*blocks, *head, nn.Linear(4096, num_classes))
