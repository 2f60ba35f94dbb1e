"""Round-off budgets of the certified cloud-spectrum bounds of :mod:`ribbonlib.phase`,
term by term: the float route (``_float_signal``, ``_trace_of_signal``,
``_poincare_lower``, ``_float_bounds``) and the high-precision route (``_mp_bounds``).

Each test recomputes what a docstring states from the same float (or mpf) data, with
``fractions.Fraction`` or mpmath at many more digits, and checks the returned value
against it with a tolerance derived from the rounding of the budget's own evaluation.
The inputs are chosen so that the term under test is a visible part of the result
(slow modes for the ``|cov|`` branch, a zero signal for the noise margins, an
eigenvalue as small as the round-off terms, ...).
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from ribbonlib import cloud, phase

U = np.finfo(float).eps / 2
TINY = Fraction(2) ** -960


def F(x) -> Fraction:
    return Fraction(float(x))


def half_ulp(x) -> Fraction:
    """Half the spacing of the floats at ``x``: the error of one rounding to nearest."""
    return Fraction(float(np.spacing(abs(float(x))))) / 2


# --------------------------------------------------------------------- _float_signal


def _slow_exact(a: float, T: int) -> bool:
    """Slow by the rule of ``_float_signal``, decided at 50 digits (the cases below
    stay at least 1e-9 away from the threshold, far beyond the error of float64
    ``log1p``, so that the float rule decides the same)."""
    if not a < 0.5:
        return False
    with mpmath.workdps(50):
        v = (T + 1) * -mpmath.log(1 - mpmath.mpf(a))
        thr = mpmath.mpf(1.0 - 1e-6)
        assert abs(v - thr) > mpmath.mpf(10) ** -9
        return bool(v <= thr)


def _signal_cases():
    """(lam, b, eta, T, slow): fast and slow modes, T = 0, 1 and beyond; with
    ``eta = 1`` the rates are ``a = λ`` exactly."""
    rng = np.random.default_rng(11)
    cases = []
    for T in (0, 1, 3, 10, 57, 400):
        lam = np.exp(rng.uniform(-7.0, 0.0, 6))
        b = rng.uniform(-2.0, 2.0, 6)
        cases.append((lam, b, 0.9 / lam.max(), T))
    # T = 10 near the slow threshold: 11 L = 1.0476 and 0.9565 (9 L and 12 L cross
    # it), and 11 L = 1 (within 1e-6 above the threshold)
    a = [-math.expm1(-1 / x) for x in (10.5, 11.5, 11.0)] + [1e-3]
    cases.append((np.array(a), np.array([1.0, -0.7, 0.4, 1.3]), 1.0, 10))
    # T = 0: rates at and above 1/2 are never slow (a single point: cov = 0)
    cases.append((np.array([1.2, 0.84, 0.5, 0.36]), np.array([1.0, 2.0, -1.0, 0.5]),
                  1.0, 0))
    # rates eta*lam against eta/lam: 0.1, 0.025 (both slow for T = 3) against 0.1, 0.4
    cases.append((np.array([1.0, 0.25]), np.array([0.6, -1.1]), 0.1, 3))
    out = []
    for lam, b, eta, T in cases:
        a = eta * lam
        out.append((lam, b, eta, T, np.array([_slow_exact(x, T) for x in a])))
    return out


def _expected_E(lam, b, eta, T, slow):
    """The ``E`` of ``_float_signal``'s docstring, exactly (Fraction) from the float
    ``G, m, cov`` of ``time_averages`` and the float ``P``, ``S``."""
    G, m, cov = cloud.time_averages(lam, eta, T)
    q = np.sqrt(lam) * b
    P = np.outer(q, q)
    S = P * cov
    c = 256 * F(U)
    d = lam.size
    E = np.empty((d, d), dtype=object)
    for k in range(d):
        for j in range(d):
            e = c * (abs(F(G[k, j])) + abs(F(m[k]) * F(m[j])))
            if slow[k] and slow[j]:
                e = min(e, c * abs(F(cov[k, j])))
            E[k, j] = F(1.01) * abs(F(P[k, j])) * e + 16 * F(U) * abs(F(S[k, j]))
    return S, E


def test_float_signal_error_bound_is_its_stated_formula():
    """``S`` is ``fl(P ∘ cov)`` and ``E`` is ``1.01 |P| ∘ ecov + 16u |S|`` with
    ``ecov = 256u (|G| + |m mᵀ|)``, or ``min(·, 256u |cov|)`` for two slow modes,
    recomputed exactly (Fraction) from the float ``G, m, cov, P, S``; slow decided at
    50 digits. Tolerance ``5.01u`` relative: the five roundings of the float
    evaluation (``m_k m_l``, the sum, ``1.01 |P|``, the product, the last sum; the
    factors ``256u`` and ``16u`` are powers of two), all data far above underflow.
    The cases include slow pairs (where ``16u |S|`` is about 1/274 of ``E``, so that
    its constant is visible), rates at and above 1/2 with ``T = 0``, and modes whose
    ``(T + 1)|log r|`` lies within 5% of the threshold or within 1e-6 above it."""
    for lam, b, eta, T, slow in _signal_cases():
        S, E, *_ = phase._float_signal(lam, b, eta, T)
        S_ex, E_ex = _expected_E(lam, b, eta, T, slow)
        assert np.array_equal(S, S_ex)
        for k in range(lam.size):
            for j in range(lam.size):
                err = abs(F(E[k, j]) - E_ex[k, j])
                assert err <= F(5.01 * U) * E_ex[k, j], (T, k, j)


def test_float_signal_slow_rule_counts_a_tie_as_slow():
    """At ``T = 1`` and ``a = 0.3934690370219609`` the float value of
    ``2·(−log1p(−a))`` is exactly ``fl(1 − 10^-6)``: the rule ``<=`` calls the mode
    slow, so the pair of it with the slow mode ``a = 10^-3`` gets the ``|cov|``
    branch (checked as above, tolerance ``5.01u``); that branch is the smaller one
    here, so that the tie shows."""
    a = 0.3934690370219609
    assert 2 * -np.log1p(-a) == 1.0 - 1e-6
    lam, b = np.array([a, 1e-3]), np.array([1.0, 1.0])
    S, E, *_ = phase._float_signal(lam, b, 1.0, 1)
    _, E_ex = _expected_E(lam, b, 1.0, 1, [True, True])
    _, E_fast = _expected_E(lam, b, 1.0, 1, [False, True])
    assert E_ex[0, 1] < E_fast[0, 1] * F(0.5)
    for k in range(2):
        for j in range(2):
            assert abs(F(E[k, j]) - E_ex[k, j]) <= F(5.01 * U) * E_ex[k, j]


def test_float_signal_unit_noise_and_its_bounds():
    """``n̂ = fl(fl(λ_k G_kk)/d)`` (within ``2.01u`` of ``λ_k G_kk/d`` from the float
    ``G``) and ``n̂_lo, n̂_hi = n̂ ∓ (520u |n̂| + 2^-960)`` rounded to nearest: within
    half an ulp of that (exact, Fraction) value, plus ``1000u²|n̂|`` for the rounding
    of the product ``520u·|n̂|``. A margin of ``518u`` or ``522u`` is ``2u|n̂|`` away,
    more than the tolerance when ``n̂`` is not a power of two (most cases)."""
    for lam, b, eta, T, _ in _signal_cases():
        G, _, _ = cloud.time_averages(lam, eta, T)
        _, _, n_f, n_lo, n_hi = phase._float_signal(lam, b, eta, T)
        d = lam.size
        for k in range(d):
            x = F(n_f[k])
            ex = F(lam[k]) * F(G[k, k]) / d
            assert abs(x - ex) <= F(2.01 * U) * ex
            margin = 520 * F(U) * x + TINY
            tol = 1000 * F(U) ** 2 * x
            assert abs(F(n_hi[k]) - (x + margin)) <= half_ulp(n_hi[k]) + tol
            assert abs(F(n_lo[k]) - (x - margin)) <= half_ulp(n_lo[k]) + tol


def test_float_signal_warns_about_nothing_for_rates_above_one():
    """Rates ``η λ`` in ``(1, 2)`` (negative ``r``) are valid inputs; the slow test
    takes ``log1p`` only of ``−min(a, 1/2)``, so no floating-point warning is
    raised (warnings are turned into errors here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        phase._float_signal(np.array([1.0, 0.6, 0.1]), np.ones(3), 1.7, 20)
        phase.cloud_spectrum_bounds([1.0, 0.6, 0.1], [1.0, 1.0, 1.0], 0.1, 1.7, 20)


# ------------------------------------------------------------------ _trace_of_signal


def test_trace_of_signal_diagonal_bounds_are_one_rounding_wide():
    """``var_lo = max(fl(v − e) − (4u|fl(v − e)| + 2^-960), 0)`` and ``var_hi =
    max(fl(v + e) + (4u|·| + 2^-960), 0)`` rounded to nearest, recomputed exactly
    from the float ``fl(v ∓ e)`` (the one rounding the docstring names): within half
    an ulp. A margin of ``6u`` instead of ``4u`` moves the result by ``2u|x|``, more
    than half an ulp plus half an ulp unless ``x`` is a power of two (avoided).
    Diagonal entries below their error give ``var_lo = 0``; the trace bounds hold
    the exact sums of the diagonal bounds."""
    rng = np.random.default_rng(3)
    d = 7
    v = np.exp(rng.uniform(-30.0, 5.0, d))
    e = v * np.exp(rng.uniform(-40.0, -1.0, d))
    e[2] = 3.0 * v[2]  # v − e < 0
    S = np.diag(v) + np.triu(rng.standard_normal((d, d)), 1)
    E = np.diag(e) + 1e-3
    E[np.diag_indices(d)] = e
    var_lo, var_hi, trS_lo, trS_hi = phase._trace_of_signal(S, E)
    for k in range(d):
        for x, got, sign in ((v[k] - e[k], var_lo[k], -1), (v[k] + e[k], var_hi[k], 1)):
            assert np.frexp(x)[0] != 0.5
            want = F(x) + sign * (4 * F(U) * abs(F(x)) + TINY)
            want = max(want, Fraction(0))
            assert abs(F(got) - want) <= half_ulp(got) + F(U) ** 2 * abs(F(x)), k
    assert var_lo[2] == 0.0
    assert F(trS_lo) <= sum(F(x) for x in var_lo)
    assert sum(F(x) for x in var_hi) <= F(trS_hi)


# ------------------------------------------------------------------------ _mp_bounds

PREC = 20  # digits of the data; the bounds work at PREC + 10


def _mpf_array(x):
    return np.array([mpmath.mpf(v) for v in x], dtype=object)


def _mp_diag(x):
    d = len(x)
    A = np.array([[mpmath.mpf(0)] * d for _ in range(d)], dtype=object)
    for k in range(d):
        A[k, k] = mpmath.mpf(x[k])
    return A


def _mp_expected(s, n, T, prec=PREC, n_sig=12, n_noise=8):
    """The bounds of ``_mp_bounds``'s docstring for ``S = diag(s)``, at ``prec + 70``
    digits from the same mpf data. The approximate eigenvectors of a diagonal matrix
    are (signed) axes, and so is ``W`` when the axes of the top signal and of the top
    noise are disjoint (or cover every axis): then ``WᵀW = I`` and ``|W|ᵀ|W| = I``
    exactly, ``H`` is ``C`` on those axes and ``|||W|ᵀ|C||W|||_F = ||C_W||_F``. The
    two enclosures are intermediates, taken from ``_mp_eig_enclosure`` at the
    working precision with the margins ``eS``, ``eH`` computed here. Returns
    ``lower, upper`` and the size of the terms each value is made of (for the
    tolerance)."""
    d = len(s)
    wp = prec + 10
    top_s = [k for k in np.argsort(-np.array(s, dtype=float), kind="stable")][:n_sig]
    top_n = [k for k in np.argsort(-np.array(n, dtype=float), kind="stable")][:n_noise]
    axes = sorted(set(top_s) | set(top_n))
    assert len(axes) == min(d, len(top_s) + len(top_n)) or len(axes) == d
    with mpmath.workdps(wp + 70):
        u = mpmath.mpf(10) ** -wp
        ein = 100 * mpmath.mpf(10) ** -prec
        grow = 1 + 10 * d * u
        s = [mpmath.mpf(x) for x in s]
        n = [mpmath.mpf(x) for x in n]
        eS = ein * mpmath.sqrt(sum(x * x for x in s)) * (1 + 10 * d * d * u)
    with mpmath.workdps(wp):
        _, sig_hi, _ = phase._mp_eig_enclosure(_mp_diag(s), eS, u)
    with mpmath.workdps(wp + 70):
        sig_up = []
        for x in sig_hi:
            sig_up.append(min([max(x, 0)] + sig_up[-1:]))
        sig_up = [x if i < min(d, T) else mpmath.mpf(0) for i, x in enumerate(sig_up)]
        ns_lo = sorted((x * (1 - ein) for x in n), reverse=True)
        ns_hi = sorted((x * (1 + ein) * grow for x in n), reverse=True)
        tr_hi = (sum(abs(x) * (1 + ein) for x in s) * grow + sum(ns_hi)) * grow
        upper = [
            min([tr_hi] + [(sig_up[i] + ns_hi[m - i]) * grow for i in range(m + 1)])
            for m in range(d)
        ]
        p = len(axes)
        fW = (d + 2) * u * mpmath.sqrt(p) * grow
        c = [s[k] + n[k] for k in axes]
        eH = ((1 + fW) * (eS + ein * max(n)) + (2 * d + 4) * u * mpmath.sqrt(
            sum(x * x for x in c))) * grow
    with mpmath.workdps(wp):
        ritz, _, _ = phase._mp_eig_enclosure(_mp_diag(c), eH, u)
    with mpmath.workdps(wp + 70):
        lower = list(ns_lo)
        for i in range(p):
            lower[i] = max(lower[i], max(ritz[i], 0) / (1 + fW) * (1 - 10 * u))
        allow = 10 * d * mpmath.mpf(10) ** -prec * tr_hi
        lo = [x - allow - abs(x) * 10 * u for x in lower]
        up = [x + allow + abs(x) * 10 * u for x in upper]
        size_lo = [abs(x) + allow + eH for x in lower]
        size_up = [abs(x) + allow + eS for x in upper]
    return lo, up, size_lo, size_up


def _check_mp(s, n, T, prec=PREC, roundings=32):
    """``_mp_bounds`` against ``_mp_expected``: within ``roundings`` roundings at the
    working precision (relative ``2^-b`` each, ``b`` its binary precision) of the
    size of the terms."""
    lo, up = phase._mp_bounds(_mp_diag(s), _mpf_array(n), T, prec)
    e_lo, e_up, size_lo, size_up = _mp_expected(s, n, T, prec)
    with mpmath.workdps(prec + 80):
        eps = mpmath.mpf(2) ** -mpmath.libmp.dps_to_prec(prec + 10)
        for got, want, size in zip(lo, e_lo, size_lo):
            assert abs(got - want) <= roundings * eps * size, (got, want)
        for got, want, size in zip(up, e_up, size_up):
            assert abs(got - want) <= roundings * eps * size, (got, want)
    return lo, up


MP_CASES = [
    # a signal of rank T = 2 < d, and an eigenvalue 3·10^-18 just above the margin
    # eH ≈ 10^-18 of the Rayleigh--Ritz values
    ([1.0, 2.0**-4, 0.0, 0.0], [0.0, 0.0, 2.0**-10, 3e-18], 2),
    # one mode: the trace is the smallest upper bound
    ([0.75], [0.125], 5),
    # no signal: the noise margin ein·max(n) is all of eH; 1.5·10^-18 just above it
    ([0.0, 0.0, 0.0, 0.0], [1.0, 0.5, 0.25, 1.5e-18], 5),
    # a full signal, every term of one size
    ([2.0, 1.0, 0.5, 0.25, 0.125], [0.25, 0.375, 0.0625, 0.5, 0.125], 9),
]


@pytest.mark.parametrize("s, n, T", MP_CASES)
def test_mp_bounds_are_their_stated_budget(s, n, T):
    """``_mp_bounds`` at 20 digits against its docstring evaluated at 100 digits from
    the same mpf data (diagonal ``S``, so that the eigenvectors, ``W`` and ``H`` are
    exact; see ``_mp_expected``). Tolerance ``32·2^-b`` times the size of the terms
    (``|value| + allow + eH``), ``b = 103`` the binary precision of the working 30
    digits: about a dozen roundings to nearest of relative ``2^-b`` each along the
    chain of one bound, and the difference, of the same order, between the code's
    ``eH`` and the one computed here (it enters ``ℓ`` once). That is ``0.3u``
    (``u = 10^-30`` is what the margins charge per operation), so every constant
    of the budget shows: the ``10u`` growths, ``grow``, ``fW``, ``ein``, ``eS`` (at
    the eigenvalues as small as ``eH``)."""
    _check_mp(s, n, T)


def test_mp_bounds_poincare_basis_is_the_top_signal_and_the_top_noise():
    """``d = 21``, ``S = diag(2^-k)`` for ``k <= 12`` and 0 beyond, the largest noise
    on the axes 13..20 and the ninth largest on axis 12: ``W`` spans the axes of the
    12 largest eigenvalues of ``S`` (0..11) and of the 8 largest noise variances, not
    axis 12, so the bound on the eigenvalue ``2^-12 + n_12`` of axis 12 comes from the
    next Ritz value; checked against the stated budget as above. (``mpmath.eigsy``
    returns eigenvectors in ascending order; taking its first 12 columns gave the
    Poincaré basis of the *smallest* eigenvalues, and lower bounds on the top
    eigenvalues as low as the noise floor for ``d > 20``.) At the top, the lower bound
    is within ``10^-17`` of ``μ_1 = 1 + 10^-7`` (a Ritz value, less the allowance
    ``10 d 10^-20 tr C ≈ 4·10^-18`` and the input margin ``ein μ_1 = 10^-18``)."""
    d = 21
    s = [2.0**-k if k <= 12 else 0.0 for k in range(d)]
    n = [1e-7] * 12 + [2e-7] + [2.0**-k for k in range(14, 22)]
    lo, up = _check_mp(s, n, 40)
    with mpmath.workdps(40):
        mu1 = 1 + mpmath.mpf(1e-7)
        assert lo[0] <= mu1 <= up[0]
        assert mu1 - lo[0] <= mpmath.mpf(10) ** -17


@pytest.mark.parametrize("s, n", [([0.0], [0.375]), ([0.375], [0.0])])
def test_mp_bounds_final_margins_of_one_mode(s, n):
    """One mode, pure noise or pure signal, at 31 digits (working precision 41
    digits, ``b = 140`` bits, so that one rounding, ``2^-140``, is ``0.072u`` with
    ``u = 10^-41``): the growths ``10u |x|`` of the returned bounds and the factor
    ``1 − 10u`` of the Ritz value each move a bound by ``u |x|`` per unit of their
    constant. Counted along the chain of each bound (the computed ``grow``,
    ``1 ± ein``, ``1 + fW`` and ``1 − 10u`` each err by one rounding; the products,
    the quotient and the two final sums by one each; the allowance is ``10^-30`` of
    the bound, so its own errors do not count; the Ritz value from the same
    enclosure call differs by at most one rounding), at most 8 roundings separate
    the code's value from the stated one (the computed ``grow`` enters the upper
    bound twice): tolerance ``8·2^-140 |x| = 0.57u |x|``."""
    _check_mp(s, n, 3, prec=31, roundings=8)


# ------------------------------------------------------------------- _poincare_lower


def _frob(X) -> Fraction:
    """``_frob_up`` of a float matrix, as an exact number (an intermediate the
    docstrings name)."""
    return F(phase._frob_up(np.asarray(X, dtype=float)))


def _poincare_budget(S, eS, noise_f, noise_lo, noise_hi, W):
    """``fW`` and, per noise row, ``H`` and ``eH`` as ``_poincare_lower`` states them,
    exactly (Fraction) from the float ``W``, ``S``, noise and the ``_frob_up`` norms;
    ``eH`` is the stated sum times ``1 + 10u`` (the margin of ``_up(·, 4)``)."""
    d, p = W.shape
    u = F(U)
    aW = np.abs(W)
    fW = (_frob(W.T @ W - np.eye(p)) + F(1.01) * (d + 2) * u * _frob(aW.T @ aW)) * (
        1 + 6 * u
    ) + TINY
    out = []
    for r in range(noise_f.shape[0]):
        n = noise_f[r]
        H = W.T @ S @ W + (W.T * n) @ W
        rnd = F(1.01) * (2 * d + 4) * u * _frob(aW.T @ np.abs(S) @ aW) + F(1.01) * (
            d + 4
        ) * u * _frob((aW.T * np.abs(n)) @ aW)
        err_n = max(
            max(F(h) - F(x), F(x) - F(low))
            for h, x, low in zip(noise_hi[r], n, noise_lo[r])
        )
        eH = ((1 + fW) * (F(eS) + err_n) + rnd + 2 * u * _frob(H)) * (1 + 10 * u)
        out.append((H, eH))
    return fW, out


def _poincare_check(S, eS, noise_f, noise_lo, noise_hi, W):
    """``_poincare_lower`` against its docstring (``_poincare_budget``), with ``ℓ``
    from ``_eig_enclosure`` at the two ends of the bracket of ``eH`` (it is monotone
    in ``eH``). Tolerances, in units of ``u``: ``eH`` within ``8u`` of its stated
    value (six roundings of the sum and its products, the factors ``1.01 (2d + 4)``
    and ``1.01 (d + 4)``, and that of ``_up``); ``fW`` within ``5u`` of its stated
    value; the result within ``4.01u`` of ``max(ℓ, 0)(1 − 4u)/((1 + fW)(1 + 4u))``
    (the roundings of ``1 + fW``, of the ``_up``, of the quotient and of the
    ``_down``), less ``2^-959``."""
    p = W.shape[1]
    lo, _ = phase._poincare_lower(S, eS, noise_f, noise_lo, noise_hi, W)
    u = F(U)
    fW, rows = _poincare_budget(S, eS, noise_f, noise_lo, noise_hi, W)
    for r, (H, eH) in enumerate(rows):
        ends = []
        for e in (eH * (1 + 8 * u) + 2 * TINY, eH * (1 - 8 * u)):
            ell = phase._eig_enclosure(H[None], np.array([float(e)]))[0][0]
            ends.append([max(F(x), Fraction(0)) * (1 - 4 * u) for x in ell])
        for i in range(p):
            lo_end = ends[0][i] / ((1 + fW * (1 + 5 * u)) * (1 + 4 * u))
            hi_end = ends[1][i] / ((1 + fW * (1 - 5 * u)) * (1 + 4 * u))
            got = F(lo[r, i])
            assert lo_end * (1 - F(4.01 * U)) - 2 * TINY <= got, (r, i)
            assert got <= hi_end * (1 + F(4.01 * U)), (r, i)
    return lo


def _axes(d, idx):
    return np.eye(d)[:, idx]


def test_poincare_lower_orthonormality_margin_with_64_axes():
    """``W = I`` (64 axes): ``WᵀW − I = 0`` exactly, so ``fW = 1.01·66u·||I||`` is all
    margin, about ``540u``, and the result is ``ℓ/(1 + fW)`` up to ``4.01u``: each
    constant of ``fW`` shows (``d + 3`` in place of ``d + 2`` moves it by ``8u``)."""
    rng = np.random.default_rng(7)
    d = 64
    S = np.diag(np.exp(rng.uniform(-3.0, 0.0, d)))
    zero = np.zeros((1, d))
    _poincare_check(S, 0.0, zero, zero, zero, np.eye(d))


def _at_its_margin(S, eS, n, W, k):
    """A value for the diagonal entry ``k`` (a column of ``W``, zero in ``S`` and
    ``n``) that puts its Ritz value at 1.3 times the width ``δ/(1 − f)`` of its
    enclosure, read off the enclosure of the zero entry with the stated ``eH``."""
    _, rows = _poincare_budget(S, eS, n[None], n[None], n[None], W)
    H, eH = rows[0]
    ell = phase._eig_enclosure(H[None], np.array([float(eH)]))[0][0, -1]
    assert ell < 0.0 and S[k, k] == 0.0 and n[k] == 0.0
    return -1.3 * float(ell)


def test_poincare_lower_round_off_terms_at_an_eigenvalue_of_their_size():
    """``W`` = four axes of ``d = 8``, a diagonal ``S`` and noise rows; one Ritz value
    is set to 1.3 times the width of its own enclosure, so that ``ℓ`` is made of the
    margins and each term of ``eH`` (signal round-off ``1.01 (2d + 4) u``, noise
    round-off ``1.01 (d + 4) u``, ``2u ||H||``, ``eS`` and ``err_n``, each times
    ``1 + fW``) is a visible part of it; checked as stated (``_poincare_check``)."""
    d = 8
    W = _axes(d, [0, 2, 5, 7])
    zero = np.zeros(d)
    # signal only: eH = 1.01 (2d + 4) u ||S_W|| + 2u ||H||
    S = np.diag([1.0, 0.3, 0.0, 0.1, 0.05, 0.7, 0.2, 0.6])
    S[2, 2] = _at_its_margin(S, 0.0, zero, W, 2)
    _poincare_check(S, 0.0, zero[None], zero[None], zero[None], W)
    # with an input error eS of the same size
    S[2, 2] = 0.0
    S[2, 2] = _at_its_margin(S, 20 * U, zero, W, 2)
    _poincare_check(S, 20 * U, zero[None], zero[None], zero[None], W)
    # noise only (two rows), exact: eH = 1.01 (d + 4) u ||diag(n)_W|| + 2u ||H||
    Z = np.zeros((d, d))
    n = np.array([[0.8, 0.1, 0.0, 0.3, 0.2, 0.5, 0.4, 0.6],
                  [0.4, 0.1, 0.0, 0.3, 0.2, 0.9, 0.4, 0.2]])
    for r in range(2):
        n[r, 2] = _at_its_margin(Z, 0.0, n[r].copy(), W, 2)
    _poincare_check(Z, 0.0, n, n, n, W)
    # noise bounds 10^-15 apart: err_n dominates eH
    n_lo, n_hi = n * (1 - 1e-15), n * (1 + 1e-15)
    _poincare_check(Z, 0.0, n, n_lo, n_hi, W)


# ---------------------------------------------------------------------- _float_bounds


def _float_bounds_budget(S, E, n_f, n_lo, n_hi, s_arr, T, n_sig=32, n_noise=16):
    """The stated values of ``_float_bounds`` (Fraction), from its intermediates:
    the enclosures of ``_eig_enclosure``, the noise bounds of ``_scaled_noise``, the
    trace bounds of ``_trace_of_signal`` and the Poincaré bounds of
    ``_poincare_lower`` on the stated basis. Sums of floats are taken exactly (the
    tolerances pay for their rounding). Returns per scale ``(lower, upper, tr_lo,
    tr_hi, allow, capped)``, ``capped`` where the trace bound is (or may be, within
    its tolerance) the upper bound."""
    d = S.shape[0]
    u = F(U)
    eS = phase._frob_up(E)
    _, sig_hi, Y = phase._eig_enclosure(S[None], np.array([eS]))
    sig = []
    for i, x in enumerate(sig_hi[0]):
        x = min([max(F(x), Fraction(0))] + sig[-1:])
        sig.append(x if i < min(d, T) else Fraction(0))
    noise_lo, noise_hi, lo_sorted, hi_sorted = phase._scaled_noise(n_lo, n_hi, s_arr)
    _, _, trS_lo, trS_hi = phase._trace_of_signal(S, E)
    W = phase._ritz_basis(Y[0][:, : min(n_sig, d)], n_f, n_noise)
    noise_f = (s_arr**2)[:, None] * n_f[None, :]
    ell, _ = phase._poincare_lower(S, eS, noise_f, noise_lo, noise_hi, W)
    out = []
    for r in range(len(s_arr)):
        lo_sum = sum(F(x) for x in noise_lo[r])
        hi_sum = sum(F(x) for x in noise_hi[r])
        lo_sum = lo_sum - (2 * d + 2) * u * abs(lo_sum) - TINY
        hi_sum = hi_sum + (2 * d + 2) * u * abs(hi_sum) + TINY
        x = F(trS_lo) + lo_sum
        tr_lo = max(x - 4 * u * abs(x) - TINY, Fraction(0))
        x = F(trS_hi) + hi_sum
        tr_hi = x + 4 * u * abs(x) + TINY
        allow = 4 * d * u * tr_hi * (1 + 6 * u) + TINY
        hs = [F(x) for x in hi_sorted[r]]
        lower, upper, capped = [], [], []
        for m in range(d):
            w = min(sig[i] + hs[m - i] for i in range(m + 1))
            w = w + 4 * u * abs(w) + TINY
            capped.append(tr_hi * (1 - 20 * d * u) <= w)
            x = min(w, tr_hi) + allow
            upper.append(x + 4 * u * abs(x) + 2 * TINY)
            x = F(lo_sorted[r, m])
            if m < W.shape[1]:
                x = max(x, F(ell[r, m]))
            x = x - allow
            lower.append(x - 4 * u * abs(x) - 2 * TINY)
        out.append((lower, upper, tr_lo, tr_hi, allow, capped))
    return out


def _check_float_bounds(S, E, n_f, n_lo, n_hi, s_arr, T, **kw):
    """``_float_bounds`` against its stated budget (``_float_bounds_budget``, whose
    sums of floats are exact). Tolerances, from the roundings the budget does not
    carry: the trace bounds within ``(d + 4) u`` (``d − 1`` roundings of the noise
    sum, those of the two ``_up``/``_down`` and of the sum with ``trS``), so the
    allowance within ``(d + 6) u`` (its product and ``_up``); each bound within
    ``6u`` of its value (the roundings of ``w``, of the sum with the allowance and
    of two ``_up``/``_down``: four) plus ``(d + 6) u`` of the allowance, and of the
    value too where it is the trace bound. ``trace`` within ``(d + 2) u`` of ``tr S
    + s² Σ n̂`` (``d − 1`` roundings of each sum, the product, the square, the
    sum). No absolute slack: the ``2^-960`` of each ``_up``/``_down`` is part of the
    budget, and at that scale nothing is rounded (``u·2^-960`` is a normal float)."""
    d = S.shape[0]
    lower, upper, tr_lo, tr_hi, trace = phase._float_bounds(
        S, E, n_f, n_lo, n_hi, s_arr, T, **kw
    )
    u = F(U)
    budget = _float_bounds_budget(S, E, n_f, n_lo, n_hi, s_arr, T, **kw)
    for r, (b_lo, b_up, b_trlo, b_trhi, allow, capped) in enumerate(budget):
        assert abs(F(tr_lo[r]) - b_trlo) <= (d + 4) * u * b_trlo
        assert abs(F(tr_hi[r]) - b_trhi) <= (d + 4) * u * b_trhi
        t_allow = (d + 6) * u * allow
        for m in range(d):
            k = d + 6 if capped[m] else 6
            tol = k * u * abs(b_up[m]) + t_allow
            assert abs(F(upper[r, m]) - b_up[m]) <= tol, (r, m)
            tol = 6 * u * abs(b_lo[m]) + t_allow
            assert abs(F(lower[r, m]) - b_lo[m]) <= tol, (r, m)
        s2 = F(s_arr[r]) ** 2
        exact = sum(F(S[i, i]) for i in range(d)) + s2 * sum(F(x) for x in n_f)
        size = sum(abs(F(S[i, i])) for i in range(d)) + s2 * sum(abs(F(x)) for x in n_f)
        assert abs(F(trace[r]) - exact) <= (d + 2) * F(U) * size
    return lower, upper


def test_float_bounds_one_noise_entry_of_one_and_a_half_is_exact():
    """``S = 0``, ``n̂ = (3/2, 0, 0)``, ``s = 1``, ``d = 3``: every intermediate is
    ``(3/2)(1 + j u) + O(u²)`` with ``(3/2) j`` an even integer, a float (``_up`` and
    ``_down`` add ``4u``, ``8u`` or ``6u`` of such values; ``s² = 1`` is bracketed by
    ``1 ± 4u``), or a multiple of ``2^-960``, or ``O(u)`` (the allowance, ``18u``).
    So the roundings drop only the products of margins (``O(u²)``: at most six
    factors ``1 + j u`` with ``j <= 12`` on each value, ``< 10^3 u²`` of ``3/2``), and
    the trace bounds and the bounds on ``μ_1`` (the noise floor wins against the
    Ritz value) equal the stated budget to ``2000u²``; every factor ``1 ± 2ku`` of
    the chain shows (each is ``u`` or more off). All of them also as in
    ``_check_float_bounds``."""
    d = 3
    S = np.zeros((d, d))
    n = np.array([1.5, 0.0, 0.0])
    s_arr = np.array([1.0])
    lower, upper, tr_lo, tr_hi, _ = phase._float_bounds(S, S, n, n, n, s_arr, 3)
    (b_lo, b_up, b_trlo, b_trhi, *_), = _float_bounds_budget(S, S, n, n, n, s_arr, 3)
    tol = 2000 * F(U) ** 2
    assert abs(F(tr_lo[0]) - b_trlo) <= tol
    assert abs(F(tr_hi[0]) - b_trhi) <= tol
    assert abs(F(upper[0, 0]) - b_up[0]) <= tol
    assert abs(F(lower[0, 0]) - b_lo[0]) <= tol
    _check_float_bounds(S, S, n, n, n, s_arr, 3)


def test_float_bounds_at_the_scale_of_the_underflow_allowance():
    """``S = 0``, ``n̂ = 0``, ``s = 0``: every bound is a small multiple of ``2^-960``
    (the absolute allowance of each ``_up`` and ``_down``, and the one added to the
    returned bounds), computed without rounding error to ``u`` relative; checked
    against the stated budget as in ``_check_float_bounds`` (a few ``u`` of each
    value, no absolute slack), so that the sign of each ``2^-960`` shows."""
    d = 3
    Z = np.zeros((d, d))
    z = np.zeros(d)
    lower, upper = _check_float_bounds(Z, Z, z, z, z, np.array([0.0]), 3)
    assert np.all(lower < 0.0) and np.all(upper > 0.0)
    assert np.all(np.abs(lower) < 2.0**-950) and np.all(np.abs(upper) < 2.0**-950)


def _cloud_inputs(lam, b, eta, T):
    return phase._float_signal(np.asarray(lam, float), np.asarray(b, float), eta, T)


@pytest.mark.parametrize("T", [1, 2, 30])
def test_float_bounds_on_clouds_are_their_stated_budget(T):
    """Cloud signals of rank ``min(d, T)`` (``T = 1, 2`` below ``d = 5``: the Weyl
    bounds beyond the rank use ``σ̄ = 0``), noise scales 0, 1e-3, 0.3 and 3 (the
    float noise of the Poincaré step is ``s² n̂``), against the stated budget with
    the tolerances of ``_check_float_bounds``."""
    lam = [1.0, 0.5, 0.2, 0.05, 0.01]
    b = [1.0, -0.5, 0.8, 0.3, -1.2]
    S, E, n_f, n_lo, n_hi = _cloud_inputs(lam, b, 0.9, T)
    s_arr = np.array([0.0, 1e-3, 0.3, 3.0])
    _check_float_bounds(S, E, n_f, n_lo, n_hi, s_arr, T)


def test_float_bounds_hold_for_a_diagonal_signal():
    """``S = diag(σ)`` exactly (``E = 0``) and ``s = 3``: the eigenvalues of ``C`` are
    ``σ_k + 9 n̂_k`` (exact, Fraction); the bounds hold them."""
    sig = np.array([1.0, 0.25, 0.5, 0.0625])
    n = np.array([0.01, 0.2, 0.03, 0.1])
    S = np.diag(sig)
    lower, upper, *_ = phase._float_bounds(
        S, np.zeros((4, 4)), n, n, n, np.array([3.0]), 4
    )
    mu = sorted((F(a) + 9 * F(x) for a, x in zip(sig, n)), reverse=True)
    assert all(F(lo) <= m <= F(up) for lo, m, up in zip(lower[0], mu, upper[0]))


def test_float_bounds_basis_is_the_top_signal_and_the_top_noise():
    """``d = 50``, ``S = diag(σ)`` with 33 distinct non-zero ``σ`` and the largest
    noise on 16 other axes, the 17th largest on the axis of ``σ_33``: ``W`` is the
    32 top signal axes and the 16 top noise axes (48 columns), so that the 33rd
    signal axis is left out and ``lower_m`` beyond 48 is the noise floor; checked
    against the stated budget (``_check_float_bounds``)."""
    d = 50
    sig = np.zeros(d)
    sig[:33] = np.exp(-0.2 * np.arange(33))
    n = np.full(d, 1e-4)
    n[34:] = np.linspace(2e-3, 1e-3, 16)
    n[32] = 5e-4
    S = np.diag(sig)
    Z = np.zeros((d, d))
    _check_float_bounds(S, Z, n, n, n, np.array([1.0]), 60)


def test_float_bounds_allowance_is_the_whole_bound_of_a_zero_eigenvalue():
    """``S = 0``, ``n̂ = (1 − 22u, 0, 0, 0)``, ``s = 1``, ``d = 4``: this input makes
    ``trace_hi`` exactly 1 (asserted; it is ``_up`` of ``1 − 4u``), so the allowance
    ``_up(16u·1, 2) = 16u (1 + 6u)`` is a float, and the lower bound of each zero
    eigenvalue is ``_down(−allow, 1)`` (the ``−2^-960`` of the noise floor is below
    its rounding): ``−16u (1 + 6u)(1 + 4u)`` up to the dropped ``384u³`` and
    multiples of ``2^-960``. The stated budget, evaluated exactly, has a trace
    bound of ``1 + O(u²)`` (the products of the margins of the chain, six factors
    ``1 + j u`` with ``|j| <= 22``: below ``10³ u²``); so the bounds agree with it to
    ``10³ u²`` relative, and the factor ``1 + 6u`` of the allowance (``_up(·, 2)``)
    shows: ``1 + 8u`` moves the bound by ``2u`` of it."""
    d = 4
    S = np.zeros((d, d))
    n = np.array([1.0 - 22 * U, 0.0, 0.0, 0.0])
    s_arr = np.array([1.0])
    lower, _, _, tr_hi, _ = phase._float_bounds(S, S, n, n, n, s_arr, 3)
    assert tr_hi[0] == 1.0
    (b_lo, *_), = _float_bounds_budget(S, S, n, n, n, s_arr, 3)
    for m in range(1, d):
        assert abs(F(lower[0, m]) - b_lo[m]) <= 1000 * F(U) ** 2 * abs(b_lo[m])
