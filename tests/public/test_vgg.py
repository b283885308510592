"""vgg_block and vgg: the checks every student sees."""
import torch
from torch import nn

from tests.support.report import check, fail
from tests.support.vgg_layers import (block_hint, build_on_meta, call_vgg, compare, describe, expected_block,
                                      layers, trace)

CONV_ARCH = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))



def test_block_layers(impl):
    """vgg_block(2, 3, 8) is Conv2d(3, 8), ReLU, Conv2d(8, 8), ReLU, MaxPool2d(2, stride 2)."""
    block = build_on_meta(lambda: impl.vgg_block(2, 3, 8))
    check(isinstance(block, nn.Sequential), "vgg_block(2, 3, 8) must return an nn.Sequential", got=type(block))
    actual = [describe(layer) for layer in layers(block)]
    compare(actual, expected_block(2, 3, 8), "vgg_block(2, 3, 8) has the wrong layers",
            hint=block_hint(actual, 2, 3, 8))


def test_block_halves_height_and_width(impl, device):
    """A block keeps the size through its convolutions and halves it (rounding down) in the pooling."""
    block = impl.vgg_block(2, 3, 8).to(device)
    for shape, expected in (((2, 3, 8, 8), (2, 8, 4, 4)), ((1, 3, 7, 5), (1, 8, 3, 2))):
        try:
            Y = block(torch.randn(shape, device=device))
        except NotImplementedError:
            raise
        except RuntimeError as error:
            fail(f"vgg_block(2, 3, 8) failed on an input of shape {shape}: {error}",
                 hint=block_hint([describe(layer) for layer in layers(block)], 2, 3, 8))
        check(tuple(Y.shape) == expected,
              f"vgg_block(2, 3, 8) on an input of shape {shape} must give shape {expected}, got {tuple(Y.shape)}",
              hint=block_hint([describe(layer) for layer in layers(block)], 2, 3, 8))


def test_book_vgg_shapes(impl):
    """The book's VGG-11 on a 1x224x224 image: 112, 56, 28, 14, 7 after the blocks, 10 outputs at the end."""
    net = call_vgg(impl, CONV_ARCH)
    shapes = trace(net.eval(), len(CONV_ARCH), torch.empty(1, 1, 224, 224, device="meta"))
    expected = [(f"block {i}", shape) for i, shape in enumerate(
        [(1, 64, 112, 112), (1, 128, 56, 56), (1, 256, 28, 28), (1, 512, 14, 14), (1, 512, 7, 7)])]
    check(shapes[:5] == expected, "vgg(conv_arch) must give these shapes after its five blocks",
          expected=expected, got=shapes[:5])
    check(shapes[-1][1] == (1, 10), f"vgg(conv_arch) on a (1, 1, 224, 224) input must give shape (1, 10), got {shapes[-1][1]}",
          shapes=shapes)


def test_vgg_takes_in_channels_and_num_classes(impl):
    """vgg(((1, 8), (1, 16)), in_channels=3, num_classes=5) maps (2, 3, 28, 28) to (2, 5)."""
    net = call_vgg(impl, ((1, 8), (1, 16)), in_channels=3, num_classes=5)
    shapes = trace(net.eval(), 2, torch.empty(2, 3, 28, 28, device="meta"))
    check(shapes[-1][1] == (2, 5),
          f"vgg(((1, 8), (1, 16)), in_channels=3, num_classes=5) on a (2, 3, 28, 28) input must give shape (2, 5), got {shapes[-1][1]}",
          shapes=shapes, hint="use the in_channels argument for the first block and num_classes for the last Linear layer")
