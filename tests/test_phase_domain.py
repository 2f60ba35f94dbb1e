"""Domain tests of ribbonlib.phase and of the statements of chapter 5.

Every bound is tested over the whole domain its statement claims: random spectra
(power laws, exponentials, arbitrary positive values with spreads up to 1e12, clusters,
any overall scale), non-isotropic ground truths (random signs, decaying, with zeros,
a single mode), ``ηλ_max`` from 1e-6 to just below 2 (so ``r < 0`` too), ``T`` from 0 to
1e6, ``s`` from 0 up, ``d`` from 1 up. The reference is independent of the code under
test: the exact cloud covariance enclosed in Arb ball arithmetic
(:func:`ribbonlib.certify.cloud_covariance`, from the plain quotient closed forms) and
its eigenvalues enclosed with 60-digit eigenvectors; a test passes only when the balls
*prove* the inequality. Exact rationals decide the logic of the criterion.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from flint import arb, arb_mat, ctx
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ribbonlib import certify, cloud, phase

U = np.finfo(float).eps / 2


# ----------------------------------------------------------------------------- domain


@st.composite
def spectra(draw, d_min: int = 1, d_max: int = 8):
    """Eigenvalues of every kind the statements allow."""
    d = draw(st.integers(d_min, d_max))
    kind = draw(st.sampled_from(["power", "exponential", "arbitrary", "clustered"]))
    if kind == "power":
        lam = np.arange(1, d + 1, dtype=float) ** -draw(st.floats(0.1, 3.0))
    elif kind == "exponential":
        lam = draw(st.floats(0.05, 0.99)) ** np.arange(d, dtype=float)
    elif kind == "arbitrary":
        spread = draw(st.floats(0.0, 12.0))
        x = draw(st.lists(st.floats(0.0, 1.0), min_size=d, max_size=d))
        lam = 10.0 ** (-spread * np.array(x))
    else:
        centres = 10.0 ** -np.array(
            draw(st.lists(st.floats(0.0, 12.0), min_size=1, max_size=3))
        )
        pick = draw(st.lists(st.integers(0, centres.size - 1), min_size=d, max_size=d))
        jitter = np.array(
            draw(st.lists(st.floats(-1e-6, 1e-6), min_size=d, max_size=d))
        )
        lam = centres[pick] * (1.0 + jitter)
    return lam * 10.0 ** draw(st.floats(-3.0, 3.0))


@st.composite
def ground_truths(draw, d: int):
    kind = draw(st.sampled_from(["isotropic", "signs", "decaying", "zeros", "single"]))
    scale = 10.0 ** draw(st.floats(-2.0, 2.0))
    if kind == "isotropic":
        b = np.ones(d)
    elif kind == "signs":
        b = np.array(
            draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=d, max_size=d))
        )
        b *= np.array(draw(st.lists(st.floats(0.1, 1.0), min_size=d, max_size=d)))
    elif kind == "decaying":
        b = np.array(draw(st.lists(st.floats(-1.0, 1.0), min_size=d, max_size=d)))
        b *= draw(st.floats(0.05, 1.0)) ** np.arange(d)
    elif kind == "zeros":
        b = np.array(
            draw(
                st.lists(
                    st.sampled_from([0.0, 0.0, 1.0, -0.3, 2.0]), min_size=d, max_size=d
                )
            )
        )
    else:
        b = np.zeros(d)
        b[draw(st.integers(0, d - 1))] = 1.0
    return b * scale


def learning_rate(draw, lam: np.ndarray) -> float:
    """``η`` with ``ηλ_max`` log-uniform in [1e-6, 1.9] or within 1e-1..1e-14 of 2."""
    near_two = draw(st.booleans())
    top = (
        2.0 - 10.0 ** -draw(st.floats(1.0, 14.0))
        if near_two
        else 10.0 ** draw(st.floats(-6.0, math.log10(1.9)))
    )
    eta = top / lam.max()
    while eta * lam.max() >= 2.0:
        eta = math.nextafter(eta, 0.0)
    return eta


@st.composite
def problems(draw, d_min: int = 1, d_max: int = 8, with_s: bool = True):
    """``(lam, b, s, eta, T)`` over the whole domain of the statements."""
    lam = draw(spectra(d_min, d_max))
    b = draw(ground_truths(lam.size))
    eta = learning_rate(draw, lam)
    T = draw(st.one_of(st.integers(0, 5), st.integers(6, 100), st.integers(101, 10**6)))
    s = 0.0
    if with_s and draw(st.booleans()):
        s = 10.0 ** draw(st.floats(-6.0, 2.0))
    return lam, b, s, eta, T


# ------------------------------------------------------------------------ references

#: (bits of every entry of C, digits of the eigenvectors): the reference is refined to
#: the next level when the balls of a level cannot decide an inequality
LEVELS = ((80, 60), (700, 220))


_CACHE: dict = {}


def _enclose(matrix_fn, level: int, key=None):
    if key is not None and (key, level) in _CACHE:
        return _CACHE[key, level]
    if len(_CACHE) > 64:
        _CACHE.clear()
    out = _enclose_now(matrix_fn, level)
    if key is not None:
        _CACHE[key, level] = out
    return out


def _key(*args):
    return tuple(
        np.asarray(a, dtype=float).tobytes() if isinstance(a, np.ndarray) else a
        for a in args
    )


def _enclose_now(matrix_fn, level: int):
    bits, digits = LEVELS[level]
    M, extra = matrix_fn(bits)
    return certify.symmetric_eigenvalues(M, digits=digits, balls=True), extra


def exact_spectrum(lam, b, s, eta, T, level: int = 0):
    """Arb balls of the descending eigenvalues of the exact C, and of its trace."""

    def fn(bits):
        S, n_hat = certify.cloud_matrices(lam, b, eta, T, target_bits=bits)
        with ctx.workprec(2 * bits + 128):
            C = arb_mat(S)
            s2 = certify.to_arb(float(s)) ** 2
            for k in range(C.nrows()):
                C[k, k] = C[k, k] + s2 * n_hat[k]
            return C, sum((C[k, k] for k in range(C.nrows())), arb(0))

    return _enclose(fn, level, _key("C", lam, b, s, eta, T))


def exact_signal(lam, b, eta, T, level: int = 0):
    return _enclose(
        lambda bits: (
            certify.cloud_matrices(lam, b, eta, T, target_bits=bits)[0],
            None,
        ),
        level,
        _key("S", lam, b, eta, T),
    )[0]


def tails(balls):
    """``Σ_{m>K} μ_m`` for ``K = 0..d`` as balls."""
    out = [arb(0)]
    for x in balls[::-1]:
        out.append(out[-1] + x)
    return out[::-1]


def _compare(values, balls, upper: bool, rank):
    """Per entry: True (proved), False (refuted) or None (undecided)."""
    out = []
    for i, (v, x) in enumerate(zip(np.ravel(values), balls)):
        v = float(v)
        if rank is not None and i >= rank and upper:
            out.append(v >= 0 and x.contains(0))  # 0 by the rank: Arb cannot prove it
        elif not upper and v <= 0:
            out.append(True)  # eigenvalues, tails, traces of PSD matrices are >= 0
        else:
            a = certify.to_arb(v)
            ok, bad = (a >= x, a < x) if upper else (a <= x, a > x)
            out.append(True if bool(ok) else False if bool(bad) else None)
    return out


def holds(values, reference, upper: bool, rank=None) -> bool:
    """``values`` bound the exact numbers from above (``upper``) or below, proved on the
    balls of ``reference(level)``, refined while some entry is undecided. Below the last
    level (about 1e-200 of the largest entry) an undecided entry is accepted."""
    for level in range(len(LEVELS)):
        verdicts = _compare(values, reference(level), upper, rank)
        if False in verdicts:
            return False
        if None not in verdicts:
            return True
    return True


def proved_le(values, balls) -> bool:
    return all(_compare(values, balls, False, None))


def proved_ge(values, balls, rank: int | None = None) -> bool:
    return all(_compare(values, balls, True, rank))


def exact_verdict(mu, trace, crit: phase.RibbonCriterion):
    """The criterion decided on balls: True, False, or None when the balls cannot
    tell."""
    R = arb(crit.q) ** (2 * (crit.K - 1))
    decay, variance = (
        mu[crit.K - 1] - R * mu[0],
        tails(list(mu))[crit.K] - arb(crit.eps) * trace,
    )
    holds = [bool(x <= 0) for x in (decay, variance)]
    fails = [bool(x > 0) for x in (decay, variance)]
    if all(holds):
        return True
    if any(fails):
        return False
    return None


# ------------------------------------------------------------------ the bounds


@settings(max_examples=45)
@given(problems())
@example((np.array([1.0, 0.5, 0.2]), np.array([0.3, -1.2, 0.8]), 0.0, 1e-4, 40))
def test_analytic_bounds_hold_for_the_exact_spectrum(p):
    """thm-phase-analytic: lower <= μ <= upper, tails, trace and signal bounds."""
    lam, b, s, eta, T = p
    ab = phase.analytic_bounds(lam, b, s, eta, T)
    mu = lambda level: exact_spectrum(lam, b, s, eta, T, level)[0]
    assert holds(ab.lower, mu, False) and holds(ab.upper, mu, True)
    tl = lambda level: tails(list(mu(level)))
    assert holds(ab.tail_lower, tl, False) and holds(ab.tail_upper, tl, True)
    tr = lambda level: [exact_spectrum(lam, b, s, eta, T, level)[1]]
    assert holds([ab.trace_lower], tr, False) and holds([ab.trace_upper], tr, True)
    sig = lambda level: exact_signal(lam, b, eta, T, level)
    rank = min(lam.size, T)
    assert holds(ab.signal_upper, sig, True, rank)
    k = min(ab.signal_tail.size, lam.size + 1)
    assert holds(
        ab.signal_tail[:k], lambda level: tails(list(sig(level)))[:k], True, rank
    )


@settings(max_examples=30)
@given(problems(with_s=False))
def test_signal_bounds_hold_for_the_exact_signal(p):
    """thm-phase-explicit, signal part: Ritz values θ_i <= σ_i(S) <= σ̄_i, the tails
    between Σ_{j>i} θ_j and the library's τ_i, on the exact S (Arb)."""
    lam, b, _, eta, T = p
    ab = phase.analytic_bounds(lam, b, 0.0, eta, T)
    rank = min(lam.size, T)
    sig = lambda level: exact_signal(lam, b, eta, T, level)
    assert holds(ab.signal_lower, sig, False) and holds(
        ab.signal_upper, sig, True, rank
    )
    tl = lambda level: tails(list(sig(level)))
    theta_tails = np.r_[np.cumsum(ab.signal_lower[::-1])[::-1], 0.0] * (
        1 - 4 * lam.size * U
    )
    assert holds(theta_tails, tl, False) and holds(ab.signal_tail, tl, True, rank)
    assert np.all(np.diff(ab.signal_tail) <= 0) and np.all(ab.signal_tail[rank:] == 0.0)


