"""batch_norm and BatchNorm: the checks every student sees. Their oracle is torch's own
F.batch_norm (tests/batch_norm/hints.py), so that they ship without a reference batch norm."""
import torch

from tests.batch_norm import hints
from tests.common.report import check, check_close, check_tensor


def test_training_output_2d(impl, device):
    """In training mode a (2, 3) batch is normalized per feature with the biased variance, then scaled and shifted."""
    X = torch.tensor([[1.0, 2.0, -3.0], [3.0, 6.0, 5.0]], device=device)
    gamma = torch.tensor([[1.0, 2.0, 0.5]], device=device)
    beta = torch.tensor([[0.0, -1.0, 3.0]], device=device)
    Y, _, _ = hints.call(impl.batch_norm, X, gamma, beta, torch.zeros(1, 3, device=device),
                         torch.ones(1, 3, device=device), eps=1e-5, momentum=0.9, what="batch_norm on a (2, 3) batch")
    check_close(Y, hints.training_output(X, gamma, beta, 1e-5), "batch_norm(X, gamma, beta, ...) in training mode must "
                "equal gamma * X_hat + beta", dtype=X.dtype, device=device, rtol=1e-4, atol=1e-4, X=X, gamma=gamma, beta=beta,
                mistake=lambda: hints.training_mistake(Y, X, gamma, beta, 1e-5))


def test_training_output_4d_per_channel(impl, device):
    """For a (4, 2, 3, 3) batch each channel of the output has mean beta and standard deviation about gamma."""
    X = torch.randn(4, 2, 3, 3, device=device) * 3 + 1
    gamma = torch.tensor([2.0, 0.5], device=device).reshape(1, 2, 1, 1)
    beta = torch.tensor([-1.0, 4.0], device=device).reshape(1, 2, 1, 1)
    Y, _, _ = hints.call(impl.batch_norm, X, gamma, beta, torch.zeros(1, 2, 1, 1, device=device),
                         torch.ones(1, 2, 1, 1, device=device), eps=1e-5, momentum=0.9, what="batch_norm on a (4, 2, 3, 3) batch")
    explain = lambda: hints.training_mistake(Y, X, gamma, beta, 1e-5)
    check_tensor(Y, "batch_norm must return Y of X's shape", shape=X.shape, dtype=X.dtype, device=device, got=Y, mistake=explain)
    mean = Y.mean(dim=(0, 2, 3))
    std = ((Y - mean.reshape(1, 2, 1, 1)) ** 2).mean(dim=(0, 2, 3)).sqrt()
    check_close(mean, beta.flatten(), "each channel of Y must have mean beta", rtol=1e-4, atol=1e-4, mistake=explain)
    check_close(std, gamma.flatten(), "each channel of Y must have (biased) standard deviation gamma", rtol=1e-3, atol=1e-3,
                mistake=explain)


def test_moving_statistics_update(impl, device):
    """In training mode moving = 0.9 * moving + 0.1 * batch statistic (biased variance), with the moving shape."""
    X = torch.tensor([[1.0, 2.0], [3.0, 6.0]], device=device)
    before_mean, before_var = torch.zeros(1, 2, device=device), torch.ones(1, 2, device=device)
    gamma, beta = torch.ones(1, 2, device=device), torch.zeros(1, 2, device=device)
    Y, mm, mv = hints.call(impl.batch_norm, X, gamma, beta, before_mean.clone(), before_var.clone(), eps=1e-5, momentum=0.9,
                           what="batch_norm on a (2, 2) batch")
    uses_moving = lambda: hints.matches(Y, hints.normalized_with(X, gamma, beta, before_mean, before_var, 1e-5))
    check_close(mm, hints.expected_moving_mean(X, before_mean, before_var, 0.9), "moving_mean after one batch must be "
                "0.9 * 0 + 0.1 * [2, 4]", dtype=X.dtype, device=device, rtol=1e-5, atol=1e-6, X=X,
                mistake=lambda: hints.moving_mistake(mm, X, before_mean, before_var, 0.9, uses_moving(), "mean"))
    check_close(mv, hints.expected_moving_var(X, before_var, 0.9), "moving_var after one batch must be 0.9 * 1 + 0.1 * [1, 4] "
                "(biased variance)", dtype=X.dtype, device=device, rtol=1e-5, atol=1e-6, X=X,
                mistake=lambda: hints.moving_mistake(mv, X, before_mean, before_var, 0.9, uses_moving(), "var"))


def test_prediction_mode_uses_moving_statistics(impl, device):
    """Under torch.no_grad() X is normalized with the moving statistics."""
    X = torch.tensor([[1.0, 2.0], [3.0, 6.0]], device=device)
    gamma, beta = torch.ones(1, 2, device=device), torch.zeros(1, 2, device=device)
    mm, mv = torch.tensor([[1.0, -2.0]], device=device), torch.tensor([[4.0, 0.25]], device=device)
    with torch.no_grad():
        Y, _, _ = hints.call(impl.batch_norm, X, gamma, beta, mm, mv, eps=0.0, momentum=0.9,
                             what="batch_norm under torch.no_grad()")
    check_close(Y, torch.tensor([[0.0, 8.0], [1.0, 16.0]], device=device), "under torch.no_grad(), batch_norm must return "
                "(X - moving_mean) / sqrt(moving_var + eps)", rtol=1e-5, atol=1e-5, X=X, moving_mean=mm, moving_var=mv,
                mistake=lambda: hints.MODE if hints.matches(Y, hints.training_output(X, gamma, beta, 0.0)) else None)


def test_module_parameters(impl):
    """BatchNorm(3, 2) has exactly two learnable parameters, gamma (ones) and beta (zeros), of shape (1, 3)."""
    layer = impl.BatchNorm(3, 2)
    params = dict(layer.named_parameters())
    check(sorted(params) == ["beta", "gamma"], "BatchNorm(3, 2) must have exactly the parameters gamma and beta",
          got=sorted(params), mistake=hints.NOT_PARAMETERS if not params else None)
    check_close(params["gamma"].detach(), torch.ones(1, 3), "BatchNorm(3, 2).gamma must start as ones", rtol=0, atol=0)
    check_close(params["beta"].detach(), torch.zeros(1, 3), "BatchNorm(3, 2).beta must start as zeros", rtol=0, atol=0)
