"""Edge tests of the ribbon decisions and the ρ boundaries of ribbonlib.phase.

The decisions (:func:`phase.is_ribbon`, :func:`phase.ribbon_certified`,
:func:`phase.is_geometric_ribbon`, :func:`phase.geometric_certified`) are tested at
inputs exactly on their documented thresholds, built from exact floats: the threshold
is recomputed here from the documented rounding (``_up(x, k) = x + (|x|(2k + 2)u +
2^-960)`` and ``_down`` alike, see :func:`up` below), so a comparison that is flipped
(``<`` for ``<=``) or a rounding that is widened fails. The covering functions of the ρ
boundaries (:func:`phase._largest_below`, :func:`phase._excluded_from`) are tested on
hand-made affine conditions whose ends are exact floats, and
:func:`phase._rho_boundaries` on hand-made affine pieces whose half-line ends are
worked out here with exact rationals.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from ribbonlib import certify, phase
from ribbonlib.phase import GeometricCriterion, RibbonCriterion

U = np.finfo(float).eps / 2
TINY = 2.0**-960


def up(x: float, k: float) -> float:
    """The documented upward rounding ``x + (|x|(2k + 2)u + 2^-960)`` in float64."""
    return x + (abs(x) * ((2.0 * k + 2.0) * U) + TINY)


def down(x: float, k: float) -> float:
    """The documented downward rounding ``x − (|x|(2k + 2)u + 2^-960)`` in float64."""
    return x - (abs(x) * ((2.0 * k + 2.0) * U) + TINY)


def test_up_down_helpers_match_the_documented_rounding():
    """The helpers above are the formulas of ``phase._up``/``_down``'s docstrings;
    checked once against the code at a few values (exact equality: same float ops)."""
    for x in (0.0, 1.0, -3.5, 1e-300, 7.25e10):
        for k in (1, 2, 3):
            assert float(phase._up(x, k)) == up(x, k)
            assert float(phase._down(x, k)) == down(x, k)


# ------------------------------------------------------------------ criteria


def test_ribbon_criterion_rejects_the_open_ends():
    """``q`` and ``eps`` lie in the open interval ``(0, 1)``: both ends are refused,
    and a value just inside is accepted."""
    for bad in (0.0, 1.0, 1.5, -0.25):
        with pytest.raises(ValueError, match="q"):
            RibbonCriterion(q=bad)
        with pytest.raises(ValueError, match="eps"):
            RibbonCriterion(eps=bad)
    RibbonCriterion(q=math.nextafter(1.0, 0.0), eps=math.nextafter(1.0, 0.0))
    RibbonCriterion(q=5e-324, eps=5e-324)


def test_geometric_criterion_rejects_the_open_ends_of_q_max():
    """``q_max`` in ``(0, 1)`` (both ends refused); ``q_min`` in ``[0, q_max)``."""
    for bad in (0.0, 1.0):
        with pytest.raises(ValueError, match="q_max"):
            GeometricCriterion(q_max=bad, q_min=0.0)
    GeometricCriterion(q_max=0.5, q_min=0.0)
    with pytest.raises(ValueError, match="q_min"):
        GeometricCriterion(q_max=0.5, q_min=0.5)


# ------------------------------------------------------------------ plateau_count


def test_plateau_count_domain_edges():
    """``steps = 0`` and fractional ``steps`` are in the domain (``T >= 0``; the
    formula is continuous in ``T``), ``eta = 0`` is not (``η > 0``)."""
    assert phase.plateau_count(1.0, 0.5, 0) == 0.0
    assert phase.plateau_count(1.0, 0.5, 0.5) == 0.5
    with pytest.raises(ValueError, match="eta"):
        phase.plateau_count(1.0, 0.0, 10)
    with pytest.raises(ValueError, match="steps"):
        phase.plateau_count(1.0, 0.5, -1)


# ------------------------------------------------------------------ grid inputs


@pytest.mark.parametrize(
    "lams",
    [np.ones((1, 2, 2)), np.zeros((1, 0)), np.zeros((2, 0))],
)
def test_grid_inputs_refuse_lams_of_the_wrong_shape(lams):
    """``lams`` must be 2-D with at least one column: the shape error is raised."""
    with pytest.raises(ValueError, match="2-D array"):
        phase.spectra_grid(lams, [1.0, 1.0], [1.0], 0.1, 3)


@pytest.mark.parametrize("s", [[], [[1.0, 2.0]], [np.inf], [np.nan], [1.0, -1.0]])
def test_grid_inputs_refuse_bad_scales(s):
    """``s_values``: non-empty, 1-D, finite, ``>= 0``; each failure is refused."""
    with pytest.raises(ValueError, match="s_values"):
        phase.spectra_grid([[1.0, 0.5]], [1.0, 1.0], s, 0.1, 3)


def test_grid_inputs_steps_as_objects():
    """``steps=None`` is refused with the documented ``ValueError``; an object array
    of 0-d integer arrays (one per row) is an array of integers and is accepted."""
    with pytest.raises(ValueError, match="steps"):
        phase.spectra_grid([[1.0, 0.5]], [1.0, 1.0], [1.0], 0.1, None)
    steps = np.empty(2, dtype=object)
    steps[0], steps[1] = np.array(3), np.array(4)
    got = phase.spectra_grid([[1.0, 0.5], [1.0, 0.25]], [1.0, 1.0], [1.0], 0.1, steps)
    ref = phase.spectra_grid([[1.0, 0.5], [1.0, 0.25]], [1.0, 1.0], [1.0], 0.1, [3, 4])
    assert np.array_equal(got, ref)


# ------------------------------------------------------------------ is_ribbon


def test_is_ribbon_at_its_ties():
    """Both conditions are ``<=``: at ``K = 2``, ``q = 3/4`` (ratio ``9/16``) the
    spectrum ``[2, 1, 1]`` meets the variance tie ``1 = ε·4`` at ``ε = 1/4``, and
    ``[16, 9, 9]`` the decay tie ``μ_2 = (9/16) μ_1``; every sum and product is exact
    in float64, so each is a ribbon, and with ``ε`` one ulp smaller, or ``μ_2`` one
    ulp larger, it is not."""
    crit = RibbonCriterion(K=2, q=0.75, eps=0.25)
    assert phase.is_ribbon([2.0, 1.0, 1.0], crit)
    crit = RibbonCriterion(K=2, q=0.75, eps=math.nextafter(0.25, 0.0))
    assert not phase.is_ribbon([2.0, 1.0, 1.0], crit)
    crit = RibbonCriterion(K=2, q=0.75, eps=0.5)
    assert phase.is_ribbon([16.0, 9.0, 9.0], crit)
    assert not phase.is_ribbon([16.0, math.nextafter(9.0, 10.0), 9.0], crit)


def test_is_geometric_ribbon_edges():
    """``q_min = 0`` accepts a collapsed tail (``[1, 0, 0, 0]`` is a geometric ribbon:
    ``0 <= q_max² μ_k`` and ``0 >= 0``), the zero spectrum is not one (``μ_1 > 0`` is
    required), and an increase smaller than 1 is refused as unsorted."""
    crit = GeometricCriterion(K=4, q_max=0.8, q_min=0.0)
    assert phase.is_geometric_ribbon([1.0, 0.0, 0.0, 0.0], crit)
    assert not phase.is_geometric_ribbon([0.0, 0.0, 0.0, 0.0], crit)
    with pytest.raises(ValueError, match="non-increasing"):
        phase.is_geometric_ribbon([1.0, 1.5, 0.5, 0.2], crit)


# ------------------------------------------------------------------ ribbon_certified

Q2 = RibbonCriterion(K=2, q=0.5, eps=0.25)  # ratio q² = 1/4, exact


def _ratio_bounds(crit):
    """``ratio_bounds`` as documented: the float ratio widened by 16 ulp both ways."""
    r = crit.q ** (2 * (crit.K - 1))
    return down(r, 16), up(r, 16)


def test_ribbon_certified_decay_thresholds_are_ties():
    """``proved`` needs ``upper_K <= ↓₁(r_lo lower_1)`` and ``excluded`` needs
    ``lower_K > ↑₁(r_hi upper_1)``, with ``r_lo, r_hi`` the ratio bounds: at the
    documented threshold (built here from the documented rounding) the first holds
    and the second fails; one ulp beyond, the reverse. The variance part is kept out
    of the way (a zero upper tail bound and a trace of 8; a trace of 1.5, whose
    tail of at most 0.25 is below ``ε·1.5``)."""
    r_lo, r_hi = _ratio_bounds(Q2)
    tail0 = np.zeros(4)
    thr = down(r_lo * 1.0, 1)
    lo, up_ = np.array([1.0, 0.0, 0.0]), np.array([1.0, thr, 0.0])
    proved, _ = phase.ribbon_certified(lo, up_, 8.0, Q2, tail_upper=tail0)
    assert proved
    up_[1] = math.nextafter(thr, 1.0)
    proved, _ = phase.ribbon_certified(lo, up_, 8.0, Q2, tail_upper=tail0)
    assert not proved
    thr = up(r_hi * 1.0, 1)
    lo, up_ = np.array([1.0, thr, 0.0]), np.array([1.0, 1.0, 0.0])
    _, excluded = phase.ribbon_certified(lo, up_, 1.5, Q2)
    assert not excluded
    lo[1] = math.nextafter(thr, 1.0)
    _, excluded = phase.ribbon_certified(lo, up_, 1.5, Q2)
    assert excluded


def test_ribbon_certified_variance_thresholds_are_ties():
    """The extra tail bounds enter as given: ``proved`` holds exactly up to
    ``tail_upper_K = ↓₁(ε tr_lo)`` and ``excluded`` starts just beyond
    ``tail_lower_K = ↑₁(ε tr_hi)``; ``tail_lower`` acts on ``excluded`` only and
    ``tail_upper`` on ``proved`` only."""
    tr = certify.Enclosure(np.array(5.0), np.array(9.0))
    lo, up_ = np.array([4.0, 0.5, 0.0]), np.array([4.0, 0.5, 2.0])
    thr = down(0.25 * 5.0, 1)
    ex = np.array([9.0, 9.0, thr, 0.0])
    assert phase.ribbon_certified(lo, up_, tr, Q2, tail_upper=ex)[0]
    ex[2] = math.nextafter(thr, 9.0)
    assert not phase.ribbon_certified(lo, up_, tr, Q2, tail_upper=ex)[0]
    thr = up(0.25 * 9.0, 1)
    ex = np.array([0.0, 0.0, thr, 0.0])
    assert not phase.ribbon_certified(lo, up_, tr, Q2, tail_lower=ex)[1]
    ex[2] = math.nextafter(thr, 9.0)
    proved, excluded = phase.ribbon_certified(lo, up_, tr, Q2, tail_lower=ex)
    assert excluded and not proved
    # without the extra bound the bounds alone prove nothing either way
    assert not any(phase.ribbon_certified(lo, up_, tr, Q2))


def test_ribbon_certified_tail_from_the_trace_is_rounded_once():
    """The tail bound from the trace, ``↑₁(tr_hi − Σ↓ lower_{k<=K})``, at a point where
    it is exact: ``K = 2``, ``lower = upper = [3, 1]`` then 64 modes in ``[0, 1]``,
    ``tr_hi = 68``. The lower head sum ``Σ↓`` is within ``(2n + 2)u·4 + 4u·4 < 64u`` of
    4 (``_sum_up``'s budget), less than half an ulp of 64 (``128u``), so
    ``fl(68 − Σ↓) = 64`` exactly and the tail bound is ``↑₁(64) = 64 + 256u``
    (the ``+ Σ_{k>K} upper_k = 64`` bound is larger). With ``ε = 31/32`` and ``tr_lo``
    chosen so that ``↓₁(ε tr_lo)`` equals ``64 + 256u``, ``proved`` holds; at the next
    smaller ``tr_lo`` it does not. Mirrored for ``excluded``: ``tr_lo = 68``, the lower
    tail ``↓₁(68 − Σ↑ upper_{k<=K}) = ↓₁(64) = 64 − 256u`` against ``↑₁(ε tr_hi)``.
    The decay conditions hold (``1 <= (9/16)·3``)."""
    crit = RibbonCriterion(K=2, q=0.75, eps=31 / 32)
    lo = np.r_[3.0, 1.0, np.zeros(64)]
    up_ = np.r_[3.0, 1.0, np.ones(64)]
    t1 = up(64.0, 1)
    assert t1 == 64.0 + 256 * U
    tr_lo = 64.0 / (31 / 32)
    while down(31 / 32 * tr_lo, 1) < t1:
        tr_lo = math.nextafter(tr_lo, 100.0)
    while down(31 / 32 * math.nextafter(tr_lo, 0.0), 1) >= t1:
        tr_lo = math.nextafter(tr_lo, 0.0)
    tr = certify.Enclosure(np.array(tr_lo), np.array(68.0))
    assert phase.ribbon_certified(lo, up_, tr, crit)[0]
    tr = certify.Enclosure(np.array(math.nextafter(tr_lo, 0.0)), np.array(68.0))
    assert not phase.ribbon_certified(lo, up_, tr, crit)[0]
    # excluded: the lower tail 64 − 256u against ↑₁(ε tr_hi), ε = 15/16
    crit = RibbonCriterion(K=2, q=0.75, eps=15 / 16)
    lo = np.r_[3.0, 1.0, np.zeros(64)]
    t2 = down(64.0, 1)
    assert t2 == 64.0 - 256 * U
    tr_hi = 64.0 / (15 / 16)
    while up(15 / 16 * tr_hi, 1) < t2:
        tr_hi = math.nextafter(tr_hi, 100.0)
    # largest tr_hi with ↑₁(ε tr_hi) < t2: excluded there, not at the next one
    while up(15 / 16 * tr_hi, 1) >= t2:
        tr_hi = math.nextafter(tr_hi, 0.0)
    assert up(15 / 16 * tr_hi, 1) >= down(64.0, 2)
    tr = certify.Enclosure(np.array(68.0), np.array(tr_hi))
    assert phase.ribbon_certified(lo, up_, tr, crit)[1]
    tr = certify.Enclosure(np.array(68.0), np.array(math.nextafter(tr_hi, 100.0)))
    assert not phase.ribbon_certified(lo, up_, tr, crit)[1]


def test_ribbon_certified_with_no_tail():
    """``d = K``: the tail beyond ``K`` is empty, exactly 0. With ``μ = [1, 0]`` and a
    trace enclosure ``[3·2^-960, 10]``, ``0 <= ε tr`` is proved as soon as
    ``↓₁(ε tr_lo) >= 0`` (here about ``2^-961``), so the ribbon is proved although the
    trace bound alone leaves a tail of up to 9. With a trace proved negative
    (``μ = [0, −1]``, ``tr ∈ [−1, −3·2^-960]``) the empty tail exceeds ``ε tr``
    (``↑₁(ε tr_hi)`` about ``−2^-961``): excluded."""
    crit = RibbonCriterion(K=2, q=0.5, eps=0.5)
    lo = up_ = np.array([1.0, 0.0])
    tr = certify.Enclosure(np.array(3 * TINY), np.array(10.0))
    assert down(0.5 * 3 * TINY, 1) > 0
    proved, excluded = phase.ribbon_certified(lo, up_, tr, crit)
    assert proved and not excluded
    lo = up_ = np.array([0.0, -1.0])
    tr = certify.Enclosure(np.array(-1.0), np.array(-3 * TINY))
    assert -TINY < up(0.5 * -3 * TINY, 1) < 0
    proved, excluded = phase.ribbon_certified(lo, up_, tr, crit)
    assert excluded and not proved


def test_ribbon_certified_needs_K_eigenvalues():
    """Fewer than ``K`` bounds on the last axis: ``ValueError``."""
    with pytest.raises(ValueError, match="d >= K"):
        phase.ribbon_certified([1.0], [1.0], 1.0, Q2)
    with pytest.raises(ValueError, match="d >= K"):
        phase.geometric_certified([1.0], [1.0], GeometricCriterion(K=2))


# ------------------------------------------------------------------ geometric_certified

G2 = GeometricCriterion(K=2, q_max=0.5, q_min=0.25)  # q_max² = 1/4, q_min² = 1/16


def test_geometric_certified_thresholds_are_ties():
    """``proved`` needs ``upper_2 <= ↓₁(↓₁(q_max²) lower_1)`` and
    ``↑₁(↑₁(q_min²) upper_1) <= lower_2``; ``excluded`` needs ``lower_2 >
    ↑₁(↑₁(q_max²) upper_1)`` or ``upper_2 < ↓₁(↓₁(q_min²) lower_1)``. At each
    documented threshold (built from the documented rounding) the non-strict one holds
    and the strict one fails; one ulp beyond they flip."""
    hi_lo, hi_hi = down(0.25, 1), up(0.25, 1)
    lo_lo, lo_hi = down(0.0625, 1), up(0.0625, 1)
    # proved, upper condition at its tie (lower condition with room)
    t = down(hi_lo * 1.0, 1)
    lo, up_ = np.array([1.0, 0.125]), np.array([1.0, t])
    assert phase.geometric_certified(lo, up_, G2)[0]
    up_[1] = math.nextafter(t, 1.0)
    assert not phase.geometric_certified(lo, up_, G2)[0]
    # proved, lower condition at its tie
    t = up(lo_hi * 1.0, 1)
    lo, up_ = np.array([1.0, t]), np.array([1.0, 0.125])
    assert phase.geometric_certified(lo, up_, G2)[0]
    lo[1] = math.nextafter(t, 0.0)
    assert not phase.geometric_certified(lo, up_, G2)[0]
    # excluded, too slow a decay: at the tie not excluded
    t = up(hi_hi * 1.0, 1)
    lo, up_ = np.array([1.0, t]), np.array([1.0, 0.5])
    assert not phase.geometric_certified(lo, up_, G2)[1]
    lo[1] = math.nextafter(t, 1.0)
    assert phase.geometric_certified(lo, up_, G2)[1]
    # excluded, too fast a decay
    t = down(lo_lo * 1.0, 1)
    lo, up_ = np.array([1.0, 0.0]), np.array([1.0, t])
    assert not phase.geometric_certified(lo, up_, G2)[1]
    up_[1] = math.nextafter(t, 0.0)
    assert phase.geometric_certified(lo, up_, G2)[1]


def test_geometric_certified_zero_top_and_nan():
    """``upper_1 <= 0`` excludes (no positive width), also at ``upper_1 = 0``; a
    positive ``upper_1`` with a zero second bound does not (``q_min = 0``); NaN in
    either bound is refused."""
    crit = GeometricCriterion(K=2, q_max=0.5, q_min=0.0)
    z = np.zeros(2)
    assert phase.geometric_certified(z, z, crit)[1]
    assert not phase.geometric_certified(z, np.array([1.0, 0.0]), crit)[1]
    for lo, up_ in (([np.nan, 0.0], [1.0, 0.0]), ([1.0, 0.0], [1.0, np.nan])):
        with pytest.raises(ValueError, match="NaN"):
            phase.geometric_certified(lo, up_, crit)


# ------------------------------------------------------------------ covering functions


def test_largest_below_cases():
    """``sup{x >= 0 : [0, x] covered by {A_k + x B_k <= 0}}`` on one or two
    conditions with exact ends: ``−1`` when nothing holds at 0; ``inf`` when a
    condition holds on all of ``[0, ∞)`` (``A <= 0``, ``B <= 0``, also ``A = B = 0``);
    the end ``−A/B = 1`` rounded down, ``↓₁(1) = 1 − 4u``; the end 0 rounded down
    (``−2^-960``); a condition with ``B = 0 < A`` holds nowhere and extends nothing."""
    lb = phase._largest_below
    assert lb(np.array([1.0]), np.array([1.0])) == -1.0
    assert lb(np.array([-1.0]), np.array([-1.0])) == math.inf
    assert lb(np.array([0.0]), np.array([0.0])) == math.inf
    assert lb(np.array([-1.0]), np.array([1.0])) == down(1.0, 1) == 1.0 - 4 * U
    assert lb(np.array([0.0]), np.array([1.0])) == down(0.0, 1) == -TINY
    assert lb(np.array([-1.0, 1.0]), np.array([1.0, 0.0])) == 1.0 - 4 * U


def test_largest_below_half_line_at_the_tie():
    """A half-line ``[x_s, ∞)`` (``B < 0 < A``) whose start rounded up, ``↑₁(x_s)``,
    equals the covered end ``x = ↓₁(1)`` joins it: the union is all of ``[0, ∞)``;
    one ulp further it does not (``x`` is returned). ``x_s = A`` for ``B = −1``
    (exact quotient); the tie is found by stepping ``x_s`` down from ``x``."""
    x = down(1.0, 1)
    xs = x
    while up(xs, 1) > x:
        xs = math.nextafter(xs, 0.0)
    assert up(xs, 1) == x
    A, B = np.array([-1.0, xs]), np.array([1.0, -1.0])
    assert phase._largest_below(A, B) == math.inf
    A[1] = math.nextafter(xs, 2.0)
    assert up(A[1], 1) > x
    assert phase._largest_below(A, B) == x


def test_excluded_from_cases():
    """``inf{x >= 0 : (x, ∞) covered by {A_k + x B_k > 0}}``: ``inf`` when no
    condition has ``B > 0`` (``A = B = 0`` holds nowhere); the half-line end ``1``
    rounded up, ``↑₁(1) = 1 + 4u``; ``0`` when an interval ``[0, 5)`` (``B < 0 < A``)
    reaches past the half-line end; a condition with ``A = B = −inf`` holds nowhere and
    changes nothing."""
    ef = phase._excluded_from
    assert ef(np.array([0.0]), np.array([0.0])) == math.inf
    assert ef(np.array([-1.0]), np.array([-1.0])) == math.inf
    assert ef(np.array([-1.0]), np.array([1.0])) == up(1.0, 1) == 1.0 + 4 * U
    assert ef(np.array([1.0]), np.array([0.0])) == 0.0
    assert ef(np.array([-1.0, 5.0]), np.array([1.0, -1.0])) == 0.0
    with np.errstate(invalid="ignore"):
        got = ef(np.array([-1.0, 5.0, -np.inf]), np.array([1.0, -1.0, -np.inf]))
    assert got == 0.0


def test_excluded_from_interval_at_the_tie():
    """An interval ``[0, e)`` whose end rounded down, ``↓₁(e)``, equals the half-line
    end ``x_0 = ↑₁(1)`` leaves ``x_0`` itself uncovered (the interval is open), so
    ``x_0`` is returned; one ulp further (``↓₁(e) > x_0``) the union is everything and
    0 is returned. ``e = A`` for ``B = −1``."""
    x0 = up(1.0, 1)
    e = x0
    while down(e, 1) < x0:
        e = math.nextafter(e, 2.0)
    assert down(e, 1) == x0
    A, B = np.array([-1.0, e]), np.array([1.0, -1.0])
    assert phase._excluded_from(A, B) == x0
    A[1] = math.nextafter(e, 2.0)
    assert down(A[1], 1) > x0
    assert phase._excluded_from(A, B) == 0.0


# ------------------------------------------------------------------ SGD parts


def _F(x):
    return Fraction(float(x))


def test_sgd_parts_round_off_budget():
    """:func:`phase._sgd_parts` term by term, against its docstring. With ``e_i =
    ↑₂(ε_T max|diag P_i|)`` for the parts ``P = (signal, init, label)`` of
    ``sgd.fluctuation_parts`` and ``ε_T = sgd.cloud_rounding(d, T)``:
    ``E' = ↑₂(E + e_0 + ↑₁(σ_ε² e_2) + 2u|S'|)``, ``n̂' = n̂ + diag(P_init)``,
    ``n̂'_lo = ↓₂(n̂_lo + diag P_init − e_1)``,
    ``n̂'_hi = ↑₂(n̂_hi + diag P_init + e_1)``, ``E, n̂`` those of gradient descent.
    Each budget is summed here in exact rationals from the float terms, each ``↑_k``
    as the factor ``1 ± (2k + 2)u``; the float evaluation adds at most four roundings
    of sums of terms of one sign (``4u`` relative), and the ``2^-960`` allowances are
    far below that. So each returned value lies in ``[budget (1 − 4u),
    budget (1 + 4u)]``. At ``σ_ε² = 3`` the label term is most of ``E'``, ``e_0``
    about 5% and ``2u|S'|`` about ``1e-4`` of it; ``e_1`` is ``1e-13`` of ``n̂``, far
    above ``4u``. ``n̂' = n̂ + diag P_init`` is checked against the diagonal of
    ``sgd.cloud_covariance`` at ``s = 1`` minus ``S'`` (the two agree to the
    ``1e-13`` of the cloud's own rounding)."""
    from ribbonlib import sgd

    lam = np.array([1.0, 0.5, 0.25, 0.125])
    b = np.array([1.0, 0.5, -0.3, 0.2])
    eta, B, T, noise = 0.5, 2, 20, 3.0
    S, E, (n_f, n_lo, n_hi) = phase._gd_parts(lam, b, eta, T)
    parts = sgd.fluctuation_parts(lam, b, eta, B, T)
    eps_T = _F(sgd.cloud_rounding(lam.size, T))
    u = Fraction(1, 2**53)
    err = [eps_T * _F(np.max(np.abs(np.diag(v)))) * (1 + 6 * u) for v in parts]
    S2, E2, n = phase._sgd_parts(lam, b, eta, B, T, noise)
    lab = _F(noise) * err[2] * (1 + 4 * u)
    for i in range(lam.size):
        for j in range(lam.size):
            bud = (_F(E[i, j]) + err[0] + lab + 2 * u * abs(_F(S2[i, j]))) * (1 + 6 * u)
            assert bud * (1 - 4 * u) <= _F(E2[i, j]) <= bud * (1 + 4 * u)
    init = np.diag(parts.init)
    C1 = sgd.cloud_covariance(lam, b, 1.0, eta, B, T, label_noise=noise)
    assert np.allclose(n[0], np.diag(C1 - S2), rtol=1e-13, atol=0)
    for k in range(lam.size):
        mid = _F(n_hi[k]) + _F(init[k]) + err[1]
        bud = mid * (1 + 6 * u)
        assert bud * (1 - 4 * u) <= _F(n[2][k]) <= bud * (1 + 4 * u)
        mid = _F(n_lo[k]) + _F(init[k]) - err[1]
        bud = mid * (1 - 6 * u)
        assert bud * (1 - 4 * u) <= _F(n[1][k]) <= bud * (1 + 4 * u)


