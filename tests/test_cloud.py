"""ribbonlib.cloud and chapter 3 on their whole domain.

Every accuracy statement of :mod:`ribbonlib.cloud` and every proposition of chapter 3
is tested over the domain it claims: ``η λ_k`` from 1e-12 to just below 2 (so ``r_k``
of both signs, close to 1, to 0 and to −1), spreads up to 1e12, ``T`` from 0 to 1e6,
``d`` from 1, ``b`` with random signs, decay and zeros, ``s >= 0``. The references never
share code with the library's float64 algorithm (log1p/expm1 closed forms and exact
power series):

* Arb enclosures of the plain closed forms (:func:`arb_time` below and
  :func:`ribbonlib.certify.cloud_matrices`), so that an accuracy claim is *proved* for
  every example (``arb`` comparisons are true only when certain);
* exact rational arithmetic (``fractions``) of the defining sums over ``t`` and over the
  runs ``j``, with ``λ_k`` squares of floats so that ``sqrt(λ_k)`` is rational too.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp
from flint import arb, ctx
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ribbonlib import certify, cloud

U = cloud.UNIT_ROUNDOFF


# ------------------------------------------------------------------------ strategies


@st.composite
def rates(draw, max_d: int = 6, T: int | None = None):
    """``η λ_k`` in (0, 2): near 2, near 1, generic, log-uniform down to 1e-12, and
    at the slow threshold."""
    d = draw(st.integers(1, max_d))
    n = 1 + (T if T is not None else 10)
    threshold = -np.expm1(-1.0 / n)  # n |log r| = 1: where the series takes over
    out = []
    for _ in range(d):
        kind = draw(st.integers(0, 5))
        x = draw(st.floats(0.0, 1.0))
        if kind == 0:
            a = 2.0 - 10.0 ** (-1 - 11 * x)
        elif kind == 1:
            a = 1.0 + (1 if draw(st.booleans()) else -1) * 10.0 ** (-1 - 11 * x)
        elif kind == 2:
            a = 1e-6 + (2 - 1e-6) * x
        elif kind == 3:
            a = 10.0 ** (-12 * x)
        elif kind == 4:
            a = threshold * (1 + (x - 0.5) * 1e-2)
        else:
            a = 1.0 if x < 0.2 else threshold * 10.0 ** (-8 * x)
        out.append(min(max(a, 1e-12), np.nextafter(2.0, 0.0)))
    return np.array(out)


steps = st.one_of(
    st.integers(0, 4),
    st.integers(0, 300),
    st.floats(0.0, 6.0).map(lambda x: int(10.0**x)),
)
etas = st.one_of(st.just(1.0), st.just(0.5), st.floats(1e-3, 1e3))


@st.composite
def problems(draw, max_d: int = 6, max_T: int | None = None):
    """``(lam, eta, T)`` on the whole domain; the exact rates ``η λ_k`` are below 2."""
    T = draw(steps if max_T is None else st.integers(0, max_T))
    a = draw(rates(max_d=max_d, T=T))
    eta = draw(etas)
    lam = a / eta
    assume(np.all(lam > 0) and np.all(np.isfinite(lam)) and eta * lam.max() < 2.0)
    return lam, eta, T


@st.composite
def ground_truths(draw, d: int):
    """``b`` with random signs, a random decay and some zeros (not all)."""
    signs = np.array(
        draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=d, max_size=d))
    )
    decay = draw(st.floats(0.0, 3.0))
    zeros = np.array(draw(st.lists(st.booleans(), min_size=d, max_size=d)))
    scale = draw(st.floats(1e-3, 1e3))
    b = scale * signs * 10.0 ** (-decay * np.arange(d) / max(d - 1, 1))
    b[zeros & (np.arange(d) > 0)] = 0.0
    return b


# ------------------------------------------------------------------------ references


def exact_rates(lam, eta):
    return [Fraction(float(eta)) * Fraction(float(x)) for x in lam]


def arb_time(lam, eta, T, bits=256, target=60):
    """Arb balls of ``G``, ``m`` and ``G − m mᵀ`` from the plain closed forms (exact
    rates), at a precision raised until every entry has ``target`` relative bits."""
    d, n = len(lam), T + 1
    while True:
        with ctx.workprec(bits):
            e = certify.to_arb(float(eta))
            a = [e * certify.to_arb(float(x)) for x in lam]
            r = [1 - x for x in a]
            m = [(1 - rk**n) / (n * ak) for rk, ak in zip(r, a)]
            G = [[None] * d for _ in range(d)]
            C = [[None] * d for _ in range(d)]
            for k in range(d):
                for l in range(d):
                    G[k][l] = (1 - (r[k] * r[l]) ** n) / (
                        n * (a[k] + a[l] - a[k] * a[l])
                    )
                    C[k][l] = G[k][l] - m[k] * m[l]
            flat = [v for row in C for v in row] + [v for row in G for v in row] + m
            if all(v.is_exact() or v.rel_accuracy_bits() > target for v in flat):
                return G, m, C
        bits *= 2


def same_sign(lam, eta):
    """``S[k, l]``: ``r_k`` and ``r_l`` of the same sign (``η λ <= 1`` for both, or
    ``> 1`` for both)."""
    below = np.array([x <= 1 for x in exact_rates(lam, eta)])
    return below[:, None] == below[None, :]


def within(value, exact, tol) -> bool:
    """Proved ``|value − exact| <= tol`` (``value``, ``tol``: floats, taken exactly;
    ``exact``: a ball)."""
    with ctx.workprec(1024):
        return bool(
            abs(certify.to_arb(float(value)) - exact) <= certify.to_arb(float(tol))
        )


def assert_within(name, values, exact, tols):
    bad = [
        (idx, float(values[idx]), exact[idx], float(tols[idx]))
        for idx in np.ndindex(values.shape)
        if not within(values[idx], exact[idx], tols[idx])
    ]
    assert (
        not bad
    ), f"{name}: {len(bad)} entries outside the documented accuracy, e.g. {bad[0]}"


def ball_array(rows):
    out = np.empty(
        (len(rows), len(rows[0])) if isinstance(rows[0], list) else (len(rows),),
        dtype=object,
    )
    for idx in np.ndindex(out.shape):
        out[idx] = rows[idx[0]][idx[1]] if out.ndim == 2 else rows[idx[0]]
    return out


def upper(x) -> float:
    """A float64 >= the ball ``x`` (for tolerances built from exact values)."""
    return float(certify.enclose(x).hi)


# ------------------------------------------------------------ float64 accuracy claims


@settings(max_examples=150)
@given(problems())
def test_time_averages_meet_their_documented_accuracy(problem):
    lam, eta, T = problem
    G, m, cov = cloud.time_averages(lam, eta, T)
    Ga, ma, Ca = (ball_array(x) for x in arb_time(lam, eta, T))
    Gu = np.vectorize(upper)(Ga)
    mu = np.vectorize(upper)(ma)
    assert_within("G", G, Ga, cloud.TIME_ULP * U * Gu)
    assert_within("m", m, ma, cloud.TIME_ULP * U * mu)
    assert_within(
        "cov vs G + m m", cov, Ca, cloud.COV_ULP * U * (Gu + np.outer(mu, mu))
    )
    same = same_sign(lam, eta)
    Cu = np.vectorize(lambda x: float(certify.enclose(abs(x)).hi))(Ca)
    tol = np.where(same, cloud.SAME_SIGN_ULP * U * Cu, np.inf)
    tol[~same] = cloud.COV_ULP * U * (Gu + np.outer(mu, mu))[~same]
    assert_within("cov componentwise for same-sign pairs", cov, Ca, tol)


@settings(max_examples=80)
@given(problems(), st.data())
def test_signal_noise_and_covariance_meet_their_documented_accuracy(problem, data):
    lam, eta, T = problem
    d = lam.size
    b = data.draw(ground_truths(d))
    s = data.draw(st.one_of(st.just(0.0), st.floats(1e-3, 1e3)))
    M = data.draw(st.one_of(st.none(), st.integers(1, 10**6)))
    S_a, noise_a = certify.cloud_matrices(lam, b, eta, T)
    S_a = ball_array([[S_a[k, l] for l in range(d)] for k in range(d)])
    G, m, _ = arb_time(lam, eta, T)
    with ctx.workprec(256):
        ub = [
            certify.to_arb(float(x)).sqrt() * certify.to_arb(float(y))
            for x, y in zip(lam, b)
        ]
        scale = ball_array(
            [
                [abs(ub[k] * ub[l]) * (G[k][l] + m[k] * m[l]) for l in range(d)]
                for k in range(d)
            ]
        )
        s2 = certify.to_arb(float(s)) ** 2
        corr = [
            0 if M is None else s2 * certify.to_arb(float(lam[k])) * m[k] ** 2 / (d * M)
            for k in range(d)
        ]
        noise = ball_array([s2 * noise_a[k] - corr[k] for k in range(d)])
    same = same_sign(lam, eta)
    S = cloud.signal_covariance(lam, b, eta, T)
    S_abs = np.vectorize(lambda x: float(certify.enclose(abs(x)).hi))(S_a)
    tol_S = (cloud.COV_ULP + cloud.SCALE_ULP) * U * np.vectorize(upper)(scale)
    tol_S[same] = (cloud.SAME_SIGN_ULP + cloud.SCALE_ULP) * U * S_abs[same]
    assert_within("S", S, S_a, tol_S)
    n = cloud.noise_variances(lam, s, eta, T, n_inits=M)
    ulp_n = cloud.TIME_ULP if M is None else cloud.SAME_SIGN_ULP
    tol_n = (ulp_n + cloud.SCALE_ULP) * U * np.vectorize(upper)(noise)
    assert_within("noise", n, noise, tol_n)
    C = cloud.covariance(lam, b, s, eta, T, n_inits=M)
    C_a = S_a.copy()
    tol_C = tol_S.copy()
    for k in range(d):
        C_a[k, k] = S_a[k, k] + noise[k]
        tol_C[k, k] = (cloud.SAME_SIGN_ULP + cloud.SCALE_ULP + 1) * U * upper(C_a[k, k])
    assert_within("C", C, C_a, tol_C)
    assert np.all(np.diag(S) >= 0) and np.all(n >= 0)
    # the same statements as numbers: cloud.float64_error_bounds
    bounds = cloud.float64_error_bounds(lam, b, s, eta, T, n_inits=M)
    assert_within("S (float64_error_bounds)", S, S_a, bounds["S"])
    assert_within("noise (float64_error_bounds)", n, noise, bounds["noise"])
    assert_within("C (float64_error_bounds)", C, C_a, bounds["C"])
    Gt, mt, ct = cloud.time_averages(lam, eta, T)
    Ga, ma, Ca = (ball_array(x) for x in (G, m, arb_time(lam, eta, T)[2]))
    assert_within("G (float64_error_bounds)", Gt, Ga, bounds["G"])
    assert_within("m (float64_error_bounds)", mt, ma, bounds["m"])
    assert_within("cov (float64_error_bounds)", ct, Ca, bounds["cov"])


@settings(max_examples=25)
@given(problems(max_d=4), st.sampled_from([16, 20, 30]), st.data())
def test_precision_path_is_accurate_to_its_digits(problem, digits, data):
    lam, eta, T = problem
    b = data.draw(ground_truths(lam.size))
    G, m, cov = cloud.time_averages(lam, eta, T, precision=digits)
    S = cloud.signal_covariance(lam, b, eta, T, precision=digits)
    target = int(3.33 * digits) + 30
    Ga, ma, Ca = (ball_array(x) for x in arb_time(lam, eta, T, target=target))
    with ctx.workprec(4 * target):
        ub = [
            certify.to_arb(float(x)).sqrt() * certify.to_arb(float(y))
            for x, y in zip(lam, b)
        ]
        S_a = ball_array(
            [
                [ub[k] * ub[l] * Ca[k, l] for l in range(lam.size)]
                for k in range(lam.size)
            ]
        )
    rel = mpmath.mpf(10) ** -digits
    for value, exact in ((G, Ga), (m, ma), (cov, Ca), (S, S_a)):
        for idx in np.ndindex(value.shape):
            x, e = value[idx], exact[idx]
            assert isinstance(x, mpmath.mpf)
            if e == 0:
                assert x == 0
                continue
            with ctx.workprec(1024):
                tol = certify.to_arb(rel) * abs(e)
                assert bool(abs(certify.to_arb(x) - e) <= tol), (idx, x, e)


def test_rates_are_exact_products():
    from ribbonlib import _geometric

    rng = np.random.default_rng(0)
    eta = np.concatenate([rng.uniform(1e-3, 1e3, 200), [1e300, 1e-300, 0.1]])
    lam = np.concatenate(
        [rng.uniform(1e-3, 2, 200) / eta[:200], [1e-300, 1e300, 19.99]]
    )
    for e, x in zip(eta, lam):
        hi, lo = _geometric.rates(e, np.array([x]))
        assert Fraction(float(hi[0])) + Fraction(float(lo[0])) == Fraction(
            float(e)
        ) * Fraction(float(x))


def test_regression_alternating_modes_close_to_minus_one():
    # 1 − x^n for x close to −1 and even n was formed as 1 − exp(n L): 1e9 ulp wrong.
    lam, eta, T = np.array([2 - 1.4e-10, 1.57e-9]), 1.0, 1
    G, m, _ = cloud.time_averages(lam, eta, T)
    Ga, ma, _ = arb_time(lam, eta, T)
    assert within(G[0, 1], Ga[0][1], cloud.TIME_ULP * U * upper(Ga[0][1]))
    # the rounding of η λ near 2 must not count (2 − ηλ: relative error u/(2 − ηλ))
    lam2, eta2 = np.array([1.9999999999957232 / 4.212929358710058]), 4.212929358710058
    G2, m2, _ = cloud.time_averages(lam2, eta2, 1)
    _, ma2, _ = arb_time(lam2, eta2, 1)
    assert within(m2[0], ma2[0], cloud.TIME_ULP * U * upper(ma2[0]))


# ------------------------------------------------- exact clouds (rational arithmetic)


def dyadic(x: float, bits: int = 20) -> float:
    """``x`` rounded to ``bits`` significant bits (squares and products stay exact)."""
    mant, exp = np.frexp(x)
    return float(np.ldexp(np.round(mant * 2.0**bits) / 2.0**bits, exp))


@st.composite
def exact_problems(draw, max_d: int = 3, max_T: int = 6, max_M: int = 4):
    """``(q, b, s, eta, T, M)``, ``λ_k = q_k²`` exact in float64, ``sqrt(λ_k) = q_k``.

    The rates ``η λ_k`` cover (0, 2), with repeated eigenvalues, zeros in ``b`` and
    ``s = 0`` allowed."""
    d = draw(st.integers(1, max_d))
    eta = draw(st.sampled_from([1.0, 0.5, 0.75, 1.25]))
    a = [
        draw(st.one_of(st.floats(1e-6, 1.999), st.sampled_from([1.0, 0.5, 1.5, 1e-3])))
        for _ in range(d)
    ]
    if d > 1 and draw(st.booleans()):
        a[-1] = a[0]  # a repeated eigenvalue
    q = np.array([dyadic(np.sqrt(x / eta)) for x in a])
    assume(np.all(q > 0) and eta * np.max(q * q) < 2.0)
    b = np.array([dyadic(draw(st.floats(-2.0, 2.0))) for _ in range(d)])
    s = dyadic(draw(st.floats(0.0, 3.0)))
    T = draw(st.integers(0, max_T))
    M = draw(st.integers(1, max_M))
    return q, b, s, eta, T, M


def fr(x) -> Fraction:
    return Fraction(float(x))


def exact_time(q, eta, T):
    """``G``, ``m`` by explicit sums over ``t`` (rationals)."""
    n = T + 1
    r = [1 - fr(eta) * fr(x) ** 2 for x in q]
    m = [sum(rk**t for t in range(n)) / n for rk in r]
    G = [[sum((rk * rl) ** t for t in range(n)) / n for rl in r] for rk in r]
    return G, m, r


def exact_limit_covariance(q, b, s, eta, T):
    """``M → ∞`` cloud covariance by the law of total covariance over ``t`` (explicit
    sums): ``(1/n) Σ_t [(a(t) − ā)(a(t) − ā)ᵀ + σ² diag(λ r^(2t))]``."""
    d, n = len(q), T + 1
    _, _, r = exact_time(q, eta, T)
    a = [[fr(q[k]) * fr(b[k]) * (1 - r[k] ** t) for k in range(d)] for t in range(n)]
    abar = [sum(a[t][k] for t in range(n)) / n for k in range(d)]
    sig2 = fr(s) ** 2 / d
    C = [
        [
            sum((a[t][k] - abar[k]) * (a[t][l] - abar[l]) for t in range(n)) / n
            for l in range(d)
        ]
        for k in range(d)
    ]
    for k in range(d):
        C[k][k] += sig2 * fr(q[k]) ** 2 * sum(r[k] ** (2 * t) for t in range(n)) / n
    return C


class ExactCloud:
    """Covariance ``Ĉ`` of a cloud of ``M`` runs: exact quadratic forms in the draws.

    ``Ĉ_kl = c_kl + ℓ_klᵀ ξ + ξᵀ B_kl ξ`` with ``ξ`` the ``M·d`` draws (index
    ``j·d + k``), i.i.d. ``N(0, σ²)``, ``σ² = s²/d``: built from the ``M (T+1)`` points
    ``z_k(j, t) = q_k (b_k (1 − r_k^t) + r_k^t ξ_jk)`` centred on their mean, by
    explicit sums over ``j`` and ``t`` (no closed form). Moments of any linear
    functional ``F = Σ W_kl Ĉ_kl`` follow from the Gaussian quadratic-form identities
    ``E F = c + σ² tr B`` and
    ``κ_p = 2^(p−1)(p−1)! σ^(2p) tr B^p + p! 2^(p−3) σ^(2p−2) ℓᵀB^(p−2)ℓ``.
    """

    def __init__(self, q, b, s, eta, T, M):
        d, n = len(q), T + 1
        self.d, self.M, self.D = d, M, M * d
        self.sig2 = fr(s) ** 2 / d
        _, _, r = exact_time(q, eta, T)
        qf = [fr(x) for x in q]
        alpha = [
            [qf[k] * fr(b[k]) * (1 - r[k] ** t) for t in range(n)] for k in range(d)
        ]
        beta = [[qf[k] * r[k] ** t for t in range(n)] for k in range(d)]
        abar = [sum(x) / n for x in alpha]
        bbar = [sum(x) / n for x in beta]
        N = M * n
        self.c, self.ell, self.B = {}, {}, {}
        for k in range(d):
            for l in range(d):
                c = (
                    sum(
                        (alpha[k][t] - abar[k]) * (alpha[l][t] - abar[l])
                        for t in range(n)
                    )
                    / n
                )
                ell = [Fraction(0)] * self.D
                Bkl = [[Fraction(0)] * M for _ in range(M)]  # block (mode k, mode l)
                for j in range(M):
                    for t in range(n):
                        pk, pl = alpha[k][t] - abar[k], alpha[l][t] - abar[l]
                        Lk = [
                            (beta[k][t] if jj == j else 0) - bbar[k] / M
                            for jj in range(M)
                        ]
                        Ll = [
                            (beta[l][t] if jj == j else 0) - bbar[l] / M
                            for jj in range(M)
                        ]
                        for jj in range(M):
                            ell[jj * d + l] += pk * Ll[jj] / N
                            ell[jj * d + k] += pl * Lk[jj] / N
                            for ii in range(M):
                                Bkl[jj][ii] += Lk[jj] * Ll[ii] / N
                self.c[k, l], self.ell[k, l], self.B[k, l] = c, ell, Bkl

    def form(self, W):
        """``(c, ℓ, B)`` of ``F = Σ_kl W_kl Ĉ_kl`` (``B`` symmetrised, ``D × D``)."""
        d, M, D = self.d, self.M, self.D
        c = Fraction(0)
        ell = [Fraction(0)] * D
        B = [[Fraction(0)] * D for _ in range(D)]
        for k in range(d):
            for l in range(d):
                w = fr(W[k][l])
                if w == 0:
                    continue
                c += w * self.c[k, l]
                for i in range(D):
                    ell[i] += w * self.ell[k, l][i]
                for jj in range(M):
                    for ii in range(M):
                        v = w * self.B[k, l][jj][ii] / 2
                        B[jj * d + k][ii * d + l] += v
                        B[ii * d + l][jj * d + k] += v
        return c, ell, B

    def moments(self, W):
        """``(mean, κ2, κ3, κ4)`` of ``F = Σ_kl W_kl Ĉ_kl``, exact."""
        c, ell, B = self.form(W)
        D, s2 = self.D, self.sig2

        def mul(X, Y):
            return [
                [sum(X[i][k] * Y[k][j] for k in range(D)) for j in range(D)]
                for i in range(D)
            ]

        def tr(X):
            return sum(X[i][i] for i in range(D))

        def quad(X):
            return sum(ell[i] * X[i][j] * ell[j] for i in range(D) for j in range(D))

        B2 = mul(B, B)
        B3 = mul(B2, B)
        B4 = mul(B2, B2)
        mean = c + s2 * tr(B)
        k2 = s2 * sum(x * x for x in ell) + 2 * s2**2 * tr(B2)
        k3 = 6 * s2**2 * quad(B) + 8 * s2**3 * tr(B3)
        k4 = 48 * s2**3 * quad(B2) + 48 * s2**4 * tr(B4)
        return mean, k2, k3, k4

    def entry(self, k, l):
        W = [[0.0] * self.d for _ in range(self.d)]
        W[k][l] = 1.0
        return self.moments(W)


def exact_rank(A) -> int:
    """Rank of a matrix of Fractions (Gaussian elimination, exact)."""
    A = [row[:] for row in A]
    rank, rows, cols = 0, len(A), len(A[0]) if A else 0
    for c in range(cols):
        piv = next((i for i in range(rank, rows) if A[i][c] != 0), None)
        if piv is None:
            continue
        A[rank], A[piv] = A[piv], A[rank]
        for i in range(rows):
            if i != rank and A[i][c] != 0:
                f = A[i][c] / A[rank][c]
                A[i] = [x - f * y for x, y in zip(A[i], A[rank])]
        rank += 1
    return rank


# ------------------------------------------------------- propositions of chapter 3


def _tol_C(C_exact, q, b, s, eta, T, M):
    """Documented float64 accuracy of ``cloud.covariance`` around exact values."""
    G, m, r = exact_time(q, eta, T)
    d = len(q)
    tol = np.empty((d, d))
    for k in range(d):
        for l in range(d):
            if k == l:
                tol[k, k] = (
                    (cloud.SAME_SIGN_ULP + cloud.SCALE_ULP + 1)
                    * U
                    * float(abs(C_exact[k][k]))
                )
            elif (r[k] >= 0) == (r[l] >= 0):
                tol[k, l] = (
                    (cloud.SAME_SIGN_ULP + cloud.SCALE_ULP)
                    * U
                    * float(abs(C_exact[k][l]))
                )
            else:
                bar = abs(fr(q[k]) * fr(q[l]) * fr(b[k]) * fr(b[l])) * (
                    G[k][l] + m[k] * m[l]
                )
                tol[k, l] = (cloud.COV_ULP + cloud.SCALE_ULP) * U * float(bar)
    return tol * (1 + 1e-12) + 1e-300


def _assert_close_exact(name, value, exact, tol):
    err = np.array(
        [
            [abs(Fraction(float(value[k, l])) - exact[k][l]) for l in range(len(exact))]
            for k in range(len(exact))
        ],
        dtype=object,
    )
    bad = [
        (k, l)
        for k, l in np.ndindex(err.shape)
        if err[k, l] > Fraction(float(tol[k, l]))
    ]
    assert (
        not bad
    ), f"{name}: entries {bad} off by {[float(err[i]) for i in bad]}, tol {tol}"


@settings(max_examples=40)
@given(exact_problems(max_T=40))
def test_expected_cloud_covariance_is_S_plus_noise_minus_finite_M_correction(problem):
    """Proposition prop-cloud-cov, eq-cloud-cov and eq-cloud-finite: the library's
    closed forms against the exact expectation of the covariance of an explicit cloud.
    """
    q, b, s, eta, T, M = problem
    lam = q * q
    C_inf = exact_limit_covariance(q, b, s, eta, T)
    _assert_close_exact(
        "C (M -> inf)",
        cloud.covariance(lam, b, s, eta, T),
        C_inf,
        _tol_C(C_inf, q, b, s, eta, T, None),
    )
    if T <= 6:
        ex = ExactCloud(q, b, s, eta, T, M)
        d = len(q)
        C_M = [[ex.entry(k, l)[0] for l in range(d)] for k in range(d)]
        _assert_close_exact(
            "E C_hat (finite M)",
            cloud.covariance(lam, b, s, eta, T, n_inits=M),
            C_M,
            _tol_C(C_M, q, b, s, eta, T, M),
        )
        # the correction is diagonal and equals (s²/d) λ_k m_k² / M, exactly
        _, m, _ = exact_time(q, eta, T)
        for k in range(d):
            for l in range(d):
                corr = C_inf[k][l] - C_M[k][l]
                assert corr == (
                    ex.sig2 * fr(q[k]) ** 2 * m[k] ** 2 / M if k == l else 0
                )


@settings(max_examples=60)
@given(exact_problems(max_d=7, max_T=10))
def test_rank_of_S_is_min_of_distinct_supported_rates_and_T(problem):
    """rank S = min(d', T), d' the number of distinct r_k with b_k != 0 (rationals)."""
    q, b, _, eta, T, _ = problem
    G, m, r = exact_time(q, eta, T)
    d = len(q)
    u = [fr(q[k]) * fr(b[k]) for k in range(d)]
    S = [[u[k] * u[l] * (G[k][l] - m[k] * m[l]) for l in range(d)] for k in range(d)]
    d_prime = len({r[k] for k in range(d) if b[k] != 0})
    assert exact_rank(S) == min(d_prime, T)
    assert exact_rank(S) <= min(d, T)


@settings(max_examples=40)
@given(exact_problems(max_d=5, max_T=30))
def test_G_closed_form_and_the_gram_form_of_S(problem):
    """eq-cloud-G exactly, and G − m mᵀ = (1/n) Σ_t (r^t − m)(r^t − m)ᵀ (so S ⪰ 0)."""
    q, _, _, eta, T, _ = problem
    G, m, r = exact_time(q, eta, T)
    n = T + 1
    for k in range(len(q)):
        assert m[k] == (1 - r[k] ** n) / (n * (1 - r[k]))
        for l in range(len(q)):
            x = r[k] * r[l]
            assert G[k][l] == (1 - x**n) / (n * (1 - x))
            gram = sum((r[k] ** t - m[k]) * (r[l] ** t - m[l]) for t in range(n)) / n
            assert G[k][l] - m[k] * m[l] == gram


@settings(max_examples=30)
@given(
    problems(max_d=5, max_T=60), st.integers(2, 60), st.integers(0, 2**16), st.data()
)
def test_kato_temple_as_chapter_3_uses_it(problem, M, seed, data):
    """For a sampled cloud and the eigenvectors v_i of E Ĉ: with ρ_i = v_iᵀĈv_i and
    residual ‖Ĉv_i − ρ_i v_i‖, the eigenvalue μ_i(Ĉ) lies in the Kato–Temple interval
    whenever (β − ρ)(ρ − α) > res² for the neighbours α = μ_{i+1}(Ĉ),
    β = μ_{i−1}(Ĉ); and |μ_i(Ĉ) − ρ_i| <= ‖E v_i‖²/(δ_i − 2‖E‖) when 4‖E‖ < δ_i
    (eigen_standard_errors).
    Eigenvalues of Ĉ from mpmath at 40 digits."""
    from ribbonlib import montecarlo

    lam, eta, T = problem
    d = lam.size
    b = data.draw(ground_truths(d))
    s = data.draw(st.floats(0.01, 3.0))
    _, C_hat = cloud.sample_moments(lam, b, s, eta, T, M, seed=seed)
    mu, V, _ = montecarlo.eigen_standard_errors(lam, b, s, eta, T, M)
    C_exp = cloud.covariance(lam, b, s, eta, T, n_inits=M)
    scale = max(np.abs(C_hat).max(), np.abs(C_exp).max())
    assume(scale > 0)
    with mpmath.workdps(40):
        A = mpmath.matrix(C_hat.tolist())
        ev = sorted(mpmath.eigsy(A, eigvals_only=True), reverse=True)
        E = A - mpmath.matrix(C_exp.tolist())
        normE = max(abs(x) for x in mpmath.eigsy(E, eigvals_only=True))
        slack = mpmath.mpf(10) ** -30 * scale
        for i in range(d):
            x = mpmath.matrix(V[:, i].tolist())
            xx = (x.T * x)[0]
            rho = (x.T * A * x)[0] / xx
            res2 = mpmath.norm(A * x - rho * x) ** 2 / xx
            alpha = ev[i + 1] if i + 1 < d else -mpmath.inf
            beta = ev[i - 1] if i > 0 else mpmath.inf
            if alpha < rho < beta and (beta - rho) * (rho - alpha) > res2:
                lo = rho - (res2 / (beta - rho) if beta < mpmath.inf else 0)
                hi = rho + (res2 / (rho - alpha) if alpha > -mpmath.inf else 0)
                assert lo - slack <= ev[i] <= hi + slack
            gap = min(
                [abs(mu[j] - mu[i]) for j in range(d) if j != i], default=mpmath.inf
            )
            if 4 * normE < gap:
                Ev = mpmath.norm(E * mpmath.matrix(V[:, i].tolist()))
                assert abs(ev[i] - rho) <= Ev**2 / (gap - 2 * normE) + slack


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: cloud.time_averages([1.0, np.nan], 0.5, 3), "lam must be finite"),
        (lambda: cloud.time_averages([1.0], 0.5, -1), "steps"),
        (lambda: cloud.time_averages([1.0], 2.0, 3), "eta"),
        (lambda: cloud.time_averages([1.0], 0.5, 3, precision=8), "precision"),
        (lambda: cloud.noise_variances([1.0], -0.1, 0.5, 3), "s must be"),
        (lambda: cloud.noise_variances([1.0], 1.0, 0.5, 3, n_inits=0), "n_inits"),
        (lambda: cloud.signal_covariance([1.0, 2.0], [1.0], 0.5, 3), "b must be"),
        (lambda: cloud.signal_covariance([1.0], [np.inf], 0.5, 3), "b must be finite"),
        (lambda: cloud.covariance([1.0], [1.0], 1.0, 0.5, 2.5), "steps"),
    ],
)
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@settings(max_examples=30)
@given(exact_problems(max_d=4, max_T=40))
def test_certified_time_averages_contain_the_exact_sums(problem):
    """certify.time_averages (behind chapter 3's certified checks) vs exact sums."""
    q, _, _, eta, T, _ = problem
    G, m, r = exact_time(q, eta, T)
    Ga, ma, Ca = certify.time_averages(q * q, eta, T)
    with ctx.workprec(2048):
        for k in range(len(q)):
            assert ma[k].contains(arb(m[k].numerator) / m[k].denominator)
            for l in range(len(q)):
                for ball, exact in (
                    (Ga[k, l], G[k][l]),
                    (Ca[k, l], G[k][l] - m[k] * m[l]),
                ):
                    assert (
                        ball.contains(arb(exact.numerator) / exact.denominator)
                        or exact == 0 == ball
                    )


# ------------------------------------------------- references of chapter 3's checks


@settings(max_examples=40, deadline=None)
@given(
    problems(max_d=4, max_T=300), st.integers(1, 3), st.integers(0, 2**16), st.data()
)
def test_sample_error_bound_holds_and_exact_points_enclose_the_mode_solution(
    problem, M, seed, data
):
    """cloud.sample against the mode solution at the draws read back from the cloud,
    evaluated in mpmath at 100 digits (no Arb): within sample_error_bound, and inside
    the balls of exact_points."""
    lam, eta, T = problem
    d = lam.size
    b = data.draw(ground_truths(d))
    s = data.draw(st.floats(0.0, 10.0))
    Z = cloud.sample(lam, b, s, eta, T, M, seed=seed)
    bound = cloud.sample_error_bound(Z, lam, b, eta, T)
    balls = cloud.exact_points(Z, lam, b, eta, T)
    xi = Z[:: T + 1] / np.sqrt(lam)
    with mpmath.workdps(100):
        for k in range(d):
            root = mpmath.sqrt(mpmath.mpf(lam[k]))
            r = 1 - mpmath.mpf(eta) * mpmath.mpf(lam[k])
            bk = mpmath.mpf(b[k])
            for j in range(M):
                power = mpmath.mpf(1)
                for t in range(T + 1):
                    z = root * (bk * (1 - power) + power * mpmath.mpf(xi[j, k]))
                    row = j * (T + 1) + t
                    scale = abs(root * bk * (1 - power)) + abs(root * power * xi[j, k])
                    slack = mpmath.mpf(10) ** -55 * scale
                    assert abs(mpmath.mpf(Z[row, k]) - z) <= bound[row, k] + slack
                    ball = balls[row, k]
                    assert abs(certify.to_mpf(ball) - z) <= mpmath.mpf(
                        ball.rad()
                    ) + slack
                    power *= r


def test_sample_error_bound_rejects_a_cloud_of_the_wrong_shape():
    Z = cloud.sample([1.0, 0.5], [1.0, 1.0], 1.0, 0.5, 4, 2, seed=1)
    with pytest.raises(ValueError, match="points must have shape"):
        cloud.sample_error_bound(Z[:-1], [1.0, 0.5], [1.0, 1.0], 0.5, 4)
    with pytest.raises(ValueError, match="points must have shape"):
        cloud.exact_points(Z, [1.0, 0.5, 0.1], [1.0, 1.0, 1.0], 0.5, 4)


@settings(max_examples=30)
@given(exact_problems(max_d=4, max_T=40))
def test_brute_force_moments_contain_the_exact_sums(problem):
    """Arb term-by-term sums against the same sums in rational arithmetic: the balls
    contain the exact values and are as narrow as the working precision makes them
    (radius below ``2^-400`` of the problem's scale at the default 512 bits), so that
    no enclosure holds only by being wide."""
    q, b, s, eta, T, _ = problem
    G, m, _ = exact_time(q, eta, T)
    C = exact_limit_covariance(q, b, s, eta, T)
    Ga, ma, Ca = cloud.brute_force_moments(q * q, b, s, eta, T)
    scale = 1.0 + float(np.sum((q * b) ** 2) + s**2 * np.sum(q * q))
    with ctx.workprec(2048):
        for k in range(len(q)):
            assert ma[k].contains(arb(m[k].numerator) / m[k].denominator)
            assert float(ma[k].rad()) <= 2.0**-400
            for l in range(len(q)):
                for ball, exact in ((Ga[k, l], G[k][l]), (Ca[k, l], C[k][l])):
                    assert ball.contains(arb(exact.numerator) / exact.denominator)
                    assert float(ball.rad()) <= 2.0**-400 * scale


def flat_balls(x) -> list:
    """The balls of an array or of a tuple of arrays, in order."""
    if isinstance(x, tuple):
        return [ball for part in x for ball in flat_balls(part)]
    return list(np.ravel(x))


def test_reference_defaults_are_the_documented_precisions():
    """``brute_force_moments`` works at 512 bits and ``exact_points`` at 256 unless told
    otherwise (the signatures' defaults), and both accept the smallest precision,
    ``bits = 53``, where the balls still contain the exact values."""
    lam, b, s, eta, T = [1.0, 0.3], [1.0, -0.5], 0.75, 0.75, 4
    Z = cloud.sample(lam, b, s, eta, T, 2, 5)
    for default, explicit in (
        (
            cloud.brute_force_moments(lam, b, s, eta, T),
            cloud.brute_force_moments(lam, b, s, eta, T, bits=512),
        ),
        (
            cloud.exact_points(Z, lam, b, eta, T),
            cloud.exact_points(Z, lam, b, eta, T, bits=256),
        ),
    ):
        for x, y in zip(flat_balls(default), flat_balls(explicit)):
            assert x.mid() == y.mid() and x.rad() == y.rad()
    q = np.array([1.0, 0.5])
    G, m, _ = exact_time(q, eta, T)
    C = exact_limit_covariance(q, b, s, eta, T)
    Ga, ma, Ca = cloud.brute_force_moments(q * q, b, s, eta, T, bits=53)
    for k in range(2):
        assert ma[k].contains(arb(m[k].numerator) / m[k].denominator)
        for l in range(2):
            assert Ga[k, l].contains(arb(G[k][l].numerator) / G[k][l].denominator)
            assert Ca[k, l].contains(arb(C[k][l].numerator) / C[k][l].denominator)
    balls = cloud.exact_points(Z, lam, b, eta, T, bits=53)
    assert all(ball.rad() < 1e-10 for ball in balls.ravel())


@settings(max_examples=60)
@given(exact_problems(max_d=7, max_T=10))
def test_exact_signal_rank_is_min_of_distinct_supported_rates_and_T(problem):
    """Proposition prop-cloud-cov: rank S = min(d', T), and exact_signal_rank agrees
    with Gaussian elimination of S built from explicit sums."""
    q, b, _, eta, T, _ = problem
    G, m, r = exact_time(q, eta, T)
    d = len(q)
    u = [fr(q[k]) * fr(b[k]) for k in range(d)]
    S = [[u[k] * u[l] * (G[k][l] - m[k] * m[l]) for l in range(d)] for k in range(d)]
    d_prime = len({r[k] for k in range(d) if b[k] != 0})
    rank = cloud.exact_signal_rank(q * q, b, eta, T)
    assert rank == exact_rank(S) == min(d_prime, T)


@pytest.mark.parametrize("T", [0, 1, 2, 3, 6])
def test_exact_signal_rank_at_simple_rational_rates(T):
    """Rates ``ηλ = 1/2, 1, 3/2, 1/4`` (``r = 1/2, 0, −1/2, 3/4``), one repeated and one
    mode with ``b = 0``: the rank is that of the centred powers ``r_k^t − m_k`` of the
    supported modes, by explicit sums over ``t`` and exact elimination, and equals
    ``min(d', T)``."""
    eta, lam = 1.0, [0.5, 1.0, 1.5, 0.25, 0.5, 0.25]
    b = [1.0, -2.0, 0.5, 0.0, 3.0, 1.0]
    n = T + 1
    r = [1 - fr(eta) * fr(x) for x, bk in zip(lam, b) if bk != 0]
    m = [sum(rk**t for t in range(n)) / n for rk in r]
    gram = [
        [sum((rk**t - mk) * (rl**t - ml) for t in range(n)) / n for rl, ml in zip(r, m)]
        for rk, mk in zip(r, m)
    ]
    assert cloud.exact_signal_rank(lam, b, eta, T) == exact_rank(gram) == min(4, T)


def stated_float64_bounds(lam, b, s, eta, T, M):
    """The bounds of ``cloud.float64_error_bounds`` as its docstring states them: the
    documented accuracy of each closed form (``TIME_ULP``, ``COV_ULP``,
    ``SAME_SIGN_ULP``, ``SCALE_ULP``), evaluated in mpmath from the float64 values
    and inflated by ``1 + 2^-20``; same and opposite signs of ``r_k`` decided from the
    exact rates."""
    G, m, cov = cloud.time_averages(lam, eta, T)
    S = cloud.signal_covariance(lam, b, eta, T)
    noise = cloud.noise_variances(lam, s, eta, T, n_inits=M)
    same = same_sign(lam, eta)
    d = len(lam)
    mp = mpmath.mpf
    with mpmath.workdps(40):
        u, grow = mp(2) ** -53, 1 + mp(2) ** -20
        out = {
            "G": [[cloud.TIME_ULP * u * mp(x) * grow for x in row] for row in G],
            "m": [cloud.TIME_ULP * u * mp(x) * grow for x in m],
        }
        w = [mpmath.sqrt(mp(x)) * abs(mp(y)) for x, y in zip(lam, b)]
        cov_b, S_b = [[None] * d for _ in range(d)], [[None] * d for _ in range(d)]
        for k in range(d):
            for l in range(d):
                gm = mp(G[k, l]) + mp(m[k]) * mp(m[l])
                wide = cloud.COV_ULP * gm
                wide_S = (cloud.COV_ULP + cloud.SCALE_ULP) * w[k] * w[l] * gm
                if same[k, l]:
                    wide = min(wide, cloud.SAME_SIGN_ULP * abs(mp(cov[k, l])))
                    top_S = cloud.SAME_SIGN_ULP + cloud.SCALE_ULP
                    wide_S = min(wide_S, top_S * abs(mp(S[k, l])))
                cov_b[k][l], S_b[k][l] = wide * u * grow, wide_S * u * grow
        out["cov"], out["S"] = cov_b, S_b
        ulp_n = cloud.TIME_ULP if M is None else cloud.SAME_SIGN_ULP
        out["noise"] = [(ulp_n + cloud.SCALE_ULP) * u * mp(x) * grow for x in noise]
        top = cloud.SAME_SIGN_ULP + cloud.SCALE_ULP + 1
        out["C"] = [
            [
                top * u * (mp(S[k, k]) + mp(noise[k])) * grow if k == l else S_b[k][l]
                for l in range(d)
            ]
            for k in range(d)
        ]
    return out


CLOUD_EDGES = [  # (lam, eta): rates rounding to exactly 1 from above, from below, and
    # exactly 1 (r = 0), with fast, alternating and slow modes
    ([0.33333333333333337, 0.3333333333333333, 0.6, 1e-9, 0.2], 3.0),
    ([1.0, 1.5, 0.5, 1e-6, 1.999], 1.0),
]


@pytest.mark.parametrize("lam, eta", CLOUD_EDGES)
@pytest.mark.parametrize("T, M", [(0, None), (1, 3), (5, None), (1000, 7)])
def test_float64_error_bounds_are_the_stated_accuracy(lam, eta, T, M):
    """Each bound is its docstring's formula, neither looser nor tighter (to a few
    roundings of the bound itself)."""
    lam = np.array(lam)
    b = np.array([1.0, -0.5, 2.0, 0.0, -1.5])
    bounds = cloud.float64_error_bounds(lam, b, 0.7, eta, T, n_inits=M)
    stated = stated_float64_bounds(lam, b, 0.7, eta, T, M)
    assert set(bounds) == set(stated)
    for key, want in stated.items():
        got = bounds[key]
        for idx in np.ndindex(got.shape):
            exact = want[idx[0]][idx[1]] if got.ndim == 2 else want[idx[0]]
            assert abs(mpmath.mpf(got[idx]) - exact) <= 16 * U * exact, (key, idx)


# ------------------------------------------- stated formulas and edges of the domain


@pytest.mark.parametrize(
    "lam, b, s, eta, T, M",
    [
        ([1.0, 0.3, 1e-6], [1.0, -0.5, 2.0], 1.0, 1.2, 6, 2),
        ([1.9, 0.5], [0.0, 0.0], 0.0, 1.0, 5, 2),  # a zero cloud: only the underflow
        ([0.25, 4.0], [3.0, -1e-3], 0.0, 0.4, 3, 1),  # draws ξ = 0, points not 0
    ],
)
def test_sample_error_bound_is_its_stated_formula(lam, b, s, eta, T, M):
    """sample_error_bound against its docstring's formula, evaluated in mpmath at 50
    digits from the draws ``ξ_jk = z_k(j, 0)/sqrt(λ_k)`` read back in float64 (as
    documented): ``(sqrt(λ_k) u (7.1 t K_jk + 3|ξ_jk|) + 2^-1074 (sqrt(λ_k)(4t + 1)
    + 3) + 3u|points|)(1 + 2^-20)``, ``K_jk = |b_k| + |ξ_jk − b_k|``. Equal to 16
    roundings of the bound itself, plus four half units of ``2^-1074`` for the terms
    computed in the subnormal range (the zero cloud, where only they remain)."""
    lam, b = np.array(lam), np.array(b)
    Z = cloud.sample(lam, b, s, eta, T, M, seed=3)
    got = cloud.sample_error_bound(Z, lam, b, eta, T)
    xi = Z[:: T + 1] / np.sqrt(lam)
    tiny = mpmath.mpf(2) ** -1074
    with mpmath.workdps(50):
        u = mpmath.mpf(2) ** -53
        for j in range(M):
            for t in range(T + 1):
                row = j * (T + 1) + t
                for k in range(lam.size):
                    root = mpmath.sqrt(mpmath.mpf(lam[k]))
                    x, bk = mpmath.mpf(xi[j, k]), mpmath.mpf(b[k])
                    K = abs(bk) + abs(x - bk)
                    want = (
                        root * u * (mpmath.mpf("7.1") * t * K + 3 * abs(x))
                        + tiny * (root * (4 * t + 1) + 3)
                        + 3 * u * abs(mpmath.mpf(Z[row, k]))
                    ) * (1 + mpmath.mpf(2) ** -20)
                    err = abs(mpmath.mpf(got[row, k]) - want)
                    assert err <= 16 * u * want + 4 * tiny, (row, k, got[row, k])


def test_precision_path_keeps_mpf_eigenvalues_as_given():
    """``lam`` given as mpmath numbers finer than float64 (as ``ribbonlib.bounds``
    passes them): the precision path uses their value, not its float64 rounding.
    Reference: the sums over ``t`` of ``r^t``, ``(r_k r_l)^t`` at 80 digits."""
    T, eta, prec = 5, 0.75, 40
    with mpmath.workdps(60):
        lam = np.array([mpmath.mpf(1) / 3, mpmath.mpf(2) / 7], dtype=object)
    G, m, _ = cloud.time_averages(lam, eta, T, precision=prec)
    with mpmath.workdps(80):
        r = [1 - mpmath.mpf(eta) * x for x in lam]
        m_ref = [mpmath.fsum(x**t for t in range(T + 1)) / (T + 1) for x in r]
        for k in range(2):
            assert abs(m[k] / m_ref[k] - 1) < mpmath.mpf(10) ** -prec
            for l in range(2):
                g = mpmath.fsum((r[k] * r[l]) ** t for t in range(T + 1)) / (T + 1)
                assert abs(G[k, l] / g - 1) < mpmath.mpf(10) ** -prec


def test_rates_that_underflow_to_zero_give_the_averages_of_r_equal_to_one():
    """``η λ_k`` below the smallest subnormal (``a = 0`` after rounding, ``log|r| =
    0``), inside the domain ``0 < η λ_k < 2``: ``m_k`` and ``G_kl`` within ``8u``
    (TIME_ULP) of the exact sums over ``t`` in rational arithmetic."""
    lam, eta, T = [1.0, 1e-300, 3e-310], 1e-30, 10
    G, m, cov = cloud.time_averages(lam, eta, T)
    n = T + 1
    r = [1 - Fraction(eta) * Fraction(x) for x in lam]
    m_ref = [sum(x**t for t in range(n)) / n for x in r]
    for k in range(3):
        assert abs(Fraction(float(m[k])) - m_ref[k]) <= cloud.TIME_ULP * U * m_ref[k]
        for l in range(3):
            g = sum((r[k] * r[l]) ** t for t in range(n)) / n
            assert abs(Fraction(float(G[k, l])) - g) <= cloud.TIME_ULP * U * g
    assert np.all(np.isfinite(cov))


@pytest.mark.parametrize("a_gap", [1e-14, 1e-10])
@pytest.mark.parametrize("T", [1, 3, 8])
def test_precision_path_with_r_close_to_minus_one(a_gap, T):
    """``η λ = 2 − δ`` (``r`` close to −1, ``r²`` close to 1: ``1 − r²`` loses
    ``log10(1/δ)`` digits): G, m and cov with ``precision=30`` have a relative
    error below ``10^-30`` against the sums over ``t`` in rational arithmetic."""
    lam, eta, prec = [2.0 - a_gap], 1.0, 30
    G, m, cov = cloud.time_averages(lam, eta, T, precision=prec)
    n = T + 1
    r = 1 - Fraction(eta) * Fraction(lam[0])
    m_ref = sum(r**t for t in range(n)) / n
    G_ref = sum(r ** (2 * t) for t in range(n)) / n
    tol = Fraction(1, 10**prec)
    for got, want in ((m[0], m_ref), (G[0, 0], G_ref), (cov[0, 0], G_ref - m_ref**2)):
        with mpmath.workdps(80):
            exact = mpmath.mpf(want.numerator) / want.denominator
            assert abs(got / exact - 1) < mpmath.mpf(tol.numerator) / tol.denominator


def _log_r_cases():
    """``(η, λ)`` with ``fl(ηλ)`` in ``(1, 3/2]`` and a rounding error comparable with
    ``ηλ − 1``, or elsewhere in ``(0, 2)``."""
    third = 1.0 / 3.0
    out = [(3.0, np.nextafter(np.nextafter(third, 1.0), 1.0))]  # ηλ = 1 + 5·2^-54
    out.append((3.0, np.nextafter(third, 1.0)))  # ηλ = 1 + 2^-53, rounds to 1
    out.append((3.0, third))  # ηλ = 1 − 2^-54
    x = third
    for _ in range(6):
        x = np.nextafter(x, 1.0)
        out.append((3.0, x))
    rng = np.random.default_rng(7)
    for target in (0.3, 0.5, 0.75, 1.0, 1.2, 1.5, 1.7, 1.99):
        eta = rng.uniform(0.5, 3.0)
        out.append((eta, target / eta))
    return out


def test_log_abs_r_is_accurate_for_the_exact_rate():
    """``_geometric.log_abs_r(*rates(η, λ))`` against ``log|1 − ηλ|`` of the exact
    product in mpmath (60 digits): within a few (4) ulp of ``max(|L|, u)``, as
    documented, also where ``ηλ`` rounds to just above 1 with a rounding error
    comparable with ``ηλ − 1``; the sign is that of ``1 − ηλ``."""
    from ribbonlib import _geometric

    for eta, lam in _log_r_cases():
        a, lo = _geometric.rates(eta, np.array([lam]))
        L, sign = _geometric.log_abs_r(a, lo)
        with mpmath.workdps(60):
            r = 1 - mpmath.mpf(eta) * mpmath.mpf(lam)
            want = mpmath.log(abs(r))
            tol = 4 * 2.0**-52 * max(abs(float(want)), 2.0**-53)
            assert abs(mpmath.mpf(L[0]) - want) <= tol, (eta, lam, L[0], want)
            assert sign[0] == (1.0 if r > 0 else -1.0)


@pytest.mark.parametrize("bits", [53, 512])
def test_brute_force_covariance_is_symmetric_ball_for_ball(bits):
    """The covariance of brute_force_moments is the docstring's sum of the symmetric
    terms ``(a(t) − ā)(a(t) − ā)ᵀ`` (plus a diagonal), so ``C_kl`` and ``C_lk`` are the
    same ball (midpoint and radius), and both contain the exact rational value."""
    q, b, s, eta, T = np.array([1.0, 0.5, 0.75]), [1.0, -0.5, 2.0], 0.5, 1.5, 6
    _, _, C = cloud.brute_force_moments(q * q, b, s, eta, T, bits=bits)
    exact = exact_limit_covariance(q, b, s, eta, T)
    for k in range(3):
        for l in range(3):
            assert C[k, l].mid() == C[l, k].mid() and C[k, l].rad() == C[l, k].rad()
            with ctx.workprec(2048):
                assert C[k, l].contains(
                    arb(exact[k][l].numerator) / exact[k][l].denominator
                )


def test_log_abs_r_without_rounding_error_takes_a_as_exact():
    """``_geometric.log_abs_r(a)`` with ``a_lo`` omitted is ``log|1 − a|`` of the float
    ``a`` itself (mpmath, 60 digits), within 4 ulp of ``max(|L|, u)``, in each branch
    (``a < 1/2``, ``1/2 <= a <= 3/2``, ``a > 3/2``); the sign is that of ``1 − a``."""
    from ribbonlib import _geometric

    a = np.array([1e-9, 0.3, 0.7, 1.0 - 2.0**-40, 1.2, 1.7, 2.0 - 2.0**-30])
    L, sign = _geometric.log_abs_r(a)
    for x, got, s in zip(a, L, sign):
        with mpmath.workdps(60):
            r = 1 - mpmath.mpf(float(x))
            want = mpmath.log(abs(r))
            tol = 4 * 2.0**-52 * max(abs(float(want)), 2.0**-53)
            assert abs(mpmath.mpf(float(got)) - want) <= tol, (x, got, want)
            assert s == (1.0 if r > 0 else -1.0)
