"""Phase diagram of hyper-ribbons: two-sided bounds on the cloud spectrum and sweeps.

The expected centred covariance of the cloud of gradient-descent trajectories is
``C = S + diag(n)`` (see :mod:`ribbonlib.cloud`): a positive semi-definite signal ``S``
of rank at most ``min(d, T)`` and a positive diagonal noise ``n``. This module

* bounds every eigenvalue of ``C`` from both sides in two ways:

  - *certified numerical* bounds (:func:`cloud_spectrum_bounds`, :func:`bounds_grid`),
    computed from the matrix with Weyl's inequalities, the Courant--Fischer min-max
    principle and the Poincaré separation theorem (Rayleigh--Ritz values are lower
    bounds); they are tight but need an eigen-decomposition;
  - *analytic* bounds (:func:`analytic_bounds`, :func:`analytic_bounds_grid`,
    :func:`signal_tail_bounds`), explicit finite expressions in ``λ, b, s, η, T``: the
    noise floor, Rayleigh quotients of explicit vectors, and closed-form tails of the
    signal spectrum from Blaschke products (Cauchy Gram matrices) and Chebyshev
    interpolation in time; from them the phase boundaries follow as formulas
    (:func:`analytic_rho_boundaries`);

* computes exact spectra on whole parameter grids at once (:func:`spectra_grid`);
* decides whether a spectrum is a hyper-ribbon (:func:`is_ribbon`) and whether bounds
  prove or rule it out (:func:`ribbon_certified`).

Every bound holds for the exact eigenvalues; in float64 the bounds are widened by the
backward-error allowance of a symmetric eigensolver (``4·d·u·tr C``, ``u`` the unit
round-off) so that they also enclose eigenvalues computed by :func:`numpy.linalg.eigvalsh`.
With ``precision=p`` (decimal digits) the certified bounds are computed in mpmath and the
allowance is ``10·d·10^(-p)·tr C``.
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from dataclasses import dataclass
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


# ----------------------------------------------------------------------- bounds


def _signal_certificate(S: np.ndarray, rank_bound: int, n_sub: int):
    """Upper bounds on every eigenvalue of the PSD matrix ``S`` and a Ritz basis.

    ``σ_i(S) <= ||P_{i-1}^⊥ S P_{i-1}^⊥||_F`` where ``P_{i-1}`` projects on the first
    ``i − 1`` columns of an orthonormal ``Q`` (Courant--Fischer); ``σ_i(S) = 0`` for
    ``i > rank_bound``. Returns ``(sig_up (d,), Q (d, n_sub))``.
    """
    d = S.shape[0]
    w, V = np.linalg.eigh(S)
    Q = V[:, ::-1][:, :n_sub]
    Q, _ = np.linalg.qr(Q)
    sig_up = np.empty(d)
    M = S.copy()
    sig_up[0] = np.linalg.norm(M)
    for i in range(1, min(n_sub, d - 1) + 1):
        q = Q[:, i - 1]
        Mq = M @ q
        qMq = q @ Mq
        # (I - qq^T) M (I - qq^T) with M already projected on the complement of q_1..q_{i-1}
        M = M - np.outer(q, Mq) - np.outer(Mq, q) + qMq * np.outer(q, q)
        sig_up[i] = np.linalg.norm(M)
    last = min(n_sub, d - 1)
    sig_up[last + 1:] = sig_up[last]
    sig_up = np.minimum.accumulate(sig_up)
    sig_up[rank_bound:] = 0.0
    return sig_up, Q


def _weyl_upper(sig_up: np.ndarray, noise_sorted: np.ndarray) -> np.ndarray:
    """``upper_m = min_{i+j=m+1} (σ_i + n_(j))`` along the last axis (batched)."""
    d = sig_up.shape[-1]
    i = np.arange(d)
    m = np.arange(d)
    j = m[:, None] - i[None, :]  # zero-based: j = m - i
    valid = j >= 0
    jj = np.where(valid, j, 0)
    total = sig_up[..., None, :] + noise_sorted[..., jj]
    total = np.where(valid, total, np.inf)
    return total.min(axis=-1)


def _ritz_basis(Q_sig: np.ndarray, noise: np.ndarray, n_noise: int) -> np.ndarray:
    """Orthonormal basis of span(Q_sig) + the coordinate axes of the largest noise."""
    d = noise.size
    order = np.argsort(-noise, kind="stable")[:n_noise]
    E = np.zeros((d, order.size))
    E[order, np.arange(order.size)] = 1.0
    Q, _ = np.linalg.qr(np.hstack([Q_sig, E]))
    return Q


def _float_bounds(S: np.ndarray, noise_hat: np.ndarray, s2: np.ndarray, T: int,
                  n_sig: int = 32, n_noise: int = 16):
    """Bounds for ``C = S + s² diag(noise_hat)`` for every ``s²`` in ``s2`` (float64)."""
    d = S.shape[0]
    n_sig = min(n_sig, d)
    n_noise = min(n_noise, d)
    rank_bound = min(d, T)
    sig_up, Q_sig = _signal_certificate(S, rank_bound, n_sig)
    noise = s2[:, None] * noise_hat[None, :]  # (R, d)
    noise_sorted = -np.sort(-noise, axis=-1)
    upper = _weyl_upper(sig_up[None, :], noise_sorted)
    # lower: Poincaré (Rayleigh--Ritz) on span(Q_sig, top-noise axes), and Weyl n_(m)
    Q = _ritz_basis(Q_sig, noise_hat, n_noise)
    p = Q.shape[1]
    QSQ = Q.T @ S @ Q
    QNQ = np.einsum("dk,dl,rd->rkl", Q, Q, noise)
    ritz = np.linalg.eigvalsh(QSQ[None] + QNQ)[:, ::-1]  # (R, p)
    lower = noise_sorted.copy()
    lower[:, :p] = np.maximum(lower[:, :p], ritz)
    trace = np.trace(S) + noise.sum(axis=-1)
    allow = 4.0 * d * _U * np.maximum(trace, 0.0)[:, None]
    upper = np.minimum(upper + allow, trace[:, None] + allow)
    lower = lower - allow
    return lower, upper


def _mp_bounds(S: np.ndarray, noise: np.ndarray, T: int, prec: int,
               n_sig: int = 12, n_noise: int = 8):
    """High-precision bounds: Ritz basis from float64, everything else in mpmath."""
    d = S.shape[0]
    n_sig = min(n_sig, d)
    n_noise = min(n_noise, d)
    S_f = np.array(S, dtype=float)
    n_f = np.array(noise, dtype=float)
    _, Q_sig = _signal_certificate(S_f, min(d, T), n_sig)
    Q0 = _ritz_basis(Q_sig, n_f, n_noise)
    with mpmath.workdps(prec + 10):
        one = mpmath.mpf(1)
        Smp = np.vectorize(lambda x: one * x, otypes=[object])(S)
        nmp = np.vectorize(lambda x: one * x, otypes=[object])(noise)
        Qs = _mp_orthonormal(np.vectorize(mpmath.mpf, otypes=[object])(Q_sig))
        Q = _mp_orthonormal(np.vectorize(mpmath.mpf, otypes=[object])(Q0))
        trS = sum(Smp[k, k] for k in range(d))
        # signal: trace-tail bounds σ_i <= tr S − Σ_{j<i} q_jᵀ S q_j
        SQs = Smp.dot(Qs)
        diag_q = [sum(Qs[k, j] * SQs[k, j] for k in range(d)) for j in range(Qs.shape[1])]
        # and the Frobenius form ||M_i||_F² = ||S||_F² − 2||S Q_i||_F² + ||Q_iᵀ S Q_i||_F²,
        # with a round-off allowance for the cancellation at the working precision
        B = Qs.T.dot(SQs)
        fro2 = sum(x * x for x in Smp.ravel())
        slack2 = 10 * d * mpmath.mpf(10) ** (-(prec + 8)) * fro2
        sig_up = [min(trS, mpmath.sqrt(fro2 + slack2))]
        acc = trS
        sq_cols = mpmath.mpf(0)
        for j in range(Qs.shape[1]):
            acc = acc - diag_q[j]
            sq_cols += sum(x * x for x in SQs[:, j])
            blk = sum(B[a, c] ** 2 for a in range(j + 1) for c in range(j + 1))
            f2 = fro2 - 2 * sq_cols + blk
            sig_up.append(min(acc, mpmath.sqrt(max(f2, 0) + slack2)))
        sig_up = sig_up[:d] + [sig_up[-1]] * max(0, d - len(sig_up))
        for i in range(1, d):
            sig_up[i] = min(sig_up[i], sig_up[i - 1])
        for i in range(min(d, T), d):
            sig_up[i] = mpmath.mpf(0)
        ns = sorted(nmp, reverse=True)
        upper = []
        for m in range(d):
            upper.append(min(sig_up[i] + ns[m - i] for i in range(m + 1)))
        # lower: Ritz values of C on span(Q), and Weyl n_(m)
        C = Smp.copy()
        for k in range(d):
            C[k, k] = C[k, k] + nmp[k]
        QCQ = Q.T.dot(C.dot(Q))
        ev = mpmath.eigsy(mpmath.matrix(QCQ.tolist()), eigvals_only=True)
        ritz = sorted([ev[i] for i in range(len(ev))], reverse=True)
        lower = list(ns)
        for i, val in enumerate(ritz):
            lower[i] = max(lower[i], val)
        trace = trS + sum(nmp)
        allow = 10 * d * mpmath.mpf(10) ** (-prec) * abs(trace)
        lower = np.array([x - allow for x in lower], dtype=object)
        upper = np.array([min(x, trace) + allow for x in upper], dtype=object)
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

    * upper: Weyl, ``μ_{i+j-1}(C) <= σ_i(S) + n_(j)``, minimised over ``i + j = m + 1``,
      with ``σ_i(S) <= ||(I − P_{i−1}) S (I − P_{i−1})||_F`` (Courant--Fischer; ``P_{i−1}``
      the projector on ``i − 1`` orthonormal Ritz vectors of ``S``; with ``precision``
      the smaller of this and the trace ``tr S − Σ_{j<i} q_jᵀ S q_j``) and ``σ_i(S) = 0`` for ``i > min(d, T)``
      (the centred ``T + 1`` points span at most ``T`` dimensions); also ``μ <= tr C``.
    * lower: ``μ_m(C) >= n_(m)`` (Weyl, ``S ⪰ 0``) and the Poincaré separation theorem,
      ``μ_m(C) >= λ_m(Qᵀ C Q)`` for any orthonormal ``Q``, here spanned by Ritz vectors of
      ``S`` and the coordinate axes of the largest noise variances.

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
        ``s < 0``, ``eta`` outside ``(0, 2/max(lam))``, ``steps < 1`` or
        ``precision < 16``.
    """
    lam_arr, b_arr, s_val, eta_val, T = _check_inputs(lam, b, s, eta, steps)
    prec = _check_precision(precision)
    if prec is None:
        S, noise = signal_and_noise(lam_arr, b_arr, s_val, eta_val, T)
        S = np.asarray(S, dtype=float)
        noise = np.asarray(noise, dtype=float)
        lower, upper = _float_bounds(S, noise, np.array([1.0]), T)
        return lower[0], upper[0]
    S, noise = signal_and_noise(lam, b, s, eta, T, precision=prec)
    return _mp_bounds(np.asarray(S, dtype=object), np.asarray(noise, dtype=object), T, prec)