def test_sgd_rho_boundaries_default_label_noise_is_zero():
    """The default ``label_noise`` is ``0`` (the documented default): the result equals
    the one with ``label_noise=0.0`` given, and differs from ``label_noise=1.0`` at
    this spectrum (``K = 2``, ``q = 1/2``, ``ε = 0.2``, ``T = 5``)."""
    lam, b = np.array([1.0, 0.1, 0.01, 0.001]), np.ones(4)
    crit = RibbonCriterion(K=2, q=0.5, eps=0.2)
    got = phase.sgd_rho_boundaries(lam, b, 0.5, 4, 5, criterion=crit)
    assert got == phase.sgd_rho_boundaries(lam, b, 0.5, 4, 5, 0.0, crit)
    assert got != phase.sgd_rho_boundaries(lam, b, 0.5, 4, 5, 1.0, crit)


# ------------------------------------------------------------------ ρ boundaries


class Iv:
    """A closed interval of rationals, for a rigorous model of float64 evaluation:
    exact operations, then :meth:`fl` rounds. IEEE 754 rounds every ``+ − × ÷ √`` of
    floats correctly (to nearest, ties to even), so the float result of an operation on
    exact floats is the correct rounding of the exact result (``float`` of a
    ``Fraction`` rounds correctly; a float square root is ``math.sqrt``); an interval
    that is not one float is widened by ``u|z|`` (no result here is subnormal)."""

    def __init__(self, lo, hi=None):
        self.lo = Fraction(lo)
        self.hi = self.lo if hi is None else Fraction(hi)

    @staticmethod
    def of(x):
        return x if isinstance(x, Iv) else Iv(Fraction(float(x)))

    def __add__(self, o):
        o = Iv.of(o)
        return Iv(self.lo + o.lo, self.hi + o.hi)

    def __sub__(self, o):
        o = Iv.of(o)
        return Iv(self.lo - o.hi, self.hi - o.lo)

    def __neg__(self):
        return Iv(-self.hi, -self.lo)

    def __mul__(self, o):
        o = Iv.of(o)
        p = [a * b for a in (self.lo, self.hi) for b in (o.lo, o.hi)]
        return Iv(min(p), max(p))

    def __truediv__(self, o):
        o = Iv.of(o)
        assert o.lo > 0 or o.hi < 0
        return self * Iv(*sorted((1 / o.lo, 1 / o.hi)))

    def abs(self):
        if self.lo >= 0:
            return self
        if self.hi <= 0:
            return -self
        return Iv(0, max(-self.lo, self.hi))

    def sqrt(self):
        assert self.lo >= 0
        if self.lo == self.hi and Fraction(float(self.lo)) == self.lo:
            return Iv(Fraction(math.sqrt(float(self.lo))))  # correctly rounded
        s = 2**120
        lo = Fraction(math.isqrt(math.floor(self.lo * s * s)), s)
        hi = Fraction(math.isqrt(math.ceil(self.hi * s * s)) + 1, s)
        return Iv(lo, hi)

    def fl(self):
        if self.lo == self.hi:  # one exact result: its correct rounding
            return Iv(Fraction(float(self.lo)))
        ulp = Fraction(1, 2**53)
        return Iv(self.lo - ulp * abs(self.lo), self.hi + ulp * abs(self.hi))

    def __contains__(self, x):
        return self.lo <= Fraction(float(x)) <= self.hi

    def rel_width(self):
        return float((self.hi - self.lo) / max(abs(self.lo), abs(self.hi)))


