"""train written as one inline loop in train_ch6's style (no call to train_epoch), with tensor sums turned into floats by .item()."""
import torch


def accuracy(y_hat, y):
    return float((y_hat.argmax(dim=1) == y).sum())


def _update(l, updater, batch_size):
    if isinstance(updater, torch.optim.Optimizer):
        updater.zero_grad(set_to_none=True)
        l.mean().backward()
        updater.step()
    else:
        l.sum().backward()
        updater(batch_size)


def train_epoch(net, train_iter, loss, updater):
    net.train()
    loss_sum = correct = None
    n = 0
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        _update(l, updater, len(y))
        with torch.no_grad():
            batch_loss = l.sum().double()
            batch_correct = (y_hat.argmax(dim=1) == y).sum()
        loss_sum = batch_loss if loss_sum is None else loss_sum + batch_loss
        correct = batch_correct if correct is None else correct + batch_correct
        n += len(y)
    return loss_sum.item() / n, correct.item() / n


def train(net, train_iter, test_iter, loss, num_epochs, updater, device=None):
    if device is not None:
        net = net.to(device)
    history = []
    for epoch in range(num_epochs):
        net.train()
        loss_sum, correct, n = 0.0, 0, 0
        for X, y in train_iter:
            if device is not None:
                X, y = X.to(device), y.to(device)
            y_hat = net(X)
            l = loss(y_hat, y)
            _update(l, updater, X.shape[0])
            loss_sum += l.detach().sum().item()
            correct += (y_hat.argmax(dim=1) == y).sum().item()
            n += y.shape[0]
        net.eval()
        test_correct, test_n = 0, 0
        with torch.no_grad():
            for X, y in test_iter:
                if device is not None:
                    X, y = X.to(device), y.to(device)
                test_correct += (net(X).argmax(dim=1) == y).sum().item()
                test_n += y.shape[0]
        history.append((loss_sum / n, correct / n, test_correct / test_n))
    return history
