"""Round-off budgets of the directed-rounding primitives and enclosures of
ribbonlib.phase.

Every certified bound of :mod:`ribbonlib.phase` is built from a few primitives
(``_up``, ``_down``, ``_sum_up``, ``_frob_up``, ``_tails``) and from the eigenvalue
enclosures (``_eig_enclosure``, ``_mp_eig_enclosure``). Their docstrings state the
float operations they perform; here each is checked against that statement evaluated
in exact rational arithmetic (:class:`fractions.Fraction`), every float operation
rounded to nearest by ``float(Fraction)`` (CPython divides integers correctly
rounded), so the primitives are pinned to the last bit, and separately against the
property they promise (an upper bound on the exact value, tested where the margin is
all that separates them).
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ribbonlib import phase

U = np.finfo(float).eps / 2
FU = Fraction(U)
TINY = Fraction(2) ** -960


def fl(q: Fraction) -> Fraction:
    """``q`` rounded to the nearest float64 (ties to even), as a Fraction."""
    return Fraction(float(q))


def up_ref(x: Fraction, k: float) -> Fraction:
    """``_up``'s statement: ``fl(x + fl(fl(|x| c) + 2^-960))``, ``c = (2k + 2) u``."""
    c = fl(fl(2 * Fraction(k) + 2) * FU)
    return fl(x + fl(fl(abs(x) * c) + TINY))


def down_ref(x: Fraction, k: float) -> Fraction:
    """``_down``'s statement: ``fl(x − fl(fl(|x| c) + 2^-960))``."""
    c = fl(fl(2 * Fraction(k) + 2) * FU)
    return fl(x - fl(fl(abs(x) * c) + TINY))


finite = st.floats(
    min_value=-1e300, max_value=1e300, allow_nan=False, allow_infinity=False
)
ks = st.sampled_from([1, 2, 3, 4.5, 7, 64, 259.0])


# ------------------------------------------------------------------ _up and _down


@given(st.lists(finite, min_size=1, max_size=6), ks)
def test_up_and_down_are_their_stated_float_operations(xs, k):
    """``_up(x, k)`` and ``_down(x, k)`` equal their documented float expressions
    evaluated with exactly rounded operations (Fraction), bit for bit, for finite
    ``x`` of every size (zero, subnormal, huge, both signs) and integer and
    fractional ``k``; the same with a non-finite entry beside them (the ``np.where``
    branch), where the finite entries must come out the same and the non-finite
    ones unchanged."""
    x = np.array(xs)
    want_up = [up_ref(Fraction(v), k) for v in xs]
    want_down = [down_ref(Fraction(v), k) for v in xs]
    assert [Fraction(v) for v in phase._up(x, k)] == want_up
    assert [Fraction(v) for v in phase._down(x, k)] == want_down
    for bad in (math.inf, -math.inf, math.nan):
        xb = np.append(x, bad)
        up, down = phase._up(xb, k), phase._down(xb, k)
        assert [Fraction(v) for v in up[:-1]] == want_up
        assert [Fraction(v) for v in down[:-1]] == want_down
        assert np.array_equal(up[-1:], [bad], equal_nan=True)
        assert np.array_equal(down[-1:], [bad], equal_nan=True)


def test_up_and_down_default_to_one_rounding():
    """``k`` defaults to 1: ``c = 4u``, so at a power of two ``x = 2^e`` the result is
    exactly ``x ± 4u x`` (two ulps of 1 above, four half-ulps below); at 0 it is
    ``±2^-960``, the underflow allowance alone, also next to an infinity."""
    for e in (-500, -1, 0, 3, 700):
        x = 2.0**e
        assert Fraction(phase._up(x)) == Fraction(x) * (1 + 4 * FU)
        assert Fraction(phase._down(x)) == Fraction(x) * (1 - 4 * FU)
        assert Fraction(phase._up(-x)) == -Fraction(x) * (1 - 4 * FU)
        assert Fraction(phase._down(-x)) == -Fraction(x) * (1 + 4 * FU)
        assert Fraction(phase._up(x, 2)) == Fraction(x) * (1 + 6 * FU)
    for z in (np.array(0.0), np.array([0.0, math.inf])):
        assert Fraction(float(np.ravel(phase._up(z))[0])) == TINY
        assert Fraction(float(np.ravel(phase._down(z))[0])) == -TINY


