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
