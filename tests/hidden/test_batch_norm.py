"""batch_norm and BatchNorm: the thorough checks used for grading.

References are independent of the code under test: torch.nn.functional.batch_norm for the
training output and float64 formulas for the moving statistics (F.batch_norm's running
variance is the unbiased one, so it is not used for them). The convergence checks are
deterministic (seeded data order and initialisation); their budget is stated in each.
"""
import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch import nn

from tests import adapter
from tests.support import batch_norm_oracle as oracle
from tests.support import data
from tests.support.report import check, check_close, fail
from tests.support.strategies import float_dtypes, tensors

momenta = st.sampled_from([0.0, 0.1, 0.9]) | st.floats(0.0, 1.0)
epsilons = st.sampled_from([1e-5, 1e-3, 0.5])


@st.composite
def batches(draw, ranks=(2, 4)):
    """(X, gamma, beta, moving_mean, moving_var) of one dtype; batch size 1 is possible."""
    rank = draw(st.sampled_from(ranks))
    dtype = draw(float_dtypes)
    side = st.integers(1, 3)
    shape = (draw(st.integers(1, 5)), draw(side)) if rank == 2 else tuple(draw(side) for _ in range(4))
    pshape = oracle.param_shape(shape)
    X = draw(tensors(shape, dtype))
    gamma = draw(tensors(pshape, dtype, -3.0, 3.0))
    beta = draw(tensors(pshape, dtype, -3.0, 3.0))
    moving_mean = draw(tensors(pshape, dtype, -3.0, 3.0))
    moving_var = draw(tensors(pshape, dtype, 0.25, 5.0))
    return X, gamma, beta, moving_mean, moving_var


def _tolerance(dtype, gamma):
    # float32: the batch mean carries rounding of a few ulps of |X| <= 10, which divided by
    # sqrt(var + eps) >= sqrt(1e-5) gives up to ~2e-3 in X_hat, times |gamma| <= 3.
    return (1e-7, 1e-9) if dtype == torch.float64 else (1e-4, 1e-2 * max(1.0, float(gamma.abs().max())))


def _on(device, *tensors_):
    return tuple(t.to(device) for t in tensors_)


# --- batch_norm, training mode ---------------------------------------------------------


@given(batch=batches(), eps=epsilons)
def test_training_output_matches_torch(impl, device, batch, eps):
    """In training mode Y equals torch.nn.functional.batch_norm for 2-D and 4-D input of any size and float dtype."""
    X, gamma, beta, mm, mv = _on(device, *batch)
    Y, _, _ = oracle.call(impl.batch_norm, X, gamma, beta, mm, mv, eps=eps, momentum=0.9,
                          what=f"batch_norm on X of shape {tuple(X.shape)}")
    check(isinstance(Y, torch.Tensor) and (Y.shape, Y.dtype) == (X.shape, X.dtype),
          f"batch_norm must return Y of X's shape {tuple(X.shape)} and dtype {X.dtype}", got=Y,
          hint="for 4-D input keep the dims of the statistics (keepdim=True) so they broadcast per channel"
          if isinstance(Y, torch.Tensor) and Y.shape != X.shape else None)
    rtol, atol = _tolerance(X.dtype, gamma)
    check_close(
        Y, oracle.training_output(X, gamma, beta, eps), f"batch_norm(X, gamma, beta, ..., eps={eps}) in training mode "
        "must equal gamma * (X - mean) / sqrt(var + eps) + beta with the batch statistics",
        rtol=rtol, atol=atol, X=X, gamma=gamma, beta=beta,
        hint=lambda: oracle.training_mistake(Y, X, gamma, beta, eps, mm, mv))