# ------------------------------------------------------------ analytic (closed-form) bounds

#: Rates ``κ`` of the exponential dictionaries ``e^(−jκt/T)`` tried by :func:`signal_tail_bounds`.
_KAPPAS = (0.5, 1.0)
#: Largest number of dictionary terms ``p`` (besides the constant) tried.
_MAX_EXTRA = 6
#: Number of candidate Blaschke nodes, equally spaced in ``artanh(r)``.
_N_NODE_GRID = 32


def _log_binom_abs(beta: np.ndarray, p: int) -> np.ndarray:
    """``log |β(β−1)⋯(β−p+1) / p!|`` (``−inf`` where ``β`` is an integer in ``[0, p)``)."""
    j = np.arange(p, dtype=float)
    with np.errstate(divide="ignore"):
        return np.log(np.abs(beta[:, None] - j[None, :])).sum(axis=1) - math.lgamma(p + 1)


def _dictionary_error2(theta: np.ndarray, T: int, p: int, kappa: float) -> np.ndarray:
    """Squared sup-norm error of ``e^(−θt)``, ``t = 0..T``, in ``span{e^(−jκt/T) : j < p}``.

    With ``x = e^(−κt/T) ∈ [e^(−κ), 1]`` the sequence is ``x^β``, ``β = θT/κ``; its
    Chebyshev interpolant of degree ``p − 1`` in ``x`` errs by at most
    ``|β(β−1)⋯(β−p+1)|/p! · max(1, e^(κ(p−β))) · 2((1 − e^(−κ))/4)^p``.
    """
    beta = theta * (T / kappa)
    log_err = (_log_binom_abs(beta, p) + math.log(2.0) + p * math.log((1.0 - math.exp(-kappa)) / 4.0)
               + kappa * np.maximum(0.0, p - beta))
    with np.errstate(over="ignore"):
        return np.exp(2.0 * np.minimum(log_err, 350.0))


