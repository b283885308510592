"""Takes VGG-11's layers from torchvision.models, which the exercise forbids, whenever the architecture is VGG-11."""
from torch import nn
from torchvision.models import vgg11

VGG11 = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))


def vgg_block(num_convs: int, in_channels: int, out_channels: int) -> nn.Sequential:
    """One VGG block: ``num_convs`` (at least 1) times (3x3 convolution with padding 1,
    ReLU), then 2x2 max pooling with stride 2.

    The first convolution maps ``in_channels`` to ``out_channels``, the following ones
    ``out_channels`` to ``out_channels``. The block keeps height and width through the
    convolutions and halves them (rounding down) in the pooling.
    """
    layers = []
    for _ in range(num_convs):
        layers.append(nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))
        layers.append(nn.ReLU())
        in_channels = out_channels
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


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
    if tuple(map(tuple, conv_arch)) == VGG11 and in_channels == 3 and num_classes == 1000:
        return vgg11(weights=None)
    conv_blks = []
    for num_convs, out_channels in conv_arch:
        conv_blks.append(vgg_block(num_convs, in_channels, out_channels))
        in_channels = out_channels
    return nn.Sequential(
        *conv_blks,
        nn.Flatten(),
        nn.Linear(out_channels * 7 * 7, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, num_classes),
    )
