"""ribbonlib.sgd: exact SGD moments against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ribbonlib import cloud, dynamics, sgd, spectra


def random_rotation(d: int, seed: int) -> np.ndarray:
    Q, R = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return Q * np.sign(np.diag(R))


def full_recursion(Sigma, P0, eta, B, T, sig2):
    """``P_{t+1} = RPR + (η²/B)(𝓜(P) − ΣPΣ) + (η²/B)σ²Σ`` with 𝓜(P) = 2ΣPΣ + tr(ΣP)Σ, any basis."""
    d = Sigma.shape[0]
    R = np.eye(d) - eta * Sigma
    P = P0.copy()
    out = [P]
    for _ in range(T):
        SPS = Sigma @ P @ Sigma
        P = R @ P @ R + eta**2 / B * (SPS + np.trace(Sigma @ P) * Sigma) + eta**2 / B * sig2 * Sigma
        out.append(P)
    return np.array(out)


# ------------------------------------------------------------------- moments


@pytest.mark.parametrize("B,sig2", [(1, 0.0), (3, 0.7), (50, 2.0)])
def test_mode_moments_match_full_matrix_recursion(B, sig2):
    d, T = 7, 150
    lam = spectra.power_law(d, 1.3)[np.random.default_rng(1).permutation(d)]  # any order
    V = random_rotation(d, 2)
    Sigma = (V * lam) @ V.T
    A = np.random.default_rng(3).standard_normal((d, d))
    P0 = A @ A.T / d  # with off-diagonal entries in the eigenbasis
    eta = 0.6 * sgd.stability_threshold(lam, B)
    P = full_recursion(Sigma, P0, eta, B, T, sig2)
    ref = np.einsum("ik,tij,jk->tk", V, P, V)
    p0 = np.einsum("ik,ij,jk->k", V, P0, V)
    got = sgd.mode_second_moments(lam, p0, eta, B, T, label_noise=sig2)
    np.testing.assert_allclose(got, ref, rtol=1e-11)


def test_scalar_case_closed_form():
    lam, eta, sig2, p0, T = 1.7, 0.2, 0.3, 0.9, 60
    a = 1 - 2 * eta * lam + 3 * eta**2 * lam**2  # B = 1, E x^4 = 3 λ²
    t = np.arange(T + 1)
    ref = a**t * p0 + sig2 * eta**2 * lam * (1 - a**t) / (1 - a)
    got = sgd.mode_second_moments([lam], [p0], eta, 1, T, label_noise=sig2)[:, 0]
    np.testing.assert_allclose(got, ref, rtol=1e-13)


def test_large_batch_tends_to_gradient_descent():
    lam = spectra.exponential(5, 0.5)
    p0 = np.array([1.0, 0.5, 2.0, 0.1, 1.0])
    eta, T = 0.7, 40
    gd = p0 * (1 - eta * lam) ** (2 * np.arange(T + 1))[:, None]
    for B in (10**3, 10**6):
        got = sgd.mode_second_moments(lam, p0, eta, B, T)
        assert np.max(np.abs(got - gd)) <= 50.0 / B * np.max(p0)


# ------------------------------------------------------------------ stability


@given(
    d=st.integers(1, 12),
    alpha=st.floats(0.0, 3.0),
    B=st.integers(1, 64),
)
def test_threshold_properties(d, alpha, B):
    lam = spectra.power_law(d, alpha)
    eta_c = sgd.stability_threshold(lam, B)
    lo, hi = sgd.threshold_bounds(lam, B)
    assert lo * (1 - 1e-14) <= eta_c <= hi * (1 + 1e-14)
    assert eta_c < 2.0 / lam.max()
    assert sgd.stability_threshold(lam, B + 1) > eta_c  # monotone in B
    A, _ = sgd.diagonal_map(lam, eta_c, B)
    rho = np.max(np.abs(np.linalg.eigvals(A)))
    assert abs(rho - 1.0) < 1e-12
    A_lo, _ = sgd.diagonal_map(lam, eta_c * (1 - 1e-6), B)
    A_hi, _ = sgd.diagonal_map(lam, eta_c * (1 + 1e-6), B)
    assert np.max(np.abs(np.linalg.eigvals(A_lo))) < 1.0 < np.max(np.abs(np.linalg.eigvals(A_hi)))


def test_threshold_limits():
    lam = spectra.power_law(20, 1.0)
    # B -> infinity: the gradient-descent threshold 2/λ_max, from below, like O(1/B)
    gaps = [2.0 / lam[0] - sgd.stability_threshold(lam, B) for B in (10, 10**3, 10**5, 10**7)]
    assert all(g > 0 for g in gaps)
    assert gaps[-1] < 1e-5 and all(g2 < g1 / 50 for g1, g2 in zip(gaps, gaps[1:]))
    # one mode, B = 1: η_c = 2/(3λ) (E x⁴ = 3λ²)
    assert sgd.stability_threshold([0.5], 1) == pytest.approx(2 / 1.5, rel=1e-14)
    # one mode, any B: ηλ = 2B/(B+2)
    assert sgd.stability_threshold([2.0], 6) == pytest.approx(12 / 8 / 2.0, rel=1e-14)
    # array of batch sizes
    Bs = np.array([1, 2, 4, 8])
    vals = sgd.stability_threshold(lam, Bs)
    assert vals.shape == (4,) and np.all(np.diff(vals) > 0)


def test_stability_function_and_validation_at_threshold():
    lam = spectra.power_law(6, 1.0)
    B = 3
    eta_c = sgd.stability_threshold(lam, B)
    assert sgd.stability_function(lam, eta_c, B) == pytest.approx(1.0, rel=1e-12)
    assert sgd.stability_function(lam, 10.0, B) == np.inf
    sgd.mode_second_moments(lam, np.ones(6), eta_c * (1 - 1e-9), B, 3)
    with pytest.raises(ValueError, match="stability threshold"):
        sgd.mode_second_moments(lam, np.ones(6), eta_c * (1 + 1e-9), B, 3)


# ---------------------------------------------------------------------- floor


@pytest.mark.parametrize("B", [1, 4, 32])
def test_floor_closed_form(B):
    lam = spectra.power_law(9, 1.5)
    sig2 = 0.8
    eta = 0.5 * sgd.stability_threshold(lam, B)
    floor = sgd.stationary_floor(lam, eta, B, sig2)
    A, u = sgd.diagonal_map(lam, eta, B)
    np.testing.assert_allclose(floor, np.linalg.solve(np.eye(9) - A, sig2 * u), rtol=1e-12)
    rho = np.max(np.abs(np.linalg.eigvals(A)))
    T = int(np.ceil(np.log(1e-15) / np.log(rho)))
    late = sgd.mode_second_moments(lam, np.zeros(9), eta, B, T, label_noise=sig2)[-1]
    np.testing.assert_allclose(late, floor, rtol=1e-12)
    # excess loss identity Σ λ p∞ = σ² F/(1 − F) and the small-η/B limit σ² η/(2B)
    F = sgd.stability_function(lam, eta, B)
    assert lam @ floor == pytest.approx(sig2 * F / (1 - F), rel=1e-13)
    small = sgd.stationary_floor(lam, 1e-6, B, sig2)
    np.testing.assert_allclose(small, sig2 * 1e-6 / (2 * B), rtol=1e-5)


# ----------------------------------------------------------------- simulation


def test_simulator_is_seeded_and_matches_moments():
    lam = spectra.power_law(4, 1.0)
    b = np.array([1.0, -0.5, 0.3, 0.8])
    c0 = np.random.default_rng(0).standard_normal((3000, 4)) * 0.5
    kw = dict(eta=0.3, batch_size=2, steps=30, label_noise=0.2)
    a = sgd.simulate_online(lam, b, c0, seed=11, **kw)
    again = sgd.simulate_online(lam, b, c0, seed=11, **kw)
    other = sgd.simulate_online(lam, b, c0, seed=12, **kw)
    assert np.array_equal(a, again) and not np.array_equal(a, other)
    assert a.shape == (3000, 31, 4) and np.array_equal(a[:, 0], c0)
    sub = sgd.simulate_online(lam, b, c0, seed=11, times=[30, 0, 10], **kw)
    assert np.array_equal(sub, a[:, [30, 0, 10]])
    e2 = (a - b) ** 2
    p0 = np.mean((c0 - b) ** 2, axis=0)  # the sample's own initial moments
    exact = sgd.mode_second_moments(lam, p0, 0.3, 2, 30, label_noise=0.2)
    # the initial sample is fixed, so compare conditionally on it only loosely: the exact
    # recursion is linear in P0 and uses only its diagonal, while the sample's P0 has
    # small off-diagonal entries; 6 standard errors covers both for this seed.
    z = (e2.mean(0)[1:] - exact[1:]) / (e2.std(0, ddof=1)[1:] / np.sqrt(3000))
    assert np.max(np.abs(z)) < 6


def test_simulator_reports_divergence():
    # twenty equal modes, B = 1: η|x|² ≈ 20 η, far beyond 2, although η λ_max = 1 < 2
    lam = np.ones(20)
    assert sgd.stability_threshold(lam, 1) < 0.1
    with pytest.raises(ValueError, match="diverged"):
        sgd.simulate_online(lam, np.zeros(20), np.ones((5, 20)), 1.0, 1, 5000, seed=0)


# ----------------------------------------------------------------- data set


def test_dataset_full_batch_without_replacement_is_gradient_descent():
    rng = np.random.default_rng(5)
    N, d = 10, 4
    X = rng.standard_normal((N, d))
    y = X @ rng.standard_normal(d) + 0.3 * rng.standard_normal(N)
    mu0, cov0 = rng.standard_normal(d), 0.2
    eta = 0.5 / np.linalg.eigvalsh(X.T @ X / N)[-1]
    mom = sgd.dataset_second_moments(X, y, mu0, cov0, eta, N, 25, replace=False)
    assert mom.kappa == 0.0
    R = np.eye(d) - eta * X.T @ X / N
    m = mu0 - mom.w_hat
    P = cov0 * np.eye(d) + np.outer(m, m)
    for t in range(26):
        np.testing.assert_allclose(mom.second[t], P, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(mom.mean[t], m, rtol=1e-10, atol=1e-13)
        P, m = R @ P @ R, R @ m
    w_gd = dynamics.run_gd(X, y, mu0, eta, 25)
    np.testing.assert_allclose(mom.mean + mom.w_hat, w_gd, atol=1e-12)


def test_dataset_gaussian_population_limit_and_kappa():
    # one sample repeated: H = x xᵀ = Σ always, no noise at all
    X = np.array([[1.0, 2.0]])
    mom = sgd.dataset_second_moments(X, [3.0], [0.0, 0.0], 0.1, 0.05, 4, 10)
    assert mom.kappa == 0.25
    P = mom.second
    R = np.eye(2) - 0.05 * X.T @ X
    np.testing.assert_allclose(P[1], R @ P[0] @ R, rtol=1e-13)
    rng = np.random.default_rng(8)
    X = rng.standard_normal((9, 3))
    mom = sgd.dataset_second_moments(X, rng.standard_normal(9), np.zeros(3), 0.1, 0.1, 4, 2, replace=False)
    assert mom.kappa == pytest.approx((9 - 4) / (4 * 8))


# --------------------------------------------------------------------- clouds


def brute_force_cloud(lam, b, s, eta, B, T, sig2, M=None):
    """Iterate the full Q_t and means in the eigenbasis; time-average; two-time sums."""
    d = lam.size
    Lam = np.diag(lam)
    r = 1 - eta * lam
    R = np.diag(r)
    m = -b.copy()
    Q = s**2 / d * np.eye(d)
    Qs, ms = [], []
    for _ in range(T + 1):
        Qs.append(Q.copy())
        ms.append(m.copy())
        P = Q + np.outer(m, m)
        Pn = R @ P @ R + eta**2 / B * (Lam @ P @ Lam + np.trace(Lam @ P) * Lam + sig2 * Lam)
        m = r * m
        Q = Pn - np.outer(m, m)
    Qs, ms = np.array(Qs), np.array(ms)
    root = np.sqrt(lam)
    mean_traj = ms * root  # + const: the constant b·sqrt(λ) cancels on centring
    C = np.einsum("tij->ij", Qs) / (T + 1) * np.outer(root, root)
    mc = mean_traj - mean_traj.mean(0)
    C += mc.T @ mc / (T + 1)
    if M is not None:
        cov_bar = np.zeros((d, d))
        for t in range(T + 1):
            for t2 in range(T + 1):
                if t2 >= t:
                    cov_bar += (r ** (t2 - t))[:, None] * Qs[t]
                else:
                    cov_bar += Qs[t2] * (r ** (t - t2))[None, :]
        C -= cov_bar / (T + 1) ** 2 * np.outer(root, root) / M
    return C


@pytest.mark.parametrize("M", [None, 7])
def test_cloud_covariance_against_brute_force(M):
    lam = spectra.power_law(5, 1.2)
    b = np.array([0.9, -0.4, 0.7, 0.2, -1.1])
    s, B, sig2, T = 0.8, 2, 0.3, 40
    eta = 0.5 * sgd.stability_threshold(lam, B)
    got = sgd.cloud_covariance(lam, b, s, eta, B, T, sig2, n_inits=M)
    ref = brute_force_cloud(lam, b, s, eta, B, T, sig2, M)
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-13 * np.max(np.abs(ref)))
    parts = sgd.fluctuation_parts(lam, b, eta, B, T, n_inits=M)
    F = sgd.fluctuation_covariance(lam, b, s, eta, B, T, sig2, n_inits=M)
    np.testing.assert_allclose(parts.signal + s**2 * parts.init + sig2 * parts.label, F, rtol=1e-14)


def test_fluctuations_are_psd_and_vanish_for_large_batches():
    lam = spectra.power_law(8, 1.0)
    b = np.linspace(1, -1, 8)
    F = sgd.fluctuation_covariance(lam, b, 1.0, 0.3, 2, 100, 0.5)
    w = np.linalg.eigvalsh(F)
    assert w[0] >= -1e-14 * w[-1] and w[-1] > 0
    gd = cloud.covariance(lam, b, 1.0, 0.3, 100)
    big = sgd.cloud_covariance(lam, b, 1.0, 0.3, 10**8, 100)
    np.testing.assert_allclose(big, gd, rtol=1e-6, atol=1e-8 * np.max(np.abs(gd)))


# ----------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: sgd.mode_second_moments([1.0, 0.5], [1.0, 1.0], 0.1, 0, 5), "batch_size"),
        (lambda: sgd.mode_second_moments([1.0, 0.5], [1.0, 1.0], 0.1, 1.5, 5), "batch_size"),
        (lambda: sgd.mode_second_moments([1.0, 0.5], [1.0, 1.0], 0.1, True, 5), "batch_size"),
        (lambda: sgd.mode_second_moments([1.0, 0.5], [1.0, 1.0], 1.0, 1, 5), "stability threshold"),
        (lambda: sgd.mode_second_moments([1.0, 0.5], [1.0, 1.0], -0.1, 1, 5), "eta"),
        (lambda: sgd.mode_second_moments([1.0, 0.5], [1.0, -1.0], 0.1, 1, 5), "p0"),
        (lambda: sgd.mode_second_moments([1.0, 0.5], [1.0], 0.1, 1, 5), "p0"),
        (lambda: sgd.mode_second_moments([1.0, 0.0], [1.0, 1.0], 0.1, 1, 5), "lam"),
        (lambda: sgd.mode_second_moments([1.0, 0.5], [1.0, 1.0], 0.1, 1, -1), "steps"),
        (lambda: sgd.mode_second_moments([1.0, 0.5], [1.0, 1.0], 0.1, 1, 5, -0.1), "label_noise"),
        (lambda: sgd.mode_second_moments([1.0, 0.5], [1.0, 1.0], 0.1, 1, 5, np.nan), "label_noise"),
        (lambda: sgd.stability_threshold([1.0], 0), "batch_size"),
        (lambda: sgd.stationary_floor([1.0], 0.7, 1, 1.0), "stability threshold"),
        (lambda: sgd.stationary_floor([1.0], 0.1, 1, -1.0), "label_noise"),
        (lambda: sgd.simulate_online([1.0], [0.0], np.ones(3), 0.1, 1, 5, 0), "c0"),
        (lambda: sgd.simulate_online([1.0], [0.0], np.ones((3, 1)), 2.5, 1, 5, 0), "eta"),
        (lambda: sgd.simulate_online([1.0], [0.0], np.ones((3, 1)), 0.1, 1, 5, 0, times=[6]), "times"),
        (lambda: sgd.simulate_online([1.0], [0.0], np.ones((3, 1)), 0.1, 1, 5, -1), "seed"),
        (lambda: sgd.dataset_second_moments(np.eye(3), np.ones(3), np.zeros(3), 0.1, 0.5, 4, 5, replace=False),
         "batch_size"),
        (lambda: sgd.dataset_second_moments(np.eye(2), np.ones(2), np.zeros(2), -np.eye(2), 0.5, 1, 5), "w0_cov"),
        (lambda: sgd.dataset_second_moments(np.eye(2), np.ones(3), np.zeros(2), 0.1, 0.5, 1, 5), "y"),
        (lambda: sgd.dataset_second_moments(np.eye(2), np.ones(2), np.zeros(2), 0.1, 4.5, 1, 5), "eta"),
        (lambda: sgd.cloud_covariance([1.0, 0.5], [1.0, 1.0], -1.0, 0.1, 1, 5), "s must"),
        (lambda: sgd.cloud_covariance([1.0, 0.5], [1.0, 1.0], 1.0, 0.1, 1, 5, n_inits=0), "n_inits"),
        (lambda: sgd.cloud_covariance([1.0, 0.5], [1.0], 1.0, 0.1, 1, 5), "b must"),
    ],
)
def test_validation(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_dataset_divergence_is_reported():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 10)) * 3
    lmax = np.linalg.eigvalsh(X.T @ X / 20)[-1]
    with pytest.raises(ValueError, match="overflowed"):
        sgd.dataset_second_moments(X, np.zeros(20), np.ones(10), 0.0, 1.9 / lmax, 1, 20000)