def m_up(x, k):
    """``↑_k`` as its docstring evaluates it: ``x + (|x|c + 2^-960)``, three roundings
    (``c = (2k + 2)u`` is exact)."""
    x = Iv.of(x)
    c = Fraction((2 * k + 2), 2**53)
    return (x + ((x.abs() * c).fl() + TINY).fl()).fl()


def m_down(x, k):
    x = Iv.of(x)
    c = Fraction((2 * k + 2), 2**53)
    return (x - ((x.abs() * c).fl() + TINY).fl()).fl()


MARGIN = Fraction(1.0 + 1e-12), Fraction(1.0 - 1e-12)  # the floats 1 ± 10^-12


def _model(d, crit, tr, bnorm, nec=None, suff=None):
    """The documented ``_rho_boundaries`` for one active piece, in :class:`Iv`.

    ``nec = ("dec", ℓ, υ)`` or ``("var", τ)`` with pieces ``(A, B)`` gives the half-line
    end ``x_nec = max(0, ↑₁(−A/B))`` (``B > 0`` is asserted); ``suff`` alike gives
    ``x_suff = ↓₁(−A/B)`` (``A <= 0 < B`` asserted). Returns the model of ``ρ`` (the
    returned ``ρ_nec (1 + m)`` or ``ρ_suff (1 − m)``)."""
    r_lo, r_hi = _ratio_bounds(crit)
    eps = crit.eps
    trS_lo, trN_lo, trS_hi, trN_hi = tr
    al = (m_up(Fraction(4 * d, 2**53), 2) * Fraction(1.0 + 8.0 * U)).fl()
    aS, aN = m_up((al * trS_hi).fl(), 1), m_up((al * trN_hi).fl(), 1)
    one_r_hi, one_r_lo = Iv.of(1.0 + r_hi), Iv.of(1.0 + r_lo)
    if nec is not None:
        if nec[0] == "dec":
            (lA, lB), (uA, uB) = nec[1], nec[2]
            A = m_down(((Iv.of(lA) - m_up((Iv.of(uA) * r_hi).fl(), 1)).fl()
                        - (one_r_hi * aS).fl()).fl(), 3)
            B = m_down(((Iv.of(lB) - m_up((Iv.of(uB) * r_hi).fl(), 1)).fl()
                        - (one_r_hi * aN).fl()).fl(), 3)
        else:
            tA, tB = nec[1]
            A = m_down(((Iv.of(tA) - (aS * d).fl()).fl()
                        - m_up((Iv.of(eps) * trS_hi).fl(), 1)).fl(), 3)
            B = m_down(((Iv.of(tB) - (aN * d).fl()).fl()
                        - m_up((Iv.of(eps) * trN_hi).fl(), 1)).fl(), 3)
        assert B.lo > 0
        x = m_up((-A / B).fl(), 1)
        assert x.lo > 0
        b_lo = m_down(bnorm, d + 8)
        rho = m_up((m_up(x, 1).sqrt().fl() / b_lo).fl(), 2)
        return (rho * MARGIN[0]).fl()
    if suff[0] == "dec":
        (uA, uB), (lA, lB) = suff[1], suff[2]
        A = m_up(((Iv.of(uA) + (one_r_lo * aS).fl()).fl()
                  - m_down((Iv.of(lA) * r_lo).fl(), 1)).fl(), 3)
        B = m_up(((Iv.of(uB) + (one_r_lo * aN).fl()).fl()
                  - m_down((Iv.of(lB) * r_lo).fl(), 1)).fl(), 3)
    else:
        tA, tB = suff[1]
        A = m_up(((Iv.of(tA) + (aS * d).fl()).fl()
                  - m_down((Iv.of(eps) * trS_lo).fl(), 1)).fl(), 3)
        B = m_up(((Iv.of(tB) + (aN * d).fl()).fl()
                  - m_down((Iv.of(eps) * trN_lo).fl(), 1)).fl(), 3)
    assert A.hi <= 0 < B.lo
    x = m_down((-A / B).fl(), 1)
    assert x.lo > 0
    b_hi = m_up(bnorm, d + 8)
    rho = m_down((m_down(x, 1).sqrt().fl() / b_hi).fl(), 2)
    return (rho * MARGIN[1]).fl()


