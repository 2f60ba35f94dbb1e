"""Tests of ribbonlib.phase: the two-sided bounds on the cloud spectrum, the grids and
the
hyper-ribbon criterion."""

from __future__ import annotations

import math
from fractions import Fraction

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
    """Random (lam, b, s, eta, T), including eta*lam > 1 (negative r) and T = 0, 1,
    2."""
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
    assert all(
        m - l <= mpmath.mpf(10) ** -30 * m + tiny for l, m in zip(lo, mu)
    )  # Ritz values: exact
    assert all(
        u <= 3 * m + tiny for m, u in zip(mu, up)
    )  # Weyl upper: within a factor 3


def test_edge_cases_small_T_negative_r_zero_noise_zero_signal():
    lam = np.array([1.0, 0.7, 0.3, 0.05])
    b = np.array([0.5, -1.0, 0.2, 0.0])
    for eta, T, s in [(1.9, 1, 0.3), (1.5, 2, 0.0), (1.0, 3, 1.0), (0.5, 0, 0.2)]:
        C = cloud.covariance(lam, b, s, eta, T)
        mu = np.linalg.eigvalsh(C)[::-1]
        ab = phase.analytic_bounds(lam, b, s, eta, T)
        for lo, up in (
            phase.cloud_spectrum_bounds(lam, b, s, eta, T),
            (ab.lower, ab.upper),
        ):
            assert np.all(lo <= mu) and np.all(mu <= up)
        assert np.all(
            ab.signal_tail[min(T, 4) :] == 0.0
        )  # rank of S is at most min(d, T)
        assert np.all(ab.signal_upper[min(T, 4) :] == 0.0)
    zero = phase.analytic_bounds(lam, np.zeros(4), 0.0, 0.5, 5)
    assert np.all(np.abs(zero.upper) <= 1e-280) and np.all(np.abs(zero.lower) <= 1e-280)
    assert abs(zero.trace_lower) <= 1e-280 and abs(zero.trace_upper) <= 1e-280


def test_eta_lambda_equal_one_gives_r_zero():
    lam = np.array([1.0, 0.5, 0.25])
    b = np.array([1.0, 1.0, 1.0])
    mu = np.linalg.eigvalsh(cloud.covariance(lam, b, 0.1, 1.0, 7))[::-1]
    ab = phase.analytic_bounds(lam, b, 0.1, 1.0, 7)
    for lo, up in (
        phase.cloud_spectrum_bounds(lam, b, 0.1, 1.0, 7),
        (ab.lower, ab.upper),
    ):
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
            mu = np.linalg.eigvalsh(
                cloud.covariance(lams[i], b, s, 0.8, int(steps[i]))
            )[::-1]
            np.testing.assert_allclose(
                grid[i, j], mu, rtol=0, atol=64 * d * U * mu.sum()
            )


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
            for name in (
                "lower",
                "upper",
                "tail_lower",
                "tail_upper",
                "signal_lower",
                "signal_upper",
                "signal_tail",
            ):
                got = getattr(ag, name)[i, j if name[:3] != "sig" else 0]
                np.testing.assert_allclose(
                    got, getattr(ab, name), rtol=1e-12, atol=1e-300
                )
            tr = np.trace(cloud.covariance(lams[i], b, s, 1.2, T))
            assert trace.lo[i, j] <= tr * (1 + 1e-12) and tr <= trace.hi[i, j] * (
                1 + 1e-12
            )
            assert trace.hi[i, j] - trace.lo[i, j] <= 1e-10 * tr
            assert ag.trace_lower[i, j] == pytest.approx(tr, rel=1e-10)


# ---------------------------------------------------------------------- ribbon logic


