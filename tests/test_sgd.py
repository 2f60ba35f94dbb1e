"""ribbonlib.sgd: chapter 7's statements on their domain, by independent references.

References, never the code path under test:

* exact rationals: Gaussian expectations of degree-4 polynomials from a five-point
  law with the Gaussian moments up to order four (prop-sgd-fourth, prop-sgd-recursion);
  exact enumeration of mini-batches of a small data set (prop-sgd-dataset); Gaussian
  elimination for the stationary floor (prop-sgd-floor);
* Arb ball arithmetic: the closed diagonal recursion by powers of its augmented matrix,
  the stability function and an M-matrix certificate of the spectral radius
  (prop-sgd-stability), the full second-moment recursion for the cloud (prop-sgd-cloud);
* simulation, with :func:`ribbonlib.check.statistical`.

Each float64 result is compared with the round-off bound its docstring states.
"""

from __future__ import annotations

import itertools
import warnings
from fractions import Fraction

import mpmath

import numpy as np
import pytest
from flint import arb, arb_mat, ctx
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ribbonlib import _validate, certify, check, cloud, dynamics, sgd, spectra

U = 2.0**-53
PREC = 256


# ------------------------------------------------------------------ strategies


@st.composite
def spectra_st(draw, d_min: int = 1, d_max: int = 10) -> np.ndarray:
    """Power-law, exponential, arbitrary, clustered or flat spectra (spread to 1e12)."""
    d = draw(st.integers(d_min, d_max))
    kinds = ["power", "exponential", "arbitrary", "clustered", "flat"]
    kind = draw(st.sampled_from(kinds))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    spread = 10.0 ** draw(st.floats(0.0, 12.0))
    if kind == "power":
        lam = spectra.power_law(d, draw(st.floats(0.0, 4.0)))
    elif kind == "exponential":
        lam = spread ** (-np.arange(d) / max(d - 1, 1))
    elif kind == "arbitrary":
        lam = spread ** (-rng.random(d))
    elif kind == "clustered":
        centres = spread ** (-rng.random(draw(st.integers(1, 3))))
        lam = rng.choice(centres, d) * (1.0 + 1e-9 * rng.standard_normal(d))
    else:
        lam = np.ones(d)
    return np.sort(lam)[::-1] * 10.0 ** draw(st.floats(-3.0, 3.0))


def ground_truth(d: int, shape: tuple[int, float, float]) -> np.ndarray:
    """Random signs, decaying like ``k^-decay``, a fraction of zeros."""
    seed, decay, zeros = shape
    rng = np.random.default_rng(seed)
    b = rng.standard_normal(d) * np.arange(1, d + 1) ** -decay
    b[rng.random(d) < zeros] = 0.0
    return b


b_shape_st = st.tuples(st.integers(0, 2**32 - 1), st.floats(0.0, 3.0),
                       st.floats(0.0, 0.5))


batch_st = st.one_of(st.integers(1, 8), st.integers(1, 10**6))
noise_st = st.one_of(st.just(0.0), st.floats(-6.0, 3.0).map(lambda x: 10.0**x))
# eta as a fraction of the threshold: from 1e-6 to 1 - 1e-9
frac_st = st.one_of(st.floats(0.01, 6.0).map(lambda x: 10.0**-x),
                    st.floats(1.0, 9.0).map(lambda x: 1.0 - 10.0**-x))


# ----------------------------------------------------------- exact references


def ball(x) -> arb:
    return certify.to_arb(x)


def fr(x) -> Fraction:
    return Fraction(float(x))


# A law on five points whose moments up to order four are those of N(0, 1):
# P(0) = 1/2, P(+-1) = 1/6, P(+-2) = 1/12 (E z^2 = 1, E z^4 = 3, odd moments 0).
FIVE = [(Fraction(0), Fraction(1, 2)),
        (Fraction(1), Fraction(1, 6)), (Fraction(-1), Fraction(1, 6)),
        (Fraction(2), Fraction(1, 12)), (Fraction(-2), Fraction(1, 12))]


def five_point_law(L: list[list[Fraction]]):
    """Points ``x = L z`` and weights: the product law, Gaussian moments to order 4."""
    d = len(L)
    for zs in itertools.product(FIVE, repeat=d):
        z = [v for v, _ in zs]
        w = Fraction(1)
        for _, p in zs:
            w *= p
        yield [sum(L[i][j] * z[j] for j in range(d)) for i in range(d)], w


def mat(a, b):
    n, m = len(b), len(b[0])
    return [[sum(a[i][k] * b[k][j] for k in range(n)) for j in range(m)]
            for i in range(len(a))]


@st.composite
def rational_problem(draw):
    """A symmetric Sigma = L Lᵀ, a direction e, eta, B and label noise, in rationals."""
    d = draw(st.integers(1, 3))
    B = draw(st.integers(1, {1: 3, 2: 2, 3: 1}[d]))
    small = st.integers(-4, 4).map(lambda k: Fraction(k, 2))
    L = [[draw(small) for _ in range(d)] for _ in range(d)]
    e = [draw(small) for _ in range(d)]
    eta = Fraction(draw(st.integers(1, 9)), 8)
    sig = Fraction(draw(st.integers(0, 4)), 2)
    return d, B, L, e, eta, sig


# --------------------------------------------- prop-sgd-fourth, prop-sgd-recursion


@settings(max_examples=15)
@given(rational_problem())
def test_fourth_moment_operator_exact(problem):
    d, _, L, _, _, _ = problem
    Sig = mat(L, [list(r) for r in zip(*L)])
    P = [[Fraction(i + 2 * j + 1, 3) + Fraction(j + 2 * i + 1, 3) for j in range(d)]
         for i in range(d)]
    M = [[Fraction(0)] * d for _ in range(d)]
    for x, w in five_point_law(L):
        q = sum(x[i] * P[i][j] * x[j] for i in range(d) for j in range(d))
        for i in range(d):
            for j in range(d):
                M[i][j] += w * q * x[i] * x[j]
    SPS = mat(mat(Sig, P), Sig)
    tr = sum(mat(Sig, P)[i][i] for i in range(d))
    assert M == [[2 * SPS[i][j] + tr * Sig[i][j] for j in range(d)] for i in range(d)]


@settings(max_examples=20)
@given(rational_problem())
def test_one_step_second_moment_exact(problem):
    """E[e_{t+1} e_{t+1}ᵀ | e_t = e] over every batch = eq-sgd-recursion at P = e eᵀ."""
    d, B, L, e, eta, sig = problem
    Sig = mat(L, [list(r) for r in zip(*L)])
    points = list(five_point_law(L))
    member = [(x, eps, w / 2) for x, w in points for eps in (sig, -sig)]
    got = [[Fraction(0)] * d for _ in range(d)]
    for batch in itertools.product(member, repeat=B):
        w = Fraction(1)
        grad = [Fraction(0)] * d
        for x, eps, p in batch:
            w *= p
            res = sum(x[i] * e[i] for i in range(d)) - eps
            grad = [g + x[i] * res for i, g in enumerate(grad)]
        new = [e[i] - eta / B * grad[i] for i in range(d)]
        for i in range(d):
            for j in range(d):
                got[i][j] += w * new[i] * new[j]
    P = [[e[i] * e[j] for j in range(d)] for i in range(d)]
    R = [[(1 if i == j else 0) - eta * Sig[i][j] for j in range(d)] for i in range(d)]
    RPR = mat(mat(R, P), R)
    SPS = mat(mat(Sig, P), Sig)
    tr = sum(mat(Sig, P)[i][i] for i in range(d))
    c = eta**2 / B
    claim = [[RPR[i][j] + c * (SPS[i][j] + tr * Sig[i][j]) + c * sig**2 * Sig[i][j]
              for j in range(d)] for i in range(d)]
    assert got == claim