@settings(max_examples=40)
@given(problems())
def test_certified_bounds_hold_for_the_exact_spectrum(p):
    """thm-phase-certified in float64."""
    lam, b, s, eta, T = p
    lo, up = phase.cloud_spectrum_bounds(lam, b, s, eta, T)
    mu = lambda level: exact_spectrum(lam, b, s, eta, T, level)[0]
    assert holds(lo, mu, False) and holds(up, mu, True)


@settings(max_examples=8)
@given(problems(d_max=4))
def test_certified_bounds_in_mpmath_hold_for_the_exact_spectrum(p):
    lam, b, s, eta, T = p
    lo, up = phase.cloud_spectrum_bounds(lam, b, s, eta, T, precision=30)
    mu, _ = exact_spectrum(lam, b, s, eta, T, level=1)
    assert all(bool(certify.to_arb(x) <= m) or x <= 0 for x, m in zip(lo, mu))
    assert all(bool(certify.to_arb(x) >= m) for x, m in zip(up, mu))


@settings(max_examples=12)
@given(problems(d_max=5), st.lists(st.floats(0.0, 3.0), min_size=1, max_size=3))
def test_grids_hold_for_the_exact_spectrum(p, log_scales):
    """bounds_grid and analytic_bounds_grid on two rows (a row rescaled) and several
    s."""
    lam, b, _, eta, T = p
    lams = np.vstack([lam, lam / 3.0])
    s_values = np.array([0.0] + [10.0**-x for x in log_scales])
    lower, upper, trace = phase.bounds_grid(lams, b, s_values, eta, [T, T + 1])
    an = phase.analytic_bounds_grid(lams, b, s_values, eta, [T, T + 1])
    for i, T_i in enumerate([T, T + 1]):
        for j, s in enumerate(s_values):
            mu = lambda level: exact_spectrum(lams[i], b, s, eta, T_i, level)[0]
            tr = lambda level: [exact_spectrum(lams[i], b, s, eta, T_i, level)[1]]
            for lo, up in (
                (lower[i, j], upper[i, j]),
                (an.lower[i, j], an.upper[i, j]),
            ):
                assert holds(lo, mu, False) and holds(up, mu, True)
            for tlo, thi in (
                (trace.lo[i, j], trace.hi[i, j]),
                (an.trace_lower[i, j], an.trace_upper[i, j]),
            ):
                assert holds([tlo], tr, False) and holds([thi], tr, True)