def test_is_ribbon_on_hand_made_spectra():
    crit = phase.RibbonCriterion(K=3, q=0.5, eps=0.1)  # ratio q^4 = 1/16
    geometric = 0.1 ** np.arange(8)  # μ_3/μ_1 = 1e-2, tail 1.1e-3
    flat = np.ones(8)
    borderline = np.array(
        [1.0, 0.5, 1 / 16, 0.0, 0.0]
    )  # μ_3 = ratio·μ_1 exactly, tail 0
    slow_tail = np.array([1.0, 0.05, 0.02] + [0.02] * 10)
    got = phase.is_ribbon(np.array([geometric, flat]), crit)
    assert got.tolist() == [True, False]
    assert bool(phase.is_ribbon(borderline, crit))
    assert not bool(
        phase.is_ribbon(slow_tail, crit)
    )  # decays, but the tail holds 0.2/1.26 > 0.1


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
    proved, excluded = phase.ribbon_certified(
        lo, up, tr, crit, tail_upper=tails, tail_lower=tails
    )
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
        proved, excluded = phase.ribbon_certified(
            ab.lower,
            ab.upper,
            certify.Enclosure(ab.trace_lower, ab.trace_upper),
            crit,
            tail_lower=ab.tail_lower,
            tail_upper=ab.tail_upper,
        )
        assert (bool(proved), bool(excluded)) == (expect, not expect)


def test_geometric_definition_on_hand_made_spectra():
    """The second definition accepts a textbook sloppy ribbon (widths × 0.7) that the
    first rejects, and rejects a straight line that the first accepts."""
    geo, crit = phase.GeometricCriterion(), phase.RibbonCriterion()
    sloppy = 0.7 ** (2 * np.arange(30))
    line = np.r_[1.0, np.zeros(29)]
    blob = np.r_[np.ones(4), np.full(26, 1e-12)]
    fast = 0.3 ** (2 * np.arange(30))
    collapsed = 0.05 ** (2 * np.arange(30))
    got = phase.is_geometric_ribbon(
        np.array([sloppy, line, blob, fast, collapsed]), geo
    )
    assert got.tolist() == [True, False, False, True, False]
    assert phase.is_ribbon(np.array([sloppy, line]), crit).tolist() == [False, True]
    # at the thresholds, exactly (powers of two): w_(k+1) = q w_k is accepted at both
    # ends
    edge = phase.GeometricCriterion(K=3, q_max=0.5, q_min=0.25)
    assert bool(phase.is_geometric_ribbon(np.array([1.0, 0.25, 0.25**3, 0.0]), edge))
    assert not bool(
        phase.is_geometric_ribbon(np.array([1.0, 0.25, 0.25**3 * 0.99, 0.0]), edge)
    )
    assert not bool(
        phase.is_geometric_ribbon(np.array([1.0, 0.26, 0.26**2, 0.0]), edge)
    )


def test_geometric_certified_decides_with_exact_bounds_and_not_with_loose_ones():
    geo = phase.GeometricCriterion()
    rng = np.random.default_rng(3)
    ratios = rng.uniform(0.0, 1.0, size=(300, 6)) ** 0.5
    mus = np.cumprod(np.c_[np.ones(300), ratios**2], axis=1)
    proved, excluded = phase.geometric_certified(mus, mus, geo)
    truth = phase.is_geometric_ribbon(mus, geo)
    assert truth.any() and (~truth).any()
    assert np.array_equal(proved, truth) and np.array_equal(excluded, ~truth)
    proved, excluded = phase.geometric_certified(0.5 * mus, 2.0 * mus, geo)
    assert not np.any(proved & ~truth) and not np.any(excluded & truth)
    assert np.mean(proved | excluded) < 0.9  # loose bounds decide less


def test_excluded_from_with_exact_rationals():
    """The start of the half-line covered by affine conditions A + x B > 0."""
    rng = np.random.default_rng(11)
    for _ in range(300):
        A = rng.choice([-1.0, 1.0], 4) * rng.uniform(0.1, 2.0, 4)
        B = rng.choice([-1.0, 1.0, 0.0], 4, p=[0.45, 0.45, 0.1]) * rng.uniform(
            0.1, 2.0, 4
        )
        x0 = phase._excluded_from(A, B)
        covered = lambda t: any(
            Fraction(a) + t * Fraction(bb) > 0 for a, bb in zip(A, B)
        )
        if math.isinf(x0):
            assert not covered(Fraction(10**6))
            continue
        top = max(10.0, 4.0 * x0)
        grid = [
            Fraction(x0) + (Fraction(top) - Fraction(x0)) * Fraction(k, 64)
            for k in range(1, 65)
        ]
        assert all(covered(t) for t in grid) and covered(Fraction(10**9))
        if x0 > 0:  # just below x0 some point is not covered
            assert not covered(Fraction(x0) * (1 - Fraction(1, 10**9)))