# ------------------------------------------------ the closed diagonal recursion


def arb_diagonal_map(lam, eta, B):
    """``D``, ``u`` and ``A = diag(D) + u λᵀ`` in Arb, for the exact float inputs."""
    e = ball(eta)
    lam_a = [ball(x) for x in lam]
    D = [(1 - e * x) ** 2 + (e * x) ** 2 / B for x in lam_a]
    u = [e * e * x / B for x in lam_a]
    d = len(lam_a)
    A = arb_mat(d, d)
    for i in range(d):
        for j in range(d):
            A[i, j] = u[i] * lam_a[j] + (D[i] if i == j else 0)
    return A, u, lam_a


def arb_moments_at(lam, p0, eta, B, s2, t):
    """``p(t) = Ã^t (p0, 1)``, ``Ã = [[A, σ²u], [0, 1]]`` by binary powering."""
    A, u, _ = arb_diagonal_map(lam, eta, B)
    d = len(lam)
    At = arb_mat(d + 1, d + 1)
    for i in range(d):
        for j in range(d):
            At[i, j] = A[i, j]
        At[i, d] = ball(s2) * u[i]
    At[d, d] = arb(1)
    z = arb_mat([[ball(x)] for x in p0] + [[arb(1)]])
    out = At**t * z
    return [out[i, 0] for i in range(d)]


def assert_within(lib: np.ndarray, ref: list, rel: float, what: str,
                  floor: float = 2.0**-900) -> None:
    """Certified ``|lib − ref| <= rel·ref`` where ``ref`` is above ``floor``."""
    for k, (x, y) in enumerate(zip(lib, ref)):
        if not y > floor:
            continue
        assert abs(ball(x) - y) <= ball(rel) * y, f"{what}, entry {k}: {x!r} vs {y}"


@settings(max_examples=25)
@given(lam=spectra_st(d_max=8), B=batch_st, frac=frac_st, s2=noise_st,
       T=st.integers(0, 500).map(lambda k: int(10.0 ** (k / 100)) - 1),
       seed=st.integers(0, 2**32 - 1))