def _pieces(tr, **kw):
    """Affine pieces with every condition idle unless given: the necessary ones hold
    nowhere (``A, B < 0``), the sufficient ones nowhere either (``A > 0 = B``: ``x_suff
    = −1``, ``ρ_suff = 0``), unless ``suff_everywhere`` (``A, B < 0``: ``x_suff =
    inf``)."""
    one = lambda a, b: (np.array([float(a)]), np.array([float(b)]))
    out = {
        "lowK": one(-1, -1), "up1": one(0, 0), "tail_low": one(-1, -1),
        "upK": one(1, 0), "low1": one(0, 0), "tail_up": one(-1, -1),
        "trace": tr,
    }
    if kw.pop("suff_everywhere", False):
        out["upK"] = one(-1, -1)
    out.update({k: one(*v) for k, v in kw.items()})
    return out


def _rho(monkeypatch, d, crit, pieces, bnorm=1.0):
    """``phase._rho_boundaries`` on the given pieces (``_affine_pieces`` replaced)."""
    monkeypatch.setattr(phase, "_affine_pieces", lambda sig, n, K: pieces)
    return phase._rho_boundaries({"sig_lo": np.zeros(d)}, None, bnorm, crit)


CR = RibbonCriterion(K=2, q=0.5, eps=0.25)
R_LO, R_HI = _ratio_bounds(CR)
P4 = 4.0 * R_LO  # ↓₁(R_lo·4) is 4u·P4 + 2^-960 below P4