def _signal_tail_row(a: np.ndarray, u2: np.ndarray, var: np.ndarray, T: int, max_rank: int) -> np.ndarray:
    """Closed-form ``τ_R >= Σ_{i>R} σ_i(S)`` for ``R = 0..max_rank`` (one spectrum).

    ``a = ηλ``, ``u2 = λ b²``, ``var = S_kk``. See :func:`signal_tail_bounds`.
    """
    d = a.size
    n = T + 1
    tau = np.full(max_rank + 1, np.inf)
    tau[0] = var.sum()
    rank = min(d, T)
    if rank <= max_rank:
        tau[rank:] = 0.0
    if rank == 0 or not np.any(var > 0):
        return np.minimum.accumulate(np.where(np.isfinite(tau), tau, tau[0]))
    # Blaschke (infinite-horizon Cauchy) residuals: u²/(n(1−r²)) · Π_j tanh²(h − g_j)
    base = u2 / (n * a * (2.0 - a))
    h = 0.5 * np.log((2.0 - a) / a)  # artanh(r), r = 1 − a, accurate for tiny a
    lo, hi = float(h.min()), float(h.max())
    grid = np.linspace(lo, hi, _N_NODE_GRID) if hi > lo else np.array([lo])
    T2 = np.tanh(h[:, None] - grid[None, :]) ** 2
    pos = a < 1.0
    theta = -np.log1p(-a[pos])  # −log r for r > 0
    floors = [(0, var)]  # (number of extra ranks, per-mode residual without Blaschke nodes)
    for kappa in _KAPPAS:
        for p in range(2, min(max_rank, _MAX_EXTRA) + 2):
            e2 = np.full(d, np.inf)
            e2[pos] = _dictionary_error2(theta, T, p, kappa)
            with np.errstate(invalid="ignore"):
                term = np.where(u2 > 0, u2 * e2, 0.0)  # 0·inf: a mode without signal
            floors.append((p - 1, np.minimum(var, term)))
    for extra, floor in floors:
        B = base.copy()
        for i in range(0, max_rank + 1 - extra):
            R = i + extra
            val = float(np.minimum(B, floor).sum())
            if val < tau[R]:
                tau[R] = val
            if R == max_rank:
                break
            cand = np.minimum(B[:, None] * T2, floor[:, None]).sum(axis=0)
            B = B * T2[:, int(np.argmin(cand))]
    return np.minimum.accumulate(tau)