@example(lam=np.array([1.0, 1e-6]), B=3, frac=0.5, s2=0.3, T=10**6, seed=1)
@example(lam=np.array([0.7]), B=10**6, frac=0.4995, s2=0.0, T=200, seed=3)  # r near 0
def test_mode_moments_certified(lam, B, frac, s2, T, seed):
    rng = np.random.default_rng(seed)
    d = lam.size
    p0 = rng.random(d) * (rng.random(d) < 0.8)
    eta = frac * sgd.stability_threshold(lam, B)
    got = sgd.mode_second_moments(lam, p0, eta, B, T, label_noise=s2)
    eps = sgd.moments_rounding(d, T)
    with ctx.workprec(PREC):
        for t in sorted({0, min(1, T), T // 3, T}):
            ref = arb_moments_at(lam, p0, eta, B, s2, t)
            assert_within(got[t], ref, eps[t], f"p({t})")


@pytest.mark.parametrize("B,sig2", [(1, 0.0), (3, 0.7), (50, 2.0)])
def test_mode_moments_match_full_matrix_recursion(B, sig2):
    """The diagonal is closed also when P_0 is not diagonal in the eigenbasis."""
    d, T = 7, 150
    order = np.random.default_rng(1).permutation(d)
    lam = spectra.power_law(d, 1.3)[order]  # any order
    Q, R = np.linalg.qr(np.random.default_rng(2).standard_normal((d, d)))
    V = Q * np.sign(np.diag(R))
    Sigma = (V * lam) @ V.T
    A = np.random.default_rng(3).standard_normal((d, d))
    P = A @ A.T / d
    eta = 0.6 * sgd.stability_threshold(lam, B)
    Rm = np.eye(d) - eta * Sigma
    ref = []
    for _ in range(T + 1):
        ref.append(np.einsum("ik,ij,jk->k", V, P, V))
        M = Sigma @ P @ Sigma + (np.trace(Sigma @ P) + sig2) * Sigma
        P = Rm @ P @ Rm + eta**2 / B * M
    got = sgd.mode_second_moments(lam, ref[0], eta, B, T, label_noise=sig2)
    # both sides in float64: the rotation loses ~d u per product and step
    np.testing.assert_allclose(got, np.array(ref), rtol=4 * T * d * d * U)


def test_large_batch_tends_to_gradient_descent():
    lam = spectra.exponential(5, 0.5)
    p0 = np.array([1.0, 0.5, 2.0, 0.1, 1.0])
    eta, T = 0.7, 40
    gd = p0 * (1 - eta * lam) ** (2 * np.arange(T + 1))[:, None]
    for B in (10**3, 10**6):
        got = sgd.mode_second_moments(lam, p0, eta, B, T)
        assert np.max(np.abs(got - gd)) <= 50.0 / B * np.max(p0)


@settings(max_examples=6)
@given(lam=spectra_st(d_max=4), B=st.integers(1, 6), frac=st.floats(0.05, 0.3),
       s2=noise_st, seed=st.integers(0, 2**32 - 1))
def test_mode_moments_against_simulation(lam, B, frac, s2, seed):
    """Statistical: 3000 online-SGD runs against the exact moments (alpha 1e-6)."""
    rng = np.random.default_rng(seed)
    d, M, T = lam.size, 3000, 12
    b = rng.standard_normal(d)
    c0 = rng.standard_normal((M, d)) * 0.5
    eta = frac * sgd.stability_threshold(lam, B)
    traj = sgd.simulate_online(lam, b, c0, eta, B, T, seed=seed, label_noise=s2,
                               times=[T])[:, 0]
    sq = (traj - b) ** 2
    # given the drawn starts, the expected mean square is the recursion from their mean
    # square (linear in p0; off-diagonal moments of the starts do not enter it)
    p0 = np.mean((c0 - b) ** 2, axis=0)
    exact = sgd.mode_second_moments(lam, p0, eta, B, T, label_noise=s2)[-1]
    check.statistical("online SGD moments vs simulation", sq.mean(0), exact,
                      sq.std(0, ddof=1) / np.sqrt(M), alpha=1e-6)


# ------------------------------------------------------------------ stability


def theta_ball(lam_a, eta_a, B) -> arb:
    s = arb(0)
    for x in lam_a:
        a = eta_a * x
        s += a / (2 * B - (B + 1) * a)
    return s


def m_matrix_certificate(lam, eta_a, B, below: bool) -> bool:
    """Prove ρ(A) < 1 (``below``) or ρ(A) >= 1 by Collatz--Wielandt (a linear solve).

    For ``x > 0``, ``min (Ax)_i/x_i <= ρ(A) <= max (Ax)_i/x_i``. With
    ``(μ I − A) x = 1``, ``(Ax)_i/x_i = μ − 1/x_i``: ``μ = 1`` and ``x > 0`` prove
    ``ρ < 1``; ``μ > 1`` and ``x_i >= 1/(μ − 1)`` prove ``ρ >= 1``. The shift ``μ`` just
    above ``ρ`` is located by bisection on the secular equation, but the certificate
    does not depend on how it was found.
    """
    lam_a = [ball(x) for x in lam]
    d = len(lam_a)
    a = [eta_a * x for x in lam_a]
    D = [(1 - ak) ** 2 + ak * ak / B for ak in a]
    u = [eta_a * ak / B for ak in a]
    A = arb_mat(d, d)
    for i in range(d):
        for j in range(d):
            A[i, j] = u[i] * lam_a[j] + (D[i] if i == j else 0)
    if below:
        mu = arb(1)
    else:
        top = max(D, key=lambda x: x.mid())
        lo = top.mid()
        hi = lo + sum((x * y for x, y in zip(u, lam_a)), arb(0)).mid() + 1
        for _ in range(ctx.prec):
            mid = ((lo + hi) / 2).mid()
            g = sum((x * y / (mid - z) for x, y, z in zip(u, lam_a, D)), arb(0))
            lo, hi = (mid, hi) if (g - 1).mid() > 0 else (lo, mid)
        mu = hi + (hi - 1) * arb(2) ** -40
        if not mu > 1:
            return False
    M = arb_mat(d, d)
    for i in range(d):
        for j in range(d):
            M[i, j] = (mu if i == j else 0) - A[i, j]
    try:
        x = M.solve(arb_mat([[arb(1)] for _ in range(d)]))
    except ZeroDivisionError:
        return False
    if below:
        return all(x[i, 0] > 0 for i in range(d))
    return all(x[i, 0] * (mu - 1) >= 1 for i in range(d))


@settings(max_examples=40)
@given(lam=spectra_st(d_max=40), B=batch_st)
@example(lam=np.ones(5), B=7)
@example(lam=np.array([0.5]), B=1)
def test_threshold_certified(lam, B):
    d = lam.size
    eta_c = sgd.stability_threshold(lam, B)
    eps = (d + 10) * U  # the accuracy stability_threshold states
    with ctx.workprec(2 * PREC):
        lam_a = [ball(x) for x in lam]
        lo, hi = ball(eta_c) * (1 - ball(eps)), ball(eta_c) * (1 + ball(eps))
        # the exact root of theta = 1 is in [lo, hi] (theta increases where admissible)
        assert theta_ball(lam_a, lo, B) < 1 < theta_ball(lam_a, hi, B)
        assert all(2 * B > (B + 1) * hi * x for x in lam_a)
        # independently: the spectral radius of A crosses 1 in [lo, hi]
        assert m_matrix_certificate(lam, lo, B, below=True)
        assert m_matrix_certificate(lam, hi, B, below=False)
        # monotone in B, below the GD threshold: eta_c(B+1) > hi >= eta_c(B)
        assert theta_ball(lam_a, hi, B + 1) < 1
        assert hi < 2 / lam_a[0]
    # the bracket eq-sgd-bracket, in exact rationals (attained: flat spectrum, one mode)
    lf = [fr(x) for x in lam]
    tr, top = sum(lf), max(lf)
    lower = Fraction(2 * B) / (tr + (B + 1) * top)
    upper = min(Fraction(2 * B) / tr, Fraction(2 * B) / ((B + 2) * top))

    def theta(e):
        return sum(e * x / (2 * B - (B + 1) * e * x) for x in lf)

    assert theta(lower) <= 1 <= theta(upper)
    if len(set(lf)) == 1:
        assert theta(lower) == 1
    if d == 1:
        assert theta(upper) == 1
    # the library's float ends: within (d + 2) u of the exact ends
    lo_f, hi_f = sgd.threshold_bounds(lam, B)
    assert abs(fr(lo_f) - lower) <= fr((d + 2) * U) * lower
    assert abs(fr(hi_f) - upper) <= fr((d + 2) * U) * upper


def test_threshold_limits():
    lam = spectra.power_law(20, 1.0)
    # B -> infinity: the gradient-descent threshold 2/λ_max, from below, like O(1/B)
    Bs = (10, 10**3, 10**5, 10**7)
    gaps = [2.0 / lam[0] - sgd.stability_threshold(lam, B) for B in Bs]
    assert all(g > 0 for g in gaps)
    assert gaps[-1] < 1e-5 and all(g2 < g1 / 50 for g1, g2 in zip(gaps, gaps[1:]))
    Bs = np.array([[1, 2], [4, 8]])
    vals = sgd.stability_threshold(lam, Bs)
    assert vals.shape == (2, 2) and np.all(np.diff(vals.ravel()) > 0)


def test_stability_function_and_validation_at_threshold():
    lam = spectra.power_law(6, 1.0)
    B = 3
    eta_c = sgd.stability_threshold(lam, B)
    assert abs(sgd.stability_function(lam, eta_c, B) - 1.0) <= 16 * U
    assert sgd.stability_function(lam, 10.0, B) == np.inf
    sgd.mode_second_moments(lam, np.ones(6), eta_c * (1 - 1e-9), B, 3)
    with pytest.raises(ValueError, match="stability threshold"):
        sgd.mode_second_moments(lam, np.ones(6), eta_c * (1 + 1e-9), B, 3)


# ---------------------------------------------------------------------- floor


def solve_exact(M: list[list[Fraction]], rhs: list[Fraction]) -> list[Fraction]:
    """Gaussian elimination with exact rationals."""
    n = len(rhs)
    A = [row[:] + [r] for row, r in zip(M, rhs)]
    for c in range(n):
        piv = next(i for i in range(c, n) if A[i][c] != 0)
        A[c], A[piv] = A[piv], A[c]
        for i in range(c + 1, n):
            f = A[i][c] / A[c][c]
            if f:
                A[i] = [x - f * y for x, y in zip(A[i], A[c])]
    x = [Fraction(0)] * n
    for i in reversed(range(n)):
        x[i] = (A[i][n] - sum(A[i][j] * x[j] for j in range(i + 1, n))) / A[i][i]
    return x


@settings(max_examples=30)
@given(lam=spectra_st(d_max=8), B=batch_st, frac=frac_st, s2=noise_st)
@example(lam=np.ones(3), B=1, frac=1 - 1e-9, s2=1.0)
def test_floor_against_exact_fixed_point(lam, B, frac, s2):
    d = lam.size
    eta = frac * sgd.stability_threshold(lam, B)
    got = sgd.stationary_floor(lam, eta, B, s2)
    bound = sgd.floor_rounding(lam, eta, B)
    e, sig, lf = fr(eta), fr(s2), [fr(x) for x in lam]
    D = [(1 - e * x) ** 2 + (e * x) ** 2 / B for x in lf]
    u = [e * e * x / B for x in lf]
    ImA = [[(1 - D[i] if i == j else 0) - u[i] * lf[j] for j in range(d)]
           for i in range(d)]
    exact = solve_exact(ImA, [sig * x for x in u])
    for k in range(d):
        if np.isfinite(bound[k]):
            assert abs(fr(got[k]) - exact[k]) <= fr(bound[k]) * exact[k]
    # the stationary excess loss: Σ λ p∞ = σ² θ/(1 − θ), exactly
    theta = sum(e * x / (2 * B - (B + 1) * e * x) for x in lf)
    assert sum(x * p for x, p in zip(lf, exact)) == sig * theta / (1 - theta)
    # leading order σ² η/(2B) with the first correction of eq-sgd-floor: remainder O(η²)
    if s2 > 0:
        lead = [sig * e / (2 * B) * (1 + ((B + 1) * x + sum(lf)) / (2 * B) * e)
                for x in lf]
        rem = max(abs(p / q - 1) for p, q in zip(exact, lead))
        scale = e * (max(lf) * (B + 1) + sum(lf)) / (2 * B)
        if scale < Fraction(1, 10):
            assert rem <= 10 * scale**2


def test_floor_bound_is_infinite_next_to_threshold():
    lam = spectra.power_law(4, 1.0)
    eta_c = sgd.stability_threshold(lam, 2)
    assert np.all(np.isinf(sgd.floor_rounding(lam, eta_c * (1 - 1e-15), 2)))
    assert np.all(np.isfinite(sgd.floor_rounding(lam, eta_c * 0.9, 2)))


# ----------------------------------------------------------------- simulation


def test_simulator_is_seeded_and_records_times():
    lam = spectra.power_law(4, 1.0)
    b = np.array([1.0, -0.5, 0.3, 0.8])
    c0 = np.random.default_rng(0).standard_normal((300, 4)) * 0.5
    kw = dict(eta=0.3, batch_size=2, steps=30, label_noise=0.2)
    a = sgd.simulate_online(lam, b, c0, seed=11, **kw)
    again = sgd.simulate_online(lam, b, c0, seed=11, **kw)
    other = sgd.simulate_online(lam, b, c0, seed=12, **kw)
    assert np.array_equal(a, again) and not np.array_equal(a, other)
    assert a.shape == (300, 31, 4) and np.array_equal(a[:, 0], c0)
    sub = sgd.simulate_online(lam, b, c0, seed=11, times=[30, 0, 10], **kw)
    assert np.array_equal(sub, a[:, [30, 0, 10]])


def test_simulator_reports_divergence():
    # twenty equal modes, B = 1: η|x|² ≈ 20 η, far beyond 2, although η λ_max = 1 < 2
    lam = np.ones(20)
    assert sgd.stability_threshold(lam, 1) < 0.1
    with pytest.raises(ValueError, match="diverged"):
        sgd.simulate_online(lam, np.zeros(20), np.ones((5, 20)), 1.0, 1, 5000, seed=0)


# ----------------------------------------------------------------- data set


def exact_dataset_moments(X, y, mu0, P0, eta, B, T, replace):
    """E[w_t] and E[w_t w_tᵀ] by enumerating every batch of every step, in rationals."""
    N, d = len(X), len(X[0])
    batches = list(itertools.product(range(N), repeat=B)) if replace else \
        list(itertools.permutations(range(N), B))
    p = Fraction(1, len(batches))
    m = mu0[:]
    S = [[P0[i][j] + m[i] * m[j] for j in range(d)] for i in range(d)]
    means, seconds = [m], [S]
    for _ in range(T):
        m_new = [Fraction(0)] * d
        S_new = [[Fraction(0)] * d for _ in range(d)]
        for idx in batches:
            # w' = G w + g with G = I − (η/B) Σ x xᵀ, g = (η/B) Σ y x
            G = [[(1 if i == j else 0) - eta / B * sum(X[a][i] * X[a][j] for a in idx)
                  for j in range(d)] for i in range(d)]
            g = [eta / B * sum(y[a] * X[a][i] for a in idx) for i in range(d)]
            Gm = [sum(G[i][k] * m[k] for k in range(d)) for i in range(d)]
            GSG = mat(mat(G, S), [list(r) for r in zip(*G)])
            for i in range(d):
                m_new[i] += p * (Gm[i] + g[i])
                for j in range(d):
                    cross = Gm[i] * g[j] + g[i] * Gm[j] + g[i] * g[j]
                    S_new[i][j] += p * (GSG[i][j] + cross)
        m, S = m_new, S_new
        means.append(m)
        seconds.append(S)
    return means, seconds


@settings(max_examples=12)
@given(N=st.integers(1, 4), d=st.integers(1, 3), B=st.integers(1, 3),
       T=st.integers(0, 3), replace=st.booleans(), seed=st.integers(0, 2**32 - 1),
       scalar_cov=st.booleans())
def test_dataset_moments_exact_enumeration(N, d, B, T, replace, seed, scalar_cov):
    if not replace and B > N:
        B = N
    rng = np.random.default_rng(seed)
    X = rng.integers(-3, 4, (N, d)) / 2.0
    if not np.any(X):
        X[0, 0] = 1.0
    y = rng.integers(-4, 5, N) / 4.0
    mu0 = rng.integers(-2, 3, d) / 2.0
    if scalar_cov:
        cov = 0.25
        P0 = [[Fraction(1, 4) if i == j else Fraction(0) for j in range(d)]
              for i in range(d)]
    else:
        W = rng.integers(-2, 3, (d, d)) / 2.0
        cov = W @ W.T
        P0 = [[fr(v) for v in row] for row in cov]
    lmax = np.linalg.eigvalsh(X.T @ X / N)[-1]
    eta = 2.0 ** -int(np.ceil(np.log2(max(lmax, 1e-3))) + 1)  # eta lmax in (1/4, 1/2]
    mom = sgd.dataset_second_moments(X, y, mu0, cov, eta, B, T, replace=replace)
    Xf = [[fr(v) for v in row] for row in X]
    means, seconds = exact_dataset_moments(Xf, [fr(v) for v in y], [fr(v) for v in mu0],
                                           P0, fr(eta), B, T, replace)
    w = mom.w_hat
    for t in range(T + 1):
        m_lib = mom.mean[t] + w
        mw = np.outer(mom.mean[t], w)
        S_lib = mom.second[t] + mw + mw.T + np.outer(w, w)
        m_ex = np.array([float(v) for v in means[t]])
        S_ex = np.array([[float(v) for v in row] for row in seconds[t]])
        scale = max(1.0, np.max(np.abs(S_ex)))
        # the round-off dataset_second_moments states (recursion and least squares)
        kappa = max(1.0, np.linalg.cond(X) if N >= d else 1.0)
        tol = 4 * (t + 1) * (N + d) * U * scale * kappa**2
        np.testing.assert_allclose(m_lib, m_ex, rtol=0, atol=tol)
        np.testing.assert_allclose(S_lib, S_ex, rtol=0, atol=tol)


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


# --------------------------------------------------------------------- clouds


def arb_cloud(lam, b, s, eta, B, T, s2, M=None) -> arb_mat:
    """The cloud covariance from the full second-moment recursion (eigenbasis, Arb).

    ``P_{t+1} = R P R + (η²/B)(ΛPΛ + tr(ΛP)Λ + σ²Λ)`` from ``P_0 = (s²/d) I + b bᵀ``,
    ``m_t = −r^t b``, ``Q_t = P_t − m_t m_tᵀ``; the cloud is the time average of
    ``Λ^{1/2} Q_t Λ^{1/2}`` plus the covariance over time of ``Λ^{1/2} m_t``; for ``M``
    runs, minus ``Λ^{1/2} Cov(ē) Λ^{1/2}/M`` from the two-time sums
    ``U_{t+1} = R U_t + Q_{t+1}``.
    """
    d = len(lam)
    lam_a = [ball(x) for x in lam]
    e = ball(eta)
    R = arb_mat(d, d)
    Lm = arb_mat(d, d)
    Rt = arb_mat(d, d)
    for k in range(d):
        R[k, k] = 1 - e * lam_a[k]
        Lm[k, k] = lam_a[k]
        Rt[k, k] = lam_a[k].sqrt()
    c = e * e / B
    m = arb_mat([[-ball(x)] for x in b])
    P = m * m.transpose()
    for k in range(d):
        P[k, k] += ball(s) ** 2 / d
    n = T + 1
    sumQ = arb_mat(d, d)
    sum_m = arb_mat(d, 1)
    sum_mm = arb_mat(d, d)
    Uacc = arb_mat(d, d)
    pair_sum = arb_mat(d, d)
    for t in range(n):
        Q = P - m * m.transpose()
        sumQ += Q
        sum_m += m
        sum_mm += m * m.transpose()
        if M is not None:
            Uacc = R * Uacc + Q
            pair_sum += Uacc + Uacc.transpose() - Q
        if t == T:
            break
        LP = Lm * P
        tr = sum((LP[k, k] for k in range(d)), arb(0))
        P = R * P * R + c * (LP * Lm + (tr + ball(s2)) * Lm)
        m = R * m
    C = (sumQ + sum_mm) / n - (sum_m * sum_m.transpose()) / (n * n)
    if M is not None:
        C = C - pair_sum / (n * n * M)
    return Rt * C * Rt


@settings(max_examples=15)
@given(lam=spectra_st(d_max=4), shape=b_shape_st, B=batch_st, frac=frac_st, s2=noise_st,
       s=st.one_of(st.just(0.0), st.floats(0.01, 10.0)),
       T=st.integers(0, 330).map(lambda k: int(10.0 ** (k / 100)) - 1),
       M=st.one_of(st.none(), st.integers(1, 50)))
@example(lam=spectra.power_law(5, 1.2), shape=(7, 0.5, 0.2), B=2, frac=0.5, s2=0.3,
         s=0.8, T=40, M=7)
@example(lam=np.array([1.5, 0.2, 1e-3]), shape=(8, 0.0, 0.0), B=1, frac=0.9, s2=0.0,
         s=1.0, T=200, M=3)
def test_cloud_covariance_certified(lam, shape, B, frac, s2, s, T, M):
    d = lam.size
    b = ground_truth(d, shape)
    eta = min(frac, 0.999) * sgd.stability_threshold(lam, B)
    got = sgd.cloud_covariance(lam, b, s, eta, B, T, s2, n_inits=M)
    with ctx.workprec(PREC):
        ref = arb_cloud(lam, b, s, eta, B, T, s2, M)
        size = max(abs(ref[i, j]).upper() for i in range(d) for j in range(d))
        # the bound cloud_covariance states, relative to the largest (diagonal) entry
        tol = sgd.cloud_rounding(d, T) * size
        for i in range(d):
            for j in range(d):
                assert abs(ball(got[i, j]) - ref[i, j]) <= tol, (i, j, got[i, j])
        # prop-sgd-cloud: Φ = C_SGD − C_GD is positive semi-definite, so (exercise
        # ex-sgd-3) no eigenvalue of the cloud decreases: no eigenvalue of Φ is negative
        if M is None:
            gd = certify.cloud_covariance(lam, b, s, eta, T)
            phi = certify.symmetric_eigenvalues(ref - gd, digits=40)
            assert np.all(phi.hi >= 0)
    if M is None:
        mu_sgd = np.linalg.eigvalsh(got)
        mu_gd = np.linalg.eigvalsh(cloud.covariance(lam, b, s, eta, T))
        slack = 2 * float(tol.mid()) * d + 8 * d * U * np.max(np.abs(got))
        assert np.all(mu_sgd >= mu_gd - slack)


def test_fluctuations_vanish_for_large_batches():
    lam = spectra.power_law(8, 1.0)
    b = np.linspace(1, -1, 8)
    gd = cloud.covariance(lam, b, 1.0, 0.3, 100)
    big = sgd.cloud_covariance(lam, b, 1.0, 0.3, 10**8, 100)
    np.testing.assert_allclose(big, gd, rtol=1e-6, atol=1e-8 * np.max(np.abs(gd)))


@settings(max_examples=6)
@given(lam=spectra_st(d_max=4), shape=b_shape_st, B=batch_st, frac=frac_st,
       T=st.integers(0, 200).map(lambda k: int(10.0 ** (k / 100)) - 1))
def test_fluctuation_parts_are_the_linear_coefficients(lam, shape, B, frac, T):
    """Φ = signal + s²·init + σ²·label: each part against differences of Arb clouds."""
    d = lam.size
    b = ground_truth(d, shape)
    eta = min(frac, 0.999) * sgd.stability_threshold(lam, B)
    parts = sgd.fluctuation_parts(lam, b, eta, B, T)
    with ctx.workprec(PREC):
        S, noise_unit = certify.cloud_matrices(lam, b, eta, T)
        base = arb_cloud(lam, b, 0.0, eta, B, T, 0.0)
        init = arb_cloud(lam, b, 1.0, eta, B, T, 0.0) - base
        for k in range(d):
            init[k, k] -= noise_unit[k]
        label = arb_cloud(lam, b, 0.0, eta, B, T, 1.0) - base
        refs = {"signal": base - S, "init": init, "label": label}
        for name, ref in refs.items():
            got = getattr(parts, name)
            size = max(abs(ref[k, k]).upper() + abs(base[k, k]).upper()
                       + abs(noise_unit[k]).upper() for k in range(d))
            tol = sgd.cloud_rounding(d, T) * size
            for i in range(d):
                for j in range(d):
                    assert abs(ball(got[i, j]) - ref[i, j]) <= tol, (name, i, j)


# ------------------------------------------------------------- phase diagrams


@settings(max_examples=25)
@given(lam=spectra_st(d_max=6), shape=b_shape_st, B=batch_st, frac=frac_st,
       s_values=st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 10.0)), min_size=1,
                         max_size=4),
       noises=st.lists(noise_st, min_size=1, max_size=3), scalar=st.booleans(),
       T=st.integers(0, 250).map(lambda k: int(10.0 ** (k / 100)) - 1))
