"""Named layers: one nested Sequential per conv+ReLU pair (OrderedDict), inplace ReLU, tuple sizes, add_module."""
from collections import OrderedDict

from torch import nn


def vgg_block(num_convs, in_channels, out_channels):
    block = nn.Sequential()
    for i in range(num_convs):
        channels = in_channels if i == 0 else out_channels
        block.add_module(f"conv{i}", nn.Sequential(OrderedDict([
            ("conv", nn.Conv2d(channels, out_channels, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))),
            ("relu", nn.ReLU(inplace=True)),
        ])))
    block.add_module("pool", nn.MaxPool2d(2))
    return block


def vgg(conv_arch, in_channels=1, num_classes=10):
    net = nn.Sequential()
    channels = [in_channels] + [out for _, out in conv_arch]
    for i, (num_convs, out_channels) in enumerate(conv_arch):
        net.add_module(f"block{i}", vgg_block(num_convs, channels[i], out_channels))
    net.add_module("flatten", nn.Flatten())
    net.add_module("fc1", nn.Linear(channels[-1] * 7 * 7, 4096))
    net.add_module("relu1", nn.ReLU(inplace=True))
    net.add_module("drop1", nn.Dropout(p=0.5))
    net.add_module("fc2", nn.Linear(4096, 4096))
    net.add_module("relu2", nn.ReLU(inplace=True))
    net.add_module("drop2", nn.Dropout(p=0.5))
    net.add_module("fc3", nn.Linear(4096, num_classes))
    return net