@given(batch=batches(), momentum=momenta)
@settings(max_examples=25)
def test_training_updates_moving_statistics(impl, device, batch, momentum):
    """In training mode the returned moving statistics are momentum * moving + (1 - momentum) * batch statistic (biased variance), in the moving shape."""
    X, gamma, beta, mm, mv = _on(device, *batch)
    mm_before, mv_before = mm.clone(), mv.clone()
    _, new_mm, new_mv = oracle.call(impl.batch_norm, X, gamma, beta, mm, mv, eps=1e-5, momentum=momentum,
                                    what=f"batch_norm on X of shape {tuple(X.shape)}")
    mean, var = oracle.batch_stats(X)
    rtol, atol = (1e-9, 1e-9) if X.dtype == torch.float64 else (1e-4, 1e-4)
    for name, got, before, stat, unbiased in (
        ("moving_mean", new_mm, mm_before, lambda: mean, lambda: mean),
        ("moving_var", new_mv, mv_before, lambda: var, lambda: oracle.batch_stats(X, unbiased=True)[1]),
    ):
        def explain(got=got, before=before, stat=stat, unbiased=unbiased):
            if isinstance(got, torch.Tensor) and got.shape != before.shape:
                return "the moving statistics must keep their shape: keep the dims of the batch statistics (keepdim=True)"
            if oracle.matches(got, before.double().cpu(), rtol=0, atol=0) and 0 < momentum < 1:
                return "the moving statistics passed in came back unchanged: return the updated ones"
            if oracle.matches(got, oracle.moving_update(before, stat(), 1.0 - momentum)):
                return oracle.EN_EDITION_HINT
            if oracle.matches(got, oracle.moving_update(before, unbiased(), momentum)):
                return oracle.UNBIASED_HINT
            return None

        check_close(
            got, oracle.moving_update(before, stat(), momentum),
            f"the {name} returned by batch_norm(..., momentum={momentum}) in training mode must be "
            f"momentum * {name} + (1 - momentum) * batch statistic", rtol=rtol, atol=atol,
            X=X, **{name: before}, hint=explain)


def test_moving_statistics_carry_no_graph(impl, device):
    """The returned moving statistics are detached from the autograd graph (the book returns .data)."""
    X = torch.randn(4, 3, 2, 2, device=device, requires_grad=True)
    gamma = torch.ones(1, 3, 1, 1, device=device, requires_grad=True)
    beta = torch.zeros(1, 3, 1, 1, device=device, requires_grad=True)
    _, mm, mv = oracle.call(impl.batch_norm, X, gamma, beta, torch.zeros(1, 3, 1, 1, device=device),
                            torch.ones(1, 3, 1, 1, device=device), eps=1e-5, momentum=0.9, what="batch_norm")
    for name, value in (("moving_mean", mm), ("moving_var", mv)):
        check(isinstance(value, torch.Tensor) and not value.requires_grad,
              f"the {name} returned in training mode for an X that requires grad must not require grad", got=value,
              hint="return moving_mean.detach() (the book returns moving_mean.data): otherwise every batch's graph stays alive")


@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 2, 3), (1, 2, 3, 2)], ids=["2d", "4d", "4d-batch1"])
def test_gradients_match_finite_differences(impl, shape):
    """In training mode the float64 gradients of Y w.r.t. X, gamma and beta match finite differences."""
    generator = torch.Generator().manual_seed(3)
    pshape = oracle.param_shape(shape)
    X = torch.randn(shape, dtype=torch.float64, generator=generator, requires_grad=True)
    gamma = (torch.rand(pshape, dtype=torch.float64, generator=generator) + 0.5).requires_grad_()
    beta = torch.randn(pshape, dtype=torch.float64, generator=generator, requires_grad=True)
    mm, mv = torch.zeros(pshape, dtype=torch.float64), torch.ones(pshape, dtype=torch.float64)

    def forward(x, g, b):
        return impl.batch_norm(x, g, b, mm, mv, eps=1e-5, momentum=0.9)[0]

    try:
        adapter.gradcheck(forward, (X, gamma, beta))
    except NotImplementedError:
        raise
    except Exception as error:  # noqa: BLE001
        fail(f"the gradients of batch_norm(X, gamma, beta, ...)[0] for X of shape {shape} are wrong: {error}",
             hint="keep the batch mean and variance in the graph: no X.detach(), .data or torch.no_grad() "
                  "when computing them; the gradient flows through the statistics too")