# ---------------------------------------------- regressions: nearly rank-one signals


def _case(seed, d, T, top, s=0.0):
    rng = np.random.default_rng(seed)
    lam = np.sort(rng.uniform(0.05, 1.0, d))[::-1]
    b = rng.standard_normal(d) * np.exp(-rng.uniform(0.0, 2.0, d))
    return lam, b, s, top / lam.max(), T


@pytest.mark.parametrize(
    "case",
    [
        _case(7, 16, 2, 0.18),  # the upper bound on μ_2 was below μ_2
        (np.array([1.0, 0.6, 0.25]), np.array([0.8, -0.5, 1.3]), 0.0, 1e-4, 40),
        *[
            _case(seed, d, T, 1e-4)
            for seed, (d, T) in enumerate([(5, 2), (9, 3), (12, 4), (15, 5)])
        ],
    ],
)
def test_nearly_rank_one_signal(case):
    """float64 cannot resolve ||S||_F² − σ_1² here: the bounds must loosen, not fail."""
    lam, b, s, eta, T = case
    ab = phase.analytic_bounds(lam, b, s, eta, T)
    lo, up = phase.cloud_spectrum_bounds(lam, b, s, eta, T)
    mu = lambda level: exact_spectrum(lam, b, s, eta, T, level)[0]
    assert holds(ab.upper, mu, True) and holds(ab.lower, mu, False)
    assert holds(up, mu, True) and holds(lo, mu, False)
    sig = lambda level: exact_signal(lam, b, eta, T, level)
    assert holds(ab.signal_upper, sig, True, min(lam.size, T))


# ------------------------------------------------------------ the hyper-ribbon logic


def _exact_ribbon(mu: list[Fraction], crit: phase.RibbonCriterion) -> bool:
    R = Fraction(crit.q) ** (2 * (crit.K - 1))
    total = sum(mu)
    return (
        mu[crit.K - 1] <= R * mu[0]
        and total - sum(mu[: crit.K]) <= Fraction(crit.eps) * total
    )


@st.composite
def criteria(draw, K_max: int = 5):
    return phase.RibbonCriterion(
        K=draw(st.integers(2, K_max)),
        q=draw(st.floats(0.05, 0.95)),
        eps=draw(st.floats(0.001, 0.5)),
    )


@settings(max_examples=150)
@given(
    criteria(),
    st.lists(st.floats(-12.0, 0.0), min_size=5, max_size=9),
    st.floats(0.0, 0.3),
    st.booleans(),
    st.booleans(),
)
def test_is_ribbon_and_ribbon_certified_against_exact_rationals(
    crit, logs, width, enclosed, ties
):
    mu = -np.sort(-(10.0 ** np.array(logs)))
    if ties:  # put μ_K exactly on the decay threshold when the ratio is a power of two
        crit = phase.RibbonCriterion(K=crit.K, q=0.5, eps=crit.eps)
        mu[crit.K - 1] = mu[0] * 0.25 ** (crit.K - 1)
        mu = -np.sort(-mu)
    exact = [Fraction(x) for x in mu]
    truth = _exact_ribbon(exact, crit)
    # is_ribbon is the definition in float64: it agrees except within round-off of a tie
    R = Fraction(crit.q) ** (2 * (crit.K - 1))
    tot = sum(exact)
    margin = min(
        abs(exact[crit.K - 1] - R * exact[0]) / exact[0],
        abs(tot - sum(exact[: crit.K]) - Fraction(crit.eps) * tot) / tot,
    )
    if margin > Fraction(1, 10**12):
        assert bool(phase.is_ribbon(mu, crit)) == truth
    # bounds around the exact spectrum: a verdict must be right
    rng = np.random.default_rng(len(logs))
    lo = mu * (1.0 - width * rng.uniform(size=mu.size))
    up = mu * (1.0 + width * rng.uniform(size=mu.size))
    if enclosed:
        trace = certify.Enclosure(
            np.array(float(tot) * (1 - width)), np.array(float(tot) * (1 + width))
        )
        trace = certify.Enclosure(
            np.minimum(trace.lo, math.nextafter(float(tot), 0)),
            np.maximum(trace.hi, math.nextafter(float(tot), math.inf)),
        )
    else:  # an exact float trace: keep only spectra whose sum is a float
        if Fraction(float(tot)) != tot:
            return
        trace = float(tot)
    proved, excluded = phase.ribbon_certified(lo, up, trace, crit)
    assert not (proved and not truth)
    assert not (excluded and truth)
    if width == 0.0 and not enclosed and margin > Fraction(1, 10**12):
        assert bool(proved) == truth and bool(excluded) == (not truth)


@pytest.mark.parametrize("delta", [1e-3, 1e-6, 1e-9])
def test_ribbon_certified_just_outside_each_condition(delta):
    """Exact spectra a relative delta beyond each threshold of the criterion: the
    verdict
    from exact bounds must be 'excluded', never 'proved' (a threshold moved by more than
    round-off would prove them)."""
    crit = phase.RibbonCriterion(K=3, q=0.5, eps=1 / 64)  # R = 1/16, exact
    # decay: mu_3 = R mu_1 (1 + delta), tail tiny
    mu = np.array([1.0, 0.2, (1 + delta) / 16, 1e-9])
    # variance: tail = eps tr (1 + delta) exactly in rationals, decay satisfied
    head = [Fraction(1), Fraction(1, 8), Fraction(1, 32)]
    e = Fraction(1, 64) * (1 + Fraction(delta))  # tail = e tr, tr = head + tail
    tail = sum(head) * e / (1 - e)
    nu = np.array([float(x) for x in head] + [float(tail / 2)] * 2)
    for spec in (mu, nu):
        assert np.all(np.diff(spec) <= 0)
        exact = [Fraction(x) for x in spec]
        assert not _exact_ribbon(exact, crit)
        tr = certify.Enclosure(
            np.array(math.nextafter(float(sum(exact)), 0.0)),
            np.array(math.nextafter(float(sum(exact)), math.inf)),
        )
        proved, excluded = phase.ribbon_certified(spec, spec, tr, crit)
        assert not proved and excluded