def test_ratio_bounds_are_the_documented_ones():
    """The ratio bounds used by the model: ``q^(2(K−1))`` widened by ``↓₁₆``/``↑₁₆``."""
    assert CR.ratio_bounds == (R_LO, R_HI)


def _nec_cases(d):
    """``(trace, model argument)`` per case: each puts one group of terms into most
    of the condition's value. The allowance is about ``4du`` per unit of trace."""
    return {
        # ℓ_A = R_hi υ_A: the decay condition at 0 is its round-off and allowance
        "decay A": ((1.0, 0.0, 1.0, 0.0), ("dec", (R_HI, 1.0), (1.0, 0.0))),
        # ℓ_B − R_hi υ_B = (10d + 1)u against (1 + R_hi) a_N ≈ 5du
        "decay B": (
            (1.0, 1.0, 1.0, 1.0),
            ("dec", (0.0, R_HI + (10 * d + 1) * U), (1.0, 1.0)),
        ),
        # τ_A = ε trS: the variance condition at 0 is its round-off and allowance
        "variance A": ((4.0, 0.0, 4.0, 0.0), ("var", (1.0, 2.0))),
        # τ_B − ε trN = 32d²u against d a_N ≈ 16d²u
        "variance B": ((4.0, 4.0, 4.0, 4.0), ("var", (0.5, 1.0 + 32 * d * d * U))),
    }


