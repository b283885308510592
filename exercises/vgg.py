# Your file: fill in every body that raises NotImplementedError, then run
#     nox -s check -- vgg
# (Generated from solutions/vgg.py by `python -m grader.stubgen`; the signatures and
# docstrings are the contract the checks hold you to.)
"""Networks using blocks: VGG (d2l 7.2, 使用块的网络)."""
from torch import nn


def vgg_block(num_convs: int, in_channels: int, out_channels: int) -> nn.Sequential:
    """One VGG block: ``num_convs`` (at least 1) times (3x3 convolution with padding 1,
    ReLU), then 2x2 max pooling with stride 2.

    The first convolution maps ``in_channels`` to ``out_channels``, the following ones
    ``out_channels`` to ``out_channels``. The block keeps height and width through the
    convolutions and halves them (rounding down) in the pooling.
    """
    raise NotImplementedError("vgg_block: build the convolutions and their ReLUs in a loop, the first one changing the number of channels, then the pooling, all in one Sequential")


def vgg(conv_arch, in_channels: int = 1, num_classes: int = 10) -> nn.Sequential:
    """The VGG network of d2l 7.2 for 224x224 input.

    ``conv_arch`` is a sequence of ``(num_convs, out_channels)`` pairs, one VGG block each;
    each block's input channels are the previous block's output channels (``in_channels``
    for the first). The result is ``nn.Sequential(block_1, ..., block_m, nn.Flatten(),
    nn.Linear(out_channels * 7 * 7, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 4096),
    nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, num_classes))``: the first ``m`` entries are the
    blocks themselves, then the classifier. With VGG-11's architecture
    ``((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))`` and ``in_channels=3`` the blocks
    match ``torchvision.models.vgg11().features`` layer for layer.
    """
    raise NotImplementedError("vgg: chain one block per pair of the architecture, each taking the previous block's output channels, then add the classifier the docstring lists")
