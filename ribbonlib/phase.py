"""Phase diagram of hyper-ribbons: certified bounds on the cloud spectrum and sweeps.

The expected centred covariance of the cloud of gradient-descent trajectories is
``C = S + diag(n)`` (see :mod:`ribbonlib.cloud`): a positive semi-definite signal ``S``
of rank at most ``min(d, T)`` and a positive diagonal noise ``n``. This module

* bounds every eigenvalue of ``C`` from both sides (:func:`cloud_spectrum_bounds`,
  :func:`bounds_grid`) with Weyl's inequalities, the Courant--Fischer min-max principle
  and the Poincaré separation theorem (Rayleigh--Ritz values are lower bounds);
* computes exact spectra on whole parameter grids at once (:func:`spectra_grid`);
* decides whether a spectrum is a hyper-ribbon (:func:`is_ribbon`) and whether a pair
  of bounds proves or rules it out (:func:`ribbon_certified`).

Every bound holds for the exact eigenvalues; in float64 the bounds are widened by the
backward-error allowance of a symmetric eigensolver (``4·d·u·tr C``, ``u`` the unit
round-off) so that they also enclose eigenvalues computed by :func:`numpy.linalg.eigvalsh`.
With ``precision=p`` (decimal digits) the computation runs in mpmath and the allowance
is ``10·d·10^(-p)·tr C``.
"""

from __future__ import annotations

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
    "RibbonCriterion",
    "is_ribbon",
    "ribbon_certified",
    "plateau_count",
]

_U = np.finfo(float).eps / 2  # unit round-off of float64


# ----------------------------------------------------------------------------- inputs


def _check_inputs(lam: Any, b: Any, s: Any, eta: Any, steps: Any):
    lam_arr = _validate.eigenvalues(lam)
    lam_f = np.asarray(lam_arr, dtype=float)
    b_arr = _validate.vector(b, "b", lam_f.size)
    s_val = _validate.finite_real(s, "s", low=0.0)
    eta_val = _validate.learning_rate(eta, lam_f)
    steps_val = _validate.integer(steps, "steps", low=1)
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
        ``T >= 1``.
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
        Number of gradient-descent steps ``T >= 1``.
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
    T_list = [_validate.integer(t.item() if hasattr(t, "item") else t, "steps", low=1) for t in T_arr]
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
        ``T >= 1``, shared or one per row.

    Returns
    -------
    ndarray, shape (A, R, d)
        Descending eigenvalues of ``C = S + diag(noise)`` for every row and scale,
        from one batched :func:`numpy.linalg.eigvalsh` per row.
    """
    L, b_arr, s_arr, eta_val, T_list = _grid_inputs(lams, b, s_values, eta, steps)
    A, d = L.shape
    out = np.empty((A, s_arr.size, d))
    s2 = s_arr**2
    idx = np.arange(d)
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
    for a in range(A):
        S, n_hat = signal_and_noise(L[a], b_arr, 1.0, eta_val, T_list[a])
        lower[a], upper[a] = _float_bounds(S, n_hat, s_arr**2, T_list[a])
        trace[a] = np.trace(S) + s_arr**2 * n_hat.sum()
    return lower, upper, trace


def plateau_count(alpha: Any, eta: Any, steps: Any) -> np.ndarray:
    """Asymptotic number ``(2 η T)^(1/α)`` of modes on the noise plateau (power law)."""
    return (2.0 * np.asarray(eta, dtype=float) * np.asarray(steps, dtype=float)) ** (1.0 / np.asarray(alpha, dtype=float))


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


def is_ribbon(mu: Any, criterion: RibbonCriterion = RibbonCriterion()) -> np.ndarray:
    """Whether each descending spectrum in ``mu`` (last axis) is a hyper-ribbon.

    Parameters
    ----------
    mu : array_like, shape (..., d)
        Descending eigenvalues (variances), ``d >= criterion.K``.
    criterion : RibbonCriterion
        The ``(K, q, ε)`` of the definition.

    Returns
    -------
    ndarray of bool, shape (...)
    """
    mu = np.asarray(mu, dtype=float)
    K = criterion.K
    if mu.ndim < 1 or mu.shape[-1] < K:
        raise ValueError(f"mu must have at least K = {K} eigenvalues along its last axis, got shape {mu.shape}")
    if not np.all(np.isfinite(mu)):
        raise ValueError("mu must be finite")
    total = mu.sum(axis=-1)
    head = mu[..., :K].sum(axis=-1)
    decay = mu[..., K - 1] <= criterion.ratio * mu[..., 0]
    variance = total - head <= criterion.eps * total
    return decay & variance


def ribbon_certified(lower: Any, upper: Any, trace: Any,
                     criterion: RibbonCriterion = RibbonCriterion()):
    """What a pair of eigenvalue bounds proves about the hyper-ribbon property.

    Parameters
    ----------
    lower, upper : array_like, shape (..., d)
        Bounds on the descending eigenvalues.
    trace : array_like, shape (...)
        The exact trace ``Σ_k μ_k``.
    criterion : RibbonCriterion

    Returns
    -------
    proved : ndarray of bool
        The bounds imply a hyper-ribbon (sufficient condition):
        ``upper_K <= q^(2(K−1)) lower_1`` and an upper bound on the tail variance,
        ``min(tr − Σ_{k<=K} lower_k, Σ_{k>K} upper_k)``, is ``<= ε tr``.
    excluded : ndarray of bool
        The bounds imply that it is not one (necessary condition violated):
        ``lower_K > q^(2(K−1)) upper_1`` or a lower bound on the tail variance,
        ``max(tr − Σ_{k<=K} upper_k, Σ_{k>K} max(lower_k, 0))``, is ``> ε tr``.
    """
    lo = np.asarray(lower, dtype=float)
    up = np.asarray(upper, dtype=float)
    tr = np.asarray(trace, dtype=float)
    K = criterion.K
    if lo.shape != up.shape or lo.shape[-1] < K or tr.shape != lo.shape[:-1]:
        raise ValueError("lower and upper must have the same shape (..., d >= K) and trace shape (...)")
    tail_up = np.minimum(tr - lo[..., :K].sum(axis=-1), up[..., K:].sum(axis=-1))
    tail_lo = np.maximum(tr - up[..., :K].sum(axis=-1), np.maximum(lo[..., K:], 0.0).sum(axis=-1))
    proved = (up[..., K - 1] <= criterion.ratio * lo[..., 0]) & (tail_up <= criterion.eps * tr)
    excluded = (lo[..., K - 1] > criterion.ratio * up[..., 0]) | (tail_lo > criterion.eps * tr)
    return proved, excluded