@given(finite, ks)
def test_up_and_down_bound_every_value_their_float_may_stand_for(x, k):
    """The promise: if the float ``x`` errs by at most ``γ_k |y|`` from ``y`` (``γ_k =
    k u/(1 − k u)``), then ``_down(x, k) <= y <= _up(x, k)``. The extreme ``y`` are
    ``x/(1 − γ_k)`` and ``x/(1 + γ_k)`` (exact fractions); a margin smaller than
    ``(k + 1)`` ulps would fail at almost every ``x``."""
    g = k * FU / (1 - k * FU)
    X = Fraction(x)
    y_hi = X / (1 - g) if X >= 0 else X / (1 + g)
    y_lo = X / (1 + g) if X >= 0 else X / (1 - g)
    assert Fraction(float(phase._up(x, k))) >= y_hi
    assert Fraction(float(phase._down(x, k))) <= y_lo


def test_up_and_down_cover_underflow_with_the_absolute_allowance():
    """Below about ``2^-960/u`` the relative margin vanishes and the absolute
    ``2^-960`` is the whole margin: ``_up(1e-300) = 1e-300 + 2^-960`` to one rounding
    (``2^-960 ≈ 1.1e-289``), and a gradual-underflow product (``1e-200·1e-120``,
    exact value ``1e-320`` not representable) is enclosed."""
    for x in (1e-300, -1e-300, 5e-324):
        assert Fraction(float(phase._up(x))) == fl(Fraction(x) + TINY)
        assert Fraction(float(phase._down(x))) == fl(Fraction(x) - TINY)
    prod = 1e-200 * 1e-120
    exact = Fraction(1e-200) * Fraction(1e-120)
    assert Fraction(float(phase._down(prod))) <= exact
    assert Fraction(float(phase._up(prod))) >= exact


# ---------------------------------------------------------------- _sum_up, _sum_down


def sum_up_ref(x: np.ndarray) -> Fraction:
    """``_sum_up``'s statement for one row of integers (every float sum exact):
    ``_up(s + fl(_up(A, n) c_n), 1)``, ``c_n = (2n + 2) u``."""
    n = x.size
    s = sum(Fraction(v) for v in x)
    A = sum(abs(Fraction(v)) for v in x)
    c = fl((2 * n + 2) * FU)
    return up_ref(fl(s + fl(up_ref(A, n) * c)), 1)


def test_sum_up_is_its_stated_float_operations_for_every_axis():
    """On integer data (so that ``fl(Σx)`` and ``fl(Σ|x|)`` are exact in any order)
    ``_sum_up`` equals its statement bit for bit, with ``n`` the number of summands:
    ``x.size`` for ``axis=None``, the length along ``axis`` otherwise (a 3 x 5
    array: 15, 5 and 3). Exact cancellations (``s = 0``) make the margin the whole
    result, so every constant of ``(2n + 2) u`` and each rounding shows."""
    rng = np.random.default_rng(3)
    for x in (
        np.array([2.0, -1.0, -1.0]),
        np.array([3.0]),
        rng.integers(-50, 50, (3, 5)).astype(float),
        np.array([[1.0, -1.0, 4.0, -4.0, 0.0], [7.0, 1.0, 2.0, 3.0, -13.0],
                  [1.0, 2.0, 3.0, 4.0, 5.0]]),
    ):
        got = phase._sum_up(x)
        assert Fraction(float(got)) == sum_up_ref(x.ravel())
        assert Fraction(float(phase._sum_down(x))) == -sum_up_ref(-x.ravel())
        if x.ndim == 2:
            for axis, rows in ((-1, x), (1, x), (0, x.T)):
                got = phase._sum_up(x, axis=axis)
                assert [Fraction(v) for v in got] == [sum_up_ref(r) for r in rows]
                got = phase._sum_down(x, axis=axis)
                assert [Fraction(v) for v in got] == [-sum_up_ref(-r) for r in rows]


