"""Tests of ribbonlib.phase: the two-sided bounds on the cloud spectrum, the grids and the
hyper-ribbon criterion."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ribbonlib import certify, cloud, phase, spectra

U = np.finfo(float).eps / 2


# ----------------------------------------------------------------------------- inputs


@st.composite
def problems(draw, d_max: int = 8, t_max: int = 400):
    """Random (lam, b, s, eta, T), including eta*lam > 1 (negative r) and T = 0, 1, 2."""
    d = draw(st.integers(1, d_max))
    log_lam = draw(st.lists(st.floats(-6.0, 0.0), min_size=d, max_size=d))
    lam = np.exp(np.array(log_lam))
    b = np.array(draw(st.lists(st.floats(-2.0, 2.0), min_size=d, max_size=d)))
    s = draw(st.sampled_from([0.0, 1e-3, 0.1, 1.0, 5.0]))
    eta = draw(st.floats(0.01, 1.99)) / lam.max()
    T = draw(st.one_of(st.sampled_from([0, 1, 2, 3]), st.integers(4, t_max)))
    return lam, b, s, eta, T


def exact_tails(mu: np.ndarray) -> np.ndarray:
    """``Σ_{m>K} μ_m`` for K = 0..d from a descending spectrum."""
    return np.concatenate([np.cumsum(mu[::-1])[::-1], [0.0]])


# ----------------------------------------------------------------------------- sandwich
# The bounds are tested against the exact spectrum (Arb) over the whole domain in
# tests/test_phase_domain.py; here: the eigensolver allowance in practice, resolution at
# high precision, edge cases.


@settings(max_examples=20)
@given(problems())
def test_bounds_also_enclose_computed_eigenvalues_in_practice(p):
    """The allowance 4·d·u·tr C covers eigvalsh on these well-scaled examples."""
    lam, b, s, eta, T = p
    mu = np.linalg.eigvalsh(cloud.covariance(lam, b, s, eta, T))[::-1]
    lo, up = phase.cloud_spectrum_bounds(lam, b, s, eta, T)
    ab = phase.analytic_bounds(lam, b, s, eta, T)
    for lower, upper in ((lo, up), (ab.lower, ab.upper)):
        assert lower.shape == upper.shape == mu.shape
        assert np.all(lower <= mu) and np.all(mu <= upper)


def _mp_eigenvalues(C, prec):
    with mpmath.workdps(prec):
        ev = mpmath.eigsy(mpmath.matrix(C.tolist()), eigvals_only=True)
        return sorted([ev[i] for i in range(len(ev))], reverse=True)


def test_mpmath_bounds_resolve_tiny_eigenvalues():
    """At 50 digits the certified bounds pin eigenvalues far below float64 round-off."""
    lam = spectra.power_law(6, 2.0)
    b = np.ones(6) / math.sqrt(6)
    lo, up = phase.cloud_spectrum_bounds(lam, b, 1e-9, 0.5, 10, precision=50)
    mu = _mp_eigenvalues(cloud.covariance(lam, b, 1e-9, 0.5, 10, precision=50), 50)
    assert all(l <= m <= u for l, m, u in zip(lo, mu, up))
    assert mu[-1] < 1e-16 * mu[0]  # below float64 round-off relative to the top
    tiny = mpmath.mpf(10) ** -45
    assert all(m - l <= mpmath.mpf(10) ** -30 * m + tiny for l, m in zip(lo, mu))  # Ritz values: exact
    assert all(u <= 3 * m + tiny for m, u in zip(mu, up))  # Weyl upper: within a factor 3


def test_edge_cases_small_T_negative_r_zero_noise_zero_signal():
    lam = np.array([1.0, 0.7, 0.3, 0.05])
    b = np.array([0.5, -1.0, 0.2, 0.0])
    for eta, T, s in [(1.9, 1, 0.3), (1.5, 2, 0.0), (1.0, 3, 1.0), (0.5, 0, 0.2)]:
        C = cloud.covariance(lam, b, s, eta, T)
        mu = np.linalg.eigvalsh(C)[::-1]
        ab = phase.analytic_bounds(lam, b, s, eta, T)
        for lo, up in (phase.cloud_spectrum_bounds(lam, b, s, eta, T), (ab.lower, ab.upper)):
            assert np.all(lo <= mu) and np.all(mu <= up)
        tau = phase.signal_tail_bounds(lam, b, eta, T)
        assert np.all(tau[min(T, 4):] == 0.0)  # rank of S is at most min(d, T)
    zero = phase.analytic_bounds(lam, np.zeros(4), 0.0, 0.5, 5)
    assert np.all(np.abs(zero.upper) <= 1e-280) and np.all(np.abs(zero.lower) <= 1e-280)
    assert abs(zero.trace_lower) <= 1e-280 and abs(zero.trace_upper) <= 1e-280


def test_eta_lambda_equal_one_gives_r_zero():
    lam = np.array([1.0, 0.5, 0.25])
    b = np.array([1.0, 1.0, 1.0])
    mu = np.linalg.eigvalsh(cloud.covariance(lam, b, 0.1, 1.0, 7))[::-1]
    ab = phase.analytic_bounds(lam, b, 0.1, 1.0, 7)
    for lo, up in (phase.cloud_spectrum_bounds(lam, b, 0.1, 1.0, 7), (ab.lower, ab.upper)):
        assert np.all(lo <= mu) and np.all(mu <= up)


# ------------------------------------------------------------------- closed-form pieces


def test_blaschke_distance_formula():
    """dist(r^t, span{ρ_j^t}) in l²(N) is |B(r)|/sqrt(1 − r²) (Cauchy Gram matrix)."""
    r = 0.6
    nodes = [0.2, -0.5, 0.75]
    t = np.arange(4000)
    V = np.array([rho**t for rho in nodes]).T
    e = r**t
    coef, *_ = np.linalg.lstsq(V, e, rcond=None)
    dist = np.linalg.norm(e - V @ coef)
    B = np.prod([(r - rho) / (1 - r * rho) for rho in nodes])
    assert dist == pytest.approx(abs(B) / math.sqrt(1 - r * r), rel=1e-8)


@pytest.mark.parametrize("theta", [1e-4, 0.003, 0.02, 0.2, 1.5])
@pytest.mark.parametrize("p", [1, 2, 4, 7])
@pytest.mark.parametrize("kappa", [0.5, 1.0])
def test_dictionary_interpolation_error_bound(theta, p, kappa):
    """The Chebyshev error bound of e^(−θt) in powers of x = e^(−κt/T) holds on t = 0..T."""
    T = 200
    a, b_ = math.exp(-kappa), 1.0
    k = np.arange(p)
    nodes = (a + b_) / 2 + (b_ - a) / 2 * np.cos((2 * k + 1) * np.pi / (2 * p))
    beta = theta * T / kappa
    coef = np.polyfit(nodes, nodes**beta, p - 1) if p > 1 else np.array([nodes[0] ** beta])
    x = np.exp(-kappa * np.arange(T + 1) / T)
    err = np.max(np.abs(x**beta - np.polyval(coef, x)))
    th = np.array([theta])
    bound = math.sqrt(phase._dictionary_error2(th, th, T, p, kappa)[0])
    assert err <= bound * (1 + 1e-9) + 1e-13


# ------------------------------------------------------------------------------ grids


def test_spectra_grid_equals_pointwise_eigenvalues():
    d = 12
    alphas = np.array([0.7, 1.5, 2.5])
    lams = np.arange(1, d + 1)[None, :] ** -alphas[:, None]
    b = np.linspace(1.0, -0.5, d)
    s_values = np.array([0.0, 0.05, 1.0])
    steps = np.array([1, 20, 300])
    grid = phase.spectra_grid(lams, b, s_values, 0.8, steps)
    assert grid.shape == (3, 3, d)
    for i in range(3):
        for j, s in enumerate(s_values):
            mu = np.linalg.eigvalsh(cloud.covariance(lams[i], b, s, 0.8, int(steps[i])))[::-1]
            np.testing.assert_allclose(grid[i, j], mu, rtol=0, atol=64 * d * U * mu.sum())


def test_bounds_grids_equal_pointwise_calls():
    d = 10
    lams = spectra.exponential(d, 0.6)[None, :] * np.array([[1.0], [0.4]])
    b = np.ones(d) / math.sqrt(d)
    s_values = [0.01, 0.3]
    lower, upper, trace = phase.bounds_grid(lams, b, s_values, 1.2, [5, 50])
    assert isinstance(trace, certify.Enclosure) and trace.shape == (2, 2)
    ag = phase.analytic_bounds_grid(lams, b, s_values, 1.2, [5, 50])
    for i, T in enumerate([5, 50]):
        for j, s in enumerate(s_values):
            lo, up = phase.cloud_spectrum_bounds(lams[i], b, s, 1.2, T)
            np.testing.assert_allclose(lower[i, j], lo, rtol=1e-12, atol=1e-300)
            np.testing.assert_allclose(upper[i, j], up, rtol=1e-12, atol=1e-300)
            ab = phase.analytic_bounds(lams[i], b, s, 1.2, T)
            for name in ("lower", "upper", "tail_lower", "tail_upper"):
                np.testing.assert_allclose(getattr(ag, name)[i, j], getattr(ab, name), rtol=1e-12, atol=1e-300)
            tr = np.trace(cloud.covariance(lams[i], b, s, 1.2, T))
            assert trace.lo[i, j] <= tr * (1 + 1e-12) and tr <= trace.hi[i, j] * (1 + 1e-12)
            assert trace.hi[i, j] - trace.lo[i, j] <= 1e-10 * tr
            assert ag.trace_lower[i, j] == pytest.approx(tr, rel=1e-10)


# ---------------------------------------------------------------------- ribbon logic


def test_is_ribbon_on_hand_made_spectra():
    crit = phase.RibbonCriterion(K=3, q=0.5, eps=0.1)  # ratio q^4 = 1/16
    geometric = 0.1 ** np.arange(8)                    # μ_3/μ_1 = 1e-2, tail 1.1e-3
    flat = np.ones(8)
    borderline = np.array([1.0, 0.5, 1 / 16, 0.0, 0.0])  # μ_3 = ratio·μ_1 exactly, tail 0
    slow_tail = np.array([1.0, 0.05, 0.02] + [0.02] * 10)
    got = phase.is_ribbon(np.array([geometric, flat]), crit)
    assert got.tolist() == [True, False]
    assert bool(phase.is_ribbon(borderline, crit))
    assert not bool(phase.is_ribbon(slow_tail, crit))  # decays, but the tail holds 0.2/1.26 > 0.1


def test_ribbon_certified_with_exact_bounds_decides_everything():
    crit = phase.RibbonCriterion()
    rng = np.random.default_rng(5)
    mus = -np.sort(-rng.lognormal(sigma=3.0, size=(200, 9)), axis=1)
    tr = mus.sum(axis=1)
    proved, excluded = phase.ribbon_certified(mus, mus, tr, crit)
    truth = phase.is_ribbon(mus, crit)
    assert np.array_equal(proved, truth) and np.array_equal(excluded, ~truth)
    assert truth.any() and (~truth).any()


def test_ribbon_certified_with_loose_bounds_decides_nothing():
    mu = 0.2 ** np.arange(6)
    proved, excluded = phase.ribbon_certified(0 * mu, mu.sum() + 0 * mu, mu.sum())
    assert not proved and not excluded


def test_ribbon_certified_uses_tail_bounds():
    crit = phase.RibbonCriterion(K=2, q=0.9, eps=0.1)
    mu = np.array([1.0, 0.5, 0.05, 0.05])
    lo = np.array([1.0, 0.0, 0.0, 0.0])
    up = np.array([1.0, 0.5, 0.5, 0.5])
    tr = mu.sum()
    assert not phase.ribbon_certified(lo, up, tr, crit)[0]
    tails = exact_tails(mu)
    proved, excluded = phase.ribbon_certified(lo, up, tr, crit, tail_upper=tails, tail_lower=tails)
    assert proved and not excluded


def test_analytic_rho_boundaries_bracket_the_exact_boundary():
    d = 40
    lam = spectra.power_law(d, 0.5)
    b = np.ones(d) / math.sqrt(d)
    crit = phase.RibbonCriterion()
    rho_s, rho_n = phase.analytic_rho_boundaries(lam, b, 0.5, 10, crit)
    assert 0 < rho_s <= rho_n < math.inf
    for rho, expect in ((0.9 * rho_s, True), (1.1 * rho_n, False)):
        mu = np.linalg.eigvalsh(cloud.covariance(lam, b, rho, 0.5, 10))[::-1]
        assert bool(phase.is_ribbon(mu, crit)) is expect
        ab = phase.analytic_bounds(lam, b, rho, 0.5, 10)
        proved, excluded = phase.ribbon_certified(ab.lower, ab.upper,
                                                  certify.Enclosure(ab.trace_lower, ab.trace_upper),
                                                  crit, tail_lower=ab.tail_lower, tail_upper=ab.tail_upper)
        assert (bool(proved), bool(excluded)) == (expect, not expect)


def test_plateau_count():
    assert phase.plateau_count(1.0, 0.5, 100) == pytest.approx(100.0)
    np.testing.assert_allclose(phase.plateau_count([1.0, 2.0], 0.5, 100), [100.0, 10.0])


# ---------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(lam=[1.0, -0.1]), "lam"),
        (dict(lam=[1.0, np.nan]), "lam"),
        (dict(b=[1.0]), "b must be a 1-D array of length 2"),
        (dict(b=[1.0, np.inf]), "b must be finite"),
        (dict(s=-1.0), "s must be in"),
        (dict(eta=2.5), "eta must satisfy"),
        (dict(eta=0.0), "eta must be in"),
        (dict(steps=-1), "steps must be an integer >= 0"),
        (dict(steps=2.5), "steps must be an integer"),
    ],
)
def test_bounds_validate_inputs(kwargs, match):
    args = dict(lam=[1.0, 0.5], b=[1.0, 1.0], s=0.1, eta=0.5, steps=10)
    args.update(kwargs)
    for fn in (phase.cloud_spectrum_bounds, phase.analytic_bounds):
        with pytest.raises(ValueError, match=match):
            fn(args["lam"], args["b"], args["s"], args["eta"], args["steps"])


def test_other_validation_errors():
    lam, b = [1.0, 0.5], [1.0, 1.0]
    with pytest.raises(ValueError, match="precision"):
        phase.cloud_spectrum_bounds(lam, b, 0.1, 0.5, 3, precision=8)
    with pytest.raises(ValueError, match="max_rank"):
        phase.analytic_bounds(lam, b, 0.1, 0.5, 3, max_rank=100)
    with pytest.raises(ValueError, match="max_rank"):
        phase.signal_tail_bounds(lam, b, 0.5, 3, max_rank=-1)
    with pytest.raises(ValueError, match="K"):
        phase.RibbonCriterion(K=1)
    with pytest.raises(ValueError, match="q must be in"):
        phase.RibbonCriterion(q=1.0)
    with pytest.raises(ValueError, match="eps must be in"):
        phase.RibbonCriterion(eps=0.0)
    with pytest.raises(ValueError, match="criterion"):
        phase.is_ribbon([1.0, 0.5, 0.1, 0.0], criterion=(4, 0.5, 0.05))
    with pytest.raises(ValueError, match="non-increasing"):
        phase.is_ribbon([0.1, 1.0, 0.5, 0.2])
    with pytest.raises(ValueError, match="at least K"):
        phase.is_ribbon([1.0, 0.5])
    with pytest.raises(ValueError, match="positive sum"):
        phase.is_ribbon(np.zeros(5))
    with pytest.raises(ValueError, match="same shape"):
        phase.ribbon_certified(np.zeros(5), np.zeros(6), 1.0)
    with pytest.raises(ValueError, match="tail_upper"):
        phase.ribbon_certified(np.zeros(5), np.ones(5), 1.0, tail_upper=np.ones(5))
    with pytest.raises(ValueError, match="trace must have the shape"):
        phase.ribbon_certified(np.zeros((2, 5)), np.ones((2, 5)), 1.0)
    with pytest.raises(ValueError, match="alpha"):
        phase.plateau_count(0.0, 0.5, 10)
    with pytest.raises(ValueError, match="eta"):
        phase.plateau_count(1.0, -0.5, 10)
    with pytest.raises(ValueError, match="steps"):
        phase.plateau_count(1.0, 0.5, -3)
    with pytest.raises(ValueError, match="lams"):
        phase.spectra_grid(np.ones((2, 3, 4)), np.ones(4), [0.1], 0.5, 3)
    with pytest.raises(ValueError, match="s_values"):
        phase.bounds_grid(np.ones((2, 4)), np.ones(4), [-0.1], 0.5, 3)
    with pytest.raises(ValueError, match="steps"):
        phase.analytic_bounds_grid(np.ones((2, 4)), np.ones(4), [0.1], 0.5, [3, 4, 5])
    with pytest.raises(ValueError, match="b must not vanish"):
        phase.analytic_rho_boundaries(np.ones(4), np.zeros(4), 0.5, 3)
    with pytest.raises(ValueError, match="d >= K"):
        phase.analytic_rho_boundaries(np.ones(3), np.ones(3), 0.5, 3)
