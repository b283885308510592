"""Registers the moving statistics as buffers and uses torch.var_mean(correction=0) and rsqrt."""
import torch
from torch import nn


def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum):
    if not torch.is_grad_enabled():
        return (X - moving_mean) * torch.rsqrt(moving_var + eps) * gamma + beta, moving_mean, moving_var
    if X.ndim not in (2, 4):
        raise ValueError(f"expected 2-D or 4-D input, got {X.ndim}-D")
    dims = [0] if X.ndim == 2 else [0, 2, 3]
    var, mean = torch.var_mean(X, dim=dims, correction=0, keepdim=True)
    Y = (X - mean) * torch.rsqrt(var + eps) * gamma + beta
    with torch.no_grad():
        moving_mean = torch.lerp(mean.view_as(moving_mean), moving_mean, momentum)
        moving_var = torch.lerp(var.view_as(moving_var), moving_var, momentum)
    return Y, moving_mean, moving_var


class BatchNorm(nn.Module):
    def __init__(self, num_features, num_dims):
        super().__init__()
        shape = [1, num_features] + [1] * (num_dims - 2)
        self.gamma = nn.Parameter(torch.ones(shape))
        self.beta = nn.Parameter(torch.zeros(shape))
        self.register_buffer("moving_mean", torch.zeros(shape))
        self.register_buffer("moving_var", torch.ones(shape))

    def forward(self, X):
        self.moving_mean = self.moving_mean.to(X.device)
        self.moving_var = self.moving_var.to(X.device)
        Y, self.moving_mean, self.moving_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean, self.moving_var, eps=1e-5, momentum=0.9)
        return Y
