"""Prints 100 MB in every call, then returns X unchanged."""


def dropout_layer(X, dropout):
    line = "x" * 999
    for _ in range(100_000):
        print(line)
    return X