def test_sgd_bounds_reduce_to_gradient_descent_for_large_batches():
    """B → ∞: the SGD parts vanish and the bounds approach those of gradient descent."""
    d = 12
    lam = spectra.power_law(d, 2.0)
    b = np.ones(d) / math.sqrt(d)
    gd = phase.analytic_bounds(lam, b, 0.05, 0.2, 60)
    big = phase.sgd_analytic_bounds(lam, b, 0.05, 0.2, 10**9, 60)
    np.testing.assert_allclose(big.lower[:4], gd.lower[:4], rtol=1e-6)
    np.testing.assert_allclose(big.upper[:4], gd.upper[:4], rtol=1e-6)
    rs_gd = phase.analytic_rho_boundaries(lam, b, 0.2, 60)
    rs_big = phase.sgd_rho_boundaries(lam, b, 0.2, 10**9, 60)
    np.testing.assert_allclose(rs_big, rs_gd, rtol=1e-5)
    # label noise only ever adds variance: the trace grows by sigma^2 tr(phi_eps)
    noisy = phase.sgd_analytic_bounds(lam, b, 0.05, 0.2, 4, 60, label_noise=0.3)
    clean = phase.sgd_analytic_bounds(lam, b, 0.05, 0.2, 4, 60)
    assert noisy.trace_lower > clean.trace_upper


def test_geometric_certified_needs_the_upper_bound_of_the_next_width():
    """A loose lower bound on the later widths proves nothing: the decay of the widths
    is certified by the upper bounds, their resolution by the lower ones."""
    geo = phase.GeometricCriterion()
    fat = np.array([1.0, 0.9, 0.8, 0.7, 0.6])  # ratios above q_max: not a ribbon
    for q_min in (0.0, 0.1):
        lo = fat * 10.0 ** -np.arange(5)
        proved, _ = phase.geometric_certified(
            lo, fat, phase.GeometricCriterion(q_min=q_min)
        )
        assert not proved
    thin = np.array([1.0, 1e-3, 1e-6, 1e-9, 1e-12])  # ratios below q_min: not a ribbon
    proved, excluded = phase.geometric_certified(thin, thin * 1e3, geo)
    assert not proved


def test_poincare_lower_bound_with_a_basis_far_from_orthonormal():
    """μ_m(C) >= λ_m(WᵀCW)/λ_max(WᵀW): with W = 2Q the compressed matrix is 4 QᵀCQ and
    the bound must divide by 4 (Ostrowski), not multiply."""
    rng = np.random.default_rng(2)
    A = rng.standard_normal((6, 6))
    S = A @ A.T
    mu = np.linalg.eigvalsh(S)[::-1]
    Q, _ = np.linalg.qr(rng.standard_normal((6, 3)))
    zero = np.zeros((1, 6))
    for scale in (1.0, 2.0, 0.5):
        lo, _ = phase._poincare_lower(S, 0.0, zero, zero, zero, scale * Q)
        assert np.all(lo[0] <= mu[:3] * (1 + 1e-12))
    full, _ = phase._poincare_lower(S, 0.0, zero, zero, zero, np.linalg.qr(A)[0])
    np.testing.assert_allclose(
        full[0], mu, rtol=1e-9
    )  # orthonormal and complete: tight


def test_ritz_block_lower_bound_with_scaled_ritz_vectors():
    """The affine bound on μ_K from the first K Ritz vectors divides by λ_max(WᵀW):
    with W = 1.2 q (q the top eigenvector of S, K = 1) it must still be below μ_1."""
    d = 6
    lam = spectra.power_law(d, 1.0)
    b = np.ones(d) / math.sqrt(d)
    S, E, n = phase._gd_parts(lam, b, 0.5, 20)
    sig = phase._explicit_signal(S, E, d, 32)
    w = np.linalg.eigvalsh(S + np.diag(n[0]))
    sig = dict(sig, Y=1.2 * np.linalg.eigh(S)[1][:, -1:])
    (A, B_), = phase._ritz_block_lower(sig, n[1], 1)
    assert A[0] + B_[0] <= w[-1] * (1 + 1e-12)   # x = 1: C = S + diag(n)
    assert A[0] >= 0.99 * np.linalg.eigvalsh(S)[-1]   # and tight


