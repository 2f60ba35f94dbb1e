"""ribbonlib.spectra, .dynamics and .cloud: closed forms against independent computations."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from ribbonlib import cloud, dynamics, spectra


def f64(x) -> np.ndarray:
    return np.array(x, dtype=float)


# --------------------------------------------------------------------------- spectra


def test_spectra_families():
    np.testing.assert_allclose(spectra.power_law(4, 2.0, scale=3.0), 3.0 / np.array([1, 4, 9, 16]), rtol=1e-15)
    np.testing.assert_allclose(spectra.exponential(4, 0.5), [1, 0.5, 0.25, 0.125], rtol=0)
    assert np.all(spectra.power_law(5, 0.0) == 1.0)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: spectra.power_law(0, 1.0), "d must be"),
        (lambda: spectra.power_law(3, -1.0), "alpha"),
        (lambda: spectra.power_law(3, 1.0, scale=0.0), "scale"),
        (lambda: spectra.power_law(10, 1e4), "underflow"),
        (lambda: spectra.exponential(3, 1.0), "q must be in"),
        (lambda: spectra.exponential(3, np.nan), "q must be finite"),
        (lambda: spectra.of_data(np.ones(3)), "2-D"),
        (lambda: spectra.of_data([[1.0, np.inf]]), "finite"),
    ],
)
def test_spectra_validation(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("N,d", [(50, 6), (3, 7)])
def test_of_data_matches_eigh(N, d):
    X = np.random.default_rng(0).standard_normal((N, d)) * np.linspace(3, 0.1, d)
    lam, V = spectra.of_data(X)
    Sigma = X.T @ X / N
    ref = np.sort(np.linalg.eigvalsh(Sigma))[::-1]
    np.testing.assert_allclose(lam, np.clip(ref, 0, None), atol=1e-13 * ref[0])
    np.testing.assert_allclose(V.T @ V, np.eye(d), atol=1e-13)
    np.testing.assert_allclose(Sigma @ V, V * lam, atol=1e-12 * ref[0])
    assert np.all(np.diff(lam) <= 0) and np.all(lam[min(N, d):] == 0)


@pytest.mark.parametrize("N,d", [(50, 6), (3, 7), (9, 9)])
def test_of_data_columns_have_a_positive_largest_entry(N, d):
    """The documented sign convention of ``of_data``: in every column of ``V`` the
    entry of largest modulus is positive (checked column by column on the result)."""
    X = np.random.default_rng(N + d).standard_normal((N, d))
    _, V = spectra.of_data(X)
    for k in range(d):
        col = V[:, k]
        assert col[np.argmax(np.abs(col))] > 0, k


def underflows(exact, ulps):
    """Whether ``exact`` rounds to 0 even when computed ``ulps`` roundings off: it
    lies below half the smallest subnormal by more than that relative error."""
    return exact * (1 + ulps * mpmath.mpf(2) ** -52) < mpmath.mpf(2) ** -1075


def near_underflow(exact, ulps):
    """Whether a computed value within ``ulps`` roundings of ``exact`` may or may not
    round to 0 (the function may then refuse or not)."""
    return exact * (1 - ulps * mpmath.mpf(2) ** -52) <= mpmath.mpf(2) ** -1075


@given(st.integers(1, 2000), st.floats(0.0, 60.0), st.floats(-100.0, 100.0))
def test_power_law_within_its_stated_accuracy(d, alpha, log_scale):
    """``scale·k^(−alpha)`` within ``u (3 + 3 alpha log k)`` relative (mpmath reference)."""
    scale = 10.0**log_scale
    smallest = mpmath.mpf(scale) * mpmath.mpf(d) ** (-mpmath.mpf(alpha))
    if underflows(smallest, 2 + 3 * alpha * np.log(d)):
        with pytest.raises(ValueError, match="underflow"):
            spectra.power_law(d, alpha, scale)
        return
    assume(not near_underflow(smallest, 2 + 3 * alpha * np.log(d)))
    lam = spectra.power_law(d, alpha, scale)
    k = np.unique(np.geomspace(1, d, 30).astype(int))
    with mpmath.workdps(40):
        for kk in k:
            exact = mpmath.mpf(scale) * mpmath.mpf(int(kk)) ** (-mpmath.mpf(alpha))
            if exact < 2.0**-1022:
                continue
            bound = 2.0**-53 * (3 + 3 * alpha * np.log(kk))
            assert abs(mpmath.mpf(lam[kk - 1]) / exact - 1) <= bound
    assert np.all(np.diff(lam) <= 0)


@pytest.mark.parametrize("d, alpha, scale", [(20, 250.0, 1e100), (40, 200.0, 1e300)])
def test_power_law_keeps_accuracy_where_k_to_the_minus_alpha_is_subnormal(
    d, alpha, scale
):
    """``k^(−alpha)`` below ``2^-1022`` (or underflowing to 0) while
    ``scale·k^(−alpha)`` is normal: each eigenvalue is still within
    ``u (3 + 3 alpha log k)`` relative of ``scale·k^(−alpha)`` evaluated in mpmath at
    40 digits."""
    lam = spectra.power_law(d, alpha, scale)
    with mpmath.workdps(40):
        lost = 0
        for kk in range(1, d + 1):
            exact = mpmath.mpf(scale) * mpmath.mpf(kk) ** (-mpmath.mpf(alpha))
            assert exact >= 2.0**-1022
            lost += float(mpmath.mpf(kk) ** (-mpmath.mpf(alpha))) < 2.0**-1022
            bound = 2.0**-53 * (3 + 3 * alpha * np.log(kk))
            assert abs(mpmath.mpf(lam[kk - 1]) / exact - 1) <= bound, kk
        assert lost >= 3  # the case is exercised
    assert np.all(np.diff(lam) < 0)


@given(st.integers(1, 2000), st.floats(1e-3, 1.0, exclude_max=True), st.floats(-100.0, 100.0))
@example(103, 1e-3, 0.0)  # smallest eigenvalue 1e-306: normal, not refused
@example(130, 1e-3, 100.0)  # q^(d-1) subnormal, the eigenvalue 1e-287 normal
def test_exponential_within_its_stated_accuracy(d, q, log_scale):
    """``scale·q^(k−1)`` within ``3u`` relative (mpmath reference)."""
    scale = 10.0**log_scale
    smallest = mpmath.mpf(scale) * mpmath.mpf(q) ** (d - 1)
    if underflows(smallest, 3):
        with pytest.raises(ValueError, match="underflow"):
            spectra.exponential(d, q, scale)
        return
    assume(not near_underflow(smallest, 3))
    lam = spectra.exponential(d, q, scale)
    with mpmath.workdps(40):
        for kk in np.unique(np.geomspace(1, d, 30).astype(int)):
            exact = mpmath.mpf(scale) * mpmath.mpf(q) ** int(kk - 1)
            if exact >= 2.0**-1022:
                assert abs(mpmath.mpf(lam[kk - 1]) / exact - 1) <= 3 * 2.0**-53


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: spectra.power_law(2.5, 1.0), "d must be an integer >= 1"),
        (lambda: spectra.power_law(True, 1.0), "d must be an integer >= 1"),
        (lambda: spectra.power_law(3, np.inf), "alpha must be finite"),
        (lambda: spectra.power_law(3, 1.0, scale=-1.0), "scale must be in"),
        (lambda: spectra.exponential(0, 0.5), "d must be an integer >= 1"),
        (lambda: spectra.exponential(3, 0.0), "q must be in"),
        (lambda: spectra.exponential(3, 0.5, scale=np.nan), "scale must be finite"),
        (lambda: spectra.exponential(3, 0.5, scale=0.0), r"scale must be in \(0"),
        (lambda: spectra.power_law(3, 1.0, scale=0.0), r"scale must be in \(0"),
        (lambda: spectra.exponential(2000, 1e-300), "underflow"),
        (lambda: spectra.of_data(np.zeros((0, 3))), "X must be a non-empty 2-D array"),
    ],
)
def test_spectra_name_the_bad_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# -------------------------------------------------------------------------- dynamics


def iterate_modes(lam, b, c0, eta, T):
    out = [np.array(c0, dtype=float)]
    for _ in range(T):
        c = out[-1]
        out.append(c - eta * lam * (c - b))
    return np.array(out)


@given(st.integers(0, 10_000), st.integers(1, 8), st.integers(0, 60), st.floats(0.01, 1.99))
def test_gd_modes_equals_iteration(seed, d, T, eta_frac):
    rng = np.random.default_rng(seed)
    lam = np.exp(rng.uniform(-6, 0, d))
    b, c0 = rng.standard_normal(d), rng.standard_normal(d)
    eta = eta_frac / lam.max()
    closed = dynamics.gd_modes(lam, b, c0, eta, T)
    np.testing.assert_allclose(closed, iterate_modes(lam, b, c0, eta, T), rtol=1e-11, atol=1e-11)


def test_gd_modes_special_rates_and_batches():
    lam = np.array([1.0, 0.5, 1.5])  # eta = 1: r = 0, 0.5, -0.5
    b, c0 = np.array([1.0, 2.0, 3.0]), np.zeros(3)
    out = dynamics.gd_modes(lam, b, c0, 1.0, 3)
    np.testing.assert_allclose(out[0], c0)
    np.testing.assert_allclose(out[1], [1.0, 1.0, 4.5])
    np.testing.assert_allclose(out, iterate_modes(lam, b, c0, 1.0, 3), rtol=1e-15)
    many = dynamics.gd_modes(lam, b, np.stack([c0, b]), 1.0, 3)
    assert many.shape == (2, 4, 3) and np.allclose(many[1], b)


def test_gd_modes_tiny_rates_keep_relative_accuracy():
    lam = np.array([1e-14])
    out = dynamics.gd_modes(lam, [1.0], [0.0], 1.0, 10**6)
    with mpmath.workdps(40):
        r = 1 - mpmath.mpf(1e-14)
        exact = float(1 - r ** 10**6)
    assert abs(out[-1, 0] - exact) <= 4 * np.finfo(float).eps * exact


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(lam=[1.0, -1.0]), "lam must be > 0"),
        (dict(lam=[1.0, np.nan]), "finite"),
        (dict(b=[1.0]), "b must be"),
        (dict(c0=np.zeros((2, 3))), "c0 must have shape"),
        (dict(eta=2.0), "to converge"),
        (dict(eta=0.0), "eta must be in"),
        (dict(steps=-1), "steps must be"),
    ],
)
def test_gd_modes_validation(kwargs, match):
    args = dict(lam=[1.0, 0.5], b=[1.0, 1.0], c0=[0.0, 0.0], eta=0.5, steps=3) | kwargs
    with pytest.raises(ValueError, match=match):
        dynamics.gd_modes(**args)


def linear_problem(seed=0, N=30, d=5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d)) * np.linspace(2, 0.3, d)
    w_star = rng.standard_normal(d)
    return X, X @ w_star, w_star, 0.1 * rng.standard_normal(d)


def test_run_gd_agrees_with_closed_form_and_loss():
    X, y, w_star, w0 = linear_problem()
    lam, V = spectra.of_data(X)
    eta = 1.5 / lam[0]
    W = dynamics.run_gd(X, y, w0, eta, 80)
    modes = dynamics.gd_modes(lam, V.T @ w_star, V.T @ w0, eta, 80)
    np.testing.assert_allclose(W @ V, modes, atol=1e-13)
    loss = np.sum((W @ X.T - y) ** 2, axis=1) / (2 * X.shape[0])
    np.testing.assert_allclose(dynamics.gd_loss(lam, V.T @ w_star, V.T @ w0, eta, 80), loss,
                               rtol=1e-9, atol=1e-28)
    # run_gd takes λ_1 from the largest singular value of X, which may differ from the
    # eigenvalue of XᵀX/N in the last bits: step a relative 1e-12 beyond 2/λ_1.
    with pytest.raises(ValueError, match="to converge"):
        dynamics.run_gd(X, y, w0, 2.0 / lam[0] * (1 + 1e-12), 5)


def test_run_sgd_full_batch_is_gd_and_seeded():
    X, y, _, w0 = linear_problem(1)
    N = X.shape[0]
    eta = 0.5 / spectra.of_data(X)[0][0]
    full = dynamics.run_sgd(X, y, w0, eta, 40, N, seed=0, replace=False)
    np.testing.assert_allclose(full, dynamics.run_gd(X, y, w0, eta, 40), rtol=1e-12, atol=1e-14)
    a = dynamics.run_sgd(X, y, w0, eta, 40, 3, seed=7)
    assert np.array_equal(a, dynamics.run_sgd(X, y, w0, eta, 40, 3, seed=7))
    assert not np.array_equal(a, dynamics.run_sgd(X, y, w0, eta, 40, 3, seed=8))


def test_run_sgd_divergence_and_validation():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((50, 2))
    X[0] *= 300.0  # one huge sample: stable on average, multiplies w by ~ -95 when drawn alone
    y = X @ np.ones(2)
    eta = 1.9 / spectra.of_data(X)[0][0]
    with pytest.raises(ValueError, match="SGD diverged"):
        dynamics.run_sgd(X, y, np.zeros(2), eta, 20_000, 1, seed=0)
    with pytest.raises(ValueError, match="batch_size"):
        dynamics.run_sgd(X, y, np.zeros(2), 1e-4, 3, 0, seed=0)
    with pytest.raises(ValueError, match="batch_size must be in"):
        dynamics.run_sgd(X, y, np.zeros(2), 1e-4, 3, 201, seed=0, replace=False)
    with pytest.raises(ValueError, match="seed"):
        dynamics.run_sgd(X, y, np.zeros(2), 1e-4, 3, 2, seed=-1)


def test_run_sgd_default_draws_with_replacement():
    """Two samples, batches of two: without replacement every batch is the full set
    and SGD is gradient descent; with replacement (the default) a batch repeats a
    sample half of the time and the run leaves the gradient-descent path, also with
    a batch larger than the data set. Zero steps return the start."""
    X = np.array([[1.0, 0.0], [0.5, 1.0]])
    y, w0 = np.array([1.0, -1.0]), np.zeros(2)
    eta = 0.5 / spectra.of_data(X)[0][0]
    gd = dynamics.run_gd(X, y, w0, eta, 20)
    without = dynamics.run_sgd(X, y, w0, eta, 20, 2, seed=3, replace=False)
    np.testing.assert_allclose(without, gd, rtol=1e-14, atol=1e-15)
    default = dynamics.run_sgd(X, y, w0, eta, 20, 2, seed=3)
    assert np.array_equal(default, dynamics.run_sgd(X, y, w0, eta, 20, 2, 3, replace=True))
    assert np.max(np.abs(default - gd)) > 1e-3
    assert dynamics.run_sgd(X, y, w0, eta, 20, 5, seed=3).shape == (21, 2)
    for run in (
        dynamics.run_sgd(X, y, w0, eta, 0, 1, seed=0),
        dynamics.run_gd(X, y, w0, eta, 0),
    ):
        assert np.array_equal(run, w0[None, :])
    F0 = dynamics.run_kernel_gd(X @ X.T, y, X @ w0, eta, 0)
    assert np.array_equal(F0, (X @ w0)[None, :])


def test_every_trajectory_holds_at_most_max_entries_numbers(monkeypatch):
    """The size guard refuses exactly the results of more than ``MAX_ENTRIES``
    numbers: at the limit a result is made, one step more is refused (the limit is
    lowered to 12 for the test)."""
    from ribbonlib import _validate

    monkeypatch.setattr(_validate, "MAX_ENTRIES", 12)
    monkeypatch.setattr(cloud, "MAX_ENTRIES", 12)
    lam, b, X = np.array([1.0, 0.5]), np.array([1.0, -1.0]), np.eye(2)
    y, w0, C0 = np.ones(2), np.zeros(2), np.zeros((2, 2))
    calls = [  # (function of T, T at the limit): d (T + 1) or M d (T + 1) = 12
        (lambda T: dynamics.gd_modes(lam, b, w0, 0.5, T), 5),
        (lambda T: dynamics.gd_modes(lam, b, C0, 0.5, T), 2),
        (lambda T: dynamics.gd_loss(lam, b, C0, 0.5, T), 2),
        (lambda T: dynamics.gd_modes_error_bound(lam, b, w0, 0.5, T), 5),
        (lambda T: dynamics.gd_loss_error_bound(lam, b, C0, 0.5, T), 2),
        (lambda T: dynamics.run_gd(X, y, w0, 0.5, T), 5),
        (lambda T: dynamics.run_sgd(X, y, w0, 0.5, T, 1, seed=0), 5),
        (lambda T: dynamics.run_kernel_gd(X, y, w0, 0.5, T), 5),
        (lambda T: dynamics.run_kernel_gd(X, y, C0, 0.5, T), 2),
        (lambda T: cloud.sample(lam, b, 1.0, 0.5, T, 2, seed=0), 2),
    ]
    for call, T in calls:
        call(T)
        with pytest.raises(ValueError, match="12"):
            call(T + 1)


def test_run_kernel_gd_with_linear_kernel_is_gd_on_predictions():
    X, y, _, w0 = linear_problem(3)
    K = X @ X.T
    eta = 1.2 / spectra.of_data(X)[0][0]
    F = dynamics.run_kernel_gd(K, y, X @ w0, eta, 50)
    np.testing.assert_allclose(F, dynamics.run_gd(X, y, w0, eta, 50) @ X.T, rtol=1e-10, atol=1e-12)
    batch = dynamics.run_kernel_gd(K, y, np.stack([X @ w0, y, 0 * y]), eta, 50)
    assert batch.shape == (3, 51, X.shape[0])
    np.testing.assert_allclose(batch[0], F, rtol=1e-12, atol=1e-13)
    assert np.allclose(batch[1], y)
    with pytest.raises(ValueError, match="f0 must have shape"):
        dynamics.run_kernel_gd(K, y, np.zeros((2, 3, X.shape[0])), eta, 5)


@pytest.mark.parametrize(
    "K,match",
    [
        (np.ones((2, 3)), "square"),
        (np.array([[1.0, 0.5], [0.0, 1.0]]), "symmetric"),
        (np.array([[1.0, 2.0], [2.0, 1.0]]), "positive semi-definite"),
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), "finite"),
    ],
)
def test_run_kernel_gd_validation(K, match):
    with pytest.raises(ValueError, match=match):
        dynamics.run_kernel_gd(K, np.zeros(K.shape[0]), np.zeros(K.shape[0]), 0.1, 2)


def _gd_data():
    X, y, _, w0 = linear_problem(4)
    return X, y, w0, 0.5 / spectra.of_data(X)[0][0]


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda X, y, w0, eta: dynamics.run_gd(X[:, 0], y, w0, eta, 3), "X must be a non-empty 2-D array"),
        (lambda X, y, w0, eta: dynamics.run_gd(X, y[:-1], w0, eta, 3), "y must be a 1-D array of length"),
        (lambda X, y, w0, eta: dynamics.run_gd(X, y, w0[:-1], eta, 3), "w0 must be a 1-D array of length"),
        (lambda X, y, w0, eta: dynamics.run_gd(X, y, w0 * np.nan, eta, 3), "w0 must be finite"),
        (lambda X, y, w0, eta: dynamics.run_gd(X, y, w0, -eta, 3), r"eta must be in \(0"),
        (lambda X, y, w0, eta: dynamics.run_gd(X, y, w0, 5 * eta, 3), "eta must satisfy"),
        (lambda X, y, w0, eta: dynamics.run_gd(X, y, w0, eta, -2), "steps must be an integer >= 0"),
        (lambda X, y, w0, eta: dynamics.run_sgd(X, y, w0, 5 * eta, 3, 2, 0), "eta must satisfy"),
        (lambda X, y, w0, eta: dynamics.run_sgd(X, y, w0, eta, 3, 2, 1.5), "seed must be an integer >= 0"),
        (lambda X, y, w0, eta: dynamics.run_sgd(X, y[:-1], w0, eta, 3, 2, 0), "y must be a 1-D array"),
        (lambda X, y, w0, eta: dynamics.run_kernel_gd(X @ X.T, y[:-1], y, eta, 3), "y must be a 1-D array"),
        (lambda X, y, w0, eta: dynamics.run_kernel_gd(X @ X.T, y, y * np.inf, eta, 3), "f0 must be finite"),
        (lambda X, y, w0, eta: dynamics.run_kernel_gd(X @ X.T, y, y, 0.0, 3), r"eta must be in \(0"),
        (lambda X, y, w0, eta: dynamics.run_kernel_gd(X @ X.T, y, y, 5 * eta, 3), "eta must satisfy"),
        (lambda X, y, w0, eta: dynamics.run_kernel_gd(X @ X.T, y, y, eta, -1), "steps must be an integer"),
    ],
)
def test_iterations_name_the_bad_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call(*_gd_data())


def test_step_count_guard():
    with pytest.raises(ValueError, match="numbers"):
        dynamics.gd_modes(np.ones(1000), np.ones(1000), np.zeros((1000, 1000)), 0.5, 1000)


# ----------------------------------------------------------------------------- cloud


def brute_force_time_averages(lam, eta, T):
    """Explicit sums over t = 0..T in 50-digit arithmetic."""
    with mpmath.workdps(50):
        r = [1 - mpmath.mpf(eta) * mpmath.mpf(x) for x in lam]
        n = T + 1
        m = [sum(x**t for t in range(n)) / n for x in r]
        G = [[sum((x * y) ** t for t in range(n)) / n for y in r] for x in r]
        C = [[G[k][l] - m[k] * m[l] for l in range(len(r))] for k in range(len(r))]
        return f64(G), f64(m), f64(C)


@pytest.mark.parametrize("T", [0, 1, 2, 7, 40])
def test_time_averages_against_explicit_sums(T):
    lam = np.array([1.0, 0.7, 0.3, 1e-3, 1e-9])
    G, m, C = cloud.time_averages(lam, 1.6, T)  # r from -0.6 to ~1
    Gb, mb, Cb = brute_force_time_averages(lam, 1.6, T)
    np.testing.assert_allclose(G, Gb, rtol=1e-14)
    np.testing.assert_allclose(m, mb, rtol=1e-14)
    np.testing.assert_allclose(C, Cb, rtol=1e-12, atol=1e-300)


@given(st.integers(0, 10_000), st.integers(1, 10), st.integers(0, 2_000_000), st.floats(0.05, 1.99))
def test_time_covariance_componentwise_against_mpmath(seed, d, T, eta):
    rng = np.random.default_rng(seed)
    lam = np.exp(rng.uniform(np.log(1e-12), 0, d))
    lam[0] = 1.0
    G, m, C = cloud.time_averages(lam, eta, T)
    Gm, mm, Cm = (f64(x) for x in cloud.time_averages(lam, eta, T, precision=30))
    np.testing.assert_allclose(G, Gm, rtol=1e-14)
    np.testing.assert_allclose(m, mm, rtol=1e-14)
    np.testing.assert_allclose(C, Cm, rtol=5e-14, atol=0)


def test_covariance_parts_structure():
    lam = spectra.power_law(12, 1.3)
    b = np.linspace(1, -1, 12)
    S = cloud.signal_covariance(lam, b, 0.7, 5)
    assert np.allclose(S, S.T) and np.linalg.matrix_rank(S, tol=1e-12 * np.abs(S).max()) <= 5
    assert np.linalg.eigvalsh(S).min() >= -1e-15 * np.abs(S).max()
    n = cloud.noise_variances(lam, 0.5, 0.7, 5)
    np.testing.assert_allclose(cloud.covariance(lam, b, 0.5, 0.7, 5), S + np.diag(n), rtol=0, atol=0)
    assert np.all(cloud.signal_covariance(lam, b, 0.7, 0) == 0)
    assert np.all(cloud.noise_variances(lam, 0.0, 0.7, 5) == 0)
    Gd = np.diag(cloud.time_averages(lam, 0.7, 5)[0])
    np.testing.assert_allclose(n, 0.25 / 12 * lam * Gd, rtol=1e-15)


def test_covariance_high_precision_agrees_with_float():
    lam = spectra.exponential(6, 0.1)
    b = np.ones(6)
    C64 = cloud.covariance(lam, b, 1.0, 1.0, 30, n_inits=10)
    Cmp = cloud.covariance(lam, b, 1.0, 1.0, 30, n_inits=10, precision=50)
    assert Cmp.dtype == object and isinstance(Cmp[0, 0], mpmath.mpf)
    np.testing.assert_allclose(C64, f64(Cmp), rtol=1e-13, atol=1e-16 * np.abs(C64).max())


def test_sample_is_iterated_cloud_and_moments_stream():
    lam, b = spectra.power_law(5, 1.0), np.ones(5)
    Z = cloud.sample(lam, b, 2.0, 0.9, 7, 30, seed=4)
    assert Z.shape == (30 * 8, 5)
    runs = Z.reshape(30, 8, 5) / np.sqrt(lam)
    for j in (0, 29):
        np.testing.assert_allclose(runs[j], dynamics.gd_modes(lam, b, runs[j, 0], 0.9, 7), rtol=1e-13, atol=1e-14)
    mean, cov = cloud.sample_moments(lam, b, 2.0, 0.9, 7, 30, seed=4, chunk_entries=8 * 5 * 4)
    np.testing.assert_allclose(mean, Z.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(cov, np.cov(Z.T, bias=True), rtol=1e-12, atol=1e-15)
    assert np.array_equal(Z, cloud.sample(lam, b, 2.0, 0.9, 7, 30, seed=4))


def test_finite_cloud_expectation_by_exact_average_over_initialisations():
    # With M = 2 initialisations the expected sample covariance is a quadratic form
    # in the Gaussian draws; average it exactly over a symmetric quadrature of the
    # draws instead of sampling: every xi coordinate takes the values +-sqrt(3)*s/sqrt(d)
    # and 0 with weights 1/6, 1/6, 2/3 (exact for polynomials of degree <= 5).
    lam, b, s, eta, T = np.array([1.0, 0.3]), np.array([0.5, -1.0]), 0.8, 0.6, 4
    d, M = 2, 2
    nodes = np.array([-np.sqrt(3), 0.0, np.sqrt(3)]) * s / np.sqrt(d)
    weights = np.array([1, 4, 1]) / 6
    expected = np.zeros((d, d))
    grids = np.meshgrid(*([np.arange(3)] * (M * d)), indexing="ij")
    for idx in zip(*(g.ravel() for g in grids)):
        xi = nodes[list(idx)].reshape(M, d)
        wgt = np.prod(weights[list(idx)])
        Z = np.concatenate([np.sqrt(lam) * dynamics.gd_modes(lam, b, x, eta, T) for x in xi])
        expected += wgt * np.cov(Z.T, bias=True)
    np.testing.assert_allclose(cloud.covariance(lam, b, s, eta, T, n_inits=M), expected, rtol=1e-12)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: cloud.covariance([1.0], [1.0, 2.0], 1.0, 0.5, 3), "b must be"),
        (lambda: cloud.covariance([1.0], [1.0], -1.0, 0.5, 3), "s must be"),
        (lambda: cloud.covariance([1.0], [1.0], 1.0, 0.5, 3, n_inits=0), "n_inits"),
        (lambda: cloud.covariance([1.0], [1.0], 1.0, 0.5, 3, precision=5), "precision"),
        (lambda: cloud.signal_covariance([0.0], [1.0], 0.5, 3), "lam must be > 0"),
        (lambda: cloud.signal_covariance([1.0], [1.0], 2.5, 3), "to converge"),
        (lambda: cloud.sample([1.0], [1.0], 1.0, 0.5, 10**6, 10**4, seed=0), "sample_moments"),
        (lambda: cloud.sample_moments([1.0], [1.0], 1.0, 0.5, 10, 3, seed=0, chunk_entries=2), "chunk_entries"),
    ],
)
def test_cloud_validation(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_scaled_replaces_exactly_the_subnormal_entries_when_c_exceeds_one():
    """``spectra._scaled(c, base, exact)`` is ``c·base``, except that for ``c > 1`` the
    entries with a subnormal ``base`` are ``exact(i)`` rounded once: checked with an
    ``exact`` that returns a recognisably different value, at the smallest normal
    ``base`` (kept), a subnormal one (replaced), and ``c`` = 1 (kept, as documented),
    1.5 and 3 (replaced)."""
    tiny = np.finfo(float).tiny
    sub = 2.0**-1060
    marker = [mpmath.mpf(1), mpmath.mpf(2)]

    def exact(i):
        return marker[i]

    for c in (1.5, 3.0):
        out = spectra._scaled(c, np.array([tiny, sub]), exact)
        assert out[0] == c * tiny and out[1] == 2.0, (c, out)
    out = spectra._scaled(1.0, np.array([tiny, sub]), exact)
    assert out[0] == tiny and out[1] == sub