def test_cloud_covariance_grid_is_cloud_covariance(lam, shape, B, frac, s_values,
                                                   noises, scalar, T):
    """The superposition does the same floating-point operations as cloud_covariance,
    so the bound cloud_rounding (certified in test_cloud_covariance_certified) holds."""
    b = ground_truth(lam.size, shape)
    eta = min(frac, 0.999) * sgd.stability_threshold(lam, B)
    noise = noises[0] if scalar else noises
    grid = sgd.cloud_covariance_grid(lam, b, s_values, eta, B, T, noise)
    assert grid.shape == (() if scalar else (len(noises),)) + (len(s_values),) + 2 * (
        lam.size,)
    for i, nz in enumerate([noise] if scalar else noises):
        for j, s in enumerate(s_values):
            got = grid[j] if scalar else grid[i, j]
            assert np.array_equal(got, sgd.cloud_covariance(lam, b, s, eta, B, T, nz))


def test_ribbon_map_against_direct_spectra():
    """Every cell against is_ribbon of the eigenvalues of the two covariances, computed
    one by one; SGD's rows beyond its threshold are unstable and not ribbons."""
    from ribbonlib import phase

    d = 12
    b = np.ones(d) / np.sqrt(d)
    alphas = [0.3, 1.0, 2.0, 3.5]
    lams = np.array([spectra.power_law(d, a) for a in alphas])
    s_values = [0.01, 0.3, 3.0]
    noises = [0.0, 1.0]
    eta, B, T = 0.3, 1, 60
    crit = phase.RibbonCriterion(K=3, q=0.5, eps=0.1)
    out = sgd.ribbon_map(lams, b, s_values, eta, B, T, noises, criterion=crit)
    assert out.sgd.shape == (2, 4, 3) and out.gd.shape == (4, 3)
    np.testing.assert_array_equal(out.threshold, [sgd.stability_threshold(lam, B)
                                                  for lam in lams])
    np.testing.assert_array_equal(out.stable, eta < out.threshold)
    assert not out.stable.all() and out.stable.any()  # the grid crosses the threshold
    for i, lam in enumerate(lams):
        for j, s in enumerate(s_values):
            mu = np.linalg.eigvalsh(cloud.covariance(lam, b, s, eta, T))[::-1]
            assert out.gd[i, j] == phase.is_ribbon(mu, crit)
            for n, nz in enumerate(noises):
                if not out.stable[i]:
                    assert not out.sgd[n, i, j]
                    continue
                C = sgd.cloud_covariance(lam, b, s, eta, B, T, nz)
                assert out.sgd[n, i, j] == phase.is_ribbon(np.linalg.eigvalsh(C)[::-1],
                                                           crit)
    assert out.gd.any() and not out.gd.all()
    single = sgd.ribbon_map(lams, b, s_values, eta, B, T, 1.0, criterion=crit)
    np.testing.assert_array_equal(single.sgd, out.sgd[1])
    # without label noise by default (which here changes the map)
    assert np.any(out.sgd[0] != out.sgd[1])
    default = sgd.ribbon_map(lams, b, s_values, eta, B, T, criterion=crit)
    np.testing.assert_array_equal(default.sgd, out.sgd[0])