def test_rho_boundaries_shrink_when_any_enclosure_widens():
    """Every input of the formulas enters at its safe end: widening one enclosure (a
    lower end down or an upper end up, by 20%) can only lower ρ_suff and raise ρ_nec,
    and each end that binds on this problem moves them."""
    d = 30
    lam = spectra.power_law(d, 1.5)
    b = np.ones(d) / math.sqrt(d)
    crit = phase.RibbonCriterion()
    S, E, n = phase._gd_parts(lam, b, 0.5, 100)
    sig = phase._explicit_signal(S, E, d, 32)
    base = phase._rho_boundaries(sig, n, 1.0, crit)
    assert 0 < base[0] <= base[1] < math.inf
    wider = {
        "trS_lo": 0.8,
        "trS_hi": 1.2,
        "sig_lo": 0.8,
        "sig_up": 1.2,
        "tail_lo": 0.8,
        "tail_up": 1.2,
        "var_lo": 0.8,
        "ray_lo": 0.8,
        "head_lo": 0.8,
        "one_f": 1.2,
        "n_lo": 0.8,
        "n_hi": 1.2,
    }
    moved = set()
    for key, f in wider.items():
        sig2, n2 = dict(sig), tuple(n)
        if key == "n_lo":
            n2 = (n[0], n[1] * f, n[2])
        elif key == "n_hi":
            n2 = (n[0], n[1], n[2] * f)
        else:
            sig2[key] = sig[key] * f
        got = phase._rho_boundaries(sig2, n2, 1.0, crit)
        assert got[0] <= base[0] and got[1] >= base[1], key
        if got != base:
            moved.add(key)
    assert {"trS_lo", "trS_hi", "tail_lo", "head_lo", "one_f", "n_lo", "n_hi"} <= moved


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
    with pytest.raises(ValueError, match="pivots"):
        phase.analytic_bounds(lam, b, 0.1, 0.5, 3, pivots=0)
    with pytest.raises(ValueError, match="pivots"):
        phase.analytic_rho_boundaries(lam, b, 0.5, 3, pivots=1.5)
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
    with pytest.raises(ValueError, match="q_max"):
        phase.GeometricCriterion(q_max=1.0)
    with pytest.raises(ValueError, match="q_min"):
        phase.GeometricCriterion(q_max=0.5, q_min=0.5)
    with pytest.raises(ValueError, match="criterion"):
        phase.is_geometric_ribbon([1.0, 0.5, 0.1, 0.0], phase.RibbonCriterion())
    with pytest.raises(ValueError, match=">= 0"):
        phase.is_geometric_ribbon([1.0, 0.5, 0.1, -0.1])
    with pytest.raises(ValueError, match="same shape"):
        phase.geometric_certified(np.zeros(5), np.zeros(6))
    with pytest.raises(ValueError, match="label_noise"):
        phase.sgd_analytic_bounds(lam, b, 0.1, 0.1, 2, 3, label_noise=-1.0)
    with pytest.raises(ValueError, match="batch_size"):
        phase.sgd_rho_boundaries(np.ones(4), np.ones(4), 0.1, 0, 3)
    with pytest.raises(ValueError, match="b must not vanish"):
        phase.sgd_rho_boundaries(np.ones(4), np.zeros(4), 0.1, 2, 3)


def test_ribbon_certified_uses_each_tail_route_on_its_own():
    """Each of the two bounds on the tail decides when the trace is known only loosely:
    the sum of the upper bounds of the tail keeps a heavy tail from being proved a
    ribbon and proves a light one (the trace's upper end far off), the sum of its lower
    bounds excludes a heavy tail and not a light one (the trace's lower end 0). Exact
    spectrum 1, 1/2, 1/10, 1/100 and twenty modes of 1/100 (heavy: the tail 1/5 is more
    than eps = 5% of the trace 1.81) or of 1e-4 (light); the decay condition holds in
    both (1/100 <= q^6 = 1/64)."""
    crit = phase.RibbonCriterion(K=4, q=0.5, eps=0.05)
    for tail, heavy in ((0.01, True), (1e-4, False)):
        lam = np.r_[1.0, 0.5, 0.1, 0.01, np.full(20, tail)]
        tr = float(np.sum(lam))
        far_above = certify.Enclosure(np.array(tr), np.array(1e3))
        proved, _ = phase.ribbon_certified(lam, lam, far_above, crit)
        assert proved == (not heavy)
        from_zero = certify.Enclosure(np.array(0.0), np.array(tr))
        _, excluded = phase.ribbon_certified(lam, lam, from_zero, crit)
        assert excluded == heavy


