"""ribbonlib.bounds: Zolotarev numbers, displacement structure and signal-width bounds."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ribbonlib import bounds, cloud, phase, spectra

PREC = 40


def mpf_list(x):
    return [mpmath.mpf(v) for v in x]


# ------------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: bounds.cross_ratio((0, 2), (1, 3)), "overlap"),
        (lambda: bounds.cross_ratio((0, 1), (1, 3)), "overlap or touch"),
        (lambda: bounds.cross_ratio((2, 1), (3, 4)), "empty"),
        (lambda: bounds.cross_ratio((0, np.inf), (3, 4)), "finite"),
        (lambda: bounds.cross_ratio((0, 1, 2), (3, 4)), "pair"),
        (lambda: bounds.cross_ratio(3.0, (3, 4)), "pair"),
        (lambda: bounds.zolotarev_bound((0, 1), (2, 3), -1), "k must be an integer >= 0"),
        (lambda: bounds.zolotarev_bound((0, 1), (2, 3), 1.5), "k must be an integer"),
        (lambda: bounds.zolotarev_number((0, 1), (2, 3), [1, -2]), "k must be an integer >= 0"),
        (lambda: bounds.zolotarev_number((0, 1), (0.5, 3), 1), "overlap"),
        (lambda: bounds.zolotarev_number((0, 1), (2, 3), 1, precision=8), "precision"),
        (lambda: bounds.zolotarev_rational(1.0, 2), "kappa"),
        (lambda: bounds.zolotarev_rational(0.5, 0), "k must be"),
        (lambda: bounds.zolotarev_discrete([1, 2], [2, 3], 2), "disjoint"),
        (lambda: bounds.zolotarev_discrete([], [2, 3], 2), "at least one"),
        (lambda: bounds.zolotarev_discrete([1], [2], -1), "kmax"),
        (lambda: bounds.displacement_singular_value_bounds([1, 0.5], 0, 3), "nu"),
        (lambda: bounds.displacement_singular_value_bounds([1, -0.5], 1, 3), "Z\\[1\\]"),
        (lambda: bounds.contraction_intervals([1.0, 0.5], 1.2), "ribbon_intervals"),
        (lambda: bounds.cayley_nodes([1.0, -0.5], 0.5), "lam"),
        (lambda: bounds.cayley_nodes([1.0, 0.5], 2.0), "eta"),
        (lambda: bounds.displacement_generators([1.0, 0.5], 0.5, 3, which="S"), "needs the ground truth"),
        (lambda: bounds.displacement_generators([1.0, 0.5], 0.5, 3, which="H"), "which"),
        (lambda: bounds.displacement_generators([1.0, 0.5], 0.5, 3, form="stein"), "form"),
        (lambda: bounds.displacement_generators([1.0, 0.5], 1.0, 3, which="G"), "lyapunov"),
        (lambda: bounds.signal_width_bounds([1.0, 0.5], [1, 1], 0.5, 3, route="fast"), "route"),
        (lambda: bounds.signal_width_bounds([1.0, 0.5], [1, 1], 0.5, -1), "steps"),
        (lambda: bounds.signal_width_bounds([1.0, 0.5], [1], 0.5, 3), "b must"),
        (lambda: bounds.chebyshev_tails([-1.0], 3), "beta"),
        (lambda: bounds.singular_values_mp(np.ones(3), precision=30), "2-D"),
        (lambda: bounds.cauchy_matrix([1.0, 2.0], [2.0]), "share"),
        (lambda: bounds.displacement_rank(np.ones((2, 3)), [1, 2], [3, 4]), "square"),
    ],
)
def test_validation(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ------------------------------------------------------------------ Zolotarev numbers


def test_cross_ratio_of_symmetric_intervals():
    for kap in (0.5, 1e-3, 1e-12):
        g = bounds.cross_ratio((kap, 1.0), (-1.0, -kap))
        assert g == pytest.approx((1 + kap) ** 2 / (4 * kap), rel=1e-14)
        assert bounds.symmetric_modulus((kap, 1.0), (-1.0, -kap)) == pytest.approx(kap, rel=1e-10)
    # order of the two intervals does not matter, and a point interval gives gamma = 1
    assert bounds.cross_ratio((2, 3), (0, 1)) == pytest.approx(bounds.cross_ratio((0, 1), (2, 3)), rel=1e-15)
    assert bounds.cross_ratio((1, 1), (2, 5)) == 1.0


def _mobius(x, coef):
    a, b, c, d = coef
    return (a * x + b) / (c * x + d)


@given(
    st.lists(st.floats(-10, 10), min_size=4, max_size=4, unique=True),
    st.tuples(st.floats(-3, 3), st.floats(-3, 3), st.floats(-3, 3), st.floats(-3, 3)),
)
def test_cross_ratio_invariant_under_moebius_maps(pts, coef):
    a, b, c, d = sorted(pts)
    if min(b - a, c - b, d - c) < 1e-3:
        return
    A, B, C, D = coef
    det = A * D - B * C
    if abs(det) < 1e-2:
        return
    with mpmath.workdps(60):
        mc = tuple(mpmath.mpf(v) for v in coef)
        ends = [mpmath.mpf(v) for v in (a, b, c, d)]
        if C != 0:
            pole = -mc[3] / mc[2]
            if any(lo - mpmath.mpf("1e-3") <= pole <= hi + mpmath.mpf("1e-3") for lo, hi in ((ends[0], ends[1]), (ends[2], ends[3]))):
                return  # the pole must not lie in (or next to) either interval
        img = [_mobius(x, mc) for x in ends]
    E2 = tuple(sorted(img[:2]))
    F2 = tuple(sorted(img[2:]))
    g1 = bounds.cross_ratio((a, b), (c, d), precision=50)
    g2 = bounds.cross_ratio(E2, F2, precision=50)
    assert abs(g1 - g2) <= mpmath.mpf(10) ** -35 * g1


@given(st.floats(1e-9, 0.999), st.integers(0, 40))
def test_exact_zolotarev_below_closed_form_and_monotone(kap, k):
    E, F = (kap, 1.0), (-1.0, -kap)
    z = bounds.zolotarev_number(E, F, [k, k + 1], precision=PREC)
    zb = bounds.zolotarev_bound(E, F, [k, k + 1], precision=PREC)
    assert z[0] <= zb[0] and z[1] <= zb[1]
    assert z[1] <= z[0] <= 1
    assert zb[1] < zb[0]
    # float64 agrees with mpmath
    zf = bounds.zolotarev_number(E, F, k)
    assert abs(zf - float(z[0])) <= 1e-11 * float(z[0]) + 1e-300


@pytest.mark.parametrize("kap", [0.5, 1e-2, 1e-6])
@pytest.mark.parametrize("k", [1, 2, 7])
def test_exact_zolotarev_equals_optimal_rational_function(kap, k):
    """The theta-function value equals sup|r|/inf|r| of Zolotarev's function, which equioscillates."""
    with mpmath.workdps(60):
        kmp = mpmath.mpf(kap)
        zeros, ext = bounds.zolotarev_rational(kmp, k, precision=60)

        def r(x):
            return mpmath.fprod([(x - p) / (x + p) for p in zeros])

        vals = [r(x) for x in ext]
        amp = max(abs(v) for v in vals)
        # equioscillation: k + 1 extrema of equal size and alternating sign
        assert all(abs(abs(v) - amp) < mpmath.mpf(10) ** -45 for v in vals)
        assert all(vals[i] * vals[i + 1] < 0 for i in range(k))
        # no point of a fine grid exceeds the extremal value
        grid = [kmp + (1 - kmp) * mpmath.mpf(i) / 400 for i in range(401)]
        assert max(abs(r(x)) for x in grid) <= amp * (1 + mpmath.mpf(10) ** -40)
        Z = bounds.zolotarev_number((kmp, 1), (-1, -kmp), k, precision=60)
        assert abs(Z - amp**2) <= mpmath.mpf(10) ** -45 * Z
    if k == 1:
        s = np.sqrt(kap)
        assert float(Z) == pytest.approx(((1 - s) / (1 + s)) ** 2, rel=1e-12)


