"""ribbonlib.bounds: the Zolotarev numbers, functions and point-set bounds, edge by edge.

The statements of :func:`~ribbonlib.bounds.zolotarev_number`,
:func:`~ribbonlib.bounds.zolotarev_discrete`, :func:`~ribbonlib.bounds.zolotarev_rational`
and :func:`~ribbonlib.bounds.zolotarev_rtol` (and of the theta product behind the first)
at the places the tests of ``test_bounds.py`` do not reach: intervals so nearly touching
that ``1 − 1/γ`` rounds to 1 (or ``1/γ`` underflows), the switch between the theta
product and Jacobi's imaginary transformation, the exact greedy value of the point-set
bound, degree 0, and the edges of the documented domains. References are independent:
mpmath's complete elliptic integral and ``kfrom`` at enough digits to hold ``1/γ`` next
to 1, exact rational arithmetic (:class:`fractions.Fraction`) for the greedy products,
and the closed form ``dn(K' | 1 − κ²) = κ``.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from flint import arb, ctx
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from ribbonlib import bounds, certify


# ------------------------------------------------------------------------ references


def exact_gamma(E, F) -> Fraction:
    """The cross-ratio of two disjoint intervals, exactly (floats or mpf endpoints)."""
    (a, b), (c, d) = sorted([E, F])
    a, b, c, d = (frac(x) for x in (a, b, c, d))
    return (c - a) * (d - b) / ((c - b) * (d - a))


def frac(x) -> Fraction:
    """The exact value of a float or an mpmath number."""
    if isinstance(x, mpmath.mpf):
        sign, man, exp, _ = x._mpf_
        return (-1) ** sign * Fraction(int(man)) * Fraction(2) ** int(exp)
    return Fraction(x)


def reference_zolotarev(E, F, ks, digits: int = 40) -> list:
    """``Z_k`` from mpmath's ``K`` and ``kfrom`` at enough digits to hold ``1/γ``.

    Parameters
    ----------
    E, F : pair of float or mpf
        Two disjoint intervals.
    ks : list of int
        Degrees.
    digits : int
        Digits wanted; the working precision adds the decimal exponent of ``γ`` so that
        ``1 − 1/γ`` keeps ``digits`` digits of ``1/γ``.

    Returns
    -------
    list of mpf
        ``Z_k`` (``1`` for ``k = 0``), at the working precision.
    """
    g = exact_gamma(E, F)
    extra = max(0, len(str(g.numerator)) - len(str(g.denominator)))
    with mpmath.workdps(digits + 20 + extra):
        m = mpmath.mpf(g.denominator) / g.numerator
        mc = 1 - m
        logq1 = -2 * mpmath.pi * mpmath.ellipk(m) / mpmath.ellipk(mc)
        return [
            mpmath.mpf(1) if k == 0 else mpmath.kfrom(q=mpmath.exp(k * logq1)) for k in ks
        ]


def assert_within_stated_accuracy(E, F, ks):
    """zolotarev_number (float64 and 30 digits) against :func:`reference_zolotarev`,
    to the relative error the docstring states, ``rtol·(1 + |ln Z_k|)``."""
    ref = reference_zolotarev(E, F, ks)
    zf = bounds.zolotarev_number(E, F, ks)
    zm = bounds.zolotarev_number(E, F, ks, precision=30)
    with mpmath.workdps(60):
        for k, y, f, m in zip(ks, ref, zf, zm):
            logz = abs(mpmath.log(y))
            if y >= 1e-300:
                err = abs(mpmath.mpf(f) - y) / y
                assert err <= bounds.ZOLOTAREV_FLOAT_RTOL * (1 + logz), (E, F, k, f, y)
            err = abs(m - y) / y
            assert err <= bounds.zolotarev_rtol(30) * (1 + logz), (E, F, k, m, y)


def greedy_exact(E: list, F: list, kmax: int):
    """The greedy bound of ``zolotarev_discrete`` in exact rational arithmetic.

    Parameters
    ----------
    E, F : list of float
        The two point sets.
    kmax : int
        Largest degree.

    Returns
    -------
    values : list of Fraction
        ``min(1, min_{j <= k} max_E |r_j| · max_F |1/r_j|)``, k = 0..kmax.
    decided : bool
        False when a greedy choice after the first is a near tie (two candidates within
        a relative ``2^-60``), which a computation in balls may break either way.
    """
    Ex = [Fraction(x) for x in E]
    Fx = [Fraction(y) for y in F]
    rE = [Fraction(1)] * len(Ex)
    rF = [Fraction(1)] * len(Fx)
    out = [Fraction(1)]
    best = Fraction(1)
    decided = True
    for step in range(kmax):
        if all(v == 0 for v in rE) or all(v == 0 for v in rF):
            best = Fraction(0)
            out.append(best)
            continue
        for r in (rE, rF):
            top = max(r)
            near = [v for v in r if v >= top * (1 - Fraction(1, 2**60))]
            if step > 0 and len(near) > 1:
                decided = False
        z = Ex[max(range(len(Ex)), key=lambda i: rE[i])]
        p = Fx[max(range(len(Fx)), key=lambda i: rF[i])]
        rE = [v * abs(x - z) / abs(x - p) for v, x in zip(rE, Ex)]
        rF = [v * abs(y - p) / abs(y - z) for v, y in zip(rF, Fx)]
        best = min(best, max(rE) * max(rF))
        out.append(best)
    return out, decided


# ------------------------------------------------ Zolotarev numbers of huge cross-ratio


@settings(max_examples=15, deadline=None, derandomize=True)
@given(
    st.integers(13, 1070),
    st.floats(1.0, 2.0),
    st.lists(st.integers(0, 100000), min_size=1, max_size=4),
)
@example(e=1074, u=1.0, ks=[0, 1, 1000, 100000])
@example(e=200, u=1.0, ks=[1, 5, 3000])
@example(e=55, u=1.9, ks=[1, 40, 900])  # 1 − 1/γ just below 1 in float64
@example(e=56, u=1.0, ks=[1, 40, 900])  # just rounding to 1
def test_zolotarev_number_for_intervals_nearly_touching_beyond_double(e, u, ks):
    """E = [−1, −δ], F = [δ, 1] with δ = u·2^-e down to the smallest subnormal, so
    γ ≈ 1/(4δ) up to 2^1072: ``1 − 1/γ`` then rounds to 1 in float64 (and, beyond
    ``10^45``, at the 45 digits of precision=30; the examples straddle the float64
    switch at ``1/γ = 2^-54``), and for the largest ``1/γ`` underflows. Each value must still be within the stated relative accuracy
    ``rtol·(1 + |ln Z_k|)`` of mpmath's K at enough digits; this used to raise
    ZeroDivisionError (the nome's logarithm rounded to 0) or lose up to 17 digits."""
    delta = u * 2.0**-e
    assume(delta > 0)
    assert_within_stated_accuracy((-1.0, -delta), (delta, 1.0), ks)


def test_zolotarev_number_where_the_inverse_cross_ratio_underflows():
    """The widest float64 configuration, E = [−1.7e308, −2^-1074], F = −E: γ ≈ 10^630,
    ``1/γ`` underflows to 0 in float64 and the logarithm of the exact ratio carries
    the value; stated accuracy against mpmath at 700 digits, for k up to 10^5."""
    tiny = 2.0**-1074
    E, F = (-1.7e308, -tiny), (tiny, 1.7e308)
    assert_within_stated_accuracy(E, F, [0, 1, 7, 1000, 100000])


@pytest.mark.parametrize(
    "E,F",
    [
        ((1e200, 2e200), (3e200, 4e200)),
        ((1e-200, 2e-200), (3e-200, 4e-200)),
        ((-1e300, 1e-300), (2e-300, 1e300)),
    ],
    ids=["overflow", "underflow", "both"],
)
def test_zolotarev_number_where_float_products_of_the_endpoints_fail(E, F):
    """Endpoints whose float64 products overflow (1e400) or underflow (1e-400): the
    parameters ``1/γ`` and ``1 − 1/γ`` must come from the exact rationals, so the values
    are within the stated accuracy of mpmath's K (in float arithmetic they would be
    ``inf/inf`` or ``0/0``)."""
    assert_within_stated_accuracy(E, F, [0, 1, 4, 300])


@pytest.mark.parametrize("e", [60, 200, 1074])
def test_zolotarev_enclosure_resolves_a_huge_cross_ratio(e):
    """E = [−1, −2^-e], F = −E (γ ≈ 2^(e−2), ``1 − 1/γ`` within 2^-1000 of 1 for the
    largest): the balls must contain Z_k (mpmath at enough digits, its own 60-digit
    round-off added to the reference) and be resolved to the ``digits = 30`` asked
    for, a relative radius below ``10^-30``; they used to fall back to ``[0, 1]``
    once ``1 − 1/γ`` was indistinguishable from 1 at the working precision."""
    d = 2.0**-e
    E, F = (-1.0, -d), (d, 1.0)
    ks = [0, 1, 1000, 100000]
    ref = reference_zolotarev(E, F, ks, digits=60)
    enc = bounds.zolotarev_enclosure(E, F, ks, digits=30)
    with ctx.workprec(400):
        for y, z in zip(ref, enc):
            yy = certify.to_arb(y)
            yb = yy + arb(0, 1) * yy * arb(10) ** -55
            assert z.overlaps(yb) and not (z.rad() > arb(10) ** -30 * z.mid())


# ------------------------------------------------------------------ theta product


def test_modulus_from_log_nome_switches_to_the_transformation_above_minus_pi(
    record_calls,
):
    """The docstring's switch: the product form at ``logq <= −π`` (``−π`` itself
    included), Jacobi's imaginary transformation (one call at ``π²/logq``, which is
    then ``< −π``) for ``logq > −π``, in float64 and at 31 and 60 digits. Seen by the
    calls the function makes to itself; the values agree with mpmath's ``kfrom``."""
    calls = record_calls(bounds, "_modulus_from_log_nome")
    for prec in (None, 31, 60):
        with mpmath.workdps(prec or 15):
            pi = math.pi if prec is None else +mpmath.pi
            above = math.nextafter(-pi, 0.0) if prec is None else -pi * (1 - mpmath.eps)
            for logq, n in ((-pi, 1), (above, 2), (-0.5, 2), (-50.0, 1)):
                calls.clear()
                val = bounds._modulus_from_log_nome(logq, prec)
                assert len(calls) == n, (prec, logq, calls)
                if n == 2:
                    assert calls[1]["logq"] < -pi
                with mpmath.workdps(2 * (prec or 15) + 20):
                    ref = mpmath.kfrom(q=mpmath.exp(logq))
                    tol = 1e-15 if prec is None else mpmath.mpf(10) ** (1 - prec)
                    assert abs(val - ref) <= tol * ref


@pytest.mark.parametrize("prec", [31, 45, 60])
def test_modulus_from_log_nome_to_its_working_precision(prec):
    """Relative error below ``10^(1 − prec)`` (the docstring) against mpmath's ``kfrom``
    at twice the digits, at nomes where the product stops after a factor just above
    ``10^-(prec+5)`` (``q = 10^-(prec − 5)`` to 10^-9 relative: one more factor
    ``(1 + q²)/(1 + q)`` than a cut at ``10^-(prec − 5)`` would take, ``4q`` in relative
    terms), near ``−π`` and far from it, and close to 0 (``q`` near 1, where the value
    is 1 to working precision: ``1 − k <= k'² <= 16 e^{π²/logq}``)."""
    with mpmath.workdps(prec):
        ten = mpmath.mpf(10)
        cut = -(prec - 5) * mpmath.log(ten) * (1 + ten**-9)
        for logq in (cut, cut / 3, -mpmath.pi, -7, -300, -1, mpmath.mpf("-1e-3")):
            val = bounds._modulus_from_log_nome(logq, prec)
            with mpmath.workdps(2 * prec + 20):
                ref = mpmath.kfrom(q=mpmath.exp(logq))
                assert abs(val - ref) <= ten ** (1 - prec) * ref, logq
        one = bounds._modulus_from_log_nome(mpmath.mpf("-1e-60"), prec)
        assert abs(one - 1) <= ten ** (1 - prec)
    assert bounds._modulus_from_log_nome(-1e-20, None) == 1.0


# ------------------------------------------------------------- zolotarev_discrete


# float32 values (24-bit mantissas) keep the exact fractions of the reference small
points = st.lists(
    st.floats(-8.0, 8.0, allow_subnormal=False).map(lambda x: float(np.float32(x))),
    min_size=1,
    max_size=4,
    unique=True,
)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(points, points, st.integers(0, 6), st.sampled_from([None, 16, 30]))
@example(E=[0.0, 1.0, 4.0], F=[-2.0, -3.0], kmax=3, prec=None)
@example(E=[0.5, 1.0], F=[-1.0, -0.5, 6.0], kmax=2, prec=None)
def test_zolotarev_discrete_is_the_greedy_value_rounded_up(E, F, kmax, prec):
    """Each returned number is the greedy bound ``min_j max_E |r_j| · max_F |1/r_j|``
    (at most 1), recomputed in exact fractions, rounded up: never below it (the bound
    is rigorous) and at most the stated relative ``2^-50`` (float64) or
    ``10^-precision`` above it (Arb at 32 bits beyond the target; the final rounding
    alone is ``2^-52`` or ``10^-precision/8``). Near ties of the greedy choice
    are left out: balls may break them either way, and both are valid bounds."""
    assume(not set(E) & set(F))
    ref, decided = greedy_exact(E, F, kmax)
    assume(decided)
    got = bounds.zolotarev_discrete(E, F, kmax, precision=prec)
    assert got.shape == (kmax + 1,)
    rel = Fraction(2) ** -50 if prec is None else Fraction(1, 10**prec)
    for g, r in zip(got, ref):
        assert r <= frac(g) <= r * (1 + rel) + Fraction(2) ** -1074, (g, r)


def test_zolotarev_discrete_reads_points_at_the_working_precision():
    """Decimal strings with 27 significant digits and precision=30: the points are read
    to 30 (+ guard) digits, not rounded to float64 first, so the bound agrees with the
    exact greedy value of the decimal points to a relative ``10^-29`` (the points'
    own rounding at 45 digits moves the products by far less); from float64 points it
    would differ already in the 17th digit."""
    E = ["0.123456789012345678901234567", "0.987654321098765432109876543"]
    F = ["-0.314159265358979323846264338", "-2.71828182845904523536028747"]
    ref, _ = greedy_exact([Fraction(x) for x in E], [Fraction(y) for y in F], 2)
    got = bounds.zolotarev_discrete(E, F, 2, precision=30)
    for g, r in zip(got, ref):
        assert abs(frac(g) - r) <= Fraction(1, 10**29) * r
    near = "0.1234567890123456789"  # equal to E[0] in float64 only
    got = bounds.zolotarev_discrete([near], [E[0]], 1, precision=30)
    assert got[1] == 0


@pytest.mark.parametrize("prec", [None, 30])
def test_zolotarev_discrete_degree_zero(prec):
    """``kmax = 0`` is in the domain (``>= 0``): the one bound is ``Z_0 = 1``."""
    got = bounds.zolotarev_discrete([1.0, 2.0], [-1.0], 0, precision=prec)
    assert got.shape == (1,) and got[0] == 1


def test_zolotarev_discrete_keeps_its_length_after_reaching_zero():
    """Three points in E (four in F) and kmax = 6: every point of E is a zero after
    three steps, the bound is 0 from there on, and the array still holds ``kmax + 1``
    values."""
    got = bounds.zolotarev_discrete([1.0, 2.0, 3.0], [-1.0, -5.0, -7.0, -9.0], 6)
    assert got.shape == (7,)
    assert np.all(got[3:] == 0) and np.all(got[:3] > 0)


# ------------------------------------------------------------- zolotarev_rational


@pytest.mark.parametrize("k", [1, 3, 6])
@pytest.mark.parametrize("kind", ["float", "third", "small"])
def test_zolotarev_rational_shape_and_ends(kind, k):
    """The documented shapes ``(k,)`` and ``(k + 1,)``, the order ``p_1 > ... > p_k`` in
    ``(κ, 1)`` and ``1 = x_0 > ... > x_k = κ``, with ``κ`` taken exactly: a float (0.3)
    as its exact value, an mpf at 75 digits (1/3, 1e-5) as it is, not rounded to
    float64. The end ``x_k = dn(K' | 1 − κ²) = κ`` (a closed form) holds to the stated
    ``zolotarev_rtol(60, κ, k)``; both paths give the shapes."""
    with mpmath.workdps(75):
        if kind == "float":
            arg = 0.3
            kap = mpmath.mpf(arg)  # exact
        else:
            kap = mpmath.mpf(1) / 3 if kind == "third" else mpmath.mpf("1e-5")
            arg = kap
        zeros, ext = bounds.zolotarev_rational(arg, k, precision=60)
        assert zeros.shape == (k,) and ext.shape == (k + 1,)
        tol = mpmath.mpf(bounds.zolotarev_rtol(60, kappa=float(kap), k=k))
        assert abs(ext[0] - 1) <= tol and abs(ext[-1] - kap) <= tol * kap
        assert all(ext[i] > ext[i + 1] for i in range(k))
        assert all(zeros[j] > zeros[j + 1] for j in range(k - 1))
        assert kap < zeros[-1] and zeros[0] < 1
    zf, xf = bounds.zolotarev_rational(float(kap), k)
    assert zf.shape == (k,) and xf.shape == (k + 1,)


# ---------------------------------------------------------------- zolotarev_rtol


@pytest.mark.parametrize("kappa", [0.0, 1.0, -0.5, 1.5])
def test_zolotarev_rtol_refuses_kappa_outside_the_open_interval(kappa):
    """``0 < κ < 1`` (open at both ends, as documented): the ends 0 and 1 are refused
    with ValueError like any point outside."""
    with pytest.raises(ValueError, match="kappa"):
        bounds.zolotarev_rtol(30, kappa=kappa)