# ----------------------------------------------------------------- validation


L2, P2 = [1.0, 0.5], [1.0, 1.0]
msm, dsm, col = sgd.mode_second_moments, sgd.dataset_second_moments, np.ones((3, 1))


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: msm(L2, P2, 0.1, 0, 5), "batch_size"),
        (lambda: msm(L2, P2, 0.1, 1.5, 5), "batch_size"),
        (lambda: msm(L2, P2, 0.1, True, 5), "batch_size"),
        (lambda: msm(L2, P2, 1.0, 1, 5), "stability threshold"),
        (lambda: msm(L2, P2, -0.1, 1, 5), "eta"),
        (lambda: msm(L2, [1.0, -1.0], 0.1, 1, 5), "p0"),
        (lambda: msm(L2, [1.0], 0.1, 1, 5), "p0"),
        (lambda: msm([1.0, 0.0], P2, 0.1, 1, 5), "lam"),
        (lambda: msm(L2, P2, 0.1, 1, -1), "steps"),
        (lambda: msm(L2, P2, 0.1, 1, 5, -0.1), "label_noise"),
        (lambda: msm(L2, P2, 0.1, 1, 5, np.nan), "label_noise"),
        (lambda: sgd.moments_rounding(0, 5), "d"),
        (lambda: sgd.moments_rounding(3, -1), "steps"),
        (lambda: sgd.cloud_rounding(3, 2.5), "steps"),
        (lambda: sgd.stability_threshold([1.0], 0), "batch_size"),
        (lambda: sgd.stability_function([1.0], 0.0, 1), "eta"),
        (lambda: sgd.threshold_bounds([-1.0], 1), "lam"),
        (lambda: sgd.stationary_floor([1.0], 0.7, 1, 1.0), "stability threshold"),
        (lambda: sgd.stationary_floor([1.0], 0.1, 1, -1.0), "label_noise"),
        (lambda: sgd.floor_rounding([1.0], 0.7, 1), "stability threshold"),
        (lambda: sgd.floor_rounding([1.0], 0.1, 0), "batch_size"),
        (lambda: sgd.diagonal_map([1.0], np.inf, 1), "eta"),
        (lambda: sgd.simulate_online([1.0], [0.0], np.ones(3), 0.1, 1, 5, 0), "c0"),
        (lambda: sgd.simulate_online([1.0], [0.0], col, 2.5, 1, 5, 0), "eta"),
        (lambda: sgd.simulate_online([1.0], [0.0], col, 0.1, 1, 5, 0, times=[6]),
         "times"),
        (lambda: sgd.simulate_online([1.0], [0.0], col, 0.1, 1, 5, -1), "seed"),
        (lambda: dsm(np.eye(3), np.ones(3), np.zeros(3), 0.1, 0.5, 4, 5, replace=False),
         "batch_size"),
        (lambda: dsm(np.eye(2), np.ones(2), np.zeros(2), -np.eye(2), 0.5, 1, 5),
         "w0_cov"),
        (lambda: dsm(np.eye(2), np.ones(3), np.zeros(2), 0.1, 0.5, 1, 5), "y"),
        (lambda: dsm(np.eye(2), np.ones(2), np.zeros(2), 0.1, 4.5, 1, 5), "eta"),
        (lambda: sgd.cloud_covariance(L2, P2, -1.0, 0.1, 1, 5), "s must"),
        (lambda: sgd.cloud_covariance(L2, P2, 1.0, 0.1, 1, 5, n_inits=0), "n_inits"),
        (lambda: sgd.cloud_covariance(L2, [1.0], 1.0, 0.1, 1, 5), "b must"),
        (lambda: sgd.cloud_covariance_grid(L2, P2, [[1.0]], 0.1, 1, 5), "s_values"),
        (lambda: sgd.cloud_covariance_grid(L2, P2, [], 0.1, 1, 5), "s_values"),
        (lambda: sgd.cloud_covariance_grid(L2, P2, [-1.0], 0.1, 1, 5), "s_values"),
        (lambda: sgd.cloud_covariance_grid(L2, P2, [1.0], 0.1, 1, 5, [[0.1]]),
         "label_noise"),
        (lambda: sgd.cloud_covariance_grid(L2, P2, [1.0], 0.1, 1, 5, [0.1, -1.0]),
         "label_noise"),
        (lambda: sgd.cloud_covariance_grid(L2, P2, [1.0], 1.0, 1, 5), "stability"),
        (lambda: sgd.ribbon_map(L2, P2, [1.0], 0.1, 1, 5), "lams"),
        (lambda: sgd.ribbon_map([L2], P2, [1.0], 2.5, 1, 5), "eta"),
        (lambda: sgd.ribbon_map([L2], P2, [-1.0], 1.0, 1, 5), "s_values"),
        (lambda: sgd.ribbon_map([L2], P2, [1.0], 1.0, 1, 5, -0.1), "label_noise"),
        (lambda: sgd.ribbon_map([L2], P2, [1.0], 0.1, 0, 5), "batch_size"),
        (lambda: sgd.ribbon_map([L2], [1.0], [1.0], 0.1, 1, 5), "b must"),
        (lambda: sgd.ribbon_map([[1.0, 0.5, 0.2, 0.1]], np.ones(4), [1.0], 0.1, 1, 5,
                                criterion=0.5), "criterion"),
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
        sgd.dataset_second_moments(X, np.zeros(20), np.ones(10), 0.0, 1.9 / lmax, 1,
                                   20000)