def test_zolotarev_degenerate_point_interval():
    assert list(bounds.zolotarev_number((1.0, 1.0), (2.0, 3.0), [0, 1, 5])) == [1.0, 0.0, 0.0]


def test_zolotarev_number_moebius_invariant():
    """Z_k depends only on the cross-ratio: two configurations with equal gamma agree."""
    E, F = (0.2, 0.7), (1 / 0.7, 1 / 0.2)
    kap = bounds.symmetric_modulus(E, F, precision=50)
    z1 = bounds.zolotarev_number(E, F, [1, 3, 9], precision=50)
    with mpmath.workdps(50):  # negate at full precision (mpmath rounds to the context's)
        F2 = (-1, -kap)
    z2 = bounds.zolotarev_number((kap, 1), F2, [1, 3, 9], precision=50)
    for u, v in zip(z1, z2):
        assert abs(u - v) <= mpmath.mpf(10) ** -40 * v


# ----------------------------------------------------- Beckermann--Townsend holds


@settings(max_examples=25)
@given(st.integers(2, 9), st.floats(0.05, 0.9), st.integers(0, 2**31 - 1))
def test_bt_bound_holds_on_random_cauchy_matrices(n, gap, seed):
    """sigma_{j+k}(C) <= Z_k sigma_j(C) for C_ij = 1/(x_i - y_j), x in E, y in F (40 digits)."""
    rng = np.random.default_rng(seed)
    E, F = (gap, 1.0), (-3.0, -gap / 2)
    x = rng.uniform(*E, size=n)
    y = rng.uniform(*F, size=n)
    x[0], y[0] = E[0], F[1]  # nodes at the inner endpoints: the hardest case
    C = bounds.cauchy_matrix(x, y, precision=PREC)
    sv, allow = bounds.singular_values_mp(C, precision=PREC)
    Z = bounds.zolotarev_number(E, F, list(range(n)), precision=PREC)
    Zd = bounds.zolotarev_discrete(x, y, n - 1, precision=PREC)
    Zb = bounds.zolotarev_bound(E, F, list(range(n)), precision=PREC)
    with mpmath.workdps(PREC + 20):  # compare at full precision (mpmath rounds to the context)
        for j in range(n):
            for k in range(n - j):
                i = j + k
                for z in (Z[k], Zd[k], Zb[k]):
                    assert sv[i] - allow <= z * (sv[j] + allow)