def _suff_cases(d):
    """As :func:`_nec_cases` for the sufficient conditions."""
    return {
        "decay A": (
            (1.0, 0.0, 1.0, 0.0),
            ("dec", (P4 - (10 * d + 8) * U, 1.0), (4.0, 0.0)),
        ),
        "decay B": ((1.0, 1.0, 1.0, 1.0), ("dec", (-1.0, P4 - 4 * U), (0.0, 4.0))),
        "variance A": (
            (4.0, 0.0, 4.0, 0.0),
            ("var", (1.0 - 32 * d * d * U, 1.0)),
        ),
        "variance B": ((0.0, 4.0, 0.0, 4.0), ("var", (-1.0, 1.0 - 32 * U))),
    }


CASES = ["decay A", "decay B", "variance A", "variance B"]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("d, bnorm", [(2, 1.0), (5, 3.7)])
def test_rho_nec_is_the_documented_expression(monkeypatch, case, d, bnorm):
    """``ρ_nec`` from one necessary condition (the others idle), against the
    docstring's expression evaluated by :class:`Iv` (exact rationals, each operation
    rounded as IEEE 754 does): equal. The inputs put the round-off and the allowance
    ``a_S``, ``a_N`` of the condition into most of its value (exact cancellations of
    the main terms), so that each of its terms and constants decides the result;
    ``ρ_suff`` is 0 (no sufficient condition holds at 0)."""
    tr, spec = _nec_cases(d)[case]
    key = {"dec": None, "var": "tail_low"}[spec[0]]
    kw = {"tail_low": spec[1]} if key else {"lowK": spec[1], "up1": spec[2]}
    got = _rho(monkeypatch, d, CR, _pieces(tr, **kw), bnorm)
    want = _model(d, CR, tr, bnorm, nec=spec)
    assert got[0] == 0.0
    assert got[1] in want and want.rel_width() == 0.0


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("d, bnorm", [(2, 1.0), (5, 3.7)])
def test_rho_suff_is_the_documented_expression(monkeypatch, case, d, bnorm):
    """``ρ_suff`` from one sufficient condition (the other kind holding everywhere,
    no necessary condition anywhere: ``ρ_nec = inf``), against the docstring's
    expression evaluated by :class:`Iv`: equal; inputs as for ``ρ_nec``."""
    tr, spec = _suff_cases(d)[case]
    if spec[0] == "dec":
        kw = {"upK": spec[1], "low1": spec[2]}
    else:
        kw = {"upK": (-1.0, -1.0), "tail_up": spec[1]}
    got = _rho(monkeypatch, d, CR, _pieces(tr, **kw), bnorm)
    want = _model(d, CR, tr, bnorm, suff=spec)
    assert got[1] == math.inf
    assert got[0] in want and want.rel_width() == 0.0