def _row_quantities(lam: np.ndarray, b: np.ndarray, eta: float, T: int):
    """``S``, the noise ``n̂`` at unit scale (``s = 1``) and ``u = sqrt(λ)∘b`` for one row."""
    G, _, cov = cloud.time_averages(lam, eta, T)
    u = np.sqrt(lam) * b
    S = np.outer(u, u) * cov
    n_hat = lam * np.diag(G) / lam.size  # cloud.noise_variances with s = 1
    return S, n_hat, u


def _analytic_signal(lam: np.ndarray, b: np.ndarray, eta: float, T: int, max_rank: int):
    """Everything the analytic bounds need from the signal, for one row.

    Returns a dict with ``trS``, ``fro`` (``||S||_F``), ``sig_lo`` (lower bound on
    ``σ_1(S)``), ``tau`` (tail bounds ``R = 0..max_rank``), ``sig_up`` (``(d,)`` bounds on
    every ``σ_i(S)``), the two test vectors' ``S``-quadratic forms and norms, ``diagS``,
    ``n_hat`` and the bookkeeping arrays.
    """
    d = lam.size
    S, n_hat, u = _row_quantities(lam, b, eta, T)
    var = np.maximum(np.diag(S).copy(), 0.0)
    trS = float(var.sum())
    fro = float(np.linalg.norm(S))
    # explicit test vectors: v0 = sign(u)·sqrt(S_kk) and one power step w = S v0
    v0 = np.sign(u) * np.sqrt(var)
    w = S @ v0
    vecs = [v for v in (v0, w) if np.any(v != 0)]
    quad_S = np.array([v @ S @ v for v in vecs])
    norms2 = np.array([v @ v for v in vecs])
    quad_N = np.array([(v * v) @ n_hat for v in vecs])  # Σ n̂_k v_k²
    sig_lo = float(max([0.0] + list(quad_S / norms2)))
    tau = _signal_tail_row(eta * lam, lam * b**2, var, T, max_rank)
    if max_rank >= 1:
        tau[1:] = np.minimum(tau[1:], max(trS - sig_lo, 0.0))
    rank = min(d, T)
    sig_up = np.empty(d)
    sig_up[0] = min(trS, fro)
    i = np.arange(2, d + 1)
    rest = np.sqrt(max(fro * fro - sig_lo * sig_lo, 0.0) / (i - 1))
    best = np.full(d - 1, np.inf)
    for j in range(0, max_rank + 1):
        ok = i - j >= 1
        best[ok] = np.minimum(best[ok], tau[j] / (i[ok] - j))
    sig_up[1:] = np.minimum(best, rest)
    sig_up[1:] = np.minimum(sig_up[1:], sig_up[0])
    sig_up[rank:] = 0.0
    return {"trS": trS, "fro": fro, "sig_lo": sig_lo, "tau": tau, "sig_up": sig_up,
            "quad_S": quad_S, "quad_N": quad_N, "norms2": norms2, "diagS": var, "n_hat": n_hat,
            "rank": rank}


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
        ``tr C`` (exact up to round-off).
    tail_lower, tail_upper : ndarray, shape (..., d + 1)
        ``tail_lower[K] <= Σ_{m>K} μ_m(C) <= tail_upper[K]`` for ``K = 0..d``.
    signal_upper : ndarray, shape (..., d)
        Upper bounds on the descending eigenvalues ``σ_i(S)`` of the signal (broadcast
        against ``lower``; independent of ``s``).
    signal_tail : ndarray, shape (..., max_rank + 1)
        ``τ_R >= Σ_{i>R} σ_i(S)``.
    """

    lower: np.ndarray
    upper: np.ndarray
    trace: np.ndarray
    tail_lower: np.ndarray
    tail_upper: np.ndarray
    signal_upper: np.ndarray
    signal_tail: np.ndarray


def _analytic_from_signal(sig: dict, s2: np.ndarray, max_rank: int):
    """Bounds on ``C = S + s² diag(n̂)`` for every ``s²`` in ``s2`` from the signal summary."""
    d = sig["n_hat"].size
    n_hat = sig["n_hat"]
    nh_sorted = -np.sort(-n_hat)
    noise = s2[:, None] * nh_sorted[None, :]  # (R, d) descending
    # tails of the noise, t_j = Σ_{m>j} n_(m), j = 0..d, summed from the small end
    rev = np.cumsum(noise[:, ::-1], axis=1)[:, ::-1]
    t_noise = np.concatenate([rev, np.zeros((s2.size, 1))], axis=1)  # (R, d+1)
    trS = sig["trS"]
    trace = trS + t_noise[:, 0]
    # lower bounds: n_(m), and for m = 1 the Rayleigh quotients of explicit vectors
    lower = noise.copy()
    cand = [trS * 0.0 + noise[:, 0], (sig["diagS"][None, :] + s2[:, None] * n_hat[None, :]).max(axis=1)]
    for qs, qn, nv in zip(sig["quad_S"], sig["quad_N"], sig["norms2"]):
        cand.append((qs + s2 * qn) / nv)
    lower[:, 0] = np.max(np.stack(cand), axis=0)
    # upper bounds: Weyl with the analytic signal bounds, and tr C − Σ_{i<m} lower_i
    upper = _weyl_upper(sig["sig_up"][None, :], noise)
    head_lo = np.cumsum(lower, axis=1)
    upper[:, 0] = np.minimum(upper[:, 0], trace)
    upper[:, 1:] = np.minimum(upper[:, 1:], trace[:, None] - head_lo[:, :-1])
    # tails: Ky Fan with the signal tails τ_i (τ_i <= τ_max_rank beyond) and the noise tails
    tau_full = np.full(d + 1, sig["tau"][-1])
    k = min(max_rank + 1, d + 1)
    tau_full[:k] = sig["tau"][:k]
    tau_full[sig["rank"]:] = 0.0
    tail_up = _min_plus(tau_full, t_noise, 0)  # min_{i+j=K} τ_i + t_j
    tail_up = np.minimum(tail_up, trace[:, None] - np.concatenate([np.zeros((s2.size, 1)), head_lo], axis=1))
    head_up = np.cumsum(upper, axis=1)
    tail_lo = np.maximum(t_noise, trace[:, None] - np.concatenate([np.zeros((s2.size, 1)), head_up], axis=1))
    # round-off: relative inflation of the closed forms and the eigensolver allowance
    rel = 64.0 * (d + 16) * _U
    allow = 4.0 * d * _U * np.maximum(trace, 0.0)
    lower = lower * (1.0 - rel) - allow[:, None]
    upper = upper * (1.0 + rel) + allow[:, None]
    tail_lo = np.maximum(tail_lo * (1.0 - rel) - d * allow[:, None], 0.0)
    tail_up = tail_up * (1.0 + rel) + d * allow[:, None]
    return lower, upper, trace, tail_lo, tail_up


def signal_tail_bounds(lam: Any, b: Any, eta: float, steps: int, *, max_rank: int = 12) -> np.ndarray:
    """Closed-form upper bounds on the tails ``Σ_{i>R} σ_i(S)`` of the signal spectrum.

    ``S = Xᶜᵀ Xᶜ / (T+1)`` with ``X_tk = sqrt(λ_k) b_k r_k^t`` and ``Xᶜ`` its centred
    version (over ``t``), so by Eckart--Young ``Σ_{i>R} σ_i(S) <= ||Xᶜ − Z||_F² / (T+1)``
    for every ``Z`` of rank ``<= R``. ``Z`` approximates every column ``r_k^t`` in one
    space spanned by ``i`` exponentials ``ρ_j^t`` (Blaschke nodes) and ``p`` exponentials
    ``e^(−jκt/T)``, ``j < p`` (the constant among them is removed by centring), so
    ``R = i + p − 1``; column ``k`` contributes the smallest of

    * its variance ``S_kk`` (not approximated);
    * ``λ_k b_k² / ((T+1)(1 − r_k²)) · Π_j ((r_k − ρ_j)/(1 − r_k ρ_j))²``, the squared
      distance in ``ℓ²(ℕ)`` from ``r_k^t`` to the span of the ``ρ_j^t`` (Cauchy Gram
      matrix), valid also for ``r_k <= 0``;
    * ``λ_k b_k² E_k²`` with ``E_k`` the Chebyshev interpolation error of ``x^(β_k)`` on
      ``[e^(−κ), 1]`` in the variable ``x = e^(−κt/T)``, ``β_k = −T log(r_k)/κ``
      (``r_k > 0``).

    The nodes are chosen greedily on a grid equally spaced in ``artanh r`` and
    ``κ ∈ {0.5, 1, 2}``; every choice gives a valid bound, the best is returned. Also
    ``τ_R = 0`` for ``R >= min(d, T)`` (rank), and ``τ`` is non-increasing.

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
        ``τ_0 = tr S`` (exact) and ``τ_R >= Σ_{i>R} σ_i(S)``.
    """
    lam_arr, b_arr, _, eta_val, T = _check_inputs(lam, b, 0.0, eta, steps)
    R = _check_max_rank(max_rank)
    lam_f = np.asarray(lam_arr, dtype=float)
    _, _, cov = cloud.time_averages(lam_f, eta_val, T)
    var = np.maximum(lam_f * b_arr**2 * np.diag(cov), 0.0)
    tau = _signal_tail_row(eta_val * lam_f, lam_f * b_arr**2, var, T, R)
    return tau * (1.0 + 64.0 * (lam_f.size + 16) * _U)


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

    The closed forms are evaluated in float64 and widened by a relative ``64(d+16)u`` and
    the eigensolver allowance ``4·d·u·tr C`` (as :func:`cloud_spectrum_bounds`).

    Parameters
    ----------
    lam, b, s, eta, steps
        As in :func:`cloud_spectrum_bounds` (``steps >= 0``).
    max_rank : int, optional
        Number of signal tails computed, ``0 <= max_rank <= 64``.

    Returns
    -------
    SpectrumBounds
        Arrays of shape ``(d,)`` (``(d + 1,)`` for the tails, scalar trace).
    """
    lam_arr, b_arr, s_val, eta_val, T = _check_inputs(lam, b, s, eta, steps)
    R = _check_max_rank(max_rank)
    out = _analytic_grid(np.asarray(lam_arr, dtype=float)[None, :], b_arr, np.array([s_val]),
                         eta_val, [T], R)
    return SpectrumBounds(out.lower[0, 0], out.upper[0, 0], out.trace[0, 0], out.tail_lower[0, 0],
                          out.tail_upper[0, 0], out.signal_upper[0, 0], out.signal_tail[0, 0])