@given(st.lists(st.floats(-1e200, 1e200), min_size=1, max_size=12))
def test_sum_up_and_down_enclose_the_exact_sum(xs):
    """``_sum_down(x) <= Σx <= _sum_up(x)`` (exact fractions) for any signs, also
    with heavy cancellation where the float sum is off by far more than ulps."""
    x = np.array(xs)
    exact = sum(Fraction(v) for v in xs)
    assert Fraction(float(phase._sum_down(x))) <= exact <= Fraction(
        float(phase._sum_up(x))
    )


def test_sum_up_needs_its_margin_under_cancellation():
    """``[1e16, 1, −1e16]`` sums exactly to 1, the float sum in any order to 0 or 2:
    only the margin ``γ_3 Σ|x|`` (about 18) encloses 1; non-finite sums stay as
    they are."""
    x = np.array([1e16, 1.0, -1e16])
    assert phase._sum_down(x) <= 1.0 <= phase._sum_up(x)
    assert phase._sum_up(np.array([1.0, math.inf])) == math.inf
    rows = phase._sum_up(np.array([[1.0, math.nan], [1.0, 2.0]]), axis=-1)
    assert math.isnan(rows[0]) and Fraction(rows[1]) == sum_up_ref(np.array([1.0, 2.0]))


# ------------------------------------------------------------------------- _frob_up


def frob_up_ref(X: np.ndarray) -> Fraction:
    """``_frob_up``'s statement for one integer matrix: ``_up(fl(√q), 1)``, ``q =
    _up(Σx², n)`` with ``n`` its number of entries (``Σx²`` exact for small
    integers, ``√`` correctly rounded as IEEE requires)."""
    sq = sum(Fraction(v) ** 2 for v in X.ravel())
    q = up_ref(sq, X.size)
    return up_ref(Fraction(math.sqrt(float(q))), 1)


def test_frob_up_is_its_stated_float_operations_over_the_last_two_axes():
    """Bit for bit against the statement, for non-square matrices (``n`` is the
    product of the last two lengths, 6 for 2 x 3 and 3 x 2), a 1 x 1 matrix and a
    stack of 2 x 3 x 5 (one norm per matrix, ``n = 15``)."""
    rng = np.random.default_rng(4)
    for shape in ((2, 3), (3, 2), (1, 1), (4, 7)):
        X = rng.integers(-9, 10, shape).astype(float)
        assert Fraction(float(phase._frob_up(X))) == frob_up_ref(X)
    X = rng.integers(-9, 10, (2, 3, 5)).astype(float)
    got = phase._frob_up(X)
    assert got.shape == (2,)
    assert [Fraction(v) for v in got] == [frob_up_ref(M) for M in X]


@given(st.lists(st.floats(-1e150, 1e150), min_size=6, max_size=6))
def test_frob_up_bounds_the_exact_norm_also_through_underflow(xs):
    """``_frob_up(X)² >= Σ x²`` exactly, for any 2 x 3 matrix, including entries
    whose squares underflow (then ``2^-960`` carries the bound)."""
    X = np.array(xs).reshape(2, 3)
    got = Fraction(float(phase._frob_up(X)))
    assert got**2 >= sum(Fraction(v) ** 2 for v in xs)
    tiny = Fraction(float(phase._frob_up(np.full((2, 2), 1e-200))))
    assert tiny**2 >= 4 * Fraction(1e-200) ** 2


# --------------------------------------------------------------------------- _tails


