"""Tests of ribbonlib.networks: the finite two-layer ReLU network and its training."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ribbonlib import _validate, dynamics, kernels, networks

EPS = np.finfo(float).eps


def _data(N=12, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d)) / np.sqrt(d)
    y = np.sign(rng.standard_normal(N))
    return X, y


def _loss(X, y, W, a, scale):
    f = networks.forward(X, W, a, scale)
    return np.sum((f - y) ** 2) / (2 * X.shape[0])


def _jacobian(X, W, a, scale):
    """Explicit Jacobian of f with respect to (W row by row, then a), column per parameter."""
    m, d = W.shape
    c = scale * np.sqrt(2.0 / m)
    U = X @ W.T
    cols = []
    for j in range(m):
        for k in range(d):
            cols.append(c * a[j] * (U[:, j] > 0) * X[:, k])
    for j in range(m):
        cols.append(c * np.maximum(U[:, j], 0.0))
    return np.column_stack(cols)


# ------------------------------------------------------------------------ the network


@pytest.mark.parametrize("width,seed", [(1, 0), (7, 3), (64, 11)])
def test_initial_network_is_that_of_kernels_two_layer_relu(width, seed):
    X, _ = _data()
    W, a = networks.init_weights(X.shape[1], width, seed)
    ref = kernels.two_layer_relu(X, width, seed)
    scale = np.sqrt(2.0 / width) * np.sum(np.abs(a) * (np.abs(X) @ np.abs(W).T), axis=1)
    tol = 4 * (X.shape[1] + width) * EPS * scale  # two evaluations of the same sums
    assert np.all(np.abs(networks.forward(X, W, a) - ref.output) <= tol)
    K = networks.tangent_kernel(X, W, a)
    np.testing.assert_allclose(K, ref.ntk, rtol=1e-12, atol=1e-13 * np.abs(ref.ntk).max())


def test_forward_scales_linearly_with_the_output_scale():
    X, _ = _data()
    W, a = networks.init_weights(X.shape[1], 9, 5)
    np.testing.assert_allclose(networks.forward(X, W, a, 0.25), 0.25 * networks.forward(X, W, a),
                               rtol=4 * EPS, atol=0)


@pytest.mark.parametrize("scale", [0.1, 1.0, 3.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_loss_gradient_matches_central_differences(scale, seed):
    X, y = _data(N=9, d=3, seed=seed)
    W, a = networks.init_weights(3, 6, 100 + seed)
    h = 1e-6
    # no unit may cross its kink within the perturbation (there L is not differentiable)
    assert np.min(np.abs(X @ W.T)) > 10 * h * np.abs(X).sum(axis=1).max()
    gW, ga = networks.loss_gradient(X, y, W, a, scale)
    num_W = np.zeros_like(W)
    num_a = np.zeros_like(a)
    for idx in np.ndindex(W.shape):
        Wp, Wm = W.copy(), W.copy()
        Wp[idx] += h
        Wm[idx] -= h
        num_W[idx] = (_loss(X, y, Wp, a, scale) - _loss(X, y, Wm, a, scale)) / (2 * h)
    for j in range(a.size):
        ap, am = a.copy(), a.copy()
        ap[j] += h
        am[j] -= h
        num_a[j] = (_loss(X, y, W, ap, scale) - _loss(X, y, W, am, scale)) / (2 * h)
    # truncation h^2 |L'''|/6 and round-off eps |L| / h, both far below 1e-7 here
    tol = 1e-7 * max(1.0, np.abs(np.concatenate([gW.ravel(), ga])).max())
    np.testing.assert_allclose(gW, num_W, rtol=0, atol=tol)
    np.testing.assert_allclose(ga, num_a, rtol=0, atol=tol)


@given(width=st.integers(1, 12), seed=st.integers(0, 2**31), scale=st.floats(0.01, 10.0))
@settings(max_examples=40, deadline=None)
def test_gradient_and_tangent_kernel_from_the_explicit_jacobian(width, seed, scale):
    X, y = _data(N=8, d=3, seed=seed % 97)
    W, a = networks.init_weights(3, width, seed)
    J = _jacobian(X, W, a, scale)
    r = (networks.forward(X, W, a, scale) - y) / X.shape[0]
    gW, ga = networks.loss_gradient(X, y, W, a, scale)
    g = np.concatenate([gW.ravel(), ga])
    ref = J.T @ r
    np.testing.assert_allclose(g, ref, rtol=1e-12, atol=1e-12 * max(1.0, np.abs(ref).max()))
    K = networks.tangent_kernel(X, W, a)
    JJ = J @ J.T / scale**2
    np.testing.assert_allclose(K, JJ, rtol=1e-12, atol=1e-12 * max(1.0, np.abs(JJ).max()))
    assert np.linalg.eigvalsh(K)[0] >= -1e-12 * max(1.0, np.abs(K).max())


# ------------------------------------------------------------------------ training


@pytest.mark.parametrize("scale", [0.3, 1.0, 2.0])
def test_one_training_step_is_a_gradient_step(scale):
    X, y = _data()
    m, seed, eta = 16, 4, 0.7
    nets = networks.train(X, y, m, [seed], eta, 1, scale=scale)
    W, a = networks.init_weights(X.shape[1], m, seed)
    gW, ga = networks.loss_gradient(X, y, W, a, scale)
    lr = eta / scale**2
    f1 = networks.forward(X, W - lr * gW, a - lr * ga, scale)
    np.testing.assert_allclose(nets.outputs[0, 0], networks.forward(X, W, a, scale), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(nets.outputs[0, 1], f1, rtol=1e-12, atol=1e-13)
    # how far the step moved the weights and the tangent kernel, relative to the start
    step = np.sqrt(np.sum(gW**2) + np.sum(ga**2)) * lr
    assert nets.weight_change[0] == pytest.approx(
        step / np.sqrt(np.sum(W**2) + np.sum(a**2)), rel=1e-10)
    K0 = networks.tangent_kernel(X, W, a)
    K1 = networks.tangent_kernel(X, W - lr * gW, a - lr * ga)
    assert nets.kernel_change[0] == pytest.approx(
        np.linalg.norm(K1 - K0) / np.linalg.norm(K0), rel=1e-10)


def test_step_remainder_is_the_bilinear_term_plus_the_kinks():
    """f_1 − f_0 + (η/N) Θ_m (f_0 − y) = α c Σ_j [δa_j Δrelu_j + a_j (Δrelu_j − H(u_j) δu_j)]."""
    X, y = _data(N=20, d=5)
    m, seed, eta, scale = 40, 8, 0.9, 0.5
    W, a = networks.init_weights(5, m, seed)
    nets = networks.train(X, y, m, [seed], eta, 1, scale=scale)
    f0, f1 = nets.outputs[0]
    K = networks.tangent_kernel(X, W, a)
    rho = f1 - f0 + eta / X.shape[0] * K @ (f0 - y)
    gW, ga = networks.loss_gradient(X, y, W, a, scale)
    lr = eta / scale**2
    dW, da = -lr * gW, -lr * ga
    U, dU = X @ W.T, X @ dW.T
    drelu = np.maximum(U + dU, 0.0) - np.maximum(U, 0.0)
    c = scale * np.sqrt(2.0 / m)
    expected = c * (drelu @ da + (drelu - (U > 0) * dU) @ a)
    size = c * (np.abs(drelu) @ np.abs(da) + np.abs(U + dU) @ np.abs(a)) + np.abs(f1).max()
    assert np.all(np.abs(rho - expected) <= 64 * (m + 5) * EPS * size)


def test_step_remainder_is_second_order_without_kinks():
    X, y = _data(N=10, d=3, seed=3)
    m, seed = 8, 21
    W, a = networks.init_weights(3, m, seed)
    K = networks.tangent_kernel(X, W, a)
    rems = []
    for eta in (1e-3, 5e-4):
        f0, f1 = networks.train(X, y, m, [seed], eta, 1).outputs[0]
        rems.append(np.linalg.norm(f1 - f0 + eta / 10 * K @ (f0 - y)))
    # no unit flips at these steps: the remainder is exactly quadratic in eta
    assert rems[0] / rems[1] == pytest.approx(4.0, rel=1e-5)


def test_wide_networks_follow_kernel_gradient_descent_with_their_initial_kernel():
    X, y = _data(N=16, d=4, seed=2)
    steps = 40
    Theta = kernels.ntk_relu(X)
    eta = 0.5 / np.linalg.eigvalsh(Theta / 16)[-1]
    dist, moved = [], []
    for m in (32, 512, 8192):
        seeds = [10 * m + r for r in range(4)]
        nets = networks.train(X, y, m, seeds, eta, steps)
        d = []
        for i, s in enumerate(seeds):
            W, a = networks.init_weights(4, m, s)
            ref = dynamics.run_kernel_gd(networks.tangent_kernel(X, W, a), y, nets.outputs[i, 0], eta, steps)
            d.append(networks.trajectory_distance(nets.outputs[i], ref, y))
        dist.append(np.mean(d))
        moved.append(nets.kernel_change.mean())
    # sixteen times the width: the departure from the linearised network and the motion of
    # the kernel shrink at least threefold (the lazy scaling 1/sqrt(m) alone gives fourfold)
    assert dist[1] < dist[0] / 3 and dist[2] < dist[1] / 3
    assert moved[1] < moved[0] / 3 and moved[2] < moved[1] / 3


def test_train_records_one_trajectory_per_seed_and_no_motion_without_steps():
    X, y = _data()
    nets = networks.train(X, y, 5, [1, 2, 3], 0.5, 0, scale=2.0)
    assert nets.outputs.shape == (3, 1, X.shape[0])
    assert nets.seeds == (1, 2, 3) and nets.width == 5 and nets.scale == 2.0 and nets.eta == 0.5
    np.testing.assert_array_equal(nets.weight_change, 0.0)
    np.testing.assert_array_equal(nets.kernel_change, 0.0)
    for i, s in enumerate((1, 2, 3)):
        W, a = networks.init_weights(X.shape[1], 5, s)
        np.testing.assert_allclose(nets.outputs[i, 0], networks.forward(X, W, a, 2.0), rtol=1e-13)


def test_train_reports_the_motion_of_weights_and_kernel():
    X, y = _data()
    nets = networks.train(X, y, 32, [0, 1], 0.5, 20)
    assert np.all(nets.weight_change > 0) and np.all(nets.kernel_change > 0)
    assert nets.weight_change[0] < 1.0


def test_training_that_overflows_raises():
    X, y = _data()
    with pytest.raises(FloatingPointError, match="seed 3"):
        networks.train(X, y, 4, [3], 1e6, 50)


@pytest.mark.parametrize("kwargs,match", [
    (dict(width=0), "width"),
    (dict(seeds=[]), "seeds"),
    (dict(seeds=[-1]), "seeds"),
    (dict(eta=0.0), "eta"),
    (dict(eta=np.nan), "eta"),
    (dict(steps=-1), "steps"),
    (dict(scale=0.0), "scale"),
    (dict(y=np.ones(3)), "y"),
])
def test_train_validates_its_arguments(kwargs, match):
    X, y = _data()
    args = dict(X=X, y=y, width=3, seeds=[0], eta=0.1, steps=2, scale=1.0)
    args.update(kwargs)  # a copy: the parameter set is shared by every run of the test
    with pytest.raises(ValueError, match=match):
        networks.train(**args)


def test_network_functions_validate_shapes():
    X, y = _data()
    W, a = networks.init_weights(X.shape[1], 3, 0)
    with pytest.raises(ValueError, match="W"):
        networks.forward(X, W[:, :2], a)
    with pytest.raises(ValueError, match="a"):
        networks.forward(X, W, a[:2])
    with pytest.raises(ValueError, match="finite"):
        networks.tangent_kernel(X, W * np.nan, a)
    with pytest.raises(ValueError, match="y"):
        networks.loss_gradient(X, y[:3], W, a)
    with pytest.raises(ValueError, match="scale"):
        networks.loss_gradient(X, y, W, a, -1.0)
    with pytest.raises(ValueError, match="width"):
        networks.init_weights(3, 0, 0)


# ------------------------------------------------------------------ measurements


def test_trajectory_distance():
    y = np.array([1.0, -1.0, 1.0, -1.0])
    F = np.zeros((2, 3, 4))
    G = F.copy()
    G[1] += 0.5
    np.testing.assert_allclose(networks.trajectory_distance(F, G, y), [0.0, 0.5])
    np.testing.assert_allclose(networks.trajectory_distance(F[1], G[1], 2 * y), 0.25)
    with pytest.raises(ValueError, match="same shape"):
        networks.trajectory_distance(F, G[0], y)
    with pytest.raises(ValueError, match="zero"):
        networks.trajectory_distance(F, G, 0 * y)


def test_fit_exponent_recovers_a_power_law_exactly():
    x = 2.0 ** np.arange(4, 11)
    V = np.column_stack([3.0 * x**-0.5, 5.0 * x**-0.5])
    fit = networks.fit_exponent(x, V)
    assert fit.exponent == pytest.approx(-0.5, abs=1e-12)
    assert fit.se == pytest.approx(0.0, abs=1e-12)
    assert fit.prefactor == pytest.approx(np.sqrt(15.0), rel=1e-12)
    np.testing.assert_allclose(fit(x), np.sqrt(15.0) * x**-0.5, rtol=1e-12)


def test_fit_exponent_with_a_correction_term():
    x = 2.0 ** np.arange(4, 13)
    law = 0.8 * x**-0.5 * np.exp(-1.0 * x**-0.5)
    V = np.column_stack([law, law * 1.1])
    plain = networks.fit_exponent(x, V)
    corrected = networks.fit_exponent(x, V, corrections=(-0.5,))
    assert plain.exponent > -0.5 + 0.01                       # biased by the correction
    assert corrected.exponent == pytest.approx(-0.5, abs=1e-10)
    assert corrected.corrections[0] == pytest.approx(-1.0, abs=1e-9)
    assert corrected.powers == (-0.5,)


def test_fitted_law_with_its_correction():
    """The fitted law evaluates c x^p exp(Σ β_q x^q) with the mean coefficients: for
    replicates 0.8 and 0.88 times x^(-1/2) exp(-x^(-1/2)), their geometric mean."""
    x = 2.0 ** np.arange(4, 13)
    law = x**-0.5 * np.exp(-1.0 * x**-0.5)
    fit = networks.fit_exponent(x, np.column_stack([0.8 * law, 0.88 * law]),
                                corrections=(-0.5,))
    xs = np.array([3.0, 50.0, 7000.0])
    ref = np.sqrt(0.8 * 0.88) * xs**-0.5 * np.exp(-(xs**-0.5))
    np.testing.assert_allclose(fit(xs), ref, rtol=1e-9)


def test_fit_exponent_standard_error_is_calibrated():
    rng = np.random.default_rng(5)
    x = 2.0 ** np.arange(4, 12)
    zs = []
    for _ in range(400):
        V = x[:, None] ** -0.5 * np.exp(0.2 * rng.standard_normal((x.size, 8)))
        fit = networks.fit_exponent(x, V)
        zs.append((fit.exponent + 0.5) / fit.se)
    zs = np.array(zs)
    # Student t with 7 degrees of freedom: variance 7/5
    assert abs(np.mean(zs)) < 0.2 and 1.0 < np.var(zs) < 1.8


def test_fit_exponent_accepts_abscissae_below_one():
    x = np.array([0.25, 0.5, 1.0])
    fit = networks.fit_exponent(x, np.column_stack([2 * x**1.5, 3 * x**1.5]))
    assert fit.exponent == pytest.approx(1.5, abs=1e-12)


@pytest.mark.parametrize("x,values,corr,match", [
    ([0.0, 1.0, 2.0], np.ones((3, 2)), (), "> 0"),
    ([1.0, 2.0], [[1.0, 1.0], [0.0, 1.0]], (), "> 0"),
    ([1.0, 2.0, 4.0], np.ones((2, 2)), (), "values must have shape"),
    ([1.0, 2.0, 4.0], np.ones((3, 2)), (0.0,), "corrections"),
    ([1.0, 1.0], np.ones((2, 3)), (), "distinct"),
    ([1.0, 2.0], np.ones((2, 1)), (), "R >= 2"),
    ([1.0, 2.0], -np.ones((2, 3)), (), "> 0"),
    ([1.0, 2.0, 4.0], np.ones((3, 3)), (0.5,), "corrections"),
    ([1.0, 2.0], np.ones((2, 3)), (-0.5,), "distinct"),
])
def test_fit_exponent_validates(x, values, corr, match):
    with pytest.raises(ValueError, match=match):
        networks.fit_exponent(x, values, corrections=corr)


# --------------------------------------- defaults, edges of the domain, size guards


def test_documented_defaults_and_edges():
    """scale = 1 by default; d = 1 and width 1 are in the domain; a layer of no units,
    and non-finite trajectories, are refused."""
    X, y = _data(N=5, d=1, seed=4)
    W, a = networks.init_weights(1, 1, 3)
    g, g1 = networks.loss_gradient(X, y, W, a), networks.loss_gradient(X, y, W, a, 1.0)
    assert np.array_equal(g[0], g1[0]) and np.array_equal(g[1], g1[1])
    nets = networks.train(X, y, 1, [3], 0.2, 4)
    assert nets.scale == 1.0
    np.testing.assert_array_equal(
        nets.outputs, networks.train(X, y, 1, [3], 0.2, 4, scale=1.0).outputs)
    with pytest.raises(ValueError, match="W must have shape"):
        networks.forward(X, np.ones((0, 1)), np.ones(0))
    F = np.zeros((3, 5))
    with pytest.raises(ValueError, match="finite"):
        networks.trajectory_distance(F, F + np.nan, y)


@pytest.mark.parametrize("call,count", [
    (lambda X, y, W, a: networks.init_weights(5, 7, 0), 7 * (5 + 1)),
    (lambda X, y, W, a: networks.tangent_kernel(X, W, a), 3 * 7),
    (lambda X, y, W, a: networks.train(X, y, 7, [0, 1], 0.1, 4),
     2 * (4 + 1) * 3 + 4 * 3 * 7),
])
def test_size_guards_refuse_exactly_beyond_the_limit(monkeypatch, call, count):
    """N = 3 inputs in d = 5, width m = 7: the weights hold m (d + 1) numbers, the
    hidden layer N m, training R (T + 1) N predictions and four N × m work arrays. The
    call runs when MAX_ENTRIES is that count and is refused, naming it, one below."""
    X, y = _data(N=3, d=5, seed=6)
    W, a = networks.init_weights(5, 7, 0)
    monkeypatch.setattr(_validate, "MAX_ENTRIES", count)
    call(X, y, W, a)
    monkeypatch.setattr(_validate, "MAX_ENTRIES", count - 1)
    with pytest.raises(ValueError, match=f"would hold {count:,} numbers"):
        call(X, y, W, a)


def test_the_kink_counts_as_inactive():
    """H(0) = 0: a unit whose pre-activation vanishes exactly (w_j = (±1, 0, 0) on
    inputs x = (0, ·, ·)) moves neither through its step in the gradient nor in the
    tangent kernel, as in the explicit Jacobian."""
    X, y = _data(N=8, d=3, seed=5)
    W, a = networks.init_weights(3, 6, 7)
    X[:3, 0] = 0.0
    W[:2] = [[1.0, 0.0, 0.0], [-2.0, 0.0, 0.0]]
    assert np.all((X @ W.T)[:3, :2] == 0.0)
    scale = 0.7
    J = _jacobian(X, W, a, scale)
    r = (networks.forward(X, W, a, scale) - y) / X.shape[0]
    gW, ga = networks.loss_gradient(X, y, W, a, scale)
    ref = J.T @ r
    np.testing.assert_allclose(np.concatenate([gW.ravel(), ga]), ref, rtol=1e-12,
                               atol=1e-13 * np.abs(ref).max())
    JJ = J @ J.T / scale**2
    np.testing.assert_allclose(networks.tangent_kernel(X, W, a), JJ, rtol=1e-12,
                               atol=1e-13 * np.abs(JJ).max())


def test_initial_tangent_kernel_where_a_preactivation_rounds_to_zero():
    """A subnormal input: w·x rounds to zero for the units with |w_1| < 1/2, and both
    functions count those units as inactive, so two_layer_relu's ntk is still the
    tangent kernel at the seed's weights, entry by entry."""
    X = np.array([[5e-324, 0.0], [1e150, 0.0], [0.3, -0.7]])
    m, seed = 64, 2
    W, a = networks.init_weights(2, m, seed)
    assert np.any((X @ W.T)[0] == 0.0) and np.any((X @ W.T)[0] > 0.0)
    ref = networks.tangent_kernel(X, W, a)
    np.testing.assert_allclose(kernels.two_layer_relu(X, m, seed).ntk, ref, rtol=1e-12,
                               atol=0)


def test_a_weight_that_overflows_is_divergence():
    """One unit, one input: a step so large that w overflows to −inf while a stays
    finite. The unit is then dead and the predictions stay finite (0), but the
    weights have left the finite numbers: training reports it."""
    X, y = np.array([[1.0]]), np.array([-1e3])
    W, a = networks.init_weights(1, 1, 11)
    assert W[0, 0] > 0 and a[0] / W[0, 0] > 30  # grad_w / grad_a = a / w
    with pytest.raises(FloatingPointError, match="seed 11"):
        networks.train(X, y, 1, [11], 1e306, 3)
