"""Phase diagram of hyper-ribbons: two-sided bounds on the cloud spectrum and sweeps.

The expected centred covariance of the cloud of gradient-descent trajectories is
``C = S + diag(n)`` (see :mod:`ribbonlib.cloud`): a positive semi-definite signal ``S``
of rank at most ``min(d, T)`` and a positive diagonal noise ``n``. This module

* bounds every eigenvalue of ``C`` from both sides in two ways:

  - *certified numerical* bounds (:func:`cloud_spectrum_bounds`, :func:`bounds_grid`),
    computed from the matrix with Weyl's inequalities and the Poincaré separation
    theorem (Rayleigh--Ritz values are lower bounds), the signal eigenvalues enclosed
    from approximate eigenvectors (Weyl and Ostrowski); they are tight but need an
    eigen-decomposition;
  - *analytic* bounds (:func:`analytic_bounds`, :func:`analytic_bounds_grid`,
    :func:`signal_tail_bounds`), explicit finite expressions in ``λ, b, s, η, T``: the
    noise floor, Rayleigh quotients of explicit vectors, and closed-form tails of the
    signal spectrum from Blaschke products (Cauchy Gram matrices) and Chebyshev
    interpolation in time; from them the phase boundaries follow as formulas
    (:func:`analytic_rho_boundaries`);

* computes exact spectra on whole parameter grids at once (:func:`spectra_grid`);
* decides whether a spectrum is a hyper-ribbon (:func:`is_ribbon`) and whether bounds
  prove or rule it out (:func:`ribbon_certified`).

**Rigour in floating point.** Every bound holds for the *exact* eigenvalues of the
exact ``C`` at the given (float) ``λ, b, s, η`` and integer ``T``, although it is
evaluated in float64 (or in mpmath with ``precision=``). Each quantity is carried with
an upper bound on its error, and every final bound is rounded outward:

* the inputs from :func:`ribbonlib.cloud.time_averages` are used only with the accuracy
  that function documents (a few ulp of ``G_kl + |m_k m_l|`` for ``cov``, of its own
  value when both modes are slow, of ``G`` and ``m``), taken as ``_CLOUD_ULPS = 256``
  ulp; the tests measure at most about 10 on the whole domain;
* every elementary function (``exp``, ``log``, ``log1p``, ``expm1``, ``tanh``, ``pow``)
  is allowed ``_FN_ULPS = 16`` ulp (the C library documents at most 2 to 4);
* sums, products and matrix products use the standard bounds ``γ_n = n u/(1 − n u)``
  (Higham, *Accuracy and Stability of Numerical Algorithms*, ch. 3), valid in any
  summation order and with fused multiply-adds; every subtraction of two bounds is
  rounded in the safe direction; an absolute ``2^-960`` covers underflow.

A bound may therefore be looser than the exact closed form where float64 cannot
resolve it (eigenvalues below about ``d·u`` times the largest), but it is never wrong.
In float64 the bounds are further widened by the backward-error allowance of a
symmetric eigensolver, ``4·d·u·tr C`` (``u`` the unit round-off), so that they also
enclose eigenvalues computed by :func:`numpy.linalg.eigvalsh`. With ``precision=p``
(decimal digits) the certified bounds are computed in mpmath and the allowance is
``10·d·10^(-p)·tr C``.
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import mpmath
import numpy as np

from . import _validate, cloud

__all__ = [
    "signal_and_noise",
    "cloud_spectrum_bounds",
    "bounds_grid",
    "spectra_grid",
    "SpectrumBounds",
    "signal_tail_bounds",
    "analytic_bounds",
    "analytic_bounds_grid",
    "RibbonCriterion",
    "is_ribbon",
    "ribbon_certified",
    "plateau_count",
    "analytic_rho_boundaries",
]

_U = np.finfo(float).eps / 2  # unit round-off of float64
#: Accuracy, in ulp, assumed for the float64 time averages of :func:`cloud.time_averages`
#: (documented there as "a few ulp"; measured at most about 10 on the whole domain).
_CLOUD_ULPS = 256.0
#: Accuracy, in ulp, assumed for one call of an elementary function of the C library.
_FN_ULPS = 16.0
#: Absolute allowance for underflow (far below every scale of the book).
_TINY = 2.0**-960
#: Relative accuracy assumed for the entries computed by ``cloud`` with ``precision=p``,
#: in units of ``10^(-p)`` (documented as accurate to ``p`` digits).
_MP_INPUT = 100
#: Grids of matrices up to this size run with one BLAS thread (see :func:`_blas_for`).
_SMALL = 256


def _blas_for(d: int):
    """A context with a single BLAS thread for small matrices, when threadpoolctl is installed.

    A grid sweep does thousands of ``d x d`` eigen-decompositions; for ``d <= 256`` threads
    only add synchronisation, and on a loaded machine multithreaded BLAS was measured to
    be up to ten times slower than one thread. Results are identical either way.
    """
    if d > _SMALL:
        return nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: the book environment has it, the core library does not need it
        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


# ------------------------------------------------------------------ directed rounding


def _up(x: Any, k: float = 1.0) -> np.ndarray:
    """An upper bound on a real number ``y`` whose float64 value ``x`` errs by ``<= γ_k |y|``.

    ``x + (2k + 2) u |x|`` rounded to float64 is at least ``x + γ_k |y|`` for every
    ``k >= 1`` (the extra ``(k + 2) u |x|`` pays for ``γ_k/(1 − γ_k)`` and for the
    rounding of the correction itself). The absolute ``2^-960`` pays for underflow,
    where relative error bounds fail (every gradual-underflow error is below
    ``2^-1074``, and the quantities here pass through a bounded number of operations).
    Non-finite values are returned as they are.
    """
    x = np.asarray(x, dtype=float)
    c = (2.0 * k + 2.0) * _U
    if np.isfinite(x).all():
        return x + (np.abs(x) * c + _TINY)
    with np.errstate(invalid="ignore", over="ignore"):
        return np.where(np.isfinite(x), x + (np.abs(x) * c + _TINY), x)


def _down(x: Any, k: float = 1.0) -> np.ndarray:
    """A lower bound, as :func:`_up`."""
    x = np.asarray(x, dtype=float)
    c = (2.0 * k + 2.0) * _U
    if np.isfinite(x).all():
        return x - (np.abs(x) * c + _TINY)
    with np.errstate(invalid="ignore", over="ignore"):
        return np.where(np.isfinite(x), x - (np.abs(x) * c + _TINY), x)


def _sum_up(x: np.ndarray, axis: Any = None) -> np.ndarray:
    """Upper bound on the exact sum of float64 numbers (any signs): ``fl(Σ) + γ_n Σ|x|``."""
    n = x.size if axis is None else x.shape[axis]
    s = np.sum(x, axis=axis)
    with np.errstate(invalid="ignore", over="ignore"):
        out = _up(s + _up(np.sum(np.abs(x), axis=axis), n) * ((2.0 * n + 2.0) * _U), 1)
    return np.where(np.isfinite(s), out, s)


def _sum_down(x: np.ndarray, axis: Any = None) -> np.ndarray:
    """Lower bound on the exact sum of float64 numbers (any signs)."""
    return -_sum_up(-x, axis=axis)


def _frob_up(X: np.ndarray) -> np.ndarray:
    """Upper bound on the Frobenius norm over the last two axes (batched)."""
    n = X.shape[-1] * X.shape[-2]
    sq = np.einsum("...ij,...ij->...", X, X)
    return _up(np.sqrt(_up(sq, n)), 1)


# ----------------------------------------------------------------------------- inputs


def _check_inputs(lam: Any, b: Any, s: Any, eta: Any, steps: Any):
    lam_arr = _validate.eigenvalues(lam)
    lam_f = np.asarray(lam_arr, dtype=float)
    b_arr = _validate.vector(b, "b", lam_f.size)
    s_val = _validate.finite_real(s, "s", low=0.0)
    eta_val = _validate.learning_rate(eta, lam_f)
    steps_val = _validate.integer(steps, "steps", low=0)
    return lam_arr, b_arr, s_val, eta_val, steps_val


def _check_precision(precision: Any) -> int | None:
    if precision is None:
        return None
    return _validate.integer(precision, "precision", low=16)


# ------------------------------------------------------------------- closed forms


def signal_and_noise(lam: Any, b: Any, s: float, eta: float, steps: int, *,
                     precision: int | None = None):
    """The two parts of the cloud covariance ``C = S + diag(noise)``.

    ``S`` is :func:`ribbonlib.cloud.signal_covariance` and ``noise`` is
    :func:`ribbonlib.cloud.noise_variances`.

    Parameters
    ----------
    lam, b : array_like, shape (d,)
        Eigenvalues ``λ_k > 0`` and ground truth in the eigenbasis.
    s : float
        Initial weight scale ``>= 0``.
    eta : float
        Learning rate, ``0 < eta·max(lam) < 2``.
    steps : int
        ``T >= 0``.
    precision : int, optional
        Decimal digits (mpmath object arrays); float64 when omitted.

    Returns
    -------
    S : ndarray, shape (d, d)
    noise : ndarray, shape (d,)
    """
    _check_inputs(lam, b, s, eta, steps)
    prec = _check_precision(precision)
    S = cloud.signal_covariance(lam, b, eta, steps, precision=prec)
    noise = cloud.noise_variances(lam, s, eta, steps, precision=prec)
    return S, noise


def _float_signal(lam: np.ndarray, b: np.ndarray, eta: float, T: int):
    """``S`` in float64 with an entrywise bound ``E >= |S_float − S|``, and the unit noise.

    ``S_kl = u_k u_l cov_kl`` with ``u = sqrt(λ)∘b`` and ``cov`` from
    :func:`ribbonlib.cloud.time_averages`, accurate (as documented there) to a few ulp of
    ``|G_kl| + |m_k m_l|``, and to a few ulp of ``|cov_kl|`` when both modes are slow
    (``r > 0``, ``(T+1)|log r| <= 1``; classified here with a margin, so that a pair
    called slow is slow). Returns ``S, E, n̂, n̂_lo, n̂_hi`` with the unit noise
    ``n̂_k = λ_k G_kk/d`` and bounds ``n̂_lo <= n̂ <= n̂_hi`` on its exact value.
    """
    d = lam.size
    n = T + 1
    G, m, cov = cloud.time_averages(lam, eta, T)
    u = np.sqrt(lam) * b
    P = np.outer(u, u)
    S = P * cov
    a = eta * lam
    with np.errstate(divide="ignore"):
        slow = (a < 0.5) & (n * -np.log1p(-np.minimum(a, 0.5)) <= 1.0 - 1e-6)
    c = _CLOUD_ULPS * _U
    ecov = c * (np.abs(G) + np.abs(np.outer(m, m)))
    ecov = np.where(np.outer(slow, slow), np.minimum(ecov, c * np.abs(cov)), ecov)
    # 1.01 pays for the float values of G, m, cov in place of the exact ones and for the
    # relative error of u_k u_l; 16u for the two roundings that form S from u and cov
    E = 1.01 * np.abs(P) * ecov + 16.0 * _U * np.abs(S)
    n_f = lam * np.diag(G) / d
    return S, E, n_f, _down(n_f, _CLOUD_ULPS + 3), _up(n_f, _CLOUD_ULPS + 3)


def _trace_of_signal(S: np.ndarray, E: np.ndarray):
    """``(var_lo, var_hi, trS_lo, trS_hi)``: bounds on the diagonal of ``S`` and its trace."""
    d = S.shape[0]
    v, e = np.diag(S), np.diag(E)
    var_lo = np.maximum(_down(v - e, 1), 0.0)
    var_hi = np.maximum(_up(v + e, 1), 0.0)
    return (var_lo, var_hi, float(np.maximum(_down(var_lo.sum(), d), 0.0)),
            float(_up(var_hi.sum(), d)))


# ----------------------------------------------------------------------- bounds


def _weyl_upper(sig_up: np.ndarray, noise_sorted: np.ndarray) -> np.ndarray:
    """``upper_m = min_{i+j=m+1} (σ_i + n_(j))`` along the last axis (batched, float sums)."""
    d = sig_up.shape[-1]
    i = np.arange(d)
    m = np.arange(d)
    j = m[:, None] - i[None, :]  # zero-based: j = m - i
    valid = j >= 0
    jj = np.where(valid, j, 0)
    total = sig_up[..., None, :] + noise_sorted[..., jj]
    total = np.where(valid, total, np.inf)
    return total.min(axis=-1)


def _eig_enclosure(H: np.ndarray, eH: np.ndarray):
    """Enclosures of the eigenvalues of every symmetric matrix near the float matrices ``H``.

    For a stack ``H`` of float64 symmetric ``p x p`` matrices and ``eH >= ||H_exact − H||_2``
    (one per matrix), returns ``lo, hi`` (descending) with
    ``lo_i <= λ_i(H_exact) <= hi_i``, and the approximate eigenvectors ``Y`` (columns,
    descending). With ``G = Yᵀ H_exact Y``: Weyl's inequality puts ``λ_i(G)`` within
    ``||G − diag(fl(G))||_2`` of the ``i``-th largest computed diagonal entry, and
    Ostrowski's theorem gives ``λ_i(G) = θ_i λ_i(H_exact)`` with
    ``θ_i ∈ [1 − f, 1 + f]``, ``f >= ||YᵀY − I||_2``. Round-off of the products is bounded
    by ``γ`` times the products of absolute values.
    """
    p = H.shape[-1]
    _, Y = np.linalg.eigh(H)
    Y = Y[..., ::-1]
    Yt = np.swapaxes(Y, -1, -2)
    G = Yt @ H @ Y
    aY = np.abs(Y)
    N = np.swapaxes(aY, -1, -2) @ np.abs(H) @ aY
    rnd = _up(1.01 * (2 * p + 4) * _U * _frob_up(N), 2)
    F = Yt @ Y
    idx = np.arange(p)
    F[..., idx, idx] -= 1.0  # exact (Sterbenz): the diagonal is within 1/2 of 1
    NF = np.swapaxes(aY, -1, -2) @ aY
    f = _up(_frob_up(F) + 1.01 * (p + 2) * _U * _frob_up(NF), 2)
    D = np.diagonal(G, axis1=-2, axis2=-1).copy()
    Goff = G.copy()
    Goff[..., idx, idx] = 0.0
    delta = _up(_frob_up(Goff) + rnd + _up(np.asarray(eH) * _up(1.0 + f, 1), 1), 3)
    Ds = -np.sort(-D, axis=-1)
    g_lo = _down(Ds - delta[..., None], 1)
    g_hi = _up(Ds + delta[..., None], 1)
    one_p = _up(1.0 + f, 1)[..., None]
    one_m = _down(1.0 - f, 1)[..., None]
    bad = ~(one_m > 0.5)  # eigenvectors far from orthonormal: give up (never seen)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.where(g_lo >= 0, _down(g_lo / one_p, 1), _down(g_lo / one_m, 1))
        hi = np.where(g_hi >= 0, _up(g_hi / one_m, 1), _up(g_hi / one_p, 1))
    lo = np.where(bad, -np.inf, lo)
    hi = np.where(bad, np.inf, hi)
    return lo, hi, Y


def _ritz_basis(Q_sig: np.ndarray, noise: np.ndarray, n_noise: int) -> np.ndarray:
    """Orthonormal basis of span(Q_sig) + the coordinate axes of the largest noise."""
    d = noise.size
    order = np.argsort(-noise, kind="stable")[:n_noise]
    E = np.zeros((d, order.size))
    E[order, np.arange(order.size)] = 1.0
    Q, _ = np.linalg.qr(np.hstack([Q_sig, E]))
    return Q


def _scaled_noise(n_lo: np.ndarray, n_hi: np.ndarray, s_arr: np.ndarray):
    """Bounds ``s² n̂`` for every scale (rows), in the order of ``n̂`` and sorted descending."""
    s2 = s_arr**2
    s2_lo, s2_hi = _down(s2, 1), _up(s2, 1)
    lo = _down(s2_lo[:, None] * n_lo[None, :], 1)
    hi = _up(s2_hi[:, None] * n_hi[None, :], 1)
    return lo, hi, -np.sort(-lo, axis=1), -np.sort(-hi, axis=1)


def _float_bounds(S: np.ndarray, E: np.ndarray, n_f: np.ndarray, n_lo: np.ndarray,
                  n_hi: np.ndarray, s_arr: np.ndarray, T: int,
                  n_sig: int = 32, n_noise: int = 16):
    """Bounds for ``C = S + s² diag(n̂)`` for every ``s`` in ``s_arr`` (float64, rigorous).

    Returns ``lower, upper`` of shape ``(R, d)`` and ``trace_lo, trace_hi, trace`` of
    shape ``(R,)`` (bounds on ``tr C`` and its float64 value).
    """
    d = S.shape[0]
    n_sig = min(n_sig, d)
    n_noise = min(n_noise, d)
    rank = min(d, T)
    # signal: enclosures of every σ_i(S) from its approximate eigenvectors
    eS = _frob_up(E)
    _, sig_hi, Y = _eig_enclosure(S[None], np.array([eS]))
    sig_up = np.minimum.accumulate(np.maximum(sig_hi[0], 0.0))
    sig_up[rank:] = 0.0
    noise_lo, noise_hi, lo_sorted, hi_sorted = _scaled_noise(n_lo, n_hi, s_arr)
    _, _, trS_lo, trS_hi = _trace_of_signal(S, E)
    trace_lo = np.maximum(_down(trS_lo + _down(noise_lo.sum(axis=1), d), 1), 0.0)
    trace_hi = _up(trS_hi + _up(noise_hi.sum(axis=1), d), 1)
    trace = np.trace(S) + s_arr**2 * n_f.sum()
    # upper: Weyl with the signal bounds and the noise floor; every μ <= tr C
    upper = np.minimum(_up(_weyl_upper(sig_up[None, :], hi_sorted), 1), trace_hi[:, None])
    # lower: the noise floor (Weyl) and Poincaré on W = span(top signal vectors, top axes)
    W = _ritz_basis(Y[0][:, :n_sig], n_f, n_noise)
    p = W.shape[1]
    aW = np.abs(W)
    FW = W.T @ W - np.eye(p)
    fW = float(_up(_frob_up(FW) + 1.01 * (d + 2) * _U * _frob_up(aW.T @ aW), 2))
    noise_f = (s_arr**2)[:, None] * n_f[None, :]
    H = (W.T @ S @ W)[None] + (W.T[None] * noise_f[:, None, :]) @ W  # Wᵀ diag(n) W
    rnd = (1.01 * (2 * d + 4) * _U * _frob_up(aW.T @ np.abs(S) @ aW)
           + 1.01 * (d + 4) * _U * _frob_up((aW.T[None] * np.abs(noise_f)[:, None, :]) @ aW))
    err_n = np.maximum(noise_hi - noise_f, noise_f - noise_lo).max(axis=1)
    eH = _up((1.0 + fW) * (eS + err_n) + rnd + 2.0 * _U * _frob_up(H), 4)
    ritz_lo, _, _ = _eig_enclosure(H, eH)
    ritz_lo = _down(np.maximum(ritz_lo, 0.0) / _up(1.0 + fW, 1), 1)
    lower = lo_sorted.copy()
    lower[:, :p] = np.maximum(lower[:, :p], ritz_lo)
    allow = _up(4.0 * d * _U * trace_hi, 2)
    lower = _down(lower - allow[:, None], 1) - _TINY
    upper = _up(upper + allow[:, None], 1) + _TINY
    return lower, upper, trace_lo, trace_hi, trace


def _mp_frob(X: np.ndarray):
    return mpmath.sqrt(sum(x * x for x in X.ravel()))


def _mp_eig_enclosure(H: np.ndarray, eH: Any, u: Any):
    """:func:`_eig_enclosure` for one matrix of mpmath numbers (object array).

    ``u`` bounds the relative round-off of one operation at the working precision;
    the approximate eigenvectors come from :func:`mpmath.eigsy`.
    """
    p = H.shape[0]
    _, Q = mpmath.eigsy(mpmath.matrix(H.tolist()))
    Y = np.array(Q.tolist(), dtype=object)
    G = Y.T.dot(H).dot(Y)
    aY = np.abs(Y)
    rnd = (2 * p + 4) * u * _mp_frob(aY.T.dot(np.abs(H)).dot(aY))
    F = Y.T.dot(Y)
    for i in range(p):
        F[i, i] -= 1
    f = _mp_frob(F) + (p + 2) * u * _mp_frob(aY.T.dot(aY))
    D = [G[i, i] for i in range(p)]
    for i in range(p):
        G[i, i] = mpmath.mpf(0)
    slack = 1 + 100 * p * p * u  # round-off of the error terms themselves
    delta = (_mp_frob(G) + rnd + eH * (1 + f)) * slack
    if not f < mpmath.mpf(1) / 2:
        return [mpmath.ninf] * p, [mpmath.inf] * p, Y
    Ds = sorted(D, reverse=True)
    lo, hi = [], []
    for x in Ds:
        g_lo, g_hi = x - delta, x + delta
        lo.append(g_lo / (1 + f) if g_lo >= 0 else g_lo / (1 - f))
        hi.append(g_hi / (1 - f) if g_hi >= 0 else g_hi / (1 + f))
    grow = 100 * u
    lo = [x - abs(x) * grow for x in lo]
    hi = [x + abs(x) * grow for x in hi]
    return lo, hi, Y


def _mp_bounds(S: np.ndarray, noise: np.ndarray, T: int, prec: int,
               n_sig: int = 12, n_noise: int = 8):
    """High-precision bounds, rigorous in the same way as :func:`_float_bounds`.

    ``S`` and ``noise`` are the mpmath values of :func:`ribbonlib.cloud` at ``prec``
    digits, taken to carry a relative error of at most ``_MP_INPUT·10^(-prec)`` each;
    the work runs at ``prec + 10`` digits.
    """
    d = S.shape[0]
    n_sig = min(n_sig, d)
    n_noise = min(n_noise, d)
    rank = min(d, T)
    wp = prec + 10
    with mpmath.workdps(wp):
        u = mpmath.mpf(10) ** (-wp)
        ein = _MP_INPUT * mpmath.mpf(10) ** (-prec)
        Smp = np.array([[mpmath.mpf(x) for x in row] for row in S], dtype=object)
        nmp = np.array([mpmath.mpf(x) for x in noise], dtype=object)
        eS = ein * _mp_frob(Smp) * (1 + 10 * d * d * u)
        _, sig_hi, Y = _mp_eig_enclosure(Smp, eS, u)
        sig_up = []
        for x in sig_hi:
            x = max(x, mpmath.mpf(0))
            sig_up.append(min(x, sig_up[-1]) if sig_up else x)
        for i in range(rank, d):
            sig_up[i] = mpmath.mpf(0)
        grow = 1 + 10 * d * u
        n_lo = [x * (1 - ein) for x in nmp]
        n_hi = [x * (1 + ein) * grow for x in nmp]
        ns_lo, ns_hi = sorted(n_lo, reverse=True), sorted(n_hi, reverse=True)
        diag = [Smp[k, k] for k in range(d)]
        trS_hi = sum(abs(x) * (1 + ein) for x in diag) * grow
        trS_lo = max(sum(x - abs(x) * ein for x in diag) * (1 - 10 * d * u), mpmath.mpf(0))
        trace_hi = (trS_hi + sum(n_hi)) * grow
        trace_lo = (trS_lo + sum(n_lo)) * (1 - 10 * d * u)
        upper = [min(trace_hi, min((sig_up[i] + ns_hi[m - i]) * grow for i in range(m + 1)))
                 for m in range(d)]
        # Poincaré on W = span(top eigenvectors of S, axes of the largest noise)
        Y_f = np.array([[float(x) for x in row] for row in Y])
        W0 = _ritz_basis(Y_f[:, :n_sig], np.array([float(x) for x in nmp]), n_noise)
        W = _mp_orthonormal(np.vectorize(mpmath.mpf, otypes=[object])(W0))
        p = W.shape[1]
        aW = np.abs(W)
        FW = W.T.dot(W)
        for i in range(p):
            FW[i, i] -= 1
        fW = (_mp_frob(FW) + (d + 2) * u * _mp_frob(aW.T.dot(aW))) * grow
        C = Smp.copy()
        for k in range(d):
            C[k, k] = C[k, k] + nmp[k]
        H = W.T.dot(C).dot(W)
        err_n = max(x * ein for x in nmp) if d else mpmath.mpf(0)
        eH = ((1 + fW) * (eS + err_n) + (2 * d + 4) * u * _mp_frob(aW.T.dot(np.abs(C)).dot(aW))
              ) * grow
        ritz_lo, _, _ = _mp_eig_enclosure(H, eH, u)
        lower = list(ns_lo)
        for i, val in enumerate(ritz_lo):
            lower[i] = max(lower[i], max(val, mpmath.mpf(0)) / (1 + fW) * (1 - 10 * u))
        allow = 10 * d * mpmath.mpf(10) ** (-prec) * trace_hi
        lower = np.array([x - allow - abs(x) * 10 * u for x in lower], dtype=object)
        upper = np.array([x + allow + abs(x) * 10 * u for x in upper], dtype=object)
    return lower, upper


def _mp_orthonormal(A: np.ndarray) -> np.ndarray:
    """Modified Gram--Schmidt, applied twice, on an object array of mpf (columns)."""
    A = A.copy()
    n, p = A.shape
    for _ in range(2):
        for j in range(p):
            v = A[:, j]
            for i in range(j):
                v = v - (A[:, i].dot(v)) * A[:, i]
            nrm = mpmath.sqrt(v.dot(v))
            A[:, j] = v / nrm
    return A


def cloud_spectrum_bounds(lam: Any, b: Any, s: float, eta: float, steps: int, *,
                          precision: int | None = None):
    """Certified lower and upper bounds on every eigenvalue of the cloud covariance.

    For the descending eigenvalues ``μ_1 >= ... >= μ_d`` of ``C = S + diag(n)``
    (:func:`ribbonlib.cloud.covariance`), returns ``lower[m] <= μ_{m+1} <= upper[m]``.

    * upper: Weyl, ``μ_{i+j-1}(C) <= σ̄_i + n_(j)``, minimised over ``i + j = m + 1``,
      with ``σ̄_i >= σ_i(S)`` enclosed from approximate eigenvectors ``V`` of ``S``
      (Weyl's inequality on ``Vᵀ S V`` and Ostrowski's theorem for ``VᵀV ≠ I``) and
      ``σ_i(S) = 0`` for ``i > min(d, T)`` (the centred ``T + 1`` points span at most
      ``T`` dimensions); also ``μ <= tr C``.
    * lower: ``μ_m(C) >= n_(m)`` (Weyl, ``S ⪰ 0``) and the Poincaré separation theorem,
      ``μ_m(C) >= λ_m(Wᵀ C W)/λ_max(WᵀW)`` for any ``W`` of full column rank (exact
      orthonormality is not needed), here spanned by the top approximate eigenvectors of
      ``S`` and the coordinate axes of the largest noise variances.

    Every quantity is evaluated with a bound on its round-off (see the module notes),
    so the bounds hold for the exact eigenvalues.

    Parameters
    ----------
    lam : array_like, shape (d,)
        Eigenvalues ``λ_k > 0`` of the input covariance (any order).
    b : array_like, shape (d,)
        Ground truth in the eigenbasis.
    s : float
        Initial weight scale, ``>= 0``.
    eta : float
        Learning rate, ``0 < eta·max(lam) < 2``.
    steps : int
        Number of gradient-descent steps ``T >= 0``.
    precision : int, optional
        Decimal digits (``>= 16``); the result is then two object arrays of mpmath.mpf.

    Returns
    -------
    lower, upper : ndarray, shape (d,)
        Bounds on the descending eigenvalues of ``C``; in float64 widened by the
        eigensolver allowance ``4·d·u·tr C`` (``10·d·10^(-precision)·tr C`` with
        ``precision``), so that they also enclose computed eigenvalues.

    Raises
    ------
    ValueError
        For non-positive or non-finite ``lam``, ``b`` of the wrong length or non-finite,
        ``s < 0``, ``eta`` outside ``(0, 2/max(lam))``, ``steps < 0`` or
        ``precision < 16``.
    """
    lam_arr, b_arr, s_val, eta_val, T = _check_inputs(lam, b, s, eta, steps)
    prec = _check_precision(precision)
    if prec is None:
        lam_f = np.asarray(lam_arr, dtype=float)
        S, E, n_f, n_lo, n_hi = _float_signal(lam_f, b_arr, eta_val, T)
        lower, upper, *_ = _float_bounds(S, E, n_f, n_lo, n_hi, np.array([s_val]), T)
        return lower[0], upper[0]
    S, noise = signal_and_noise(lam, b, s, eta, T, precision=prec)
    return _mp_bounds(np.asarray(S, dtype=object), np.asarray(noise, dtype=object), T, prec)


# ------------------------------------------------------------ analytic (closed-form) bounds

#: Rates ``κ`` of the exponential dictionaries ``e^(−jκt/T)`` tried by :func:`signal_tail_bounds`
#: (powers of two, so that ``T/κ`` is exact).
_KAPPAS = (0.5, 1.0)
#: Largest number of dictionary terms ``p`` (besides the constant) tried.
_MAX_EXTRA = 6
#: Number of candidate Blaschke nodes, equally spaced in ``artanh(r)``.
_N_NODE_GRID = 32


@lru_cache(maxsize=None)
def _log_const_hi(p: int, kappa: float) -> float:
    """Upper bound on ``log 2 + p log((1 − e^(−κ))/4) − log p!``."""
    F = _FN_ULPS
    w = float(_up(-math.expm1(-kappa), F)) / 4.0
    terms = [float(_up(math.log(2.0), F)), float(_up(p * float(_up(math.log(w), F)), 1)),
             -float(_down(math.log(math.factorial(p)), F))]
    return float(_sum_up(np.array(terms)))


def _dictionary_error2(theta_lo: np.ndarray, theta_hi: np.ndarray, T: int, p: int,
                       kappa: float) -> np.ndarray:
    """Upper bound on the squared sup-norm error of ``e^(−θt)``, ``t = 0..T``, in
    ``span{e^(−jκt/T) : j < p}``, for every ``θ ∈ [θ_lo, θ_hi]``.

    With ``x = e^(−κt/T) ∈ [e^(−κ), 1]`` the sequence is ``x^β``, ``β = θT/κ``; its
    Chebyshev interpolant of degree ``p − 1`` in ``x`` errs by at most
    ``|β(β−1)⋯(β−p+1)|/p! · max(1, e^(κ(p−β))) · 2((1 − e^(−κ))/4)^p``; each factor
    ``|β − j|`` is bounded by its larger value at the ends of the interval of ``β``.
    """
    scale = T / kappa  # exact: κ is a power of two
    beta_lo = _down(theta_lo * scale, 1)
    beta_hi = _up(theta_hi * scale, 1)
    j = np.arange(p, dtype=float)
    dist = _up(np.maximum(np.abs(beta_hi[:, None] - j), np.abs(beta_lo[:, None] - j)), 1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        logs = _up(np.log(dist), _FN_ULPS)
        s = _sum_up(logs, axis=1)
        growth = _up(kappa * _up(np.maximum(0.0, p - beta_lo), 1), 1)
        parts = np.stack([s, np.full_like(s, _log_const_hi(p, kappa)), growth], axis=1)
        total = _sum_up(parts, axis=1)
        e2 = np.where(total > 700.0, np.inf, _up(np.exp(2.0 * total), _FN_ULPS))
    return np.where(np.isneginf(s), 0.0, e2)


def _signal_tail_row(lam: np.ndarray, b: np.ndarray, eta: float, var_hi: np.ndarray,
                     trS_hi: float, T: int, max_rank: int) -> np.ndarray:
    """Closed-form ``τ_R >= Σ_{i>R} σ_i(S)`` for ``R = 0..max_rank`` (one spectrum).

    ``var_hi >= S_kk`` and ``trS_hi >= tr S`` are rigorous. Every closed form is
    evaluated from bounds on the exact rate ``a = ηλ`` (``|a − fl(ηλ)| <= u·fl(ηλ)``) and
    rounded up. See :func:`signal_tail_bounds`.
    """
    d = lam.size
    n = T + 1
    tau = np.full(max_rank + 1, np.inf)
    tau[0] = trS_hi
    rank = min(d, T)
    if rank <= max_rank:
        tau[rank:] = 0.0
    if rank == 0 or not np.any(var_hi > 0):
        return np.minimum.accumulate(np.where(np.isfinite(tau), tau, tau[0]))
    a = eta * lam
    a_lo, a_hi = _down(a, 1), _up(a, 1)
    b2 = b * b
    two_lo, two_hi = _down(2.0 - a_hi, 1), _up(2.0 - a_lo, 1)  # bounds on 2 − a
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # Blaschke residuals u²/(n(1 − r²)) · Π_j δ(r, ρ_j)², u² /(n(1 − r²)) = b²/(nη(2 − a))
        base = np.where(two_lo > 0, _up(b2 / (float(n) * eta * two_lo), 6), np.inf)
        base = np.where(b2 == 0, 0.0, base)
        # artanh(r) = log((2 − a)/a)/2 lies in [h_lo, h_hi]; the nodes are ρ_j = tanh(g_j)
        h_lo = np.where(two_lo > 0, 0.5 * _down(np.log(_down(two_lo / a_hi, 1)), _FN_ULPS),
                        -np.inf)
        h_hi = 0.5 * _up(np.log(_up(two_hi / a_lo, 1)), _FN_ULPS)
        h = 0.5 * np.log((2.0 - a) / a)  # only to place the nodes
    lo, hi = float(h.min()), float(h.max())
    grid = np.linspace(lo, hi, _N_NODE_GRID) if hi > lo else np.array([lo])
    # pseudo-hyperbolic distance δ(r, ρ) = |tanh(artanh r − g)| <= tanh(dist)
    dist = np.maximum(_up(h_hi[:, None] - grid[None, :], 1), _up(grid[None, :] - h_lo[:, None], 1))
    # (raised to 2^-1000 at least, so that inf·T2 stays inf)
    T2 = np.clip(_up(np.tanh(np.maximum(dist, 0.0)) ** 2, 2 * _FN_ULPS + 1), 2.0**-1000, 1.0)
    pos = a_hi < 1.0  # r > 0
    theta_lo = _down(-np.log1p(-a_lo[pos]), _FN_ULPS)  # −log r
    theta_hi = _up(-np.log1p(-a_hi[pos]), _FN_ULPS)
    u2 = _up(lam * b2, 2)
    floors = [(0, var_hi)]  # (number of extra ranks, per-mode residual without Blaschke nodes)
    for kappa in _KAPPAS:
        for p in range(2, min(max_rank, _MAX_EXTRA) + 2):
            e2 = np.full(d, np.inf)
            e2[pos] = _dictionary_error2(theta_lo, theta_hi, T, p, kappa)
            with np.errstate(invalid="ignore", over="ignore"):
                term = np.where(u2 > 0, _up(u2 * e2, 1), 0.0)  # 0·inf: a mode without signal
            floors.append((p - 1, np.minimum(var_hi, term)))
    # sums of d non-negative terms and products of two, rounded up (see _up)
    sum_up, prod_up = 1.0 + (2.0 * d + 4.0) * _U, 1.0 + 4.0 * _U
    with np.errstate(invalid="ignore", over="ignore"):
        for extra, floor in floors:
            B = base.copy()
            used = np.zeros(grid.size, dtype=bool)  # distinct nodes (the lemma's hypothesis)
            for i in range(0, max_rank + 1 - extra):
                R = i + extra
                val = float(np.minimum(B, floor).sum()) * sum_up + d * _TINY
                if val < tau[R]:
                    tau[R] = val
                if R == max_rank or used.all():
                    break
                cand = np.minimum(B[:, None] * T2, floor[:, None]).sum(axis=0)
                cand[used] = np.inf
                jn = int(np.argmin(cand))
                used[jn] = True
                B = B * T2[:, jn] * prod_up
    return np.minimum.accumulate(tau)


def _analytic_signal(lam: np.ndarray, b: np.ndarray, eta: float, T: int, max_rank: int):
    """Everything the analytic bounds need from the signal, for one row, with rigorous ends.

    Returns a dict with bounds ``trS_lo <= tr S <= trS_hi``, ``fro_hi >= ||S||_F``,
    ``sig_lo <= σ_1(S)``, the tails ``tau`` (``R = 0..max_rank``), ``sig_up`` (``(d,)``
    bounds on every ``σ_i(S)``), for the two test vectors lower bounds ``qS_lo`` on
    ``vᵀSv`` and ``qN_lo`` on ``Σ n̂_k v_k²`` and upper bounds ``nv_hi`` on ``vᵀv``, bounds
    ``var_lo/var_hi`` on ``diag S``, ``n_lo/n_hi`` on the unit noise and the float values
    ``n_f``, ``trS_f``.
    """
    d = lam.size
    S, E, n_f, n_lo, n_hi = _float_signal(lam, b, eta, T)
    var_lo, var_hi, trS_lo, trS_hi = _trace_of_signal(S, E)
    fro_hi = float(_up(_frob_up(S) + _frob_up(E), 1))
    # explicit test vectors: v0 = sign(u)·sqrt(S_kk) and one power step w = S v0
    u = np.sqrt(lam) * b
    v0 = np.sign(u) * np.sqrt(np.maximum(np.diag(S), 0.0))
    w = S @ v0
    aS = np.abs(S)
    qS_lo, qN_lo, nv_hi = [], [], []
    for v in (v0, w):
        if not np.any(v != 0) or not np.all(np.isfinite(v)):
            continue
        av = np.abs(v)
        q = float(v @ (S @ v))
        rnd = 1.01 * (2 * d + 4) * _U * float(av @ (aS @ av))  # round-off of vᵀ S v
        err = float(_up(rnd + float(_up(av @ (E @ av), 2 * d + 2)), 1))  # and of S itself
        qS_lo.append(max(float(_down(q - err, 1)), 0.0))  # vᵀSv >= 0 (S ⪰ 0)
        vv = v * v
        qN_lo.append(float(_down(vv @ n_lo, d + 2)))
        nv_hi.append(float(_up(vv.sum(), d + 1)))
    qS_lo, qN_lo, nv_hi = np.array(qS_lo), np.array(qN_lo), np.array(nv_hi)
    sig_lo = float(max([0.0] + list(_down(qS_lo / nv_hi, 1))))
    tau = _signal_tail_row(lam, b, eta, var_hi, trS_hi, T, max_rank)
    if max_rank >= 1:
        tau[1:] = np.minimum(tau[1:], max(float(_up(trS_hi - sig_lo, 1)), 0.0))
        tau = np.minimum.accumulate(tau)
    rank = min(d, T)
    sig_up = np.empty(d)
    sig_up[0] = min(trS_hi, fro_hi)
    i = np.arange(2, d + 1)
    # (i − 1) σ_i² <= ||S||_F² − σ_1² <= fro_hi² − sig_lo²: both ends rigorous, so the
    # cancellation of this difference costs accuracy, never validity
    rest2 = max(float(_up(_up(fro_hi * fro_hi, 1) - _down(sig_lo * sig_lo, 1), 1)), 0.0)
    rest = _up(np.sqrt(_up(rest2 / (i - 1), 1)), 1)
    best = np.full(d - 1, np.inf)
    for j in range(0, max_rank + 1):
        ok = i - j >= 1
        best[ok] = np.minimum(best[ok], _up(tau[j] / (i[ok] - j), 1))
    sig_up[1:] = np.minimum(np.minimum(best, rest), sig_up[0])
    sig_up[rank:] = 0.0
    return {"trS_lo": trS_lo, "trS_hi": trS_hi, "trS_f": float(np.trace(S)), "fro_hi": fro_hi,
            "sig_lo": sig_lo, "tau": tau, "sig_up": sig_up, "qS_lo": qS_lo, "qN_lo": qN_lo,
            "nv_hi": nv_hi, "var_lo": var_lo, "var_hi": var_hi, "n_f": n_f, "n_lo": n_lo,
            "n_hi": n_hi, "rank": rank}


def _min_plus(f: np.ndarray, g: np.ndarray, shift: int) -> np.ndarray:
    """``out[..., m] = min_{i + j = m + shift} f[..., i] + g[..., j]`` over valid ``i, j``.

    ``f`` has shape ``(..., P)`` or ``(P,)``, ``g`` shape ``(..., Q)``; ``m = 0..Q−1``.
    """
    P = f.shape[-1]
    Q = g.shape[-1]
    m = np.arange(Q)[:, None]
    i = np.arange(P)[None, :]
    j = m + shift - i
    valid = (j >= 0) & (j < Q)
    jj = np.where(valid, j, 0)
    total = f[..., None, :] + g[..., jj]
    return np.where(valid, total, np.inf).min(axis=-1)


@dataclass(frozen=True)
class SpectrumBounds:
    """Two-sided bounds on the spectrum of the cloud covariance and on its tails.

    Attributes
    ----------
    lower, upper : ndarray, shape (..., d)
        ``lower[m] <= μ_{m+1}(C) <= upper[m]`` for the descending eigenvalues.
    trace : ndarray, shape (...)
        ``tr C`` in float64 (exact up to round-off).
    tail_lower, tail_upper : ndarray, shape (..., d + 1)
        ``tail_lower[K] <= Σ_{m>K} μ_m <= tail_upper[K]`` for ``K = 0..d``.
    signal_upper : ndarray, shape (..., d)
        Upper bounds on the descending eigenvalues ``σ_i(S)`` of the signal (broadcast
        against ``lower``; independent of ``s``).
    signal_tail : ndarray, shape (..., max_rank + 1)
        ``τ_R >= Σ_{i>R} σ_i(S)``.
    trace_lower, trace_upper : ndarray, shape (...)
        Rigorous bounds ``trace_lower <= tr C <= trace_upper``.
    """

    lower: np.ndarray
    upper: np.ndarray
    trace: np.ndarray
    tail_lower: np.ndarray
    tail_upper: np.ndarray
    signal_upper: np.ndarray
    signal_tail: np.ndarray
    trace_lower: np.ndarray
    trace_upper: np.ndarray


def _tails(x: np.ndarray, up: bool) -> np.ndarray:
    """``t_j = Σ_{m>j} x_(m)`` for ``j = 0..d`` of rows sorted descending, rounded out."""
    d = x.shape[-1]
    rev = np.cumsum(x[..., ::-1], axis=-1)[..., ::-1]
    rev = _up(rev, d) if up else _down(rev, d)
    return np.concatenate([rev, np.zeros(x.shape[:-1] + (1,))], axis=-1)


def _tau_full(sig: dict, d: int, max_rank: int) -> np.ndarray:
    """The signal tails ``τ_i`` for ``i = 0..d`` (``τ_i <= τ_max_rank`` beyond, 0 past the rank)."""
    tau_full = np.full(d + 1, sig["tau"][-1])
    k = min(max_rank + 1, d + 1)
    tau_full[:k] = sig["tau"][:k]
    tau_full[sig["rank"]:] = 0.0
    return tau_full


def _analytic_from_signal(sig: dict, s_arr: np.ndarray, max_rank: int):
    """Bounds on ``C = S + s² diag(n̂)`` for every ``s`` in ``s_arr`` from the signal summary."""
    d = sig["n_f"].size
    s2 = s_arr**2
    s2_lo = _down(s2, 1)
    _, _, noise_lo, noise_hi = _scaled_noise(sig["n_lo"], sig["n_hi"], s_arr)
    tn_lo, tn_hi = _tails(noise_lo, up=False), _tails(noise_hi, up=True)
    trace_lo = np.maximum(_down(sig["trS_lo"] + tn_lo[:, 0], 1), 0.0)
    trace_hi = _up(sig["trS_hi"] + tn_hi[:, 0], 1)
    trace = sig["trS_f"] + s2 * sig["n_f"].sum()
    # lower bounds: n_(m), and for m = 1 the diagonal and the Rayleigh quotients
    lower = noise_lo.copy()
    diag_lo = _down(sig["var_lo"][None, :] + _down(s2_lo[:, None] * sig["n_lo"][None, :], 1), 1)
    cand = [noise_lo[:, 0], diag_lo.max(axis=1)]
    for qs, qn, nv in zip(sig["qS_lo"], sig["qN_lo"], sig["nv_hi"]):
        num = np.maximum(_down(qs + _down(s2_lo * qn, 1), 1), 0.0)
        cand.append(_down(num / nv, 1))
    lower[:, 0] = np.max(np.stack(cand), axis=0)
    # upper bounds: Weyl with the analytic signal bounds, and tr C − Σ_{i<m} lower_i
    upper = _up(_weyl_upper(sig["sig_up"][None, :], noise_hi), 1)
    head_lo = _down(np.cumsum(lower, axis=1), d)  # lower >= 0 here
    upper[:, 0] = np.minimum(upper[:, 0], trace_hi)
    upper[:, 1:] = np.minimum(upper[:, 1:], _up(trace_hi[:, None] - head_lo[:, :-1], 1))
    # tails: Ky Fan with the signal tails and the noise tails; tr C minus the head
    zero = np.zeros((s2.size, 1))
    tail_up = _up(_min_plus(_tau_full(sig, d, max_rank), tn_hi, 0), 1)
    tail_up = np.minimum(tail_up, _up(trace_hi[:, None] - np.concatenate([zero, head_lo], axis=1), 1))
    head_up = _up(np.cumsum(upper, axis=1), d)
    tail_lo = np.maximum(tn_lo, _down(trace_lo[:, None] - np.concatenate([zero, head_up], axis=1), 1))
    # the eigensolver allowance (so that computed eigenvalues are enclosed too)
    allow = _up(4.0 * d * _U * trace_hi, 2)[:, None]
    lower = _down(lower - allow, 1) - _TINY
    upper = _up(upper + allow, 1) + _TINY
    tail_lo = np.maximum(_down(tail_lo - d * allow, 2) - _TINY, 0.0)
    tail_up = _up(tail_up + d * allow, 2) + _TINY
    return lower, upper, trace, tail_lo, tail_up, trace_lo, trace_hi


def signal_tail_bounds(lam: Any, b: Any, eta: float, steps: int, *, max_rank: int = 12) -> np.ndarray:
    """Closed-form upper bounds on the tails ``Σ_{i>R} σ_i(S)`` of the signal spectrum.

    ``S = Xᶜᵀ Xᶜ / (T+1)`` with ``X_tk = sqrt(λ_k) b_k r_k^t`` and ``Xᶜ`` its centred
    version (over ``t``), so by Eckart--Young ``Σ_{i>R} σ_i(S) <= ||Xᶜ − Z||_F² / (T+1)``
    for every ``Z`` of rank ``<= R``. ``Z`` approximates every column ``r_k^t`` in one
    space spanned by ``i`` exponentials ``ρ_j^t`` (distinct Blaschke nodes) and ``p``
    exponentials ``e^(−jκt/T)``, ``j < p`` (the constant among them is removed by
    centring), so ``R = i + p − 1``; column ``k`` contributes the smallest of

    * its variance ``S_kk`` (not approximated);
    * ``λ_k b_k² / ((T+1)(1 − r_k²)) · Π_j ((r_k − ρ_j)/(1 − r_k ρ_j))²``, the squared
      distance in ``ℓ²(ℕ)`` from ``r_k^t`` to the span of the ``ρ_j^t`` (Cauchy Gram
      matrix), valid also for ``r_k <= 0``;
    * ``λ_k b_k² E_k²`` with ``E_k`` the Chebyshev interpolation error of ``x^(β_k)`` on
      ``[e^(−κ), 1]`` in the variable ``x = e^(−κt/T)``, ``β_k = −T log(r_k)/κ``
      (``r_k > 0``).

    The nodes are chosen greedily (without repetition) on a grid equally spaced in
    ``artanh r`` and ``κ ∈ {1/2, 1}``; every choice gives a valid bound, the best is
    returned. Also ``τ_R = 0`` for ``R >= min(d, T)`` (rank), and ``τ`` is
    non-increasing. Every closed form is evaluated with a bound on its round-off and
    rounded up (see the module notes), so ``τ_R`` bounds the exact tail.

    Parameters
    ----------
    lam : array_like, shape (d,)
        Eigenvalues ``λ_k > 0``.
    b : array_like, shape (d,)
        Ground truth in the eigenbasis.
    eta : float
        Learning rate, ``0 < eta·max(lam) < 2``.
    steps : int
        ``T >= 0``.
    max_rank : int, optional
        Largest ``R``, ``0 <= max_rank <= 64``.

    Returns
    -------
    ndarray, shape (max_rank + 1,)
        ``τ_0 >= tr S`` (an upper bound on the trace) and ``τ_R >= Σ_{i>R} σ_i(S)``.
    """
    lam_arr, b_arr, _, eta_val, T = _check_inputs(lam, b, 0.0, eta, steps)
    R = _check_max_rank(max_rank)
    lam_f = np.asarray(lam_arr, dtype=float)
    S, E, *_ = _float_signal(lam_f, b_arr, eta_val, T)
    _, var_hi, _, trS_hi = _trace_of_signal(S, E)
    return _signal_tail_row(lam_f, b_arr, eta_val, var_hi, trS_hi, T, R)


def analytic_bounds(lam: Any, b: Any, s: float, eta: float, steps: int, *,
                    max_rank: int = 12) -> SpectrumBounds:
    """Closed-form two-sided bounds on the cloud spectrum (no eigen-decomposition).

    Every quantity is an explicit finite expression in ``λ, b, s, η, T``:

    * lower: ``μ_m(C) >= n_(m)`` (Weyl, ``S ⪰ 0``); for ``m = 1`` also ``max_k C_kk`` and the
      Rayleigh quotients of ``v = sign(u)·sqrt(diag S)`` (``u = sqrt(λ)∘b``) and of ``S v``;
    * upper: Weyl, ``μ_{i+j−1}(C) <= σ̄_i + n_(j)``, with ``σ̄_1 = min(tr S, ||S||_F)``,
      ``σ̄_i = min(min_{j<i} τ_j/(i−j), ((||S||_F² − σ_lo²)/(i−1))^(1/2))`` from the signal
      tails ``τ`` of :func:`signal_tail_bounds` and the lower bound ``σ_lo`` on ``σ_1(S)``,
      ``σ̄_i = 0`` for ``i > min(d, T)``; and ``μ_m <= tr C − Σ_{i<m} lower_i``;
    * tails: ``Σ_{m>K} μ_m(C) <= min_{i+j=K} (τ_i + Σ_{m>j} n_(m))`` (Ky Fan) and
      ``>= Σ_{m>K} n_(m)``, ``>= tr C − Σ_{m<=K} upper_m``.

    The closed forms are evaluated in float64 with a bound on the round-off of every
    operation and of every input (see the module notes), each difference of two bounds
    rounded in the safe direction, so that the bounds hold for the exact eigenvalues
    (where float64 cannot resolve a difference such as ``||S||_F² − σ_lo²``, the bound
    gets looser, never wrong); they are then widened by the eigensolver allowance
    ``4·d·u·tr C`` (as :func:`cloud_spectrum_bounds`).

    Parameters
    ----------
    lam, b, s, eta, steps
        As in :func:`cloud_spectrum_bounds` (``steps >= 0``).
    max_rank : int, optional
        Number of signal tails computed, ``0 <= max_rank <= 64``.

    Returns
    -------
    SpectrumBounds
        Arrays of shape ``(d,)`` (``(d + 1,)`` for the tails, scalar traces).
    """
    lam_arr, b_arr, s_val, eta_val, T = _check_inputs(lam, b, s, eta, steps)
    R = _check_max_rank(max_rank)
    out = _analytic_grid(np.asarray(lam_arr, dtype=float)[None, :], b_arr, np.array([s_val]),
                         eta_val, [T], R)
    return SpectrumBounds(*(x[0, 0] for x in (out.lower, out.upper, out.trace, out.tail_lower,
                                              out.tail_upper, out.signal_upper, out.signal_tail,
                                              out.trace_lower, out.trace_upper)))


def _analytic_grid(L: np.ndarray, b_arr: np.ndarray, s_arr: np.ndarray, eta_val: float,
                   T_list: list, max_rank: int) -> SpectrumBounds:
    A, d = L.shape
    Rn = s_arr.size
    lower = np.empty((A, Rn, d))
    upper = np.empty_like(lower)
    trace = np.empty((A, Rn))
    trace_lo = np.empty_like(trace)
    trace_hi = np.empty_like(trace)
    tail_lo = np.empty((A, Rn, d + 1))
    tail_up = np.empty_like(tail_lo)
    sig_up = np.empty((A, 1, d))
    sig_tail = np.empty((A, 1, max_rank + 1))
    with _blas_for(d):
        for a in range(A):
            sig = _analytic_signal(L[a], b_arr, eta_val, T_list[a], max_rank)
            (lower[a], upper[a], trace[a], tail_lo[a], tail_up[a], trace_lo[a],
             trace_hi[a]) = _analytic_from_signal(sig, s_arr, max_rank)
            sig_up[a, 0] = sig["sig_up"]
            sig_tail[a, 0] = sig["tau"]
    return SpectrumBounds(lower, upper, trace, tail_lo, tail_up, sig_up, sig_tail, trace_lo,
                          trace_hi)


def analytic_bounds_grid(lams: Any, b: Any, s_values: Any, eta: float, steps: Any, *,
                         max_rank: int = 12) -> SpectrumBounds:
    """:func:`analytic_bounds` on a grid of parameters (the signal work shared across scales).

    Parameters are those of :func:`spectra_grid`, plus ``max_rank``.

    Returns
    -------
    SpectrumBounds
        ``lower``, ``upper`` of shape ``(A, R, d)``, traces ``(A, R)``, tails
        ``(A, R, d + 1)``, ``signal_upper`` ``(A, 1, d)``, ``signal_tail``
        ``(A, 1, max_rank + 1)``.
    """
    L, b_arr, s_arr, eta_val, T_list = _grid_inputs(lams, b, s_values, eta, steps)
    R = _check_max_rank(max_rank)
    return _analytic_grid(L, b_arr, s_arr, eta_val, T_list, R)


def _check_max_rank(max_rank: Any) -> int:
    R = _validate.integer(max_rank, "max_rank", low=0)
    if R > 64:
        raise ValueError(f"max_rank must be an integer in [0, 64], got {max_rank!r}")
    return R


# ------------------------------------------------------------------------ grids


def _grid_inputs(lams: Any, b: Any, s_values: Any, eta: Any, steps: Any):
    L = np.asarray(lams, dtype=float)
    if L.ndim == 1:
        L = L[None, :]
    if L.ndim != 2 or L.shape[1] == 0:
        raise ValueError(f"lams must be a 2-D array (rows of eigenvalues > 0), got shape {np.shape(lams)}")
    for row in L:
        _validate.eigenvalues(row, "lams")
    A, d = L.shape
    b_arr = _validate.vector(b, "b", d)
    s_arr = np.atleast_1d(np.asarray(s_values, dtype=float))
    if s_arr.ndim != 1 or s_arr.size == 0 or not np.all(np.isfinite(s_arr)) or np.any(s_arr < 0):
        raise ValueError("s_values must be a non-empty 1-D array of finite scales >= 0")
    eta_val = _validate.learning_rate(eta, L)
    T_arr = np.atleast_1d(np.asarray(steps))
    if T_arr.size == 1:
        T_arr = np.repeat(T_arr, A)
    if T_arr.shape != (A,):
        raise ValueError(f"steps must be an integer or one integer per row of lams ({A}), got shape {np.shape(steps)}")
    T_list = [_validate.integer(t.item() if hasattr(t, "item") else t, "steps", low=0) for t in T_arr]
    return L, b_arr, s_arr, eta_val, T_list


def spectra_grid(lams: Any, b: Any, s_values: Any, eta: float, steps: Any) -> np.ndarray:
    """Exact (float64) cloud spectra on a grid of parameters, batched.

    Parameters
    ----------
    lams : array_like, shape (A, d)
        One spectrum of eigenvalues per row (e.g. one decay exponent per row).
    b : array_like, shape (d,)
        Ground truth in the eigenbasis, shared by all rows.
    s_values : array_like, shape (R,)
        Initial weight scales ``>= 0``.
    eta : float
        Learning rate, ``0 < eta·max(lams) < 2``.
    steps : int or array_like of int, shape (A,)
        ``T >= 0``, shared or one per row.

    Returns
    -------
    ndarray, shape (A, R, d)
        Descending eigenvalues of ``C = S + diag(noise)`` for every row and scale,
        from one batched :func:`numpy.linalg.eigvalsh` per row.

    Notes
    -----
    For ``d <= 256`` the grid functions (:func:`spectra_grid`, :func:`bounds_grid`,
    :func:`analytic_bounds_grid`) run BLAS on one thread while they work (through
    threadpoolctl, when it is installed): thousands of small eigen-decompositions gain
    nothing from threads and, on a loaded machine, lose up to a factor ten.
    """
    L, b_arr, s_arr, eta_val, T_list = _grid_inputs(lams, b, s_values, eta, steps)
    A, d = L.shape
    out = np.empty((A, s_arr.size, d))
    s2 = s_arr**2
    idx = np.arange(d)
    with _blas_for(d):
        for a in range(A):
            S, n_hat = signal_and_noise(L[a], b_arr, 1.0, eta_val, T_list[a])
            C = np.broadcast_to(S, (s_arr.size, d, d)).copy()
            C[:, idx, idx] += s2[:, None] * n_hat[None, :]
            out[a] = np.linalg.eigvalsh(C)[:, ::-1]
    return out


def bounds_grid(lams: Any, b: Any, s_values: Any, eta: float, steps: Any):
    """:func:`cloud_spectrum_bounds` on a grid, sharing the signal work across scales.

    Parameters are those of :func:`spectra_grid`.

    Returns
    -------
    lower, upper : ndarray, shape (A, R, d)
    trace : ribbonlib.certify.Enclosure, shape (A, R)
        Rigorous bounds ``trace.lo <= tr C <= trace.hi`` (``trace.mid`` is within
        round-off of the float64 trace); pass it on to :func:`ribbon_certified`.
    """
    from . import certify

    L, b_arr, s_arr, eta_val, T_list = _grid_inputs(lams, b, s_values, eta, steps)
    A, d = L.shape
    lower = np.empty((A, s_arr.size, d))
    upper = np.empty_like(lower)
    trace_lo = np.empty((A, s_arr.size))
    trace_hi = np.empty_like(trace_lo)
    with _blas_for(d):
        for a in range(A):
            S, E, n_f, n_lo, n_hi = _float_signal(L[a], b_arr, eta_val, T_list[a])
            lower[a], upper[a], trace_lo[a], trace_hi[a], _ = _float_bounds(
                S, E, n_f, n_lo, n_hi, s_arr, T_list[a])
    return lower, upper, certify.Enclosure(trace_lo, trace_hi)


def plateau_count(alpha: Any, eta: Any, steps: Any) -> np.ndarray:
    """Asymptotic number ``(2 η T)^(1/α)`` of modes on the noise plateau (power law).

    In the gradient-flow limit the noise of mode ``k`` is
    ``s²(1 − e^(−2ηλ_k T))/(2dηT)``; the modes with ``ηλ_k T >= 1/2`` form the plateau,
    and for ``λ_k = k^(−α)`` they are ``k <= (2ηT)^(1/α)``.

    Parameters
    ----------
    alpha : array_like
        Decay exponents ``α > 0`` of ``λ_k = k^(−α)``.
    eta : array_like
        Learning rates ``η > 0``.
    steps : array_like
        Numbers of steps ``T >= 0``.

    Returns
    -------
    ndarray
        ``(2ηT)^(1/α)``, broadcast over the three arguments.
    """
    a = np.asarray(alpha, dtype=float)
    e = np.asarray(eta, dtype=float)
    t = np.asarray(steps, dtype=float)
    if not (np.all(np.isfinite(a)) and np.all(a > 0)):
        raise ValueError("alpha must be finite and > 0 (decay exponents in (0, inf))")
    if not (np.all(np.isfinite(e)) and np.all(e > 0)):
        raise ValueError("eta must be finite and > 0 (learning rates in (0, inf))")
    if not (np.all(np.isfinite(t)) and np.all(t >= 0)):
        raise ValueError("steps must be finite and >= 0")
    return (2.0 * e * t) ** (1.0 / a)


# ------------------------------------------------------------------ ribbon test


@dataclass(frozen=True)
class RibbonCriterion:
    """Parameters of the hyper-ribbon definition.

    A spectrum ``μ_1 >= μ_2 >= ...`` (variances; widths ``w_k = sqrt(μ_k)``) is a
    ``(K, q, ε)`` hyper-ribbon when

    * the first ``K`` widths shrink at least geometrically on average:
      ``w_K <= q^(K−1) w_1``, i.e. ``μ_K <= q^(2(K−1)) μ_1``; and
    * the directions beyond the ``K``-th carry at most a fraction ``ε`` of the variance:
      ``Σ_{k>K} μ_k <= ε Σ_k μ_k``.

    Attributes
    ----------
    K : int
        Number of leading directions, ``>= 2``.
    q : float
        Largest average ratio of consecutive widths, in ``(0, 1)``.
    eps : float
        Largest fraction of the variance left outside the first ``K`` directions,
        in ``(0, 1)``.
    """

    K: int = 4
    q: float = 0.5
    eps: float = 0.05

    def __post_init__(self) -> None:
        _validate.integer(self.K, "K", low=2)
        _validate.finite_real(self.q, "q", low=0.0, high=1.0, low_open=True, high_open=True)
        _validate.finite_real(self.eps, "eps", low=0.0, high=1.0, low_open=True, high_open=True)

    @property
    def ratio(self) -> float:
        """``q^(2(K−1))``: the largest allowed ``μ_K / μ_1`` (float64, a few ulp)."""
        return self.q ** (2 * (self.K - 1))

    @property
    def ratio_bounds(self) -> tuple[float, float]:
        """Rigorous float64 bounds ``lo <= q^(2(K−1)) <= hi`` on the exact ratio."""
        r = self.ratio
        return float(_down(r, _FN_ULPS)), float(_up(r, _FN_ULPS))


def _check_criterion(criterion: Any) -> RibbonCriterion:
    if not isinstance(criterion, RibbonCriterion):
        raise ValueError(f"criterion must be a RibbonCriterion, got {type(criterion).__name__}")
    return criterion


def is_ribbon(mu: Any, criterion: RibbonCriterion = RibbonCriterion()) -> np.ndarray:
    """Whether each descending spectrum in ``mu`` (last axis) is a hyper-ribbon.

    The definition applied to the given numbers in float64 (the ratio
    ``q^(2(K−1))`` and the sums rounded to float64); to decide it for exact eigenvalues
    known only through bounds, use :func:`ribbon_certified`.

    Parameters
    ----------
    mu : array_like, shape (..., d)
        Descending (non-increasing) eigenvalues, ``d >= criterion.K``, finite, with a
        positive sum.
    criterion : RibbonCriterion
        The ``(K, q, ε)`` of the definition.

    Returns
    -------
    ndarray of bool, shape (...)
    """
    criterion = _check_criterion(criterion)
    mu = np.asarray(mu, dtype=float)
    K = criterion.K
    if mu.ndim < 1 or mu.shape[-1] < K:
        raise ValueError(f"mu must have at least K = {K} eigenvalues along its last axis, got shape {mu.shape}")
    if not np.all(np.isfinite(mu)):
        raise ValueError("mu must be finite")
    if np.any(np.diff(mu, axis=-1) > 0):
        raise ValueError("mu must be sorted in non-increasing order along its last axis")
    total = mu.sum(axis=-1)
    if np.any(total <= 0):
        raise ValueError("mu must have a positive sum (a non-empty spectrum of variances)")
    head = mu[..., :K].sum(axis=-1)
    decay = mu[..., K - 1] <= criterion.ratio * mu[..., 0]
    variance = total - head <= criterion.eps * total
    return decay & variance


def _trace_ends(trace: Any, shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    """``(lo, hi)`` of an exact trace (array) or of a :class:`ribbonlib.certify.Enclosure`."""
    from . import certify

    if isinstance(trace, certify.Enclosure):
        lo, hi = trace.lo, trace.hi
    else:
        lo = hi = np.asarray(trace, dtype=float)
    if lo.shape != shape:
        raise ValueError(f"trace must have the shape {shape} of lower[..., 0], got {lo.shape}")
    if np.any(np.isnan(lo)) or np.any(np.isnan(hi)):
        raise ValueError("trace must not contain NaN")
    return lo, hi


def ribbon_certified(lower: Any, upper: Any, trace: Any,
                     criterion: RibbonCriterion = RibbonCriterion(), *,
                     tail_lower: Any = None, tail_upper: Any = None):
    """What a pair of eigenvalue bounds proves about the hyper-ribbon property.

    The comparisons are made for the exact numbers the bounds stand for: the ratio
    ``q^(2(K−1))``, every sum and every product are bounded in the safe direction, so
    ``proved`` implies that the exact spectrum is a hyper-ribbon and ``excluded`` that
    it is not, whenever ``lower <= μ <= upper`` (and the tail bounds) hold.

    Parameters
    ----------
    lower, upper : array_like, shape (..., d)
        Bounds on the descending eigenvalues.
    trace : array_like, shape (...), or ribbonlib.certify.Enclosure
        The trace ``Σ_k μ_k``: exact numbers, or rigorous bounds on it (as returned by
        :func:`bounds_grid`, or ``Enclosure(b.trace_lower, b.trace_upper)`` for a
        :class:`SpectrumBounds` ``b``).
    criterion : RibbonCriterion
    tail_lower, tail_upper : array_like, shape (..., d + 1), optional
        Extra bounds on the tails ``Σ_{m>K} μ_m`` for every ``K = 0..d`` (as in
        :class:`SpectrumBounds`); combined with those implied by ``lower`` and ``upper``.

    Returns
    -------
    proved : ndarray of bool
        The bounds imply a hyper-ribbon (sufficient condition):
        ``upper_K <= q^(2(K−1)) lower_1`` and an upper bound on the tail variance,
        ``min(tr − Σ_{k<=K} lower_k, Σ_{k>K} upper_k, tail_upper_K)``, is ``<= ε tr``.
    excluded : ndarray of bool
        The bounds imply that it is not one (necessary condition violated):
        ``lower_K > q^(2(K−1)) upper_1`` or a lower bound on the tail variance,
        ``max(tr − Σ_{k<=K} upper_k, Σ_{k>K} max(lower_k, 0), tail_lower_K)``, is ``> ε tr``.
    """
    criterion = _check_criterion(criterion)
    lo = np.asarray(lower, dtype=float)
    up = np.asarray(upper, dtype=float)
    K = criterion.K
    if lo.shape != up.shape or lo.ndim < 1 or lo.shape[-1] < K:
        raise ValueError(
            f"lower and upper must have the same shape (..., d) with d >= K = {K}; "
            f"got {lo.shape} and {up.shape}")
    for name, arr in (("lower", lo), ("upper", up)):
        if np.any(np.isnan(arr)):
            raise ValueError(f"{name} must not contain NaN")
    tr_lo, tr_hi = _trace_ends(trace, lo.shape[:-1])
    with np.errstate(invalid="ignore", over="ignore"):
        tail_up = np.minimum(_up(tr_hi - _sum_down(lo[..., :K], axis=-1), 1),
                             _sum_up(up[..., K:], axis=-1) if lo.shape[-1] > K else 0.0)
        tail_lo = np.maximum(_down(tr_lo - _sum_up(up[..., :K], axis=-1), 1),
                             _sum_down(np.maximum(lo[..., K:], 0.0), axis=-1)
                             if lo.shape[-1] > K else 0.0)
    for name, extra in (("tail_lower", tail_lower), ("tail_upper", tail_upper)):
        if extra is None:
            continue
        ex = np.asarray(extra, dtype=float)
        if ex.shape != lo.shape[:-1] + (lo.shape[-1] + 1,) or np.any(np.isnan(ex)):
            raise ValueError(f"{name} must have shape {lo.shape[:-1] + (lo.shape[-1] + 1,)} (one bound per K = 0..d), "
                             f"without NaN; got {ex.shape}")
        if name == "tail_lower":
            tail_lo = np.maximum(tail_lo, ex[..., K])
        else:
            tail_up = np.minimum(tail_up, ex[..., K])
    r_lo, r_hi = criterion.ratio_bounds
    eps = criterion.eps
    with np.errstate(invalid="ignore", over="ignore"):
        proved = ((up[..., K - 1] <= _down(r_lo * lo[..., 0], 1))
                  & (tail_up <= _down(eps * tr_lo, 1)))
        excluded = ((lo[..., K - 1] > _up(r_hi * up[..., 0], 1))
                    | (tail_lo > _up(eps * tr_hi, 1)))
    return proved, excluded


# ------------------------------------------------------------- analytic phase boundaries


def _largest_below(A: np.ndarray, B: np.ndarray) -> float:
    """``sup{x >= 0 : [0, x] ⊂ ⋃_k {A_k + x B_k <= 0}}`` for affine conditions, rounded down.

    Each condition ``A_k + x B_k <= 0`` holds on ``[0, −A_k/B_k]`` (``B_k > 0``,
    ``A_k <= 0``), on all of ``[0, ∞)`` (``B_k <= 0``, ``A_k <= 0``), or on a half-line
    ``[x_k, ∞)`` away from 0. The ends of the first kind are rounded down, those of the
    last kind up, so the returned ``x`` is covered. Returns ``−1`` when no condition holds
    at ``x = 0``.
    """
    A = np.asarray(A, dtype=float).ravel()
    B = np.asarray(B, dtype=float).ravel()
    at0 = A <= 0
    if not np.any(at0):
        return -1.0
    if np.any(at0 & (B <= 0)):
        return math.inf
    right = _down(-A[at0] / B[at0], 1)
    x = float(right.max())
    # half-lines starting inside [0, x] extend the covered interval
    starts = (B < 0) & ~at0
    if np.any(starts):
        xs = _up(-A[starts] / B[starts], 1)
        if np.any(xs <= x):
            return math.inf
    return x


#: Relative margin by which :func:`analytic_rho_boundaries` shrinks its regions, so that
#: they lie inside the point-by-point verdicts of :func:`analytic_bounds` (the same bounds,
#: rounded along a different path).
_RHO_MARGIN = 1e-12


def analytic_rho_boundaries(lam: Any, b: Any, eta: float, steps: int,
                            criterion: RibbonCriterion = RibbonCriterion(), *,
                            max_rank: int = 12) -> tuple[float, float]:
    """Phase boundaries in ``ρ = s/|b|`` that follow in closed form from the analytic bounds.

    With ``x = s²``, ``n = x n̂`` (``n̂`` the noise at ``s = 1``), signal tails ``τ_i``
    and signal bounds ``σ̄_i`` from :func:`analytic_bounds`, ``t̂_j = Σ_{m>j} n̂_(m)`` and
    ``R = q^(2(K−1))``:

    * **necessary** (``ρ > ρ_nec`` is proved *not* a ribbon):
      ``ρ_nec² |b|² = min( ε tr S / (t̂_K − ε tr N̂),  R σ̄_1 / (n̂_(K) − R n̂_(1)) )``,
      a term counting only where its denominator is positive (variance condition:
      ``Σ_{m>K} μ_m >= x t̂_K > ε tr C``; decay condition: ``μ_K >= x n̂_(K) > R μ_1``);
    * **sufficient** (every ``ρ <= ρ_suff`` is proved a ribbon): the largest ``x`` such
      that on ``[0, x]`` both ``min_{i+j=K} (τ_i + x t̂_j) <= ε (tr S + x tr N̂)`` and
      ``min_{i+j=K+1} (σ̄_i + x n̂_(j)) <= R ℓ(x)`` hold, ``ℓ(x)`` running over the affine
      lower bounds on ``μ_1`` of :func:`analytic_bounds` (Rayleigh quotients of the two
      test vectors, the diagonal entries ``C_kk``, the noise floor ``x n̂_(1)``); each
      pair of affine functions gives an interval whose end is a ratio of closed-form
      quantities.

    Every bound enters with its rigorous float64 end and with the eigensolver allowance
    ``4·d·u·tr C`` of :func:`analytic_bounds` (affine in ``x`` too), each ratio is
    rounded in the safe direction, and both regions are then shrunk by a relative
    ``1e-12``, so that the result is rigorous for the exact spectrum and its regions lie
    inside those that :func:`analytic_bounds` with :func:`ribbon_certified` proves point
    by point.

    Parameters
    ----------
    lam, b, eta, steps
        As in :func:`analytic_bounds`; ``b`` must not vanish.
    criterion : RibbonCriterion
    max_rank : int, optional
        As in :func:`analytic_bounds`.

    Returns
    -------
    rho_suff, rho_nec : float
        ``0 <= ρ_suff <= ρ_nec <= inf``; ``ρ_suff = 0`` when the analytic bounds prove no
        ribbon at any small ``ρ``, ``ρ_nec = inf`` when they exclude none.
    """
    criterion = _check_criterion(criterion)
    lam_arr, b_arr, _, eta_val, T = _check_inputs(lam, b, 0.0, eta, steps)
    R_max = _check_max_rank(max_rank)
    if not np.any(b_arr != 0):
        raise ValueError("b must not vanish (ρ = s/|b| is undefined for b = 0)")
    bmax = float(np.max(np.abs(b_arr)))
    bnorm = bmax * math.sqrt(float(np.sum((b_arr / bmax) ** 2)))  # |b| without underflow
    lam_f = np.asarray(lam_arr, dtype=float)
    d = lam_f.size
    K = criterion.K
    if d < K:
        raise ValueError(f"the criterion needs d >= K = {K} eigenvalues, got d = {d}")
    sig = _analytic_signal(lam_f, b_arr, eta_val, T, R_max)
    r_lo, r_hi = criterion.ratio_bounds
    eps = criterion.eps
    nlo, nhi = -np.sort(-sig["n_lo"]), -np.sort(-sig["n_hi"])
    t_lo, t_hi = _tails(nlo, up=False), _tails(nhi, up=True)
    trN_lo, trN_hi = t_lo[0], t_hi[0]
    trS_lo, trS_hi = sig["trS_lo"], sig["trS_hi"]
    tau = _tau_full(sig, d, R_max)
    sig_up = sig["sig_up"]
    # the allowance c (tr S + x tr N̂) that analytic_bounds adds, with c = 4 d u (rounded up)
    c = float(_up(4.0 * d * _U, 2)) * (1.0 + 8.0 * _U)
    aS, aN = float(_up(c * trS_hi, 1)), float(_up(c * trN_hi, 1))
    # necessary: x t̂_K − d·allow(x) > ε tr C, or x n̂_(K) − allow(x) > R (σ̄_1 + x n̂_(1) + allow(x))
    cands = []
    den = float(_down(t_lo[K] - _up(eps * trN_hi + d * aN, 2), 1))
    if den > 0:
        cands.append(float(_up(_up(eps * trS_hi + d * aS, 2) / den, 1)))
    den = float(_down(nlo[K - 1] - _up(r_hi * nhi[0] + (1.0 + r_hi) * aN, 3), 1))
    if den > 0:
        cands.append(float(_up(_up(r_hi * sig_up[0] + (1.0 + r_hi) * aS, 3) / den, 1)))
    x_nec = min(cands) if cands else math.inf
    # sufficient, variance: τ_i + x t̂_j + d·allow(x) <= ε (tr S + x tr N̂), i + j = K
    i = np.arange(K + 1)
    A_tail = _up(tau[i] + d * aS - _down(eps * trS_lo, 1), 2)
    B_tail = _up(t_hi[K - i] + d * aN - _down(eps * trN_lo, 1), 2)
    x_tail = _largest_below(A_tail, B_tail)
    # sufficient, decay: σ̄_i + x n̂_(j) + allow(x) <= R (ℓ(x) − allow(x)), i + j = K + 1
    iu = np.arange(1, K + 1)
    L_A = np.array([0.0, *sig["var_lo"], *_down(sig["qS_lo"] / sig["nv_hi"], 1)])
    L_B = np.array([nlo[0], *sig["n_lo"], *np.maximum(_down(sig["qN_lo"] / sig["nv_hi"], 1), 0.0)])
    A_dec = _up(sig_up[iu - 1][:, None] + (1.0 + r_lo) * aS - _down(r_lo * L_A, 1)[None, :], 3)
    B_dec = _up(nhi[K - iu][:, None] + (1.0 + r_lo) * aN - _down(r_lo * L_B, 1)[None, :], 3)
    x_dec = _largest_below(A_dec, B_dec)
    x_suff = min(x_tail, x_dec)
    bn_lo, bn_hi = float(_down(bnorm, d + 8)), float(_up(bnorm, d + 8))
    if x_suff < 0:
        rho_suff = 0.0
    elif math.isinf(x_suff):
        rho_suff = math.inf
    else:
        rho_suff = max(float(_down(math.sqrt(max(float(_down(x_suff, 1)), 0.0)) / bn_hi, 2)), 0.0)
    rho_nec = (math.inf if math.isinf(x_nec)
               else float(_up(math.sqrt(float(_up(x_nec, 1))) / bn_lo, 2)))
    return rho_suff * (1.0 - _RHO_MARGIN), rho_nec * (1.0 + _RHO_MARGIN)