def test_squared_bounds_move_an_exact_square_by_one_rounding_allowance():
    """For ratios whose squares are floats (0.5, 0.75, 0.375) the bounds on ``q²``
    enclose it (exact fractions) and lie exactly ``(2k + 2) u q²`` from it with k = 1,
    the allowance of :func:`phase._up` for the one rounding of the product."""
    for q_max, q_min in ((0.5, 0.375), (0.75, 0.5), (0.375, 0.0)):
        got = phase.GeometricCriterion(K=2, q_max=q_max, q_min=q_min).squared_bounds()
        for (lo, hi), q in zip((got[:2], got[2:]), (q_max, q_min)):
            sq = Fraction(q) ** 2
            assert Fraction(lo) <= sq <= Fraction(hi)
            if q == 0.0:
                assert 0 < hi <= 2.0**-900 and -(2.0**-900) <= lo < 0
                continue
            assert sq - Fraction(lo) <= 4 * Fraction(U) * sq + Fraction(2) ** -960
            assert Fraction(hi) - sq <= 4 * Fraction(U) * sq + Fraction(2) ** -960


def test_geometric_certified_decides_a_few_roundings_from_its_thresholds():
    """Exact bounds (lower = upper) a relative 9 or 10 u past a threshold ``q²μ_k``
    (``q² = 1/4`` or ``1/16``, exact) are decided: the certified comparison gives up
    only the two roundings it bounds (``q²`` and the product, ``4u`` each, see
    ``_down``), so a gap above ``8u`` plus one rounding of the float is decided. The
    verdicts agree with :func:`phase.is_geometric_ribbon` on the exact spectra."""
    crit = phase.GeometricCriterion(K=2, q_max=0.5, q_min=0.25)
    cases = [
        (np.array([1.0, 0.25 * (1 - 9 * U)]), True),  # just below q_max² μ_1
        (np.array([1.0, 0.25 * (1 + 10 * U)]), False),  # just above q_max² μ_1
        (np.array([1.0, 0.0625 * (1 + 10 * U)]), True),  # just above q_min² μ_1
        (np.array([1.0, 0.0625 * (1 - 9 * U)]), False),  # just below q_min² μ_1
    ]
    for mu, ribbon in cases:
        assert bool(phase.is_geometric_ribbon(mu, crit)) == ribbon
        proved, excluded = phase.geometric_certified(mu, mu, crit)
        assert (bool(proved), bool(excluded)) == (ribbon, not ribbon), mu


def test_poincare_lower_bound_holds_for_every_signal_within_its_error():
    """The lower bound must hold for every ``S_exact`` with ``||S_exact − S||_2 <=
    eS``; ``S_exact = S − eS·I`` lowers every eigenvalue by ``eS`` (and stays ⪰ 0 here:
    the spectrum of ``S`` is 1..10, ``eS = 1/2``). With ``W`` = 1.1 or 2 times the top
    eigenvector of ``S`` (one column, so ``||WᵀW − I||`` is the same in every norm)
    Poincaré and Ostrowski are tight, and the bound must stay below ``μ_1(S − eS·I)``
    (mpmath, 30 digits) and within 1e-9 of it."""
    rng = np.random.default_rng(5)
    Q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    S = (Q * np.linspace(10.0, 1.0, 6)) @ Q.T
    S = (S + S.T) / 2
    eS = 0.5
    with mpmath.workdps(30):
        Sm = mpmath.matrix(S.tolist()) - eS * mpmath.eye(6)
        mu1 = max(mpmath.eigsy(Sm, eigvals_only=True))
    top = np.linalg.eigh(S)[1][:, -1:]
    zero = np.zeros((1, 6))
    for scale in (1.1, 2.0):
        lo, _ = phase._poincare_lower(S, eS, zero, zero, zero, scale * top)
        assert mpmath.mpf(lo[0][0]) <= mu1
        assert lo[0][0] >= float(mu1) * (1 - 1e-9)


