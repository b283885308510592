"""Updates the leaf tensor in place without torch.no_grad(), which autograd refuses.

Mistake: sgd.no_no_grad
"""


def sgd(params, lr, batch_size):
    for param in params:
        param -= lr * param.grad / batch_size
        param.grad.zero_()