def test_discrete_bound_reaches_zero_after_all_nodes():
    Zd = bounds.zolotarev_discrete([1.0, 2.0, 3.0], [-1.0, -2.0, -3.0], 4)
    assert Zd[0] == 1.0 and Zd[3] == 0.0 and Zd[4] == 0.0
    assert np.all(np.diff(Zd) <= 0)


def test_displacement_singular_value_bounds_indexing():
    out = bounds.displacement_singular_value_bounds([1.0, 0.5, 0.1], 2, 7, scale=3.0)
    np.testing.assert_allclose(out, 3.0 * np.array([1, 1, 0.5, 0.5, 0.1, 0.1, 0.1]))
    out = bounds.displacement_singular_value_bounds([2.0, 4.0], 1, 2)  # capped at 1
    np.testing.assert_allclose(out, [1.0, 1.0])


# ------------------------------------------------------------ displacement structure


@settings(max_examples=15)
@given(st.integers(2, 7), st.floats(0.1, 1.9), st.integers(0, 60), st.integers(0, 2**31 - 1))
def test_generators_reproduce_displacement(d, top, T, seed):
    rng = np.random.default_rng(seed)
    lam = np.sort(rng.uniform(0.01, 1.0, d))[::-1]
    lam[0] = 1.0
    eta = top  # eta*max(lam) = top in (0, 2)
    b = rng.normal(size=d)
    expected_nu = {"G": 2, "G_inf": 1, "S": 2}
    for which in ("G", "G_inf", "S"):
        forms = ("lyapunov",) if np.any(np.isclose(eta * lam, 1.0, atol=1e-12)) else ("lyapunov", "sylvester")
        for form in forms:
            X, A, B, M, N = bounds.displacement_generators(lam, eta, T, b=b, which=which, form=form, precision=PREC)
            assert M.shape == (d, expected_nu[which])
            with mpmath.workdps(PREC):
                D = np.array([[A[k] * X[k, l] - X[k, l] * B[l] for l in range(d)] for k in range(d)], dtype=object)
                R = M.dot(N.T)
                scale = max(abs(v) for v in D.ravel())
                err = max(abs(u - v) for u, v in zip(D.ravel(), R.ravel()))
            assert err <= mpmath.mpf(10) ** -(PREC - 8) * max(scale, mpmath.mpf(10) ** -300)