def test_ribbon_certified_refuses_to_decide_a_tie():
    """μ_K = R μ_1 exactly: is_ribbon says yes; the certified verdict must not be
    wrong."""
    crit = phase.RibbonCriterion(K=3, q=0.5, eps=0.5)
    mu = np.array([1.0, 0.1, 1 / 16, 0.0])
    assert bool(phase.is_ribbon(mu, crit))
    proved, excluded = phase.ribbon_certified(mu, mu, mu.sum(), crit)
    assert not excluded


# ---------------------------------------------------------- analytic phase boundaries


@st.composite
def boundary_problems(draw):
    crit = draw(criteria(K_max=3))
    lam = draw(spectra(crit.K, 7))
    b = draw(ground_truths(lam.size))
    if not np.any(b != 0):
        b[0] = 1.0
    eta = learning_rate(draw, lam)
    T = draw(st.one_of(st.integers(1, 6), st.integers(7, 300), st.integers(301, 10**5)))
    return lam, b, eta, T, crit, draw(st.floats(0.0, 1.0)), draw(st.floats(0.0, 2.0))


def _s(rho: float, bnorm: float, up: bool) -> float:
    """A float ``s`` with ``s/|b|`` certainly on the requested side of ``rho``."""
    s = rho * bnorm
    for _ in range(4):
        s = math.nextafter(s, math.inf if up else 0.0)
    return s


@settings(max_examples=25)
@given(boundary_problems())
def test_analytic_rho_boundaries_are_sound(p):
    """cor-phase-boundaries: every ρ <= ρ_suff is a ribbon and every ρ > ρ_nec is not,
    decided on certified spectra; the point-by-point analytic verdicts agree."""
    lam, b, eta, T, crit, frac, extra = p
    rho_s, rho_n = phase.analytic_rho_boundaries(lam, b, eta, T, crit)
    assert 0.0 <= rho_s <= rho_n
    bnorm = math.hypot(*b)
    checks = []
    if rho_s > 0:
        top = rho_s if math.isfinite(rho_s) else 1e3
        checks += [(_s(top, bnorm, False), True), (_s(top * frac, bnorm, False), True)]
    if math.isfinite(rho_n):
        checks += [
            (_s(rho_n, bnorm, True), False),
            (_s(rho_n * (1.0 + extra), bnorm, True), False),
        ]
    for s, ribbon in checks:
        mu, trace = exact_spectrum(lam, b, s, eta, T)
        verdict = exact_verdict(mu, trace, crit)
        assert verdict is not (not ribbon)  # never the opposite verdict
        ab = phase.analytic_bounds(lam, b, s, eta, T)
        proved, excluded = phase.ribbon_certified(
            ab.lower,
            ab.upper,
            certify.Enclosure(ab.trace_lower, ab.trace_upper),
            crit,
            tail_lower=ab.tail_lower,
            tail_upper=ab.tail_upper,
        )
        assert bool(proved if ribbon else excluded)


def _necessary_margins(lam, b, eta, T, crit, rho, ab):
    """The necessary conditions of analytic_rho_boundaries at ρ, in Arb from the exact
    S and n̂ and the library's signal numbers ``ab`` (θ, σ̄ at s = 0): the margins of
    the variance half-line and of the decay pairs (a margin > 0: the condition holds).
    """
    S, nh = certify.cloud_matrices(lam, b, eta, T)
    d = S.nrows()
    x = arb(rho) ** 2 * sum((certify.to_arb(float(v)) ** 2 for v in b), arb(0))
    trS = sum((S[k, k] for k in range(d)), arb(0))
    ns = sorted(nh, key=lambda v: -float(v.mid()))
    trN = sum(ns, arb(0))
    K = crit.K
    R = arb(crit.q) ** (2 * (K - 1))
    theta = [certify.to_arb(float(v)) for v in ab.signal_lower]
    tau_lo = sum(theta[K:], arb(0))
    var = tau_lo + x * sum(ns[K:], arb(0)) - arb(crit.eps) * (trS + x * trN)
    lows = [theta[K - 1] + x * ns[-1], x * ns[K - 1]]
    # the block of the first K Ritz vectors (its two smallest-eigenvalue bounds are the
    # library's numbers; the noise along it enters through n̂ >= its lower bound)
    lam_f, b_f = np.asarray(lam, float), np.asarray(b, float)
    S_f, E_f, n_parts = phase._gd_parts(lam_f, b_f, eta, T)
    sig = phase._explicit_signal(S_f, E_f, min(d, T), 32)
    for a_blk, b_blk in phase._ritz_block_lower(sig, n_parts[1], K):
        a_arb, b_arb = certify.to_arb(float(a_blk[0])), certify.to_arb(float(b_blk[0]))
        lows.append(a_arb + x * b_arb)
    ups = [certify.to_arb(float(ab.signal_upper[0])) + x * ns[0], trS + x * trN]
    dec = [lo - R * up for lo in lows for up in ups]
    return (
        [var] + dec,
        (sum(ns[K:], arb(0)) - arb(crit.eps) * trN, ns[K - 1] - R * ns[0]),
        trS,
        trN,
    )