def _analytic_grid(L: np.ndarray, b_arr: np.ndarray, s_arr: np.ndarray, eta_val: float,
                   T_list: list, max_rank: int) -> SpectrumBounds:
    A, d = L.shape
    Rn = s_arr.size
    lower = np.empty((A, Rn, d))
    upper = np.empty_like(lower)
    trace = np.empty((A, Rn))
    tail_lo = np.empty((A, Rn, d + 1))
    tail_up = np.empty_like(tail_lo)
    sig_up = np.empty((A, 1, d))
    sig_tail = np.empty((A, 1, max_rank + 1))
    s2 = s_arr**2
    with _blas_for(d):
        for a in range(A):
            sig = _analytic_signal(L[a], b_arr, eta_val, T_list[a], max_rank)
            lower[a], upper[a], trace[a], tail_lo[a], tail_up[a] = _analytic_from_signal(sig, s2, max_rank)
            sig_up[a, 0] = sig["sig_up"] * (1.0 + 64.0 * (d + 16) * _U)
            sig_tail[a, 0] = sig["tau"] * (1.0 + 64.0 * (d + 16) * _U)
    return SpectrumBounds(lower, upper, trace, tail_lo, tail_up, sig_up, sig_tail)


def analytic_bounds_grid(lams: Any, b: Any, s_values: Any, eta: float, steps: Any, *,
                         max_rank: int = 12) -> SpectrumBounds:
    """:func:`analytic_bounds` on a grid of parameters (the signal work shared across scales).

    Parameters are those of :func:`spectra_grid`, plus ``max_rank``.

    Returns
    -------
    SpectrumBounds
        ``lower``, ``upper`` of shape ``(A, R, d)``, ``trace`` ``(A, R)``, tails
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
    trace : ndarray, shape (A, R)
        ``tr C`` (exact up to round-off).
    """
    L, b_arr, s_arr, eta_val, T_list = _grid_inputs(lams, b, s_values, eta, steps)
    A, d = L.shape
    lower = np.empty((A, s_arr.size, d))
    upper = np.empty_like(lower)
    trace = np.empty((A, s_arr.size))
    with _blas_for(d):
        for a in range(A):
            S, n_hat = signal_and_noise(L[a], b_arr, 1.0, eta_val, T_list[a])
            lower[a], upper[a] = _float_bounds(S, n_hat, s_arr**2, T_list[a])
            trace[a] = np.trace(S) + s_arr**2 * n_hat.sum()
    return lower, upper, trace


