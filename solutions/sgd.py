"""Minibatch stochastic gradient descent (d2l 3.2, 线性回归的从零开始实现)."""
import torch


def sgd(params, lr, batch_size):
    """Take one minibatch SGD step: ``param -= lr * param.grad / batch_size`` for each param.

    - ``params`` is an iterable of leaf tensors with ``requires_grad=True`` whose ``.grad``
      holds the gradient of the summed loss over a minibatch of ``batch_size`` examples;
      it may be a generator such as ``net.parameters()``.
    - The update is done in place (``param -= ...``, or by assigning ``param.data``) and
      outside autograd (under ``torch.no_grad()``): the parameter objects stay the same
      tensors, still leaves that require gradients, with their dtype and on their device.
      Every parameter is updated, however small its gradient.
    - Afterwards each gradient is zeroed (``param.grad.zero_()``; setting it to ``None`` is
      accepted too), so that the next ``backward()`` does not accumulate into it; a gradient
      that held inf or NaN is zeroed too.
    """
    # BEGIN SOLUTION: outside autograd, update each parameter in place by its scaled gradient, then zero that gradient
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()
    # END SOLUTION