@settings(max_examples=40)
@given(boundary_problems())
def test_rho_nec_is_the_stated_formula(p):
    """ρ_nec is where the stated necessary conditions start to cover a half-line (not
    only a valid bound): just above it one holds, just below none (Arb, exact inputs).
    """
    lam, b, eta, T, crit, _, _ = p
    _, rho_n = phase.analytic_rho_boundaries(lam, b, eta, T, crit)
    ab = phase.analytic_bounds(lam, b, 0.0, eta, T)
    if rho_n == 0.0:  # excluded everywhere: at a tiny and at a huge ρ a condition holds
        for rho in (1e-6, 1e6):
            assert any(
                bool(m > 0)
                for m in _necessary_margins(lam, b, eta, T, crit, rho, ab)[0]
            )
        return
    if not math.isfinite(rho_n):
        margins, *_ = _necessary_margins(lam, b, eta, T, crit, 1e6, ab)
        assert not any(bool(m > 0) for m in margins)  # none holds even at a huge ρ
        return
    margins, dens, trS, trN = _necessary_margins(
        lam, b, eta, T, crit, rho_n * (1 + 1e-4), ab
    )
    assert any(bool(m > 0) for m in margins)
    # below: the library adds the eigensolver allowance (relative 4d²u / denominator)
    # and rounds outward; 1e-4 covers that unless a denominator nearly vanishes, or the
    # scales are so small that the absolute underflow allowance 2^-960 dominates
    if (
        all(bool(dd < 1e-6 * trN) for dd in dens)
        or bool(trS < 1e-250)
        or bool(trN < 1e-250)
    ):
        return
    margins, *_ = _necessary_margins(lam, b, eta, T, crit, rho_n * (1 - 1e-4), ab)
    assert not any(bool(m > 0) for m in margins)


def test_largest_below_with_exact_rationals():
    """The union of affine half-conditions, against exact rational arithmetic."""
    rng = np.random.default_rng(7)
    for _ in range(300):
        A = rng.choice([-1.0, 1.0], 4) * rng.uniform(0.1, 2.0, 4)
        B = rng.choice([-1.0, 1.0], 4) * rng.uniform(0.1, 2.0, 4)
        x = phase._largest_below(A, B)
        covered = lambda t: any(
            Fraction(a) + t * Fraction(bb) <= 0 for a, bb in zip(A, B)
        )
        if x < 0:
            assert not covered(Fraction(0))
            continue
        grid = [Fraction(k, 64) * Fraction(min(x, 50.0)) for k in range(65)]
        assert all(covered(t) for t in grid)
        if math.isfinite(x):  # just beyond x some point is not covered
            assert not covered(Fraction(x) * (1 + Fraction(1, 10**9)))


# ---------------------------------------------------------------- chapter 5 lemmas


@settings(max_examples=25)
@given(
    st.fractions(Fraction(-59, 60), Fraction(59, 60), max_denominator=60),
    st.lists(
        st.fractions(Fraction(-59, 60), Fraction(59, 60), max_denominator=60),
        min_size=1,
        max_size=4,
        unique=True,
    ),
)
def test_blaschke_distance_lemma(r, nodes):
    """lem-phase-blaschke: Schur complement of the Cauchy Gram matrix (exact rationals)
    equals the Blaschke product."""
    nodes = sorted(set(nodes))
    gram = lambda x, y: 1 / (1 - x * y)
    from sympy import Matrix, Rational

    G = Matrix(len(nodes), len(nodes), lambda i, j: Rational(gram(nodes[i], nodes[j])))
    g = Matrix([Rational(gram(r, x)) for x in nodes])
    schur = Rational(gram(r, r)) - (g.T * G.LUsolve(g))[0]
    blaschke = Rational(1) / (1 - Rational(r) ** 2)
    for x in nodes:
        blaschke *= (Rational(r) - Rational(x)) ** 2 / (
            1 - Rational(r) * Rational(x)
        ) ** 2
    assert schur == blaschke


@settings(max_examples=40)
@given(
    st.floats(1e-4, 1.99), st.integers(0, 60), st.floats(1e-3, 10.0), st.integers(1, 50)
)
def test_noise_floor_closed_form(a, T, s, d):
    """eq-phase-noise: (s²/d) λ G_kk = (s²/d)(1 − r^(2(T+1)))/((T+1) η (2 − ηλ)),
    against the
    brute-force sum of r^(2t) in exact rationals and the library's float64 value."""
    lam, eta = 1.0, Fraction(a)
    r = 1 - eta
    G = sum(r ** (2 * t) for t in range(T + 1)) / (T + 1)
    brute = Fraction(s) ** 2 / d * G
    closed = (
        Fraction(s) ** 2 / d * (1 - r ** (2 * (T + 1))) / ((T + 1) * eta * (2 - eta))
    )
    assert brute == closed
    lib = cloud.noise_variances(np.array([lam] * d), s, a, T)[0]
    assert abs(Fraction(lib) - brute) <= 1e-13 * brute


@settings(max_examples=60)
@given(st.floats(1e-6, 1.99), st.integers(0, 10**6))
def test_plateau_level_bounds(a, T):
    """On the plateau (ηλ(T+1) >= 1/2): 1 − 1/e <= n_k 2dη(T+1)/s² <= 2/(2 − ηλ_1) (here
    the mode itself is the largest), mpmath at 40 digits."""
    with mpmath.workdps(40):
        x = mpmath.mpf(a)
        n = T + 1
        ratio = 2 * (1 - (1 - x) ** (2 * n)) / (2 - x)
        if x * n >= mpmath.mpf(1) / 2:
            assert 1 - mpmath.exp(-1) <= ratio <= 2 / (2 - x)
        assert ratio <= 2 / (2 - x)


@settings(max_examples=60)
@given(st.floats(0.2, 4.0), st.floats(1e-3, 1.0), st.integers(1, 10**5))
def test_plateau_count_counts_the_moved_modes(alpha, eta, T):
    """plateau_count: the modes with ηλ_k T >= 1/2 of λ_k = k^-α are exactly k <= N."""
    N = float(phase.plateau_count(alpha, eta, T))
    with mpmath.workdps(50):
        for k in {max(1, math.floor(N)), math.floor(N) + 1}:
            moved = (
                mpmath.mpf(eta) * mpmath.mpf(k) ** -mpmath.mpf(alpha) * T
                >= mpmath.mpf(1) / 2
            )
            if abs(k - N) > 1e-9 * max(N, 1.0):
                assert moved == (k <= N)


