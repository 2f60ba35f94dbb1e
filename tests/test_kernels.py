"""ribbonlib.kernels: closed forms against random features and against the definitions,
the map to the linear theory, and domain tests of every proposition of chapter 6."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from flint import arb, arb_mat, ctx
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ribbonlib import _validate, certify, check, cloud, dynamics, kernels, spectra

RNG_SEED = 20260606


def points(n=9, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 2.0, size=(n, 1))
    X[1] = 2.5 * X[0]          # parallel to row 0
    X[2] = -0.4 * X[0]         # antiparallel to row 0
    return X


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


def feature_mean_and_se(F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``F Fᵀ``, the mean of the m i.i.d. products ``m F_ij F_lj``, and its s.e."""
    m = F.shape[1]
    est = F @ F.T
    second = (m * F**2) @ (m * F**2).T / m
    return est, np.sqrt(np.maximum(second - est**2, 0.0) * m / (m - 1) / m)


@pytest.mark.parametrize("order", [0, 1, 2])
def test_arccos_against_random_features(order):
    X = points(9, 5, seed=3)
    F = kernels.arccos_features(X, order, 100_000, seed=RNG_SEED + order)
    est, se = feature_mean_and_se(F)
    exact = kernels.arccos(X, order=order)
    iu = np.triu_indices(9)
    # row 2 is antiparallel to rows 0 and 1: no feature fires on both, the mean is 0
    never = se[iu] == 0
    assert np.array_equal(never, (iu[0] <= 1) & (iu[1] == 2))
    assert np.all(est[iu][never] == 0.0)
    assert np.all(np.abs(exact[iu][never]) <= 1e-15 * exact.max())
    check.statistical(f"k_{order} = mean of random features", est[iu][~never],
                      exact[iu][~never], se[iu][~never])


@pytest.mark.parametrize("kind", ["rbf", "laplace"])
def test_fourier_features_unbiased(kind):
    X = points(8, 3, seed=4)
    F = kernels.fourier_features(X, 100_000, seed=7, length_scale=1.5, kernel=kind)
    est, se = feature_mean_and_se(F)
    exact = (kernels.rbf if kind == "rbf" else kernels.laplace)(X, length_scale=1.5)
    iu = np.triu_indices(8)
    check.statistical(f"{kind} = mean of random Fourier features", est[iu], exact[iu],
                      se[iu])


def test_two_layer_relu_moments():
    """Empirical NTK: mean = ntk_relu with the exact standard error of
    empirical_ntk_variance; its sample variance = that variance; output cov. = k_1."""
    X = points(6, 4, seed=5)
    width, R = 64, 4000
    nets = [kernels.two_layer_relu(X, width, seed=s) for s in range(R)]
    ntks = np.array([n.ntk for n in nets])
    outs = np.array([n.output for n in nets])
    var = kernels.empirical_ntk_variance(X, width)
    iu = np.triu_indices(6)
    anti = (iu[0] <= 1) & (iu[1] == 2)  # antiparallel pairs: no unit is active on both
    assert np.all(ntks[:, iu[0][anti], iu[1][anti]] == 0.0)
    assert np.all(var[iu][anti] <= 1e-14 * var.max())
    iu_all, iu = iu, (iu[0][~anti], iu[1][~anti])
    check.statistical("mean empirical NTK = ntk_relu (exact s.e.)",
                      ntks.mean(axis=0)[iu], kernels.ntk_relu(X)[iu],
                      np.sqrt(var / R)[iu])
    dev2 = (ntks - ntks.mean(axis=0)) ** 2 * R / (R - 1)  # unbiased sample variance
    check.statistical("sample variance of the empirical NTK = empirical_ntk_variance",
                      dev2.mean(axis=0)[iu], var[iu],
                      (dev2.std(axis=0, ddof=1) / np.sqrt(R))[iu])
    prod = outs[:, :, None] * outs[:, None, :]
    check.statistical("output covariance = k_1 at width 64", prod.mean(axis=0)[iu_all],
                      kernels.arccos(X, order=1)[iu_all],
                      (prod.std(axis=0, ddof=1) / np.sqrt(R))[iu_all])
    nngps = np.array([n.nngp for n in nets])
    check.statistical("read-out part of the empirical NTK: unbiased for k_1",
                      nngps.mean(axis=0)[iu], kernels.arccos(X, order=1)[iu],
                      (nngps.std(axis=0, ddof=1) / np.sqrt(R))[iu])


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
    iu = np.triu_indices(fc.cov.shape[0])
    check.statistical("sampled NTK cloud = S + QoG - Qo(mm^T)/M", mom.cov[iu],
                      fc.cov[iu], mom.se[iu])
    check.statistical("total variance of the sampled NTK cloud", mom.total,
                      np.trace(fc.cov), mom.total_se)


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
    # the sample standard deviation of R normal estimates: relative s.e. 1/sqrt(2(R-1))
    R = len(est)
    check.statistical("cloud_moments: spread of 200 estimates / reported s.e. = 1",
                      np.std(est, ddof=1) / np.mean(ses), 1.0,
                      1.0 / np.sqrt(2 * (R - 1)))


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
        (lambda: kernels.arccos_enclosure(np.ones(2), np.ones(3)),
         "y must have the same length as x"),
        (lambda: kernels.arccos_enclosure(np.ones((2, 2)), np.ones(2)),
         "x must be a non-empty 1-D array"),
        (lambda: kernels.arccos_enclosure([1.0], [np.nan]), "y must be finite"),
        (lambda: kernels.arccos_enclosure([0.0, 0.0], [1.0, 0.0], 0),
         "non-zero for order 0"),
        (lambda: kernels.arccos_enclosure([1.0], [1.0], 3), "order must be one of"),
        (lambda: kernels.arccos_enclosure([1.0], [1.0], 1, bits=10),
         "bits must be an integer >= 64"),
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