@given(rank=st.sampled_from([1, 3, 5]))
@settings(max_examples=6)
def test_rejects_other_ranks(impl, rank):
    """In training mode input that is neither 2-D nor 4-D raises ValueError (or AssertionError, as the book's assert does)."""
    X = torch.ones((2,) * rank)
    pshape = (1, 2) if rank < 4 else (1, 2, 1, 1, 1)
    try:
        result = impl.batch_norm(X, torch.ones(pshape), torch.zeros(pshape), torch.zeros(pshape), torch.ones(pshape),
                                 eps=1e-5, momentum=0.9)
    except (ValueError, AssertionError):
        return
    except NotImplementedError:
        raise
    except Exception as error:  # noqa: BLE001
        fail(f"batch_norm on {rank}-D input raised {type(error).__name__} ({error}) instead of ValueError",
             hint="check X.dim() in (2, 4) first and raise ValueError (the book uses assert len(X.shape) in (2, 4))")
    fail(f"batch_norm on {rank}-D input returned instead of raising ValueError", got=result,
         hint="check X.dim() in (2, 4) first and raise ValueError (the book uses assert len(X.shape) in (2, 4))")


# --- batch_norm, prediction mode -------------------------------------------------------


@given(batch=batches(), eps=epsilons)
@settings(max_examples=25)
def test_prediction_uses_moving_statistics(impl, device, batch, eps):
    """Under torch.no_grad() Y = gamma * (X - moving_mean) / sqrt(moving_var + eps) + beta."""
    X, gamma, beta, mm, mv = _on(device, *batch)
    with torch.no_grad():
        Y, _, _ = oracle.call(impl.batch_norm, X, gamma, beta, mm.clone(), mv.clone(), eps=eps, momentum=0.9,
                              what="batch_norm under torch.no_grad()")
    rtol, atol = (1e-7, 1e-9) if X.dtype == torch.float64 else (1e-4, 1e-4)

    def explain():
        if oracle.matches(Y, oracle.training_output(X, gamma, beta, eps), rtol=1e-3, atol=1e-3):
            return ("under torch.no_grad() (torch.is_grad_enabled() false) use the moving statistics, not the batch "
                    "ones; decide with torch.is_grad_enabled(), not a flag or self.training")
        if oracle.matches(Y, oracle.normalized(X, gamma, beta, mm, mv, eps, eps_outside=True)):
            return "eps belongs inside the square root: (X - moving_mean) / torch.sqrt(moving_var + eps)"
        return None

    check_close(
        Y, oracle.normalized(X, gamma, beta, mm, mv, eps), f"batch_norm(..., eps={eps}) under torch.no_grad() must "
        "normalize X with moving_mean and moving_var", rtol=rtol, atol=atol,
        X=X, moving_mean=mm, moving_var=mv, hint=explain)


@given(batch=batches(), momentum=st.sampled_from([0.1, 0.9]))
@settings(max_examples=10)
def test_prediction_returns_moving_statistics_unchanged(impl, device, batch, momentum):
    """Under torch.no_grad() the moving statistics come back with the values and shape passed in."""
    X, gamma, beta, mm, mv = _on(device, *batch)
    with torch.no_grad():
        _, new_mm, new_mv = oracle.call(impl.batch_norm, X, gamma, beta, mm.clone(), mv.clone(), eps=1e-5,
                                        momentum=momentum, what="batch_norm under torch.no_grad()")
    for name, got, before in (("moving_mean", new_mm, mm), ("moving_var", new_mv, mv)):
        check_close(got, before.double().cpu(), f"under torch.no_grad() batch_norm must return {name} unchanged",
                    rtol=0, atol=0, X=X, hint="update the moving statistics only in training mode")


# --- the BatchNorm layer -----------------------------------------------------------------


@pytest.mark.parametrize("num_dims", [2, 4])
def test_layer_initial_state(impl, num_dims):
    """BatchNorm(C, num_dims) starts with gamma = 1, beta = 0, moving_mean = 0, moving_var = 1, all of shape (1, C) or (1, C, 1, 1)."""
    layer = impl.BatchNorm(3, num_dims)
    shape = (1, 3) if num_dims == 2 else (1, 3, 1, 1)
    for name, fill in (("gamma", 1.0), ("beta", 0.0), ("moving_mean", 0.0), ("moving_var", 1.0)):
        value = getattr(layer, name, None)
        check_close(value, torch.full(shape, fill), f"BatchNorm(3, {num_dims}).{name} must start as a tensor of {fill} "
                    f"with shape {shape}", rtol=0, atol=0,
                    hint="make them of shape (1, num_features) for num_dims == 2 and (1, num_features, 1, 1) otherwise")