# ------------------------------------ defaults, edges of the domain and size guards


def test_documented_defaults():
    """No label noise unless asked for; mini-batches drawn with replacement."""
    lam, b = spectra.power_law(3, 1.0), np.array([1.0, -0.5, 0.2])
    eta, B, T = 0.4, 2, 6
    p0 = np.array([1.0, 0.3, 2.0])
    assert np.array_equal(sgd.mode_second_moments(lam, p0, eta, B, T),
                          sgd.mode_second_moments(lam, p0, eta, B, T, 0.0))
    for f in (sgd.fluctuation_covariance, sgd.cloud_covariance):
        assert np.array_equal(f(lam, b, 0.5, eta, B, T), f(lam, b, 0.5, eta, B, T, 0.0))
    assert np.array_equal(sgd.cloud_covariance_grid(lam, b, [0.5, 1.0], eta, B, T),
                          sgd.cloud_covariance_grid(lam, b, [0.5, 1.0], eta, B, T, 0.0))
    c0 = np.zeros((4, 3))
    assert np.array_equal(sgd.simulate_online(lam, b, c0, eta, B, T, seed=3),
                          sgd.simulate_online(lam, b, c0, eta, B, T, 3, 0.0))
    X = np.random.default_rng(4).standard_normal((5, 2))
    args = (X, np.ones(5), np.zeros(2), 0.1, 0.3, 2, 3)
    mom = sgd.dataset_second_moments(*args)
    assert mom.kappa == 0.5 and np.array_equal(
        mom.second, sgd.dataset_second_moments(*args, replace=True).second)