def test_explicit_signal_head_bounds_below_the_ky_fan_sums():
    """``head_lo[j] <= Σ_{i<=j} σ_i(S)`` for an exactly known ``S`` (``E = 0``) with
    positive entries, against the eigenvalues at 40 digits (mpmath). Here the Ritz
    vectors are positive where ``S`` is, the round-off allowance of the Rayleigh
    quotients is tight, and the Ky Fan factor ``1 + f`` (``f >= ||YᵀY − I||``) is
    what keeps the bound below the sums."""
    rng = np.random.default_rng(1)
    for d in (4, 8, 12):
        A = rng.uniform(0.0, 1.0, (d, d))
        S = A @ A.T
        S = (S + S.T) / 2
        sig = phase._explicit_signal(S, np.zeros((d, d)), d, 32)
        with mpmath.workdps(40):
            ev = mpmath.eigsy(mpmath.matrix(S.tolist()), eigvals_only=True)
            ev = sorted(ev, reverse=True)
            ky = [mpmath.fsum(ev[:j]) for j in range(d + 1)]
            assert all(mpmath.mpf(x) <= k for x, k in zip(sig["head_lo"], ky))
        assert sig["head_lo"][d] >= float(ky[d]) * (1 - 1e-9)  # and tight


def test_explicit_cloud_lower_bound_on_mu1_is_at_least_the_largest_diagonal():
    """``μ_1(C) >= max_k C_kk`` is one of the documented routes of the lower bound on
    ``μ_1``: the bound must be at least ``max_k ((S_kk − E_kk) + s² n̂lo_k)`` (exact
    fractions from the float signal, its entrywise error and the noise bounds), less
    its outward roundings (six roundings and ``_down``, at most 5u each: 32u relative)
    and the eigensolver allowance ``4 d u tr_hi`` that every bound is widened by. Where
    the noise dominates (s = 1000, T = 1) this route is the best one."""
    crit_u, tiny = 32 * Fraction(U), Fraction(2) ** -956
    for d in (2, 5, 20):
        lam = spectra.power_law(d, 1.0)
        b = np.ones(d) / math.sqrt(d)
        for s, T in ((1000.0, 1), (10.0, 5), (0.0, 100)):
            S, E, n = phase._gd_parts(lam, b, 0.5, T)
            sig = phase._explicit_signal(S, E, min(d, T), 32)
            s_arr = np.array([s])
            lower, _, _, _, _, _, trace_hi = phase._explicit_cloud(sig, n, s_arr)
            s2 = Fraction(s) ** 2
            diag = max(
                Fraction(S[k, k]) - Fraction(E[k, k]) + s2 * Fraction(n[1][k])
                for k in range(d)
            )
            allow = 4 * d * Fraction(U) * Fraction(trace_hi[0]) * (1 + crit_u)
            assert Fraction(lower[0, 0]) >= diag * (1 - crit_u) - allow - tiny


def test_analytic_bounds_float_trace_is_the_trace_of_the_cloud():
    """``trace`` is ``tr C`` in float64: against ``np.trace`` of the covariance from
    :mod:`ribbonlib.cloud` (signal plus ``s²`` times the noise), to 1e-12 relative, at
    scales where the noise is most of the trace, and inside the rigorous ends."""
    lam, b = np.array([2.0, 1.0, 0.3, 0.05]), np.array([1.0, -0.5, 2.0, 1.0])
    eta, T = 0.4, 7
    for s in (0.1, 1.0, 10.0):
        ab = phase.analytic_bounds(lam, b, s, eta, T)
        tr = np.trace(cloud.covariance(lam, b, s, eta, T))
        assert ab.trace == pytest.approx(tr, rel=1e-12)
        assert ab.trace_lower * (1 - 1e-14) <= ab.trace <= ab.trace_upper * (1 + 1e-14)


