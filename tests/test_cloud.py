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
    """``η λ_k`` in (0, 2): near 2, near 1, generic, log-uniform to 1e-12, at the slow threshold."""
    d = draw(st.integers(1, max_d))
    n = 1 + (T if T is not None else 10)
    threshold = -np.expm1(-1.0 / n)            # n |log r| = 1: where the series takes over
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


steps = st.one_of(st.integers(0, 4), st.integers(0, 300),
                  st.floats(0.0, 6.0).map(lambda x: int(10.0**x)))
etas = st.one_of(st.just(1.0), st.just(0.5), st.floats(1e-3, 1e3))


@st.composite
def problems(draw, max_d: int = 6, max_T: int | None = None):
    """``(lam, eta, T)`` on the whole domain; the rates are exact products ``η λ_k < 2``."""
    T = draw(steps if max_T is None else st.integers(0, max_T))
    a = draw(rates(max_d=max_d, T=T))
    eta = draw(etas)
    lam = a / eta
    assume(np.all(lam > 0) and np.all(np.isfinite(lam)) and eta * lam.max() < 2.0)
    return lam, eta, T


@st.composite
def ground_truths(draw, d: int):
    """``b`` with random signs, a random decay and some zeros (not all)."""
    signs = np.array(draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=d, max_size=d)))
    decay = draw(st.floats(0.0, 3.0))
    zeros = np.array(draw(st.lists(st.booleans(), min_size=d, max_size=d)))
    scale = draw(st.floats(1e-3, 1e3))
    b = scale * signs * 10.0 ** (-decay * np.arange(d) / max(d - 1, 1))
    b[zeros & (np.arange(d) > 0)] = 0.0
    return b


# ------------------------------------------------------------------------ references


def exact_rates(lam, eta):
    return [Fraction(float(eta)) * Fraction(float(x)) for x in lam]


def arb_time(lam, eta, T, bits=256):
    """Arb balls of ``G``, ``m`` and ``G − m mᵀ`` from the plain closed forms (exact rates),
    at a precision raised until every entry is known to 60 relative bits."""
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
                    G[k][l] = (1 - (r[k] * r[l]) ** n) / (n * (a[k] + a[l] - a[k] * a[l]))
                    C[k][l] = G[k][l] - m[k] * m[l]
            flat = [v for row in C for v in row] + [v for row in G for v in row] + m
            if all(v.is_exact() or v.rel_accuracy_bits() > 60 for v in flat):
                return G, m, C
        bits *= 2


def same_sign(lam, eta):
    """``S[k, l]``: ``r_k`` and ``r_l`` of the same sign (both ``η λ <= 1`` or both ``> 1``)."""
    below = np.array([x <= 1 for x in exact_rates(lam, eta)])
    return below[:, None] == below[None, :]


def within(value, exact, tol) -> bool:
    """Proved ``|value − exact| <= tol`` (``value``, ``tol`` floats taken exactly; ``exact`` a ball)."""
    with ctx.workprec(1024):
        return bool(abs(certify.to_arb(float(value)) - exact) <= certify.to_arb(float(tol)))


def assert_within(name, values, exact, tols):
    bad = [(idx, float(values[idx]), exact[idx], float(tols[idx])) for idx in np.ndindex(values.shape)
           if not within(values[idx], exact[idx], tols[idx])]
    assert not bad, f"{name}: {len(bad)} entries outside the documented accuracy, e.g. {bad[0]}"


def ball_array(rows):
    out = np.empty((len(rows), len(rows[0])) if isinstance(rows[0], list) else (len(rows),), dtype=object)
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
    assert_within("cov vs G + m m", cov, Ca, cloud.COV_ULP * U * (Gu + np.outer(mu, mu)))
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
        ub = [certify.to_arb(float(x)).sqrt() * certify.to_arb(float(y)) for x, y in zip(lam, b)]
        scale = ball_array([[abs(ub[k] * ub[l]) * (G[k][l] + m[k] * m[l]) for l in range(d)] for k in range(d)])
        s2 = certify.to_arb(float(s)) ** 2
        corr = [0 if M is None else s2 * certify.to_arb(float(lam[k])) * m[k] ** 2 / (d * M) for k in range(d)]
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


@settings(max_examples=25)
@given(problems(max_d=4), st.sampled_from([16, 20, 30]), st.data())
def test_precision_path_is_accurate_to_its_digits(problem, digits, data):
    lam, eta, T = problem
    b = data.draw(ground_truths(lam.size))
    G, m, cov = cloud.time_averages(lam, eta, T, precision=digits)
    S = cloud.signal_covariance(lam, b, eta, T, precision=digits)
    S_a, _ = certify.cloud_matrices(lam, b, eta, T)
    Ga, ma, Ca = (ball_array(x) for x in arb_time(lam, eta, T))
    rel = mpmath.mpf(10) ** -digits
    for value, exact in ((G, Ga), (m, ma), (cov, Ca), (S, ball_array(S_a.tolist()))):
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
    lam = np.concatenate([rng.uniform(1e-3, 2, 200) / eta[:200], [1e-300, 1e300, 19.99]])
    for e, x in zip(eta, lam):
        hi, lo = _geometric.rates(e, np.array([x]))
        assert Fraction(float(hi[0])) + Fraction(float(lo[0])) == Fraction(float(e)) * Fraction(float(x))


def test_regression_alternating_modes_close_to_minus_one():
    # 1 − x^n for x close to −1 and even n was formed as 1 − exp(n L): 1e9 ulp wrong.
    lam, eta, T = np.array([2 - 1.4e-10, 1.57e-9]), 1.0, 1
    G, m, _ = cloud.time_averages(lam, eta, T)
    Ga, ma, _ = arb_time(lam, eta, T)
    assert within(G[0, 1], Ga[0][1], cloud.TIME_ULP * U * upper(Ga[0][1]))
    # the rounding of η λ near 2 must not count: 2 − ηλ has relative error u/(2 − ηλ) otherwise
    lam2, eta2 = np.array([1.9999999999957232 / 4.212929358710058]), 4.212929358710058
    G2, m2, _ = cloud.time_averages(lam2, eta2, 1)
    _, ma2, _ = arb_time(lam2, eta2, 1)
    assert within(m2[0], ma2[0], cloud.TIME_ULP * U * upper(ma2[0]))
