"""ribbonlib.bounds: Zolotarev numbers, displacement structure and signal-width bounds.

Every statement is tested over the whole domain it claims, against references that do
not share the library's code path:

* exact rational arithmetic (the cross-ratio; the time averages summed term by term);
* Arb's elliptic integral and modular lambda function (the Zolotarev numbers), and
  explicit rational functions whose sup is enclosed by interval arithmetic;
* :mod:`ribbonlib.certify` (the plain quotient closed forms of the cloud at raised
  precision) with eigenvalue enclosures from 60-digit mpmath eigenvectors, for every
  bound on an eigenvalue or singular value: an inequality counts as checked only when
  the balls prove it, and it must never be refuted;
* mpmath's Bessel functions (the Chebyshev tails), and the mpmath path of the same
  function for its float64 path, with the round-off the library states.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from flint import arb, arb_mat, ctx
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from ribbonlib import bounds, certify, cloud, spectra

PREC = 40
U = np.finfo(float).eps / 2


# ----------------------------------------------------------------------------- domain


@st.composite
def spectra_any(draw, d_min: int = 1, d_max: int = 6):
    """Eigenvalues: power law, exponential, arbitrary (spread to 1e12), clustered."""
    d = draw(st.integers(d_min, d_max))
    kind = draw(st.sampled_from(["power", "exponential", "arbitrary", "clustered"]))
    if kind == "power":
        lam = np.arange(1, d + 1, dtype=float) ** -draw(st.floats(0.1, 3.0))
    elif kind == "exponential":
        lam = draw(st.floats(0.05, 0.99)) ** np.arange(d, dtype=float)
    elif kind == "arbitrary":
        spread = draw(st.floats(0.0, 12.0))
        x = draw(st.lists(st.floats(0.0, 1.0), min_size=d, max_size=d))
        lam = 10.0 ** (-spread * np.array(x))
    else:
        centres = 10.0 ** -np.array(
            draw(st.lists(st.floats(0.0, 12.0), min_size=1, max_size=3))
        )
        pick = draw(st.lists(st.integers(0, centres.size - 1), min_size=d, max_size=d))
        jitter = np.array(
            draw(
                st.lists(
                    st.sampled_from([0.0, 1e-12, -1e-9, 1e-6]), min_size=d, max_size=d
                )
            )
        )
        lam = centres[pick] * (1.0 + jitter)
    return lam * 10.0 ** draw(st.floats(-3.0, 3.0))


@st.composite
def ground_truths(draw, d: int):
    """Isotropic, random signs, decaying, with zeros, a single mode, or all zero."""
    kind = draw(
        st.sampled_from(["isotropic", "signs", "decaying", "zeros", "single", "none"])
    )
    scale = 10.0 ** draw(st.floats(-2.0, 2.0))
    if kind == "isotropic":
        b = np.ones(d)
    elif kind == "signs":
        b = np.array(
            draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=d, max_size=d))
        )
        b *= np.array(draw(st.lists(st.floats(0.1, 1.0), min_size=d, max_size=d)))
    elif kind == "decaying":
        b = np.array(draw(st.lists(st.floats(-1.0, 1.0), min_size=d, max_size=d)))
        b *= draw(st.floats(0.05, 1.0)) ** np.arange(d)
    elif kind == "zeros":
        b = np.array(
            draw(
                st.lists(
                    st.sampled_from([0.0, 0.0, 1.0, -0.3, 2.0]), min_size=d, max_size=d
                )
            )
        )
    elif kind == "single":
        b = np.zeros(d)
        b[draw(st.integers(0, d - 1))] = 1.0
    else:
        b = np.zeros(d)
    return b * scale


def learning_rate(draw, lam: np.ndarray) -> float:
    """``η`` with ``ηλ_max`` log-uniform in [1e-6, 1.9], exactly 1 (r = 0) or near 2."""
    kind = draw(st.sampled_from(["log", "log", "near two", "one"]))
    if kind == "one":
        eta = 1.0 / lam.max()
    elif kind == "near two":
        eta = (2.0 - 10.0 ** -draw(st.floats(1.0, 14.0))) / lam.max()
    else:
        eta = 10.0 ** draw(st.floats(-6.0, math.log10(1.9))) / lam.max()
    while eta * lam.max() >= 2.0:
        eta = math.nextafter(eta, 0.0)
    return eta


@st.composite
def problems(draw, d_max: int = 6, with_s: bool = False):
    """``(lam, b, s, eta, T)``: ``T`` from 0 to 1e6, ``s`` from 0 up."""
    lam = draw(spectra_any(1, d_max))
    b = draw(ground_truths(lam.size))
    eta = learning_rate(draw, lam)
    T = draw(st.one_of(st.integers(0, 5), st.integers(6, 200), st.integers(201, 10**6)))
    s = 0.0
    if with_s and draw(st.booleans()):
        s = 10.0 ** draw(st.floats(-6.0, 2.0))
    return lam, b, s, eta, T


@st.composite
def interval_pairs(draw):
    """Two disjoint intervals anywhere on the line (scales 1e-12..1e12, point intervals,
    either order), as float endpoints."""
    mags = draw(st.lists(st.floats(-12.0, 12.0), min_size=4, max_size=4))
    signs = draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=4, max_size=4))
    pts = sorted(s * 10.0**m for s, m in zip(signs, mags))
    if draw(st.booleans()):
        pts[1] = pts[0]
    if draw(st.booleans()):
        pts[3] = pts[2]
    assume(pts[1] < pts[2])
    E, F = (pts[0], pts[1]), (pts[2], pts[3])
    return (F, E) if draw(st.booleans()) else (E, F)


def frac(x) -> Fraction:
    """The exact value of a float or an mpmath number."""
    if isinstance(x, mpmath.mpf):
        man, exp = x.man_exp  # the modulus's mantissa
        return (1 if x >= 0 else -1) * Fraction(int(man)) * Fraction(2) ** int(exp)
    return Fraction(x)


def exact_gamma(E, F) -> Fraction:
    (a, b), (c, d) = sorted([E, F])
    a, b, c, d = (Fraction(x) for x in (a, b, c, d))
    return (c - a) * (d - b) / ((c - b) * (d - a))


# ------------------------------------------------------------------------ references


def signal_enclosure(lam, b, eta, T, bits=300, digits=60):
    """Balls of the descending eigenvalues of the exact S (certify, mpmath vectors)."""
    S, _ = certify.cloud_matrices(lam, b, eta, T, target_bits=bits)
    return certify.symmetric_eigenvalues(S, digits=digits, balls=True)


def covariance_enclosure(lam, b, s, eta, T, bits=300, digits=60):
    S, noise = certify.cloud_matrices(lam, b, eta, T, target_bits=bits)
    with ctx.workprec(4 * bits):
        C = arb_mat(S)
        s2 = certify.to_arb(s) ** 2
        for k in range(C.nrows()):
            C[k, k] = C[k, k] + s2 * noise[k]
    return certify.symmetric_eigenvalues(C, digits=digits, balls=True)


def never_refuted_and_decided(values, balls, *, upper: bool) -> int:
    """``balls <= values`` (upper) or ``values <= balls``: none refuted; # proved."""
    proved = 0
    for v, x in zip(values, balls):
        va = certify.to_arb(v)
        if upper:
            assert not (x > va), (v, x)
            proved += bool(x <= va)
        else:
            assert not (va > x), (v, x)
            proved += bool(va <= x)
    return proved


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
        (
            lambda: bounds.zolotarev_bound((0, 1), (2, 3), -1),
            "k must be an integer >= 0",
        ),
        (lambda: bounds.zolotarev_bound((0, 1), (2, 3), 1.5), "k must be an integer"),
        (
            lambda: bounds.zolotarev_number((0, 1), (2, 3), [1, -2]),
            "k must be an integer >= 0",
        ),
        (lambda: bounds.zolotarev_number((0, 1), (0.5, 3), 1), "overlap"),
        (lambda: bounds.zolotarev_number((0, 1), (2, 3), 1, precision=8), "precision"),
        (lambda: bounds.zolotarev_enclosure((0, 1), (2, 3), 1, digits=0), "digits"),
        (lambda: bounds.zolotarev_rational(1.0, 2), "kappa"),
        (lambda: bounds.zolotarev_rational(0.0, 2), "kappa"),
        (lambda: bounds.zolotarev_rational(0.5, 0), "k must be"),
        (lambda: bounds.zolotarev_discrete([1, 2], [2, 3], 2), "disjoint"),
        (lambda: bounds.zolotarev_discrete([], [2, 3], 2), "at least one"),
        (lambda: bounds.zolotarev_discrete([1], [2], -1), "kmax"),
        (lambda: bounds.displacement_singular_value_bounds([1, 0.5], 0, 3), "nu"),
        (
            lambda: bounds.displacement_singular_value_bounds([1, -0.5], 1, 3),
            "Z\\[1\\]",
        ),
        (lambda: bounds.contraction_intervals([1.0, 0.5], 1.2), "ribbon_intervals"),
        (lambda: bounds.cayley_nodes([1.0, -0.5], 0.5), "lam"),
        (lambda: bounds.cayley_nodes([1.0, 0.5], 2.0), "eta"),
        (
            lambda: bounds.displacement_generators([1.0, 0.5], 0.5, 3, which="S"),
            "needs the ground truth",
        ),
        (
            lambda: bounds.displacement_generators([1.0, 0.5], 0.5, 3, which="H"),
            "which",
        ),
        (
            lambda: bounds.displacement_generators([1.0, 0.5], 0.5, 3, form="stein"),
            "form",
        ),
        (
            lambda: bounds.displacement_generators([1.0, 0.5], 1.0, 3, which="G"),
            "lyapunov",
        ),
        (
            lambda: bounds.signal_width_bounds(
                [1.0, 0.5], [1, 1], 0.5, 3, route="fast"
            ),
            "route",
        ),
        (lambda: bounds.signal_width_bounds([1.0, 0.5], [1, 1], 0.5, -1), "steps"),
        (lambda: bounds.signal_width_bounds([1.0, 0.5], [1], 0.5, 3), "b must"),
        (lambda: bounds.signal_width_bounds([1.0, 0.5], [1, 1], 4.0, 3), "eta"),
        (
            lambda: bounds.cloud_spectrum_bounds([1.0, 0.5], [1, 1], -0.1, 0.5, 3),
            "s must",
        ),
        (lambda: bounds.cloud_spectrum_bounds([1.0, 0.0], [1, 1], 0.1, 0.5, 3), "lam"),
        (
            lambda: bounds.cloud_spectrum_bounds(
                [1.0, 0.5], [1, 1], 0.1, 0.5, 3, precision=8
            ),
            "precision",
        ),
        (lambda: bounds.chebyshev_tails([-1.0], 3), "beta"),
        (lambda: bounds.chebyshev_tails([np.inf], 3), "beta"),
        (lambda: bounds.singular_values_mp(np.ones(3), precision=30), "2-D"),
        (lambda: bounds.singular_value_enclosures(np.ones((2, 2)), digits=8), "digits"),
        (lambda: bounds.rational_sup([0.5], (1.0, 0.5)), "empty"),
        (lambda: bounds.rational_sup([0.5], (0.0, 1.0)), "0 < lo < hi"),
        (lambda: bounds.rational_sup([-0.5], (0.1, 1.0)), "zeros must be > 0"),
        (lambda: bounds.rational_sup([0.5], (0.1, 1.0), target=np.nan), "target"),
        (lambda: bounds.singular_value_enclosures(np.ones(3), digits=20), "2-D"),
        (lambda: bounds.singular_value_enclosures([[1.0, np.inf]], digits=20), "X mu"),
        (lambda: bounds.zolotarev_rtol(30, kappa=1.5), "kappa"),
        (lambda: bounds.cauchy_matrix([1.0, 2.0], [2.0]), "share"),
        (lambda: bounds.displacement_rank(np.ones((2, 3)), [1, 2], [3, 4]), "square"),
    ],
)
def test_validation(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ------------------------------------------------------------------ cross-ratio


@settings(max_examples=80)
@given(interval_pairs())
def test_cross_ratio_is_the_exact_value_correctly_rounded(pair):
    E, F = pair
    g = exact_gamma(E, F)
    try:
        ref = float(g)
    except OverflowError:
        ref = math.inf
    assert bounds.cross_ratio(E, F) == ref == bounds.cross_ratio(F, E)
    assert g >= 1 and (g == 1) == (E[0] == E[1] or F[0] == F[1])
    gm = bounds.cross_ratio(E, F, precision=30)
    assert abs(frac(gm) - g) <= Fraction(1, 10**29) * g


@given(
    st.lists(st.floats(-10, 10), min_size=4, max_size=4, unique=True),
    st.tuples(st.floats(-3, 3), st.floats(-3, 3), st.floats(-3, 3), st.floats(-3, 3)),
)
def test_cross_ratio_invariant_under_moebius_maps(pts, coef):
    a, b, c, d = sorted(pts)
    assume(min(b - a, c - b, d - c) >= 1e-3)
    A, B, C, D = coef
    assume(abs(A * D - B * C) >= 1e-2)
    with mpmath.workdps(60):
        mc = tuple(mpmath.mpf(v) for v in coef)
        ends = [mpmath.mpf(v) for v in (a, b, c, d)]
        if C != 0:
            pole = -mc[3] / mc[2]
            tol = mpmath.mpf("1e-3")
            assume(
                not any(
                    lo - tol <= pole <= hi + tol
                    for lo, hi in ((ends[0], ends[1]), (ends[2], ends[3]))
                )
            )
        img = [(mc[0] * x + mc[1]) / (mc[2] * x + mc[3]) for x in ends]
    g1 = bounds.cross_ratio((a, b), (c, d), precision=50)
    g2 = bounds.cross_ratio(
        tuple(sorted(img[:2])), tuple(sorted(img[2:])), precision=50
    )
    assert abs(g1 - g2) <= mpmath.mpf(10) ** -35 * g1


# ------------------------------------------------------------------ Zolotarev numbers


@settings(max_examples=80)
@given(interval_pairs(), st.lists(st.integers(0, 3000), min_size=1, max_size=4))
def test_zolotarev_number_agrees_with_arb_modular_lambda(pair, ks):
    """The theta product (float64 and mpmath) against Arb's K and modular lambda, to the
    accuracy zolotarev_number states."""
    assert_zolotarev_number_accurate(*pair, ks)


@settings(max_examples=40)
@given(
    st.floats(1.0, 12.0),
    st.lists(st.integers(1, 4), min_size=1, max_size=3),
    st.booleans(),
)
def test_zolotarev_number_for_nearly_touching_intervals(log_gap, ks, symmetric):
    """Gaps from 1e-1 to 1e-12 of the intervals' length (gamma from about 30 to 1e12):
    the nome of Z_1, Z_2, ... is then close to 1 (log q > -pi), where the theta product
    is evaluated through Jacobi's imaginary transformation; and a scalar k gives a
    scalar equal to the array's entry."""
    gap = 10.0**-log_gap
    E, F = ((gap, 1.0), (-1.0, -gap)) if symmetric else ((0.0, 1.0), (1.0 + gap, 2.0))
    assert_zolotarev_number_accurate(E, F, ks)
    for prec in (None, 30):
        arr = bounds.zolotarev_number(E, F, [0, *ks], precision=prec)
        for k, z in zip([0, *ks], arr):
            one = bounds.zolotarev_number(E, F, k, precision=prec)
            assert isinstance(one, float if prec is None else mpmath.mpf)
            assert one == z


def assert_zolotarev_number_accurate(E, F, ks):
    ref = bounds.zolotarev_enclosure(E, F, ks, digits=40)
    zf = bounds.zolotarev_number(E, F, ks)
    zm = bounds.zolotarev_number(E, F, ks, precision=30)
    with ctx.workprec(200):
        for y, f, m in zip(ref, zf, zm):
            assert 0 <= f <= 1 and y.lower() <= 1
            if y.is_zero():
                assert f == 0 and m == 0
                continue
            logz = abs(float(y.mid().log())) if y > 0 else math.inf
            for val, rtol, floor in (
                (f, bounds.ZOLOTAREV_FLOAT_RTOL, 1e-300),
                (m, bounds.zolotarev_rtol(30), 0),
            ):
                if y.upper() < floor:  # below the normal range: underflows towards 0
                    assert val <= 2 * floor
                    continue
                err = abs(certify.to_arb(val) - y) / y
                assert err.upper() <= rtol * (1 + logz), (E, F, val, y)


@settings(max_examples=80)
@given(interval_pairs(), st.lists(st.integers(0, 5000), min_size=1, max_size=4))
def test_zolotarev_bound_is_never_below_the_exact_number(pair, ks):
    """Certified on the whole domain of interval pairs, also where the closed form and
    the exact value agree to far below float64 (gamma -> infinity); and the value
    returned is the closed form rounded up (mpmath at 60 digits, another evaluation)."""
    E, F = pair
    exact = bounds.zolotarev_enclosure(E, F, ks, digits=40)
    with mpmath.workdps(60):
        g = mpmath.mpf(exact_gamma(E, F).numerator) / exact_gamma(E, F).denominator
        closed = [4 * mpmath.exp(-mpmath.pi**2 * k / mpmath.log(16 * g)) for k in ks]
    for prec, slack in ((None, 4 * U), (30, mpmath.mpf(10) ** -29)):
        zb = bounds.zolotarev_bound(E, F, ks, precision=prec)
        for z, y, c in zip(zb, exact, closed):
            assert y <= certify.to_arb(z)  # proved: Z_k <= the returned number
            with mpmath.workdps(60):
                assert (
                    c * (1 - mpmath.mpf(10) ** -50)
                    <= z
                    <= c * (1 + slack) + mpmath.mpf(2) ** -1074
                )


@pytest.mark.parametrize("kap", [0.5, 1e-2, 1e-6, 1e-12])
@pytest.mark.parametrize("k", [1, 2, 7])
def test_zolotarev_function_attains_the_theta_value(kap, k):
    """Zolotarev's explicit function equioscillates, its sup on [kappa, 1] (enclosed by
    interval arithmetic) equals the extremal value, and Z_k (Arb) is its square."""
    with mpmath.workdps(75):
        kmp = mpmath.mpf(kap)
        zeros, ext = bounds.zolotarev_rational(kmp, k, precision=60)

        def r(x):
            return mpmath.fprod([(x - p) / (x + p) for p in zeros])

        vals = [r(x) for x in ext]
        amp = max(abs(v) for v in vals)
        tol = mpmath.mpf(bounds.zolotarev_rtol(60, kappa=kap, k=k))
        assert all(abs(abs(v) - amp) <= tol * amp for v in vals)
        assert all(vals[i] * vals[i + 1] < 0 for i in range(k))
        goal = amp * (1 + tol)
    low, sup = bounds.rational_sup(zeros, (kmp, 1), target=goal, digits=60)
    assert low <= sup <= certify.to_arb(goal)
    Z = bounds.zolotarev_enclosure((kmp, 1), (-1, -kmp), k, digits=50)
    with ctx.workprec(300):
        # an explicit r attains it: Z_k <= sup|r|^2
        assert Z <= sup * sup * (1 + certify.to_arb(tol))
        assert abs(Z - certify.to_arb(amp) ** 2) <= 3 * tol * Z
    if k == 1:
        s = np.sqrt(kap)
        assert float(Z.mid()) == pytest.approx(((1 - s) / (1 + s)) ** 2, rel=1e-12)


@pytest.mark.parametrize("factor", ["1.3", "0.7", "1.00001"])
def test_rational_sup_sees_a_spoiled_zero(factor):
    """One zero moved (by 30% or by 1e-5) raises the sup above the equioscillation
    value: the rigorous sup refutes the claim, wherever the zero is."""
    for j in (0, 3, 7):
        with mpmath.workdps(75):
            kmp = mpmath.mpf("1e-6")
            zeros, ext = bounds.zolotarev_rational(kmp, 8, precision=60)
            amp = max(
                abs(mpmath.fprod([(x - p) / (x + p) for p in zeros])) for x in ext
            )
            spoiled = list(zeros)
            spoiled[j] = spoiled[j] * mpmath.mpf(factor)
            goal = amp * (1 + mpmath.mpf(10) ** -30)
        low, _ = bounds.rational_sup(spoiled, (kmp, 1), target=goal, digits=60)
        assert low > certify.to_arb(goal)


def test_rational_sup_encloses_a_brute_force_maximum():
    """No target: refined to the working precision, L and U agree, and a 4001-point grid
    (a lower bound on the sup, within about 1e-6 of it here) lies below U."""
    zeros = [0.9, 0.5, 0.05]
    low, sup = bounds.rational_sup(zeros, (0.01, 1.0), digits=30)
    with mpmath.workdps(30):
        lo = mpmath.mpf(0.01)  # the float 0.01, exactly
        xs = [lo + (1 - lo) * mpmath.mpf(i) / 4000 for i in range(4001)]
        brute = max(abs(mpmath.fprod([(x - p) / (x + p) for p in zeros])) for x in xs)
    with ctx.workprec(200):
        # brute carries the 30-digit round-off of mpmath
        assert certify.to_arb(brute) <= sup * (
            1 + arb(10) ** -28
        ) and low <= sup <= low * (1 + arb(10) ** -25)
    assert float(sup) <= float(brute) * (1 + 1e-5)


def test_zolotarev_degenerate_point_interval():
    assert list(bounds.zolotarev_number((1.0, 1.0), (2.0, 3.0), [0, 1, 5])) == [
        1.0,
        0.0,
        0.0,
    ]
    enc = bounds.zolotarev_enclosure((1.0, 1.0), (2.0, 3.0), [0, 1, 5])
    assert enc[0] == 1 and enc[1].is_zero() and enc[2].is_zero()


def test_zolotarev_number_moebius_invariant():
    """Z_k depends only on the cross-ratio: configurations with equal gamma agree."""
    E, F = (0.2, 0.7), (1 / 0.7, 1 / 0.2)
    kap = bounds.symmetric_modulus(E, F, precision=50)
    z1 = bounds.zolotarev_number(E, F, [1, 3, 9], precision=50)
    # negate at full precision (mpmath rounds to the context's)
    with mpmath.workdps(50):
        F2 = (-1, -kap)
    z2 = bounds.zolotarev_number((kap, 1), F2, [1, 3, 9], precision=50)
    for u, v in zip(z1, z2):
        assert abs(u - v) <= mpmath.mpf(10) ** -40 * v


# ----------------------------------------------------- Beckermann--Townsend holds


@settings(max_examples=30)
@given(
    interval_pairs(),
    st.integers(1, 7),
    st.sampled_from([1, 2]),
    st.integers(0, 2**31 - 1),
)
def test_bt_theorem_on_random_matrices_of_displacement_rank_nu(pair, n, nu, seed):
    """sigma_{j+nu k}(X) <= Z_k sigma_j(X) for X_ij = sum_l M_il N_jl/(x_i - y_j),
    nodes in E and F, with Z_k from the closed form, Arb's exact value and the greedy
    point-set bound; singular values enclosed (Jordan--Wielandt, 40 digits)."""
    E, F = pair
    rng = np.random.default_rng(seed)
    x = rng.uniform(*E, size=n) if E[0] < E[1] else np.full(n, E[0])
    y = rng.uniform(*F, size=n) if F[0] < F[1] else np.full(n, F[0])
    x[0], y[0] = E[0], F[0]  # an endpoint of each: the hardest case
    M = rng.normal(size=(n, nu))
    N = rng.normal(size=(n, nu))
    with ctx.workprec(200):
        X = arb_mat(
            [
                [
                    sum(
                        certify.to_arb(M[i, l]) * certify.to_arb(N[j, l])
                        for l in range(nu)
                    )
                    / (certify.to_arb(x[i]) - certify.to_arb(y[j]))
                    for j in range(n)
                ]
                for i in range(n)
            ]
        )
    sv = bounds.singular_value_enclosures(X, digits=40, symmetric=False)
    kmax = n
    Zs = [
        bounds.zolotarev_bound(E, F, list(range(kmax + 1))),
        [
            z.upper()
            for z in bounds.zolotarev_enclosure(E, F, list(range(kmax + 1)), digits=30)
        ],
    ]
    if len(set(x)) == n and len(set(y)) == n:
        Zs.append(bounds.zolotarev_discrete(x, y, kmax))
    with ctx.workprec(200):
        for Z in Zs:
            for j in range(n):
                for k in range(1, (n - 1 - j) // nu + 1):
                    bound = min(certify.to_arb(Z[k]), arb(1)) * sv[j]
                    assert not (sv[j + nu * k] > bound), (j, k)


def test_discrete_bound_reaches_zero_after_all_nodes():
    Zd = bounds.zolotarev_discrete([1.0, 2.0, 3.0], [-1.0, -2.0, -3.0], 4)
    assert Zd[0] == 1.0 and Zd[3] == 0.0 and Zd[4] == 0.0
    assert np.all(np.diff(Zd) <= 0)


def test_displacement_singular_value_bounds_indexing():
    out = bounds.displacement_singular_value_bounds([1.0, 0.5, 0.1], 2, 7, scale=3.0)
    np.testing.assert_allclose(out, 3.0 * np.array([1, 1, 0.5, 0.5, 0.1, 0.1, 0.1]))
    out = bounds.displacement_singular_value_bounds([2.0, 4.0], 1, 2)  # capped at 1
    np.testing.assert_allclose(out, [1.0, 1.0])


def test_singular_value_enclosures_contain_numpy_values():
    A = np.random.default_rng(3).normal(size=(6, 4))
    sv = bounds.singular_value_enclosures(A, digits=30)
    ref = np.linalg.svd(A, compute_uv=False)
    assert len(sv) == 4
    for s, r in zip(sv, ref):
        assert abs(float(s.mid()) - r) <= 1e-13 * ref[0] and s.rad() < 1e-25
    ev = bounds.singular_value_enclosures(A @ A.T, digits=30)
    assert all(
        abs(float(e.mid()) - r * r) <= 1e-12 * ref[0] ** 2 for e, r in zip(ev, ref)
    )


def test_singular_values_mp_matches_numpy():
    A = np.random.default_rng(3).normal(size=(6, 4))
    sv, allow = bounds.singular_values_mp(A, precision=30)
    np.testing.assert_allclose(
        [float(v) for v in sv], np.linalg.svd(A, compute_uv=False), rtol=1e-13
    )
    assert allow > 0


# ------------------------------------------------------------ displacement structure


def exact_time_average(x: Fraction, n: int) -> Fraction:
    """``(1/n) Σ_{t<n} x^t`` summed term by term."""
    tot, p = Fraction(0), Fraction(1)
    for _ in range(n):
        tot += p
        p *= x
    return tot / n


def reference_matrix(lam, b, eta, T, which, bits=260):
    """The matrix X of displacement_generators, independently: S from certify; G summed
    term by term in exact rationals (T <= 120) or not checked; G_inf = 1/(1 - r_k r_l)
    from the exact rates."""
    d = len(lam)
    n = T + 1
    with ctx.workprec(bits):
        u = [certify.to_arb(l).sqrt() * certify.to_arb(bb) for l, bb in zip(lam, b)]
        if which == "S":
            S, _ = certify.cloud_matrices(lam, b, eta, T, target_bits=bits - 40)
            return [[S[k, l] for l in range(d)] for k in range(d)]
        r = [1 - Fraction(eta) * Fraction(l) for l in lam]
        if which == "G":
            if T > 120:
                return None
            return [
                [
                    u[k] * u[l] * certify.to_arb(exact_time_average(r[k] * r[l], n))
                    for l in range(d)
                ]
                for k in range(d)
            ]
        return [
            [u[k] * u[l] / certify.to_arb(1 - r[k] * r[l]) for l in range(d)]
            for k in range(d)
        ]


@settings(max_examples=40)
@given(
    problems(d_max=5),
    st.sampled_from(["S", "G", "G_inf"]),
    st.sampled_from(["sylvester", "lyapunov"]),
)
def test_displacement_equations_hold_over_the_domain(p, which, form):
    """A X - X B = M N^T (mpmath path), with X checked against an independent reference
    and the identity itself evaluated in Arb from the library's A, B, M, N and the
    reference X: the displacement equations of G, G_inf and S, and centring adds no rank
    (S has the same two generators' worth of displacement as G)."""
    lam, b, _, eta, T = p
    b = np.where(b == 0, 0.5, b) if which != "S" else b
    assume(not (form == "sylvester" and np.any(eta * lam == 1.0)))
    X, A, B, M, N = bounds.displacement_generators(
        lam, eta, T, b=b, which=which, form=form, precision=PREC
    )
    assert M.shape == N.shape == (lam.size, {"G": 2, "G_inf": 1, "S": 2}[which])
    ref = reference_matrix(lam, b, eta, T, which)
    tol = arb(10) ** -(PREC - 6)
    with ctx.workprec(400):
        Xr = ref if ref is not None else [[certify.to_arb(v) for v in row] for row in X]
        for k in range(lam.size):
            for l in range(lam.size):
                if ref is not None:
                    assert (
                        abs(certify.to_arb(X[k, l]) - Xr[k][l])
                        <= tol * abs(Xr[k][l]) + arb(10) ** -300
                    )
                a_, b_ = certify.to_arb(A[k]), certify.to_arb(B[l])
                lhs = a_ * Xr[k][l] - Xr[k][l] * b_
                mn = [
                    certify.to_arb(M[k, j]) * certify.to_arb(N[l, j])
                    for j in range(M.shape[1])
                ]
                scale = (
                    abs(a_ * Xr[k][l])
                    + abs(Xr[k][l] * b_)
                    + sum((abs(v) for v in mn), arb(0))
                )
                assert abs(lhs - sum(mn, arb(0))) <= tol * scale + arb(10) ** -300


@settings(max_examples=60)
@given(
    problems(d_max=5),
    st.sampled_from(["S", "G", "G_inf"]),
    st.sampled_from(["sylvester", "lyapunov"]),
)
def test_displacement_generators_float64_path_matches_mpmath(p, which, form):
    """Every float64 output against the mpmath path, within the round-off the library
    states: cloud's TIME_ULP, COV_ULP and SCALE_ULP for X; a few ulp of
    ``max(1, |log|r||)`` for the nodes (r = sign e^L from the exact rate); for the
    generator rows W = u [1 - m, r^n - m] an absolute error of a few ulp of
    w = |u|(1 + |m| + |r^n|) (the differences cancel, |Δ r^n| <= 5u since
    n|L| e^{nL} <= 1/e), carried into M and N = W Cᵀ / q (q = a or -r) with the core's
    row sums."""
    lam, b, _, eta, T = p
    b = np.where(b == 0, 0.5, b) if which != "S" else b
    assume(not (form == "sylvester" and np.any(eta * lam == 1.0)))
    Xf, Af, Bf, Mf, Nf = bounds.displacement_generators(
        lam, eta, T, b=b, which=which, form=form
    )
    Xm, Am, Bm, Mm, Nm = bounds.displacement_generators(
        lam, eta, T, b=b, which=which, form=form, precision=PREC
    )
    G, m, _ = cloud.time_averages(lam, eta, T, precision=PREC)
    n = T + 1
    with mpmath.workdps(PREC):
        rm = [1 - mpmath.mpf(eta) * mpmath.mpf(x) for x in lam]
        rn = np.array([float(abs(x) ** n) for x in rm])
        logr = np.array([float(-mpmath.log(abs(x))) if x != 0 else 800.0 for x in rm])
    f = np.vectorize(float)
    Xm, Am, Bm, Mm, Nm, G, m = (f(x) for x in (Xm, Am, Bm, Mm, Nm, G, m))
    u = np.abs(np.sqrt(lam) * b)
    a = eta * lam
    node = 8 * U * (1 + logr) if form == "sylvester" else np.full(lam.size, 8 * U)
    if which == "S":
        tolX = (
            (cloud.COV_ULP + cloud.SCALE_ULP + 4)
            * U
            * np.outer(u, u)
            * (G + np.abs(np.outer(m, m)))
        )
        w, csum = u * (1 + np.abs(m) + rn), (1 + 2 / n) / n
    elif which == "G":
        tolX = (cloud.TIME_ULP + cloud.SCALE_ULP + 4) * U * np.abs(Xm)
        w, csum = u * (1 + rn), 1 / n
    else:
        tolX = (cloud.SCALE_ULP + 8) * U * (1 + np.add.outer(logr, logr)) * np.abs(Xm)
        w, csum = u, 1.0
    eW = (cloud.TIME_ULP + 8) * U * w
    with np.errstate(divide="ignore", over="ignore"):
        q = np.abs(Am) if form == "sylvester" else a
        tolM = eW * (1.0 if form == "sylvester" else 2.0 / a) + node * np.abs(Mm).max(
            axis=1
        )
        tolN = (eW + 4 * U * w) * csum / q + (node + 4 * U) * np.abs(Nm).max(axis=1)
    assert np.all(np.abs(Xf - Xm) <= tolX + 1e-300)
    assert np.all(np.abs(Af - Am) <= node * np.abs(Am)) and np.all(
        np.abs(Bf - Bm) <= node * np.abs(Bm)
    )
    assert np.all(np.abs(Mf - Mm) <= tolM[:, None] + 1e-300)
    assert np.all(np.abs(Nf - Nm) <= tolN[:, None] + 1e-300)


def test_displacement_ranks_and_signal_matrix():
    lam = spectra.power_law(10, 1.0)
    b = np.linspace(1.0, 2.0, 10)
    ranks = {}
    for which in ("G", "G_inf", "S"):
        X, A, B, M, N = bounds.displacement_generators(
            lam, 0.5, 40, b=b, which=which, precision=60
        )
        ranks[which] = bounds.displacement_rank(X, A, B, precision=60)[0]
    assert ranks == {"G": 2, "G_inf": 1, "S": 2}
    X = bounds.displacement_generators(lam, 0.5, 40, b=b, which="S", precision=60)[0]
    S = cloud.signal_covariance(lam, b, 0.5, 40, precision=60)
    assert max(abs(u - v) for u, v in zip(X.ravel(), S.ravel())) <= mpmath.mpf(
        10
    ) ** -55 * abs(S[0, 0])


def test_intervals_of_the_cloud():
    lam = spectra.power_law(6, 1.0)
    E, F = bounds.contraction_intervals(lam, 0.5)
    E2, F2 = bounds.ribbon_intervals(lam, 0.5)
    assert bounds.cross_ratio(E, F) == pytest.approx(
        bounds.cross_ratio(E2, F2), rel=1e-12
    )
    r1, r2 = E
    assert bounds.cross_ratio(E, F) == pytest.approx(
        (1 - r1 * r2) ** 2 / ((1 - r1**2) * (1 - r2**2)), rel=1e-12
    )
    g1 = bounds.cross_ratio(
        *bounds.contraction_intervals(lam, 0.5, precision=60), precision=60
    )
    g2 = bounds.cross_ratio(
        *bounds.ribbon_intervals(lam, 0.5, precision=60), precision=60
    )
    assert abs(g1 - g2) <= mpmath.mpf(10) ** -50 * g1
    E3, F3 = bounds.ribbon_intervals(lam, 1.5)
    assert 0 < E3[0] < 1 < E3[1] and F3 == (-E3[1], -E3[0])


# ------------------------------------------------------------- signal-width bounds


def rank_claim(b, T) -> int:
    return min(int(np.count_nonzero(b)), T)


@settings(max_examples=60)
@given(problems())
def test_signal_width_bounds_hold_for_the_exact_signal(p):
    """Every route, in float64 and at 30 digits, bounds every eigenvalue of the exact S
    (proved by enclosures, or at least never refuted where 60 digits cannot resolve it);
    zero only beyond the rank min(#{b_k != 0}, T); best is the elementwise minimum."""
    lam, b, _, eta, T = p
    ev = signal_enclosure(lam, b, eta, T)
    rank = rank_claim(b, T)
    for prec in (None, 30):
        routes = bounds.signal_width_bounds(lam, b, eta, T, route="all", precision=prec)
        assert set(routes) == set(bounds.SIGNAL_ROUTES)
        for name, bd in routes.items():
            assert len(bd) == lam.size
            assert all(bd[i] == 0 for i in range(rank, lam.size))
            never_refuted_and_decided(bd[:rank], ev[:rank], upper=True)
            assert all(routes["best"][i] <= bd[i] for i in range(lam.size))
        assert all(
            routes["zolotarev"][i] <= routes["uncentred"][i] for i in range(lam.size)
        )


@settings(max_examples=30)
@given(problems(d_max=5))
def test_signal_width_routes_are_the_stated_formulas(p):
    """Each a priori route is its formula, rounded up and no more: scale x min(1, Z_k)
    with the Frobenius norms of S, U G U and U G_inf U / n (Arb closed forms written
    here and certify's S) and Z_k of [h_min, h_max] (closed form and Arb enclosure);
    the Chebyshev route sum_k u_k^2 min(tail_k(m), cap_k)^2 with the library's tails."""
    lam, b, _, eta, T = p
    keep = [k for k in np.argsort(-lam, kind="stable") if b[k] != 0]
    assume(keep and T > 0)
    lam_k, b_k = lam[keep], b[keep]
    d, n, rank = len(keep), T + 1, min(len(keep), T)
    routes = bounds.signal_width_bounds(lam_k, b_k, eta, T, route="all")
    S, _ = certify.cloud_matrices(lam_k, b_k, eta, T, target_bits=200)
    with ctx.workprec(300):
        a = [certify.to_arb(eta) * certify.to_arb(x) for x in lam_k]
        r = [1 - x for x in a]
        u = [certify.to_arb(x).sqrt() * certify.to_arb(y) for x, y in zip(lam_k, b_k)]
        mu = [u[k] * (1 - r[k] ** n) / (n * a[k]) for k in range(d)]
        c = [[a[k] + a[l] - a[k] * a[l] for l in range(d)] for k in range(d)]
        pairs = [(k, l) for k in range(d) for l in range(d)]

        def fro_of(entry):
            return sum((entry(k, l) ** 2 for k, l in pairs), arb(0)).sqrt()

        fro = {
            "S": fro_of(lambda k, l: S[k, l]),
            "G": fro_of(lambda k, l: S[k, l] + mu[k] * mu[l]),
            "Gi": fro_of(lambda k, l: u[k] * u[l] / (n * c[k][l])),
        }
        # the Cayley interval [h_min, h_max] from the midpoints of 300-bit balls
        h_lo, h_hi = (certify.to_mpf(((2 - x) / x).mid()) for x in (a[0], a[-1]))
        point = lam_k.max() == lam_k.min()
        with mpmath.workdps(120):  # mpmath rounds a negation to the context's precision
            E, F = (h_lo, h_hi), (-h_hi, -h_lo)
        ks = list(range(d + 1))
        if point:
            Zc = Ze = [arb(1)] + [arb(0)] * d
        else:
            Zc = bounds.zolotarev_bound(E, F, ks, precision=40)
            Zc = [certify.to_arb(z) for z in Zc]
            Ze = list(bounds.zolotarev_enclosure(E, F, ks, digits=40))
        slack = 1 + arb(2) ** -40  # the routes are rounded up from ~64-bit balls
        checks = (("zolotarev_closed", Zc, 2, "S"), ("zolotarev", Ze, 2, "S"),
                  ("uncentred", Ze, 2, "G"), ("infinite", Ze, 1, "Gi"))
        for name, Z, nu, f in checks:
            for i in range(rank):
                z = Z[i // nu]
                ref = fro[f] * (z if z < 1 else arb(1))
                bd = certify.to_arb(routes[name][i])
                assert not (bd < ref / slack) and not (bd > ref * slack), (name, i)
    with mpmath.workdps(40):
        xs = [mpmath.mpf(eta) * mpmath.mpf(x) for x in lam_k]  # exact products
        betas = [-T * mpmath.log1p(-x) / 2 if x < 1 else mpmath.mpf(0) for x in xs]
        tails = bounds.chebyshev_tails(betas, d - 1, precision=30)
        for m in range(rank):
            tot = 0
            for k, x in enumerate(xs):
                cap = -mpmath.expm1(T * mpmath.log1p(-x)) / 2 if x < 1 else x / 2
                eps = min(cap, tails[k, m]) if x < 1 else cap
                tot += mpmath.mpf(lam_k[k]) * mpmath.mpf(b_k[k]) ** 2 * eps**2
            assert routes["chebyshev"][m] >= tot * (1 - 1e-12)
            assert routes["chebyshev"][m] <= tot * (1 + 1e-9)


def test_signal_width_bounds_are_tight_where_the_routes_are():
    """Rank one (T = 1, or d = 1): sigma_1 = ||S||_F and, for T = 1, the half range of
    r^t; the float64 bounds still hold (they are rounded up)."""
    for lam, b, eta, T in (
        ([2.0], [1.3], 0.37, 1),
        ([2.0, 0.5], [1.3, -0.2], 0.37, 1),
        ([1.0], [1.0], 1e-6, 10**6),
        ([1.0, 1.0], [0.6, 0.8], 1.9, 3),
    ):
        lam, b = np.array(lam), np.array(b)
        ev = signal_enclosure(lam, b, eta, T)
        for prec in (None, 30):
            bd = bounds.signal_width_bounds(lam, b, eta, T, route="all", precision=prec)
            for vals in bd.values():
                assert never_refuted_and_decided(vals[:1], ev[:1], upper=True) == 1
            with ctx.workprec(300):  # tight: the best bound is sigma_1 up to rounding
                assert certify.to_arb(bd["best"][0]) <= ev[0] * (1 + arb(2) ** -40)


@settings(max_examples=30)
@given(problems(d_max=5))
def test_loewner_order_of_the_three_matrices(p):
    """S <= U G U <= U G_inf U / n (eq-rib-loewner), from Arb closed forms written here:
    the eigenvalues interlace accordingly (proved where resolved, never refuted)."""
    lam, b, _, eta, T = p
    assume(np.count_nonzero(b) > 0 and T > 0)
    d, n = lam.size, T + 1
    S, _ = certify.cloud_matrices(lam, b, eta, T, target_bits=300)
    with ctx.workprec(600):
        a = [certify.to_arb(eta) * certify.to_arb(x) for x in lam]
        r = [1 - x for x in a]
        u = [certify.to_arb(x).sqrt() * certify.to_arb(y) for x, y in zip(lam, b)]
        mu = [u[k] * (1 - r[k] ** n) / (n * a[k]) for k in range(d)]
        UGU = arb_mat([[S[k, l] + mu[k] * mu[l] for l in range(d)] for k in range(d)])
        Ginf = arb_mat(
            [
                [u[k] * u[l] / (n * (a[k] + a[l] - a[k] * a[l])) for l in range(d)]
                for k in range(d)
            ]
        )
    e_S = certify.symmetric_eigenvalues(S, digits=60, balls=True)
    e_G = certify.symmetric_eigenvalues(UGU, digits=60, balls=True)
    e_I = certify.symmetric_eigenvalues(Ginf, digits=60, balls=True)
    with ctx.workprec(300):
        tail = certify.symmetric_eigenvalues(Ginf - UGU, digits=60, balls=True)
        assert not (tail[-1] < 0)  # the tail sum of the geometric series is PSD
        for x, y, z in zip(e_S, e_G, e_I):
            assert not (x > y) and not (y > z)


# ------------------------------------------------------------- Chebyshev tails


@settings(max_examples=25)
@given(
    st.one_of(
        st.just(0.0),
        st.floats(1e-12, 1e-3),
        st.floats(1e-3, 60.0),
        st.floats(60.0, 1e4),
    ),
    st.integers(0, 40),
)
def test_chebyshev_tails_are_upper_bounds_and_accurate(beta, mmax):
    """Against mpmath's Bessel functions at 80 digits: upward sums with the proved
    remainder (I_{j+1} <= beta I_j / (2(j+1))) for beta < 60, the complement of
    e^beta = sum_j I_j(beta) above: never below, and within the rounding of the result.
    """
    tf = bounds.chebyshev_tails([beta], mmax)[0]
    tm = bounds.chebyshev_tails([beta], mmax, precision=30)[0]
    if beta == 0.0:
        assert np.all(tf == 0) and all(v == 0 for v in tm)
        return
    with mpmath.workdps(80):
        bmp = mpmath.mpf(beta)
        if beta < 60:
            J = mmax + 150
            ive = [mpmath.besseli(j, bmp) * mpmath.exp(-bmp) for j in range(J + 1)]
            rho = bmp / (2 * (J + 1))
            rest = 2 * ive[J] * rho / (1 - rho)
            lows = [2 * mpmath.fsum(ive[m + 1 :]) for m in range(mmax + 1)]
            highs = [x + rest for x in lows]
        else:
            ive = [mpmath.besseli(j, bmp) * mpmath.exp(-bmp) for j in range(mmax + 1)]
            head = ive[0]
            lows = []
            for m in range(mmax + 1):
                lows.append(1 - head)
                if m + 1 <= mmax:
                    head += 2 * ive[m + 1]
            highs = lows
        for m in range(mmax + 1):
            low, high = lows[m] * (1 - mpmath.mpf(10) ** -60), highs[m]
            assert low <= tf[m] <= high * (1 + 8 * U) + 1e-300
            assert low <= tm[m] <= high * (1 + mpmath.mpf(10) ** -28)
    assert np.all(np.diff(tf) <= 0)
    bigger = bounds.chebyshev_tails([beta * 1.5], mmax)[0]
    assert np.all(bigger >= tf)  # tau increases with beta


# ------------------------------------------------------------- cloud spectrum


@settings(max_examples=60)
@given(problems(with_s=True))
def test_cloud_spectrum_bounds_enclose_the_exact_spectrum(p):
    """lower[m] <= mu_m(C) <= upper[m] for the exact C (float64 and 30 digits), proved
    where 60 digits resolve mu, never refuted anywhere."""
    lam, b, s, eta, T = p
    ev = covariance_enclosure(lam, b, s, eta, T)
    for prec in (None, 30):
        lo, up = bounds.cloud_spectrum_bounds(lam, b, s, eta, T, precision=prec)
        assert len(lo) == len(up) == lam.size
        assert all(x <= y for x, y in zip(lo, up))
        never_refuted_and_decided(up, ev, upper=True)
        never_refuted_and_decided(lo, ev, upper=False)


def test_cloud_spectrum_bounds_on_a_nearly_rank_one_signal():
    """A nearly rank-one signal (d = 3, T = 1e6) where the float64 forming error of C
    exceeded an allowance of 4 d u tr C: the bounds are proved for the exact spectrum."""
    lam = np.array([9.25808474e04, 3.03762639e02, 4.67847512e00])
    b = np.array([1.43887359e00, 2.01642955e-04, 3.23911978e-01])
    eta, T, s = 2.785568220013248e-11, 10**6, 1e-8
    ev = covariance_enclosure(lam, b, s, eta, T)
    lo, up = bounds.cloud_spectrum_bounds(lam, b, s, eta, T)
    assert never_refuted_and_decided(up, ev, upper=True) == 3
    assert never_refuted_and_decided(lo, ev, upper=False) >= 2


# ------------------------------------------------- nodes, moduli and Cauchy matrices


def ball_contains(ball, q: Fraction) -> bool:
    """The exact rational ``q`` lies in the ball (decided in exact rationals)."""
    if not ball.is_finite():
        return False
    mid, rad = frac(certify.to_mpf(ball.mid())), frac(certify.to_mpf(ball.rad()))
    return mid - rad <= q <= mid + rad


@settings(max_examples=60)
@given(interval_pairs())
def test_symmetric_modulus_reproduces_the_cross_ratio(pair):
    """gamma = (1 + kappa)^2 / (4 kappa) in exact rationals from the returned kappa:
    within a few ulp in float64 (kappa from the correctly rounded gamma, two square
    roots, a sum, a square and a quotient; d gamma / gamma <= d kappa / kappa), within
    1e-28 at 30 digits; kappa = 1 exactly for a point interval."""
    E, F = pair
    g = exact_gamma(E, F)
    for prec, tol in ((None, Fraction(10) * Fraction(U)), (30, Fraction(1, 10**28))):
        kap = frac(bounds.symmetric_modulus(E, F, precision=prec))
        assert 0 < kap <= 1 and (kap == 1) == (g == 1)
        assert abs((1 + kap) ** 2 / (4 * kap) - g) <= tol * g


@settings(max_examples=40)
@given(spectra_any(), st.data())
def test_cayley_nodes_are_the_exact_map(lam, data):
    """h_k = (2 - eta lam_k)/(eta lam_k) from exact rationals: at 30 digits to 1e-29,
    in float64 within the round-off of a = eta*lam, 2 - a and the quotient
    (|dh| <= 4u(1 + h)); h > 0, and h < 1 exactly when eta lam > 1."""
    eta = learning_rate(data.draw, lam)
    hf = bounds.cayley_nodes(lam, eta)
    hm = bounds.cayley_nodes(lam, eta, precision=30)
    for k, x in enumerate(lam):
        a = Fraction(eta) * Fraction(x)
        h = (2 - a) / a
        assert h > 0 and (h < 1) == (a > 1)
        assert abs(frac(hm[k]) - h) <= Fraction(1, 10**29) * h
        assert abs(Fraction(hf[k]) - h) <= 4 * Fraction(U) * (1 + h)


@settings(max_examples=30)
@given(
    st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=4),
    st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=4),
)
def test_cauchy_matrix_is_the_exact_matrix(x, y):
    """C_ij = 1/(x_i - y_j) against exact rationals: float64 within the two roundings
    (the difference and the quotient), 30 digits to 1e-29, and the ball matrices (53
    bits, or 30 digits) contain the exact entries and resolve them to that accuracy."""
    diffs = [Fraction(a) - Fraction(b) for a in x for b in y]
    assume(all(abs(v) >= Fraction(1, 10**200) for v in diffs))
    p, q = len(x), len(y)
    Cf = bounds.cauchy_matrix(x, y)
    Cm = bounds.cauchy_matrix(x, y, precision=30)
    assert isinstance(Cf, np.ndarray) and Cf.dtype == float and Cf.shape == (p, q)
    assert isinstance(Cm, np.ndarray) and Cm.shape == (p, q)
    balls = {
        53: bounds.cauchy_matrix(x, y, enclosure=True),
        100: bounds.cauchy_matrix(x, y, precision=30, enclosure=True),
    }
    for i in range(p):
        for j in range(q):
            c = 1 / (Fraction(x[i]) - Fraction(y[j]))
            two_roundings = Fraction(201, 100) * Fraction(U)
            assert abs(Fraction(Cf[i, j]) - c) <= two_roundings * abs(c)
            assert abs(frac(Cm[i, j]) - c) <= Fraction(1, 10**29) * abs(c)
            for bits, B in balls.items():
                assert ball_contains(B[i, j], c)
                assert frac(certify.to_mpf(B[i, j].rad())) <= abs(c) * Fraction(2) ** (
                    4 - bits
                )


def test_displacement_rank_counts_the_singular_values_above_the_threshold():
    """D = diag(A) X - X diag(B) with A - B = 1 and diagonal X is X itself: its singular
    values are known exactly, and those strictly above rtol * sigma_1 count (default
    rtol = 10^-(precision // 2))."""
    A, B = [1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 2.0, 3.0]
    X = np.diag([2.0, 8.0, 0.0, 4.0])
    for rtol, rank in ((0.5, 1), (0.25, 2), (0.2, 3), (None, 3)):
        got, sv = bounds.displacement_rank(X, A, B, precision=16, rtol=rtol)
        assert got == rank
        assert list(sv) == [8, 4, 2, 0]
    # default threshold at 61 digits: 10^-30, between the second and third value
    X = np.diag([1.0, 3e-30, 5e-31])
    assert bounds.displacement_rank(X, A[:3], B[:3], precision=61)[0] == 2
    assert bounds.displacement_rank(np.zeros((2, 2)), A[:2], B[:2])[0] == 0
    assert bounds.displacement_rank([[3.0]], [1.0], [-1.0])[0] == 1
    with pytest.raises(ValueError, match="length"):
        bounds.displacement_rank(X, A[:3], B[:2])
    with pytest.raises(ValueError, match="length"):
        bounds.displacement_rank(X, A[:2], B[:3])


@settings(max_examples=20)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**32 - 1), st.booleans())
def test_singular_values_mp_within_the_stated_allowance(p, q, seed, symmetric):
    """Every value lies within the returned allowance, 10 max(p, q) 10^-digits ||X||_F
    (checked against that formula in exact rationals), of the exact singular value
    (Arb enclosures of the eigenvalues +-sigma of [[0, X], [X^T, 0]] from 60-digit
    vectors); descending; symmetric matrices (indefinite ones too) and matrices
    symmetric but for one entry."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(p, q))
    if symmetric:
        X = X[:p, :p] if p <= q else X[:q, :q]
        X = X + X.T
        if X.shape[0] > 1 and seed % 2:
            X[0, 1] += 1.0  # no longer symmetric
    p, q = X.shape
    sv, allow = bounds.singular_values_mp(X, precision=30)
    assert len(sv) == min(p, q) and all(sv[i] >= sv[i + 1] for i in range(len(sv) - 1))
    fro2 = sum(Fraction(v) ** 2 for v in X.ravel())
    scale = (10 * max(p, q) * Fraction(1, 10**30)) ** 2 * fro2
    assert abs(frac(allow) ** 2 - scale) <= Fraction(1, 10**25) * scale
    with ctx.workprec(300):
        J = arb_mat(p + q, p + q)
        for i in range(p):
            for j in range(q):
                J[i, p + j] = J[p + j, i] = certify.to_arb(X[i, j])
        ev = certify.symmetric_eigenvalues(J, digits=60, balls=True)
        for s, e in zip(sv, ev):
            assert abs(certify.to_arb(s) - e) <= certify.to_arb(allow)


def test_displacement_singular_value_bounds_at_the_edges_of_its_domain():
    """n = 1, scale = 0 and Z_k = 0 are admitted; entries of Z in [1, 2) are capped."""
    out = bounds.displacement_singular_value_bounds([1.0, 1.5, 0.0], 1, 4, scale=0.5)
    assert list(out) == [0.5, 0.5, 0.0, 0.0]
    out = bounds.displacement_singular_value_bounds([1.0], 2, 1, scale=0.0)
    assert list(out) == [0.0]


def test_contraction_intervals_need_every_rate_below_one():
    """eta lam_max >= 1 is refused also when eta < 1 < lam_max, and at eta lam_max = 1
    exactly (r = 0, 1/r infinite); just below it the intervals are those of r."""
    with pytest.raises(ValueError, match="ribbon_intervals"):
        bounds.contraction_intervals([4.0, 1.0], 0.3)
    with pytest.raises(ValueError, match="ribbon_intervals"):
        bounds.contraction_intervals([2.0, 1.0], 0.5)
    eta = math.nextafter(0.5, 0.0)
    E, F = bounds.contraction_intervals([2.0, 1.0], eta)
    assert E == (1.0 - 2.0 * eta, 1.0 - eta) and F == (1 / E[1], 1 / E[0])


@settings(max_examples=30)
@given(problems(d_max=5))
def test_signal_width_bounds_float64_is_the_30_digit_bound_rounded_up(p):
    """Both paths evaluate the same formulas from balls of >= 64 bits and round up, the
    float64 split route through its own float64 minimum (one step up per operation):
    every route agrees with the 30-digit one to 1e-12, and discrete is min(tr S,
    tr U G_inf U / n) at i = 0 (no zero placed yet; traces from certify's S)."""
    lam, b, _, eta, T = p
    rf = bounds.signal_width_bounds(lam, b, eta, T, route="all")
    rm = bounds.signal_width_bounds(lam, b, eta, T, route="all", precision=30)
    for name in bounds.SIGNAL_ROUTES:
        for x, y in zip(rf[name], rm[name]):
            assert abs(frac(x) - frac(y)) <= Fraction(1, 10**12) * frac(y) + Fraction(
                2
            ) ** -1070, name
    if T == 0 or not np.any(b):
        return
    S, _ = certify.cloud_matrices(lam, b, eta, T, target_bits=120)
    n = T + 1
    with ctx.workprec(200):
        trS = sum((S[k, k] for k in range(lam.size)), arb(0))
        a = [certify.to_arb(eta) * certify.to_arb(x) for x in lam]
        # (U G_inf U / n)_kk = lam_k b_k^2 / (n (1 - r_k^2)), 1 - r^2 = a (2 - a)
        trG = sum(
            (
                certify.to_arb(x) * certify.to_arb(y) ** 2 / (n * ak * (2 - ak))
                for x, y, ak in zip(lam, b, a)
            ),
            arb(0),
        )
        ref = trS if trS < trG else trG
        d0 = certify.to_arb(rm["discrete"][0])
        assert not (d0 < ref) and not (d0 > ref * (1 + arb(2) ** -40))


@settings(max_examples=30)
@given(problems(d_max=5, with_s=True))
# a rank-one signal and noise below the eigenvector resolution: the noise decides
@example(p=(np.array([1.0, 0.5, 0.25, 0.125]), np.full(4, 10.0), 1e-8, 0.5, 1))
def test_cloud_spectrum_bounds_meet_each_stated_fact(p):
    """The three facts the bounds combine, each checked on the result with ingredients
    computed here: lower[m] >= the m-th largest noise variance s^2 lam_k G_kk / d
    (certify's noise), upper[m] <= tr C and <= sigma_i(S) + n_(j) for i + j - 1 = m
    (signal_width_bounds), and the eigenvector enclosures resolve every eigenvalue to
    about d u ||C||: upper - lower <= 16 d u tr C in float64."""
    lam, b, s, eta, T = p
    d = lam.size
    lo, up = bounds.cloud_spectrum_bounds(lam, b, s, eta, T)
    sig = bounds.signal_width_bounds(lam, b, eta, T)
    S, noise = certify.cloud_matrices(lam, b, eta, T, target_bits=120)
    with ctx.workprec(300):
        s2 = certify.to_arb(s) ** 2
        nv = sorted((s2 * x for x in noise), key=lambda x: x.mid(), reverse=True)
        trace = sum((S[k, k] + s2 * noise[k] for k in range(d)), arb(0))
        ulp = arb(2) ** -52  # the results are rounded outward to float64
        for m in range(d):
            assert not (certify.to_arb(lo[m]) < nv[m].lower() * (1 - ulp))
            assert not (certify.to_arb(up[m]) > trace.upper() * (1 + ulp))
            for i in range(m + 1):
                weyl = certify.to_arb(sig[i]) + nv[m - i].upper()
                assert not (certify.to_arb(up[m]) > weyl * (1 + arb(2) ** -50))
            width = certify.to_arb(up[m]) - certify.to_arb(lo[m])
            assert not (width > 16 * d * U * trace.upper() + arb(2) ** -1070)


def test_zolotarev_rtol_is_its_stated_formula():
    """The stated accuracy, ``10^(2 − precision)`` (and, with ``kappa``,
    ``10 k (10^-(precision + 15)/κ² + 10^-precision)``), against the formula in exact
    fractions, to two ulps: a tolerance of this size, not a larger one."""
    for prec in (16, 30, 60):
        got = Fraction(bounds.zolotarev_rtol(prec))
        ref = Fraction(1, 10 ** (prec - 2))
        assert abs(got - ref) <= 4 * Fraction(U) * ref
        for kap, k in ((0.5, 1), (1e-3, 4)):
            got = Fraction(bounds.zolotarev_rtol(prec, kappa=kap, k=k))
            ref = 10 * k * (
                Fraction(1, 10 ** (prec + 15)) / Fraction(kap) ** 2
                + Fraction(1, 10**prec)
            )
            assert abs(got - ref) <= 16 * Fraction(U) * ref


def test_zolotarev_enclosure_where_gamma_is_not_resolved():
    """E = [1, 1 + 2^-52], F = −E: ``1 − 1/γ ≈ 1.2e-32`` is below what ``digits = 1``
    resolves, so the balls fall back to ``Z_k ∈ [0, 1]``; that of ``Z_0`` must still
    contain 1 (the constant function)."""
    E = (1.0, 1.0 + 2.0**-52)
    F = (-E[1], -E[0])
    Z = bounds.zolotarev_enclosure(E, F, [0, 1, 2], digits=1)
    assert Z[0].contains(1)
    assert Z[1].contains(0) and Z[1].contains(1)  # [0, 1]: not resolved


def test_zolotarev_discrete_never_exceeds_z0():
    """E = {0, 1}, F = {1/2, 10}: the first greedy factor puts a zero at 0 and a pole at
    1/2, whose product bound is ``2 · 19/20 > 1``; ``Z_1 <= Z_0 = 1`` (a constant
    function is of every type), so the returned bounds stay 1 and non-increasing."""
    got = bounds.zolotarev_discrete([0.0, 1.0], [0.5, 10.0], 1)
    assert got[0] == 1.0 and got[1] == 1.0
    got = bounds.zolotarev_discrete([0.0, 1.0], [0.5, 10.0], 1, precision=30)
    assert got[0] == 1 and got[1] == 1


def test_displacement_generators_g_inf_with_rates_of_both_signs():
    """``η = 1``, ``λ = (3/2, 1/2)``: ``r = (−1/2, 1/2)``, so ``G_∞`` has the entries
    ``1/(1 − r_k r_l)`` = 4/3 on the diagonal and 4/5 off it (exact fractions), where
    ``1 − r_k r_l = 1 + |r_k r_l|`` has no cancellation: a few ulps, in both forms."""
    lam = np.array([1.5, 0.5])
    r = [1 - Fraction(x) for x in lam]
    ref = [[1 / (1 - x * y) for y in r] for x in r]
    assert ref == [[Fraction(4, 3), Fraction(4, 5)], [Fraction(4, 5), Fraction(4, 3)]]
    for form in ("sylvester", "lyapunov"):
        X = bounds.displacement_generators(lam, 1.0, 5, which="G_inf", form=form)[0]
        for k in range(2):
            for l in range(2):
                err = abs(Fraction(X[k, l]) - ref[k][l])
                assert err <= 16 * Fraction(U) * ref[k][l]


def test_cayley_nodes_take_a_high_precision_eta_as_it_is():
    """An mpmath ``η`` carrying more digits than a double (1/10 at 60 digits) is used
    as it is: ``h = (2 − ηλ)/(ηλ)`` at 50 digits against the formula at 80 digits from
    the same ``η`` (the double nearest 1/10 would be off by ~1e-17)."""
    with mpmath.workdps(60):
        eta = mpmath.mpf(1) / 10
    h = bounds.cayley_nodes([1.0, 0.25], eta, precision=50)
    with mpmath.workdps(80):
        for got, x in zip(h, (1.0, 0.25)):
            ref = (2 - eta * x) / (eta * x)
            assert abs(got - ref) <= mpmath.mpf(10) ** -48 * ref


def test_approx_eigenvectors_take_arb_solver_vectors_for_simple_eigenvalues():
    """Distinct eigenvalues (2, 1, −1 of a rotated diagonal matrix): the vectors are
    Arb's, as the docstring states (exact ``arb`` midpoints, mpmath's ``eigsy`` being
    kept for nearly dependent vectors), orthonormal to ``2^-(bits − 16)`` and
    eigenvectors to that accuracy (residual checked in ball arithmetic)."""
    bits = 128
    Q = np.array([[2.0, -1.0, 2.0], [2.0, 2.0, -1.0], [-1.0, 2.0, 2.0]]) / 3.0
    J = arb_mat((Q @ np.diag([2.0, 1.0, -1.0]) @ Q.T).tolist())
    V = bounds._approx_eigenvectors(J, bits)
    assert all(isinstance(v, arb) and v.is_exact() for v in V.ravel())
    with ctx.workprec(2 * bits):
        Vm = arb_mat(V.tolist())
        F = Vm.transpose() * Vm
        G = Vm.transpose() * J * Vm
        tol = arb(2) ** -(bits - 16)
        for i in range(3):
            for j in range(3):
                assert abs(F[i, j] - (1 if i == j else 0)) < tol
                if i != j:
                    assert abs(G[i, j]) < 8 * tol


def test_outward_ends_of_an_unbounded_ball():
    """A ball of infinite radius has the ends ``−inf`` (lower) and ``+inf`` (upper),
    at a precision in digits as in float64."""
    whole = arb(0, math.inf)
    assert bounds._down(whole, 30) == -mpmath.inf
    assert bounds._up(whole, 30) == mpmath.inf
    assert bounds._down(whole, None) == -math.inf
    assert bounds._up(whole, None) == math.inf


def test_rational_sup_with_a_target_just_below_the_sup():
    """A target 1e-12 below the sup (enclosed without a target first): the claim
    ``sup <= target`` is false, so the result is either refuted (``U = 1``) or an
    upper bound ``U`` that is at least the sup, never below it. The sup of the
    mean-value form needs the half-width of a piece, not less."""
    zeros = [0.9, 0.5, 0.05]
    low, sup = bounds.rational_sup(zeros, (0.01, 1.0), digits=30)
    with ctx.workprec(200):
        goal = low * (1 - arb(10) ** -12)
        low2, up2 = bounds.rational_sup(zeros, (0.01, 1.0), target=goal, digits=30)
        assert low2 <= low
        assert up2 == 1 or up2 >= low


def test_displacement_generators_keep_the_digits_of_an_mpmath_b():
    """``b`` given as 60-digit mpmath numbers: ``X = U G_∞ U`` at 40 digits agrees
    with ``u_k u_l / (1 − r_k r_l)``, ``u = sqrt(λ) b``, evaluated in mpmath at 60
    digits, to 1e-35 relative (``b`` is not rounded to float64 on the way)."""
    lam, eta = [0.5, 1.5], 0.3
    with mpmath.workdps(60):
        b = np.array([mpmath.mpf(1) / 3, mpmath.mpf(2) / 7], dtype=object)
    X = bounds.displacement_generators(lam, eta, 3, b=b, which="G_inf", precision=40)[0]
    with mpmath.workdps(60):
        r = [1 - mpmath.mpf(eta) * v for v in lam]
        u = [mpmath.sqrt(v) * bk for v, bk in zip(lam, b)]
        for k in range(2):
            for j in range(2):
                ref = u[k] * u[j] / (1 - r[k] * r[j])
                assert abs(X[k, j] - ref) <= mpmath.mpf(10) ** -35 * ref


def test_zolotarev_rtol_default_degree_is_one():
    """``k`` defaults to 1 (the signature): omitting it gives the ``k = 1`` formula
    ``10 (10^-(precision + 15)/κ² + 10^-precision)``."""
    for prec, kap in ((16, 0.5), (30, 1e-3)):
        ref = 10 * (Fraction(1, 10 ** (prec + 15)) / Fraction(kap) ** 2
                    + Fraction(1, 10**prec))
        got = Fraction(bounds.zolotarev_rtol(prec, kappa=kap))
        assert abs(got - ref) <= 16 * Fraction(U) * ref