def test_displacement_ranks_and_signal_matrix():
    lam = spectra.power_law(10, 1.0)
    b = np.linspace(1.0, 2.0, 10)
    ranks = {}
    for which in ("G", "G_inf", "S"):
        X, A, B, M, N = bounds.displacement_generators(lam, 0.5, 40, b=b, which=which, precision=60)
        ranks[which] = bounds.displacement_rank(X, A, B, precision=60)[0]
    assert ranks == {"G": 2, "G_inf": 1, "S": 2}
    X = bounds.displacement_generators(lam, 0.5, 40, b=b, which="S", precision=60)[0]
    S = cloud.signal_covariance(lam, b, 0.5, 40, precision=60)
    assert max(abs(u - v) for u, v in zip(X.ravel(), S.ravel())) <= mpmath.mpf(10) ** -55 * abs(S[0, 0])


def test_intervals_of_the_cloud():
    lam = spectra.power_law(6, 1.0)
    E, F = bounds.contraction_intervals(lam, 0.5)
    E2, F2 = bounds.ribbon_intervals(lam, 0.5)
    assert bounds.cross_ratio(E, F) == pytest.approx(bounds.cross_ratio(E2, F2), rel=1e-12)
    # gamma = (1 - r1 r2)^2 / ((1 - r1^2)(1 - r2^2))
    r1, r2 = E
    assert bounds.cross_ratio(E, F) == pytest.approx((1 - r1 * r2) ** 2 / ((1 - r1**2) * (1 - r2**2)), rel=1e-12)
    # with precision, both frames agree to the working precision (Moebius invariance)
    g1 = bounds.cross_ratio(*bounds.contraction_intervals(lam, 0.5, precision=60), precision=60)
    g2 = bounds.cross_ratio(*bounds.ribbon_intervals(lam, 0.5, precision=60), precision=60)
    assert abs(g1 - g2) <= mpmath.mpf(10) ** -50 * g1
    # negative contraction factors are fine in the Cayley frame
    E3, F3 = bounds.ribbon_intervals(lam, 1.5)
    assert 0 < E3[0] < 1 < E3[1] and F3 == (-E3[1], -E3[0])


# ------------------------------------------------------------- signal-width bounds


