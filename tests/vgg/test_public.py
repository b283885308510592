"""vgg_block and vgg: the checks every student sees."""
import torch
from torch import nn

from tests.common.calls import call
from tests.common.report import check
from tests.vgg.layers import (block_mistake, build_on_meta, call_vgg, compare, describe, expected_block, layers,
                              network_mistake, trace)

CONV_ARCH = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))


def block_lines(block) -> list[str]:
    return [describe(layer) for layer in layers(block)]


def check_block_shape(impl, device, num_convs, in_channels, out_channels, shape) -> None:
    """vgg_block(...) maps an input of ``shape`` to (N, out, H // 2, W // 2)."""
    block = call(impl.vgg_block, num_convs, in_channels, out_channels,
                 what=f"vgg_block({num_convs}, {in_channels}, {out_channels})").to(device)
    name = f"vgg_block({num_convs}, {in_channels}, {out_channels})"
    expected = (shape[0], out_channels, shape[2] // 2, shape[3] // 2)
    explain = lambda: block_mistake(block_lines(block), num_convs, in_channels, out_channels)
    Y = call(block, torch.randn(shape, device=device), what=f"{name} on an input of shape {shape}", explain=lambda _: explain())
    check(tuple(Y.shape) == expected, f"{name} on an input of shape {shape} must give shape {expected}, got {tuple(Y.shape)}",
          mistake=explain)


def test_block_layers(impl):
    """vgg_block(2, 3, 8) is Conv2d(3, 8), ReLU, Conv2d(8, 8), ReLU, MaxPool2d(2, stride 2)."""
    block = build_on_meta(lambda: impl.vgg_block(2, 3, 8))
    check(isinstance(block, nn.Sequential), "vgg_block(2, 3, 8) must return an nn.Sequential", got=type(block))
    actual = block_lines(block)
    compare(actual, expected_block(2, 3, 8), "vgg_block(2, 3, 8) has the wrong layers",
            mistake=block_mistake(actual, 2, 3, 8))


def test_block_halves_height_and_width(impl, device):
    """A block keeps the size through its convolutions and halves it (rounding down) in the pooling."""
    for shape in ((2, 3, 8, 8), (1, 3, 7, 5)):
        check_block_shape(impl, device, 2, 3, 8, shape)


def test_book_vgg_shapes(impl):
    """The book's VGG-11 on a 1x224x224 image: 112, 56, 28, 14, 7 after the blocks, 10 outputs at the end."""
    net = call_vgg(impl, CONV_ARCH)
    explain = lambda: network_mistake(net, CONV_ARCH, 1, 10)
    shapes = trace(net.eval(), len(CONV_ARCH), torch.empty(1, 1, 224, 224, device="meta"), explain=explain)
    expected = [(f"block {i}", shape) for i, shape in enumerate(
        [(1, 64, 112, 112), (1, 128, 56, 56), (1, 256, 28, 28), (1, 512, 14, 14), (1, 512, 7, 7)])]
    check(shapes[:5] == expected, "vgg(conv_arch) must give these shapes after its five blocks",
          expected=expected, got=shapes[:5], mistake=explain)
    check(shapes[-1][1] == (1, 10), f"vgg(conv_arch) on a (1, 1, 224, 224) input must give shape (1, 10), got {shapes[-1][1]}",
          shapes=shapes, mistake=explain)


def test_vgg_takes_in_channels_and_num_classes(impl):
    """vgg(((1, 8), (1, 16)), in_channels=3, num_classes=5) maps (2, 3, 28, 28) to (2, 5)."""
    arch = ((1, 8), (1, 16))
    net = call_vgg(impl, arch, in_channels=3, num_classes=5)
    explain = lambda: network_mistake(net, arch, 3, 5)
    shapes = trace(net.eval(), 2, torch.empty(2, 3, 28, 28, device="meta"), explain=explain)
    check(shapes[-1][1] == (2, 5),
          f"vgg(((1, 8), (1, 16)), in_channels=3, num_classes=5) on a (2, 3, 28, 28) input must give shape (2, 5), got {shapes[-1][1]}",
          shapes=shapes, mistake=explain)
