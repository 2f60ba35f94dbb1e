"""Tests of ribbonlib.boundaries: the formal asymptotics of chapter 5's phase
boundaries.

The formulas are leading-order asymptotics, not bounds; the tests check each against an
independent evaluation of what it approximates (quadrature of the integrals, the exact
sums it replaces, the exact spectra in the regime it claims), with the error the
asymptotics predict.
"""

from __future__ import annotations

import math
import warnings

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ribbonlib import boundaries, cloud, phase, sgd, spectra


def _V(x):
    with mpmath.extradps(10 + max(0, int(-2 * mpmath.log10(x)))):
        return -mpmath.expm1(-2 * x) / (2 * x) - (mpmath.expm1(-x) / x) ** 2


@settings(max_examples=5)
@given(st.floats(0.4, 3.5))
def test_scale_integrals_against_quadrature(alpha):
    """I_S and I_N by mpmath quadrature (20 digits, the algebraic tails beyond 60 in
    closed form), within the quadrature's own error estimate."""
    i_s, i_n = boundaries.scale_integrals(alpha)
    with mpmath.workdps(20):
        g = 1 / mpmath.mpf(alpha)
        X = mpmath.mpf(60)
        # on [0, 1] x = u^4 removes the singularity x^(2 - gamma) of the integrand
        near, e0 = mpmath.quad(
            lambda u: 4 * u**3 * (u**4) ** (-g) * _V(u**4), [0, 1], error=True
        )
        far, e1 = mpmath.quad(lambda x: x ** (-g) * _V(x), [1, 10, X], error=True)
        head, e1 = near + far, e0 + e1
        rest, e2 = mpmath.quad(
            lambda x: x ** (-g)
            * (
                -mpmath.exp(-2 * x) / (2 * x)
                + (2 * mpmath.exp(-x) - mpmath.exp(-2 * x)) / x**2
            ),
            [X, mpmath.inf],
            error=True,
        )
        ref_s = head + X ** (-g) / (2 * g) - X ** (-g - 1) / (g + 1) + rest
        assert abs(i_s - float(ref_s)) <= float(e1 + e2) + 1e-12 * abs(i_s)
        if alpha > 1:
            f = lambda x: x ** (-g) * (-mpmath.expm1(-2 * x)) / (2 * x)
            # on [0, 1]: the power series of (1 - e^(-2x))/(2x) integrated term by term
            series = mpmath.fsum(
                (-2) ** j / (mpmath.factorial(j + 1) * (j + 1 - g)) for j in range(60)
            )
            far, e1 = mpmath.quad(f, [1, 10, X], error=True)
            head, e1 = series + far, e1 + 2**60 / mpmath.factorial(61)
            rest, e2 = mpmath.quad(
                lambda x: -(x ** (-g)) * mpmath.exp(-2 * x) / (2 * x),
                [X, mpmath.inf],
                error=True,
            )
            ref_n = head + X ** (-g) / (2 * g) + rest
            assert abs(i_n - float(ref_n)) <= float(e1 + e2) + 1e-12 * abs(i_n)
        else:
            assert i_n == math.inf


@pytest.mark.parametrize("alpha", [0.5, 1.0])
def test_scale_integrals_at_the_removable_singularities(alpha):
    """γ = 1/α integer: the averaged Gamma form equals the neighbours' limit."""
    i_s = boundaries.scale_integrals(alpha)[0]
    near = [boundaries.scale_integrals(alpha * (1 + h))[0] for h in (-1e-7, 1e-7)]
    assert i_s == pytest.approx(sum(near) / 2, rel=1e-10)


@pytest.mark.parametrize("alpha", [np.nextafter(1 / 3, 1), (1 + 1e-14) / 3, (1 + 1e-9) / 3])
def test_scale_integrals_near_the_pole_at_one_third(alpha):
    """γ = 1/α → 3: I_S = 1/(12(3 − γ)) + R. On [0, 1], 0 ≤ x²/12 − V(x) ≤ x³/12 (the
    alternating series x²/12 − x³/12 + 17x⁴/360 − …), and on [1, ∞) 0 ≤ V(x) ≤ 1/(2x),
    so |R| ≤ 1/(12(4 − γ)) + 1/(2γ) < 1/4. Averaging the Gamma form across the pole
    (γ ± 10^-15 straddling 3) gave a negative I_S at the first α."""
    i_s, i_n = boundaries.scale_integrals(alpha)
    assert i_n == math.inf
    with mpmath.workdps(40):
        gap = 3 - 1 / mpmath.mpf(float(alpha))
        lead = 1 / (12 * gap)
    assert i_s > 0
    assert abs(i_s - float(lead)) <= 0.25 + 4e-16 * i_s


