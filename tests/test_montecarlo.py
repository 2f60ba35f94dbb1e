"""ribbonlib.montecarlo: exact sampling statistics on their whole domain.

References: exact Gaussian moments of the symbolic cloud (SymPy, Isserlis' theorem), and
exact rational quadratic forms of explicit clouds (``test_cloud.ExactCloud``: sums
over runs and steps, no closed form), on ``η λ`` in (0, 2), ``b`` with zeros,
``s >= 0``, ``d``, ``M`` and ``T`` from their smallest values; plus independent
simulated clouds.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cloud import ExactCloud, exact_problems, exact_time, fr

from ribbonlib import certify, check, cloud, montecarlo

U = cloud.UNIT_ROUNDOFF


def _gauss_expect(expr, xs, var):
    """Exact mean of a polynomial in independent N(0, var) variables (Isserlis)."""
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
    """The sample covariance of a cloud, an exact polynomial in the M*d draws."""
    d = len(lam)
    xs = sp.symbols(f"x0:{M * d}")
    pts = []
    for j in range(M):
        for t in range(T + 1):
            pts.append(
                [
                    sp.sqrt(lam[k])
                    * (
                        b[k] * (1 - (1 - eta * lam[k]) ** t)
                        + (1 - eta * lam[k]) ** t * xs[j * d + k]
                    )
                    for k in range(d)
                ]
            )
    n = len(pts)
    mean = [sum(p[k] for p in pts) / n for k in range(d)]
    C = [
        [
            sp.expand(sum((p[k] - mean[k]) * (p[l] - mean[l]) for p in pts) / n)
            for l in range(d)
        ]
        for k in range(d)
    ]
    return C, xs, s**2 / d


CASES = [
    # lam (exact squares so that sqrt is rational), b, s, eta, T, M
    (
        [sp.Integer(1), sp.Rational(1, 4), sp.Rational(1, 9)],
        [1, sp.Rational(-2, 3), sp.Rational(1, 2)],
        sp.Rational(3, 2),
        sp.Rational(1, 2),
        2,
        2,
    ),
    (
        [sp.Integer(4), sp.Rational(1, 16)],
        [sp.Rational(1, 3), 2],
        sp.Integer(1),
        sp.Rational(3, 8),
        3,
        3,
    ),
    (
        [sp.Rational(9, 4), sp.Rational(1, 25)],
        [-1, sp.Rational(1, 2)],
        sp.Rational(2, 3),
        sp.Rational(1, 2),
        4,
        1,
    ),
    (
        [sp.Rational(16, 9)],
        [sp.Rational(3, 2)],
        sp.Rational(1, 2),
        sp.Rational(3, 4),
        2,
        3,
    ),
    (
        [sp.Integer(1), sp.Rational(9, 16)],
        [sp.Rational(1, 2), -1],
        sp.Integer(2),
        sp.Rational(7, 8),
        1,
        2,
    ),
]


def _f(x):
    return [float(v) for v in x]


def vbar(lam, b, s, eta, T, M):
    """``V̄``: entry_variances' formula with ``Γ̄ = sqrt(λλ)(G + m mᵀ)``, ``Ā = |b| Γ̄``
    (the scale of the documented accuracy; float64 is plenty for a scale)."""
    lam, b = np.asarray(lam, dtype=float), np.asarray(b, dtype=float)
    G, m, _ = cloud.time_averages(lam, eta, T)
    root = np.sqrt(lam)
    g = np.outer(root, root) * G
    Gb = np.outer(root, root) * (G + np.outer(m, m))
    Ab = np.abs(b)[:, None] * Gb
    sig2 = s * s / lam.size
    V = sig2 * (Ab**2 + Ab.T**2) / M + sig2**2 * ((M - 1) * g**2 + Gb**2) / M**2
    V[np.diag_indices(lam.size)] *= 2
    return V


def same_sign(lam, eta):
    below = np.array([Fraction(float(eta)) * Fraction(float(x)) <= 1 for x in lam])
    return below[:, None] == below[None, :]


def entry_tolerance(exact, lam, b, s, eta, T, M):
    tol = montecarlo.ENTRY_ULP * U * vbar(lam, b, s, eta, T, M)
    same = same_sign(lam, eta)
    tol[same] = montecarlo.ENTRY_ULP * U * np.abs(exact[same])
    return tol


def form_tolerance(W, p, lam, b, s, eta, T, M):
    d = len(lam)
    scale = np.sum(np.abs(W) * np.sqrt(vbar(lam, b, s, eta, T, M)))
    return (montecarlo.FORM_ULP + 4 * d) * U * scale**p


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
    # the documented accuracy (module docstrings), around exact moments at the rational
    # parameters (lam, eta rounded to float64 once: relative changes of order u)
    assert np.all(
        np.abs(montecarlo.entry_variances(*args) - exact)
        <= entry_tolerance(exact, *args)
    )
    np.testing.assert_allclose(
        cloud.covariance(*args[:5], n_inits=M),
        mean,
        rtol=1e-13,
        atol=1e-13 * np.abs(mean).max(),
    )
    u = np.array([(-1) ** k * (k + 1) / 3 for k in range(d)])
    v = np.array([1 / (k + 2) for k in range(d)])
    form = sp.expand(
        sum(
            sp.nsimplify(u[k]) * C[k][l] * sp.nsimplify(v[l])
            for k in range(d)
            for l in range(d)
        )
    )
    e1 = _gauss_expect(form, xs, var)
    exact_form = float(_gauss_expect(form**2, xs, var) - e1**2)
    assert abs(montecarlo.form_variances(*args, u, v) - exact_form) <= form_tolerance(
        np.outer(u, v), 2, *args
    )
    W = np.array(
        [[(k + 1) * (l + 2) % 5 - 2 for l in range(d)] for k in range(d)], dtype=float
    )
    func = sp.expand(sum(int(W[k, l]) * C[k][l] for k in range(d) for l in range(d)))
    e1 = _gauss_expect(func, xs, var)
    dev = sp.expand(func - e1)
    m2 = _gauss_expect(dev**2, xs, var)
    assert abs(montecarlo.functional_variance(*args, W) - float(m2)) <= form_tolerance(
        W, 2, *args
    )
    if (
        M * d <= 4
    ):  # cumulants of the quadratic form against raw central moments (Isserlis)
        m3 = _gauss_expect(dev**3, xs, var)
        m4 = _gauss_expect(dev**4, xs, var)
        k = montecarlo.functional_cumulants(*args, W)
        for p, exact_k in ((2, m2), (3, m3), (4, m4 - 3 * m2**2)):
            assert abs(k[p - 2] - float(exact_k)) <= form_tolerance(W, p, *args)


lams = st.lists(st.floats(1e-6, 1.0), min_size=1, max_size=6)


@given(
    lam=lams,
    eta=st.floats(0.05, 1.9),
    T=st.integers(0, 60),
    M=st.integers(1, 50),
    s=st.floats(0.0, 3.0),
    seed=st.integers(0, 2**16),
)
def test_forms_on_unit_vectors_are_entries(lam, eta, T, M, s, seed):
    lam = np.array(lam)
    d = lam.size
    b = np.random.default_rng(seed).standard_normal(d)
    V = montecarlo.entry_variances(lam, b, s, eta, T, M)
    assert np.all(V >= 0) and np.allclose(V, V.T, rtol=1e-14, atol=0)
    eye = np.eye(d)
    for k in range(d):
        row = montecarlo.form_variances(
            lam, b, s, eta, T, M, np.repeat(eye[:, [k]], d, axis=1), eye
        )
        np.testing.assert_allclose(row, V[k], rtol=1e-12, atol=1e-300)


@settings(max_examples=40)
@given(exact_problems(max_d=3, max_T=5, max_M=4), st.integers(0, 2**16))
def test_sampling_statistics_against_exact_quadratic_forms(problem, seed):
    """eq-cloud-var, the bilinear forms, functionals and cumulants against exact
    rational moments of explicit clouds, within their documented accuracy."""
    q, b, s, eta, T, M = problem
    lam = q * q
    args = (lam, b, s, eta, T, M)
    ex = ExactCloud(q, b, s, eta, T, M)
    d = lam.size
    exact = np.array([[float(ex.entry(k, l)[1]) for l in range(d)] for k in range(d)])
    V = montecarlo.entry_variances(*args)
    assert np.all(np.abs(V - exact) <= entry_tolerance(exact, *args) + 1e-300)
    np.testing.assert_allclose(
        montecarlo.variance_scale(*args), vbar(*args), rtol=1e-12
    )
    assert np.all(montecarlo.variance_scale(*args) >= exact * (1 - 1e-12))
    rng = np.random.default_rng(seed)
    u, v = rng.standard_normal((2, d))
    W = rng.standard_normal((d, d))
    _, k2u, _, _ = ex.moments(np.outer(u, v))
    assert (
        abs(montecarlo.form_variances(*args, u, v) - float(k2u))
        <= form_tolerance(np.outer(u, v), 2, *args) + 1e-300
    )
    _, *kW = ex.moments(W)
    assert (
        abs(montecarlo.functional_variance(*args, W) - float(kW[0]))
        <= form_tolerance(W, 2, *args) + 1e-300
    )
    for p, (got, want) in enumerate(
        zip(montecarlo.functional_cumulants(*args, W), kW), start=2
    ):
        assert abs(got - float(want)) <= form_tolerance(W, p, *args) + 1e-300
    # the cloud mean: E z̄_k = sqrt(λ_k) b_k (1 − m_k), Var z̄_k = (s²/d) λ_k m_k²/M
    _, m, _ = exact_time(q, eta, T)
    want = np.array([float(ex.sig2 * fr(q[k]) ** 2 * m[k] ** 2 / M) for k in range(d)])
    np.testing.assert_allclose(
        montecarlo.mean_variances(lam, s, eta, T, M),
        want,
        rtol=(2 * cloud.TIME_ULP + 8) * U,
        atol=1e-300,
    )


@settings(max_examples=25)
@given(exact_problems(max_d=2, max_T=4, max_M=1))
def test_one_over_sqrt_m_law_exactly(problem):
    """Var Ĉ_kl = α/M + β/M² exactly, with the leading coefficient α of
    prop-cloud-variance: M² Var is a straight line in M through three exact points,
    of slope α."""
    q, b, s, eta, T, _ = problem
    d = len(q)
    G, m, _ = exact_time(q, eta, T)
    sig2 = fr(s) ** 2 / d
    for k in range(d):
        for l in range(d):
            pts = [
                (M, M * M * ExactCloud(q, b, s, eta, T, M).entry(k, l)[1])
                for M in (1, 2, 3)
            ]
            slope = pts[1][1] - pts[0][1]
            assert pts[2][1] - pts[1][1] == slope
            gam = fr(q[k]) * fr(q[l]) * (G[k][l] - m[k] * m[l])
            A_kl, A_lk = -fr(b[k]) * gam, -fr(b[l]) * gam
            g = fr(q[k]) * fr(q[l]) * G[k][l]
            alpha = (1 + (k == l)) * (sig2 * (A_kl**2 + A_lk**2) + sig2**2 * g**2)
            assert slope == alpha


def test_no_initialisation_noise_means_no_sampling_error():
    lam, b = [1.0, 0.3, 0.01], [1.0, -1.0, 0.5]
    assert np.all(montecarlo.entry_variances(lam, b, 0.0, 0.8, 20, 5) == 0)
    assert np.all(montecarlo.mean_variances(lam, 0.0, 0.8, 20, 5) == 0)


def test_monte_carlo_replicates_agree_with_exact_moments():
    lam, b, s, eta, T, M, R = (
        np.array([1.0, 0.4, 0.05]),
        np.array([0.6, -0.8, 1.0]),
        1.3,
        0.9,
        15,
        6,
        3000,
    )
    means, covs = montecarlo.replicate_moments(lam, b, s, eta, T, M, R, seed=11)
    V = montecarlo.entry_variances(lam, b, s, eta, T, M)
    expected = cloud.covariance(lam, b, s, eta, T, n_inits=M)
    # mean of R independent clouds: standard error sqrt(V/R); 5 of them
    assert np.all(np.abs(covs.mean(axis=0) - expected) <= 5 * np.sqrt(V / R))
    _, m, _ = cloud.time_averages(lam, eta, T)
    vm = montecarlo.mean_variances(lam, s, eta, T, M)
    assert np.all(
        np.abs(means.mean(axis=0) - np.sqrt(lam) * b * (1 - m)) <= 5 * np.sqrt(vm / R)
    )
    # sample variance over replicates: relative standard error sqrt((kurtosis - 1)/R)
    dev = covs - covs.mean(axis=0)
    emp = np.mean(dev**2, axis=0) * R / (R - 1)
    kurt = np.mean(dev**4, axis=0) / np.mean(dev**2, axis=0) ** 2
    assert np.all(np.abs(emp / V - 1) <= 5 * np.sqrt((kurt - 1) / R))
    np.testing.assert_allclose(
        np.var(means, axis=0, ddof=1) / vm, 1, atol=5 * np.sqrt(2 / R)
    )
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
        assert se[i] ** 2 == pytest.approx(
            montecarlo.form_variances(lam, b, 0.7, 1.0, 50, 9, vecs[:, i]), rel=1e-12
        )


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
        (
            lambda: montecarlo.entry_variances([1.0], [1.0], -1.0, 0.5, 3, 2),
            "s must be",
        ),
        (
            lambda: montecarlo.entry_variances([1.0, -1.0], [1.0, 1.0], 1.0, 0.5, 3, 2),
            "lam must be > 0",
        ),
        (
            lambda: montecarlo.entry_variances([1.0], [1.0, 2.0], 1.0, 0.5, 3, 2),
            "b must be",
        ),
        (
            lambda: montecarlo.entry_variances([1.0], [1.0], 1.0, 2.0, 3, 2),
            "to converge",
        ),
        (lambda: montecarlo.entry_variances([1.0], [1.0], 1.0, 0.5, -1, 2), "steps"),
        (
            lambda: montecarlo.form_variances(
                [1.0, 0.5], [1.0, 1.0], 1.0, 0.5, 3, 2, [1.0]
            ),
            "u must have shape",
        ),
        (
            lambda: montecarlo.form_variances(
                [1.0, 0.5], [1.0, 1.0], 1.0, 0.5, 3, 2, [1.0, 0.0], [[1.0], [0.0]]
            ),
            "same shape",
        ),
        (
            lambda: montecarlo.form_variances(
                [1.0, 0.5], [1.0, 1.0], 1.0, 0.5, 3, 2, [np.nan, 0.0]
            ),
            "finite",
        ),
        (lambda: montecarlo.mean_variances([1.0], 1.0, 0.5, 3, 1.5), "n_inits"),
        (
            lambda: montecarlo.functional_variance(
                [1.0, 0.5], [1.0, 1.0], 1.0, 0.5, 3, 2, np.eye(3)
            ),
            "weights must",
        ),
        (
            lambda: montecarlo.functional_cumulants(
                [1.0, 0.5], [1.0, 1.0], 1.0, 0.5, 3, 2, np.eye(3)
            ),
            "weights must",
        ),
        (
            lambda: montecarlo.functional_cumulants(
                [1.0], [1.0], 1.0, 0.5, 3, 2, [[np.inf]]
            ),
            "weights must be finite",
        ),
        (
            lambda: montecarlo.functional_cumulants(
                [1.0], [1.0], 1.0, 0.5, 3, 0, [[1.0]]
            ),
            "n_inits",
        ),
        (lambda: montecarlo.variance_scale([1.0], [1.0], 1.0, 0.5, 3, 0), "n_inits"),
        (
            lambda: montecarlo.replicate_moments(
                [1.0], [1.0], 1.0, 0.5, 3, 2, 0, seed=1
            ),
            "n_reps",
        ),
        (
            lambda: montecarlo.replicate_moments(
                [1.0], [1.0], 1.0, 0.5, 3, 2, 2, seed=-1
            ),
            "seed",
        ),
    ],
)
def test_validation(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ------------------------------------------------- references of chapter 3's checks


def test_gaussian_mean_gives_the_gaussian_moments():
    x, y, a = sp.symbols("x y a", real=True)
    v = sp.symbols("v", positive=True)
    assert montecarlo.gaussian_mean(x**4, [x, y], v) == 3 * v**2
    assert montecarlo.gaussian_mean(x**6 * y**2, [x, y], v) == 15 * v**4
    assert montecarlo.gaussian_mean(x**3 * y + a * x, [x, y], v) == 0
    expr = (a + x + 2 * y) ** 4
    # a + x + 2y ~ N(a, 5v): E (a + N(0, 5v))^4 = a^4 + 6 a^2 (5v) + 3 (5v)^2
    expected = a**4 + 30 * a**2 * v + 75 * v**2
    assert sp.expand(montecarlo.gaussian_mean(expr, [x, y], v) - expected) == 0


@settings(max_examples=12, deadline=None)
@given(exact_problems(max_d=2, max_T=3, max_M=2))
def test_exact_moments_equal_the_quadratic_form_moments(problem):
    """montecarlo.exact_moments (Isserlis on the expanded cloud) against ExactCloud
    (explicit quadratic forms and their cumulant identities): equal as rationals."""
    q, b, s, eta, T, M = problem
    d = len(q)
    W = np.eye(d)
    mean, var, kappa = montecarlo.exact_moments(q * q, b, s, eta, T, M, W)
    ex = ExactCloud(q, b, s, eta, T, M)
    for k in range(d):
        for l in range(d):
            e_mean, e_var, _, _ = ex.entry(k, l)
            assert mean[k, l] == e_mean and var[k, l] == e_var
    assert tuple(kappa) == ex.moments(W.tolist())[1:]


def test_exact_moments_refuses_irrational_and_large_clouds():
    with pytest.raises(ValueError, match="squares"):
        montecarlo.exact_moments([2.0], [1.0], 1.0, 0.5, 2, 1)
    with pytest.raises(ValueError, match="too large"):
        montecarlo.exact_moments([1.0, 0.25], [1.0, 1.0], 1.0, 0.5, 2, 5)


def test_mean_square_statistic_for_gaussian_functionals():
    """κ4 = 0: ν = R, and (Q/κ2)^(1/3) has mean 1 − 2/(9R), variance 2/(9R); a seeded
    simulation of χ²_R/R lands within five standard errors of that mean."""
    R = 50
    stat, mean, se = montecarlo.mean_square_statistic([1.0, 8.0], [1.0, 1.0], 0.0, R)
    assert stat.tolist() == [1.0, 2.0]
    np.testing.assert_allclose(mean, 1 - 2 / (9 * R), rtol=1e-15)
    np.testing.assert_allclose(se, np.sqrt(2 / (9 * R)), rtol=1e-15)
    rng = np.random.default_rng(7)
    Q = np.mean(rng.standard_normal((4000, R)) ** 2, axis=1)
    stat, mean, se = montecarlo.mean_square_statistic(Q, 1.0, 0.0, R)
    assert abs(stat.mean() - mean) <= 5 * se / np.sqrt(Q.size)
    assert abs(stat.std() / se - 1) <= 5 * np.sqrt(0.5 / Q.size)


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 6), st.integers(2, 40), st.integers(0, 2**16))
def test_kato_temple_intervals_contain_the_eigenvalues(d, M, seed):
    """For sampled clouds, every kept eigenvalue (mpmath, 40 digits) lies in its
    Kato–Temple interval, of half-width at most the stated remainder."""
    import mpmath

    lam = 0.3 ** np.arange(d)
    b = np.ones(d)
    _, C_hat = cloud.sample_moments(lam, b, 0.3, 1.0, 30, M, seed=seed)
    _, V, _ = montecarlo.eigen_standard_errors(lam, b, 0.3, 1.0, 30, M)
    kt = montecarlo.kato_temple(C_hat, V)
    assert kt.deviation.size == kt.bound.size == 2 * kt.index.size
    with mpmath.workdps(40):
        A = mpmath.matrix(C_hat.tolist())
        ev = sorted(mpmath.eigsy(A, eigvals_only=True), reverse=True)
        for n, i in enumerate(kt.index):
            x = mpmath.matrix(V[:, i].tolist())
            rho = (x.T * A * x)[0] / (x.T * x)[0]
            pair = kt.bound[2 * n : 2 * n + 2]
            lo, hi = (mpmath.mpf(float(certify.enclose(y).hi)) for y in pair)
            slack = mpmath.mpf(10) ** -30 * abs(ev[0])
            assert rho - lo - slack <= ev[i] <= rho + hi + slack
            assert max(lo, hi) <= kt.remainder[n]


def test_kato_temple_certifies_the_eigenvalues_of_a_large_cloud():
    """Chapter 3's use: the certified enclosures of the leading eigenvalues of a
    sampled cloud lie inside their Kato–Temple intervals (deviation <= bound)."""
    lam = 1.0 / np.arange(1, 9) ** 1.5
    b = np.ones(8) / np.sqrt(8)
    args = (lam, b, 0.5, 0.5, 200, 1000)
    _, C_hat = cloud.sample_moments(*args, seed=3)
    _, V, _ = montecarlo.eigen_standard_errors(*args)
    kt = montecarlo.kato_temple(C_hat, V)
    assert 0 in kt.index
    assert all(bool(x <= y) for x, y in zip(kt.deviation, kt.bound))


def test_replicate_moments_from_one_replicate_and_seed_zero():
    """The smallest case, ``n_reps = 1`` with ``seed = 0``: the one replicate is the
    cloud of ``cloud.sample_moments`` (streamed, merged by another route) drawn from the
    first child of ``SeedSequence(0)``."""
    args = ([1.0, 0.3, 0.05], [1.0, -1.0, 0.5], 1.2, 0.7, 12, 5)
    means, covs = montecarlo.replicate_moments(*args, 1, seed=0)
    child = np.random.SeedSequence(0).spawn(1)[0]
    mean, cov = cloud.sample_moments(*args, seed=child, chunk_entries=13 * 3 * 2)
    assert means.shape == (1, 3) and covs.shape == (1, 3, 3)
    np.testing.assert_allclose(means[0], mean, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(covs[0], cov, rtol=1e-12, atol=1e-15)


def test_mean_square_statistic_for_a_skewed_functional():
    """``F = x + (x² − 1)/2``, ``x ~ N(0, 1)``: ``κ2 = 3/2``, ``κ4 = 15`` (exact
    Gaussian moments). ``Q = (1/R) Σ F_r²`` has ``E[Q/κ2] = 1`` and
    ``Var(Q/κ2) = (E F⁴ − (E F²)²)/(R κ2²)``; matching ``χ²_ν/ν`` (variance ``2/ν``)
    gives ``ν``, and Wilson–Hilferty mean ``1 − 2/(9ν)`` and variance ``2/(9ν)``."""
    x = sp.symbols("x", real=True)
    F = x + (x**2 - 1) / 2
    m2, m4 = (montecarlo.gaussian_mean(F**p, [x], 1) for p in (2, 4))
    k2, k4 = m2, m4 - 3 * m2**2
    assert (k2, k4) == (sp.Rational(3, 2), 15)
    R = 7
    var_ratio = (m4 - m2**2) / (R * m2**2)  # Var(Q/κ2), from the raw moments
    stat, mean, se = montecarlo.mean_square_statistic(
        [0.0, 12.0, 0.375], float(k2), float(k4), R
    )
    np.testing.assert_allclose(stat, [0.0, 2.0, 0.25 ** (1 / 3)], rtol=4 * U)
    np.testing.assert_allclose(se**2, float(var_ratio / 9), rtol=16 * U)
    np.testing.assert_allclose(mean, 1 - float(var_ratio / 9), rtol=16 * U)


def test_mean_square_statistic_accepts_exactly_its_domain():
    """``κ2 > 0``, ``κ4 + 2κ2² > 0`` (``Var Q > 0``; ``κ4 >= −2κ2²`` always, with
    equality only for a degenerate ``F²``), ``Q >= 0`` and ``R >= 1``: each condition is
    checked on its own, at its boundary and on both sides of it."""
    ok = montecarlo.mean_square_statistic
    ok(0.0, 0.1, 0.0, 1)  # Q = 0, κ2 small, R = 1: all inside
    for k2 in (0.5, 2.0, 3.0):
        edge = -2 * k2 * k2
        ok(1.0, k2, edge * 0.75, 3)
        for k4 in (edge, edge * 1.25):
            with pytest.raises(ValueError, match="k4 \\+ 2 k2\\^2 > 0"):
                ok(1.0, k2, k4, 3)
    for Q, k2, k4 in ((1.0, 0.0, 1.0), (1.0, -1.0, 0.0), (-1.0, 1.0, 0.0)):
        with pytest.raises(ValueError, match="need k2 > 0"):
            ok(Q, k2, k4, 3)
    with pytest.raises(ValueError, match="n_reps"):
        ok(1.0, 1.0, 0.0, 0)


def test_kato_temple_keeps_an_eigenvalue_iff_the_margin_is_met():
    """``A = diag(3, 2, 1)`` and ``v = e₂ + ε e₁``, ``ε = 5/8``: ``ρ = 203/89``,
    ``‖r‖² = ε²/(1 + ε²)²`` and ``(3 − ρ)(ρ − 1) = (1 + 2ε²)/(1 + ε²)²``, a ratio of
    ``2 + 1/ε² = 114/25`` (exact rationals). The eigenvalue 2 is kept under the
    default margin 4 and under any margin below 114/25, dropped above it; its
    remainder is ``‖r‖²/(3 − ρ) = ε²/(1 + ε²) = 25/89``."""
    A = np.diag([3.0, 2.0, 1.0])
    V = np.eye(3)
    V[0, 1] = 0.625
    kt = montecarlo.kato_temple(A, V)
    assert kt.index.tolist() == [0, 1, 2]
    assert 25 / 89 <= kt.remainder[1] <= 25 / 89 * (1 + 1e-15)
    assert montecarlo.kato_temple(A, V, margin=4.55).index.tolist() == [0, 1, 2]
    assert montecarlo.kato_temple(A, V, margin=4.57).index.tolist() == [0, 2]
    # the default working precision is the documented 256 bits
    explicit = montecarlo.kato_temple(A, V, margin=4.0, bits=256)
    for x, y in zip(kt.deviation, explicit.deviation):
        assert x.mid() == y.mid() and x.rad() == y.rad()
    for bad in (1.0, np.ones(3), np.ones((2, 3))):
        with pytest.raises(ValueError, match="matrix must be square"):
            montecarlo.kato_temple(bad, V)


def test_exact_moments_at_the_largest_documented_steps():
    """``steps = 8`` (the documented maximum) is expanded, and ``E Ĉ`` is exact.

    For ``d = M = 1`` the points are ``sqrt(λ)(b + r^t (ξ − b))``, so the centred
    covariance is ``λ (ξ − b)² Var_t(r^t)`` and ``E Ĉ = λ (s² + b²) Var_t(r^t)``,
    evaluated here in fractions.
    """
    lam, b, s, eta = Fraction(9, 4), Fraction(1, 3), Fraction(1, 2), Fraction(1, 5)
    T = 8
    mean = montecarlo.exact_moments(lam, b, s, eta, T, 1)[0]
    r = 1 - eta * lam
    powers = [r**t for t in range(T + 1)]
    avg = sum(powers) / (T + 1)
    var_t = sum((p - avg) ** 2 for p in powers) / (T + 1)
    assert mean[0, 0] == lam * (s**2 + b**2) * var_t


def test_kato_temple_bound_is_zero_without_a_neighbour():
    """At the ends of the spectrum the absent neighbour contributes a bound of 0.

    With exact eigenvectors of a diagonal matrix every residual is 0, so both
    Kato–Temple bounds of every eigenvalue are 0 (``β = +∞`` above the largest,
    ``α = −∞`` below the smallest), and so is every remainder.
    """
    A = np.diag([3.0, 2.0, 1.0])
    kt = montecarlo.kato_temple(A, np.eye(3))
    assert kt.index.tolist() == [0, 1, 2]
    assert all(x == 0 for x in kt.bound)
    np.testing.assert_array_equal(kt.remainder, 0.0)
