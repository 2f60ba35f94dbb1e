"""ribbonlib.bounds: the signal-width routes and the cloud balls behind them, piece by piece.

The statements of :func:`~ribbonlib.bounds.signal_width_bounds` (and of the helpers it
is made of: the ball enclosures of the cloud, the greedy point-set route, the split
route joined by Weyl's inequality, the exact reading of the inputs) at the places the
tests of ``test_bounds.py`` do not reach: each route as its stated formula, not merely
as some upper bound; the types of the results in float64 and at a precision; inputs
given as mpmath numbers with more bits than a float, or below the float range. The
references are independent: :func:`ribbonlib.certify.cloud_matrices` for the signal,
closed forms in Arb at a much higher precision written here, exact rational
arithmetic (:class:`fractions.Fraction`) for the greedy products, and the Zolotarev
numbers and Chebyshev tails of the library's own tested public functions.
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

U = np.finfo(float).eps / 2


# ------------------------------------------------------------------------ references


def frac(x) -> Fraction:
    """The exact value of a float, an int or an mpmath number."""
    if isinstance(x, mpmath.mpf):
        sign, man, exp, _ = x._mpf_
        return (-1) ** sign * Fraction(int(man)) * Fraction(2) ** int(exp)
    return Fraction(x)


def arb_frac(ball) -> Fraction:
    """The exact value of an exact Arb ball (radius 0)."""
    assert ball.is_exact()
    man, exp = ball.mid().man_exp()
    return Fraction(int(man)) * Fraction(2) ** int(exp)


# ------------------------------------------------------------ _accurate, _exact_inputs


def test_accurate_refuses_non_finite_and_unresolved_balls():
    """``_accurate`` is true exactly when every ball is finite and exact or resolved
    to the bits asked for (its docstring): a ball with ``rel_accuracy_bits`` equal to
    the request passes, one bit more is refused, an infinite or NaN ball is refused
    whatever the request, and exact balls pass any request."""
    with ctx.workprec(200):
        v = arb(1) / 3
        bits = v.rel_accuracy_bits()
        assert bounds._accurate([v], bits)
        assert not bounds._accurate([v], bits + 1)
        assert not bounds._accurate([arb(1), arb(1, 0.5)], 10)
        assert not bounds._accurate([arb("inf")], 0)
        assert not bounds._accurate([arb("nan")], 0)
        assert not bounds._accurate([arb(1), arb(0, "inf")], -1000)
        assert bounds._accurate([arb(0), arb(3), arb(2) ** -1000], 10**6)
        assert bounds._accurate([], 10)


def long_mpf(num: int, den: int, bits: int = 100):
    """``num/den`` rounded to an mpf of ``bits`` bits (more than a float holds)."""
    with mpmath.workprec(bits):
        return mpmath.mpf(num) / den


def frobenius_30(lam, b, eta, T) -> arb:
    """``||S||_F`` of the exact signal (:func:`ribbonlib.certify.cloud_matrices`)."""
    S, _ = certify.cloud_matrices(lam, b, eta, T, target_bits=300)
    with ctx.workprec(300):
        d = S.nrows()
        return sum((S[k, l] ** 2 for k in range(d) for l in range(d)), arb(0)).sqrt()


@pytest.mark.parametrize("which", ["lam", "b", "eta"])
def test_mpf_inputs_are_taken_exactly(which):
    """An mpf input with more bits than a float (``λ`` in an object array) is read
    exactly (the docstrings: the bounds are about exactly the given inputs):
    ``zolotarev_closed[0]`` is
    ``||S||_F·min(1, 4)`` rounded up to 30 digits, so it lies in
    ``[||S||_F, ||S||_F (1 + 10^-29)]`` for the exact ``S`` of the mpf input (the
    rounding to 30 digits, ``2^-100``, plus ~64-bit-resolved balls at most), while its
    float64 neighbour moves ``S`` by about ``2^-80`` relative, 10^5 times that."""
    lam, b, eta, T = [mpmath.mpf(0.75), 0.5], [1.0, -0.25], 0.5, 6
    if which == "lam":
        lam[0] = long_mpf(2**80 + 3, 2**80)
    elif which == "b":
        b[0] = long_mpf(2**80 + 3, 2**80)
    else:
        eta = long_mpf(2**80 + 3, 2**81)
    lam = np.array(lam, dtype=object)  # (a list is read as float64, as everywhere)
    got = bounds.signal_width_bounds(lam, b, eta, T, route="zolotarev_closed", precision=30)
    ref = frobenius_30(lam, b, eta, T)
    with ctx.workprec(300):
        g = certify.to_arb(got[0])
        assert g >= ref and g <= ref * (1 + arb(10) ** -29)


def test_mpf_ground_truth_below_the_float_range_is_a_mode():
    """``b_2 = 10^-400`` (an mpf, zero as a float) is a non-zero mode: the rank is 2
    and ``σ_2(S) >= det S / tr S > 0`` (proved in Arb from the exact S), so the bound
    on ``σ_2`` at 30 digits is positive and at least that."""
    lam, b, eta, T = [1.0, 0.5], [1.0, mpmath.mpf("1e-400")], 0.5, 5
    S, _ = certify.cloud_matrices(lam, b, eta, T, target_bits=300)
    with ctx.workprec(3000):
        low = (S[0, 0] * S[1, 1] - S[0, 1] ** 2) / (S[0, 0] + S[1, 1])
        assert low > 0
        for name, vals in bounds.signal_width_bounds(
            lam, b, eta, T, route="all", precision=30
        ).items():
            assert certify.to_arb(vals[1]) >= low, name


@pytest.mark.parametrize("which", ["lam", "b", "eta"])
def test_other_inputs_are_read_as_their_float64_value(which):
    """Numbers that are not mpf are read as their float64 value (``_exact_inputs``), as
    the float64 checks read them: an int that a float cannot hold (``3^40``; for ``λ`` in
    an object array, which keeps it as given) gives the
    same bounds, to the last of 30 digits, as ``float(3^40)``; the two differ by
    ``2^-54`` relative, far above the 30-digit rounding."""
    big = 3**40
    assert Fraction(float(big)) != big
    lam, b, eta, T = [0.75, 0.5], [1.0, -0.25], 0.5, 6
    if which == "lam":
        lam, eta = np.array([big, big // 2], dtype=object), 2.0**-66
    elif which == "b":
        b = [big, 1.0]
    else:
        lam, eta = [2.0**-66, 2.0**-67], big
    as_float = {
        "lam": [float(v) for v in lam],
        "b": [float(v) for v in b],
        "eta": float(eta),
    }
    args = dict(lam=lam, b=b, eta=eta)
    args[which] = as_float[which]
    got = bounds.signal_width_bounds(lam, b, eta, T, route="all", precision=30)
    ref = bounds.signal_width_bounds(**args, steps=T, route="all", precision=30)
    for name in bounds.SIGNAL_ROUTES:
        assert list(got[name]) == list(ref[name]), name
    lo, up = bounds.cloud_spectrum_bounds(lam, b, 0.1, eta, T, precision=30)
    lo2, up2 = bounds.cloud_spectrum_bounds(
        args["lam"], args["b"], 0.1, args["eta"], T, precision=30
    )
    assert list(lo) == list(lo2) and list(up) == list(up2)


def test_cloud_balls_form_eta_lambda_exactly_for_long_mpf_inputs():
    """``a = ηλ`` is exact (``_cloud_balls``' docstring) also when ``η`` and ``λ`` are
    mpf with 100-bit mantissas, whose product needs up to 200 bits, more than the
    working precision (128 bits at the float64 target): each ``a_k`` is an exact ball
    equal to the rational product."""
    eta = long_mpf(1, 7)
    lam = [long_mpf(1, 3), long_mpf(2, 5), mpmath.mpf(0.25)]
    parts = bounds._cloud_balls(
        np.array(lam, dtype=object), np.array([1.0, 0.5, 2.0], dtype=object), eta, 9, 64
    )
    assert parts["wp"] < 200
    for x, a in zip(lam, parts["a"]):
        assert a.is_exact() and arb_frac(a) == frac(eta) * frac(x)


# ------------------------------------------------------------------ result types


@pytest.mark.parametrize(
    "lam,b,T",
    [
        ([1.0, 0.5, 0.25], [1.0, 0.0, -2.0], 7),  # a zero mode: padded
        ([1.0, 0.5], [1.0, 2.0], 1),  # rank one: zeros beyond it
        ([1.0, 0.5], [1.0, 2.0], 0),  # T = 0: all zero
        ([1.0, 0.5], [0.0, 0.0], 4),  # b = 0: all zero
    ],
)
def test_route_types_in_float64_and_at_a_precision(lam, b, T):
    """``signal_width_bounds`` returns float64 arrays when ``precision`` is omitted and
    object arrays of mpmath.mpf at a precision (its docstring), every entry, the zeros
    beyond the rank and of the modes with ``b_k = 0`` included, for every route."""
    rf = bounds.signal_width_bounds(lam, b, 0.5, T, route="all")
    rm = bounds.signal_width_bounds(lam, b, 0.5, T, route="all", precision=30)
    for name in bounds.SIGNAL_ROUTES:
        assert isinstance(rf[name], np.ndarray) and rf[name].dtype == np.float64, name
        assert rf[name].shape == (len(lam),)
        assert rm[name].dtype == object and rm[name].shape == (len(lam),)
        assert all(isinstance(v, mpmath.mpf) for v in rm[name]), name
        assert all(float(x) <= y for x, y in zip(rm[name], rf[name]))