@pytest.mark.parametrize("alpha", [1e6, 1e13, 1e300])
def test_scale_integrals_near_the_pole_at_zero(alpha):
    """γ = 1/α → 0: I_N = 1/(2γ) + R_N with |R_N| ≤ 1/(1 − γ) + e^(−2)/4 (the integrand
    is at most x^(−γ) on [0, 1]; on [1, ∞) it is x^(−γ)/(2x) less at most e^(−2x)/(2x)),
    and I_N − I_S = ∫ x^(−γ)((1 − e^(−x))/x)² dx ≤ 1/(1 − γ) + 1/(1 + γ). Averaging the
    Gamma form over γ ± 10^-15 gave a relative error 10^-4 at α = 10^13."""
    i_s, i_n = boundaries.scale_integrals(alpha)
    g = 1 / alpha
    r_n = 1 / (1 - g) + math.exp(-2) / 4
    half = 1 / (2 * g)
    assert abs(i_n - half) <= r_n + 4e-16 * half
    assert abs(i_s - half) <= r_n + 1 / (1 - g) + 1 / (1 + g) + 4e-16 * half


@settings(max_examples=40)
@given(
    st.one_of(
        st.floats(0.0, 300.0).map(lambda e: 10.0**e / 3.0),  # spread over the domain
        st.floats(1e-16, 1e-3).map(lambda h: (1.0 + h) / 3.0),  # the pole γ → 3
        st.tuples(st.sampled_from([0.5, 1.0]), st.floats(-1e-9, 1e-9)).map(
            lambda ah: ah[0] * (1 + ah[1])  # the removable singularities γ = 2, 1
        ),
    ).filter(lambda a: a > 1.0 / 3.0)
)
def test_scale_integrals_bracket_on_the_whole_domain(alpha):
    """Every α > 1/3 (γ = 1/α ∈ (0, 3)), the poles and the removable singularities
    included: with 0 ≤ x²/12 − V(x) ≤ x³/12 on [0, 1] and 0 ≤ V(x) ≤ 1/(2x) on
    [1, ∞), 1/(12(3 − γ)) − 1/(12(4 − γ)) ≤ I_S ≤ 1/(12(3 − γ)) + 1/(2γ), each side
    widened by the relative rounding 4e-16 of the float results and of the bracket."""
    i_s, i_n = boundaries.scale_integrals(alpha)
    with mpmath.workdps(40):
        g = 1 / mpmath.mpf(float(alpha))
        low = float(1 / (12 * (3 - g)) - 1 / (12 * (4 - g)))
        high = float(1 / (12 * (3 - g)) + 1 / (2 * g))
    assert low * (1 - 4e-16) <= i_s <= high * (1 + 4e-16)
    if alpha > 1:
        assert i_s <= i_n  # V(x) <= (1 − e^(−2x))/(2x)
    else:
        assert i_n == math.inf


@pytest.mark.parametrize("X", [3.0, 30.0, 400.0])
def test_log_scale_integrals_against_quadrature(X):
    j_s, j_n = boundaries.log_scale_integrals(X)
    with mpmath.workdps(25):
        ref_n = mpmath.quad(lambda x: -mpmath.expm1(-2 * x) / (2 * x), [0, 1, X])
        ref_s = mpmath.quad(_V, [0, 1, X])
    assert abs(j_n - float(ref_n)) <= math.exp(-2 * X) / X + 1e-14
    assert abs(j_s - float(ref_s)) <= 1 / X + math.exp(-2 * X) / X + 1e-14


def test_rho_c_is_the_boundary_of_the_scales_it_balances():
    """The gradient-flow scales of eq-phase-scales put the variance boundary at rho_c:
    eps (tr S + x tr n) = x (tr n - K n_plat) there, with the integrals as sums."""
    crit = phase.RibbonCriterion()
    for alpha, T in [(1.75, 1000), (2.25, 500)]:
        eta = 0.05
        rc = boundaries.rho_c("power", alpha, eta, T, crit)
        i_s, i_n = boundaries.scale_integrals(alpha)
        scale = (eta * T) ** (1 / alpha - 1) / alpha
        trS, trN, plat = scale * i_s, scale * i_n, 1 / (2 * eta * T)
        x = rc**2
        assert crit.eps * (trS + x * trN) == pytest.approx(
            x * (trN - crit.K * plat), rel=1e-12
        )
    j_s, j_n = boundaries.log_scale_integrals(0.05 * 800)
    rc = boundaries.rho_c("exponential", 0.8, 0.05, 800, crit)
    L = math.log(1 / 0.8)
    assert crit.eps * (j_s + rc**2 * j_n) == pytest.approx(
        rc**2 * (j_n - crit.K * L / 2), rel=1e-12
    )
    assert boundaries.rho_c("power", 2.0, 0.5, 1, crit) == math.inf  # no plateau yet