@settings(max_examples=25)
@given(boundary_problems())
def test_variance_bracket_lemma(p):
    """lem-phase-bracket: with A = eps tr S - tau*_K > 0, the variance condition holds
    for
    x <= x_- = A/((1-eps) tr n - t_down) and fails for x > x_+ = A/((1-eps) tr n -
    t_up).
    """
    lam, b, eta, T, crit, frac, extra = p
    d, K, eps = lam.size, crit.K, arb(crit.eps)
    S, n_hat = certify.cloud_matrices(lam, b, eta, T, target_bits=200)
    sig = certify.symmetric_eigenvalues(S, digits=60, balls=True)
    trS = sum((S[k, k] for k in range(d)), arb(0))
    tau = sum(list(sig)[K:], arb(0))
    ns = sorted(n_hat, key=lambda x: float(x.mid()))
    trN, t_down, t_up = sum(ns, arb(0)), sum(ns[:K], arb(0)), sum(ns[-K:], arb(0))
    A = eps * trS - tau
    if not bool(A > 0) or not bool((1 - eps) * trN - t_down > 0):
        return
    x_minus = A / ((1 - eps) * trN - t_down)
    tests = [(x_minus * (1 - arb(10) ** -6) * arb(frac), True)]
    if bool((1 - eps) * trN - t_up > 0):
        x_plus = A / ((1 - eps) * trN - t_up)
        tests.append((x_plus * (1 + arb(10) ** -6) * (1 + arb(extra)), False))
    for x, holds_ in tests:
        x_f = float(x.mid())
        if x_f <= 0 or not math.isfinite(x_f):
            continue
        s = math.sqrt(x_f)
        mu = exact_spectrum(lam, b, s, eta, T, level=1)[0]
        margin = eps * sum(mu, arb(0)) - tails(list(mu))[K]  # eps tr C - sum_{m>K} mu_m
        assert bool(margin >= 0) if holds_ else bool(margin < 0)


# ------------------------------------------------------- the accuracy phase relies on


@settings(max_examples=60)
@given(problems(d_max=5, with_s=False))
def test_time_averages_accuracy_assumed_by_the_bounds(p):
    """phase takes cloud.time_averages to be accurate to _CLOUD_ULPS = 256 ulp (of
    |G_kl| + |m_k m_l| for cov, of |cov_kl| for slow pairs, of G and m); require a
    safety factor of 8 on the whole domain: at most 32 ulp."""
    lam, _, _, eta, T = p
    G, m, cov = cloud.time_averages(lam, eta, T)
    Gx, mx, cx = cloud.time_averages(lam, eta, T, precision=40)
    n = T + 1
    a = eta * lam
    slow = (a < 0.5) & (n * -np.log1p(-np.minimum(a, 0.5)) <= 1.0)
    limit = phase._CLOUD_ULPS / 8 * U
    with mpmath.workdps(40):
        for k in range(lam.size):
            assert abs(mpmath.mpf(m[k]) - mx[k]) <= limit * abs(mx[k])
            for l in range(lam.size):
                assert abs(mpmath.mpf(G[k, l]) - Gx[k, l]) <= limit * abs(Gx[k, l])
                scale = (
                    abs(cx[k, l])
                    if slow[k] and slow[l]
                    else abs(Gx[k, l]) + abs(mx[k] * mx[l])
                )
                assert abs(mpmath.mpf(cov[k, l]) - cx[k, l]) <= limit * scale


def test_bounds_are_not_vacuous_on_a_ribbon():
    """The rigorous float64 evaluation keeps the bounds tight where they can be: on a
    clear hyper-ribbon both pairs decide, and the certified bounds pin μ_1..μ_4."""
    d = 30
    lam = np.arange(1, d + 1, dtype=float) ** -2.0
    b = np.ones(d) / math.sqrt(d)
    crit = phase.RibbonCriterion()
    lo, up = phase.cloud_spectrum_bounds(lam, b, 0.01, 0.5, 100)
    mu, trace = exact_spectrum(lam, b, 0.01, 0.5, 100)
    assert all(float(m.mid()) <= 1.5 * l for m, l in zip(mu[:4], lo[:4]))
    assert all(u <= 3.0 * float(m.mid()) for m, u in zip(mu[:4], up[:4]))
    tr = certify.enclose(trace)
    assert phase.ribbon_certified(lo, up, tr, crit)[0]
    ab = phase.analytic_bounds(lam, b, 0.01, 0.5, 100)
    assert ab.upper[0] <= 1.1 * float(mu[0].mid()) and ab.lower[0] >= 0.9 * float(
        mu[0].mid()
    )


# -------------------------------------------------------- the second definition


@settings(max_examples=150)
@given(
    st.integers(2, 5),
    st.floats(0.3, 0.95),
    st.floats(0.0, 0.25),
    st.lists(st.floats(-6.0, 0.0), min_size=5, max_size=9),
    st.floats(0.0, 0.3),
    st.booleans(),
)
def test_geometric_definition_against_exact_rationals(
    K, q_max, q_min, logs, width, tie
):
    """is_geometric_ribbon is the definition (up to round-off of a tie) and a verdict of
    geometric_certified from bounds around the exact spectrum is never wrong."""
    crit = phase.GeometricCriterion(K=K, q_max=q_max, q_min=q_min)
    mu = -np.sort(-(10.0 ** np.array(logs)))
    if tie:  # a ratio exactly on the upper threshold (a power of two)
        crit = phase.GeometricCriterion(K=K, q_max=0.5, q_min=min(q_min, 0.25))
        mu[1] = mu[0] / 4
        mu = -np.sort(-mu)
    exact = [Fraction(x) for x in mu]
    hi2, lo2 = Fraction(crit.q_max) ** 2, Fraction(crit.q_min) ** 2
    truth = all(lo2 * exact[k] <= exact[k + 1] <= hi2 * exact[k] for k in range(K - 1))
    margin = min(
        min(abs(exact[k + 1] - hi2 * exact[k]), abs(exact[k + 1] - lo2 * exact[k]))
        / exact[k]
        for k in range(K - 1)
    )
    if margin > Fraction(1, 10**12):
        assert bool(phase.is_geometric_ribbon(mu, crit)) == truth
    rng = np.random.default_rng(len(logs))
    lo = mu * (1.0 - width * rng.uniform(size=mu.size))
    up = mu * (1.0 + width * rng.uniform(size=mu.size))
    proved, excluded = phase.geometric_certified(lo, up, crit)
    assert not (proved and not truth) and not (excluded and truth)
    if width == 0.0 and margin > Fraction(1, 10**12):
        assert bool(proved) == truth and bool(excluded) == (not truth)


# ------------------------------------------------------------------ online SGD