def test_edges_of_the_accepted_domain():
    """The open ends of η's range, a learning rate exactly at the threshold (F = 1), one
    run, no steps, and what lies beyond the documented domain."""
    lam, b = np.array([1.0, 0.5]), np.array([1.0, -1.0])
    for eta in (0.0, -0.0):
        with pytest.raises(ValueError, match="eta"):
            sgd.mode_second_moments(lam, [1.0, 1.0], eta, 1, 3)
        with pytest.raises(ValueError, match="eta"):
            sgd.diagonal_map(lam, eta, 1)
    assert sgd.stability_function([1.0], 0.5, 1) == 0.5  # 0.5/(2 − 2·0.5)
    sgd.diagonal_map(lam, 0.5, 1)
    # one mode, B = 2: F(η) = η/(4 − 3η) = 1 at η = 1, the threshold, which is refused
    assert sgd.stability_threshold([1.0], 2) == 1.0
    assert sgd.stability_function([1.0], 1.0, 2) == 1.0
    with pytest.raises(ValueError, match="stability threshold"):
        sgd.mode_second_moments([1.0], [1.0], 1.0, 2, 3)
    # a denominator 2B − (B+1)ηλ = 0 exactly: F = inf, without dividing by zero
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sgd.stability_function([1.0, 0.5], 1.0, 1) == np.inf
    # a scalar batch size gives a float, an array of them an array
    assert type(sgd.stability_threshold(lam, 3)) is float
    np.testing.assert_array_equal(sgd.stability_threshold(lam, [1, 3]),
                                  [sgd.stability_threshold(lam, B) for B in (1, 3)])
    # four equal modes, B = 3: F(0.75) = 4 · 0.75/3 = 1 exactly: not stable for SGD
    lams = np.ones((1, 4))
    rm = sgd.ribbon_map(lams, np.ones(4), [1.0], 0.75, 3, 0)
    assert rm.threshold[0] == 0.75 and not rm.stable[0] and not rm.sgd.any()
    with pytest.raises(ValueError, match="lams"):
        sgd.ribbon_map(np.ones((0, 4)), np.ones(4), [1.0], 0.1, 1, 3)
    # one run, no steps; the recorded times must be integers in [0, T], one axis
    out = sgd.simulate_online(lam, b, np.zeros((1, 2)), 0.3, 2, 0, seed=1)
    assert out.shape == (1, 1, 2) and np.all(out == 0.0)
    c0 = np.zeros((3, 2))
    for times in ([1.5], [[1]], [-1], np.array([], dtype=int)):
        with pytest.raises(ValueError, match="times must be"):
            sgd.simulate_online(lam, b, c0, 0.3, 2, 4, seed=1, times=times)
    for bad in (np.zeros((3, 3)), np.zeros((0, 2))):
        with pytest.raises(ValueError, match="c0 must have shape"):
            sgd.simulate_online(lam, b, bad, 0.3, 2, 4, seed=1)


def test_dataset_moments_at_the_edges_of_their_domain():
    """w0_cov: an asymmetry of exactly 1e-12 of the largest entry, or an eigenvalue of
    exactly −1e-12 of it, is round-off and accepted; more is refused, as is a wrong
    shape. η λ_max < 2 with λ_max the largest eigenvalue of XᵀX/N (here 9/2). The
    moments have T + 1 entries."""
    X, y, mu = 3.0 * np.eye(2), np.array([1.0, -1.0]), np.zeros(2)
    for P0 in ([[4.0, 1e-12 * 4.0], [0.0, 4.0]], np.diag([4.0, -1e-12 * 4.0])):
        mom = sgd.dataset_second_moments(X, y, mu, np.array(P0), 0.1, 1, 3)
        assert mom.second.shape == (4, 2, 2) and mom.mean.shape == (4, 2)
    for P0 in ([[1.0, 0.5], [0.0, 1.0]], np.diag([1.0, -1e-9]), np.eye(3)):
        with pytest.raises(ValueError, match="w0_cov must be"):
            sgd.dataset_second_moments(X, y, mu, np.array(P0), 0.1, 1, 3)
    sgd.dataset_second_moments(X, y, mu, 0.0, 0.44, 1, 3)      # η λ_max = 1.98
    with pytest.raises(ValueError, match="eta"):
        sgd.dataset_second_moments(X, y, mu, 0.0, 0.45, 1, 3)  # 2.025


def _three(lam=(1.0, 0.5, 0.25)):
    lam = np.array(lam)
    return lam, np.array([1.0, -1.0, 0.5]), np.ones(3)


