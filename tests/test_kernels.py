"""ribbonlib.kernels: closed forms against random features, the map to the linear theory."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import norm

from ribbonlib import cloud, dynamics, kernels, spectra

RNG_SEED = 20260606


def points(n=9, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 2.0, size=(n, 1))
    X[1] = 2.5 * X[0]          # parallel to row 0
    X[2] = -0.4 * X[0]         # antiparallel to row 0
    return X


def bonferroni(n_entries: int, p: float = 1e-4) -> float:
    """Number of standard errors that n normal deviates all stay below with probability 1 - p."""
    return float(norm.isf(p / (2 * n_entries)))


# --------------------------------------------------------------------- kernel matrices


@pytest.mark.parametrize("kind", ["rbf", "laplace", "arccos0", "arccos1", "arccos2", "ntk"])
def test_gram_symmetric_psd(kind):
    X = points(30, 4, seed=1)
    K = {
        "rbf": lambda: kernels.rbf(X, length_scale=1.3),
        "laplace": lambda: kernels.laplace(X, length_scale=0.7),
        "arccos0": lambda: kernels.arccos(X, order=0),
        "arccos1": lambda: kernels.arccos(X, order=1),
        "arccos2": lambda: kernels.arccos(X, order=2),
        "ntk": lambda: kernels.ntk_relu(X),
    }[kind]()
    assert K.shape == (30, 30)
    assert np.array_equal(K, K.T)
    ev = np.linalg.eigvalsh(K)
    assert ev[0] >= -1e-12 * ev[-1]


def test_cross_kernel_matches_gram_block():
    X = points(12, 3, seed=2)
    for f in (lambda A, B=None: kernels.rbf(A, B, length_scale=0.9),
              lambda A, B=None: kernels.laplace(A, B, length_scale=2.0),
              lambda A, B=None: kernels.arccos(A, B, order=1),
              kernels.ntk_relu):
        np.testing.assert_allclose(f(X[:5], X[5:]), f(X)[:5, 5:], rtol=1e-13, atol=1e-15)


def test_rbf_laplace_values():
    X = np.array([[0.0, 0.0], [3.0, 4.0]])
    np.testing.assert_allclose(kernels.rbf(X, length_scale=5.0)[0, 1], np.exp(-0.5), rtol=1e-15)
    np.testing.assert_allclose(kernels.laplace(X, length_scale=5.0)[0, 1], np.exp(-1.0), rtol=1e-15)
    assert np.all(np.diag(kernels.rbf(X, length_scale=1.0)) == 1.0)


def test_arccos_identical_orthogonal_antiparallel():
    x = np.array([[3.0, 0.0, 0.0]])
    y = np.array([[0.0, 2.0, 0.0]])
    nx, ny = 3.0, 2.0
    # identical inputs: k_n(x, x) = (2n-1)!! |x|^(2n)
    for n, dfact in ((0, 1.0), (1, 1.0), (2, 3.0)):
        np.testing.assert_allclose(kernels.arccos(x, order=n)[0, 0], dfact * nx ** (2 * n), rtol=1e-15)
    # orthogonal inputs: J_0 = pi/2, J_1 = 1, J_2 = pi/2
    np.testing.assert_allclose(kernels.arccos(x, y, order=0)[0, 0], 0.5, rtol=1e-15)
    np.testing.assert_allclose(kernels.arccos(x, y, order=1)[0, 0], nx * ny / np.pi, rtol=1e-15)
    np.testing.assert_allclose(kernels.arccos(x, y, order=2)[0, 0], (nx * ny) ** 2 / 2, rtol=1e-15)
    # antiparallel inputs: the two half-spaces are disjoint
    for n in (0, 1, 2):
        assert abs(kernels.arccos(x, -0.5 * x, order=n)[0, 0]) <= 1e-15 * nx ** (2 * n)


def test_arccos_nearly_parallel_accuracy():
    """The atan2 angle keeps k_0 accurate where arccos(cos) would lose half the digits."""
    eps = 1e-9
    x = np.array([[1.0, 0.0]])
    y = np.array([[np.cos(eps), np.sin(eps)]])
    np.testing.assert_allclose(kernels.arccos(x, y, order=0)[0, 0], 1.0 - eps / np.pi, rtol=1e-15)


@pytest.mark.parametrize("order", [0, 1, 2])
def test_arccos_against_random_features(order):
    X = points(9, 5, seed=3)
    m = 100_000
    F = kernels.arccos_features(X, order, m, seed=RNG_SEED + order)
    est = F @ F.T
    # the m per-feature products m*F_ij*F_lj are i.i.d. with mean k_n(x_i, x_l)
    second = (m * F**2) @ (m * F**2).T / m
    se = np.sqrt(np.maximum(second - est**2, 0.0) / (m - 1))
    k = bonferroni(45)
    exact = kernels.arccos(X, order=order)
    assert np.all(np.abs(est - exact) <= k * se + 1e-14 * np.abs(exact).max())


@pytest.mark.parametrize("kind", ["rbf", "laplace"])
def test_fourier_features_unbiased(kind):
    X = points(8, 3, seed=4)
    m = 100_000
    F = kernels.fourier_features(X, m, seed=7, length_scale=1.5, kernel=kind)
    est = F @ F.T
    second = (m * F**2) @ (m * F**2).T / m
    se = np.sqrt(np.maximum(second - est**2, 0.0) / (m - 1))
    exact = (kernels.rbf if kind == "rbf" else kernels.laplace)(X, length_scale=1.5)
    assert np.all(np.abs(est - exact) <= bonferroni(36) * se + 1e-14)


def test_two_layer_relu_moments():
    """Empirical NTK: mean = ntk_relu, variance = empirical_ntk_variance; output cov = k_1."""
    X = points(6, 4, seed=5)
    width, R = 64, 4000
    nets = [kernels.two_layer_relu(X, width, seed=s) for s in range(R)]
    ntks = np.array([n.ntk for n in nets])
    outs = np.array([n.output for n in nets])
    var = kernels.empirical_ntk_variance(X, width)
    mean_err = np.abs(ntks.mean(axis=0) - kernels.ntk_relu(X))
    k = bonferroni(21 * 2)
    assert np.all(mean_err <= k * np.sqrt(var / R) + 1e-14)
    # the sample variance of R draws has standard error ~ sqrt(Var((g-mean)^2)/R); use the sample
    dev2 = (ntks - ntks.mean(axis=0)) ** 2
    se_var = dev2.std(axis=0) / np.sqrt(R)
    assert np.all(np.abs(dev2.mean(axis=0) - var) <= k * se_var + 1e-14)
    prod = outs[:, :, None] * outs[:, None, :]
    se_cov = prod.std(axis=0) / np.sqrt(R)
    assert np.all(np.abs(prod.mean(axis=0) - kernels.arccos(X, order=1)) <= k * se_cov + 1e-14)


def test_two_layer_relu_readout_is_nngp_estimate():
    X = points(5, 3, seed=6)
    net = kernels.two_layer_relu(X, 10, seed=1)
    assert np.all(np.linalg.eigvalsh(net.ntk - net.nngp) >= -1e-12)
    assert net.width == 10 and net.output.shape == (5,)


# --------------------------------------------------------------- the linear equivalent


def test_linear_kernel_is_the_linear_model():
    rng = np.random.default_rng(8)
    N, d = 40, 6
    X = rng.standard_normal((N, d)) * np.linspace(2.0, 0.3, d)
    w_star, w0 = rng.standard_normal(d), rng.standard_normal(d) * 0.3
    y = X @ w_star
    lam_x, V = spectra.of_data(X)
    eta, T = 1.0 / lam_x[0], 30
    le = kernels.linear_equivalent(X @ X.T, y, sigma0=0.3, rtol=1e-10)
    assert le.dropped == N - d and le.lam.size == d
    np.testing.assert_allclose(le.lam, lam_x, rtol=1e-12)
    # b_k = v_k^T w* up to the sign of each eigenvector pair (u_k = X v_k / sqrt(N lam_k))
    sign = np.sign(np.sum((X @ V) * le.U, axis=0))
    np.testing.assert_allclose(le.b, sign * (V.T @ w_star), rtol=1e-10, atol=1e-12)
    assert le.dropped_signal <= 1e-20
    F = dynamics.run_kernel_gd(X @ X.T, y, X @ w0, eta, T)
    W = dynamics.run_gd(X, y, w0, eta, T)
    np.testing.assert_allclose(F, W @ X.T, rtol=0, atol=1e-12 * np.abs(F).max())


def test_mode_solution_matches_iteration():
    rng = np.random.default_rng(9)
    X = rng.standard_normal((30, 3))
    K = kernels.rbf(X, length_scale=1.0)
    y = np.sin(X[:, 0])
    f0 = rng.standard_normal(30) * 0.1
    le = kernels.linear_equivalent(K, y, rtol=1e-10)
    eta, T = 1.5 / le.lam[0], 50
    Z = kernels.project(dynamics.run_kernel_gd(K, y, f0, eta, T), le.U)
    xi = kernels.project(f0, le.U) / np.sqrt(le.lam)
    closed = np.sqrt(le.lam) * dynamics.gd_modes(le.lam, le.b, xi, eta, T)
    np.testing.assert_allclose(Z, closed, rtol=0, atol=1e-11 * np.abs(Z).max())


def test_cloud_covariance_reduces_to_cloud_module():
    rng = np.random.default_rng(10)
    X = rng.standard_normal((25, 2))
    K = kernels.laplace(X, length_scale=1.0)
    y = rng.standard_normal(25)
    le = kernels.linear_equivalent(K, y, sigma0=0.7)
    eta, T, M = 1.0 / le.lam[0], 40, 17
    ref = cloud.covariance(le.lam, le.b, le.s, eta, T, n_inits=M)
    got = kernels.cloud_covariance(K, y, 0.49 * K, eta, T, n_inits=M)
    np.testing.assert_allclose(got.cov, ref, rtol=1e-10, atol=1e-14 * np.abs(ref).max())
    assert abs(got.dropped_variance) <= 1e-12


def test_cloud_covariance_against_simulation():
    """NTK dynamics, NNGP initial function (non-diagonal Q): Monte-Carlo cloud."""
    X = kernels.standardise(np.random.default_rng(11).standard_normal((20, 4)))
    K, P = kernels.ntk_relu(X), kernels.arccos(X, order=1)
    y = np.cos(3 * X[:, 0] * 2)
    fc = kernels.cloud_covariance(K, y, P, eta=1.0 / np.linalg.eigvalsh(K / 20)[-1], steps=15, n_inits=800)
    eta = 1.0 / fc.lam[0]
    runs = np.array([kernels.project(dynamics.run_kernel_gd(K, y, kernels.two_layer_relu(X, 8, seed=j).output,
                                                           eta, 15), fc.U) for j in range(800)])
    mom = kernels.cloud_moments(runs)
    np.testing.assert_allclose(mom.cov, np.cov(runs.reshape(-1, runs.shape[2]).T, bias=True), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(mom.total, np.trace(mom.cov), rtol=1e-10)
    k = bonferroni(fc.cov.size)
    assert np.all(np.abs(mom.cov - fc.cov) <= k * mom.se + 1e-12 * np.abs(fc.cov).max())
    assert abs(mom.total - np.trace(fc.cov)) <= bonferroni(1) * mom.total_se


def test_cloud_moments_standard_error_is_calibrated():
    """Independent clouds: the spread of the estimates matches the reported standard error."""
    rng = np.random.default_rng(14)
    lam, b = np.array([1.0, 0.3]), np.array([1.0, -0.5])
    est, ses = [], []
    for rep in range(200):
        Z = cloud.sample(lam, b, 1.0, 0.8, 10, 60, seed=rep).reshape(60, 11, 2)
        mom = kernels.cloud_moments(Z)
        est.append(mom.cov[0, 1])
        ses.append(mom.se[0, 1])
    ratio = np.std(est) / np.mean(ses)
    assert 0.8 < ratio < 1.2   # 200 replicas: the ratio is known to about 5 %


def test_project_distances_are_prediction_distances():
    rng = np.random.default_rng(12)
    K = kernels.rbf(rng.standard_normal((15, 2)), length_scale=0.5)
    U = kernels.spectrum(K).U
    f, g = rng.standard_normal((2, 15))
    zf, zg = kernels.project(f, U), kernels.project(g, U)
    np.testing.assert_allclose(np.sum((zf - zg) ** 2), np.sum((f - g) ** 2) / 15, rtol=1e-13)


def test_standardise_and_fit():
    rng = np.random.default_rng(13)
    X = np.column_stack([rng.normal(5, 3, 50), np.ones(50), rng.normal(-1, 0.1, 50)])
    Z = kernels.standardise(X)
    assert Z.shape == (50, 2)
    np.testing.assert_allclose(np.mean(np.sum(Z**2, axis=1)), 1.0, rtol=1e-13)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-15)
    lam = spectra.power_law(100, 1.7, scale=2.0)
    alpha, c = kernels.fit_power_law(lam, 3, 90)
    assert abs(alpha - 1.7) < 1e-12 and abs(c - 2.0) < 1e-11
    assert kernels.median_length_scale(np.array([[0.0], [1.0], [3.0]])) == 2.0


# ------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: kernels.rbf(np.ones(3), length_scale=1.0), "X must be a non-empty 2-D"),
        (lambda: kernels.rbf(np.ones((2, 2)), np.ones((2, 3)), length_scale=1.0), "same number of features"),
        (lambda: kernels.rbf(np.ones((2, 2)), length_scale=0.0), "length_scale must be in"),
        (lambda: kernels.laplace(np.ones((2, 2)), length_scale=-1.0), "length_scale must be in"),
        (lambda: kernels.laplace(np.ones((2, 2)), length_scale=np.inf), "length_scale must be finite"),
        (lambda: kernels.rbf([[np.nan, 1.0]], length_scale=1.0), "X must be finite"),
        (lambda: kernels.arccos(np.ones((2, 2)), order=3), "order must be one of"),
        (lambda: kernels.arccos(np.ones((2, 2)), order=1.0), "order must be one of"),
        (lambda: kernels.arccos(np.ones((2, 2)), order=True), "order must be one of"),
        (lambda: kernels.arccos(np.array([[0.0, 0.0], [1.0, 0.0]]), order=0), "non-zero rows"),
        (lambda: kernels.ntk_relu(np.array([[0.0, 0.0], [1.0, 0.0]])), "non-zero rows"),
        (lambda: kernels.arccos_angular(-0.1), r"theta must hold finite angles in \[0, pi\]"),
        (lambda: kernels.arccos_angular(4.0, order=2), r"\[0, pi\]"),
        (lambda: kernels.arccos_features(np.ones((2, 2)), 1, 0, seed=1), "width must be an integer >= 1"),
        (lambda: kernels.arccos_features(np.ones((2, 2)), 1, 5, seed=-1), "seed must be an integer >= 0"),
        (lambda: kernels.fourier_features(np.ones((2, 2)), 5, 1, length_scale=1.0, kernel="cauchy"), "kernel must be"),
        (lambda: kernels.two_layer_relu(np.ones((2, 2)), 2.5, seed=0), "width must be an integer"),
        (lambda: kernels.spectrum(np.ones((2, 3))), "square"),
        (lambda: kernels.spectrum(np.array([[1.0, 0.5], [0.0, 1.0]])), "symmetric"),
        (lambda: kernels.linear_equivalent(np.eye(3), np.ones(2)), "y must be a 1-D array of length 3"),
        (lambda: kernels.linear_equivalent(np.diag([1.0, -1.0]), np.ones(2)), "positive semi-definite"),
        (lambda: kernels.linear_equivalent(np.zeros((2, 2)), np.ones(2)), "positive eigenvalue"),
        (lambda: kernels.linear_equivalent(np.eye(2), np.ones(2), sigma0=-1.0), "sigma0 must be in"),
        (lambda: kernels.linear_equivalent(np.eye(2), np.ones(2), rtol=0.0), "rtol must be in"),
        (lambda: kernels.cloud_covariance(np.eye(2), np.ones(2), np.eye(3), 1.0, 3), "init_cov must have shape"),
        (lambda: kernels.cloud_covariance(np.eye(2), np.ones(2), -np.eye(2), 1.0, 3), "init_cov must be positive"),
        (lambda: kernels.cloud_covariance(np.eye(2), np.ones(2), np.eye(2), 4.0, 3), "eta must satisfy"),
        (lambda: kernels.project(np.ones(3), np.eye(2)), "last axis of length N = 2"),
        (lambda: kernels.standardise(np.ones((4, 2))), "no feature with non-zero variance"),
        (lambda: kernels.cloud_moments(np.ones((1, 3, 2))), "M >= 2"),
        (lambda: kernels.cloud_moments(np.ones((2, 3, 2)), block=3), "block must be in"),
        (lambda: kernels.median_length_scale(np.ones((3, 2))), "median pairwise distance 0"),
        (lambda: kernels.fit_power_law([1.0, 0.5, 0.0], 1, 3), "> 0 for k in"),
        (lambda: kernels.fit_power_law([1.0, 0.5], 2, 2), "k_max must be an integer >= 3"),
    ],
)
def test_validation(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ----------------------------------------------------------------- property tests


finite = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)


@given(arrays(float, (6, 3), elements=finite), st.floats(0.05, 20.0))
def test_rbf_in_unit_interval(X, ell):
    K = kernels.rbf(X, length_scale=ell)
    D2 = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    representable = D2 / (2 * ell**2) < 700.0           # exp(-700) > 0 in float64
    assert np.all(K[representable] > 0.0) and np.all(K >= 0.0) and np.all(K <= 1.0)
    assert np.all(np.diag(K) == 1.0)
    L = kernels.laplace(X, length_scale=ell)
    assert np.all(L[np.sqrt(D2) / ell < 700.0] > 0.0) and np.all(L >= 0.0) and np.all(L <= 1.0)


@given(arrays(float, (2, 4), elements=finite), st.floats(0.1, 10.0), st.floats(0.1, 10.0), st.sampled_from([1, 2]))
def test_arccos_homogeneity(X, a, c, order):
    """k_n(a x, c y) = (a c)^n k_n(x, y) for a, c > 0, and k_n(x, y) depends on the angle only otherwise."""
    x, y = X[:1], X[1:]
    base = kernels.arccos(x, y, order=order)[0, 0]
    scaled = kernels.arccos(a * x, c * y, order=order)[0, 0]
    scale = (np.linalg.norm(x) * np.linalg.norm(y)) ** order
    assert abs(scaled - (a * c) ** order * base) <= 1e-12 * (a * c) ** order * (scale + 1e-300)


@given(arrays(float, (2, 3), elements=st.floats(0.1, 3.0)), st.floats(0.1, 10.0))
def test_arccos_order0_scale_invariant(X, a):
    x, y = X[:1], X[1:]
    assert abs(kernels.arccos(a * x, y, order=0)[0, 0] - kernels.arccos(x, y, order=0)[0, 0]) <= 1e-14


@given(arrays(float, (2, 3), elements=finite), st.sampled_from([0, 1, 2]))
def test_arccos_cauchy_schwarz(X, order):
    """|k(x, y)| <= sqrt(k(x, x) k(y, y)) and k >= 0 (J_n >= 0 on [0, pi])."""
    if order == 0 and np.any(np.linalg.norm(X, axis=1) == 0):
        return
    K = kernels.arccos(X, order=order)
    assert K[0, 1] >= -1e-15 * np.sqrt(K[0, 0] * K[1, 1])
    assert K[0, 1] <= np.sqrt(K[0, 0] * K[1, 1]) * (1 + 1e-13)


@given(st.lists(st.floats(0.0, np.pi), min_size=1, max_size=8), st.sampled_from([0, 1, 2]))
def test_angular_factor_decreasing(theta, order):
    t = np.sort(np.array(theta))
    J = kernels.arccos_angular(t, order)
    assert np.all(np.diff(J) <= 1e-14)
    assert np.all(J >= -1e-15)
