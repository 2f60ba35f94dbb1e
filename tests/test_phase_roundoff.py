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
    exactly ``x ± 4u x`` (two ulps above ``x``, four of the finer ulps below it;
    ``k = 2`` gives ``6u x``); at 0 it is ``±2^-960``, the underflow allowance alone,
    also next to an infinity."""
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


# ------------------------------------------------------------------- _eig_enclosure


def frob_up_exact(M) -> Fraction:
    """``_frob_up``'s statement for one matrix of Fractions whose squares and their
    sum are floats exactly (checked)."""
    sq = sum(x * x for row in M for x in row)
    assert fl(sq) == sq
    n = len(M) * len(M[0])
    return up_ref(Fraction(math.sqrt(float(up_ref(sq, n)))), 1)


def eig_enclosure_ref(h: list, eH: Fraction, c: Fraction = Fraction(1)):
    """``_eig_enclosure``'s statement for ``H = diag(h)`` whose eigenvectors are ``c``
    times a signed permutation (``c`` dyadic, so every product below is exact):
    ``fl(G) = c² diag(h)`` sorted (``off(G) = 0``), ``|Y|ᵀ|H||Y|`` a permutation of
    ``c² diag(|h|)``, ``fl(YᵀY) − I = (c² − 1) I`` and ``|Y|ᵀ|Y| = c² I``; every
    float operation of the statement is rounded exactly (Fraction)."""
    p = len(h)
    c2 = c * c

    def diag(v):
        return [[v[i] if i == j else Fraction(0) for j in range(p)] for i in range(p)]

    zero = diag([Fraction(0)] * p)
    rnd = up_ref(
        fl(
            fl(fl(Fraction(1.01) * (2 * p + 4)) * FU)
            * frob_up_exact(diag([c2 * abs(x) for x in h]))
        ),
        2,
    )
    c_f = fl(fl(Fraction(1.01) * (p + 2)) * FU)
    F = diag([c2 - 1] * p)
    f = up_ref(fl(frob_up_exact(F) + fl(c_f * frob_up_exact(diag([c2] * p)))), 2)
    e_term = up_ref(fl(eH * up_ref(fl(1 + f), 1)), 1)
    delta = up_ref(fl(fl(frob_up_exact(zero) + rnd) + e_term), 3)
    one_p, one_m = up_ref(fl(1 + f), 1), down_ref(fl(1 - f), 1)
    assert one_m > Fraction(1, 2)
    lo, hi = [], []
    for D in sorted((c2 * x for x in h), reverse=True):
        g_lo, g_hi = down_ref(fl(D - delta), 1), up_ref(fl(D + delta), 1)
        lo.append(down_ref(fl(g_lo / (one_p if g_lo >= 0 else one_m)), 1))
        hi.append(up_ref(fl(g_hi / (one_m if g_hi >= 0 else one_p)), 1))
    return lo, hi


def diagonal_stacks(p: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """A ``(2, 3, p, p)`` stack of diagonal matrices and its ``eH``: integers, a zero,
    ties, entries in ``(0, 1)`` above ``eH``, scales ``2^-400`` and ``2^400``."""
    h = rng.integers(-20, 21, (2, 3, p)).astype(float)
    h[0, 0, 0] = 0.0
    h[1, 2, :] = 3.0
    h[0, 1] *= 2.0**-400
    h[0, 2] = np.abs(h[0, 2]) / 64 + 2.0**-6
    h[1, 0] *= 2.0**400
    H = np.zeros((2, 3, p, p))
    idx = np.arange(p)
    H[..., idx, idx] = h
    eH = np.array([[0.0, 0.0, 1e-3], [2.0**300, 1.0, 0.5]])
    return H, eH


def check_against_ref(H, eH, lo, hi, c=Fraction(1)):
    p = H.shape[-1]
    assert lo.shape == hi.shape == H.shape[:-1]
    for a in range(H.shape[0]):
        for b in range(H.shape[1]):
            h = [Fraction(v) for v in np.diagonal(H[a, b])]
            ref_lo, ref_hi = eig_enclosure_ref(h, Fraction(eH[a, b]), c)
            assert [Fraction(v) for v in lo[a, b]] == ref_lo, (p, a, b)
            assert [Fraction(v) for v in hi[a, b]] == ref_hi, (p, a, b)


def test_eig_enclosure_is_its_stated_float_operations_at_exact_eigenvectors():
    """At diagonal matrices LAPACK returns a signed permutation as eigenvectors
    (checked), so every intermediate of the statement is known exactly, and the
    enclosure must equal the statement evaluated with exactly rounded operations,
    bit for bit. The diagonals hold a zero (``D = 0``: the margin is the whole end,
    so each constant and each rounding of ``δ`` shows), positive and negative
    entries and entries in ``(0, 1)`` (both branches of the Ostrowski division, on
    either side of 1), ties, scales from ``2^-400`` to ``2^400``, and ``eH`` from 0
    (round-off alone) to far above the entries; the stack is 4-D (``(2, 3, p, p)``),
    as a stack of any shape is allowed."""
    rng = np.random.default_rng(9)
    for p in (1, 2, 4, 5):
        H, eH = diagonal_stacks(p, rng)
        lo, hi, Y = phase._eig_enclosure(H, eH)
        for a in range(2):
            for b in range(3):
                assert np.array_equal(np.abs(Y[a, b]) @ np.abs(Y[a, b]).T, np.eye(p))
        check_against_ref(H, eH, lo, hi)


def test_eig_enclosure_budget_at_eigenvectors_off_orthonormal(monkeypatch):
    """The same statement where the eigensolver's vectors are ``c`` times the exact
    ones, ``c = 17/16`` or ``33/32`` (``YᵀY − I = (c² − 1) I``, exact): then ``f``
    is about ``0.13 √p`` or ``0.06 √p``, far above round-off, and its own rounding
    (``_up(·, 2)``) reaches the ends through ``1 ± f``; bit for bit (Fraction)."""
    eigh = np.linalg.eigh
    rng = np.random.default_rng(10)
    for c in (1.0625, 1.03125):

        def scaled(A, c=c):
            w, V = eigh(A)
            return w, c * V

        monkeypatch.setattr(np.linalg, "eigh", scaled)
        for p in (1, 2, 4, 5):
            H, eH = diagonal_stacks(p, rng)
            lo, hi, _ = phase._eig_enclosure(H, eH)
            check_against_ref(H, eH, lo, hi, Fraction(c))


def test_eig_enclosure_gives_up_on_eigenvectors_far_from_orthonormal(monkeypatch):
    """If the eigensolver returned vectors with ``f >= 1/2`` (here ``2 x`` the true
    ones, ``YᵀY − I = 3 I``), Ostrowski's factor is unbounded and the enclosure is
    ``(−inf, inf)``; with the true vectors it is finite."""
    H = np.diag([2.0, 1.0])[None]
    lo, hi, _ = phase._eig_enclosure(H, np.array([0.0]))
    assert np.isfinite(lo).all() and np.isfinite(hi).all()
    eigh = np.linalg.eigh

    def doubled(A):
        w, V = eigh(A)
        return w, 2.0 * V

    monkeypatch.setattr(np.linalg, "eigh", doubled)
    lo, hi, _ = phase._eig_enclosure(H, np.array([0.0]))
    assert (lo == -np.inf).all() and (hi == np.inf).all()


def test_eig_enclosure_round_off_budget_at_a_general_matrix():
    """The stated budget at a dense ``16 x 16`` matrix with a zero eigenvalue, from the
    same float intermediates (``fl(G) = fl(YᵀHY)``, ``fl(YᵀY)``: the products the
    statement names) and exact norms (mpmath, 40 digits): with ``f_B = ||fl(YᵀY) −
    I||_F + 1.01 (p + 2) u |||Y|ᵀ|Y|||_F`` and ``δ_B = ||off(fl G)||_F + 1.01 (2p +
    4) u |||Y|ᵀ|H||Y|||_F + eH (1 + f_B)`` the ends must lie outside ``(D_i ± δ_B)/(1
    ∓ f_B)`` (the rounded-up terms only add) and inside the same expressions with
    every term taken at its largest rounded value: each norm of a float matrix of
    ``n`` entries within ``1 + (1.5n + 8) u`` of the exact one (``γ_n`` of the sum,
    ``(2n + 2) u`` added, the square root and one ``_up``), the float products
    ``|Y|ᵀ|H||Y|``, ``|Y|ᵀ|Y|`` within ``γ_2p``, ``γ_p`` of the exact ones, each
    ``_up(·, k)`` adding ``(2k + 2) u`` and each operation ``u``. The eigenvectors
    ``[[0, I], [Had_8/√8, 0]]`` make ``|Y|`` far from symmetric, so ``|Y|ᵀ`` and
    ``|Y|`` give norms apart by far more than the band; the zero eigenvalue makes
    ``δ`` the whole of its ends and the eigenvalue 16 shows ``f``."""
    H2 = np.array([[1.0, 1.0], [1.0, -1.0]])
    Q = np.zeros((16, 16))
    Q[8:, :8] = np.kron(np.kron(H2, H2), H2) / math.sqrt(8)
    Q[:8, 8:] = np.eye(8)
    H = (Q * np.r_[np.arange(16.0, 1.0, -1.0), 0.0]) @ Q.T
    H = (H + H.T) / 2
    p, n = 16, 256
    for eH in (0.0, 1e-9):
        lo, hi, Y = phase._eig_enclosure(H[None], np.array([eH]))
        Yt = np.swapaxes(Y, -1, -2)
        G = (Yt @ H[None] @ Y)[0]
        F = (Yt @ Y)[0] - np.eye(p)
        with mpmath.workdps(40):
            u = mpmath.mpf(U)
            Ym = mpmath.matrix(Y[0].tolist())
            aY = mpmath.matrix(np.abs(Y[0]).tolist())
            aH = mpmath.matrix(np.abs(H).tolist())
            nN = mpmath.mnorm(aY.T * aH * aY, "f")
            nNF = mpmath.mnorm(aY.T * aY, "f")
            nF = mpmath.mnorm(mpmath.matrix(F.tolist()), "f")
            Goff = G - np.diag(np.diag(G))
            off = mpmath.mnorm(mpmath.matrix(Goff.tolist()), "f")
            c1, e = mpmath.mpf(1.01), mpmath.mpf(eH)
            f_B = nF + c1 * (p + 2) * u * nNF
            d_B = off + c1 * (2 * p + 4) * u * nN + e * (1 + f_B)
            phi = 1 + (1.5 * n + 8) * u
            rnd_U = c1 * (2 * p + 4) * u * nN * (1 + (2 * p + 1) * u) * phi
            rnd_U *= (1 + u) ** 3 * (1 + 7 * u)
            f_U = nF * phi + c1 * (p + 2) * u * nNF * (1 + (p + 1) * u) * phi * (
                1 + u
            ) ** 3
            f_U *= (1 + u) * (1 + 7 * u)
            e_U = e * (1 + f_U) * ((1 + u) * (1 + 5 * u)) ** 2
            d_U = (off * phi + rnd_U + e_U) * (1 + u) ** 2 * (1 + 9 * u)
            w = 6 * u  # one _up(·, 1) and its roundings
            Ds = sorted((mpmath.mpf(x) for x in np.diag(G)), reverse=True)
            for i, D in enumerate(Ds):
                g = D + d_B
                hi_B = g / (1 - f_B) if g >= 0 else g / (1 + f_B)
                g = D + d_U
                g += abs(g) * w
                q = g / (1 - f_U - w) if g >= 0 else g / (1 + f_U + w)
                hi_U = q + abs(q) * w
                assert hi_B <= mpmath.mpf(hi[0, i]) <= hi_U, (eH, i)
                g = D - d_B
                lo_B = g / (1 + f_B) if g >= 0 else g / (1 - f_B)
                g = D - d_U
                g -= abs(g) * w
                q = g / (1 + f_U + w) if g >= 0 else g / (1 - f_U - w)
                lo_U = q - abs(q) * w
                assert lo_U <= mpmath.mpf(lo[0, i]) <= lo_B, (eH, i)


# ---------------------------------------------------------- _mp_eig_enclosure


def mp_enclosure_ref(H, eH, u, Y):
    """``_mp_eig_enclosure``'s statement from its eigenvectors ``Y``, evaluated at
    60 digits: ``rnd = (2p + 4) u |||Y|ᵀ|H||Y|||_F``, ``f = ||YᵀY − I||_F + (p + 2) u
    |||Y|ᵀ|Y|||_F``, ``δ = (||off(YᵀHY)||_F + rnd + eH (1 + f))(1 + 100 p² u)``, the
    ends ``D_i ∓ δ`` (``D`` the diagonal of ``YᵀHY``, descending) divided by ``1 ± f``
    as their sign asks, then moved out by ``100 u`` of themselves."""
    with mpmath.workdps(60):
        p = H.shape[0]
        Hm = mpmath.matrix(H.tolist())
        Ym = mpmath.matrix(Y.tolist())
        aY = mpmath.matrix(p, p)
        aH = mpmath.matrix(p, p)
        for i in range(p):
            for j in range(p):
                aY[i, j], aH[i, j] = abs(Ym[i, j]), abs(Hm[i, j])
        G = Ym.T * Hm * Ym
        F = Ym.T * Ym - mpmath.eye(p)
        rnd = (2 * p + 4) * u * mpmath.mnorm(aY.T * aH * aY, "f")
        f = mpmath.mnorm(F, "f") + (p + 2) * u * mpmath.mnorm(aY.T * aY, "f")
        off = mpmath.sqrt(
            mpmath.fsum(G[i, j] ** 2 for i in range(p) for j in range(p) if i != j)
        )
        delta = (off + rnd + eH * (1 + f)) * (1 + 100 * p * p * u)
        lo, hi = [], []
        for D in sorted((G[i, i] for i in range(p)), reverse=True):
            g = D - delta
            x = g / (1 + f) if g >= 0 else g / (1 - f)
            lo.append(x - abs(x) * 100 * u)
            g = D + delta
            x = g / (1 - f) if g >= 0 else g / (1 + f)
            hi.append(x + abs(x) * 100 * u)
        return lo, hi


def test_mp_eig_enclosure_is_its_stated_budget_with_a_large_unit_roundoff():
    """With ``u = 2^-20`` at 30 digits (a valid, very pessimistic bound on one
    operation's round-off) every term of the budget is ``10^20`` times the working
    precision, so each constant of the statement shows: the ends must equal the
    statement evaluated at 60 digits from the same eigenvectors to 1e-24 relative
    (the working precision's own rounding). Eigenvalues 3, 0.5, 0, −2 (ends on both
    sides of 0 and of 1) and ``eH`` 0 and 1e-3."""
    rng = np.random.default_rng(11)
    Q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    A = (Q * np.array([3.0, 0.5, 0.0, -2.0])) @ Q.T
    A = (A + A.T) / 2
    with mpmath.workdps(30):
        u = mpmath.mpf(2) ** -20
        H = np.array([[mpmath.mpf(x) for x in row] for row in A], dtype=object)
        for eH in (mpmath.mpf(0), mpmath.mpf("1e-3")):
            lo, hi, Y = phase._mp_eig_enclosure(H, eH, u)
            ref_lo, ref_hi = mp_enclosure_ref(A, eH, u, Y)
            for got, want in zip(list(lo) + list(hi), ref_lo + ref_hi):
                assert abs(got - want) <= mpmath.mpf(10) ** -24 * (1 + abs(want))


def test_mp_eig_enclosure_gives_up_exactly_from_f_one_half():
    """For ``H = (x)`` (1 x 1, eigenvector exactly 1, ``YᵀY − I = 0``) ``f = 3u``
    exactly: ``u = 1/6`` gives ``f = 1/2`` (exact at 30 digits, checked), where the
    enclosure is given up (``−inf, inf``); ``u = 0.15`` gives ``f = 0.45``, still
    finite and equal to the statement."""
    with mpmath.workdps(30):
        H = np.array([[mpmath.mpf("0.5")]], dtype=object)
        u = mpmath.mpf(1) / 6
        assert 3 * u == mpmath.mpf(1) / 2
        lo, hi, _ = phase._mp_eig_enclosure(H, mpmath.mpf(0), u)
        assert list(lo) == [mpmath.ninf] and list(hi) == [mpmath.inf]
        u = mpmath.mpf("0.15")
        for eH in (mpmath.mpf(0), mpmath.mpf(2)):
            lo, hi, Y = phase._mp_eig_enclosure(H, eH, u)
            ref_lo, ref_hi = mp_enclosure_ref(np.array([[0.5]]), eH, u, Y)
            assert abs(lo[0] - ref_lo[0]) <= mpmath.mpf(10) ** -25
            assert abs(hi[0] - ref_hi[0]) <= mpmath.mpf(10) ** -25


def test_mp_orthonormal_is_modified_gram_schmidt_twice():
    """:func:`phase._mp_orthonormal` against two sweeps of modified Gram--Schmidt
    written out here (the same operations, dot products summed in order, at the same
    precision, so equal to the last digit): the documented algorithm is what
    ``_mp_bounds`` measures ``fW`` from. The result is also orthonormal to the
    working precision and spans the columns (``QᵀA`` upper triangular)."""
    rng = np.random.default_rng(12)
    with mpmath.workdps(30):
        A0 = rng.standard_normal((6, 4))
        A0[:, 3] = A0[:, 0] + 1e-8 * A0[:, 3]  # nearly dependent: the second sweep
        A = np.array([[mpmath.mpf(x) for x in row] for row in A0], dtype=object)
        got = phase._mp_orthonormal(A)
        cols = [[A[k, j] for k in range(6)] for j in range(4)]
        for _ in range(2):
            for j in range(4):
                v = cols[j]
                for i in range(j):
                    dot = sum(a * b for a, b in zip(cols[i], v))
                    v = [a - dot * b for a, b in zip(v, cols[i])]
                nrm = mpmath.sqrt(sum(a * a for a in v))
                cols[j] = [a / nrm for a in v]
        assert all(got[k, j] == cols[j][k] for j in range(4) for k in range(6))
        QtQ = got.T.dot(got)
        QtA = got.T.dot(A)
        for i in range(4):
            for j in range(4):
                assert abs(QtQ[i, j] - (i == j)) < mpmath.mpf(10) ** -28
                if i > j:
                    assert abs(QtA[i, j]) < mpmath.mpf(10) ** -20


def test_eig_enclosure_gives_up_from_one_minus_f_at_one_half(monkeypatch):
    """The give-up rule at its boundary: ``1₋ = _down(1 − f, 1) <= 1/2`` gives
    ``(−inf, inf)``, above it the enclosure is finite. With a 1 x 1 matrix whose
    eigenvector the solver returns as ``c`` (``f = _up(||c² − 1|| + 1.01·3u ||c²||,
    2)``, norms ``_frob_up``), bisection over the floats ``c`` with the statement in
    exact arithmetic finds the first ``c`` with ``1₋ <= 1/2``; there ``1₋ = 1/2``
    exactly (checked), and the float before it has ``1₋ > 1/2``."""

    def frob1(x):
        return up_ref(Fraction(math.sqrt(float(up_ref(fl(x * x), 1)))), 1)

    def one_m(c):
        c2 = fl(Fraction(c) ** 2)
        c_f = fl(fl(Fraction(1.01) * 3) * FU)
        f = up_ref(fl(frob1(c2 - 1) + fl(c_f * frob1(c2))), 2)
        return down_ref(fl(1 - f), 1)

    lo, hi = 1.2, 1.25  # one_m(lo) > 1/2 >= one_m(hi)
    while math.nextafter(lo, math.inf) != hi:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if one_m(mid) > Fraction(1, 2) else (lo, mid)
    assert one_m(hi) == Fraction(1, 2)
    eigh = np.linalg.eigh
    for c, finite_ in ((hi, False), (lo, True)):

        def scaled(A, c=c):
            w, V = eigh(A)
            return w, c * V

        monkeypatch.setattr(np.linalg, "eigh", scaled)
        lo_, hi_, _ = phase._eig_enclosure(np.array([[[1.0]]]), np.array([0.0]))
        assert bool(np.isfinite(lo_).all() and np.isfinite(hi_).all()) is finite_
        assert finite_ or (lo_[0, 0] == -np.inf and hi_[0, 0] == np.inf)