def test_rho_c_against_the_exact_boundary_in_its_regime():
    """K << N_plat << d, eta*lambda_1 small: within the a priori error of chapter 5
    (about 1/N_plat, here under 10%)."""
    d, eta, T = 400, 0.05, 1000
    crit = phase.RibbonCriterion()
    lam = spectra.power_law(d, 2.0)
    b = np.ones(d) / math.sqrt(d)
    rho_s, rho_n = phase.analytic_rho_boundaries(lam, b, eta, T, crit)
    rc = boundaries.rho_c("power", 2.0, eta, T, crit)
    assert abs(rc / math.sqrt(rho_s * rho_n) - 1) < 0.1


def test_steps_low_edge_balances_the_scales():
    """At T_-, (1 - eps) rho^2 d^(-alpha)/(1 - alpha) = eps (eta T)^(1/alpha - 1)
    I_S/(alpha)."""
    crit = phase.RibbonCriterion()
    cases = [(0.5, 0.1, 100), (0.6, 0.03, 10**4), (0.8, 0.2, 50), (0.7, 0.1, 1)]
    for alpha, rho, d in cases:
        T = boundaries.steps_low_edge(alpha, rho, 0.5, d, crit)
        i_s = boundaries.scale_integrals(alpha)[0]
        noise = (1 - crit.eps) * rho**2 * d ** (-alpha) / (1 - alpha)
        signal = crit.eps * (0.5 * T) ** (1 / alpha - 1) * i_s / (alpha * d)
        assert noise == pytest.approx(signal, rel=1e-10)


def test_steps_low_edge_against_the_exact_edge_in_its_regime():
    """eta T << d^alpha and the sums close to the integrals: d large, alpha = 0.6; the
    exact variance condition changes within a factor 2 of T_-."""
    d, alpha, eta = 2000, 0.6, 0.5
    crit = phase.RibbonCriterion()
    rho = 0.03
    T_m = boundaries.steps_low_edge(alpha, rho, eta, d, crit)
    lam = spectra.power_law(d, alpha)
    b = np.ones(d) / math.sqrt(d)

    def variance_ok(T):
        """(1 - eps) rho^2 tr n <= eps tr S with the exact diagonal sums (the
        closed forms of G_kk and m_k; no mode is slow enough here to cancel)."""
        r, n = 1 - eta * lam, T + 1
        G = (1 - r ** (2 * n)) / (n * (1 - r**2))
        m = (1 - r**n) / (n * (1 - r))
        trS = float(np.sum(lam * b**2 * (G - m**2)))
        return (1 - crit.eps) * rho**2 * float(np.sum(lam * G)) / d <= crit.eps * trS

    assert 10 < T_m < d**alpha / eta / 4
    assert not variance_ok(int(T_m / 2)) and variance_ok(int(2 * T_m))


def test_steps_high_edge_scales_as_one_over_eta_lambda_1():
    """T_+ = e^(pi^2/(2 log(1/q)))/(4 eta lambda_1) with lambda_1 != 1 and eta != 1/2:
    the formula evaluated directly (q = 1/2, lambda_1 = 3, eta = 0.1)."""
    lam = 3.0 * spectra.exponential(120, 0.8)
    crit = phase.RibbonCriterion(q=0.5)
    T_p = boundaries.steps_high_edge(lam, 0.1, crit)
    ref = math.exp(math.pi**2 / (2 * math.log(2))) / (4 * 0.1 * 3.0)
    assert T_p == pytest.approx(ref, rel=1e-14)


def test_steps_high_edge():
    """The effective Zolotarev spread: T_+ = e^(pi^2/(2 log(1/q)))/(4 eta lambda_1),
    absent
    when the spectrum is narrower; and the exact signal of an exponential spectrum fails
    the decay condition within a factor 3 of it (for K = 3, 4, 6)."""
    lam = spectra.exponential(120, 0.8)
    crit = phase.RibbonCriterion(q=0.5)
    T_p = boundaries.steps_high_edge(lam, 0.5, crit)
    assert T_p == pytest.approx(math.exp(math.pi**2 / (2 * math.log(2))) / 2, rel=1e-14)
    assert (
        boundaries.steps_high_edge(spectra.power_law(100, 1.0), 0.5, crit) == math.inf
    )
    b = np.ones(120) / math.sqrt(120)
    for K in (3, 4, 6):
        c = phase.RibbonCriterion(K=K, q=0.5)
        ratio = lambda T: (lambda s: s[K - 1] / s[0])(
            np.linalg.eigvalsh(cloud.signal_covariance(lam, b, 0.5, T))[::-1]
        )
        assert ratio(int(T_p / 3)) <= c.ratio < ratio(int(3 * T_p))