def _sgd_phi_arb(lam, b, s, eta, B, T, noise):
    """The exact SGD part Φ = Λ^(1/2) (mean_t X_t) Λ^(1/2) of eq-sgd-cloud in Arb, X_t
    from the diagonal recursion of the second moments and the closed form of the
    off-diagonal excess, iterated in balls."""
    d = lam.size
    Phi = arb_mat(d, d)
    with ctx.workprec(300):
        la = [certify.to_arb(float(x)) for x in lam]
        ba = [certify.to_arb(float(x)) for x in b]
        e, Ba = certify.to_arb(float(eta)), arb(B)
        s2, n2 = certify.to_arb(float(s)) ** 2, certify.to_arb(float(noise))
        r = [1 - e * x for x in la]
        D = [r[k] ** 2 + e**2 * la[k] ** 2 / Ba for k in range(d)]
        u = [e**2 * la[k] / Ba for k in range(d)]
        p = [ba[k] ** 2 + s2 / d for k in range(d)]
        X = [[arb(0)] * d for _ in range(d)]
        for t in range(T + 1):
            for k in range(d):
                X[k][k] += p[k] - r[k] ** (2 * t) * (ba[k] ** 2 + s2 / d)
                for l in range(d):
                    if l != k:
                        X[k][l] += (
                            (
                                (r[k] * r[l] + e**2 * la[k] * la[l] / Ba) ** t
                                - (r[k] * r[l]) ** t
                            )
                            * ba[k]
                            * ba[l]
                        )
            lp = sum((la[k] * p[k] for k in range(d)), arb(0))
            p = [D[k] * p[k] + u[k] * (lp + n2) for k in range(d)]
        for k in range(d):
            for l in range(d):
                Phi[k, l] = (la[k] * la[l]).sqrt() * X[k][l] / (T + 1)
    return Phi


def _sgd_cloud_arb(lam, b, s, eta, B, T, noise):
    """The exact C_SGD = C + Φ (Arb)."""
    with ctx.workprec(300):
        return certify.cloud_covariance(lam, b, s, eta, T) + _sgd_phi_arb(
            lam, b, s, eta, B, T, noise
        )


@st.composite
def sgd_problems(draw):
    d = draw(st.integers(1, 4))
    lam = draw(spectra(d, d))
    b = draw(ground_truths(d))
    B = draw(st.sampled_from([1, 2, 4, 64]))
    from ribbonlib import sgd

    eta = sgd.stability_threshold(lam, B) * draw(st.floats(0.05, 0.9))
    eta = min(eta, 1.9 / lam.max())
    T = draw(st.integers(0, 25))
    s = draw(st.sampled_from([0.0, 1e-3, 0.1, 1.0]))
    noise = draw(st.sampled_from([0.0, 0.01, 1.0]))
    return lam, b, s, eta, B, T, noise


@settings(max_examples=20)
@given(sgd_problems())
def test_sgd_bounds_hold_for_the_exact_sgd_cloud(p):
    """sgd_analytic_bounds on the exact C_SGD (Arb); the parts of sgd.fluctuation_parts
    within the accuracy the bounds assume for them."""
    from ribbonlib import sgd

    lam, b, s, eta, B, T, noise = p
    ab = phase.sgd_analytic_bounds(lam, b, s, eta, B, T, noise)
    C = _sgd_cloud_arb(lam, b, s, eta, B, T, noise)
    mu = certify.symmetric_eigenvalues(C, digits=40, balls=True)
    assert proved_le(ab.lower, mu) and proved_ge(ab.upper, mu)
    tl = tails(list(mu))
    assert proved_le(ab.tail_lower, tl) and proved_ge(ab.tail_upper, tl)
    trace = sum((C[k, k] for k in range(lam.size)), arb(0))
    assert proved_le([ab.trace_lower], [trace]) and proved_ge([ab.trace_upper], [trace])
    # each part within cloud_rounding(d, T) of its largest diagonal entry
    parts = sgd.fluctuation_parts(lam, b, eta, B, T)
    ref = {"signal": (1.0, 0.0, 0.0), "init": (0.0, 1.0, 0.0), "label": (0.0, 0.0, 1.0)}
    d = lam.size
    eps = sgd.cloud_rounding(d, T)
    for name, part in zip(("signal", "init", "label"), parts):
        w = ref[name]
        zero_b = b * (w[0] > 0)
        P = _sgd_phi_arb(lam, zero_b, math.sqrt(w[1]), eta, B, T, w[2])
        scale = eps * float(np.max(np.abs(np.diag(part))))
        for k in range(d):
            for l in range(d):
                gap = abs(certify.to_arb(float(part[k, l])) - P[k, l])
                tol = certify.to_arb(scale) + arb(2.0**-1000)
                # proved where the balls (300 bits) can tell; never refuted
                assert bool(gap <= tol) or (scale < 1e-60 and not bool(gap > tol))


@settings(max_examples=12)
@given(sgd_problems(), st.floats(0.0, 1.0), st.floats(0.0, 2.0))
def test_sgd_rho_boundaries_are_sound(p, frac, extra):
    """Every ρ <= ρ_suff gives an SGD cloud that is a ribbon and every ρ > ρ_nec one
    that
    is not, decided on the exact C_SGD (Arb)."""
    lam, b, _, eta, B, T, noise = p
    crit = phase.RibbonCriterion(K=2, q=0.7, eps=0.2)
    if lam.size < 2 or not np.any(b != 0):
        return
    rho_s, rho_n = phase.sgd_rho_boundaries(lam, b, eta, B, T, noise, crit)
    assert 0.0 <= rho_s <= rho_n
    bnorm = math.hypot(*b)
    checks = []
    if rho_s > 0:
        top = rho_s if math.isfinite(rho_s) else 1e3
        checks += [(_s(top, bnorm, False), True), (_s(top * frac, bnorm, False), True)]
    if 0 < rho_n < math.inf:
        checks += [
            (_s(rho_n, bnorm, True), False),
            (_s(rho_n * (1 + extra), bnorm, True), False),
        ]
    for s, ribbon in checks:
        C = _sgd_cloud_arb(lam, b, s, eta, B, T, noise)
        mu = certify.symmetric_eigenvalues(C, digits=40, balls=True)
        trace = sum((C[k, k] for k in range(lam.size)), arb(0))
        assert exact_verdict(mu, trace, crit) is not (not ribbon)


# ------------------------------------------------- how much the explicit bounds decide


