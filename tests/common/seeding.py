"""Seeding torch's generators cheaply.

``torch.manual_seed`` also queues a lazy seed for CUDA, MTIA and XPU, each capturing a
formatted stack, when those are not initialized: with hypothesis seeding before every
example, that cost several seconds per exercise. This seeds the CPU generator, and CUDA's
when CUDA is there.
"""
from __future__ import annotations

import torch


def seed(value: int) -> None:
    torch.random.default_generator.manual_seed(value)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(value)
