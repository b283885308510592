"""Updates through param.data.sub_ (no no_grad needed) and sets each gradient to None."""


def sgd(params, lr, batch_size):
    for param in list(params):
        param.data.sub_(param.grad, alpha=lr / batch_size)
        param.grad = None
