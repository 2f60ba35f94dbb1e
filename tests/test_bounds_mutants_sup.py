"""Tests of ribbonlib.bounds aimed at mutants that the tests of test_bounds.py let pass:
``rational_sup`` (the certified sup of ``|Π_j (x − p_j)/(x + p_j)|`` on an interval),
the ball entries of ``cauchy_matrix``, the inputs and output types of
``chebyshev_tails`` and the scalar result of ``zolotarev_bound``.

The reference for the sup is independent of the library's subdivision: for
``r(x) = Π_j (x − p_j)/(x + p_j)`` with ``p_j > 0`` and ``x > 0``,
``r'/r = Σ_j 2 p_j/(x² − p_j²) =: g(x)``, and ``g' = −Σ_j 4 p_j x/(x² − p_j²)² < 0``,
so between two consecutive distinct zeros ``g`` falls from ``+∞`` to ``−∞`` and
``|r|`` has exactly one critical point (a maximum), and none below the smallest or
above the largest zero. The sup on ``[lo, hi]`` is therefore the largest of ``|r(lo)|``,
``|r(hi)|`` and ``|r|`` at those maxima that lie inside, each located by bisection of
``g`` in mpmath at 80 digits.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from flint import arb, ctx
from hypothesis import given, settings
from hypothesis import strategies as st

from ribbonlib import bounds, certify

REF_DPS = 80


def sup_reference(zeros, lo, hi):
    """The sup of ``|r|`` on ``[lo, hi]`` from the critical points of ``r``.

    Parameters
    ----------
    zeros : list of float
        The ``p_j > 0`` (repetitions allowed).
    lo, hi : float
        The interval, ``0 < lo < hi``.

    Returns
    -------
    sup, curv : mpmath.mpf
        The sup of ``|r|`` at 80 digits (300 bisections of ``g`` pin each critical
        point to the working precision, and an error there enters the value at a
        maximum only quadratically), and the largest ``x*² |r''(x*)|`` over the
        interior maxima ``x*`` (0 if none): at a maximum ``g = 0``, so
        ``|r|'' = |r| g'``.
    """
    with mpmath.workdps(REF_DPS):
        Z = [mpmath.mpf(z) for z in zeros]
        lo, hi = mpmath.mpf(lo), mpmath.mpf(hi)

        def r(x):
            return abs(mpmath.fprod([(x - p) / (x + p) for p in Z]))

        def g(x):
            return mpmath.fsum([2 * p / (x * x - p * p) for p in Z])

        vals, curv = [r(lo), r(hi)], mpmath.mpf(0)
        distinct = sorted(set(Z))
        for p, q in zip(distinct, distinct[1:]):
            a, b = p, q
            for _ in range(300):
                m = (a + b) / 2
                if g(m) > 0:
                    a = m
                else:
                    b = m
            x = (a + b) / 2
            if lo < x < hi:
                vals.append(r(x))
                gp = mpmath.fsum([4 * p * x / (x * x - p * p) ** 2 for p in Z])
                curv = max(curv, x * x * gp * r(x))
        return max(vals), curv


def working_bits(digits: int) -> int:
    """``b = ⌊digits · log₂ 10⌋ + 32``, the working precision the docstring states."""
    return int(digits * math.log2(10.0)) + 32


def mantissa_bits(x: arb) -> int:
    """The bit length of the odd mantissa of an exact ball (0 for zero)."""
    assert x.rad() == 0
    if x == 0:
        return 0
    man, _ = x.man_exp()
    return abs(int(man)).bit_length()


@st.composite
def sup_problems(draw):
    """Zeros and an interval, log-uniform over six decades, with near-double zeros
    (relative gaps down to 1e-8: a sharp interior maximum), and ``digits`` from the
    smallest accepted 16 up to 40."""
    n = draw(st.integers(1, 5))
    zeros = [10.0 ** draw(st.floats(-3.0, 3.0)) for _ in range(n)]
    if n >= 2 and draw(st.booleans()):
        zeros[-1] = zeros[0] * (1.0 + 10.0 ** -draw(st.floats(1.0, 8.0)))
    ends = sorted(10.0 ** draw(st.floats(-3.0, 3.0)) for _ in range(2))
    if draw(st.booleans()):  # the interval around the zeros
        ends = [min(zeros) / draw(st.floats(1.01, 10.0)), max(zeros) * 2.0]
    if not ends[0] < ends[1]:
        ends[1] = ends[0] * 2.0
    digits = draw(st.sampled_from([16, 17, 25, 40]))
    return zeros, tuple(ends), digits


@settings(max_examples=40)
@given(sup_problems())
def test_rational_sup_encloses_the_sup_of_the_critical_points(prob):
    """Without a target: ``L <= sup|r| <= U`` against the 80-digit sup of the critical
    points, both exact numbers of at most ``b`` bits, ``U <= 1`` (every factor is below
    1 in modulus) and ``U − L`` within the stated order
    ``2^-b (n sup + max x*²|r''(x*)|)``, with a factor 64 for the constants the
    statement leaves open (the enclosure of ``r'`` over a piece overestimates its true
    range by a bounded factor, and the ends carry ``n`` roundings each)."""
    zeros, (lo, hi), digits = prob
    low, up = bounds.rational_sup(zeros, (lo, hi), digits=digits)
    sup, curv = sup_reference(zeros, lo, hi)
    b = working_bits(digits)
    assert low.rad() == 0 and up.rad() == 0
    assert mantissa_bits(low) <= b and mantissa_bits(up) <= b
    with ctx.workprec(400):
        s = certify.to_arb(sup)
        assert low <= s <= up <= 1
        tol = 64 * arb(2) ** -b * (len(zeros) * s + certify.to_arb(curv))
        assert up - low <= tol


@settings(max_examples=40)
@given(
    sup_problems(),
    st.sampled_from([-0.5, -1e-6, 1e-9, 1e-3, 0.5]),
    st.sampled_from(["arb", "mpf", "float"]),
)
def test_rational_sup_with_a_target_proves_or_refutes_the_claim(prob, eps, kind):
    """A target ``sup·(1 + ε)`` (capped below 1), given as an exact ball, an mpmath
    number or a float: always ``L <= sup <= U <= 1``. Above the sup by more than the
    order of ``U − L`` without a target (the test's tolerance of the test above) the
    claim is proved, ``U <= target``; below it by more than that, the claim is refuted,
    ``L > target``."""
    zeros, (lo, hi), digits = prob
    sup, curv = sup_reference(zeros, lo, hi)
    b = working_bits(digits)
    with mpmath.workdps(REF_DPS):
        goal = min(sup * (1 + mpmath.mpf(eps)), (1 + sup) / 2)
    target = {"arb": certify.to_arb(goal), "mpf": goal, "float": float(goal)}[kind]
    low, up = bounds.rational_sup(zeros, (lo, hi), target=target, digits=digits)
    with ctx.workprec(400):
        s, g = certify.to_arb(sup), certify.to_arb(target)
        assert low <= s <= up <= 1
        tol = 64 * arb(2) ** -b * (len(zeros) * s + certify.to_arb(curv))
        if g >= s + tol:
            assert up <= g
        if g <= s - tol:
            assert low > g


def test_rational_sup_target_equal_to_an_exact_end_value_is_not_refuted():
    """``r(x) = (x − 3)(x − 7)/((x + 3)(x + 7))`` on ``[1, 6]``: ``r(1) = (−1/2)(−3/4)
    = 3/8`` exactly (dyadic), and ``|r|`` falls to 0 at 3 and has its only interior
    maximum at ``x = √21`` (``20x² = 420`` from ``r'/r = 0``), where
    ``|r| = (√21 − 3)(7 − √21)/((√21 + 3)(√21 + 7)) < 0.05``; so the sup is ``3/8``,
    attained at the end. A target of exactly ``3/8`` is then a true claim: ``L = 3/8``
    equals the target without exceeding it, nothing is refuted, and the claim is
    proved with ``U = 3/8``."""
    with mpmath.workdps(30):
        x = mpmath.sqrt(21)
        assert (x - 3) * (7 - x) / ((x + 3) * (x + 7)) < 0.05
    for target in (0.375, certify.to_arb(0.375)):
        low, up = bounds.rational_sup([3.0, 7.0], (1.0, 6.0), target=target)
        assert low == up == arb(3) / 8


def test_rational_sup_refuses_an_empty_or_point_interval_and_a_zero_at_the_origin():
    """The documented domain is ``0 < lo < hi`` and ``p_j > 0``: a point interval
    ``lo = hi`` and a zero ``p = 0`` (where ``r`` has the factor ``x/x``) are refused;
    an interval just wider than a point, and a zero just above 0, are accepted."""
    with pytest.raises(ValueError, match="0 < lo < hi"):
        bounds.rational_sup([0.5], (0.3, 0.3))
    with pytest.raises(ValueError, match="zeros must be > 0"):
        bounds.rational_sup([0.5, 0.0], (0.1, 1.0))
    low, up = bounds.rational_sup([0.5], (0.3, math.nextafter(0.3, 1.0)))
    assert low <= up <= 1
    low, up = bounds.rational_sup([5e-324], (0.1, 1.0), digits=16)
    assert low <= up


def test_rational_sup_digits_boundary_and_default():
    """``digits`` is accepted from 16 (15 is refused), and its default is the
    documented 40: the same exact ``L`` and ``U`` as ``digits=40``."""
    zeros, interval = [0.3, 0.7, 0.05], (0.01, 1.0)
    with pytest.raises(ValueError, match="digits"):
        bounds.rational_sup(zeros, interval, digits=15)
    low16, up16 = bounds.rational_sup(zeros, interval, digits=16)
    sup, _ = sup_reference(zeros, *interval)
    with ctx.workprec(400):
        assert low16 <= certify.to_arb(sup) <= up16
    default = bounds.rational_sup(zeros, interval)
    forty = bounds.rational_sup(zeros, interval, digits=40)
    assert default[0] == forty[0] and default[1] == forty[1]
    assert default[0].rad() == 0 and default[1].rad() == 0


# ------------------------------------------------- cauchy_matrix, chebyshev_tails


def test_cauchy_matrix_enclosure_entries_have_the_stated_bits():
    """The ball entries are computed at ``⌈precision·log₂10⌉ + 32`` bits (80 without
    ``precision``), as the docstring states: every midpoint has at most that many bits,
    and every ball contains the exact ``1/(x_i − y_j)`` (exact rationals). Six by six
    nodes with non-dyadic differences, so that the quotients fill their precision."""
    xs = [k / 7 - 2.0 for k in range(6)]
    ys = [1.0 + k / 3 for k in range(6)]
    for precision, b in ((None, 80), (30, math.ceil(30 * math.log2(10)) + 32)):
        C = bounds.cauchy_matrix(xs, ys, precision=precision, enclosure=True)
        for i, x in enumerate(xs):
            for j, y in enumerate(ys):
                man, _ = C[i, j].mid().man_exp()
                assert abs(int(man)).bit_length() <= b
                exact = 1 / (Fraction(x) - Fraction(y))
                with ctx.workprec(400):
                    q = arb(exact.numerator) / exact.denominator
                    assert C[i, j].contains(q)


def tau_reference(beta, mmax: int, dps: int = 80) -> list:
    """``τ(β, m) = 1 − e^{−β}(I_0(β) + 2 Σ_{1 <= j <= m} I_j(β))``, m = 0..mmax, in
    mpmath at ``dps`` digits from its Bessel functions (the complement of the
    generating function ``e^β = Σ_j I_j(β)``; no cancellation for the ``β ~ 1``
    used)."""
    with mpmath.workdps(dps):
        b = mpmath.mpf(beta)
        ive = [mpmath.besseli(j, b) * mpmath.exp(-b) for j in range(mmax + 1)]
        head, out = ive[0], []
        for m in range(mmax + 1):
            out.append(1 - head)
            if m < mmax:
                head += 2 * ive[m + 1]
        return out


def test_chebyshev_tails_take_an_mpmath_beta_exactly():
    """``β = 1/3`` as a 60-digit mpmath number, at 30 digits: every returned ``τ`` lies
    in ``[τ, τ(1 + 10^-28)]`` of the 80-digit reference at that same ``β`` (rounded up,
    accurate to the working precision, as documented). The float ``1/3`` differs from it
    by ``2^-54`` relative, which moves ``τ`` by about ``10^-17`` relative: far
    outside."""
    with mpmath.workdps(60):
        beta = mpmath.mpf(1) / 3
    mmax = 4
    got = bounds.chebyshev_tails([beta], mmax, precision=30)[0]
    ref = tau_reference(beta, mmax)
    with mpmath.workdps(80):
        for m in range(mmax + 1):
            assert ref[m] <= got[m] <= ref[m] * (1 + mpmath.mpf(10) ** -28)


def test_chebyshev_tails_round_other_numbers_to_float_and_keep_the_dtype():
    """Documented: numbers other than floats and mpmath numbers are rounded to float64
    first, so a :class:`fractions.Fraction` 1/3 and an int 2 give exactly the values of
    the floats ``1/3`` and ``2.0``; the result is a float64 array without
    ``precision`` and an object array of mpmath numbers with it."""
    mmax = 3
    for precision in (None, 30):
        a = bounds.chebyshev_tails([Fraction(1, 3), 2], mmax, precision=precision)
        b = bounds.chebyshev_tails([1 / 3, 2.0], mmax, precision=precision)
        assert a.shape == b.shape == (2, mmax + 1)
        assert all(x == y for x, y in zip(a.reshape(-1), b.reshape(-1)))
        if precision is None:
            assert a.dtype == np.float64
        else:
            assert a.dtype == object
            assert all(isinstance(v, mpmath.mpf) for v in a.reshape(-1))


# ------------------------------------------------------------------ zolotarev_bound


def test_zolotarev_bound_scalar_k_gives_a_python_float_or_an_mpf():
    """A scalar ``k`` gives one number of the documented type, a Python ``float`` (not
    a numpy scalar) or an ``mpmath.mpf`` with ``precision``, equal to the entry of the
    array result for ``[k]``, and never below the closed form
    ``4 exp(−π² k / log(16 γ))`` (mpmath at 60 digits, ``γ`` the exact cross-ratio
    ``(c − a)(d − b)/((c − b)(d − a))``), within one rounding of the result above it
    (``2^-52`` relative in float64, ``10^-29`` at 30 digits)."""
    E, F = (0.25, 1.0), (2.0, 3.5)
    with mpmath.workdps(60):
        a, b, c, d = (mpmath.mpf(v) for v in (*E, *F))
        gamma = (c - a) * (d - b) / ((c - b) * (d - a))
    for k in (0, 1, 3):
        with mpmath.workdps(60):
            closed = 4 * mpmath.exp(-mpmath.pi**2 * k / mpmath.log(16 * gamma))
        zf = bounds.zolotarev_bound(E, F, k)
        zm = bounds.zolotarev_bound(E, F, k, precision=30)
        assert type(zf) is float
        assert isinstance(zm, mpmath.mpf)
        assert zf == bounds.zolotarev_bound(E, F, [k])[0]
        assert zm == bounds.zolotarev_bound(E, F, [k], precision=30)[0]
        with mpmath.workdps(60):
            assert closed <= zf <= closed * (1 + mpmath.mpf(2) ** -52)
            assert closed <= zm <= closed * (1 + mpmath.mpf(10) ** -29)


@settings(max_examples=30)
@given(sup_problems(), st.sampled_from([1e-6, 1e-2, 0.5]))
def test_rational_sup_proves_again_a_target_equal_to_its_bound(prob, eps):
    """A piece stops once its bound is *at most* the target (documented), so a proved
    claim reproduces itself: run once with a target above the sup (``U <= target``:
    proved), then again with the target ``U``. Every piece that stopped the first time
    has its bound at most ``U`` and stops again, every piece that was halved had its
    bound above the first target, hence above ``U``, and is halved again, and no value
    ``<= sup <= U`` can refute; the second run follows the same subdivision and returns
    the same exact ``L`` and ``U``."""
    zeros, (lo, hi), digits = prob
    sup, _ = sup_reference(zeros, lo, hi)
    with mpmath.workdps(REF_DPS):
        goal = certify.to_arb(min(sup * (1 + mpmath.mpf(eps)), (1 + sup) / 2))
    low, up = bounds.rational_sup(zeros, (lo, hi), target=goal, digits=digits)
    if not up <= goal:
        return  # stopped at the resolution above the target: nothing to reproduce
    low2, up2 = bounds.rational_sup(zeros, (lo, hi), target=up, digits=digits)
    assert low2 == low and up2 == up


@pytest.mark.parametrize("eps", [1e-4, 1e-2, 0.1])
def test_rational_sup_mean_value_form_uses_the_half_width(eps):
    """Five zeros with two of them 0.2% apart (a sharp maximum between them) on
    ``[0.032, 1.56]`` at 16 digits, with a target above the sup: the pieces are
    accepted by the mean-value form ``|r(c)| + w·max|r'|`` as soon as it is below the
    target, and that form bounds ``|r|`` on the piece only with ``w`` at least its
    half-width (the largest ``|x − c|``). The returned ``U`` must still be at least the
    80-digit sup of the critical points, and ``L`` at most it."""
    zeros = [67.98443386069732, 1.1090473751931638, 0.30279911021414635,
             0.16207266318854832, 0.16175255362747837]
    lo, hi = 0.032138768513067836, 1.5635668876006041
    sup, _ = sup_reference(zeros, lo, hi)
    with mpmath.workdps(REF_DPS):
        goal = sup * (1 + mpmath.mpf(eps))
    low, up = bounds.rational_sup(zeros, (lo, hi), target=goal, digits=16)
    with ctx.workprec(400):
        assert low <= certify.to_arb(sup) <= up <= certify.to_arb(goal)


def sharp_maximum(digits: int, left) -> tuple:
    """The problem of the two stopping-rule tests: ``w = 2^-⌊b/2⌋`` at the working bits
    ``b`` of ``digits``, the zeros ``p = 1 − 64w`` and ``q = x*²/p`` that put the only
    maximum of ``|r|`` at ``x* = 1 + w/3``, and the interval ``[1 − left·w, 1 + (4 −
    left)·w]``; returns ``(w, x*, p, q, lo, hi)`` as mpf at REF_DPS digits."""
    with mpmath.workdps(REF_DPS):
        w = mpmath.mpf(2) ** -(working_bits(digits) // 2)
        xs = 1 + w / 3
        p = 1 - 64 * w
        return w, xs, p, xs * xs / p, 1 - mpmath.mpf(left) * w, 1 + (4 - mpmath.mpf(left)) * w


@pytest.mark.parametrize("digits", [16, 40])
def test_rational_sup_halves_a_piece_whose_half_width_equals_the_resolution(digits):
    """The stated stopping rule is strict: a piece is halved until its half-width is
    *below* ``2^-k·c``, ``k = ⌊b/2⌋``. On ``[1 − w, 1 + 3w]``, ``w = 2^-k``, the first
    halving gives the piece ``[1 − w, 1 + w]`` of half-width exactly ``w = 2^-k·1``,
    which must be halved again. The two zeros ``p = 1 − 64w`` and ``q = x*²/p`` put the
    only maximum of ``|r|`` at ``x* = √(pq) = 1 + w/3`` (then ``r'`` contains 0 on
    every piece around it), so the midpoint ``1 + w/2`` of ``[1, 1 + w]`` is evaluated,
    ``w/6`` from ``x*``, and ``L >= |r(1 + w/2)| ≈ sup − |r''| (w/6)²/2 = sup −
    |r''| w²/72``. Stopping at the tie would leave the midpoint ``1``, ``w/3`` away:
    ``sup − L ≈ |r''| w²/18``. The test allows ``|r''| w²/36``; the cubic term of
    the expansion (relative ``w/(q − x*) ≈ 2^-6``) and the round-off (``2^-b`` of the
    sup, against ``|r''| w²/72 ≈ 10^-5`` of it) are far below the margin."""
    w, xs, p, q, lo, hi = sharp_maximum(digits, 1)
    low, up = bounds.rational_sup([p, q], (lo, hi), digits=digits)
    sup, curv = sup_reference([p, q], lo, hi)
    with mpmath.workdps(REF_DPS):
        assert abs(mpmath.sqrt(p * q) - xs) < w * mpmath.mpf(10) ** -20
        r2 = curv / xs**2  # |r''(x*)|
        assert sup - certify.to_mpf(low) <= r2 * w * w / 36
        assert certify.to_mpf(low) <= sup <= certify.to_mpf(up)


@pytest.mark.parametrize("digits", [16, 40])
@pytest.mark.parametrize(
    "left, form", [(1.0, 1 / 3 - 1 / 72), (0.75, 13 / 12 - 1 / 288)]
)
def test_rational_sup_last_piece_is_bounded_by_its_mean_value_form(digits, left, form):
    """The stated stopping rule, from the other side, and the stated bound of a piece.
    With ``w = 2^-k``, the zeros ``p = 1 − 64w`` and ``q = x*²/p`` (the only maximum
    of ``|r|`` at ``x* = 1 + w/3``) and the interval ``[1 − a·w, 1 + (4 − a)·w]``, the
    first piece has half-width ``2w`` and is halved; its left half ``[1 − aw, 1 + (2 −
    a)w]`` has half-width ``w`` and midpoint ``c = 1 + (1 − a)w``. For ``a = 3/4``,
    ``w < 2^-k·c``: it is the last piece (not halved again), ``c − x* = −w/12`` and its
    farther end is ``13w/12`` from ``x*``. For ``a = 1`` it is halved at the tie, and
    the last piece is ``[1, 1 + w]`` (half-width ``w/2 < 2^-k``), ``c − x* = w/6``,
    farther end ``2w/3`` away. Its bound ``|r(c)| + hw·max|r'|`` is then, to second
    order, ``sup + |r''| w² · form`` with ``form = hw·(farther end − x*)/w² −
    (c − x*)²/(2w²)``: ``1/3 − 1/72`` and ``13/12 − 1/288``. The enclosure of ``r'``
    is not below its true maximum, so ``U − sup >= 0.9·form·|r''|w²`` (the cubic terms
    are ``w/(63w)`` relative, the round-off ``2^-b`` of the sup). It is also tight here
    to first order (each product-rule term varies through one factor only, linearly,
    which midpoint-radius arithmetic encloses exactly), so ``U − sup <= 1.2·form·
    |r''|w²``. A piece halved beyond the rule gives about a quarter of the bound; a
    multiple of ``max|r'|`` or of ``hw``, a multiple of it."""
    w, xs, p, q, lo, hi = sharp_maximum(digits, left)
    low, up = bounds.rational_sup([p, q], (lo, hi), digits=digits)
    sup, curv = sup_reference([p, q], lo, hi)
    with mpmath.workdps(REF_DPS):
        unit = curv / xs**2 * w * w  # |r''(x*)| w²
        excess = certify.to_mpf(up) - sup
        assert 0.9 * form * unit <= excess <= 1.2 * form * unit
        assert certify.to_mpf(low) <= sup


def test_zolotarev_bound_at_a_huge_degree_rounds_up_to_the_smallest_float():
    """Documented: in float64, values below the smallest float round up to it. At
    ``k = 10^12`` (and ``2^70``, which numpy holds only as a Python int in an object
    array) the bound ``4 exp(−π² k / log(16γ))`` is about ``10^(-1.4·10^12)``: the
    float result is the smallest subnormal ``2^-1074``, scalar or in an array, and the
    30-digit result is a positive mpf at least the closed form (mpmath at 80 digits,
    whose exponent range is unbounded) and above it by at most the error of the
    exponent ``x = π²k/log(16γ)`` at the 148 working bits (``x·2^-148`` relative) and
    the final rounding.
    Regression: the rounding of such a ball to float64 formed ``2^e`` exactly, for
    ``e ≈ −4.6·10^12``, and ran out of memory."""
    E, F = (0.0, 1.0), (2.0, 3.0)
    tiny = math.ldexp(1.0, -1074)
    for k in (10**12, 2**70):
        assert bounds.zolotarev_bound(E, F, k) == tiny
        arr = bounds.zolotarev_bound(E, F, [k, 1])
        assert arr[0] == tiny and 0 < arr[1] < 1
        zm = bounds.zolotarev_bound(E, F, k, precision=30)
        with mpmath.workdps(80):
            gamma = mpmath.mpf(4) / 3  # (2 − 0)(3 − 1)/((2 − 1)(3 − 0))
            x = mpmath.pi**2 * k / mpmath.log(16 * gamma)
            closed = 4 * mpmath.exp(-x)
            # x from a few balls at 148 bits (pi², log(16 gamma), the quotient, the
            # product with k), each radius an upper bound of its rounding
            rtol = 16 * x * mpmath.mpf(2) ** -148 + mpmath.mpf(10) ** -29
            assert closed <= zm <= closed * (1 + rtol)
    with ctx.workprec(64):
        x = -(arb(2) ** -(10**12))
        ends = certify.enclose(x)
        assert float(ends.lo) == -tiny and float(ends.hi) == 0.0
        ends = certify.enclose(3 * arb(2) ** (10**12))
        assert float(ends.lo) == np.finfo(float).max and float(ends.hi) == math.inf


# ------------------------------------------------------- Chebyshev tails, far regimes


def test_ive_down_returns_the_orders_zero_to_J():
    """``_ive_down(β, J)`` returns the ``J + 1`` balls of ``e^{−β} I_j(β)``,
    ``j = 0..J`` (documented), each containing mpmath's value at 60 digits."""
    J = 6
    with ctx.workprec(120):
        beta = arb(1) / 4  # the exact dyadic 1/4
        iv = bounds._ive_down(beta, J)
    assert len(iv) == J + 1
    with mpmath.workdps(60):
        for j, ball in enumerate(iv):
            ref = mpmath.besseli(j, mpmath.mpf(1) / 4) * mpmath.exp(-mpmath.mpf(1) / 4)
            assert ball.lower() <= certify.to_arb(ref * (1 + mpmath.mpf(10) ** -50))
            assert certify.to_arb(ref * (1 - mpmath.mpf(10) ** -50)) <= ball.upper()


def test_chebyshev_tails_of_a_tiny_mpmath_beta():
    """``β = 10^-6000`` (an mpmath number, taken exactly; below every float) at 30
    digits, ``mmax = 0`` and 2:
    ``τ(β, m) = 2 Σ_{j>m} e^{−β} I_j(β) ≈ 2 (β/2)^{m+1}/(m+1)!``, far below
    the ``2^-(2^14)`` that the complement ``1 − e^{−β}(I_0 + …)`` could resolve at the
    largest working precision, so it is summed upwards. Reference: the first 20 terms
    in mpmath (the rest is below ``β²`` relative); the result is an upper bound within
    ``10^-28`` of it."""
    with mpmath.workdps(60):
        beta = mpmath.mpf(10) ** -6000
    for mmax in (0, 2):
        got = bounds.chebyshev_tails([beta], mmax, precision=30)[0]
        with mpmath.workdps(60):
            for m in range(mmax + 1):
                ref = 2 * mpmath.fsum(
                    mpmath.besseli(j, beta) * mpmath.exp(-beta)
                    for j in range(m + 1, m + 21)
                )
                assert ref <= got[m] <= ref * (1 + mpmath.mpf(10) ** -28)


def test_chebyshev_tails_far_beyond_beta():
    """``β = 1``, ``m`` up to 1800 at 30 digits: ``τ(1, 1800) ≈ 2e^{-1} 2^{-1801}/1801!
    ≈ 10^-5600`` is below ``2^-(2^14)``, the resolution of the complement at the
    largest working precision, so only the upward sums resolve it (documented for
    ``β <= 2(m + 1)``). Reference: 30 terms in mpmath at 60 digits (each next term is
    below ``1/(2·1800)`` of the one before); the results for the last degrees are upper
    bounds within ``10^-28``."""
    mmax = 1800
    got = bounds.chebyshev_tails([1.0], mmax, precision=30)[0]
    with mpmath.workdps(60):
        one = mpmath.mpf(1)
        for m in (mmax - 1, mmax):
            ref = 2 * mpmath.fsum(
                mpmath.besseli(j, one) * mpmath.exp(-one) for j in range(m + 1, m + 31)
            )
            assert ref <= got[m] <= ref * (1 + mpmath.mpf(10) ** -28)


# ------------------------------------------------------- input and rounding helpers


def test_intervals_that_touch_at_either_end_are_refused():
    """Documented: intervals that overlap *or touch* are refused, whichever of the two
    lies to the left (``b = c``, and ``d = a``), while a gap of one ulp is accepted
    (its cross-ratio is then finite and at least 1)."""
    for E, F in (((0.0, 1.0), (1.0, 3.0)), ((1.0, 3.0), (0.0, 1.0))):
        with pytest.raises(ValueError, match="overlap or touch"):
            bounds.cross_ratio(E, F)
    gap = math.nextafter(1.0, 2.0)
    assert 1.0 <= bounds.cross_ratio((gap, 3.0), (0.0, 1.0)) < math.inf


def test_float_paths_round_mpmath_inputs_and_return_float64():
    """Without ``precision`` the functions work in float64: an mpmath endpoint is
    rounded to float64 first (``cross_ratio`` of ``1/3`` at 60 digits is that of the
    float ``1/3``, a Python float), and an array of degrees gives a float64 array.
    ``precision = 16``, the smallest accepted, gives mpmath numbers (15 is refused)."""
    with mpmath.workdps(60):
        third = mpmath.mpf(1) / 3
    g = bounds.cross_ratio((0.0, third), (1.0, 2.0))
    assert type(g) is float
    assert g == bounds.cross_ratio((0.0, float(third)), (1.0, 2.0))
    arr = bounds.zolotarev_bound((0.0, 1.0), (2.0, 3.0), [1, 2])
    assert isinstance(arr, np.ndarray) and arr.dtype == np.float64
    with pytest.raises(ValueError, match="precision"):
        bounds.zolotarev_bound((0.0, 1.0), (2.0, 3.0), 1, precision=15)
    z16 = bounds.zolotarev_bound((0.0, 1.0), (2.0, 3.0), 1, precision=16)
    g16 = bounds.cross_ratio((0.0, 1.0), (2.0, 3.0), precision=16)
    assert isinstance(z16, mpmath.mpf) and isinstance(g16, mpmath.mpf)
    with mpmath.workdps(40):
        closed = 4 * mpmath.exp(-mpmath.pi**2 / mpmath.log(16 * mpmath.mpf(4) / 3))
        assert closed <= z16 <= closed * (1 + mpmath.mpf(10) ** -15)
        assert abs(g16 - mpmath.mpf(4) / 3) <= mpmath.mpf(10) ** -15


def test_mpf_round_ends_are_outward_with_the_stated_bits():
    """``_mpf_round`` (``_up`` / ``_down`` at ``prec`` digits) returns the upper or the
    lower end of the ball rounded outward to ``⌈prec·log₂10⌉ + 4`` bits (documented):
    for the wide ball ``1 ± 1/2`` the ends ``3/2`` and ``1/2`` (to the ``2^-30`` of
    Arb's radius); for ``1/3 ±
    2^-200`` mpf numbers of at most that many bits on either side of ``1/3``, apart by
    at most two units of that last bit."""
    prec = 30
    nbits = math.ceil(prec * math.log2(10)) + 4
    wide = arb(1, 0.5)  # Arb stores the radius 1/2 rounded up (30-bit magnitude)
    assert 1.5 <= bounds._up(wide, prec) <= 1.5 + 1e-8
    assert 0.5 - 1e-8 <= bounds._down(wide, prec) <= 0.5
    with ctx.workprec(400):
        third = arb(1) / 3
    hi, lo = bounds._up(third, prec), bounds._down(third, prec)
    with mpmath.workdps(120):
        exact = mpmath.mpf(1) / 3
        assert lo < exact < hi
        assert hi - lo <= 2 * mpmath.mpf(2) ** (-nbits - 1)
    for v in (hi, lo):
        man, _ = v.man_exp
        assert int(man).bit_length() <= nbits