def test_tails_are_the_rounded_out_reverse_cumulative_sums():
    """``_tails(x, up)[..., j] = _up(Σ_{m>j} x_m, d)`` (``_down`` for ``up=False``) and
    0 at ``j = d``, on integer rows (exact sums), one row and a stack: the upper
    tails lie above the exact tails and the lower ones below."""
    x = np.array([[5.0, 3.0, 3.0, 1.0], [4.0, 0.0, 2.0, 8.0]])
    d = x.shape[-1]
    for up, ref in ((True, up_ref), (False, down_ref)):
        got = phase._tails(x, up)
        assert got.shape == (2, d + 1)
        for row, g in zip(x, got):
            exact = [sum(Fraction(v) for v in row[j:]) for j in range(d)]
            assert [Fraction(v) for v in g] == [ref(t, d) for t in exact] + [0]
            if up:
                assert all(Fraction(v) > t for v, t in zip(g, exact))
            else:
                assert all(Fraction(v) < t for v, t in zip(g, exact))
        one = phase._tails(x[1], up)
        assert np.array_equal(one, got[1])


# ----------------------------------------------------------- _weyl_upper, _min_plus


def brute_min_plus(f, g, shift):
    P, Q = len(f), len(g)
    out = []
    for m in range(Q):
        vals = [f[i] + g[m + shift - i] for i in range(P) if 0 <= m + shift - i < Q]
        out.append(min(vals) if vals else math.inf)
    return out


def test_weyl_upper_is_the_minimum_over_index_pairs():
    """``upper_m = min_{i + j = m}(σ_i + n_j)`` (zero-based) against a loop over all
    pairs, the same float sums so equal exactly: for a single vector (1-D), a stack
    of noise rows against one signal row, and ``d = 1``."""
    rng = np.random.default_rng(5)
    for d in (1, 2, 5):
        sig = -np.sort(-rng.uniform(0, 1, d))
        noise = -np.sort(-rng.uniform(0, 1, (3, d)), axis=1)
        got = phase._weyl_upper(sig, noise[0])
        assert list(got) == brute_min_plus(list(sig), list(noise[0]), 0)
        got = phase._weyl_upper(sig[None, :], noise)
        assert got.shape == (3, d)
        for r in range(3):
            assert list(got[r]) == brute_min_plus(list(sig), list(noise[r]), 0)


def test_min_plus_is_the_min_plus_convolution_for_every_shift_and_shape():
    """``out[..., m] = min_{i + j = m + shift} f_i + g_j`` over valid ``i, j``
    (``inf`` if none) against a loop, for shifts 0, 1, 2 (so that ``j`` would reach
    ``Q``), ``P`` below, equal to and above ``Q``, ``Q = 1``, 1-D ``g`` and stacks of
    ``g`` with one ``f`` or one ``f`` per row; values such that the minimum is often at
    ``j = 0`` (a small ``g_0``)."""
    rng = np.random.default_rng(6)
    for P, Q in ((1, 1), (3, 1), (2, 4), (4, 4), (5, 3)):
        for shift in (0, 1, 2):
            f = rng.uniform(0, 1, P)
            g = rng.uniform(0, 1, (3, Q))
            g[:, 0] = -5.0
            got = phase._min_plus(f, g[0], shift)
            assert list(got) == brute_min_plus(list(f), list(g[0]), shift)
            got = phase._min_plus(f, g, shift)
            assert [list(r) for r in got] == [
                brute_min_plus(list(f), list(r), shift) for r in g
            ]
            F = rng.uniform(0, 1, (3, P))
            got = phase._min_plus(F, g, shift)
            assert [list(r) for r in got] == [
                brute_min_plus(list(a), list(b), shift) for a, b in zip(F, g)
            ]
    # the minimum at j = 0 only: f increasing slowly, g_0 far below the rest
    got = phase._min_plus(np.array([0.0, 1.0, 2.0]), np.array([0.0, 10.0, 10.0]), 0)
    assert list(got) == [0.0, 1.0, 2.0]