def test_rho_boundaries_special_values(monkeypatch):
    """``x_nec = 0`` (an interval ``[0, e)`` reaching past the half-line end: every
    ``ρ > 0`` excluded) gives ``(0, 0)`` exactly; where the sufficient pieces hold
    everywhere but a necessary one excludes a half-line (contradictory pieces), the
    sufficient boundary is cut to the necessary one: both ends equal; with no
    sufficient condition at 0, ``ρ_suff = 0`` even when ``ρ_nec > 1``."""
    tr = (1.0, 1.0, 1.0, 1.0)
    pc = _pieces(tr, tail_low=(-1.0, 1.0), lowK=(10.0, -1.0))
    assert _rho(monkeypatch, 2, CR, pc) == (0.0, 0.0)
    pc = _pieces(tr, tail_low=(-1.0, 1.0), suff_everywhere=True)
    lo, hi = _rho(monkeypatch, 2, CR, pc)
    assert lo == hi and hi > 1.0
    pc = _pieces(tr, tail_low=(-4.0, 1.0))
    lo, hi = _rho(monkeypatch, 2, CR, pc)
    assert lo == 0.0 and hi > 1.0


def test_sgd_parts_is_the_documented_expression():
    """:func:`phase._sgd_parts` against its docstring's float64 expression, evaluated
    by :class:`Iv` (exact rationals, each operation rounded as IEEE 754 does) from
    the float inputs it names (the gradient-descent parts, ``sgd.fluctuation_parts``
    and ``sgd.cloud_rounding``): every entry equal. Complements the budget test above,
    which allows the evaluation its rounding; this one also sees a rounding ``↑_k``
    made one step wider."""
    from ribbonlib import sgd

    lam = np.array([1.0, 0.5, 0.25, 0.125])
    b = np.array([1.0, 0.5, -0.3, 0.2])
    eta, B, T, noise = 0.5, 2, 20, 3.0
    d = lam.size
    S, E, (n_f, n_lo, n_hi) = phase._gd_parts(lam, b, eta, T)
    parts = sgd.fluctuation_parts(lam, b, eta, B, T)
    eps_T = sgd.cloud_rounding(d, T)
    e = [m_up((Iv.of(eps_T) * np.max(np.abs(np.diag(v)))).fl(), 2) for v in parts]
    lab = m_up((e[2] * noise).fl(), 1)
    S2, E2, n = phase._sgd_parts(lam, b, eta, B, T, noise)
    for i in range(d):
        for j in range(d):
            s2 = (Iv.of(S[i, j]) + parts.signal[i, j]).fl()
            if i == j:
                s2 = (s2 + (Iv.of(noise) * parts.label[i, i]).fl()).fl()
            assert S2[i, j] in s2
            head = (Iv.of(E[i, j]) + (e[0] + lab).fl()).fl()
            want = m_up((head + (s2.abs() * Fraction(2, 2**53)).fl()).fl(), 2)
            assert E2[i, j] in want and want.rel_width() == 0.0
    for k in range(d):
        ini = parts.init[k, k]
        assert n[0][k] in (Iv.of(n_f[k]) + ini).fl()
        lo = m_down(((Iv.of(n_lo[k]) + ini).fl() - e[1]).fl(), 2)
        assert n[1][k] in Iv(max(lo.lo, 0))
        hi = m_up(((Iv.of(n_hi[k]) + ini).fl() + e[1]).fl(), 2)
        assert n[2][k] in hi
