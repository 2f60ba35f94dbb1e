"""Domain tests for chapter 2 (gradient descent): every stated result over the whole
domain its statement claims.

The domain: spectra of every shape (power law, exponential, arbitrary positive,
clustered) with spreads ``λ_max/λ_min`` up to 1e12 and any overall scale; ground truths
``b`` with random signs, decaying, or with zeros; learning rates with ``ηλ_max`` from
1e-6 to just below 2 (so ``r_k = 1 − ηλ_k`` negative too); ``T`` from 0 to 1e6;
``d >= 1``.

References are independent of ``ribbonlib``'s closed forms:

* the recursion ``c ↦ r c + (1 − r) b`` itself, iterated ``t`` times in mpmath at 40
  digits by repeated squaring of the affine map (a composition of maps, not the formula
  ``b + r^t (c0 − b)``), with the exact ``r`` of the given floats;
* exact rational arithmetic (:class:`fractions.Fraction`) for the stability condition
  and the optimal step;
* direct mpmath evaluation of ``(1 − x)^t`` and ``e^(−xt)`` for the flow-gap bounds.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from ribbonlib import dynamics

DPS = 40


# --------------------------------------------------------------------------- strategies
#
# Hypothesis draws one 32-bit seed per example and the problem is generated from it
# with NumPy: derandomized hypothesis explores small values first, and a seed spreads
# every example over the whole domain (log-uniform T up to 1e6, spreads up to 1e12).
# The edges of the domain are added as explicit examples.

seeds = st.integers(0, 2**32 - 1)
#: Largest d·(T+1) of one example (memory and time of the tests).
MAX_ENTRIES = 400_000


def spectrum(rng: np.random.Generator, d: int) -> np.ndarray:
    """Positive eigenvalues of every shape, spread up to 1e12, any scale, any order."""
    spread = 10.0 ** rng.uniform(0.0, 12.0)
    kind = rng.choice(["power", "exponential", "arbitrary", "clustered"])
    k = np.arange(1, d + 1, dtype=float)
    if d == 1:
        lam = np.ones(1)
    elif kind == "power":
        lam = k ** (-math.log(spread) / math.log(d))
    elif kind == "exponential":
        lam = spread ** (-(k - 1) / (d - 1))
    else:
        lam = np.exp(rng.uniform(-math.log(spread), 0.0, d))
        if kind == "clustered":  # near-equal groups: relative gaps down to 1e-12
            lam = lam[rng.integers(0, max(1, d // 3), d)]
            lam = lam * (
                1 + rng.choice([0.0, 1e-12, 1e-9, 1e-6], d) * rng.uniform(-1, 1, d)
            )
        rng.shuffle(lam)
    return lam * 10.0 ** rng.uniform(-6.0, 6.0)


def ground_truth(rng: np.random.Generator, d: int) -> np.ndarray:
    """Non-isotropic ``b``: random signs, decaying magnitudes, exact zeros."""
    b = (
        rng.choice([-1.0, 1.0], d)
        * np.arange(1, d + 1) ** (-rng.uniform(0, 3))
        * rng.uniform(0.1, 1, d)
    )
    if rng.random() < 0.5:
        b[rng.random(d) < 0.4] = 0.0
    return b * 10.0 ** rng.uniform(-3.0, 3.0)


def stable_rate(rng: np.random.Generator, lam: np.ndarray) -> float:
    """``η`` with ``ηλ_max`` from 1e-6 to just below 2 (float64 product below 2)."""
    pick = rng.integers(3)
    x = (
        10.0 ** rng.uniform(-6, 0),
        rng.uniform(1.0, 2.0),
        2.0 - 2.0 ** -rng.integers(10, 53),
    )[pick]
    top = float(np.max(lam))
    eta = x / top
    while eta * top >= 2.0:
        eta = math.nextafter(eta, 0.0)
    return eta


def step_count(rng: np.random.Generator) -> int:
    """``T`` from 0 to 1e6: 0, small, or log-uniform."""
    pick = rng.random()
    return (
        0
        if pick < 0.1
        else int(rng.integers(1, 51)) if pick < 0.4 else int(10.0 ** rng.uniform(0, 6))
    )


def problem(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, int]:
    """``(lam, b, c0, eta, T)`` with ``d·(T+1) <= MAX_ENTRIES``."""
    rng = np.random.default_rng(seed)
    T = step_count(rng)
    d = int(min(rng.integers(1, 9), max(1, MAX_ENTRIES // (T + 1))))
    lam = spectrum(rng, d)
    b = ground_truth(rng, d)
    c0 = rng.standard_normal(d) * 10.0 ** rng.uniform(-3, 3)
    if rng.random() < 0.3:  # some modes start at their target, some at 0
        at_target = rng.random(d) < 0.3
        c0[at_target] = b[at_target]
        c0[rng.random(d) < 0.3] = 0.0
    return lam, b, c0, stable_rate(rng, lam), T


def exact_r(eta: float, lam: float) -> mpmath.mpf:
    """``1 − ηλ`` of the two floats, exactly (a 106-bit product fits in DPS digits)."""
    return 1 - mpmath.mpf(eta) * mpmath.mpf(lam)


def iterate(r: mpmath.mpf, b: mpmath.mpf, c0: mpmath.mpf, t: int) -> mpmath.mpf:
    """``t`` steps of ``c ↦ r c + (1 − r) b`` by repeated squaring of the affine map."""
    A, B = mpmath.mpf(1), mpmath.mpf(0)  # the map c ↦ A c + B done so far
    pa, pb = r, (1 - r) * b  # the map applied 2^j times
    while t:
        if t & 1:
            A, B = pa * A, pa * B + pb
        pa, pb = pa * pa, pa * pb + pb
        t >>= 1
    return A * c0 + B


def sample_times(T: int, seed: int, r: mpmath.mpf | None = None) -> list[int]:
    """0, 1, 2, T/2, T, four random steps, and (given ``r``) the steps around
    ``1/|log|r||`` where ``t|r|^t`` (the sensitivity of ``r^t``) peaks."""
    rng = np.random.default_rng(seed)
    ts = {0, T, min(1, T), min(2, T), T // 2}
    ts.update(int(v) for v in rng.integers(0, T + 1, 4))
    if r is not None and 0 < abs(r) < 1:
        peak = int(-1 / mpmath.log(abs(r)))
        ts.update(t for t in (peak - 1, peak, peak + 1) if 0 <= t <= T)
    return sorted(ts)


# -------------------------------------------------------- mode solution (prop-gd-modes)


EDGES = [  # (lam, b, c0, eta, T) at the edges of the domain
    (np.array([1.0]), np.array([1.0]), np.array([0.0]), 2.0 - 2.0**-52, 1_000_000),
    (
        np.array([3.0, 1e-12]),
        np.array([0.0, -2.0]),
        np.array([1.0, 0.0]),
        (2.0 - 2.0**-30) / 3,
        300_000,
    ),
    (
        np.array([1e6, 1e-6]),
        np.array([1e3, 0.0]),
        np.array([0.0, 5.0]),
        1e-6 * 1e-6,
        200_000,
    ),
    (np.array([2.0, 1.0]), np.array([1.0, 1.0]), np.array([1.0, 0.0]), 0.5, 0),
    (
        np.array([1.0, 1.0 + 1e-12]),
        np.array([-1.0, 1.0]),
        np.array([0.0, 0.0]),
        1.0,
        10,
    ),
]


def edges(test):
    for case in EDGES:
        test = example(seed=None, case=case)(test)
    return test


@settings(max_examples=40)
@given(seed=seeds, case=st.none())
@edges
def test_gd_modes_is_the_iterated_recursion_within_its_error_bound(seed, case):
    lam, b, c0, eta, T = case if case is not None else problem(seed)
    d = lam.size
    modes = dynamics.gd_modes(lam, b, c0, eta, T)
    bound = dynamics.gd_modes_error_bound(lam, b, c0, eta, T)
    assert modes.shape == bound.shape == (T + 1, d)
    assert np.array_equal(modes[0], c0)  # exact at t = 0
    # a few ulp for every t: the bound never exceeds u(|c_k(t)| + 12|b_k - c0_k|)
    gap = np.abs(b - c0)[None, :]
    few_ulp = 2.0**-53 * (np.abs(modes) + 12 * gap) + 2.0**-1074 * (gap + 1)
    assert np.all(bound <= few_ulp)
    with mpmath.workdps(DPS):
        for k in range(d):
            r = exact_r(eta, lam[k])
            for t in sample_times(T, k, r):
                ref = iterate(r, mpmath.mpf(b[k]), mpmath.mpf(c0[k]), t)
                err = abs(mpmath.mpf(modes[t, k]) - ref)
                assert err <= bound[t, k], (k, t, float(err), bound[t, k])


@settings(max_examples=30)
@given(seed=seeds, case=st.none())
@edges
def test_gd_loss_is_the_loss_of_the_iterated_modes_within_its_error_bound(seed, case):
    lam, b, c0, eta, T = case if case is not None else problem(seed)
    d = lam.size
    loss = dynamics.gd_loss(lam, b, c0, eta, T)
    bound = dynamics.gd_loss_error_bound(lam, b, c0, eta, T)
    assert loss.shape == bound.shape == (T + 1,)
    for t in sample_times(T, 0):
        # c_k(t) − b_k is r^t (c0 − b), far below b when r^t is small: iterate with
        # enough digits that the subtraction keeps DPS of them (capped; exact r = 0 is
        # handled exactly whatever the precision).
        with np.errstate(divide="ignore", invalid="ignore"):
            small = t * np.log10(np.abs(1 - eta * lam)) + np.log10(
                np.abs(c0 - b) + 1e-300
            )
            big = np.log10(np.maximum(np.abs(b), np.abs(c0)) + 1e-300)
        lost = float(np.max(np.where(np.isfinite(small), big - small, 0.0)))
        with mpmath.workdps(DPS + min(3000, max(0, int(lost)))):
            ref = sum(
                mpmath.mpf(lam[k])
                / 2
                * (
                    iterate(
                        exact_r(eta, lam[k]), mpmath.mpf(b[k]), mpmath.mpf(c0[k]), t
                    )
                    - mpmath.mpf(b[k])
                )
                ** 2
                for k in range(d)
            )
            assert abs(mpmath.mpf(loss[t]) - ref) <= bound[t], (
                t,
                float(ref),
                loss[t],
                bound[t],
            )


def test_gd_loss_has_no_time_independent_relative_accuracy():
    """The statement the chapter used to make, ``(d + 8) u`` relative, fails once a
    term has decayed by many e-folds: the relative error of ``r^(2t) = e^(2t log r)``
    is that of ``log r`` times ``2t|log r|`` (here about 700 e-folds)."""
    lam, b, c0 = np.array([1.0]), np.array([0.0]), np.array([1.0])
    eta, T = 0.3, 981
    loss = dynamics.gd_loss(lam, b, c0, eta, T)
    with mpmath.workdps(DPS):
        ref = exact_r(eta, 1.0) ** (2 * T) / 2
        err = abs(mpmath.mpf(loss[-1]) - ref)
    assert err / ref > 9 * 2.0**-53  # beyond (d + 8) u
    assert err <= dynamics.gd_loss_error_bound(lam, b, c0, eta, T)[-1]


def test_gd_modes_is_accurate_to_a_few_ulp_near_eta_lambda_2():
    """Regression: ``η·λ`` used to be rounded before ``r^t`` was formed, an error that
    ``r^t`` amplifies ``t`` times near ``ηλ = 2`` (1e6 ulp at ``t = 1e6`` here); the
    product is now exact and the error stays a few ulp."""
    lam, b, c0 = np.array([3.0]), np.array([0.0]), np.array([1.0])
    eta, T = (2.0 - 2.0**-30) / 3.0, 1_000_000
    assert Fraction(eta * 3.0) != Fraction(eta) * 3  # the product ηλ is rounded
    modes = dynamics.gd_modes(lam, b, c0, eta, T)
    loss = dynamics.gd_loss(lam, b, c0, eta, T)
    with mpmath.workdps(DPS):
        r = exact_r(eta, 3.0)
        assert abs(mpmath.mpf(modes[-1, 0]) - r**T) <= 12 * 2.0**-53
        assert abs(mpmath.mpf(loss[-1]) / (3 * r ** (2 * T) / 2) - 1) <= 10 * 2.0**-53


@settings(max_examples=20)
@given(seeds)
def test_gd_modes_batches_agree_with_single_runs(seed):
    lam, b, _, eta, _ = problem(seed)
    rng = np.random.default_rng(seed)
    T = int(rng.integers(0, 31))
    C0 = rng.standard_normal((3, lam.size))
    many = dynamics.gd_modes(lam, b, C0, eta, T)
    many_bound = dynamics.gd_modes_error_bound(lam, b, C0, eta, T)
    many_loss = dynamics.gd_loss(lam, b, C0, eta, T)
    many_lb = dynamics.gd_loss_error_bound(lam, b, C0, eta, T)
    for j in range(3):
        assert np.array_equal(many[j], dynamics.gd_modes(lam, b, C0[j], eta, T))
        np.testing.assert_allclose(
            many_bound[j],
            dynamics.gd_modes_error_bound(lam, b, C0[j], eta, T),
            rtol=1e-15,
        )
        one = dynamics.gd_loss(lam, b, C0[j], eta, T)
        assert np.all(
            np.abs(many_loss[j] - one)
            <= many_lb[j] + dynamics.gd_loss_error_bound(lam, b, C0[j], eta, T)
        )
        np.testing.assert_allclose(
            many_lb[j], dynamics.gd_loss_error_bound(lam, b, C0[j], eta, T), rtol=1e-12
        )


# ------------------------------------------------------------------ stability condition


@given(
    st.fractions(Fraction(-1), Fraction(5), max_denominator=10**6),
    st.fractions(Fraction(-3), Fraction(3), max_denominator=1000),
    st.integers(0, 40),
)
def test_modes_converge_iff_eta_lambda_in_open_interval_0_2(x, a0, t):
    """Exact rational iteration of one mode: ``|c(t) − b| = |1 − x|^t |c(0) − b|``,
    so it converges for every start iff ``0 < x < 2`` and grows at ``|r| > 1``."""
    e = a0
    for _ in range(t):
        e = e - x * e
    assert abs(e) == abs(1 - x) ** t * abs(a0)
    assert (abs(1 - x) < 1) == (0 < x < 2)


@settings(max_examples=20)
@given(seeds, st.floats(2.0, 8.0))
def test_every_closed_form_refuses_a_divergent_rate(seed, x):
    lam = spectrum(np.random.default_rng(seed), 1 + seed % 8)
    eta = x / float(np.max(lam))
    if Fraction(eta) * Fraction(float(np.max(lam))) < 2:
        eta = math.nextafter(eta, math.inf)  # exact product >= 2 from here on
    assert Fraction(eta) * Fraction(float(np.max(lam))) >= 2
    d = lam.size
    for fn in (
        dynamics.gd_modes,
        dynamics.gd_loss,
        dynamics.gd_modes_error_bound,
        dynamics.gd_loss_error_bound,
    ):
        with pytest.raises(
            ValueError, match=r"eta must satisfy 0 < eta\*max\(lam\) < 2"
        ):
            fn(lam, np.zeros(d), np.ones(d), eta, 3)


# ----------------------------------------------------- gradient-flow gap (prop-gd-flow)


@given(
    st.one_of(st.floats(-6.0, 0.0).map(lambda e: 10.0**e), st.floats(0.5, 1.0)),
    st.one_of(st.integers(0, 100), st.floats(0.0, 6.0).map(lambda e: int(10.0**e))),
)
def test_flow_gap_bounds_hold_for_every_rate_below_one_and_every_step(x, t):
    assume(0.0 < x < 1.0)
    with mpmath.workdps(50):
        X = mpmath.mpf(x)
        s = X * t
        gap = mpmath.exp(-s) - (1 - X) ** t
        lower = mpmath.exp(-s) * (s * X / 2 - s**2 * X**2 / 8)
        upper = X / (2 * (1 - X)) * s * mpmath.exp(-s)
        assert lower <= gap <= upper <= X / (2 * mpmath.e * (1 - X))
        assert gap >= 0  # discrete gradient descent is ahead of the flow


@given(st.floats(-4.0, -0.5).map(lambda e: 10.0**e))
def test_flow_gap_supremum_approaches_x_over_2e(x):
    """``sup_t (e^(−xt) − (1−x)^t) = x/(2e) + 5x²/(24e) + O(x³)`` over integer ``t``."""
    with mpmath.workdps(40):
        X = mpmath.mpf(x)
        t0 = int(1 / x)
        sup = max(
            mpmath.exp(-X * t) - (1 - X) ** t for t in range(max(0, t0 - 3), t0 + 4)
        )
        rest = sup - X / (2 * mpmath.e) - 5 * X**2 / (24 * mpmath.e)
        assert (
            abs(rest) <= X**3
        )  # the O(x³) remainder, with constant below 1 on (0, 1/3]


# ------------------------------------------------------- optimal step (prop-gd-optimal)


def rho(eta: Fraction, lam: list[Fraction]) -> Fraction:
    return max(abs(1 - eta * x) for x in lam)


@given(seeds, st.fractions(Fraction(0), Fraction(1), max_denominator=10**6))
def test_optimal_step_minimises_the_worst_factor(seed, frac):
    lam = spectrum(np.random.default_rng(seed), 1 + seed % 8)
    """Exact rationals: ``ρ(η*) = (κ − 1)/(κ + 1)`` with the extreme modes at ``∓ρ*``,
    and every other ``η`` in ``(0, 2/λ_1)`` gives a larger ``ρ``."""
    L = [Fraction(float(v)) for v in lam]
    l1, ld = max(L), min(L)
    eta_star = 2 / (l1 + ld)
    rho_star = (l1 - ld) / (l1 + ld)
    assert rho(eta_star, L) == rho_star
    assert 1 - eta_star * l1 == -rho_star and 1 - eta_star * ld == rho_star
    kappa = l1 / ld
    assert rho_star == (kappa - 1) / (kappa + 1)
    eta = frac * 2 / l1
    if eta > 0 and eta != eta_star:
        assert rho(eta, L) > rho_star or (l1 == ld and rho(eta, L) >= rho_star)


@settings(max_examples=40)
@given(seeds)
def test_error_norm_bounds_at_the_optimal_step(seed):
    """``ρ*^t sqrt(a_1² + a_d²) <= ||e_t|| <= ρ*^(t−s) ||e_s||`` for ``d >= 2`` (modes
    1 and ``d`` distinct); for ``d = 1`` the lower bound is false at ``t = 0``."""
    rng = np.random.default_rng(seed)
    d = int(rng.integers(1, 9))
    lam = np.sort(spectrum(rng, d))[::-1]
    a = ground_truth(rng, d)
    t = step_count(rng)
    s = int(rng.integers(0, t + 1))
    with mpmath.workdps(DPS):
        L = [mpmath.mpf(v) for v in lam]
        rs = (L[0] - L[-1]) / (L[0] + L[-1])
        # 1 − η*λ_k with η* = 2/(λ_1 + λ_d): exact numerator, one rounding in all
        r = [(L[0] + L[-1] - 2 * x) / (L[0] + L[-1]) for x in L]
        A = [mpmath.mpf(v) for v in a]
        slack = 1 + mpmath.mpf(10) ** (10 - DPS)  # t <= 1e6 roundings of 1e-40

        def norm(tt):
            return mpmath.sqrt(
                sum(iterate(rk, mpmath.mpf(0), ak, tt) ** 2 for rk, ak in zip(r, A))
            )

        assert norm(t) <= rs ** (t - s) * norm(s) * slack
        lower = rs**t * mpmath.sqrt(A[0] ** 2 + A[-1] ** 2)
        if d >= 2:
            assert lower <= norm(t) * slack
        elif A[0] != 0:
            assert t > 0 or lower > norm(
                0
            )  # d = 1 double-counts the only mode at t = 0


# ----------------------------------------------------- late-time loss (eq-gd-loss-late)


@settings(max_examples=40)
@given(seeds)
def test_late_time_loss_ratio_within_the_mixing_bound(seed):
    """For ``ηλ_1 < 1`` (every ``r_k`` in ``(0, 1)``) and ``a_d ≠ 0``, the decay ratio
    ``q_t = L_(t+1)/L_t`` is within ``Σ_{k<d} w_k |r_k² − r_d²|/r_d²`` relative of
    ``r_d²``, with ``w_k = λ_k a_k² r_k^(2t) / (λ_d a_d² r_d^(2t))``."""
    rng = np.random.default_rng(seed)
    d = int(rng.integers(1, 9))
    lam = np.sort(spectrum(rng, d))[::-1]
    a = ground_truth(rng, d)
    a[-1] = a[-1] or 1.0  # the statement needs a_d != 0
    x1 = 10.0 ** rng.uniform(-6, 0) * (1 - 2.0**-40)
    t = step_count(rng)
    with mpmath.workdps(DPS):
        eta = mpmath.mpf(x1) / mpmath.mpf(lam[0])
        L = [mpmath.mpf(v) for v in lam]
        r = [1 - eta * x for x in L]
        A = [mpmath.mpf(v) for v in a]

        def loss(tt):
            return (
                sum(
                    x * iterate(rk, mpmath.mpf(0), ak, tt) ** 2
                    for x, rk, ak in zip(L, r, A)
                )
                / 2
            )

        q = loss(t + 1) / loss(t)
        w = [
            L[k] * A[k] ** 2 * r[k] ** (2 * t) / (L[-1] * A[-1] ** 2 * r[-1] ** (2 * t))
            for k in range(d - 1)
        ]
        mix = sum(
            wk * abs(r[k] ** 2 - r[-1] ** 2) / r[-1] ** 2 for k, wk in enumerate(w)
        )
        assert abs(q / r[-1] ** 2 - 1) <= mix * (
            1 + mpmath.mpf(10) ** (5 - DPS)
        ) + mpmath.mpf(10) ** (5 - DPS)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "fn",
    [
        dynamics.gd_modes,
        dynamics.gd_loss,
        dynamics.gd_modes_error_bound,
        dynamics.gd_loss_error_bound,
    ],
)
@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(lam=[1.0, -1.0]), r"lam must be > 0"),
        (dict(lam=[1.0, np.inf]), r"lam must be finite"),
        (dict(lam=[]), r"lam must be a non-empty"),
        (dict(b=[1.0]), r"b must be a 1-D array of length 2"),
        (dict(b=[1.0, np.nan]), r"b must be finite"),
        (dict(c0=np.zeros((2, 3))), r"c0 must have shape"),
        (dict(c0=[0.0, np.nan]), r"c0 must be finite"),
        (dict(eta=2.0), r"eta must satisfy 0 < eta\*max\(lam\) < 2"),
        (dict(eta=0.0), r"eta must be in \(0(\.0)?, inf\)"),
        (dict(eta=np.nan), r"eta must be finite"),
        (dict(steps=-1), r"steps must be an integer >= 0"),
        (dict(steps=1.5), r"steps must be an integer >= 0"),
    ],
)
def test_closed_forms_name_the_bad_argument(fn, kwargs, match):
    args = dict(lam=[1.0, 0.5], b=[1.0, 1.0], c0=[0.0, 0.0], eta=0.5, steps=3) | kwargs
    with pytest.raises(ValueError, match=match):
        fn(**args)


# ---------------------------------------------------- late-time law with ties and zeros


@settings(max_examples=40)
@given(seeds, st.booleans())
def test_late_time_loss_is_carried_by_every_slowest_mode_that_moves(seed, at_optimum):
    """eq-gd-loss-late: ``L_t / (½ ρ_a^(2t) Σ_{|r_k| = ρ_a} λ_k a_k²) − 1`` is the
    sum of the other modes' shares, ``Σ_k λ_k a_k² (|r_k|/ρ_a)^(2t) / S``, which tends
    to 0; with ties (at ``η*`` the extreme modes tie) and with ``a_k = 0`` for some
    modes."""
    rng = np.random.default_rng(seed)
    d = int(rng.integers(2, 9))
    lam = np.sort(spectrum(rng, d))[::-1]
    a = ground_truth(rng, d)
    a[rng.integers(d)] = 1.0  # at least one mode moves
    t = step_count(rng)
    with mpmath.workdps(DPS):
        L = [mpmath.mpf(v) for v in lam]
        if at_optimum:
            r = [(L[0] + L[-1] - 2 * x) / (L[0] + L[-1]) for x in L]
        else:
            eta = mpmath.mpf(stable_rate(rng, lam))
            r = [1 - eta * x for x in L]
        A = [mpmath.mpf(v) for v in a]
        rho_a = max(abs(rk) for rk, ak in zip(r, A) if ak != 0)
        slow = [
            k
            for k in range(d)
            if A[k] != 0
            and abs(abs(r[k]) - rho_a) <= rho_a * mpmath.mpf(10) ** (10 - DPS)
        ]
        S = sum(L[k] * A[k] ** 2 for k in slow)
        loss = (
            sum(
                x * iterate(rk, mpmath.mpf(0), ak, t) ** 2 for x, rk, ak in zip(L, r, A)
            )
            / 2
        )
        if rho_a == 0:
            assert t == 0 or loss == 0
            return
        lead = S * rho_a ** (2 * t) / 2
        rest = (
            sum(
                L[k] * A[k] ** 2 * (abs(r[k]) / rho_a) ** (2 * t)
                for k in range(d)
                if k not in slow
            )
            / S
        )
        assert abs(loss / lead - 1 - rest) <= mpmath.mpf(10) ** (12 - DPS) * (1 + rest)
        assert rest >= 0


# --------------------------------------------------------------- exercises of chapter 2


def quadratic_roots(p: mpmath.mpf, q: mpmath.mpf) -> tuple[mpmath.mpc, mpmath.mpc]:
    """Roots of ``z² + p z + q`` (complex square root of the discriminant)."""
    root = mpmath.sqrt(mpmath.mpc(p * p - 4 * q))
    return (-p + root) / 2, (-p - root) / 2


@given(st.floats(0.0, 0.999), st.floats(1e-3, 4.5))
def test_momentum_mode_converges_iff_eta_lambda_below_2_1_plus_beta(beta, x):
    """ex-gd-momentum (b): both roots of ``z² − (1 + β − x) z + β`` lie in the open unit
    disc iff ``0 < x < 2(1 + β)`` (roots in 30-digit arithmetic)."""
    with mpmath.workdps(30):
        B = mpmath.mpf(beta)
        largest = max(abs(z) for z in quadratic_roots(-(1 + B - x), B))
    assume(abs(largest - 1) > 1e-12)  # away from the boundary of the criterion
    assert (largest < 1) == (0 < x < 2 * (1 + beta))


@settings(max_examples=30)
@given(st.floats(0.0, 12.0), seeds)
def test_momentum_tuned_for_kappa_contracts_every_mode_at_sqrt_beta(log_kappa, seed):
    """ex-gd-momentum (c): with sqrt(β) = (sqrt κ − 1)/(sqrt κ + 1) and
    η = 4/(sqrt λ_1 + sqrt λ_d)², every λ in [λ_d, λ_1] has roots of modulus sqrt(β)
    (double roots at the two ends)."""
    rng = np.random.default_rng(seed)
    with mpmath.workdps(60):
        ld, l1 = mpmath.mpf(1), mpmath.mpf(10) ** log_kappa
        sb = (mpmath.sqrt(l1) - mpmath.sqrt(ld)) / (mpmath.sqrt(l1) + mpmath.sqrt(ld))
        eta = 4 / (mpmath.sqrt(l1) + mpmath.sqrt(ld)) ** 2
        for lam in [ld, l1] + [ld + (l1 - ld) * mpmath.mpf(v) for v in rng.random(4)]:
            roots = quadratic_roots(-(1 + sb**2 - eta * lam), sb**2)
            # a double root moves by the square root of the rounding: 1e-30 at 60 digits
            assert all(abs(abs(z) - sb) <= mpmath.mpf(10) ** -25 for z in roots)


@settings(max_examples=20)
@given(st.floats(1.05, 8.0), st.floats(-3.0, 6.0))
def test_staircase_integral(alpha, log_c):
    """ex-gd-staircase (b):
    ``∫_0^∞ k^(−α) e^(−c k^(−α)) dk = Γ(1 − 1/α) c^(−(1 − 1/α)) / α``:
    quadrature up to ``K`` and, beyond, the termwise integral of the exponential series
    (``c K^(−α) = 64^(−α)`` is small there)."""
    with mpmath.workdps(25):
        c, A = mpmath.mpf(10) ** log_c, mpmath.mpf(alpha)
        scale = c ** (1 / A)  # the integrand lives on k ~ c^(1/α)
        K = 64 * scale
        head = mpmath.quad(
            lambda k: k ** (-A) * mpmath.exp(-c * k ** (-A)),
            [0, scale / 4, scale, 4 * scale, K],
        )
        tail = mpmath.fsum(
            (-c) ** n / mpmath.factorial(n) * K ** (1 - (n + 1) * A) / ((n + 1) * A - 1)
            for n in range(40)
        )
        closed = mpmath.gamma(1 - 1 / A) * c ** (-(1 - 1 / A)) / A
        assert abs((head + tail) / closed - 1) <= mpmath.mpf(10) ** -18


# ------------------------------------------------- the error bounds are their formulas


def stated_loss_bound(lam, b, c0, eta, t) -> mpmath.mpf:
    """gd_loss_error_bound's docstring, evaluated in mpmath with the exact ``r_k``:
    ``u [Σ_k ½λ_k a_k² |r_k|^(2t) (7 + 8t|log|r_k|| + 2t[|r_k| < ½]) + (d − 1) L_t]
    + 2^-1074 (L_0 + 2d)``, ``a_k = c0_k − b_k``, ``L_t`` the exact loss."""
    d = len(lam)
    terms, L0, Lt = mpmath.mpf(0), mpmath.mpf(0), mpmath.mpf(0)
    for k in range(d):
        r = abs(exact_r(eta, lam[k]))
        w = mpmath.mpf(lam[k]) / 2 * (mpmath.mpf(c0[k]) - mpmath.mpf(b[k])) ** 2
        L0 += w
        if t == 0:
            terms += 7 * w
            Lt += w
        elif r > 0:
            p = r ** (2 * t)
            terms += w * p * (7 + 8 * t * abs(mpmath.log(r)) + 2 * t * (r < 0.5))
            Lt += w * p
    return 2 ** mpmath.mpf(-53) * (terms + (d - 1) * Lt) + 2 ** mpmath.mpf(-1074) * (
        L0 + 2 * d
    )


@pytest.mark.parametrize("seed", range(12))
def test_gd_loss_error_bound_is_its_stated_formula(seed):
    """Neither looser nor tighter than stated: the float64 evaluation of the bound
    (its own first-order terms rounded) is within 1e-9 of the formula, for every
    ``t`` sampled; a loss that is 0 throughout (every mode at its target) leaves the
    underflow term alone, ``2d·2^-1074``."""
    lam, b, c0, eta, T = problem(seed)
    rs = [exact_r(eta, x) for x in lam]
    if any(abs(abs(r) - mpmath.mpf(0.5)) < 1e-9 for r in rs):
        return  # the indicator |r| < ½ is decided on the rounded rate
    bound = dynamics.gd_loss_error_bound(lam, b, c0, eta, T)
    with mpmath.workdps(DPS):
        for t in sample_times(T, seed):
            want = stated_loss_bound(lam, b, c0, eta, t)
            tol = 1e-9 * want + 4 * 2 ** mpmath.mpf(-1074)  # subnormal results
            assert abs(mpmath.mpf(bound[t]) - want) <= tol, (t, bound[t], want)
    zero = dynamics.gd_loss_error_bound(lam, b, b, eta, T)
    assert np.all(zero == 2 * lam.size * 2.0**-1074)
    many = dynamics.gd_loss_error_bound(lam, b, np.stack([c0, b]), eta, T)
    np.testing.assert_allclose(many[0], bound, rtol=8 * 2.0**-53, atol=0)
    assert np.all(many[1] == zero)


def test_gd_modes_error_bound_is_its_stated_formula():
    """``gd_modes_error_bound`` equals the docstring's bound
    ``u[|c_k(t)| + |b_k − c0_k|(4|1 − r^t| + |r|^t(2 + 4t|log|r|| + t[|r| < ½]))]
    + 2^-1074(|b_k − c0_k| + 1)``, evaluated in mpmath (40 digits) with the exact
    ``r_k = 1 − ηλ_k`` and ``c_k(t)``, to 1e-12 relative: far below the weight of any
    one term, far above the few-ulp rounding of the float evaluation. Rates on both
    sides of ``|r| = ½`` and of ``r = 0``, and ``t`` up to well past ``1/|log|r||``."""
    lam = np.array([1.9, 1.3, 0.9, 0.6, 0.2, 0.01])
    b = np.array([0.3, -1.0, 2.0, 0.5, -0.7, 1.1])
    c0 = np.array([1.0, 0.25, -0.5, 0.0, 0.9, -2.0])
    eta, T = 1.0, 300
    got = dynamics.gd_modes_error_bound(lam, b, c0, eta, T)
    with mpmath.workdps(40):
        u = mpmath.mpf(2) ** -53
        for k in range(lam.size):
            r = 1 - mpmath.mpf(eta) * mpmath.mpf(lam[k])
            gap = abs(mpmath.mpf(b[k]) - mpmath.mpf(c0[k]))
            for t in range(T + 1):
                rt = r**t
                c = mpmath.mpf(b[k]) + rt * (mpmath.mpf(c0[k]) - mpmath.mpf(b[k]))
                inner = 2 + (4 * t * abs(mpmath.log(abs(r))) if t else 0)
                inner += t if abs(r) < 0.5 else 0
                want = u * (abs(c) + gap * (4 * abs(1 - rt) + abs(rt) * inner))
                want += mpmath.mpf(2) ** -1074 * (gap + 1)
                assert abs(got[t, k] - want) <= 1e-12 * want, (k, t, got[t, k])