@pytest.mark.parametrize("call,count", [
    (lambda: sgd.mode_second_moments(*_three()[::2], 0.3, 2, 4), 3 * (4 + 1)),
    (lambda: sgd.fluctuation_parts(*_three()[:2], 0.3, 2, 4), 4 * 3 * 3),
    (lambda: sgd.cloud_covariance_grid(*_three()[:2], np.ones(5), 0.3, 2, 4, 0.1),
     5 * 3 * 3),
    (lambda: sgd.cloud_covariance_grid(*_three()[:2], np.ones(5), 0.3, 2, 4, [0.1, 1]),
     2 * 5 * 3 * 3),
    (lambda: sgd.simulate_online(*_three()[:2], np.zeros((2, 3)), 0.3, 2, 4, 0),
     2 * (4 + 1) * 3),
    (lambda: sgd.simulate_online(*_three()[:2], np.zeros((2, 3)), 0.3, 7, 4, 0,
                                 times=[4]), 2 * 7 * 3),
    (lambda: sgd.dataset_second_moments(np.eye(3), np.ones(3), np.zeros(3), 0.1, 0.3,
                                        1, 4), 3 * 3 * (4 + 1)),
])
def test_size_guards_refuse_exactly_beyond_the_limit(monkeypatch, call, count):
    """d = 3 modes, T = 4 steps: second moments hold d (T + 1) numbers (d² (T + 1) on a
    data set), the fluctuation parts 4 d², a grid of n scales and m noises m n d², a
    simulation of M runs M · (recorded steps) · d and one mini-batch of all runs M B d.
    The call runs when MAX_ENTRIES is that count and is refused, naming it, one
    below."""
    monkeypatch.setattr(_validate, "MAX_ENTRIES", count)
    call()
    monkeypatch.setattr(_validate, "MAX_ENTRIES", count - 1)
    with pytest.raises(ValueError, match=f"would hold {count:,} numbers"):
        call()


def test_diagonal_map_certified():
    """A = diag(r² + η²λ²/B) + (η²/B) λ λᵀ and u = η²λ/B against Arb, for the float
    inputs, within the γ_8 (D) and γ_3 (u) of their evaluation plus one rounding."""
    lam = spectra.power_law(4, 1.3)
    for B, frac in ((1, 0.5), (5, 0.99)):
        eta = frac * sgd.stability_threshold(lam, B)
        A, u = sgd.diagonal_map(lam, eta, B)
        with ctx.workprec(PREC):
            A_ref, u_ref, _ = arb_diagonal_map(lam, eta, B)
            for i in range(4):
                assert abs(ball(u[i]) - u_ref[i]) <= ball(4 * U) * u_ref[i]
                for j in range(4):
                    err = abs(ball(A[i, j]) - A_ref[i, j])
                    assert err <= ball(10 * U) * A_ref[i, j]


def test_round_off_bounds_are_their_stated_formulas():
    """moments_rounding is ε_t = (1 + γ_{d+10})^t − 1 = (1 − (d + 10) u)^(−t) − 1
    rounded up (by at most 16 u, relative); cloud_rounding is ((T + 1)(d + 20) + 400) u exactly;
    floor_rounding is its stated chain of factors, above it and within 1e-9 of it
    (computed from upper bounds of c_k and F)."""
    u = mpmath.mpf(2) ** -53
    with mpmath.workdps(60):
        for d in (1, 7, 10**6):
            for T in (5, 10**6):
                eps = sgd.moments_rounding(d, T)
                assert eps.shape == (T + 1,) and eps[0] == 0.0
                for t in (1, T // 3, T):
                    exact = (1 - (d + 10) * u) ** (-t) - 1
                    assert exact <= mpmath.mpf(float(eps[t])) <= exact * (1 + 16 * u)
    for d, T in ((1, 0), (13, 999), (10**6, 10**6)):
        assert Fraction(sgd.cloud_rounding(d, T)) == Fraction((T + 1) * (d + 20) + 400,
                                                              2**53)
    uf = Fraction(1, 2**53)

    def gamma(n):
        return n * uf / (1 - n * uf)

    cases = ((np.array([1.0]), 1, 0.5), (spectra.power_law(5, 1.0), 7, 0.9),
             (np.ones(3), 1, 0.99), (spectra.exponential(4, 0.1), 2, 0.999))
    for lam, B, frac in cases:
        eta = frac * sgd.stability_threshold(lam, B)
        got = sgd.floor_rounding(lam, eta, B)
        a = [fr(eta) * fr(x) for x in lam]
        den = [2 * B - (B + 1) * x for x in a]
        F = sum(x / y for x, y in zip(a, den))
        e = [(1 + (B + 1) * x / y * gamma(2)) * (1 + uf) - 1 for x, y in zip(a, den)]
        e_F = max((1 + uf) ** 2 / (1 - ek) for ek in e) * (1 + gamma(lam.size - 1)) - 1
        e_q = (1 + e_F * F / (1 - F)) * (1 + uf) - 1
        for g, ek in zip(got, e):
            stated = (1 + uf) ** 2 / ((1 - ek) * (1 - e_q) * (1 - uf)) - 1
            assert stated <= fr(g) <= stated * (1 + Fraction(1, 10**9))


def test_floor_bound_is_infinite_where_its_chain_breaks():
    """At the largest learning rate the threshold test accepts, F is within a few u of
    1, and for batches of 2^52 the denominators' cancellation c_k γ_2 is near 1: in
    both cases the chain of factors has no meaning and the bound is inf."""
    lam = spectra.power_law(3, 1.0)
    eta = sgd.stability_threshold(lam, 2)
    while sgd.stability_function(lam, eta, 2) >= 1.0:
        eta = np.nextafter(eta, 0.0)
    assert np.all(np.isinf(sgd.floor_rounding(lam, eta, 2)))
    B = 2**52
    for k in (5, 6):  # one mode, η = 2 − k 2^-52: den = k − 2, F = η/den, c = (B + 1) F
        eta = 2.0 - k * 2.0**-52
        assert sgd.stability_function([1.0], eta, B) == pytest.approx(2 / (k - 2))
        assert np.all(np.isinf(sgd.floor_rounding([1.0], eta, B)))


def test_simulator_draws_as_documented():
    """Two steps of three runs against the update written out, with the inputs and then
    (only when σ_ε > 0) the label noises of each step drawn from the seed as stated."""
    lam, b = np.array([2.0, 0.5]), np.array([1.0, -0.5])
    c0 = np.array([[0.0, 0.0], [1.0, 2.0], [-0.3, 0.1]])
    M, B, T, eta, seed = 3, 2, 2, 0.2, 9
    for s2 in (0.0, 0.49):
        got = sgd.simulate_online(lam, b, c0, eta, B, T, seed, label_noise=s2)
        rng = np.random.default_rng(seed)
        c = c0.copy()
        ref = [c.copy()]
        for _ in range(T):
            x = rng.standard_normal((M, B, 2)) * np.sqrt(lam)
            eps = np.sqrt(s2) * rng.standard_normal((M, B)) if s2 else np.zeros((M, B))
            for j in range(M):
                grad = sum(x[j, k] * (x[j, k] @ (c[j] - b) - eps[j, k])
                           for k in range(B))
                c[j] = c[j] - eta / B * grad
            ref.append(c.copy())
        np.testing.assert_allclose(got, np.stack(ref, axis=1), rtol=1e-13, atol=1e-15)