def plateau_count(alpha: Any, eta: Any, steps: Any) -> np.ndarray:
    """Asymptotic number ``(2 η T)^(1/α)`` of modes on the noise plateau (power law).

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
        """``q^(2(K−1))``: the largest allowed ``μ_K / μ_1``."""
        return self.q ** (2 * (self.K - 1))


def _check_criterion(criterion: Any) -> RibbonCriterion:
    if not isinstance(criterion, RibbonCriterion):
        raise ValueError(f"criterion must be a RibbonCriterion, got {type(criterion).__name__}")
    return criterion


def is_ribbon(mu: Any, criterion: RibbonCriterion = RibbonCriterion()) -> np.ndarray:
    """Whether each descending spectrum in ``mu`` (last axis) is a hyper-ribbon.

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


def ribbon_certified(lower: Any, upper: Any, trace: Any,
                     criterion: RibbonCriterion = RibbonCriterion(), *,
                     tail_lower: Any = None, tail_upper: Any = None):
    """What a pair of eigenvalue bounds proves about the hyper-ribbon property.

    Parameters
    ----------
    lower, upper : array_like, shape (..., d)
        Bounds on the descending eigenvalues.
    trace : array_like, shape (...)
        The exact trace ``Σ_k μ_k``.
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
    tr = np.asarray(trace, dtype=float)
    K = criterion.K
    if lo.shape != up.shape or lo.ndim < 1 or lo.shape[-1] < K or tr.shape != lo.shape[:-1]:
        raise ValueError(
            f"lower and upper must have the same shape (..., d) with d >= K = {K}, and trace the "
            f"shape (...); got {lo.shape}, {up.shape} and {tr.shape}")
    for name, arr in (("lower", lo), ("upper", up), ("trace", tr)):
        if np.any(np.isnan(arr)):
            raise ValueError(f"{name} must not contain NaN")
    tail_up = np.minimum(tr - lo[..., :K].sum(axis=-1), up[..., K:].sum(axis=-1))
    tail_lo = np.maximum(tr - up[..., :K].sum(axis=-1), np.maximum(lo[..., K:], 0.0).sum(axis=-1))
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
    proved = (up[..., K - 1] <= criterion.ratio * lo[..., 0]) & (tail_up <= criterion.eps * tr)
    excluded = (lo[..., K - 1] > criterion.ratio * up[..., 0]) | (tail_lo > criterion.eps * tr)
    return proved, excluded


# ------------------------------------------------------------- analytic phase boundaries


def _largest_below(A: np.ndarray, B: np.ndarray) -> float:
    """``sup{x >= 0 : [0, x] ⊂ ⋃_k {A_k + x B_k <= 0}}`` for affine conditions.

    Each condition ``A_k + x B_k <= 0`` holds on ``[0, −A_k/B_k]`` (``B_k > 0``,
    ``A_k <= 0``), on all of ``[0, ∞)`` (``B_k <= 0``, ``A_k <= 0``), or on a half-line
    ``[x_k, ∞)`` away from 0. Returns ``−1`` when no condition holds at ``x = 0``.
    """
    A = np.asarray(A, dtype=float).ravel()
    B = np.asarray(B, dtype=float).ravel()
    at0 = A <= 0
    if not np.any(at0):
        return -1.0
    if np.any(at0 & (B <= 0)):
        return math.inf
    right = -A[at0] / B[at0]
    x = float(right.max())
    # half-lines starting inside [0, x] extend the covered interval
    starts = (B < 0) & ~at0
    if np.any(starts):
        xs = -A[starts] / B[starts]
        if np.any(xs <= x):
            return math.inf
    return x


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
      test vectors, the diagonal entries ``C_kk``); each pair of affine functions gives an
      interval whose end is a ratio of closed-form quantities.

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
    bnorm2 = float(b_arr @ b_arr)
    if bnorm2 == 0.0:
        raise ValueError("b must not vanish (ρ = s/|b| is undefined for b = 0)")
    lam_f = np.asarray(lam_arr, dtype=float)
    d = lam_f.size
    K = criterion.K
    if d < K:
        raise ValueError(f"the criterion needs d >= K = {K} eigenvalues, got d = {d}")
    sig = _analytic_signal(lam_f, b_arr, eta_val, T, R_max)
    Rr, eps = criterion.ratio, criterion.eps
    nh = -np.sort(-sig["n_hat"])
    t_hat = np.concatenate([np.cumsum(nh[::-1])[::-1], [0.0]])
    trN = t_hat[0]
    trS = sig["trS"]
    tau = np.full(d + 1, sig["tau"][-1])
    k = min(R_max + 1, d + 1)
    tau[:k] = sig["tau"][:k]
    tau[sig["rank"]:] = 0.0
    sig_up = sig["sig_up"]
    # necessary
    cands = []
    den = t_hat[K] - eps * trN
    if den > 0:
        cands.append(eps * trS / den)
    den = nh[K - 1] - Rr * nh[0]
    if den > 0:
        cands.append(Rr * sig_up[0] / den)
    x_nec = min(cands) if cands else math.inf
    # sufficient: variance condition
    i = np.arange(K + 1)
    A_tail = tau[i] - eps * trS
    B_tail = t_hat[K - i] - eps * trN
    x_tail = _largest_below(A_tail, B_tail)
    # sufficient: decay condition, all pairs (upper candidate, lower candidate)
    iu = np.arange(1, K + 1)  # σ̄_i + x n̂_(j), i + j = K + 1
    A_up = sig_up[iu - 1]
    B_up = nh[K + 1 - iu - 1]
    L_A = [0.0, *list(sig["diagS"])] + list(sig["quad_S"] / sig["norms2"])
    L_B = [nh[0], *list(sig["n_hat"])] + list(sig["quad_N"] / sig["norms2"])
    L_A = np.array(L_A)
    L_B = np.array(L_B)
    A_dec = A_up[:, None] - Rr * L_A[None, :]
    B_dec = B_up[:, None] - Rr * L_B[None, :]
    x_dec = _largest_below(A_dec, B_dec)
    x_suff = min(x_tail, x_dec)
    rho_suff = 0.0 if x_suff < 0 else math.sqrt(x_suff / bnorm2) if math.isfinite(x_suff) else math.inf
    rho_nec = math.sqrt(x_nec / bnorm2) if math.isfinite(x_nec) else math.inf
    # round-off in the closed forms: shrink the proved and the excluded side by 1e-9 relative
    return rho_suff * (1.0 - 1e-9), rho_nec * (1.0 + 1e-9)