# ===================================================================== domain tests
#
# Every proposition of chapter 6 over the whole domain it claims, against references
# that share no code with ribbonlib.kernels:
#
# * kernel gradient descent (prop-kern-linear): f ↦ y + A (f − y), A = I − (η/N) K,
#   for the float K and η taken exactly, iterated T times in Arb ball arithmetic by
#   repeated squaring of A (no eigendecomposition, no closed form);
# * the cloud covariance (prop-kern-cloud) in function space,
#   C_f = (1/(T+1)) Σ_t A^t (yyᵀ + P) A^t − m̄ (yyᵀ + P/M) m̄, m̄ = (1/(T+1)) Σ_t A^t,
#   the sums over t = 0..T formed by doubling in Arb, then projected on the library's
#   eigenvectors;
# * the arc-cosine kernels, the NTK and its variance (prop-kern-arccos, prop-kern-ntk):
#   kernels.arccos_enclosure, a rigorous quadrature of the defining Gaussian expectation
#   (conditioning on w·x, never the angle), the NTK moments assembled from the
#   definition g = 2 H(u) H(v) (u v + a² x·y) by the binomial theorem.
#
# The domain: N from 1; spectra of K/N of every shape (power law, exponential,
# arbitrary, clustered) with spreads up to 1e12, any scale, exact zero modes; targets
# with random signs, decaying or zero components in the eigenbasis; initial covariances
# of any rank, matched (σ0² K) or not; ηκ_1 from 1e-6 to just below 2; T from 0 to 1e6;
# M from 1, or infinite. Hypothesis draws a seed per example and NumPy builds the
# problem from it. The tolerances are a-posteriori round-off bounds: the backward error
# β and the loss of orthogonality ω of the library's eigendecomposition are measured in
# Arb, not assumed.

REF_BITS = 256
EPS = np.finfo(float).eps
seeds = st.integers(0, 2**32 - 1)