@settings(max_examples=20)
@given(
    st.integers(2, 8),
    st.floats(0.05, 1.95),
    st.integers(1, 80),
    st.floats(0.3, 3.0),
    st.integers(0, 2**31 - 1),
)
def test_signal_width_bounds_hold(d, top, T, alpha, seed):
    rng = np.random.default_rng(seed)
    lam = spectra.power_law(d, alpha)
    b = rng.normal(size=d)
    eta = top
    S = cloud.signal_covariance(lam, b, eta, T, precision=PREC)
    sv, allow = bounds.singular_values_mp(S, precision=PREC)
    routes = bounds.signal_width_bounds(lam, b, eta, T, route="all", precision=PREC)
    with mpmath.workdps(PREC + 20):
        for name, bd in routes.items():
            for i in range(d):
                assert sv[i] - allow <= bd[i], (name, i)
    best = routes["best"]
    for name, bd in routes.items():
        assert all(best[i] <= bd[i] for i in range(d))
    # the float64 path agrees with the mpmath one where values are not tiny
    f = bounds.signal_width_bounds(lam, b, eta, T, route="best")
    ref = np.array([float(v) for v in best])
    big = ref > 1e-250
    np.testing.assert_allclose(f[big], ref[big], rtol=1e-6)


def test_signal_width_bounds_special_cases():
    lam = spectra.power_law(5, 1.0)
    assert np.all(bounds.signal_width_bounds(lam, np.ones(5), 0.5, 0) == 0)
    # modes with b_k = 0 add zero singular values; rank <= T
    b = np.array([1.0, 0.0, 2.0, 0.0, 1.0])
    out = bounds.signal_width_bounds(lam, b, 0.5, 30)
    assert np.all(out[3:] == 0) and np.all(out[:3] > 0)
    out = bounds.signal_width_bounds(lam, np.ones(5), 0.5, 2)
    assert np.all(out[2:] == 0)


def test_chebyshev_tails_against_direct_bessel_sums():
    betas = [0.0, 1e-6, 0.3, 2.0, 25.0, 150.0]
    mmax = 12
    tf = bounds.chebyshev_tails(betas, mmax)
    tm = bounds.chebyshev_tails(betas, mmax, precision=50)
    with mpmath.workdps(120):  # the complement cancels: evaluate the reference with 120 digits
        for i, bt in enumerate(betas):
            bmp = mpmath.mpf(bt)
            for m in (0, 3, mmax):
                if bt == 0:
                    ref = mpmath.mpf(0)
                else:
                    # complement of the finite sum: e^beta = I_0 + 2 sum_{j>=1} I_j
                    ref = 1 - mpmath.besseli(0, bmp) * mpmath.exp(-bmp) - 2 * mpmath.fsum(
                        mpmath.besseli(j, bmp) * mpmath.exp(-bmp) for j in range(1, m + 1))
                if bt <= 64 + 2 * mmax:
                    assert abs(tm[i, m] - ref) <= mpmath.mpf(10) ** -40 * max(abs(ref), mpmath.mpf(10) ** -60) + mpmath.mpf(10) ** -60
                else:
                    assert abs(tm[i, m] - ref) <= 1e-8 * abs(ref)
                assert float(tf[i, m]) == pytest.approx(float(ref), rel=1e-10, abs=1e-300)


def test_singular_values_mp_matches_numpy():
    A = np.random.default_rng(3).normal(size=(6, 4))
    sv, allow = bounds.singular_values_mp(A, precision=30)
    np.testing.assert_allclose([float(v) for v in sv], np.linalg.svd(A, compute_uv=False), rtol=1e-13)
    Ssym = A @ A.T
    ev, _ = bounds.singular_values_mp(Ssym, precision=30)
    np.testing.assert_allclose([float(v) for v in ev[:4]], np.linalg.svd(A, compute_uv=False) ** 2, rtol=1e-12)
    assert allow > 0


def test_cloud_spectrum_bounds_forwards_to_phase():
    lam = spectra.power_law(6, 1.0)
    b = np.ones(6) / np.sqrt(6)
    lo, up = bounds.cloud_spectrum_bounds(lam, b, 0.3, 0.5, 20)
    lo2, up2 = phase.cloud_spectrum_bounds(lam, b, 0.3, 0.5, 20)
    np.testing.assert_array_equal(lo, lo2)
    np.testing.assert_array_equal(up, up2)
    assert bounds.cloud_spectrum_bounds.__doc__ and "Weyl" in bounds.cloud_spectrum_bounds.__doc__
