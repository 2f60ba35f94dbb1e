"""ribbonlib.montecarlo: exact sampling variances against exact Gaussian moments and sampling."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from ribbonlib import cloud, montecarlo


def _gauss_expect(expr, xs, var):
    """Exact expectation of a polynomial in independent N(0, var) variables (Isserlis)."""
    total = sp.Integer(0)
    for mon, coef in sp.Poly(sp.expand(expr), *xs).terms():
        term = coef
        for p in mon:
            if p % 2:
                term = 0
                break
            term *= sp.factorial2(p - 1) * var ** (p // 2)
        total += term
    return total


def _symbolic_cloud_cov(lam, b, s, eta, T, M):
    """The sample covariance of a cloud as an exact polynomial in the M*d Gaussian draws."""
    d = len(lam)
    xs = sp.symbols(f"x0:{M * d}")
    pts = []
    for j in range(M):
        for t in range(T + 1):
            pts.append([sp.sqrt(lam[k]) * (b[k] * (1 - (1 - eta * lam[k]) ** t)
                                            + (1 - eta * lam[k]) ** t * xs[j * d + k]) for k in range(d)])
    n = len(pts)
    mean = [sum(p[k] for p in pts) / n for k in range(d)]
    C = [[sp.expand(sum((p[k] - mean[k]) * (p[l] - mean[l]) for p in pts) / n) for l in range(d)]
         for k in range(d)]
    return C, xs, s**2 / d


CASES = [
    # lam (exact squares so that sqrt is rational), b, s, eta, T, M
    ([sp.Integer(1), sp.Rational(1, 4), sp.Rational(1, 9)], [1, sp.Rational(-2, 3), sp.Rational(1, 2)],
     sp.Rational(3, 2), sp.Rational(1, 2), 2, 2),
    ([sp.Integer(4), sp.Rational(1, 16)], [sp.Rational(1, 3), 2], sp.Integer(1), sp.Rational(3, 8), 3, 3),
    ([sp.Rational(9, 4), sp.Rational(1, 25)], [-1, sp.Rational(1, 2)], sp.Rational(2, 3), sp.Rational(1, 2), 4, 1),
]


def _f(x):
    return [float(v) for v in x]


@pytest.mark.parametrize("lam, b, s, eta, T, M", CASES)
def test_variances_equal_exact_gaussian_moments(lam, b, s, eta, T, M):
    C, xs, var = _symbolic_cloud_cov(lam, b, s, eta, T, M)
    d = len(lam)
    exact = np.empty((d, d))
    mean = np.empty((d, d))
    for k in range(d):
        for l in range(d):
            e1 = _gauss_expect(C[k][l], xs, var)
            mean[k, l] = float(e1)
            exact[k, l] = float(_gauss_expect(C[k][l] ** 2, xs, var) - e1**2)
    args = (_f(lam), _f(b), float(s), float(eta), T, M)
    np.testing.assert_allclose(montecarlo.entry_variances(*args), exact, rtol=1e-13)
    np.testing.assert_allclose(cloud.covariance(*args[:5], n_inits=M), mean, rtol=1e-13, atol=1e-16)
    u = np.array([(-1) ** k * (k + 1) / 3 for k in range(d)])
    v = np.array([1 / (k + 2) for k in range(d)])
    form = sp.expand(sum(sp.nsimplify(u[k]) * C[k][l] * sp.nsimplify(v[l]) for k in range(d) for l in range(d)))
    e1 = _gauss_expect(form, xs, var)
    exact_form = float(_gauss_expect(form**2, xs, var) - e1**2)
    assert montecarlo.form_variances(*args, u, v) == pytest.approx(exact_form, rel=1e-13)
    W = np.array([[(k + 1) * (l + 2) % 5 - 2 for l in range(d)] for k in range(d)], dtype=float)
    func = sp.expand(sum(int(W[k, l]) * C[k][l] for k in range(d) for l in range(d)))
    e1 = _gauss_expect(func, xs, var)
    exact_func = float(_gauss_expect(func**2, xs, var) - e1**2)
    assert montecarlo.functional_variance(*args, W) == pytest.approx(exact_func, rel=1e-13)


lams = st.lists(st.floats(1e-6, 1.0), min_size=1, max_size=6)


@given(lam=lams, eta=st.floats(0.05, 1.9), T=st.integers(0, 60), M=st.integers(1, 50),
       s=st.floats(0.0, 3.0), seed=st.integers(0, 2**16))
def test_forms_on_unit_vectors_are_entries(lam, eta, T, M, s, seed):
    lam = np.array(lam)
    d = lam.size
    b = np.random.default_rng(seed).standard_normal(d)
    V = montecarlo.entry_variances(lam, b, s, eta, T, M)
    assert np.all(V >= 0) and np.allclose(V, V.T, rtol=1e-14, atol=0)
    eye = np.eye(d)
    for k in range(d):
        row = montecarlo.form_variances(lam, b, s, eta, T, M, np.repeat(eye[:, [k]], d, axis=1), eye)
        np.testing.assert_allclose(row, V[k], rtol=1e-12, atol=1e-300)


@given(lam=lams, eta=st.floats(0.05, 1.9), T=st.integers(1, 40), s=st.floats(0.1, 3.0),
       seed=st.integers(0, 2**16))
def test_variance_is_exactly_a_over_m_plus_c_over_m_squared(lam, eta, T, s, seed):
    lam = np.array(lam)
    rng = np.random.default_rng(seed)
    b = rng.standard_normal(lam.size)
    u, v = rng.standard_normal((2, lam.size))
    Ms = np.array([2, 7, 40])
    var = np.array([montecarlo.form_variances(lam, b, s, eta, T, M, u, v) for M in Ms])
    # M Var = alpha + beta/M: three points on one straight line in 1/M
    slope1 = (Ms[0] * var[0] - Ms[1] * var[1]) / (1 / Ms[0] - 1 / Ms[1])
    slope2 = (Ms[1] * var[1] - Ms[2] * var[2]) / (1 / Ms[1] - 1 / Ms[2])
    assert slope1 == pytest.approx(slope2, rel=1e-7, abs=1e-12 * Ms[0] * var[0])
    assert montecarlo.form_variances(lam, b, s, eta, T, 5, u, v) == pytest.approx(
        montecarlo.form_variances(lam, b, s, eta, T, 5, v, u), rel=1e-13)
    assert montecarlo.functional_variance(lam, b, s, eta, T, 5, np.outer(u, v)) == pytest.approx(
        montecarlo.form_variances(lam, b, s, eta, T, 5, u, v), rel=1e-10)


def test_no_initialisation_noise_means_no_sampling_error():
    lam, b = [1.0, 0.3, 0.01], [1.0, -1.0, 0.5]
    assert np.all(montecarlo.entry_variances(lam, b, 0.0, 0.8, 20, 5) == 0)
    assert np.all(montecarlo.mean_variances(lam, 0.0, 0.8, 20, 5) == 0)


def test_monte_carlo_replicates_agree_with_exact_moments():
    lam, b, s, eta, T, M, R = np.array([1.0, 0.4, 0.05]), np.array([0.6, -0.8, 1.0]), 1.3, 0.9, 15, 6, 3000
    means, covs = montecarlo.replicate_moments(lam, b, s, eta, T, M, R, seed=11)
    V = montecarlo.entry_variances(lam, b, s, eta, T, M)
    expected = cloud.covariance(lam, b, s, eta, T, n_inits=M)
    # mean of R independent clouds: standard error sqrt(V/R); 5 of them
    assert np.all(np.abs(covs.mean(axis=0) - expected) <= 5 * np.sqrt(V / R))
    _, m, _ = cloud.time_averages(lam, eta, T)
    vm = montecarlo.mean_variances(lam, s, eta, T, M)
    assert np.all(np.abs(means.mean(axis=0) - np.sqrt(lam) * b * (1 - m)) <= 5 * np.sqrt(vm / R))
    # sample variance over replicates: relative standard error sqrt((kurtosis - 1)/R)
    dev = covs - covs.mean(axis=0)
    emp = np.mean(dev**2, axis=0) * R / (R - 1)
    kurt = np.mean(dev**4, axis=0) / np.mean(dev**2, axis=0) ** 2
    assert np.all(np.abs(emp / V - 1) <= 5 * np.sqrt((kurt - 1) / R))
    np.testing.assert_allclose(np.var(means, axis=0, ddof=1) / vm, 1, atol=5 * np.sqrt(2 / R))
    tr = np.trace(covs, axis1=1, axis2=2)
    v_tr = montecarlo.functional_variance(lam, b, s, eta, T, M, np.eye(3))
    k_tr = np.mean((tr - tr.mean()) ** 4) / np.var(tr) ** 2
    assert abs(np.var(tr, ddof=1) / v_tr - 1) <= 5 * np.sqrt((k_tr - 1) / R)


def test_eigen_standard_errors_are_forms_along_eigenvectors():
    lam, b = np.array([1.0, 0.2, 0.03, 0.004]), np.array([1.0, 0.5, -0.5, 0.2])
    mu, vecs, se = montecarlo.eigen_standard_errors(lam, b, 0.7, 1.0, 50, 9)
    C = cloud.covariance(lam, b, 0.7, 1.0, 50, n_inits=9)
    np.testing.assert_allclose(C @ vecs, vecs * mu, atol=1e-14 * mu[0])
    assert np.all(np.diff(mu) <= 0)
    for i in range(4):
        assert se[i] ** 2 == pytest.approx(montecarlo.form_variances(lam, b, 0.7, 1.0, 50, 9, vecs[:, i]), rel=1e-12)


def test_replicates_are_reproducible_and_independent():
    args = ([1.0, 0.1], [1.0, 1.0], 1.0, 0.5, 5, 3)
    m1, c1 = montecarlo.replicate_moments(*args, 4, seed=2)
    m2, c2 = montecarlo.replicate_moments(*args, 4, seed=2)
    assert np.array_equal(c1, c2) and np.array_equal(m1, m2)
    assert len({tuple(row) for row in m1}) == 4


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: montecarlo.entry_variances([1.0], [1.0], 1.0, 0.5, 3, 0), "n_inits"),
        (lambda: montecarlo.entry_variances([1.0], [1.0], -1.0, 0.5, 3, 2), "s must be"),
        (lambda: montecarlo.entry_variances([1.0, -1.0], [1.0, 1.0], 1.0, 0.5, 3, 2), "lam must be > 0"),
        (lambda: montecarlo.entry_variances([1.0], [1.0, 2.0], 1.0, 0.5, 3, 2), "b must be"),
        (lambda: montecarlo.entry_variances([1.0], [1.0], 1.0, 2.0, 3, 2), "to converge"),
        (lambda: montecarlo.entry_variances([1.0], [1.0], 1.0, 0.5, -1, 2), "steps"),
        (lambda: montecarlo.form_variances([1.0, 0.5], [1.0, 1.0], 1.0, 0.5, 3, 2, [1.0]), "u must have shape"),
        (lambda: montecarlo.form_variances([1.0, 0.5], [1.0, 1.0], 1.0, 0.5, 3, 2, [1.0, 0.0], [[1.0], [0.0]]),
         "same shape"),
        (lambda: montecarlo.form_variances([1.0, 0.5], [1.0, 1.0], 1.0, 0.5, 3, 2, [np.nan, 0.0]), "finite"),
        (lambda: montecarlo.mean_variances([1.0], 1.0, 0.5, 3, 1.5), "n_inits"),
        (lambda: montecarlo.functional_variance([1.0, 0.5], [1.0, 1.0], 1.0, 0.5, 3, 2, np.eye(3)), "weights must"),
        (lambda: montecarlo.replicate_moments([1.0], [1.0], 1.0, 0.5, 3, 2, 0, seed=1), "n_reps"),
        (lambda: montecarlo.replicate_moments([1.0], [1.0], 1.0, 0.5, 3, 2, 2, seed=-1), "seed"),
    ],
)
def test_validation(call, match):
    with pytest.raises(ValueError, match=match):
        call()
