"""Moves a minibatch only when it is not already on the device, and accumulates with .item()."""
import torch


def accuracy(y_hat, y):
    return float((y_hat.argmax(dim=1) == y).sum())

def train_epoch(net, train_iter, loss, updater):
    net.train()
    sums = [0.0, 0.0, 0]
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
        sums[0] += l.sum().item()
        sums[1] += (y_hat.argmax(1) == y).sum().item()
        sums[2] += len(y)
    return sums[0] / sums[2], sums[1] / sums[2]

def evaluate(net, data_iter, device):
    net.eval()
    right = total = 0
    with torch.no_grad():
        for X, y in data_iter:
            if device is not None and X.device != torch.device(device):
                X, y = X.to(device), y.to(device)
            right += (net(X).argmax(1) == y).sum().item()
            total += y.numel()
    return right / total

def train(net, train_iter, test_iter, loss, num_epochs, updater, device=None):
    if device is not None:
        net = net.to(device)
        train_batches = lambda: ((X if X.device == device else X.to(device), y if y.device == device else y.to(device)) for X, y in train_iter)
    else:
        train_batches = lambda: iter(train_iter)
    history = []
    for epoch in range(num_epochs):
        tl, ta = train_epoch(net, train_batches(), loss, updater)
        history.append((tl, ta, evaluate(net, test_iter, device)))
    return history