@pytest.mark.parametrize("num_dims", [2, 4])
def test_layer_learns_only_gamma_and_beta(impl, num_dims):
    """The layer's parameters (what an optimizer updates) are exactly gamma and beta."""
    layer = impl.BatchNorm(3, num_dims)
    names = sorted(name for name, _ in layer.named_parameters())
    check(names == ["beta", "gamma"], f"BatchNorm(3, {num_dims}).parameters() must be exactly gamma and beta", got=names,
          hint="wrap gamma and beta in nn.Parameter (a tensor with requires_grad=True is not registered, so it is never "
               "learned) and keep moving_mean and moving_var plain tensors or buffers")


@pytest.mark.parametrize("num_dims", [2, 4])
def test_layer_updates_moving_statistics(impl, device, num_dims):
    """A training forward pass normalizes with the batch and stores moving = 0.9 * moving + 0.1 * batch statistic."""
    layer = impl.BatchNorm(3, num_dims).to(device)
    shape = (6, 3) if num_dims == 2 else (2, 3, 2, 3)
    X = (torch.randn(shape) * 2 + 3).to(device)
    expected_mm, expected_mv = torch.zeros(oracle.param_shape(shape)).double(), torch.ones(oracle.param_shape(shape)).double()
    for step in range(2):
        Y = oracle.call(layer, X + step, what=f"BatchNorm(3, {num_dims}) on X of shape {shape}")
        check_close(Y, oracle.training_output(X + step, layer.gamma, layer.beta, 1e-5).float(),
                    f"a training forward pass of BatchNorm(3, {num_dims}) must normalize with the batch statistics",
                    rtol=1e-4, atol=1e-4)
        mean, var = oracle.batch_stats(X + step)
        expected_mm, expected_mv = oracle.moving_update(expected_mm, mean, 0.9), oracle.moving_update(expected_mv, var, 0.9)
        for name, expected in (("moving_mean", expected_mm), ("moving_var", expected_mv)):
            got = getattr(layer, name, None)
            hint = None
            if oracle.matches(got, torch.full_like(expected, 0.0 if name == "moving_mean" else 1.0), 0, 0):
                hint = "keep what batch_norm returns: Y, self.moving_mean, self.moving_var = batch_norm(...)"
            check_close(got, expected.float(), f"after {step + 1} training forward pass(es) BatchNorm(3, {num_dims}).{name} "
                        "must be 0.9 * previous + 0.1 * batch statistic", rtol=1e-4, atol=1e-5, hint=hint)


@pytest.mark.parametrize("call_eval", [False, True], ids=["train-mode", "eval-mode"])
def test_layer_predicts_under_no_grad(impl, device, call_eval):
    """Under torch.no_grad() the layer normalizes with its moving statistics and leaves them unchanged, .eval() or not."""
    layer = impl.BatchNorm(2, 4).to(device)
    X = torch.randn(3, 2, 2, 2, device=device) * 3 + 2
    oracle.call(layer, X, what="BatchNorm(2, 4) in a training forward pass")
    mm, mv = layer.moving_mean.clone(), layer.moving_var.clone()
    if call_eval:
        layer.eval()
    X2 = torch.randn(3, 2, 2, 2, device=device) - 1
    with torch.no_grad():
        Y = oracle.call(layer, X2, what="BatchNorm(2, 4) under torch.no_grad()")
    hint = "under torch.no_grad() (torch.is_grad_enabled() false) normalize with the moving statistics, whatever self.training says"
    check_close(Y, oracle.normalized(X2, layer.gamma, layer.beta, mm, mv, 1e-5).float(),
                "under torch.no_grad() BatchNorm must return gamma * (X - moving_mean) / sqrt(moving_var + eps) + beta",
                rtol=1e-4, atol=1e-4, hint=hint)
    for name, before in (("moving_mean", mm), ("moving_var", mv)):
        check_close(getattr(layer, name), before.double().cpu(), f"under torch.no_grad() BatchNorm must leave {name} unchanged",
                    rtol=0, atol=0, hint=hint)