def test_mp_eig_enclosure_gives_up_when_orthonormality_is_not_proved():
    """With a round-off bound ``u`` so pessimistic that ``f >= ||YᵀY − I||`` reaches
    1/2 (``(p + 2) u ||(|Y|ᵀ|Y|)||_F >= 4·0.1·√2``), Ostrowski's factor cannot be
    bounded and each eigenvalue gets the trivial enclosure ``(−inf, inf)``; with the
    working precision's ``u`` the enclosure is finite and holds the eigenvalues."""
    with mpmath.workdps(30):
        H = np.array([[mpmath.mpf(2), mpmath.mpf(1)], [mpmath.mpf(1), mpmath.mpf(3)]],
                     dtype=object)
        lo, hi, _ = phase._mp_eig_enclosure(H, mpmath.mpf(0), mpmath.mpf("0.1"))
        assert list(lo) == [mpmath.ninf] * 2 and list(hi) == [mpmath.inf] * 2
        lo, hi, _ = phase._mp_eig_enclosure(H, mpmath.mpf(0), mpmath.mpf(10) ** -30)
        ev = [(5 + mpmath.sqrt(5)) / 2, (5 - mpmath.sqrt(5)) / 2]
        assert all(lo[i] <= ev[i] <= hi[i] for i in range(2))
        assert all(mpmath.isfinite(x) for x in list(lo) + list(hi))


def test_ribbon_certified_decay_test_charges_one_rounding():
    """``excluded`` by decay, ``lower_K > R upper_1``, with ``upper_1 = 1`` (the product
    with the upper end ``r_hi`` of ``R`` is then exact): the comparison is against
    ``r_hi`` widened by one rounding, ``(2·1 + 2) u`` as in ``_up``, so the first float
    at or above ``r_hi (1 + 5u)`` (exact fractions) is excluded, and ``r_hi`` itself is
    not."""
    crit = phase.RibbonCriterion(K=4, q=0.5, eps=0.1)
    r_hi = crit.ratio_bounds[1]
    target = Fraction(r_hi) * (1 + 5 * Fraction(U))
    lo_K = float(target)  # the first float at or above target
    if Fraction(lo_K) < target:
        lo_K = math.nextafter(lo_K, math.inf)
    assert Fraction(lo_K) <= Fraction(r_hi) * (1 + 6 * Fraction(U))
    for lk, want in ((lo_K, True), (r_hi, False)):
        lower = np.array([1.0, lk, lk, lk])
        _, excluded = phase.ribbon_certified(lower, lower, lower.sum(), crit)
        assert bool(excluded) is want


def test_rho_nec_lies_inside_the_pointwise_exclusions_near_parallel_decay():
    """A zero signal and unit noise ``n̂ = (1, 1/2, 1/2, c)``: ``μ_K/μ_1 = c`` at
    every scale. With ``c`` above ``R`` by a relative 1e-14, less than the eigensolver
    allowance ``4·d·u·tr C`` that :func:`analytic_bounds` adds, the point-by-point
    bounds never exclude, and ρ_nec must not claim otherwise; with ``c = 2R`` they do.
    Checked against ``_explicit_cloud`` (the bounds of :func:`analytic_bounds`) with
    :func:`phase.ribbon_certified` at 2 and 10 times ρ_nec (``|b| = 1``)."""
    crit = phase.RibbonCriterion(K=4, q=0.5, eps=0.1)
    r_hi = crit.ratio_bounds[1]
    zero = np.zeros((4, 4))
    sig = phase._explicit_signal(zero, zero, 0, 32)
    nec = {}
    for gap in (1e-14, 1.0):
        unit = np.array([1.0, 0.5, 0.5, r_hi * (1 + gap)])
        n = (unit, unit.copy(), unit.copy())
        _, rho_nec = phase._rho_boundaries(sig, n, 1.0, crit)
        nec[gap] = rho_nec
        if math.isinf(rho_nec):
            continue
        for rho in (2 * rho_nec, 10 * rho_nec):
            lo, up, _, t_lo, t_up, tr_lo, tr_hi = phase._explicit_cloud(
                sig, n, np.array([rho])
            )
            _, excluded = phase.ribbon_certified(
                lo[0], up[0], certify.Enclosure(tr_lo[0], tr_hi[0]), crit,
                tail_lower=t_lo[0], tail_upper=t_up[0],
            )
            assert excluded, (gap, rho)
    assert math.isfinite(nec[1.0])