# ----------------------------------------------------------- noise scaled by s²


def test_scaled_noise_is_its_stated_float_operations():
    """``lo = _down(fl(_down(s², 1) n_lo), 1)``, ``hi = _up(fl(_up(s², 1) n_hi), 1)``
    with ``s² = fl(s·s)``, one row per scale, bit for bit against the statement
    (Fraction), and the rows sorted descending (exactly the same numbers)."""
    rng = np.random.default_rng(7)
    n_lo = rng.uniform(0.1, 2.0, 5)
    n_hi = n_lo * (1 + 1e-6)
    s_arr = np.array([0.0, 1e-3, 0.7, 3.0, 1e5])
    lo, hi, lo_s, hi_s = phase._scaled_noise(n_lo, n_hi, s_arr)
    for r, s in enumerate(s_arr):
        s2 = fl(Fraction(s) ** 2)
        want_lo = [down_ref(fl(down_ref(s2, 1) * Fraction(v)), 1) for v in n_lo]
        want_hi = [up_ref(fl(up_ref(s2, 1) * Fraction(v)), 1) for v in n_hi]
        assert [Fraction(v) for v in lo[r]] == want_lo
        assert [Fraction(v) for v in hi[r]] == want_hi
        assert [Fraction(v) for v in lo_s[r]] == sorted(want_lo, reverse=True)
        assert [Fraction(v) for v in hi_s[r]] == sorted(want_hi, reverse=True)


def test_noise_rows_are_the_float_noise_and_its_stated_bounds():
    """``_noise_rows((n_f, n_lo, n_hi), s)`` returns ``fl(fl(s²) n_f)``, ``max(lo,
    0)`` and ``hi`` with the bounds of :func:`phase._scaled_noise` (bit for bit,
    Fraction), in the order of ``n``; the three unit vectors differ, so each is
    seen."""
    rng = np.random.default_rng(8)
    n_f = rng.uniform(0.1, 2.0, 4)
    n = (n_f, n_f * (1 - 1e-9), n_f * (1 + 1e-9))
    s_arr = np.array([0.0, 0.3, 1.0, 17.0])
    vals, lo, hi = phase._noise_rows(n, s_arr)
    for r, s in enumerate(s_arr):
        s2 = fl(Fraction(s) ** 2)
        assert [Fraction(v) for v in vals[r]] == [fl(s2 * Fraction(v)) for v in n[0]]
        want_lo = [
            max(down_ref(fl(down_ref(s2, 1) * Fraction(v)), 1), 0) for v in n[1]
        ]
        want_hi = [up_ref(fl(up_ref(s2, 1) * Fraction(v)), 1) for v in n[2]]
        assert [Fraction(v) for v in lo[r]] == want_lo
        assert [Fraction(v) for v in hi[r]] == want_hi


# ------------------------------------------------------------ argument checks, BLAS


def test_check_precision_and_pivots_accept_their_smallest_values():
    """``precision`` is at least 16 digits and ``pivots`` at least 1, both ends
    included (``None`` means float64)."""
    assert phase._check_precision(None) is None
    assert phase._check_precision(16) == 16
    assert phase._check_precision(40) == 40
    with pytest.raises(ValueError):
        phase._check_precision(15)
    assert phase._check_pivots(1) == 1
    with pytest.raises(ValueError):
        phase._check_pivots(0)


def test_blas_for_limits_small_problems_to_one_thread():
    """Up to ``d = 256`` (included) the context runs BLAS on one thread, above it
    BLAS is left alone."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    for d in (1, 256):
        ctx = phase._blas_for(d)
        assert isinstance(ctx, threadpoolctl.threadpool_limits)
        with ctx:
            info = threadpoolctl.threadpool_info()
            assert all(i["num_threads"] == 1 for i in info if i["user_api"] == "blas")
    before = threadpoolctl.threadpool_info()
    with phase._blas_for(257):
        assert threadpoolctl.threadpool_info() == before