def _spectrum(rng: np.random.Generator, n: int) -> np.ndarray:
    """Eigenvalues of K/N, decreasing: every shape, spread up to 1e12, exact zeros."""
    spread = 10.0 ** rng.uniform(0.0, 12.0)
    kind = rng.choice(["power", "exponential", "arbitrary", "clustered"])
    k = np.arange(1, n + 1, dtype=float)
    if n == 1:
        kap = np.ones(1)
    elif kind == "power":
        kap = k ** (-np.log(spread) / np.log(n))
    elif kind == "exponential":
        kap = spread ** (-(k - 1) / (n - 1))
    else:
        kap = np.exp(rng.uniform(-np.log(spread), 0.0, n))
        if kind == "clustered":  # near-equal groups, relative gaps down to 1e-12
            kap = kap[rng.integers(0, max(1, n // 2), n)]
            gaps = rng.choice([0.0, 1e-12, 1e-9, 1e-6], n) * rng.uniform(-1, 1, n)
            kap = kap * (1 + gaps)
    kap = np.sort(kap)[::-1] * 10.0 ** rng.uniform(-3.0, 3.0)
    if n > 1 and rng.random() < 0.3:
        kap[n - int(rng.integers(1, n)):] = 0.0  # zero modes: K singular
    return kap


def _targets(rng: np.random.Generator, n: int) -> np.ndarray:
    """Targets in the eigenbasis: random signs, decaying magnitudes, exact zeros."""
    decay = np.arange(1, n + 1) ** (-rng.uniform(0, 3)) * rng.uniform(0.1, 1, n)
    beta = rng.choice([-1.0, 1.0], n) * decay
    if rng.random() < 0.5:
        beta[rng.random(n) < 0.4] = 0.0
    return beta * 10.0 ** rng.uniform(-2.0, 2.0)


def _rate(rng: np.random.Generator, K: np.ndarray) -> tuple[float, float]:
    """``(η, a = ηκ_1)`` with a from 1e-6 to just below 2 for the computed κ_1."""
    N = K.shape[0]
    top = max(float(np.linalg.eigvalsh(K / N)[-1]), float(kernels.spectrum(K).lam[0]))
    pick = rng.integers(3)
    x = (10.0 ** rng.uniform(-6, 0), rng.uniform(1.0, 2.0),
         2.0 - 2.0 ** -float(rng.integers(10, 40)))[pick]
    eta = x / top
    while eta * top >= 2.0:
        eta = np.nextafter(eta, 0.0)
    return float(eta), float(eta * top)


def _steps(rng: np.random.Generator, t_max: int = 10**6) -> int:
    """``T`` from 0 to ``t_max``: 0, small, or log-uniform up to 1e6."""
    pick = rng.random()
    if pick < 0.1:
        return 0
    T = int(rng.integers(1, 31)) if pick < 0.4 else int(10.0 ** rng.uniform(0, 6))
    return min(T, t_max)


def _kernel_problem(seed: int, n_max: int = 6):
    """``(K, y, f0, η, ηκ_1, T, rng)``, K = N Q diag(κ) Qᵀ, Q random orthogonal."""
    rng = np.random.default_rng(seed)
    N = int(rng.integers(1, n_max + 1))
    kap = _spectrum(rng, N)
    Q = np.linalg.qr(rng.standard_normal((N, N)))[0]
    K = N * (Q * kap) @ Q.T
    K = 0.5 * (K + K.T)
    y = Q @ _targets(rng, N) * np.sqrt(N)
    f0 = rng.standard_normal(N) * 10.0 ** rng.uniform(-3, 2)
    eta, a = _rate(rng, K)
    return K, y, f0, eta, a, _steps(rng), rng


def _amat(M: np.ndarray):
    """A float matrix as an Arb matrix (exact)."""
    return arb_mat([[float(v) for v in row] for row in np.atleast_2d(M)])


def _acol(v: np.ndarray):
    return arb_mat([[float(t)] for t in v])


def _eye(N: int):
    E = arb_mat(N, N)
    for i in range(N):
        E[i, i] = 1
    return E


def _gaps(values, balls) -> np.ndarray:
    """``|v − b|`` as balls, for floats ``v`` (exact) and balls ``b``."""
    return np.array([abs(arb(float(v)) - b) for v, b in zip(np.ravel(values), balls)],
                    dtype=object)


def _gd_map(K: np.ndarray, eta: float):
    """``A = I − (η/N) K`` for the given floats."""
    return _eye(K.shape[0]) - _amat(K) * (arb(float(eta)) / K.shape[0])


def _time_sums(A, Y, n: int):
    """``(A^n, Σ_{t<n} A^t Y A^t, Σ_{t<n} A^t)`` by doubling (A symmetric)."""
    N = A.nrows()
    P, W, s = _eye(N), arb_mat(N, N), arb_mat(N, N)
    for bit in bin(n)[2:]:
        W, s, P = W + P * W * P, s + P * s, P * P
        if bit == "1":
            W, s, P = W + P * Y * P, s + P, P * A
    return P, W, s


def _fspace_cloud(K, y, P, eta, T, M):
    """Expected covariance of the cloud of predictions, ``C_f`` above (in Arb)."""
    N = K.shape[0]
    A = _gd_map(K, eta)
    yy = _acol(y) * _acol(y).transpose()
    Pa = _amat(P)
    _, W, s = _time_sums(A, yy + Pa, T + 1)
    mbar = s / (T + 1)
    return A, mbar, W / (T + 1) - mbar * (yy + (Pa / M if M else arb_mat(N, N))) * mbar


def _upper(x) -> float:
    """A float64 upper bound of a ball."""
    return float(certify.enclose(x).hi)


def _frobenius_upper(M) -> float:
    return _upper(sum((e * e for e in M.entries()), arb(0)).sqrt())


def _eig_errors(K: np.ndarray):
    """The library's eigendecomposition of K/N with its measured backward error
    ``β = ‖K/N − U diag(κ̂) Uᵀ‖_F / max|κ̂|`` and loss of orthogonality
    ``ω = ‖UᵀU − I‖_F`` (upper bounds, from the floats in Arb)."""
    N = K.shape[0]
    full = kernels.spectrum(K)
    with ctx.workprec(REF_BITS):
        U = _amat(full.U)
        R = _amat(K) / N - U * _amat(np.diag(full.lam)) * U.transpose()
        beta = _frobenius_upper(R) / float(np.max(np.abs(full.lam)))
        omega = _frobenius_upper(U.transpose() * U - _eye(N))
    return full, beta, omega


def _project(U: np.ndarray, f) -> list:
    """``Uᵀ f / sqrt(N)`` for a float ``U`` and an Arb column ``f``."""
    N = U.shape[0]
    return [sum((arb(float(u)) * v for u, v in zip(U[:, k], f.entries())), arb(0))
            / arb(N).sqrt() for k in range(U.shape[1])]


@settings(max_examples=40)
@given(seed=seeds)
def test_kernel_gd_mode_solution_domain(seed):
    """prop-kern-linear: z_k(T) = sqrt(κ_k)(b_k(1 − r_k^T) + r_k^T ξ_k) for every kept
    mode, dropped modes barely move, and run_kernel_gd, all against kernel GD iterated
    in Arb."""
    K, y, f0, eta, a, T, rng = _kernel_problem(seed)
    N = K.shape[0]
    le = kernels.linear_equivalent(K, y)
    full, beta, omega = _eig_errors(K)
    xi = kernels.project(f0, le.U) / np.sqrt(le.lam)
    z = np.sqrt(le.lam) * dynamics.gd_modes(le.lam, le.b, xi, eta, T)[-1]
    gd_err = dynamics.gd_modes_error_bound(le.lam, le.b, xi, eta, T)[-1]
    norms = np.linalg.norm(f0 - y) + np.linalg.norm(y) + np.linalg.norm(f0)
    with ctx.workprec(REF_BITS):
        fT = _acol(y) + _gd_map(K, eta) ** T * (_acol(f0) - _acol(y))
        # The closed form is gradient descent for K' = N U diag(κ̂) Uᵀ (U orthonormal to
        # ω): T steps of K and K' differ by at most T η ‖K − K'‖/N ‖f0 − y‖ <= T a β,
        # the rounding of ηκ̂ adds T a ε, projections and products (N + 8) ε.
        tol = ((T * a * (beta + EPS) + 2 * omega + (N + 8) * EPS) * norms / np.sqrt(N)
               + np.sqrt(le.lam) * gd_err)
        check.certified_less_equal("kernel GD: mode solution = iterated kernel GD",
                                   _gaps(z, _project(le.U, fT)), tol)
        # dropped modes (κ̂ <= rtol κ̂_1) move at most T η |κ̂| of the way to the target
        drop = full.lam <= 1e-10 * full.lam[0]
        assert int(drop.sum()) == le.dropped
        if le.dropped:
            moved = [abs(v - w) for v, w in zip(_project(full.U[:, drop], fT),
                                                _project(full.U[:, drop], _acol(f0)))]
            creep = T * eta * np.max(np.abs(full.lam[drop]))
            dtol = ((creep + T * a * (beta + EPS) + 2 * omega + 4 * N * EPS)
                    * np.linalg.norm(f0 - y) / np.sqrt(N))
            check.certified_less_equal("kernel GD: dropped modes move <= T eta kappa",
                                       np.array(moved, dtype=object), dtol)
        if T <= 3000:  # the library's iteration: each step errs by at most
            # N ε ‖|K|‖ ‖f − y‖ η/N <= N^1.5 a ε ‖f − y‖ plus 3 ε of the update's size,
            # and the iteration contracts (‖A‖ <= 1)
            F = dynamics.run_kernel_gd(K, y, f0, eta, T)
            it_tol = (T + 1) * (N**1.5 * a + 3) * EPS * norms
            check.certified_less_equal("kernel GD: run_kernel_gd = kernel GD in Arb",
                                       _gaps(F[-1], fT.entries()), it_tol)


@settings(max_examples=40)
@given(seed=seeds)
def test_cloud_covariance_domain(seed):
    """prop-kern-cloud for any initial covariance P, and for P = σ0² K the linear theory
    with the parameters of linear_equivalent, against the function-space cloud."""
    K, y, _, eta, a, T, rng = _kernel_problem(seed)
    N = K.shape[0]
    kind = rng.choice(["general", "matched", "low rank"])
    sigma0 = 10.0 ** rng.uniform(-2, 1)
    if kind == "matched":
        P = sigma0**2 * K
    else:
        rank = N if kind == "general" else int(rng.integers(0, N + 1))
        L = rng.standard_normal((N, rank))
        P = (L @ L.T) * sigma0**2 / N
        P = 0.5 * (P + P.T)
    M = None if rng.random() < 0.4 else int(10.0 ** rng.uniform(0, 3))
    fc = kernels.cloud_covariance(K, y, P, eta, T, n_inits=M)
    _, beta, omega = _eig_errors(K)
    # K and K' = N U diag(κ̂) Uᵀ give clouds within 2 T a (β + ε) ‖Y‖, Y = yyᵀ + P
    # (‖A^t − A'^t‖ <= t a (β + ε), averaged over t, twice); the loss of orthogonality
    # adds 4 ω ‖Y‖, the closed forms and Q = UᵀPU/N (4N + 32) ε ‖Y‖; all over N.
    Y_norm = float(y @ y) + float(np.linalg.norm(P))
    tol = (2 * T * a * (beta + EPS) + 4 * omega + (4 * N + 32) * EPS) * Y_norm / N
    with ctx.workprec(REF_BITS):
        U = _amat(fc.U)
        C_ref = (U.transpose() * _fspace_cloud(K, y, P, eta, T, M)[2] * U / N).entries()
        check.certified_less_equal(f"cloud covariance S + QoG - Qo(mm^T)/M, P {kind}",
                                   _gaps(fc.cov, C_ref), tol)
        # the initial variance in the dropped modes, sum of u_kᵀ P u_k / N over them
        full = kernels.spectrum(K)
        drop = full.lam <= 1e-10 * full.lam[0]
        in_dropped = arb(0)
        if drop.any():
            Ud = _amat(full.U[:, drop])
            in_dropped = (Ud.transpose() * _amat(P) * Ud).trace() / N
        check.certified_less_equal("dropped_variance = initial variance, dropped modes",
                                   _gaps([fc.dropped_variance], [in_dropped]),
                                   (2 * omega + 4 * N * EPS) * np.trace(P) / N)
        if kind == "matched":
            le = kernels.linear_equivalent(K, y, sigma0)
            C_lin = cloud.covariance(le.lam, le.b, le.s, eta, T, n_inits=M)
            check.certified_less_equal("P = sigma0^2 K: linear theory with lam = kappa",
                                       _gaps(C_lin, C_ref), tol)


@settings(max_examples=30)
@given(seed=seeds)
def test_cloud_covariance_in_an_exact_eigenbasis(seed):
    """The same with K diagonal, N and η powers of two: eigenbasis, eigenvalues and ηκ
    are exact in float64 and only the closed forms round, so every entry is within
    32 ε of its scale u_k u_l (G_kl + m_k m_l) + |Q_kl| (G_kl + m_k m_l / M)."""
    rng = np.random.default_rng(seed)
    N = int(2 ** rng.integers(0, 4))
    top = np.log10(1.999)
    x = 2.0 - 2.0**-30 if rng.random() < 0.2 else 10.0 ** rng.uniform(-6, top)
    a = rng.permutation(_spectrum(rng, N))  # any order on the diagonal
    a = a / np.max(a) * x                   # the products ηκ_k, the largest below 2
    e = int(rng.integers(-20, 30))
    eta = 2.0**-e
    K = np.diag(a * 2.0**e * N)             # K/N = diag(a 2^e), so ηκ = a exactly
    y = _targets(rng, N) * np.sqrt(N)
    L = rng.standard_normal((N, int(rng.integers(0, N + 1))))
    P = L @ L.T
    T = _steps(rng)
    M = None if rng.random() < 0.4 else int(10.0 ** rng.uniform(0, 3))
    fc = kernels.cloud_covariance(K, y, P, eta, T, n_inits=M)
    assert set(np.abs(fc.U).ravel()) <= {0.0, 1.0}  # a signed permutation: exact
    d = fc.U.shape[1]
    with ctx.workprec(REF_BITS):
        A, mbar, C_f = _fspace_cloud(K, y, P, eta, T, M)
        U = _amat(fc.U)
        C_ref = U.transpose() * C_f * U / N
        ones = arb_mat([[1] * N for _ in range(N)])  # (A^t J A^t)_kl = (r_k r_l)^t
        G = U.transpose() * (_time_sums(A, ones, T + 1)[1] / (T + 1)) * U
        m = U.transpose() * mbar * U
        Q = U.transpose() * _amat(P) * U / N
        u = U.transpose() * _acol(y) / arb(N).sqrt()
        tol = np.empty(d * d)
        for k in range(d):
            for l in range(d):
                g, mm = abs(G[k, l]), abs(m[k, k] * m[l, l])
                noise = g + (mm / M if M else 0)
                scale = abs(u[k, 0] * u[l, 0]) * (g + mm) + abs(Q[k, l]) * noise
                tol[k * d + l] = 32 * EPS * _upper(scale)
        check.certified_less_equal("cloud covariance in an exact eigenbasis, 32 ulp",
                                   _gaps(fc.cov, C_ref.entries()), tol)


def _input_pair(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two inputs in R^d, d from 1 to 64, norms from 1e-30 to 1e30, at any angle:
    generic, nearly (anti)parallel down to 1e-17, orthogonal, or exactly parallel."""
    d = int(rng.integers(1, 13)) if rng.random() < 0.8 else int(rng.integers(13, 65))
    x = rng.standard_normal(d) * 10.0 ** rng.uniform(-30, 30)
    z = rng.standard_normal(d)
    kind = rng.choice(["generic", "parallel", "antiparallel", "orthogonal", "exact"])
    ux = x / np.linalg.norm(x)
    if kind == "generic":
        y = z
    elif kind in ("parallel", "antiparallel"):
        y = (1.0 if kind == "parallel" else -1.0) * ux + z * 10.0 ** rng.uniform(-17, 0)
    elif kind == "orthogonal":
        y = z - (z @ ux) * ux
    else:
        y = x * rng.choice([-1.0, 1.0]) * 2.0 ** int(rng.integers(-3, 4))
    ny = np.linalg.norm(y)
    y = y / ny * 10.0 ** rng.uniform(-30, 30) if ny > 0 else x.copy()
    return x, y


@settings(max_examples=40)
@given(seed=seeds)
def test_arccos_ntk_and_variance_domain(seed):
    """prop-kern-arccos and prop-kern-ntk: k_n, Θ and Var g of the library against the
    Gaussian expectations that define them, within the stated round-off bounds."""
    rng = np.random.default_rng(seed)
    x, y = _input_pair(rng)
    d = x.size
    nxy = np.linalg.norm(x) * np.linalg.norm(y) * (1 + 1e-12)
    I = [kernels.arccos_enclosure(x, y, n) / 2 for n in range(3)]  # E[HH u^n v^n]
    c = sum((arb(float(p)) * arb(float(q)) for p, q in zip(x, y)), arb(0))
    XY = np.vstack([x, y])
    for n in range(3):
        lib = [kernels.arccos(x[None], y[None], order=n)[0, 0],
               kernels.arccos(XY, order=n)[0, 1]]
        check.certified_less_equal(f"k_{n} = Gaussian expectation, (9d+32) eps bound",
                                   _gaps(lib, [2 * I[n]] * 2),
                                   (9 * d + 32) * EPS * (1, 1, 3)[n] * nxy**n)
    g1 = 2 * (I[1] + c * I[0])  # E g for g = 2 H(u) H(v) (u v + a² c)
    a_moments = [1, 1, 3]       # E a^0, E a^2, E a^4
    g2 = 4 * sum(math.comb(2, k) * I[k] * c ** (2 - k) * a_moments[2 - k]
                 for k in range(3))
    var = g2 - g1 * g1
    m = int(rng.integers(1, 1000))
    check.certified_less_equal("Theta = k_1 + (x.y) k_0 = E g, (19d + 71) eps bound",
                               _gaps([kernels.ntk_relu(XY)[0, 1]], [g1]),
                               (19 * d + 71) * EPS * nxy)
    v1, vm = (kernels.empirical_ntk_variance(XY, w)[0, 1] for w in (1, m))
    check.certified_less_equal("Var g, (236d + 836) eps bound", _gaps([v1], [var]),
                               (236 * d + 836) * EPS * nxy**2)
    check.certified_less_equal("Var Theta_m = Var g / m", _gaps([vm], [var / m]),
                               (236 * d + 836) * EPS * nxy**2 / m)


@settings(max_examples=30)
@given(seed=seeds)
def test_linear_kernel_domain(seed):
    """prop-kern-linear for K = X Xᵀ: the positive κ_k are the positive eigenvalues of
    Σ = XᵀX/N, the N − rank X zero modes are dropped, Σ_k u_k sqrt(κ_k) b_k = X ŵ/√N
    (b_k = v_kᵀ ŵ whatever the signs and rotations of the eigenvectors), and kernel and
    weight gradient descent give the same predictions f_t = X w_t."""
    rng = np.random.default_rng(seed)
    N, d = int(rng.integers(1, 9)), int(rng.integers(1, 7))
    r = min(N, d)
    lam = _spectrum(rng, r)
    lam = np.maximum(lam, lam[0] * 10.0 ** -rng.uniform(0, 8))  # spread up to 1e8
    Uq = np.linalg.qr(rng.standard_normal((N, N)))[0][:, :r]
    Vq = np.linalg.qr(rng.standard_normal((d, d)))[0][:, :r]
    X = (Uq * np.sqrt(N * lam)) @ Vq.T
    y = rng.standard_normal(N) * 10.0 ** rng.uniform(-2, 2)
    w0 = rng.standard_normal(d) * 10.0 ** rng.uniform(-2, 1)
    K = X @ X.T
    le = kernels.linear_equivalent(K, y)
    assert le.dropped == N - r and le.lam.size == r
    full, beta, omega = _eig_errors(K)
    with ctx.workprec(REF_BITS):
        Xa = _amat(X)
        Sigma = Xa.transpose() * Xa / N
        ev = certify.symmetric_eigenvalues(Sigma, digits=40, balls=True)
        # κ̂: eigenvalues of fl(XXᵀ)/N, |fl(XXᵀ) − XXᵀ| <= d ε |X||X|ᵀ moves them by at
        # most d ε tr Σ <= d r ε λ_1 (Weyl); the computed κ̂ are the eigenvalues of
        # U diag(κ̂) Uᵀ up to ω |κ̂| (Ostrowski), within β max|κ̂| of fl(XXᵀ)/N (Weyl)
        top = float(np.max(np.abs(full.lam)))
        tol = (d * r * EPS * lam[0] + (beta + omega) * top) * 1.001
        check.certified_less_equal("linear kernel: kappa = eigenvalues of Sigma",
                                   _gaps(le.lam, ev[:r]), tol)
        # the projection of y on the range of X, from the normal equations in Arb; the
        # range is resolved to (d r + 8N) ε λ_1/λ_r (the gap to the zero modes is λ_r)
        proj = Xa * (Xa.transpose() * Xa).solve(Xa.transpose() * _acol(y)) if N >= d \
            else _acol(y)
        ptol = (4 * (d * r + 8 * N) * EPS * lam[0] / lam[-1]
                * np.linalg.norm(y) / np.sqrt(N))
        fit = le.U @ (np.sqrt(le.lam) * le.b)
        # the dropped modes carry the target's mean square outside the range of X
        rest = _acol(y) - proj
        outside = sum((e * e for e in rest.entries()), arb(0)) / N
        check.certified_less_equal("linear kernel: dropped_signal = |y - X w_hat|^2/N",
                                   _gaps([le.dropped_signal], [outside]),
                                   ptol * np.linalg.norm(y) * np.sqrt(N) * 2 / N)
        ref = [p / arb(N).sqrt() for p in proj.entries()]
        check.certified_less_equal("linear kernel: U rt(kappa) b = X w_hat / rt(N)",
                                   _gaps(fit, ref), ptol)
    eta, a = _rate(rng, K)
    T = _steps(rng, t_max=2000)
    F = dynamics.run_kernel_gd(K, y, X @ w0, eta, T)[-1]
    W = dynamics.run_gd(X, y, w0, eta, T)[-1]
    with ctx.workprec(REF_BITS):
        A = _eye(N) - Xa * Xa.transpose() * (arb(float(eta)) / N)
        fT = (_acol(y) + A**T * (Xa * _acol(w0) - _acol(y))).entries()
        # every step of either iteration errs by at most ((N + d)^1.5 a + 3) ε of the
        # scale (a matrix-vector product and an update), and the iterations contract
        f0 = X @ w0
        scale = np.linalg.norm(f0) + 2 * np.linalg.norm(y) + np.linalg.norm(f0 - y)
        itol = (T + 1) * ((N + d) ** 1.5 * a + 3) * EPS * scale
        for name, got in (("run_kernel_gd(X X^T)", F), ("X run_gd", X @ W)):
            check.certified_less_equal(f"linear kernel: {name} = kernel GD in Arb",
                                       _gaps(got, fT), itol)


def test_arccos_enclosure_special_values():
    """Exactly parallel inputs are done exactly; orthogonal ones give J_n(π/2)/π."""
    x = np.array([3.0, -1.0, 0.5])
    for n, df in ((0, 1), (1, 1), (2, 3)):
        e = kernels.arccos_enclosure(x, 2.0 * x, n)
        assert e.is_exact() and e == df * 2**n * float(x @ x) ** n
        assert kernels.arccos_enclosure(x, -0.5 * x, n) == 0
    y = np.array([1.0, 3.0, 0.0])  # x·y = 0
    with ctx.workprec(200):
        nxy = (arb(float(x @ x)) * arb(float(y @ y))).sqrt()
        for n, ref in ((0, arb(1) / 2), (1, nxy / arb.pi()), (2, nxy**2 / 2)):
            e = kernels.arccos_enclosure(x, y, n)
            assert e.overlaps(ref) and e.rad() < 1e-30 * max(1.0, float(nxy) ** n)
    assert kernels.arccos_enclosure([0.0, 0.0], [1.0, 2.0], 1) == 0


@settings(max_examples=30)
@given(seed=seeds)
def test_rbf_laplace_domain(seed):
    """RBF and Laplace entries against exp of the exact distance (mpmath, 40 digits),
    within the stated (z (d + 3) + 1) ε and (z (d/2 + 3) + 1) ε, z up to about 700."""
    rng = np.random.default_rng(seed)
    d = int(rng.integers(1, 30))
    X = rng.standard_normal((3, d)) * 10.0 ** rng.uniform(-3, 3)
    near = rng.standard_normal((3, d)) * 10.0 ** rng.uniform(-6, 3)
    Y = X[rng.integers(0, 3, 3)] + near
    dist = np.sqrt(((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1))
    ell = float(np.median(dist) * 10.0 ** rng.uniform(-1.2, 1.5))
    K, L = kernels.rbf(X, Y, length_scale=ell), kernels.laplace(X, Y, length_scale=ell)
    with mpmath.workdps(40):
        for i in range(3):
            for j in range(3):
                d2 = mpmath.fsum((mpmath.mpf(float(a)) - mpmath.mpf(float(b))) ** 2
                                 for a, b in zip(X[i], Y[j]))
                z2 = d2 / (2 * mpmath.mpf(ell) ** 2)
                z1 = mpmath.sqrt(d2) / mpmath.mpf(ell)
                for got, z, c in ((K[i, j], z2, d + 3), (L[i, j], z1, d / 2 + 3)):
                    if z > 700:
                        continue
                    ref = mpmath.exp(-z)
                    err = abs(mpmath.mpf(float(got)) - ref)
                    assert err <= (z * c + 1) * EPS * ref, (i, j, float(z), float(got))


# ------------------------------------ defaults, edges of the domain and size guards


def test_documented_defaults():
    X = points(5, 3, seed=15)
    assert np.array_equal(kernels.arccos(X), kernels.arccos(X, order=1))
    t = np.linspace(0.0, np.pi, 7)
    assert np.array_equal(kernels.arccos_angular(t), kernels.arccos_angular(t, 1))
    e = kernels.arccos_enclosure(X[0], X[3])
    f = kernels.arccos_enclosure(X[0], X[3], 1, bits=128)
    assert e.mid() == f.mid() and e.rad() == f.rad()
    le = kernels.linear_equivalent(kernels.rbf(X, length_scale=1.0), X[:, 0])
    assert le.s == np.sqrt(le.lam.size)  # sigma0 = 1: s = sqrt(d)


@pytest.mark.parametrize("call,count", [
    (lambda X, Y: kernels.rbf(X, Y, length_scale=1.0), 3 * 4),
    (lambda X, Y: kernels.laplace(X, Y, length_scale=1.0), 3 * 4),
    (lambda X, Y: kernels.arccos(X, Y, order=1), 3 * 4),
    (lambda X, Y: kernels.arccos_features(X, 1, 7, seed=0), 3 * 7 + 7 * 5),
    (lambda X, Y: kernels.fourier_features(X, 7, 0, length_scale=1.0), 3 * 7 + 7 * 5),
    (lambda X, Y: kernels.two_layer_relu(X, 7, 0), 3 * 7 + 7 * 5),
])
def test_size_guards_refuse_exactly_beyond_the_limit(monkeypatch, call, count):
    """N = 3 and N' = 4 inputs in d = 5, width m = 7: a kernel matrix holds N N'
    numbers, features and a hidden layer N m + m d. The call runs when MAX_ENTRIES is
    that count and is refused, naming it, when the limit is one less."""
    X, Y = points(3, 5, seed=16), points(4, 5, seed=17)
    monkeypatch.setattr(_validate, "MAX_ENTRIES", count)
    call(X, Y)
    monkeypatch.setattr(_validate, "MAX_ENTRIES", count - 1)
    with pytest.raises(ValueError, match=f"would hold {count:,} numbers"):
        call(X, Y)


def test_edges_of_the_accepted_domain():
    """Two rows suffice for a median distance and for standardising (one column too); a
    cloud may have one point per run, one coordinate and a block of one; everything
    beyond the documented domain is refused."""
    assert kernels.median_length_scale([[0.0], [0.5]]) == 0.5
    np.testing.assert_array_equal(kernels.standardise([[1.0], [3.0]]), [[-1.0], [1.0]])
    Z = np.random.default_rng(18).standard_normal((4, 1, 1))
    one = kernels.cloud_moments(Z, block=1)
    assert one.cov.shape == (1, 1)
    assert one.cov[0, 0] == pytest.approx(np.var(Z), rel=1e-14)
    refused = [
        (lambda: kernels.cloud_moments(np.ones((2, 0, 3))), "runs must have shape"),
        (lambda: kernels.cloud_moments(np.ones((2, 3, 0))), "runs must have shape"),
        (lambda: kernels.project(np.ones(0), np.ones((0, 2))), "U must be a finite"),
        (lambda: kernels.project(np.ones(3), np.ones(3)), "U must be a finite"),
        (lambda: kernels.project(np.ones(2), [[1.0, np.nan], [0.0, 1.0]]),
         "U must be a finite"),
        (lambda: kernels.fit_power_law(np.ones((2, 2)), 1, 2), "1-D array"),
        (lambda: kernels.arccos([[1.0, 0.0]], [[0.0, 0.0]], order=0), "non-zero rows"),
        (lambda: kernels.linear_equivalent(np.eye(2), np.ones(2), rtol=1.0), "rtol"),
    ]
    for call, match in refused:
        with pytest.raises(ValueError, match=match):
            call()


def test_eigenvalue_cuts_at_their_boundaries():
    """A mode with κ = rtol κ_1 exactly is dropped; an eigenvalue of exactly −1e-10
    times the largest (of K/N, or of init_cov) is round-off and accepted. Diagonal
    matrices, N = 2: their eigenvalues are the diagonal entries, exactly."""
    K = np.diag([2.0, 2e-10])                   # K/N = diag(1, 1e-10)
    assert np.array_equal(kernels.spectrum(K).lam, [1.0, 1e-10])
    le = kernels.linear_equivalent(K, [1.0, 1.0])
    assert le.dropped == 1 and np.array_equal(le.lam, [1.0])
    K = np.diag([8.0, -8e-10])                  # K/N = diag(4, -1e-10 * 4)
    assert np.array_equal(kernels.spectrum(K).lam, [4.0, -1e-10 * 4.0])
    assert kernels.linear_equivalent(K, [1.0, 1.0]).dropped == 1
    P = np.diag([4.0, -1e-10 * 4.0])
    assert np.array_equal(np.linalg.eigvalsh(P), [-1e-10 * 4.0, 4.0])
    fc = kernels.cloud_covariance(np.eye(2), [1.0, -1.0], P, 1.0, 3)
    # K = I: U is a signed permutation and Q = UᵀPU/N holds the entries of P/N
    assert np.array_equal(np.sort(np.diag(fc.Q)), [-1e-10 * 2.0, 2.0])


def test_cloud_moments_standard_errors():
    """One point per run: Ĉ is the variance of the M points and its standard error that
    of a mean of M squared deviations (ψ_j differs from (z_j − z̄)² by the constant
    z̄²). Coordinates that vanish in every run add nothing to the total variance or to
    its standard error."""
    rng = np.random.default_rng(19)
    M = 50
    z = rng.standard_normal(M) * 1.7 + 0.4
    mom = kernels.cloud_moments(z[:, None, None])
    dev2 = (z - z.mean()) ** 2
    assert mom.cov[0, 0] == pytest.approx(dev2.mean(), rel=1e-13)
    assert mom.se[0, 0] == pytest.approx(dev2.std(ddof=1) / np.sqrt(M), rel=1e-12)
    Z = np.zeros((M, 6, 3))
    Z[:, :, 1] = rng.standard_normal((M, 6)) + np.linspace(0.0, 1.0, 6)
    mom = kernels.cloud_moments(Z)
    assert mom.total == pytest.approx(mom.cov[1, 1], rel=1e-13)
    assert mom.total_se == pytest.approx(mom.se[1, 1], rel=1e-12)


def test_feature_maps_are_their_documented_draws():
    """Both feature maps from the draws their docstrings name, with H(0) = 0: a zero
    input has zero features of every order."""
    X = points(4, 3, seed=20)
    X[3] = 0.0
    m, seed, ell = 50, 21, 0.8
    U = X @ np.random.default_rng(seed).standard_normal((m, 3)).T
    for n in (0, 1, 2):
        ref = np.sqrt(2.0 / m) * np.where(U > 0, 1.0, 0.0) * np.abs(U) ** n
        np.testing.assert_allclose(kernels.arccos_features(X, n, m, seed), ref,
                                   rtol=1e-14, atol=0)
    assert np.all(kernels.arccos_features(X, 0, m, seed)[3] == 0.0)
    for kind in ("rbf", "laplace"):
        rng = np.random.default_rng(seed)
        g = rng.standard_normal((m, 3))
        c = np.abs(rng.standard_normal(m)) if kind == "laplace" else np.ones(m)
        beta = rng.uniform(0.0, 2.0 * np.pi, m)
        arg = X @ (g / (ell * c[:, None])).T + beta
        got = kernels.fourier_features(X, m, seed, length_scale=ell, kernel=kind)
        # the phases agree to a few ulp of their size
        tol = 8 * EPS * (np.abs(arg) + 1) * np.sqrt(2.0 / m)
        assert np.all(np.abs(got - np.sqrt(2.0 / m) * np.cos(arg)) <= tol)


@pytest.mark.parametrize("n,ex,ey", [(0, 200, -200), (0, -170, -170), (1, -170, 160),
                                     (1, 200, -195), (2, 150, -160), (2, -160, 150)])
def test_arccos_at_extreme_scales(n, ex, ey):
    """Inputs whose squared norms overflow or underflow, with ‖x‖^n ‖y‖^n representable:
    the stated bound holds (regression: rows were normalised by norms computed from
    their squares, so k_0 of two orthogonal inputs of norm 1e200 came out as 1, and a
    row of norm 1e-170 counted as a zero row)."""
    rng = np.random.default_rng(24 + n)
    x = rng.standard_normal(3) * 10.0**ex
    y = rng.standard_normal(3) * 10.0**ey
    with np.errstate(over="ignore"):  # the Gram matrix's diagonal ‖x‖^(2n) may overflow
        lib = [kernels.arccos(x[None], y[None], order=n)[0, 0],
               kernels.arccos(np.vstack([x, y]), order=n)[0, 1]]
    ref = kernels.arccos_enclosure(x, y, n)
    with ctx.workprec(REF_BITS):
        xx = sum((arb(float(t)) ** 2 for t in x), arb(0))
        yy = sum((arb(float(t)) ** 2 for t in y), arb(0))
        nxy = _upper((xx * yy).sqrt() ** n)
    tol = (9 * 3 + 32) * EPS * (1, 1, 3)[n] * nxy
    check.certified_less_equal(f"k_{n} at extreme scales, (9d+32) eps bound",
                               _gaps(lib, [ref] * 2), tol)


def test_ntk_gram_matrix_near_the_largest_float():
    """Entries between 2^1023 and 2^1024 are finite in the Gram matrix as in the cross
    kernel (regression: the symmetrisation K + Kᵀ overflowed them)."""
    X = np.array([[8e153, 0.0], [7e153, 1e153]])
    K = kernels.ntk_relu(X)
    assert np.all(np.isfinite(K)) and np.array_equal(K, K.T) and K.min() > 2.0**1023
    cross = np.array([[kernels.ntk_relu(x[None], y[None])[0, 0] for y in X] for x in X])
    np.testing.assert_allclose(K, cross, rtol=4 * EPS)


def test_arccos_enclosure_precision_and_radius():
    """The ball comes at bits + 64 bits of precision, with a radius of at most 2^-bits
    of ‖x‖^n ‖y‖^n."""
    rng = np.random.default_rng(23)
    for bits in (64, 128):
        for n in range(3):
            x, y = rng.standard_normal((2, 4))
            e = kernels.arccos_enclosure(x, y, n, bits=bits)
            man, _ = e.mid().man_exp()
            assert int(man).bit_length() <= bits + 64
            scale = (np.linalg.norm(x) * np.linalg.norm(y)) ** n
            assert float(e.rad()) <= 2.0**-bits * scale