@settings(max_examples=6, deadline=None)
@given(
    st.sampled_from(["power", "exponential"]),
    st.integers(1, 1000),
    st.floats(0.05, 1.95),
    st.sampled_from(["isotropic", "decaying", "signs"]),
    criteria(K_max=6),
)
def test_explicit_bounds_decide_an_explorer_grid(family, T, eta_l1, b_kind, crit):
    """On any grid a reader can set in chapter 5's explorer (d = 100, decay parameter x
    ρ in [1e-3, 10], T <= 1000, ηλ_1 < 2, any ground truth and criterion), the explicit
    bounds decide at least 90% of the points (chapter 5's claim)."""
    d = 100
    rng = np.random.default_rng(T)
    b = {
        "isotropic": np.ones(d),
        "decaying": 0.9 ** np.arange(d),
        "signs": rng.choice([-1.0, 1.0], d) * rng.uniform(0.1, 1.0, d),
    }[b_kind]
    decays = (
        np.linspace(0.3, 3.0, 8) if family == "power" else np.linspace(0.3, 0.97, 8)
    )
    k = np.arange(d, dtype=float)
    lams = np.array([(k + 1) ** -a if family == "power" else a**k for a in decays])
    ab = phase.analytic_bounds_grid(lams, b, np.logspace(-3, 1, 8), eta_l1, T)
    proved, excluded = phase.ribbon_certified(
        ab.lower,
        ab.upper,
        certify.Enclosure(ab.trace_lower, ab.trace_upper),
        crit,
        tail_lower=ab.tail_lower,
        tail_upper=ab.tail_upper,
    )
    assert np.mean(proved | excluded) >= 0.9


def _exact_enclosure(H: np.ndarray, eH: float, Y: np.ndarray):
    """The enclosure of :func:`phase._eig_enclosure`'s statement in exact arithmetic
    (Arb at 400 bits or more: every product of the data is exact), from the same ``Y``:
    ``g_i = D_i ± (||G − diag(D)||_F + eH (1 + f))`` (Weyl) with ``G = Yᵀ H Y``,
    ``D`` its diagonal sorted, divided by ``1 ∓ f`` as Ostrowski allows (``f =
    ||YᵀY − I||_F``)."""
    p = H.shape[0]
    with ctx.workprec(max(400, ctx.prec)):
        Ya, Ha = arb_mat(Y.tolist()), arb_mat(H.tolist())
        F = Ya.transpose() * Ya
        for i in range(p):
            F[i, i] -= 1
        f = sum((F[i, j] ** 2 for i in range(p) for j in range(p)), arb(0)).sqrt()
        G = Ya.transpose() * Ha * Ya
        off = sum(
            (G[i, j] ** 2 for i in range(p) for j in range(p) if i != j), arb(0)
        ).sqrt()
        D = sorted((G[i, i] for i in range(p)), key=lambda x: x.mid(), reverse=True)
        lo, hi = [], []
        for x in D:
            g = x + off + eH * (1 + f)
            hi.append(g / (1 - f) if g >= 0 else g / (1 + f))
            g = x - off - eH * (1 + f)
            lo.append(g / (1 + f) if g >= 0 else g / (1 - f))
    return lo, hi


def test_eig_enclosure_contains_its_exact_arithmetic_enclosure():
    """The float enclosure of :func:`phase._eig_enclosure` contains the one its
    statement gives in exact arithmetic from the same eigenvectors (its round-off terms
    bound the difference), for diagonally dominant and rank-one-like stacks, positive
    and negative, ``p`` up to 16, with ``eH`` 0 and 1e-6: the Ostrowski factor
    divides a positive upper end by ``1 − f`` and a negative lower end by ``1 − f``."""
    rng = np.random.default_rng(0)
    for p in (1, 2, 4, 8, 16):
        v = rng.uniform(0.5, 1.0, p)
        for H in (
            np.diag(rng.uniform(1.0, 2.0, p)) + 1e-3 * np.outer(v, v),
            -np.diag(rng.uniform(1.0, 2.0, p)) - 1e-3 * np.outer(v, v),
            np.outer(v, v) + np.diag(rng.uniform(0.0, 1e-3, p)),
        ):
            H = (H + H.T) / 2
            for eH in (0.0, 1e-6):
                lo, hi, Y = phase._eig_enclosure(H[None], np.array([eH]))
                ex_lo, ex_hi = _exact_enclosure(H, arb(eH), Y[0])
                assert all(arb(x) >= e for x, e in zip(hi[0], ex_hi))
                assert all(arb(x) <= e for x, e in zip(lo[0], ex_lo))


def test_mp_eig_enclosure_is_its_exact_arithmetic_enclosure_to_round_off():
    """:func:`phase._mp_eig_enclosure` at 50 digits against the enclosure its statement
    gives in exact arithmetic from the same eigenvectors (Arb at 1200 bits: the mpf
    data are exact dyadics), ``eH = 2^-10``: it contains it, and exceeds it by no more
    than its stated round-off terms — ``(2p + 4) u ||N||_F <= (2p + 4) p u ||H||_F``,
    the slack ``100 p² u`` on ``δ`` and the growth ``100 u`` of the ends, together
    below ``300 p² u (||H||_F + eH)`` — so ``eH`` enters once (times ``1 + f``)."""
    rng = np.random.default_rng(0)
    with mpmath.workdps(50):
        u = mpmath.mpf(10) ** -50
        for p in (1, 3, 6):
            A = rng.standard_normal((p, p))
            A = A + A.T
            H = np.array([[mpmath.mpf(x) for x in row] for row in A], dtype=object)
            eH = mpmath.mpf(2) ** -10
            lo, hi, Y = phase._mp_eig_enclosure(H, eH, u)
            Ym = np.array([[mpmath.mpf(x) for x in row] for row in Y], dtype=object)
            with ctx.workprec(1200):
                to = np.vectorize(certify.to_arb, otypes=[object])
                ex_lo, ex_hi = _exact_enclosure(to(H), to(eH), to(Ym))
                tol = certify.to_arb(
                    300 * p * p * u * (mpmath.mpf(np.linalg.norm(A)) + eH)
                )
                for x, e in zip(hi, ex_hi):
                    assert e <= certify.to_arb(x) <= e + tol
                for x, e in zip(lo, ex_lo):
                    assert e - tol <= certify.to_arb(x) <= e