def test_layer_follows_the_input_device(impl):
    """The layer moves its moving statistics to X's device (checked on the 'meta' device, so also on a CPU-only machine)."""
    layer = impl.BatchNorm(3, 4).to("meta")
    X = torch.ones(2, 3, 4, 4, device="meta")
    hint = ("module.to(device) moves parameters and buffers but not plain tensor attributes: move moving_mean and "
            "moving_var to X.device in forward (as the book does), or register them as buffers")
    try:
        Y = layer(X)
    except NotImplementedError:
        raise
    except RuntimeError as error:
        fail(f"BatchNorm(3, 4).to('meta') failed on an X on the 'meta' device: {error}", hint=hint)
    check(isinstance(Y, torch.Tensor) and Y.device == X.device and Y.shape == X.shape,
          "BatchNorm(3, 4) on X on the 'meta' device must return a tensor of X's shape on that device", got=Y, hint=hint)


def _task(num_dims: int, n: int, seed: int):
    """Two classes, badly scaled inputs (offset 10, scale 4): 2-D, the sign of a fixed linear
    function of 8 features; 4-D, whether a 1x4x4 image is brighter than average."""
    generator = torch.Generator().manual_seed(seed)
    if num_dims == 2:
        X = torch.randn(n, 8, generator=generator)
        y = (X @ torch.tensor([1.0, -2.0, 0.5, 1.5, -1.0, 0.0, 2.0, -0.5]) > 0).long()
    else:
        X = torch.randn(n, 1, 4, 4, generator=generator)
        y = (X.mean(dim=(1, 2, 3)) > 0).long()
    return X * 4 + 10, y


def _fit(model, X, y, X_test, y_test, epochs, lr):
    """Minibatch SGD (batch 32, seeded order); the mean loss per epoch and the held-out accuracy under no_grad."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        total = 0.0
        for xb, yb in data.loader(X, y, batch_size=32, shuffle=True):
            loss = nn.functional.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(yb)
        losses.append(total / len(y))
    with torch.no_grad():
        accuracy = float((model(X_test).argmax(dim=1) == y_test).float().mean())
    return losses, accuracy


@pytest.mark.parametrize("num_dims", [2, 4])
def test_layer_trains_in_a_network(impl, num_dims):
    """After a Linear (2-D) or Conv2d (4-D) in nn.Sequential, a few epochs of SGD lower the loss and reach 80% held-out accuracy under torch.no_grad()."""
    torch.manual_seed(0)
    (X, y), (X_test, y_test) = _task(num_dims, 512, seed=0), _task(num_dims, 256, seed=1)
    if num_dims == 2:
        model = nn.Sequential(nn.Linear(8, 16), impl.BatchNorm(16, 2), nn.ReLU(), nn.Linear(16, 2))
        epochs, lr = 4, 0.1
    else:
        model = nn.Sequential(nn.Conv2d(1, 4, 3), impl.BatchNorm(4, 4), nn.ReLU(), nn.Flatten(), nn.Linear(16, 2))
        epochs, lr = 5, 0.2
    # Budget: with a correct layer the held-out accuracy is about 97% (2-D) and 91% (4-D);
    # with moving statistics left at 0 and 1 it is about 60% and 54%.
    try:
        losses, accuracy = _fit(model, X, y, X_test, y_test, epochs, lr)
    except NotImplementedError:
        raise
    except Exception as error:  # noqa: BLE001
        fail(f"training nn.Sequential(..., BatchNorm(..., {num_dims}), ...) failed: {type(error).__name__}: {error}")
    check(losses[-1] < losses[0] and accuracy >= 0.8,
          f"{epochs} epochs of SGD (lr {lr}, batch 32) with BatchNorm(..., {num_dims}) must lower the training loss and reach "
          f"80% held-out accuracy under torch.no_grad(); got losses {[round(v, 3) for v in losses]}, accuracy {accuracy:.1%}",
          hint="under torch.no_grad() the layer predicts with its moving statistics: check that forward stores the updated "
               "ones and that they follow the batch statistics")