def test_sgd_rho_c_reduces_to_gradient_descent_and_grows_with_the_floor():
    d = 32
    lam = spectra.power_law(d, 2.0)
    b = np.ones(d) / math.sqrt(d)
    crit = phase.RibbonCriterion()
    r0 = boundaries.sgd_rho_c(lam, b, 0.1, 4, 400, 0.0, crit)
    s, n = phase.signal_and_noise(lam, b, 1.0, 0.1, 400)
    n = np.sort(n)[::-1]
    ref = math.sqrt(
        crit.eps * np.trace(s) / ((1 - crit.eps) * n.sum() - n[: crit.K].sum())
    )
    assert r0 == pytest.approx(ref, rel=1e-12)
    steep = spectra.power_law(d, 3.5)
    floors = [
        boundaries.sgd_rho_c(steep, b, 0.1, 4, 400, nz, crit) for nz in (0.0, 0.1, 1.0)
    ]
    assert floors[0] < floors[1] < floors[2]  # a sloppy floor extends the ribbon
    assert (
        boundaries.sgd_rho_c(lam, b, 0.1, 4, 400, 1.0, crit) == 0.0
    )  # here it spreads
    # the stationary floor it uses is the library's
    p = sgd.stationary_floor(lam, 0.1, 4, 1.0)
    assert np.all(p > 0)


def test_validation():
    with pytest.raises(ValueError, match="alpha"):
        boundaries.scale_integrals(0.3)
    with pytest.raises(ValueError, match="progress"):
        boundaries.log_scale_integrals(0.0)
    with pytest.raises(ValueError, match="family"):
        boundaries.rho_c("gaussian", 2.0, 0.5, 10)
    with pytest.raises(ValueError, match="decay"):
        boundaries.rho_c("power", 1.0, 0.5, 10)
    with pytest.raises(ValueError, match="decay"):
        boundaries.rho_c("exponential", 1.0, 0.5, 10)
    with pytest.raises(ValueError, match="steps"):
        boundaries.rho_c("power", 2.0, 0.5, 0)
    with pytest.raises(ValueError, match="criterion"):
        boundaries.rho_c("power", 2.0, 0.5, 10, criterion=(4, 0.5, 0.05))
    with pytest.raises(ValueError, match="alpha"):
        boundaries.steps_low_edge(1.0, 0.1, 0.5, 100)
    with pytest.raises(ValueError, match="rho"):
        boundaries.steps_low_edge(0.5, 0.0, 0.5, 100)
    with pytest.raises(ValueError, match="eta"):
        boundaries.steps_high_edge([1.0, 0.1], 2.5)
    with pytest.raises(ValueError, match="sorted"):
        boundaries.sgd_rho_c([0.1, 1.0], [1.0, 1.0], 0.1, 2, 10, 0.0)


@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_scale_integrals_at_the_removable_singularities_to_the_last_bit(alpha):
    """γ = 1/α integer: I_S against mpmath quadrature of its defining integral at 30
    digits. The averaged Gamma form errs by ``O(10^-30)``, so the float is the correctly
    rounded value (half an ulp; either one-sided form alone is ~10 ulps off)."""
    i_s = boundaries.scale_integrals(alpha)[0]
    with mpmath.workdps(30):
        g = 1 / mpmath.mpf(alpha)
        ref, err = mpmath.quad(
            lambda x: x ** (-g) * _V(x), [0, 1, 10, 60, mpmath.inf], error=True
        )
        assert abs(i_s - ref) <= math.ulp(i_s) / 2 + err


def test_sgd_rho_c_is_infinite_at_a_vanishing_denominator_without_dividing():
    """At ``T = 0`` the unit noises are ``λ/d`` = (1/2, 1/4, 1/4), so with ``ε = 1/4``
    and ``K = 2`` the denominator ``(1 − ε) tr n̂ − Σ_{k<=K} n̂_k`` is exactly 0 (all
    dyadic); the label-noise floor keeps the numerator positive. The documented branch
    returns ``inf`` without a division by zero (no RuntimeWarning)."""
    lam = np.array([1.5, 0.75, 0.75])
    crit = phase.RibbonCriterion(K=2, eps=0.25)
    assert np.array_equal(cloud.noise_variances(lam, 1.0, 0.1, 0), lam / 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert boundaries.sgd_rho_c(lam, np.ones(3), 0.1, 2, 0, 1.0, crit) == math.inf
