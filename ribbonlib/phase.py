"""Phase diagram of hyper-ribbons: two-sided bounds on the cloud spectrum and sweeps.

The expected centred covariance of the cloud of gradient-descent trajectories is
``C = S + diag(n)`` (see :mod:`ribbonlib.cloud`): a positive semi-definite signal ``S``
of rank at most ``min(d, T)`` and a positive diagonal noise ``n``. This module

* bounds every eigenvalue of ``C`` from both sides in two ways:

  - *certified numerical* bounds (:func:`cloud_spectrum_bounds`, :func:`bounds_grid`),
    computed from the matrix with Weyl's inequalities and the Poincaré separation
    theorem (Rayleigh--Ritz values are lower bounds), the signal eigenvalues enclosed
    from approximate eigenvectors (Weyl and Ostrowski); they are tight but need an
    eigen-decomposition of ``S``;
  - *explicit* bounds (:func:`analytic_bounds`, :func:`analytic_bounds_grid`), without a
    ``d x d`` eigen-decomposition: Rayleigh--Ritz on the span of ``p`` columns of ``S``
    (each a closed form, chosen by a partial Cholesky factorisation with pivoting),
    the trace for what those columns miss, the noise floor, and Ky Fan's principle for
    the tails; from them the phase boundaries in ``ρ`` follow as formulas
    (:func:`analytic_rho_boundaries`), also for online SGD (:func:`sgd_analytic_bounds`,
    :func:`sgd_rho_boundaries`);

* computes exact spectra on whole parameter grids at once (:func:`spectra_grid`);
* decides whether a spectrum is a hyper-ribbon (:func:`is_ribbon`; a geometric
  hyper-ribbon, :func:`is_geometric_ribbon`) and whether bounds prove or rule it out
  (:func:`ribbon_certified`, :func:`geometric_certified`).

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
    "analytic_bounds",
    "analytic_bounds_grid",
    "RibbonCriterion",
    "is_ribbon",
    "ribbon_certified",
    "GeometricCriterion",
    "is_geometric_ribbon",
    "geometric_certified",
    "plateau_count",
    "analytic_rho_boundaries",
    "sgd_analytic_bounds",
    "sgd_rho_boundaries",
]

_U = np.finfo(float).eps / 2  # unit round-off of float64
#: Accuracy, in ulp, assumed for the float64 time averages of
#:func:`cloud.time_averages`
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
    """A context with a single BLAS thread for small matrices, when threadpoolctl is
    installed.

    A grid sweep does thousands of ``d x d`` eigen-decompositions; for ``d <= 256``
    threads
    only add synchronisation, and on a loaded machine multithreaded BLAS was measured to
    be up to ten times slower than one thread. Results are identical either way.
    """
    if d > _SMALL:
        return nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except (
        ImportError
    ):  # optional: the book environment has it, the core library does not need it
        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


# ------------------------------------------------------------------ directed rounding


def _up(x: Any, k: float = 1.0) -> np.ndarray:
    """An upper bound on a real number ``y`` whose float64 value ``x`` errs by ``<= γ_k
    |y|``.

    ``x + (2k + 2) u |x|`` rounded to float64 is at least ``x + γ_k |y|`` for every
    ``k >= 1`` (the extra ``(k + 2) u |x|`` pays for ``γ_k/(1 − γ_k)`` and for the
    rounding of the correction itself). The absolute ``2^-960`` pays for underflow,
    where relative error bounds fail (every gradual-underflow error is below
    ``2^-1074``, and the quantities here pass through a bounded number of operations).
    Exactly: ``fl(x + fl(fl(|x|·c) + 2^-960))`` with ``c = (2k + 2) u`` (exact),
    elementwise. Non-finite values are returned as they are.
    """
    x = np.asarray(x, dtype=float)
    c = (2.0 * k + 2.0) * _U
    if np.isfinite(x).all():
        return x + (np.abs(x) * c + _TINY)
    with np.errstate(invalid="ignore", over="ignore"):
        return np.where(np.isfinite(x), x + (np.abs(x) * c + _TINY), x)


def _down(x: Any, k: float = 1.0) -> np.ndarray:
    """A lower bound, as :func:`_up`: ``fl(x − fl(fl(|x|·c) + 2^-960))``, ``c = (2k +
    2) u``; non-finite values are returned as they are."""
    x = np.asarray(x, dtype=float)
    c = (2.0 * k + 2.0) * _U
    if np.isfinite(x).all():
        return x - (np.abs(x) * c + _TINY)
    with np.errstate(invalid="ignore", over="ignore"):
        return np.where(np.isfinite(x), x - (np.abs(x) * c + _TINY), x)


def _sum_up(x: np.ndarray, axis: Any = None) -> np.ndarray:
    """Upper bound on the exact sum of float64 numbers (any signs): ``fl(Σ) + γ_n
    Σ|x|``.

    Exactly ``_up(s + fl(_up(A, n)·c_n), 1)`` with ``s = fl(Σx)``, ``A = fl(Σ|x|)``
    (NumPy's sums, any order), ``c_n = (2n + 2) u`` and ``n`` the number of summands:
    ``x.size`` for ``axis=None``, ``x.shape[axis]`` otherwise. Where ``s`` is not
    finite it is returned as it is.
    """
    n = x.size if axis is None else x.shape[axis]
    s = np.sum(x, axis=axis)
    with np.errstate(invalid="ignore", over="ignore"):
        out = _up(s + _up(np.sum(np.abs(x), axis=axis), n) * ((2.0 * n + 2.0) * _U), 1)
    return np.where(np.isfinite(s), out, s)


def _sum_down(x: np.ndarray, axis: Any = None) -> np.ndarray:
    """Lower bound on the exact sum of float64 numbers (any signs)."""
    return -_sum_up(-x, axis=axis)


def _frob_up(X: np.ndarray) -> np.ndarray:
    """Upper bound on the Frobenius norm over the last two axes (batched).

    Exactly ``_up(fl(√q), 1)`` with ``q = _up(fl(Σ x²), n)`` and ``n`` the number of
    entries of one matrix (the product of the last two lengths): the sum of squares
    errs by at most ``γ_n`` of itself, the square root is correctly rounded.
    """
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


def signal_and_noise(
    lam: Any, b: Any, s: float, eta: float, steps: int, *, precision: int | None = None
):
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

    Raises
    ------
    ValueError
        As :func:`ribbonlib.cloud.signal_covariance` and
        :func:`ribbonlib.cloud.noise_variances`, which validate the arguments.
    """
    S = cloud.signal_covariance(lam, b, eta, steps, precision=precision)
    noise = cloud.noise_variances(lam, s, eta, steps, precision=precision)
    return S, noise


def _unit_parts(lam: np.ndarray, b: np.ndarray, eta: float, T: int):
    """``S`` and the noise at ``s = 1`` in float64, by the operations of
    :func:`signal_and_noise` (so bit for bit equal to it), from one call of
    :func:`ribbonlib.cloud.time_averages`."""
    G, _, cov = cloud.time_averages(lam, eta, T)
    u = np.sqrt(lam) * b
    return np.outer(u, u) * cov, (1.0 / lam.size) * lam * np.diag(G)


def _float_signal(lam: np.ndarray, b: np.ndarray, eta: float, T: int):
    """``S`` in float64 with an entrywise bound ``E >= |S_float − S|``, and the unit
    noise.

    ``S_kl = q_k q_l cov_kl`` with ``q = sqrt(λ)∘b`` and ``cov`` from
    :func:`ribbonlib.cloud.time_averages`, accurate (as documented there) to a few ulp
    of ``|G_kl| + |m_k m_l|``, and to a few ulp of ``|cov_kl|`` when both modes are
    slow (``r > 0``, ``(T+1)|log r| <= 1``). With ``G, m, cov`` the float values of
    ``time_averages``, ``q = fl(sqrt(λ)·b)``, ``P = fl(q qᵀ)`` and ``u = 2^-53``:

    * ``S = fl(P ∘ cov)``;
    * mode ``k`` is called slow when, in float64 with ``a_k = fl(η λ_k)``,
      ``a_k < 1/2`` and ``fl((T + 1)·(−log1p(−a_k))) <= 1 − 10^-6`` (the margin
      ``10^-6`` is far above the error of ``log1p``, so that a mode called slow is
      slow; a tie counts as slow);
    * ``ecov_kl = c (|G_kl| + |m_k m_l|)`` with ``c = _CLOUD_ULPS·u = 256u``, replaced
      by ``min(ecov_kl, c |cov_kl|)`` when both ``k`` and ``l`` are slow;
    * ``E = 1.01 |P| ∘ ecov + 16u |S|``, evaluated in float64 (five roundings to
      nearest: within a relative ``5.01u`` of its exact value, barring underflow).
      1.01 pays for the float values of ``G, m, cov`` in place of the exact ones
      and for the relative error of ``P``; ``16u`` for the two roundings that form
      ``S`` from ``q`` and ``cov``.

    Returns ``S, E, n̂, n̂_lo, n̂_hi`` with the unit noise ``n̂ = fl(fl(λ ∘ diag G)/d)``
    and its bounds ``n̂_lo = _down(n̂, 259)``, ``n̂_hi = _up(n̂, 259)``
    (``_CLOUD_ULPS + 3``: the assumed error of ``G_kk`` and the roundings of the
    product and the quotient), i.e. ``n̂ ∓ (520u |n̂| + 2^-960)`` rounded to nearest.
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
    """``(var_lo, var_hi, trS_lo, trS_hi)``: bounds on the diagonal of ``S`` and its
    trace.

    For the square float matrix ``S`` and its entrywise error bound ``E``, with
    ``v = diag S``, ``e = diag E`` and ``u = 2^-53``: ``var_lo = max(_down(fl(v − e),
    1), 0)`` and ``var_hi = max(_up(fl(v + e), 1), 0)``, i.e. ``fl(v ∓ e) ∓ (4u |fl(v
    ∓ e)| + 2^-960)`` rounded to nearest (and clipped at 0); ``trS_lo = max(_down(fl(Σ
    var_lo), d), 0)`` and ``trS_hi = _up(fl(Σ var_hi), d)``.
    """
    d = S.shape[0]
    v, e = np.diag(S), np.diag(E)
    var_lo = np.maximum(_down(v - e, 1), 0.0)
    var_hi = np.maximum(_up(v + e, 1), 0.0)
    return (
        var_lo,
        var_hi,
        float(np.maximum(_down(var_lo.sum(), d), 0.0)),
        float(_up(var_hi.sum(), d)),
    )


# ----------------------------------------------------------------------- bounds


def _weyl_upper(sig_up: np.ndarray, noise_sorted: np.ndarray) -> np.ndarray:
    """``upper_m = min_{i+j=m+1} (σ_i + n_(j))`` along the last axis (batched, float
    sums).

    ``sig_up`` of shape ``(..., d)`` or ``(d,)``, broadcast against ``noise_sorted``
    of shape ``(..., d)``; the sums are float sums, not rounded up.
    """
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
    """Enclosures of the eigenvalues of every symmetric matrix near the float matrices
    ``H``.

    For a stack ``H`` of float64 symmetric ``p x p`` matrices and ``eH >= ||H_exact −
    H||_2``
    (one per matrix), returns ``lo, hi`` (descending) with
    ``lo_i <= λ_i(H_exact) <= hi_i``, and the approximate eigenvectors ``Y`` (columns,
    descending). With ``G = Yᵀ H_exact Y``: Weyl's inequality puts ``λ_i(G)`` within
    ``||G − diag(fl(G))||_2`` of the ``i``-th largest computed diagonal entry, and
    Ostrowski's theorem gives ``λ_i(G) = θ_i λ_i(H_exact)`` with
    ``θ_i ∈ [1 − f, 1 + f]``, ``f >= ||YᵀY − I||_2``. Round-off of the products is
    bounded
    by ``γ`` times the products of absolute values.

    ``H`` is a stack of any leading shape ``(..., p, p)``, ``eH`` of shape ``(...)``.
    Exactly, with the float products ``fl(G) = fl(YᵀHY)``, ``N = fl(|Y|ᵀ|H||Y|)``,
    ``F = fl(YᵀY) − I``, ``NF = fl(|Y|ᵀ|Y|)`` and ``D`` the diagonal of ``fl(G)``
    sorted descending:

    * ``rnd = _up(1.01 (2p + 4) u ||N||, 2)`` and ``f = _up(||F|| + 1.01 (p + 2) u
      ||NF||, 2)``, each norm ``_frob_up``;
    * ``δ = _up(||off(fl G)|| + rnd + _up(eH·_up(1 + f, 1), 1), 3)``;
    * ``g_lo = _down(D − δ, 1)``, ``g_hi = _up(D + δ, 1)``; with ``1₊ = _up(1 + f,
      1)`` and ``1₋ = _down(1 − f, 1)``: ``lo = _down(g_lo/1₊, 1)`` if ``g_lo >= 0``
      else ``_down(g_lo/1₋, 1)``, ``hi = _up(g_hi/1₋, 1)`` if ``g_hi >= 0`` else
      ``_up(g_hi/1₊, 1)``; where ``1₋ <= 1/2`` the enclosure is ``(−inf, inf)``.
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
    """Bounds ``s² n̂`` for every scale (rows), in the order of ``n̂`` and sorted
    descending.

    Returns ``lo = _down(fl(_down(s², 1)·n_lo), 1)``, ``hi = _up(fl(_up(s², 1)·n_hi),
    1)`` (shape ``(R, d)``, ``s² = fl(s·s)``) and the same rows sorted descending.
    """
    s2 = s_arr**2
    s2_lo, s2_hi = _down(s2, 1), _up(s2, 1)
    lo = _down(s2_lo[:, None] * n_lo[None, :], 1)
    hi = _up(s2_hi[:, None] * n_hi[None, :], 1)
    return lo, hi, -np.sort(-lo, axis=1), -np.sort(-hi, axis=1)


def _poincare_lower(
    S: np.ndarray,
    eS: float,
    noise_f: np.ndarray,
    noise_lo: np.ndarray,
    noise_hi: np.ndarray,
    W: np.ndarray,
):
    """Lower bounds on ``μ_1..μ_p`` of ``S + diag(noise)`` by Poincaré on ``W`` (``d x
    p``).

    ``S`` is the float matrix (``||S_exact − S||_2 <= eS``) and every row of ``noise_f``
    one float noise vector with bounds ``noise_lo <= exact noise <= noise_hi``. With
    ``θ_m = λ_m(Wᵀ C W)``, ``θ_m <= λ_max(WᵀW) μ_m(C)`` for ``C ⪰ 0`` (see
    :func:`cloud_spectrum_bounds`), so ``max(θ_m, 0)/(1 + f)`` bounds ``μ_m`` from
    below,
    ``f >= ||WᵀW − I||_2``. Returns the bounds ``(R, p)`` (descending) and the
    approximate eigenvectors ``(R, p, p)`` of ``Wᵀ C W``.

    In float64, with ``u = 2^-53``, ``||·||`` the upper bound :func:`_frob_up` on the
    Frobenius norm and ``n`` one row of ``noise_f`` (``H = fl(Wᵀ S W + Wᵀ diag(n)
    W)``):

    * ``fW = _up(||WᵀW − I|| + 1.01 (d + 2) u |||W|ᵀ|W|||, 2)``;
    * ``eH = _up((1 + fW)(eS + err_n) + rnd + 2u ||H||, 4) >= ||H_exact − H||_2``
      with ``err_n = max_k max(n_hi,k − n_k, n_k − n_lo,k)`` and ``rnd = 1.01 (2d +
      4) u |||W|ᵀ|S||W||| + 1.01 (d + 4) u |||W|ᵀ diag|n| |W|||`` (the round-off of
      the two products);
    * with ``ℓ`` the lower ends of :func:`_eig_enclosure` ``(H, eH)``, the bounds are
      ``_down(max(ℓ, 0)/_up(1 + fW, 1), 1)``.
    """
    d, p = W.shape
    aW = np.abs(W)
    FW = W.T @ W - np.eye(p)
    fW = float(_up(_frob_up(FW) + 1.01 * (d + 2) * _U * _frob_up(aW.T @ aW), 2))
    H = (W.T @ S @ W)[None] + (W.T[None] * noise_f[:, None, :]) @ W  # Wᵀ diag(n) W
    rnd = 1.01 * (2 * d + 4) * _U * _frob_up(aW.T @ np.abs(S) @ aW) + 1.01 * (
        d + 4
    ) * _U * _frob_up((aW.T[None] * np.abs(noise_f)[:, None, :]) @ aW)
    err_n = np.maximum(noise_hi - noise_f, noise_f - noise_lo).max(axis=1)
    eH = _up((1.0 + fW) * (eS + err_n) + rnd + 2.0 * _U * _frob_up(H), 4)
    ritz_lo, _, Y = _eig_enclosure(H, eH)
    return _down(np.maximum(ritz_lo, 0.0) / _up(1.0 + fW, 1), 1), Y


def _float_bounds(
    S: np.ndarray,
    E: np.ndarray,
    n_f: np.ndarray,
    n_lo: np.ndarray,
    n_hi: np.ndarray,
    s_arr: np.ndarray,
    T: int,
    n_sig: int = 32,
    n_noise: int = 16,
):
    """Bounds for ``C = S + s² diag(n̂)`` for every ``s`` in ``s_arr`` (float64,
    rigorous).

    Returns ``lower, upper`` of shape ``(R, d)`` and ``trace_lo, trace_hi, trace`` of
    shape ``(R,)`` (bounds on ``tr C`` and its float64 value). In float64, with
    ``u = 2^-53``, for each ``s``:

    * ``eS = _frob_up(E) >= ||S_exact − S||_2``; ``σ̄`` are the upper ends of
      :func:`_eig_enclosure` ``(S, eS)``, clipped at 0, made non-increasing and set
      to 0 from index ``min(d, T)`` on (zero-based);
    * ``n_lo, n_hi`` the bounds of :func:`_scaled_noise` on ``s² n̂`` (``n_lo,(j)``,
      ``n_hi,(j)`` sorted descending) and ``trS_lo, trS_hi`` those of
      :func:`_trace_of_signal`: ``trace_lo = max(_down(trS_lo + _down(fl(Σ n_lo),
      d), 1), 0)``, ``trace_hi = _up(trS_hi + _up(fl(Σ n_hi), d), 1)`` and ``trace
      = fl(tr S + s² Σ n̂)``;
    * ``upper_m = min(_up(w_m, 1), trace_hi)`` with ``w_m = fl(min_{i+j=m} (σ̄_i +
      n_hi,(j)))`` (:func:`_weyl_upper`, zero-based);
    * ``lower_m = max(n_lo,(m), ℓ_m)``, ``ℓ`` from :func:`_poincare_lower` with the
      float noise ``fl(fl(s²) n̂)`` on ``W`` = :func:`_ritz_basis` of the approximate
      eigenvectors of the ``n_sig`` largest eigenvalues of ``S`` and the axes of the
      ``n_noise`` largest ``n̂`` (``ℓ_m`` for ``m`` below the number of columns of
      ``W`` only);
    * returned, with the eigensolver allowance ``allow = _up(4 d u trace_hi, 2)``:
      ``_down(lower − allow, 1) − 2^-960`` and ``_up(upper + allow, 1) + 2^-960``.
    """
    d = S.shape[0]
    n_sig = min(n_sig, d)
    rank = min(d, T)
    # signal: enclosures of every σ_i(S) from its approximate eigenvectors
    eS = float(_frob_up(E))
    _, sig_hi, Y = _eig_enclosure(S[None], np.array([eS]))
    sig_up = np.minimum.accumulate(np.maximum(sig_hi[0], 0.0))
    sig_up[rank:] = 0.0
    noise_lo, noise_hi, lo_sorted, hi_sorted = _scaled_noise(n_lo, n_hi, s_arr)
    _, _, trS_lo, trS_hi = _trace_of_signal(S, E)
    trace_lo = np.maximum(_down(trS_lo + _down(noise_lo.sum(axis=1), d), 1), 0.0)
    trace_hi = _up(trS_hi + _up(noise_hi.sum(axis=1), d), 1)
    trace = np.trace(S) + s_arr**2 * n_f.sum()
    # upper: Weyl with the signal bounds and the noise floor; every μ <= tr C
    upper = np.minimum(
        _up(_weyl_upper(sig_up[None, :], hi_sorted), 1), trace_hi[:, None]
    )
    # lower: the noise floor (Weyl) and Poincaré on W = span(top signal vectors, top
    # axes)
    W = _ritz_basis(Y[0][:, :n_sig], n_f, n_noise)
    noise_f = (s_arr**2)[:, None] * n_f[None, :]
    ritz_lo, _ = _poincare_lower(S, eS, noise_f, noise_lo, noise_hi, W)
    p = W.shape[1]
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
    the approximate eigenvectors come from :func:`mpmath.eigsy`. With ``G = YᵀHY``:
    ``rnd = (2p + 4) u |||Y|ᵀ|H||Y|||_F``, ``f = ||YᵀY − I||_F + (p + 2) u
    |||Y|ᵀ|Y|||_F``, ``δ = (||off(G)||_F + rnd + eH (1 + f))(1 + 100 p² u)``; unless
    ``f < 1/2`` every enclosure is ``(−inf, inf)``. The ends ``D_i ∓ δ`` (``D`` the
    diagonal of ``G``, descending) are divided by ``1 + f`` or ``1 − f``, whichever
    moves them outward (by their sign), then moved out by ``100 u`` of themselves.
    Unlike :func:`_eig_enclosure`, the returned ``Y`` keeps the order of
    :func:`mpmath.eigsy` (ascending eigenvalues), not the order of the enclosures.
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


def _mp_bounds(
    S: np.ndarray,
    noise: np.ndarray,
    T: int,
    prec: int,
    n_sig: int = 12,
    n_noise: int = 8,
):
    """High-precision bounds, rigorous in the same way as :func:`_float_bounds`.

    ``S`` and ``noise`` are the mpmath values of :func:`ribbonlib.cloud` at ``prec``
    digits, taken to carry a relative error of at most ``ein = _MP_INPUT·10^(-prec)``
    each; the work runs at ``wp = prec + 10`` digits, where ``u = 10^(-wp)`` bounds the
    relative round-off of one operation. With ``grow = 1 + 10 d u`` (the round-off of
    a sum of up to ``d`` terms), ``n`` the noise and ``C = S + diag(n)``:

    * ``eS = ein ||S||_F (1 + 10 d² u)`` bounds ``||S_exact − S||_2``; ``σ̄_i`` are the
      upper ends of :func:`_mp_eig_enclosure` ``(S, eS, u)``, clipped at 0, made
      non-increasing and set to 0 for ``i >= min(d, T)`` (zero-based);
    * ``n_lo = n (1 − ein)``, ``n_hi = n (1 + ein) grow`` (sorted descending:
      ``n_lo,(j)``, ``n_hi,(j)``), ``tr_hi = (Σ_k |S_kk| (1 + ein) grow + Σ n_hi)
      grow``;
    * ``upper_m = min(tr_hi, min_{i+j=m} (σ̄_i + n_hi,(j)) grow)`` (zero-based);
    * ``W``: :func:`_mp_orthonormal` of :func:`_ritz_basis` of the approximate
      eigenvectors of the ``n_sig`` largest eigenvalues of ``S`` (ordered by their
      Rayleigh quotients) and the axes of the ``n_noise`` largest noise variances,
      ``p`` columns; ``fW = (||WᵀW − I||_F + (d + 2) u |||W|ᵀ|W|||_F) grow``;
      ``H = Wᵀ C W``, ``eH = ((1 + fW)(eS + ein max_k n_k) + (2d + 4) u
      |||W|ᵀ|C||W|||_F) grow`` and ``ℓ_i`` the lower ends of
      :func:`_mp_eig_enclosure` ``(H, eH, u)``;
    * ``lower_m = max(n_lo,(m), max(ℓ_m, 0)/(1 + fW)·(1 − 10u))`` for ``m < p`` and
      ``n_lo,(m)`` beyond;
    * returned, with the eigensolver allowance ``allow = 10 d 10^(-prec) tr_hi``:
      ``lower_m − allow − 10u |lower_m|`` and ``upper_m + allow + 10u |upper_m|``.

    Every step is evaluated at ``wp`` digits (a binary precision of about ``3.32 (wp +
    1)`` bits), far finer than the ``u`` the margins charge per operation.
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
        trace_hi = (trS_hi + sum(n_hi)) * grow
        upper = [
            min(trace_hi, min((sig_up[i] + ns_hi[m - i]) * grow for i in range(m + 1)))
            for m in range(d)
        ]
        # Poincaré on W = span(top eigenvectors of S, axes of the largest noise)
        # the columns of Y come in the order of mpmath.eigsy (ascending): order them by
        # their Rayleigh quotients, largest first
        Y_f = np.array([[float(x) for x in row] for row in Y])
        S_f = np.array([[float(x) for x in row] for row in Smp])
        ray = np.einsum("ij,ij->j", Y_f, S_f @ Y_f)
        Y_f = Y_f[:, np.argsort(-ray, kind="stable")]
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
        err_n = max(x * ein for x in nmp)  # d >= 1: lam is validated non-empty
        eH = (
            (1 + fW) * (eS + err_n)
            + (2 * d + 4) * u * _mp_frob(aW.T.dot(np.abs(C)).dot(aW))
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
    """Modified Gram--Schmidt, applied twice, on an object array of mpf (columns).

    Each sweep takes the columns in order, subtracts from column ``j`` its component
    along each earlier column in turn (dot products summed in order), and divides it
    by its norm.
    """
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


def cloud_spectrum_bounds(
    lam: Any, b: Any, s: float, eta: float, steps: int, *, precision: int | None = None
):
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
    S = cloud.signal_covariance(lam_arr, b_arr, eta_val, T, precision=prec)
    noise = cloud.noise_variances(lam_arr, s_val, eta_val, T, precision=prec)
    return _mp_bounds(
        np.asarray(S, dtype=object), np.asarray(noise, dtype=object), T, prec
    )


# ------------------------------------------------------ explicit-subspace (analytic)
# bounds

#: Largest number of pivot columns of ``S`` spanning the explicit subspace.
_PIVOTS = 32
#: Pivoting stops once every residual diagonal entry is below this fraction of ``tr S``.
_PIVOT_TOL = 2.0**-36
#: Coordinate axes of the largest noise added to the explicit subspace for ``C``.
_NOISE_AXES = 16


def _pivot_columns(S: np.ndarray, p_max: int) -> np.ndarray:
    """Columns of ``S`` chosen by a partial Cholesky factorisation with diagonal
    pivoting.

    Step ``i`` takes the mode ``j`` whose residual diagonal entry (the squared distance
    of its centred trajectory to the span of those chosen so far) is largest (the first
    one on a tie); the loop stops when that residual is at most ``_PIVOT_TOL·tr S``
    (``tr S`` the float sum of ``max(S_kk, 0)``), when the recomputed pivot entry
    ``S_jj − Σ_t F_jt²`` is not positive, or after ``min(p_max, d)`` steps
    (``p_max <= 0``: no column). Residuals are clipped at zero and the chosen one set
    to zero. Any choice of columns gives valid bounds; this one makes them tight.
    """
    d = S.shape[0]
    diag = np.maximum(np.diag(S), 0.0)
    total = float(diag.sum())
    F = np.zeros((d, max(p_max, 0)))
    chosen: list[int] = []
    for i in range(min(p_max, d)):
        j = int(np.argmax(diag))
        col = S[:, j] - F[:, :i] @ F[j, :i]
        if not (diag[j] > _PIVOT_TOL * total and col[j] > 0.0):
            break
        F[:, i] = col / math.sqrt(col[j])
        diag = np.maximum(diag - F[:, i] ** 2, 0.0)
        diag[j] = 0.0
        chosen.append(j)
    return np.array(chosen, dtype=int)


def _explicit_signal(S: np.ndarray, E: np.ndarray, rank: int, p_max: int) -> dict:
    """Bounds on the spectrum of a PSD signal known as a float ``S`` within ``E``
    (entrywise).

    ``S`` has rank at most ``rank``. Rayleigh--Ritz on the span ``Q`` of ``p <= p_max``
    pivot columns (:func:`_pivot_columns`) gives ``sig_lo[i] <= σ_{i+1}(S)``; with
    ``tr S <= trS_hi`` the tails ``Σ_{j>i} σ_j`` lie between ``tail_lo[i] = Σ_{i<j<=p}
    sig_lo[j−1]`` and ``tail_up[i] = trS_hi − Σ_{j<=i} sig_lo[j−1]`` (0 from ``i =
    rank``
    on), and ``σ_{i+1} <= sig_up[i] = min(tail_up[i] − tail_lo[i+1],
    min_{j<=i} tail_up[j]/(i − j + 1))``. Every sum and difference rounded outward.

    Round-off budget. ``up_k(x) = x + ((2k + 2) u |x| + 2^-960)`` and ``down_k(x) = x −
    (...)`` (:func:`_up`, :func:`_down`), ``x`` the float value of the expression
    (float sums left to right, as ``np.cumsum``), ``F = _frob_up``:

    * ``head[0] = 0``, ``head[i] = down_d(Σ_{j<i} sig_lo[j])``; ``tail_lo[i] =
      down_d(Σ_{j>=i} sig_lo[j])`` (summed from the end), ``tail_lo[d] = 0``;
    * ``tail_up[i]`` = running minimum over ``i`` of ``max(up_1(trS_hi − head[i]),
      0)``, set to 0 from ``i = rank`` on;
    * ``sig_up[i]`` = running minimum of ``max(min(up_1(tail_up[i] − tail_lo[i+1]),
      min_{j<=i} up_1(tail_up[j]/(i − j + 1))), 0)``, 0 from ``rank`` on.

    The Ritz vectors ``Y = Q Y_q`` (columns ``y_i``, descending), or the single column
    ``sqrt(max(diag S, 0))`` when no pivot is taken, serve as test vectors:

    * ``q_lo[i] = max(down_1(y_iᵀ S y_i − err_i), 0)`` with ``err_i = up_1(rnd_i +
      up_{2d+2}(|y_i|ᵀ E |y_i|))`` and ``rnd_i = 1.01 (2d + 4) u |y_i|ᵀ|S||y_i|``;
    * ``f = up_2(F(YᵀY − I) + 1.01 (d + 2) u F(|Y|ᵀ|Y|))``, ``one_f = up_1(1 + f)``;
    * ``y2 = y_1∘y_1``, ``Y2 = Y∘Y``, ``yy_hi = up_{d+1}(y_1ᵀy_1)`` (at least
      ``2^-960``, so positive), ``ray_lo = down_1(q_lo[0]/yy_hi)``;
    * ``head_lo = [0, down_{k+2}(Σ_{i<=j} q_lo[i] / one_f) for j < k]`` (``k`` columns).

    Returns the dict of these (and ``S``, ``eS = F(E)``, ``rank``, ``trS_lo``,
    ``trS_hi`` and ``var_lo`` of :func:`_trace_of_signal`, ``trS_f = fl(tr S)``).
    """
    d = S.shape[0]
    eS = float(_frob_up(E))
    var_lo, var_hi, trS_lo, trS_hi = _trace_of_signal(S, E)
    J = _pivot_columns(S, min(p_max, rank))
    sig_lo = np.zeros(d)
    Y = np.zeros((d, 0))
    if J.size:
        Q, _ = np.linalg.qr(S[:, J])
        zero = np.zeros((1, d))
        lo, Yq = _poincare_lower(S, eS, zero, zero, zero, Q)
        sig_lo[: J.size] = lo[0]
        Y = Q @ Yq[0]
    sig_lo[rank:] = 0.0
    head_lo = np.concatenate([[0.0], _down(np.cumsum(sig_lo), d)])
    tail_lo = np.concatenate([_down(np.cumsum(sig_lo[::-1])[::-1], d), [0.0]])
    tail_up = np.maximum(_up(trS_hi - head_lo, 1), 0.0)
    tail_up[rank:] = 0.0
    tail_up = np.minimum.accumulate(tail_up)
    i = np.arange(d)
    trick = _up(tail_up[:-1] - tail_lo[1:], 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = _up(tail_up[None, :d] / (i[:, None] - i[None, :] + 1.0), 1)
    spread = np.where(i[None, :] <= i[:, None], spread, np.inf).min(axis=1)
    sig_up = np.minimum.accumulate(np.maximum(np.minimum(trick, spread), 0.0))
    sig_up[rank:] = 0.0
    # the Ritz vectors y_i as test vectors: Rayleigh quotient of the top one (a lower
    # bound on μ_1) and, by Ky Fan, Σ_{i<=j} y_iᵀ C y_i <= (1 + f) Σ_{i<=j} μ_i(C)
    if not Y.shape[1]:
        Y = np.sqrt(np.maximum(np.diag(S), 0.0))[:, None]
    k = Y.shape[1]
    aY = np.abs(Y)
    quad = np.einsum("ki,ki->i", Y, S @ Y)
    rnd = 1.01 * (2 * d + 4) * _U * np.einsum("ki,ki->i", aY, np.abs(S) @ aY)
    err = _up(rnd + _up(np.einsum("ki,ki->i", aY, E @ aY), 2 * d + 2), 1)
    q_lo = np.maximum(_down(quad - err, 1), 0.0)
    FY = Y.T @ Y - np.eye(k)
    f = float(_up(_frob_up(FY) + 1.01 * (d + 2) * _U * _frob_up(aY.T @ aY), 2))
    yy_hi = float(_up(float(Y[:, 0] @ Y[:, 0]), d + 1))
    one_f = float(_up(1.0 + f, 1))
    return {
        "S": S,
        "eS": eS,
        "rank": rank,
        "trS_lo": trS_lo,
        "trS_hi": trS_hi,
        "trS_f": float(np.trace(S)),
        "var_lo": var_lo,
        "sig_lo": sig_lo,
        "sig_up": sig_up,
        "tail_lo": tail_lo,
        "tail_up": tail_up,
        "Y": Y,
        "y2": Y[:, 0] ** 2,
        "ray_lo": float(_down(q_lo[0] / yy_hi, 1)) if yy_hi > 0 else 0.0,
        "yy_hi": yy_hi,
        "Y2": Y * Y,
        "one_f": one_f,
        "head_lo": np.concatenate([[0.0], _down(np.cumsum(q_lo) / one_f, k + 2)]),
    }


def _noise_rows(n: tuple, s_arr: np.ndarray):
    """Noise ``s² n̂`` for every scale: float values and rigorous bounds, shape ``(R,
    d)``.

    ``n = (n_f, n_lo, n_hi)``: the float unit noise and bounds on its exact value.
    Returns ``fl(s² n_f)``, ``max(lo, 0)`` and ``hi`` with ``lo, hi`` as in
    :func:`_scaled_noise` (``s² = fl(s·s)``).
    """
    s2 = s_arr**2
    lo = _down(_down(s2, 1)[:, None] * n[1][None, :], 1)
    hi = _up(_up(s2, 1)[:, None] * n[2][None, :], 1)
    return s2[:, None] * n[0][None, :], np.maximum(lo, 0.0), hi


def _explicit_cloud(sig: dict, n: tuple, s_arr: np.ndarray):
    """Bounds on ``C = S + s² diag(n̂)`` for every ``s`` from the signal summary.

    Per scale, with the noise rows ``(n_f, n_lo, n_hi)`` of :func:`_noise_rows`, their
    descending sorts ``l``, ``h`` and ``up_k``, ``down_k`` as in
    :func:`_explicit_signal` (float sums left to right; ``_tails`` rounds by ``d``):

    * ``trace_lo = max(down_1(trS_lo + tn_lo[0]), 0)``, ``trace_hi = up_1(trS_hi +
      tn_hi[0])`` with ``tn_lo = _tails(l, down)``, ``tn_hi = _tails(h, up)``;
    * ``lower[m]`` before the allowance: the maximum of ``l[m]``, ``down_1(sig_lo[m] +
      l[d−1])``, the Poincaré bound of :func:`_poincare_lower` on ``W =
      _ritz_basis(Y, n_f, 16)`` (``m < p``), and for ``m = 0`` ``max_k down_1(var_lo[k]
      + n_lo[k])`` and ``down_1(ray_lo + down_1(down_{d+2}(n_loᵀ y2)/yy_hi))``; then
      clipped at 0;
    * ``upper[m]`` before the allowance: ``min(up_1(min_{i+j=m}(sig_up[i] + h[j])),
      up_1(trace_hi − others[m]))``, ``others[m] = max(down_1(down_d(Σ lower) −
      lower[m]), 0)``;
    * ``tail_up[K] = min(up_1(min_{i+j=K}(tail_up_S[i] + tn_hi[j])), up_1(trace_hi −
      head_lo[K]))``, ``tail_lo[K] = max(down_1(tail_lo_S[K] + tn_lo[K]),
      down_1(trace_lo − head_up[K]), _tails(lower, down)[K])``, where ``head_lo[K] =
      down_d(Σ_{m<K} lower[m])``, ``head_up[K] = up_d(Σ_{m<K} upper[m])``;
    * the eigensolver allowance ``a = up_2(4 d u trace_hi)``: ``lower = down_1(lower −
      a) − 2^-960``, ``upper = up_1(upper + a) + 2^-960``, ``tail_lo =
      max(down_2(tail_lo − d a) − 2^-960, 0)``, ``tail_up = up_2(tail_up + d a) +
      2^-960``.

    Returns ``lower, upper, trace, tail_lo, tail_up, trace_lo, trace_hi`` (rows per
    scale; ``trace = trS_f + Σ n_f`` in float64).
    """
    d = sig["sig_lo"].size
    noise_f, noise_lo, noise_hi = _noise_rows(n, s_arr)
    lo_sorted, hi_sorted = -np.sort(-noise_lo, axis=1), -np.sort(-noise_hi, axis=1)
    tn_lo, tn_hi = _tails(lo_sorted, up=False), _tails(hi_sorted, up=True)
    trace_lo = np.maximum(_down(sig["trS_lo"] + tn_lo[:, 0], 1), 0.0)
    trace_hi = _up(sig["trS_hi"] + tn_hi[:, 0], 1)
    trace = sig["trS_f"] + noise_f.sum(axis=1)
    # lower: the noise floor, Weyl with the signal, Poincaré on (Ritz vectors, noise
    # axes)
    lower = np.maximum(lo_sorted, _down(sig["sig_lo"][None, :] + lo_sorted[:, -1:], 1))
    W = _ritz_basis(sig["Y"], noise_f[-1], _NOISE_AXES)
    ritz, _ = _poincare_lower(sig["S"], sig["eS"], noise_f, noise_lo, noise_hi, W)
    p = ritz.shape[1]
    lower[:, :p] = np.maximum(lower[:, :p], ritz)
    # for μ_1 also the largest diagonal entry and the Rayleigh quotient at the Ritz
    # vector
    diag_lo = _down(sig["var_lo"][None, :] + noise_lo, 1).max(axis=1)
    ray = _down(
        sig["ray_lo"] + _down(_down(noise_lo @ sig["y2"], d + 2) / sig["yy_hi"], 1), 1
    )
    lower[:, 0] = np.maximum(lower[:, 0], np.maximum(diag_lo, ray))
    lower = np.maximum(lower, 0.0)
    # upper: Weyl, and tr C − Σ_{i≠m} lower_i
    upper = _up(_weyl_upper(sig["sig_up"][None, :], hi_sorted), 1)
    total_lo = _down(lower.sum(axis=1), d)
    others = np.maximum(_down(total_lo[:, None] - lower, 1), 0.0)
    upper = np.minimum(upper, _up(trace_hi[:, None] - others, 1))
    # tails: Ky Fan (sub- and superadditivity) and the trace minus the head
    head_lo = np.concatenate(
        [np.zeros((s_arr.size, 1)), _down(np.cumsum(lower, axis=1), d)], axis=1
    )
    head_up = np.concatenate(
        [np.zeros((s_arr.size, 1)), _up(np.cumsum(upper, axis=1), d)], axis=1
    )
    tail_up = np.minimum(
        _up(_min_plus(sig["tail_up"], tn_hi, 0), 1), _up(trace_hi[:, None] - head_lo, 1)
    )
    tail_lo = np.maximum.reduce(
        [
            _down(sig["tail_lo"][None, :] + tn_lo, 1),
            _down(trace_lo[:, None] - head_up, 1),
            _tails(lower, up=False),
        ]
    )
    # the eigensolver allowance (so that computed eigenvalues are enclosed too)
    allow = _up(4.0 * d * _U * trace_hi, 2)[:, None]
    lower = _down(lower - allow, 1) - _TINY
    upper = _up(upper + allow, 1) + _TINY
    tail_lo = np.maximum(_down(tail_lo - d * allow, 2) - _TINY, 0.0)
    tail_up = _up(tail_up + d * allow, 2) + _TINY
    return lower, upper, trace, tail_lo, tail_up, trace_lo, trace_hi


def _min_plus(f: np.ndarray, g: np.ndarray, shift: int) -> np.ndarray:
    """``out[..., m] = min_{i + j = m + shift} f[..., i] + g[..., j]`` over valid ``i,
    j``.

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
    signal_lower, signal_upper : ndarray, shape (..., d)
        Bounds on the descending eigenvalues ``σ_i(S)`` of the signal (broadcast
        against ``lower``; independent of ``s``).
    signal_tail : ndarray, shape (..., d + 1)
        ``signal_tail[R] >= Σ_{i>R} σ_i(S)``.
    trace_lower, trace_upper : ndarray, shape (...)
        Rigorous bounds ``trace_lower <= tr C <= trace_upper``.
    """

    lower: np.ndarray
    upper: np.ndarray
    trace: np.ndarray
    tail_lower: np.ndarray
    tail_upper: np.ndarray
    signal_lower: np.ndarray
    signal_upper: np.ndarray
    signal_tail: np.ndarray
    trace_lower: np.ndarray
    trace_upper: np.ndarray


def _tails(x: np.ndarray, up: bool) -> np.ndarray:
    """``t_j = Σ_{m>j} x_m`` for ``j = 0..d`` along the last axis, rounded out.

    For ``x >= 0`` (a relative bound on a sum of like-signed terms): ``t_j =
    _up(fl(Σ_{m>j} x_m), d)`` (``_down`` for ``up=False``), the float sums NumPy's
    cumulative sum of the reversed axis, and ``t_d = 0``.
    """
    d = x.shape[-1]
    rev = np.cumsum(x[..., ::-1], axis=-1)[..., ::-1]
    rev = _up(rev, d) if up else _down(rev, d)
    return np.concatenate([rev, np.zeros(x.shape[:-1] + (1,))], axis=-1)


def _gd_parts(lam: np.ndarray, b: np.ndarray, eta: float, T: int):
    """The float signal, its entrywise error bound and the unit noise ``(n̂, lo,
    hi)``."""
    S, E, n_f, n_lo, n_hi = _float_signal(lam, b, eta, T)
    return S, E, (n_f, n_lo, n_hi)


def _explicit_grid(
    L: np.ndarray,
    b_arr: np.ndarray,
    s_arr: np.ndarray,
    eta_val: float,
    T_list: list,
    pivots: int,
) -> SpectrumBounds:
    """:func:`_explicit_signal` and :func:`_explicit_cloud` for every row of ``L``
    (rank ``min(d, T)``): the shapes of :func:`analytic_bounds_grid`."""
    A, d = L.shape
    Rn = s_arr.size
    shape = {
        "lower": (A, Rn, d),
        "upper": (A, Rn, d),
        "trace": (A, Rn),
        "tail_lower": (A, Rn, d + 1),
        "tail_upper": (A, Rn, d + 1),
        "signal_lower": (A, 1, d),
        "signal_upper": (A, 1, d),
        "signal_tail": (A, 1, d + 1),
        "trace_lower": (A, Rn),
        "trace_upper": (A, Rn),
    }
    out = {k: np.empty(v) for k, v in shape.items()}
    with _blas_for(d):
        for a in range(A):
            S, E, n = _gd_parts(L[a], b_arr, eta_val, T_list[a])
            sig = _explicit_signal(S, E, min(d, T_list[a]), pivots)
            (
                out["lower"][a],
                out["upper"][a],
                out["trace"][a],
                out["tail_lower"][a],
                out["tail_upper"][a],
                out["trace_lower"][a],
                out["trace_upper"][a],
            ) = _explicit_cloud(sig, n, s_arr)
            out["signal_lower"][a, 0] = sig["sig_lo"]
            out["signal_upper"][a, 0] = sig["sig_up"]
            out["signal_tail"][a, 0] = sig["tail_up"]
    return SpectrumBounds(**out)


def _check_pivots(pivots: Any) -> int:
    return _validate.integer(pivots, "pivots", low=1)


def analytic_bounds(
    lam: Any, b: Any, s: float, eta: float, steps: int, *, pivots: int = _PIVOTS
) -> SpectrumBounds:
    """Two-sided bounds on the cloud spectrum without a ``d x d`` eigen-decomposition.

    The signal is probed only through ``p <= pivots`` of its columns, each a closed form
    in ``λ, b, η, T`` (the covariances of one mode's trajectory with all others), and
    its diagonal:

    * signal: Rayleigh--Ritz on the span ``Q`` of the pivot columns (a ``p x p``
      eigenvalue problem) gives ``θ_i <= σ_i(S)``, ``i <= p`` (Poincaré); with
      ``tr S`` the tails obey ``Σ_{j>i} θ_j <= Σ_{j>i} σ_j <= tr S − Σ_{j<=i} θ_j`` and
      ``σ_i <= tr S − Σ_{j≠i} θ_j``; ``σ_i = 0`` for ``i > min(d, T)``;
    * lower: ``μ_m(C) >= n_(m)``, ``>= σ_m + n_(d)`` (Weyl), Poincaré on the span of
      the Ritz vectors and of the axes of the 16 largest noise variances, and for
      ``m = 1`` the largest ``C_kk`` and the Rayleigh quotient at the top Ritz vector;
    * upper: Weyl, ``μ_{i+j−1}(C) <= σ̄_i + n_(j)``, and ``μ_m <= tr C − Σ_{i≠m}
      lower_i``;
    * tails: ``Σ_{m>K} μ_m(C)`` is at most ``min_{i+j=K}(Σ_{l>i} σ_l + Σ_{l>j} n_(l))``
      and
      ``tr C − Σ_{m<=K} lower_m``, at least ``Σ_{l>K} σ_l + Σ_{l>K} n_(l)`` (Ky Fan),
      ``tr C − Σ_{m<=K} upper_m`` and ``Σ_{m>K} lower_m``.

    The pivots are chosen by a partial Cholesky factorisation of ``S`` with diagonal
    pivoting (any choice gives valid bounds). Every quantity is evaluated in float64
    with a bound on its round-off and rounded outward (see the module notes), so the
    bounds hold for the exact eigenvalues; they are then widened by the eigensolver
    allowance ``4·d·u·tr C`` (as :func:`cloud_spectrum_bounds`). Cost: the diagonal
    and ``p`` columns of ``S``, ``O(d² p)`` for the products with ``S``, shared by all
    scales, and ``O((p + 16)³)`` per scale.

    Parameters
    ----------
    lam, b, s, eta, steps
        As in :func:`cloud_spectrum_bounds` (``steps >= 0``).
    pivots : int, optional
        Largest number ``p >= 1`` of pivot columns.

    Returns
    -------
    SpectrumBounds
        Arrays of shape ``(d,)`` (``(d + 1,)`` for the tails, scalar traces).
    """
    lam_arr, b_arr, s_val, eta_val, T = _check_inputs(lam, b, s, eta, steps)
    p = _check_pivots(pivots)
    out = _explicit_grid(
        np.asarray(lam_arr, dtype=float)[None, :],
        b_arr,
        np.array([s_val]),
        eta_val,
        [T],
        p,
    )
    return SpectrumBounds(**{k: v[0, 0] for k, v in vars(out).items()})


def analytic_bounds_grid(
    lams: Any, b: Any, s_values: Any, eta: float, steps: Any, *, pivots: int = _PIVOTS
) -> SpectrumBounds:
    """:func:`analytic_bounds` on a grid of parameters (the signal work shared across
    scales).

    Parameters are those of :func:`spectra_grid`, plus ``pivots``.

    Returns
    -------
    SpectrumBounds
        ``lower``, ``upper`` of shape ``(A, R, d)``, traces ``(A, R)``, tails
        ``(A, R, d + 1)``, signal bounds ``(A, 1, d)`` and ``(A, 1, d + 1)``.
    """
    L, b_arr, s_arr, eta_val, T_list = _grid_inputs(lams, b, s_values, eta, steps)
    p = _check_pivots(pivots)
    return _explicit_grid(L, b_arr, s_arr, eta_val, T_list, p)


# ------------------------------------------------------------------------ grids


def _grid_inputs(lams: Any, b: Any, s_values: Any, eta: Any, steps: Any):
    L = np.asarray(lams, dtype=float)
    if L.ndim == 1:
        L = L[None, :]
    if L.ndim != 2 or L.shape[1] == 0:
        raise ValueError(
            "lams must be a 2-D array (rows of eigenvalues > 0), got shape "
            f"{np.shape(lams)}"
        )
    for row in L:
        _validate.eigenvalues(row, "lams")
    A, d = L.shape
    b_arr = _validate.vector(b, "b", d)
    s_arr = np.atleast_1d(np.asarray(s_values, dtype=float))
    if (
        s_arr.ndim != 1
        or s_arr.size == 0
        or not np.all(np.isfinite(s_arr))
        or np.any(s_arr < 0)
    ):
        raise ValueError("s_values must be a non-empty 1-D array of finite scales >= 0")
    eta_val = _validate.learning_rate(eta, L)
    T_arr = np.atleast_1d(np.asarray(steps))
    if T_arr.size == 1:
        T_arr = np.repeat(T_arr, A)
    if T_arr.shape != (A,):
        raise ValueError(
            f"steps must be an integer or one integer per row of lams ({A}), got shape "
            f"{np.shape(steps)}"
        )
    T_list = [
        _validate.integer(t.item() if hasattr(t, "item") else t, "steps", low=0)
        for t in T_arr
    ]
    return L, b_arr, s_arr, eta_val, T_list


def spectra_grid(
    lams: Any, b: Any, s_values: Any, eta: float, steps: Any
) -> np.ndarray:
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
            S, n_hat = _unit_parts(L[a], b_arr, eta_val, T_list[a])
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
                S, E, n_f, n_lo, n_hi, s_arr, T_list[a]
            )
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
        _validate.finite_real(
            self.q, "q", low=0.0, high=1.0, low_open=True, high_open=True
        )
        _validate.finite_real(
            self.eps, "eps", low=0.0, high=1.0, low_open=True, high_open=True
        )

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
        raise ValueError(
            f"criterion must be a RibbonCriterion, got {type(criterion).__name__}"
        )
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
    mu, K = _eigenvalues_for(mu, criterion.K)
    if not np.all(np.isfinite(mu)):
        raise ValueError("mu must be finite")
    if np.any(np.diff(mu, axis=-1) > 0):
        raise ValueError(
            "mu must be sorted in non-increasing order along its last axis"
        )
    total = mu.sum(axis=-1)
    if np.any(total <= 0):
        raise ValueError(
            "mu must have a positive sum (a non-empty spectrum of variances)"
        )
    head = mu[..., :K].sum(axis=-1)
    decay = mu[..., K - 1] <= criterion.ratio * mu[..., 0]
    variance = total - head <= criterion.eps * total
    return decay & variance


def _trace_ends(trace: Any, shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    """``(lo, hi)`` of an exact trace (array) or of a
    :class:`ribbonlib.certify.Enclosure`."""
    from . import certify

    if isinstance(trace, certify.Enclosure):
        lo, hi = trace.lo, trace.hi
    else:
        lo = hi = np.asarray(trace, dtype=float)
    if lo.shape != shape:
        raise ValueError(
            f"trace must have the shape {shape} of lower[..., 0], got {lo.shape}"
        )
    if np.any(np.isnan(lo)) or np.any(np.isnan(hi)):
        raise ValueError("trace must not contain NaN")
    return lo, hi


def _eigenvalues_for(mu: Any, K: int) -> tuple[np.ndarray, int]:
    """``mu`` as a float array with at least ``K`` entries on its last axis, and ``K``."""
    arr = np.asarray(mu, dtype=float)
    if arr.ndim < 1 or arr.shape[-1] < K:
        raise ValueError(
            f"mu must have at least K = {K} eigenvalues along its last axis, "
            f"got shape {arr.shape}"
        )
    return arr, K


def ribbon_certified(
    lower: Any,
    upper: Any,
    trace: Any,
    criterion: RibbonCriterion = RibbonCriterion(),
    *,
    tail_lower: Any = None,
    tail_upper: Any = None,
):
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
        :class:`SpectrumBounds`); combined with those implied by ``lower`` and
        ``upper``.

    Returns
    -------
    proved : ndarray of bool
        The bounds imply a hyper-ribbon (sufficient condition):
        ``upper_K <= q^(2(K−1)) lower_1`` and an upper bound on the tail variance,
        ``min(tr − Σ_{k<=K} lower_k, Σ_{k>K} upper_k, tail_upper_K)``, is ``<= ε tr``.
    excluded : ndarray of bool
        The bounds imply that it is not one (necessary condition violated):
        ``lower_K > q^(2(K−1)) upper_1`` or a lower bound on the tail variance,
        ``max(tr − Σ_{k<=K} upper_k, Σ_{k>K} max(lower_k, 0), tail_lower_K)``, is ``> ε
        tr``.

    Notes
    -----
    In float64, with ``↑_k``/``↓_k`` the roundings ``_up``/``_down``,
    ``Σ↑``/``Σ↓`` the sum bounds ``_sum_up``/``_sum_down``, ``(R_lo, R_hi)``
    ``criterion.ratio_bounds`` and ``[tr_lo, tr_hi]`` the trace: the tail bounds are
    ``min(↑₁(tr_hi − Σ↓ lower_{k<=K}), Σ↑ upper_{k>K}, tail_upper_K)`` and
    ``max(↓₁(tr_lo − Σ↑ upper_{k<=K}), Σ↓ max(lower_{k>K}, 0), tail_lower_K)`` (the
    sums over ``k > K`` are exactly 0 when ``d = K``); ``proved`` is
    ``upper_K <= ↓₁(R_lo lower_1)`` and ``tail_up <= ↓₁(ε tr_lo)``, ``excluded`` is
    ``lower_K > ↑₁(R_hi upper_1)`` or ``tail_lo > ↑₁(ε tr_hi)``.
    """
    criterion = _check_criterion(criterion)
    lo = np.asarray(lower, dtype=float)
    up = np.asarray(upper, dtype=float)
    K = criterion.K
    if lo.shape != up.shape or lo.ndim < 1 or lo.shape[-1] < K:
        raise ValueError(
            f"lower and upper must have the same shape (..., d) with d >= K = {K}; "
            f"got {lo.shape} and {up.shape}"
        )
    for name, arr in (("lower", lo), ("upper", up)):
        if np.any(np.isnan(arr)):
            raise ValueError(f"{name} must not contain NaN")
    tr_lo, tr_hi = _trace_ends(trace, lo.shape[:-1])
    with np.errstate(invalid="ignore", over="ignore"):
        tail_up = np.minimum(
            _up(tr_hi - _sum_down(lo[..., :K], axis=-1), 1),
            _sum_up(up[..., K:], axis=-1) if lo.shape[-1] > K else 0.0,
        )
        tail_lo = np.maximum(
            _down(tr_lo - _sum_up(up[..., :K], axis=-1), 1),
            (
                _sum_down(np.maximum(lo[..., K:], 0.0), axis=-1)
                if lo.shape[-1] > K
                else 0.0
            ),
        )
    for name, extra in (("tail_lower", tail_lower), ("tail_upper", tail_upper)):
        if extra is None:
            continue
        ex = np.asarray(extra, dtype=float)
        if ex.shape != lo.shape[:-1] + (lo.shape[-1] + 1,) or np.any(np.isnan(ex)):
            raise ValueError(
                f"{name} must have shape {lo.shape[:-1] + (lo.shape[-1] + 1,)} "
                "(one bound per K = 0..d), "
                f"without NaN; got {ex.shape}"
            )
        if name == "tail_lower":
            tail_lo = np.maximum(tail_lo, ex[..., K])
        else:
            tail_up = np.minimum(tail_up, ex[..., K])
    r_lo, r_hi = criterion.ratio_bounds
    eps = criterion.eps
    with np.errstate(invalid="ignore", over="ignore"):
        proved = (up[..., K - 1] <= _down(r_lo * lo[..., 0], 1)) & (
            tail_up <= _down(eps * tr_lo, 1)
        )
        excluded = (lo[..., K - 1] > _up(r_hi * up[..., 0], 1)) | (
            tail_lo > _up(eps * tr_hi, 1)
        )
    return proved, excluded


@dataclass(frozen=True)
class GeometricCriterion:
    """Parameters of the second definition of a hyper-ribbon: a hierarchy of widths.

    A spectrum ``μ_1 >= μ_2 >= ...`` (widths ``w_k = sqrt(μ_k)``) is a
    ``(K, q_max, q_min)`` *geometric* hyper-ribbon when each of the first ``K − 1``
    ratios of consecutive widths lies between ``q_min`` and ``q_max``:
    ``q_min w_k <= w_{k+1} <= q_max w_k``, i.e. ``q_min² μ_k <= μ_{k+1} <= q_max² μ_k``,
    ``k = 1..K−1``. The upper ratio asks every width to be shorter than the previous
    one by a fixed factor (a blob with equal widths fails); the lower one asks the
    ``K`` widths to be resolved (a line, or a cloud collapsed to fewer dimensions,
    fails).

    Attributes
    ----------
    K : int
        Number of widths tested, ``>= 2``.
    q_max : float
        Largest ratio of consecutive widths, in ``(0, 1)``.
    q_min : float
        Smallest ratio of consecutive widths, in ``[0, q_max)``.
    """

    K: int = 4
    q_max: float = 0.8
    q_min: float = 0.1

    def __post_init__(self) -> None:
        _validate.integer(self.K, "K", low=2)
        _validate.finite_real(
            self.q_max, "q_max", low=0.0, high=1.0, low_open=True, high_open=True
        )
        _validate.finite_real(
            self.q_min, "q_min", low=0.0, high=self.q_max, high_open=True
        )

    def squared_bounds(self) -> tuple[float, float, float, float]:
        """Rigorous float64 bounds ``(lo, hi)`` on ``q_max²`` and then on ``q_min²``."""
        hi2, lo2 = self.q_max**2, self.q_min**2
        return (
            float(_down(hi2, 1)),
            float(_up(hi2, 1)),
            float(_down(lo2, 1)),
            float(_up(lo2, 1)),
        )


def _check_geometric(criterion: Any) -> GeometricCriterion:
    if not isinstance(criterion, GeometricCriterion):
        raise ValueError(
            "criterion must be a GeometricCriterion, got " f"{type(criterion).__name__}"
        )
    return criterion


def is_geometric_ribbon(
    mu: Any, criterion: GeometricCriterion = GeometricCriterion()
) -> np.ndarray:
    """Whether each descending spectrum in ``mu`` (last axis) is a geometric
    hyper-ribbon.

    The definition of :class:`GeometricCriterion` applied to the given numbers in
    float64; for exact eigenvalues known through bounds, use
    :func:`geometric_certified`.

    Parameters
    ----------
    mu : array_like, shape (..., d)
        Descending, finite eigenvalues ``>= 0``, ``d >= criterion.K``.
    criterion : GeometricCriterion

    Returns
    -------
    ndarray of bool, shape (...)
    """
    criterion = _check_geometric(criterion)
    mu, K = _eigenvalues_for(mu, criterion.K)
    if not np.all(np.isfinite(mu)) or np.any(mu < 0):
        raise ValueError("mu must be finite and >= 0")
    if np.any(np.diff(mu, axis=-1) > 0):
        raise ValueError(
            "mu must be sorted in non-increasing order along its last axis"
        )
    head, nxt = mu[..., : K - 1], mu[..., 1:K]
    ok = (nxt <= criterion.q_max**2 * head) & (nxt >= criterion.q_min**2 * head)
    return ok.all(axis=-1) & (mu[..., 0] > 0)


def geometric_certified(
    lower: Any, upper: Any, criterion: GeometricCriterion = GeometricCriterion()
):
    """What eigenvalue bounds prove about the geometric hyper-ribbon property.

    ``proved``: ``upper_{k+1} <= q_max² lower_k`` and ``q_min² upper_k <= lower_{k+1}``
    for every ``k < K`` (and ``lower_1 > 0``); ``excluded``: ``lower_{k+1} > q_max²
    upper_k`` or ``upper_{k+1} < q_min² lower_k`` for some ``k < K``. The squared
    ratios and the products are bounded in the safe direction, so ``proved`` implies the
    property and ``excluded`` its failure whenever ``lower <= μ <= upper``.

    Parameters
    ----------
    lower, upper : array_like, shape (..., d)
        Bounds ``lower <= μ <= upper`` on the descending eigenvalues (so ``lower <=
        upper``), ``d >= K``.
    criterion : GeometricCriterion

    Returns
    -------
    proved, excluded : ndarray of bool, shape (...)

    Notes
    -----
    In float64, with ``↑_k``/``↓_k`` the roundings ``_up``/``_down`` and
    ``(h_lo, h_hi, g_lo, g_hi)`` ``criterion.squared_bounds()`` (on ``q_max²`` and
    ``q_min²``): ``proved`` is ``upper_{k+1} <= ↓₁(h_lo max(lower_k, 0))`` and
    ``↑₁(g_hi upper_k) <= lower_{k+1}`` for every ``k < K``, and ``lower_1 > 0``;
    ``excluded`` is ``lower_{k+1} > ↑₁(h_hi upper_k)`` or ``upper_{k+1} <
    ↓₁(g_lo max(lower_k, 0))`` for some ``k < K``, or ``upper_1 <= 0``.
    """
    criterion = _check_geometric(criterion)
    lo = np.asarray(lower, dtype=float)
    up = np.asarray(upper, dtype=float)
    K = criterion.K
    if lo.shape != up.shape or lo.ndim < 1 or lo.shape[-1] < K:
        raise ValueError(
            f"lower and upper must have the same shape (..., d) with d >= K = {K}; "
            f"got {lo.shape} and {up.shape}"
        )
    if np.any(np.isnan(lo)) or np.any(np.isnan(up)):
        raise ValueError("lower and upper must not contain NaN")
    hi_lo, hi_hi, lo_lo, lo_hi = criterion.squared_bounds()
    with np.errstate(invalid="ignore", over="ignore"):
        l_k, u_k = lo[..., : K - 1], up[..., : K - 1]
        l_n, u_n = lo[..., 1:K], up[..., 1:K]
        proved = (
            (u_n <= _down(hi_lo * np.maximum(l_k, 0.0), 1))
            & (_up(lo_hi * u_k, 1) <= l_n)
        ).all(axis=-1) & (lo[..., 0] > 0)
        excluded = (
            (l_n > _up(hi_hi * u_k, 1)) | (u_n < _down(lo_lo * np.maximum(l_k, 0.0), 1))
        ).any(axis=-1)
        excluded |= up[..., 0] <= 0
    return proved, excluded


# ------------------------------------------------------------- analytic phase
# boundaries


def _largest_below(A: np.ndarray, B: np.ndarray) -> float:
    """``sup{x >= 0 : [0, x] ⊂ ⋃_k {A_k + x B_k <= 0}}`` for affine conditions, rounded
    down.

    Each condition ``A_k + x B_k <= 0`` holds on ``[0, −A_k/B_k]`` (``B_k > 0``,
    ``A_k <= 0``), on all of ``[0, ∞)`` (``B_k <= 0``, ``A_k <= 0``), or on a half-line
    ``[x_k, ∞)`` away from 0. The ends of the first kind are rounded down, those of the
    last kind up, so the returned ``x`` is covered. Returns ``−1`` when no condition
    holds
    at ``x = 0``.

    In float64: ``inf`` when a condition has ``A_k <= 0`` and ``B_k <= 0``; else ``x``
    is the largest ``↓₁(−A_k/B_k)`` over ``A_k <= 0`` (:func:`_down`), and ``inf``
    again when some half-line (``B_k < 0 < A_k``) starts at ``↑₁(−A_k/B_k) <= x``.
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
#: they lie inside the point-by-point verdicts of :func:`analytic_bounds` (the same
#bounds,
#: rounded along a different path).
_RHO_MARGIN = 1e-12


def _excluded_from(A: np.ndarray, B: np.ndarray) -> float:
    """``inf{x >= 0 : (x, ∞) ⊂ ⋃_k {A_k + x B_k > 0}}`` for affine conditions, rounded
    up.

    A condition holds on a half-line ``(−A_k/B_k, ∞)`` (``B_k > 0``), on an interval
    ``[0, −A_k/B_k)`` (``B_k < 0 < A_k``), everywhere or nowhere (``B_k = 0``). The
    union is ``[0, e) ∪ (x_0, ∞)``; the half-line ends are rounded up and the interval
    ends down, so every ``x`` beyond the returned value is covered. Returns ``inf``
    when no condition holds for all large ``x`` and ``0`` when they cover every ``x >
    0``.

    In float64: ``0`` when some ``B_k = 0 < A_k``; ``inf`` when no ``B_k > 0``; else
    ``x_0 = max(0, min ↑₁(−A_k/B_k))`` over ``B_k > 0`` (:func:`_up`), and ``0``
    instead when some interval end ``↓₁(−A_k/B_k)`` (``B_k < 0 < A_k``) exceeds
    ``x_0``.
    """
    A = np.asarray(A, dtype=float).ravel()
    B = np.asarray(B, dtype=float).ravel()
    if np.any((B == 0) & (A > 0)):
        return 0.0
    pos = B > 0
    if not np.any(pos):
        return math.inf
    x0 = float(np.max([0.0, float(_up(-A[pos] / B[pos], 1).min())]))
    ends = (B < 0) & (A > 0)
    if np.any(ends) and float(_down(-A[ends] / B[ends], 1).max()) > x0:
        return 0.0
    return x0


#: Relative margin by which :func:`analytic_rho_boundaries` shrinks its regions, so that
#: they lie inside the point-by-point verdicts of :func:`analytic_bounds` (the same
#bounds,
#: rounded along a different path).
_RHO_MARGIN = 1e-12


def _affine_pieces(sig: dict, n: tuple, K: int) -> dict:
    """Affine bounds ``A + x B`` (``x = s²``) on ``μ_1``, ``μ_K``, the tail beyond ``K``
    and
    ``tr C`` for ``C = S + x diag(n̂)``: a dict of ``(A, B)`` pairs of arrays, lower
    bounds rounded down and upper bounds up (valid for every ``x >= 0``).

    With ``up_k``, ``down_k`` as in :func:`_explicit_signal`, ``l``, ``h`` the
    descending ``n_lo``, ``n_hi``, ``t_lo = _tails(l, down)``, ``t_hi = _tails(h, up)``
    and ``tr = (trS_lo, t_lo[0], trS_hi, t_hi[0])`` (returned as ``"trace"``), the
    pieces, in this order:

    * ``low1``: ``(var_lo[k], n_lo[k])`` for every ``k``; ``(ray_lo,
      down_1(down_{d+2}(n_loᵀ y2)/yy_hi))``; ``(sig_lo[0], l[d−1])``;
    * ``up1``: ``(sig_up[0], h[0])``, ``(trS_hi, t_hi[0])``;
    * ``upK``: ``(sig_up[i−1], h[K−i])`` for ``i = 1..K``; ``(up_1(trS_hi − o),
      up_1(t_hi[0] − down_2((d − 1) l[d−1])))`` with ``o = down_d(Σ sig_lo −
      sig_lo[K−1])``; and, when ``k >= K − 1`` Ritz vectors, ``(up_2(trS_hi −
      head_lo[K−1] − tail_lo[K]), up_2(t_hi[0] − g[K−1] − t_lo[K]))`` with ``g = [0,
      down_{d+k+2}(Σ_{i<=j} (n_loᵀ Y2)_i / one_f)]``;
    * ``lowK``: ``(sig_lo[K−1], l[d−1])``, ``(0, l[K−1])`` and the piece of
      :func:`_ritz_block_lower`, if any;
    * ``tail_up``: ``(tail_up_S[K−j], t_hi[j])`` for ``j = 0..K``; ``(up_1(trS_hi −
      down_K(Σ_{i<K} sig_lo[i])), up_1(t_hi[0] − down_1(K l[d−1])))``; and, when
      ``k >= K``, ``(up_1(trS_hi − head_lo[K]), up_1(t_hi[0] − g[K]))``;
    * ``tail_low``: ``(tail_lo_S[K], t_lo[K])``.
    """
    d = sig["sig_lo"].size
    n_lo, n_hi = n[1], n[2]
    nl_s, nh_s = -np.sort(-n_lo), -np.sort(-n_hi)
    t_lo, t_hi = _tails(nl_s, up=False), _tails(nh_s, up=True)
    tr = (sig["trS_lo"], float(t_lo[0]), sig["trS_hi"], float(t_hi[0]))
    sl, su = sig["sig_lo"], sig["sig_up"]
    ray = (
        np.array([sig["ray_lo"]]),
        np.array([_down(_down(float(n_lo @ sig["y2"]), d + 2) / sig["yy_hi"], 1)]),
    )
    low1 = [(sig["var_lo"], n_lo), ray, (np.array([sl[0]]), np.array([nl_s[-1]]))]
    up1 = [(np.array([su[0], tr[2]]), np.array([nh_s[0], tr[3]]))]
    # μ_K <= σ̄_i + x n̂_(K+1−i), and tr C − Σ_{i≠K} (θ_i + x n̂_(d))
    i = np.arange(1, K + 1)
    others = _down(float(np.sum(sl)) - sl[K - 1], d)
    upK = [
        (su[i - 1], nh_s[K - i]),
        (
            np.array([_up(tr[2] - others, 1)]),
            np.array([_up(tr[3] - _down((d - 1) * nl_s[-1], 2), 1)]),
        ),
    ]
    lowK = [(np.array([sl[K - 1], 0.0]), np.array([nl_s[-1], nl_s[K - 1]]))]
    lowK += _ritz_block_lower(sig, n_lo, K)
    # Σ_{m>K} μ_m <= τ_i + x t̂_{K−i}, and tr C − Σ_{i<=K} (θ_i + x n̂_(d))
    j = np.arange(K + 1)
    tail_up = [
        (sig["tail_up"][K - j], t_hi[j]),
        (
            np.array([_up(tr[2] - _down(float(np.sum(sl[:K])), K), 1)]),
            np.array([_up(tr[3] - _down(K * nl_s[-1], 1), 1)]),
        ),
    ]
    tail_low = [(np.array([sig["tail_lo"][K]]), np.array([t_lo[K]]))]
    # heads by Ky Fan at the Ritz vectors: Σ_{i<=j} μ_i >= h_j + x g_j (j = K − 1, K)
    nh = sig["head_lo"].size - 1
    if nh >= K - 1:
        g = _down(np.cumsum(n_lo @ sig["Y2"]) / sig["one_f"], d + nh + 2)
        g = np.concatenate([[0.0], g])
        hS, hN = sig["head_lo"][K - 1], g[K - 1]
        upK.append(
            (
                np.array([_up(tr[2] - hS - sig["tail_lo"][K], 2)]),
                np.array([_up(tr[3] - hN - t_lo[K], 2)]),
            )
        )
        if nh >= K:
            tail_up.append(
                (
                    np.array([_up(tr[2] - sig["head_lo"][K], 1)]),
                    np.array([_up(tr[3] - g[K], 1)]),
                )
            )
    cat = lambda parts: (
        np.concatenate([np.ravel(a) for a, _ in parts]),
        np.concatenate([np.ravel(b) for _, b in parts]),
    )
    return {
        "low1": cat(low1),
        "up1": cat(up1),
        "upK": cat(upK),
        "lowK": cat(lowK),
        "tail_up": cat(tail_up),
        "tail_low": cat(tail_low),
        "trace": tr,
    }


def _ritz_block_lower(sig: dict, n_lo: np.ndarray, K: int) -> list:
    """An affine lower bound ``A + x B`` on ``μ_K(S + x diag(n̂))`` from the first ``K``
    Ritz vectors ``W`` of ``S`` (empty when there are fewer, or when it is vacuous).

    By Poincaré ``μ_K >= λ_K(WᵀCW)/(1 + f)`` when ``λ_K(WᵀCW) >= 0``, and by Weyl
    ``λ_K(WᵀCW) >= λ_min(WᵀSW) + x λ_min(Wᵀ diag(n̂) W)``; ``diag(n̂) ⪰ diag(n̂_lo)``.
    Both smallest eigenvalues are enclosed as in :func:`_eig_enclosure`. Where the
    plateau noise lies along the signal directions this sees it, unlike the noise floor.

    Round-off budget (``up_k``, ``down_k`` as in :func:`_explicit_signal`, ``F =
    _frob_up``, ``d`` the number of rows of ``W``, sums evaluated left to right):
    ``f = up_2(F(WᵀW − I) + 1.01 (d + 2) u F(|W|ᵀ|W|))``; ``eA = up_4((1 + f) eS +
    1.01 (2d + 4) u F(|W|ᵀ|S||W|) + 2u F(WᵀSW))`` and ``eB = up_2(1.01 (d + 4) u
    F(|W|ᵀ diag(n_lo) |W|))``; ``a_lo``, ``b_lo`` the smallest lower ends of
    :func:`_eig_enclosure` at ``(WᵀSW, eA)`` and ``(Wᵀ diag(n_lo) W, eB)``. Empty
    unless ``a_lo >= 0``, ``b_lo >= 0`` and ``f < 1/2``; else the one piece
    ``(down_1(a_lo/one_f), down_1(b_lo/one_f))``, ``one_f = up_1(1 + f)``.
    """
    Y = sig["Y"]
    if Y.shape[1] < K:
        return []
    W = Y[:, :K]
    d = W.shape[0]
    aW = np.abs(W)
    FW = W.T @ W - np.eye(K)
    f = float(_up(_frob_up(FW) + 1.01 * (d + 2) * _U * _frob_up(aW.T @ aW), 2))
    S = sig["S"]
    A = W.T @ S @ W
    eA = _up(
        (1.0 + f) * sig["eS"]
        + 1.01 * (2 * d + 4) * _U * _frob_up(aW.T @ np.abs(S) @ aW)
        + 2.0 * _U * _frob_up(A),
        4,
    )
    Bm = (W.T * n_lo[None, :]) @ W
    eB = _up(1.01 * (d + 4) * _U * _frob_up((aW.T * n_lo[None, :]) @ aW), 2)
    a_lo = float(_eig_enclosure(A[None], np.array([eA]))[0][0, -1])
    b_lo = float(_eig_enclosure(Bm[None], np.array([eB]))[0][0, -1])
    if not (a_lo >= 0.0 and b_lo >= 0.0) or f >= 0.5:
        return []
    one_f = float(_up(1.0 + f, 1))
    return [(np.array([_down(a_lo / one_f, 1)]), np.array([_down(b_lo / one_f, 1)]))]


def _rho_boundaries(
    sig: dict, n: tuple, bnorm: float, criterion: RibbonCriterion
) -> tuple[float, float]:
    """``(ρ_suff, ρ_nec)`` from the affine pieces (see
    :func:`analytic_rho_boundaries`).

    With ``↑_k``/``↓_k`` the roundings :func:`_up`/:func:`_down`, ``d`` the size of
    ``sig["sig_lo"]``, ``(R_lo, R_hi)`` the ratio bounds of the criterion and the trace
    pieces ``(trS_lo, trN_lo, trS_hi, trN_hi)`` of :func:`_affine_pieces`, the
    allowance is ``a = ↑₂(4du)·(1 + 8u)``, ``a_S = ↑₁(a·trS_hi)``,
    ``a_N = ↑₁(a·trN_hi)``. The conditions ``A + x B`` (float64, left to right) are

    * necessary, for every lower piece ``ℓ`` of ``μ_K`` and upper piece ``υ`` of
      ``μ_1``: ``↓₃(ℓ_A − ↑₁(R_hi υ_A) − (1 + R_hi) a_S)`` and the same in ``B`` with
      ``a_N``; for every lower tail piece ``τ``: ``↓₃(τ_A − d a_S − ↑₁(ε trS_hi))``
      and ``↓₃(τ_B − d a_N − ↑₁(ε trN_hi))``; ``x_nec`` is :func:`_excluded_from` of
      all of them;
    * sufficient, for every upper piece ``υ`` of ``μ_K`` and lower piece ``ℓ`` of
      ``μ_1``: ``↑₃(υ_A + (1 + R_lo) a_S − ↓₁(R_lo ℓ_A))`` and the same in ``B``; for
      every upper tail piece ``τ``: ``↑₃(τ_A + d a_S − ↓₁(ε trS_lo))`` and
      ``↑₃(τ_B + d a_N − ↓₁(ε trN_lo))``; ``x_suff`` is the smaller of the two
      :func:`_largest_below`.

    With ``b_lo = ↓_{d+8}(bnorm)``, ``b_hi = ↑_{d+8}(bnorm)``: ``ρ_suff = 0`` for
    ``x_suff < 0``, ``inf`` for ``x_suff = inf``, else
    ``max(↓₂(√max(↓₁(x_suff), 0)/b_hi), 0)``; ``ρ_nec = x_nec`` for ``x_nec ∈ {0,
    inf}``, else ``↑₂(√↑₁(x_nec)/b_lo)``. Returned: ``(min(ρ_suff (1 − m), ρ_nec (1 +
    m)), ρ_nec (1 + m))``, ``m = 10^-12`` (``_RHO_MARGIN``).
    """
    d = sig["sig_lo"].size
    K = criterion.K
    r_lo, r_hi = criterion.ratio_bounds
    eps = criterion.eps
    pc = _affine_pieces(sig, n, K)
    trS_lo, trN_lo, trS_hi, trN_hi = pc["trace"]
    # the allowance c (tr S + x tr N̂) that analytic_bounds adds, c = 4 d u (rounded up)
    al = float(_up(4.0 * d * _U, 2)) * (1.0 + 8.0 * _U)
    aS, aN = float(_up(al * trS_hi, 1)), float(_up(al * trN_hi, 1))
    pair = lambda X, Y: (X[0][:, None], X[1][:, None], Y[0][None, :], Y[1][None, :])
    # necessary: μ_K >= ℓ_K > R u_1 >= R μ_1, or tail >= τ > ε tr C
    lA, lB, uA, uB = pair(pc["lowK"], pc["up1"])
    A_dec = _down(lA - _up(r_hi * uA, 1) - (1.0 + r_hi) * aS, 3)
    B_dec = _down(lB - _up(r_hi * uB, 1) - (1.0 + r_hi) * aN, 3)
    tA, tB = pc["tail_low"]
    A_var = _down(tA - d * aS - _up(eps * trS_hi, 1), 3)
    B_var = _down(tB - d * aN - _up(eps * trN_hi, 1), 3)
    x_nec = _excluded_from(np.r_[A_dec.ravel(), A_var], np.r_[B_dec.ravel(), B_var])
    # sufficient: u_K <= R ℓ_1 and tail <= ε tr C on all of [0, x]
    uA, uB, lA, lB = pair(pc["upK"], pc["low1"])
    A_dec = _up(uA + (1.0 + r_lo) * aS - _down(r_lo * lA, 1), 3)
    B_dec = _up(uB + (1.0 + r_lo) * aN - _down(r_lo * lB, 1), 3)
    tA, tB = pc["tail_up"]
    A_var = _up(tA + d * aS - _down(eps * trS_lo, 1), 3)
    B_var = _up(tB + d * aN - _down(eps * trN_lo, 1), 3)
    x_suff = min(_largest_below(A_dec, B_dec), _largest_below(A_var, B_var))
    bn_lo, bn_hi = float(_down(bnorm, d + 8)), float(_up(bnorm, d + 8))
    if x_suff < 0:
        rho_suff = 0.0
    elif math.isinf(x_suff):
        rho_suff = math.inf
    else:
        rho_suff = max(
            float(_down(math.sqrt(max(float(_down(x_suff, 1)), 0.0)) / bn_hi, 2)), 0.0
        )
    if math.isinf(x_nec) or x_nec == 0.0:
        rho_nec = x_nec
    else:
        rho_nec = float(_up(math.sqrt(float(_up(x_nec, 1))) / bn_lo, 2))
    rho_suff *= 1.0 - _RHO_MARGIN
    return min(rho_suff, rho_nec * (1.0 + _RHO_MARGIN)), rho_nec * (1.0 + _RHO_MARGIN)


def analytic_rho_boundaries(
    lam: Any,
    b: Any,
    eta: float,
    steps: int,
    criterion: RibbonCriterion = RibbonCriterion(),
    *,
    pivots: int = _PIVOTS,
) -> tuple[float, float]:
    """Phase boundaries in ``ρ = s/|b|`` as formulas in the bounds of
    :func:`analytic_bounds`.

    With ``x = s²``, the noise ``x n̂`` (``n̂`` the noise at ``s = 1``, sorted
    ``n̂_(1) >= ...``), ``t̂_j = Σ_{m>j} n̂_(m)``, ``R = q^(2(K−1))`` and the signal
    quantities of :func:`analytic_bounds` (``θ_i <= σ_i(S) <= σ̄_i``, tails
    ``τ_i^- <= Σ_{l>i} σ_l <= τ_i^+``), every bound there is affine in ``x`` or a
    maximum
    or minimum of affine functions, and so is each condition of the definition:

    * **necessary** (``ρ > ρ_nec`` is proved *not* a ribbon): the union of the
      half-lines where ``τ_K^- + x t̂_K > ε (tr S + x tr N̂)`` (variance) or
      ``ℓ_K(x) > R u_1(x)`` (decay), ``ℓ_K ∈ {θ_K + x n̂_(d), x n̂_(K),
      (λ_min(WᵀSW) + x λ_min(Wᵀ diag(n̂) W))/(1 + f)}`` (``W`` the first ``K`` Ritz
      vectors, ``f >= ||WᵀW − I||_2``), ``u_1 ∈ {σ̄_1 + x n̂_(1), tr C}``; e.g. the
      variance half-line starts at
      ``x = (ε tr S − τ_K^-)/(t̂_K − ε tr N̂)``;
    * **sufficient** (every ``ρ <= ρ_suff`` is proved a ribbon): the largest ``x`` such
      that on ``[0, x]`` one of ``τ_i^+ + x t̂_{K−i} <= ε tr C`` (``i <= K``) or
      ``tr C − Σ_{i<=K}(θ_i + x n̂_(d)) <= ε tr C`` holds, and one of
      ``u_K(x) <= R ℓ_1(x)``, ``u_K ∈ {σ̄_i + x n̂_(K+1−i)} ∪ {tr C − Σ_{i≠K}(θ_i + x
      n̂_(d))}``, ``ℓ_1`` running over ``C_kk``, the Rayleigh quotient at the top Ritz
      vector and ``θ_1 + x n̂_(d)``; each pair of affine functions gives an interval
      whose end is a ratio of these quantities.

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
    pivots : int, optional
        As in :func:`analytic_bounds`.

    Returns
    -------
    rho_suff, rho_nec : float
        ``0 <= ρ_suff <= ρ_nec <= inf``; ``ρ_suff = 0`` when the bounds prove no ribbon
        at any small ``ρ``, ``ρ_nec = inf`` when they exclude no half-line of ``ρ``.
    """
    criterion = _check_criterion(criterion)
    lam_arr, b_arr, _, eta_val, T = _check_inputs(lam, b, 0.0, eta, steps)
    p = _check_pivots(pivots)
    if not np.any(b_arr != 0):
        raise ValueError("b must not vanish (ρ = s/|b| is undefined for b = 0)")
    lam_f = np.asarray(lam_arr, dtype=float)
    d = lam_f.size
    if d < criterion.K:
        raise ValueError(
            f"the criterion needs d >= K = {criterion.K} eigenvalues, got d = {d}"
        )
    S, E, n = _gd_parts(lam_f, b_arr, eta_val, T)
    sig = _explicit_signal(S, E, min(d, T), p)
    return _rho_boundaries(sig, n, _norm(b_arr), criterion)


def _norm(b: np.ndarray) -> float:
    """``|b|`` in float64 without underflow (``b ≠ 0``)."""
    bmax = float(np.max(np.abs(b)))
    return bmax * math.sqrt(float(np.sum((b / bmax) ** 2)))


def _sgd_parts(
    lam: np.ndarray,
    b: np.ndarray,
    eta: float,
    batch_size: int,
    T: int,
    label_noise: float,
):
    """The cloud of online SGD as a PSD signal plus the diagonal noise ``s² n̂'``.

    ``C_SGD = S' + s² diag(n̂ + φ_0)`` with ``S' = S + Φ_b + σ_ε² diag(φ_ε)``: the
    parts ``Φ_b`` (driven by the ground truth, not diagonal), ``φ_0`` (initialisation)
    and ``φ_ε`` (label noise) of :func:`ribbonlib.sgd.fluctuation_parts`; the
    label-noise
    floor does not depend on ``s`` and joins the signal. Each part is taken to be
    accurate to ``sgd.cloud_rounding(d, T)`` times its largest diagonal entry, the bound
    that :mod:`ribbonlib.sgd` states for the cloud covariance (its recursions run once
    per source, each with non-negative coefficients); every sum is rounded outward.

    In float64, with ``↑_k``/``↓_k`` the roundings :func:`_up`/:func:`_down`, ``P`` the
    parts ``(signal, init, label)`` and ``E, (n̂, n̂_lo, n̂_hi)`` those of gradient
    descent (:func:`_gd_parts`): ``e_i = ↑₂(ε_T max|diag P_i|)``,
    ``ε_T = sgd.cloud_rounding(d, T)``; ``S' = S + P_signal``, then
    ``σ_ε² diag P_label`` added to its diagonal; the error bound
    ``E' = ↑₂(E + (e_0 + ↑₁(σ_ε² e_2)) + 2u|S'|)``; the noise
    ``(n̂ + diag P_init, max(↓₂(n̂_lo + diag P_init − e_1), 0),
    ↑₂(n̂_hi + diag P_init + e_1))`` (sums left to right).
    """
    from . import sgd

    d = lam.size
    S, E, (n_f, n_lo, n_hi) = _gd_parts(lam, b, eta, T)
    parts = sgd.fluctuation_parts(lam, b, eta, batch_size, T)
    eps_T = sgd.cloud_rounding(d, T)
    err = [float(_up(eps_T * np.max(np.abs(np.diag(v))), 2)) for v in parts]
    idx = np.arange(d)
    S2 = S + parts.signal
    S2[idx, idx] += label_noise * np.diag(parts.label)
    E2 = _up(E + (err[0] + _up(label_noise * err[2], 1)) + 2.0 * _U * np.abs(S2), 2)
    init = np.diag(parts.init)
    n = (
        n_f + init,
        np.maximum(_down(n_lo + init - err[1], 2), 0.0),
        _up(n_hi + init + err[1], 2),
    )
    return S2, E2, n


def sgd_analytic_bounds(
    lam: Any,
    b: Any,
    s: float,
    eta: float,
    batch_size: int,
    steps: int,
    label_noise: float = 0.0,
    *,
    pivots: int = _PIVOTS,
) -> SpectrumBounds:
    """:func:`analytic_bounds` for the cloud of online-SGD trajectories.

    The same sandwich applied to ``C_SGD = S' + diag(σ_ε² φ_ε + s² (n̂ + φ_0))`` of
    :func:`ribbonlib.sgd.cloud_covariance`, whose signal ``S' = S + Φ_b`` carries the
    SGD fluctuations driven by the ground truth and whose diagonal noise carries the
    initialisation (``φ_0``) and the label-noise floor (``φ_ε``). Rigorous for the
    exact ``C_SGD`` given the round-off bound that :mod:`ribbonlib.sgd` states.

    Parameters
    ----------
    lam, b, s, steps, pivots
        As in :func:`analytic_bounds`.
    eta : float
        Learning rate, ``0 < η < η_c(B)`` (SGD stable;
        :func:`ribbonlib.sgd.stability_threshold`).
    batch_size : int
        ``B >= 1``.
    label_noise : float, optional
        ``σ_ε² >= 0``.

    Returns
    -------
    SpectrumBounds
    """
    lam_arr, b_arr, s_val, eta_val, T = _check_inputs(lam, b, s, eta, steps)
    p = _check_pivots(pivots)
    noise = _validate.finite_real(label_noise, "label_noise", low=0.0)
    lam_f = np.asarray(lam_arr, dtype=float)
    S, E, n = _sgd_parts(lam_f, b_arr, eta_val, batch_size, T, noise)
    sig = _explicit_signal(S, E, lam_f.size, p)
    out = _explicit_cloud(sig, n, np.array([s_val]))
    keys = (
        "lower",
        "upper",
        "trace",
        "tail_lower",
        "tail_upper",
        "trace_lower",
        "trace_upper",
    )
    vals = {k: v[0] for k, v in zip(keys, out)}
    return SpectrumBounds(
        signal_lower=sig["sig_lo"],
        signal_upper=sig["sig_up"],
        signal_tail=sig["tail_up"],
        **vals,
    )


def sgd_rho_boundaries(
    lam: Any,
    b: Any,
    eta: float,
    batch_size: int,
    steps: int,
    label_noise: float = 0.0,
    criterion: RibbonCriterion = RibbonCriterion(),
    *,
    pivots: int = _PIVOTS,
) -> tuple[float, float]:
    """The phase boundaries of :func:`analytic_rho_boundaries` for online SGD.

    The cloud is split as in :func:`sgd_analytic_bounds`: with ``x = s²`` the noise is
    ``x n̂'``, ``n̂' = n̂ + φ_0``, and the signal is ``S + Φ_b + diag(c)``, where the
    label-noise floor ``c = σ_ε² φ_ε`` does not depend on ``s`` and so joins the
    signal. Every bound is then affine in ``x`` as before, and the same half-lines and
    intervals give ``ρ_suff <= ρ_nec``.

    Parameters
    ----------
    lam, b, steps, criterion, pivots
        As in :func:`analytic_rho_boundaries`.
    eta, batch_size, label_noise
        As in :func:`sgd_analytic_bounds`.

    Returns
    -------
    rho_suff, rho_nec : float
    """
    criterion = _check_criterion(criterion)
    lam_arr, b_arr, _, eta_val, T = _check_inputs(lam, b, 0.0, eta, steps)
    p = _check_pivots(pivots)
    noise = _validate.finite_real(label_noise, "label_noise", low=0.0)
    if not np.any(b_arr != 0):
        raise ValueError("b must not vanish (ρ = s/|b| is undefined for b = 0)")
    lam_f = np.asarray(lam_arr, dtype=float)
    d = lam_f.size
    if d < criterion.K:
        raise ValueError(
            f"the criterion needs d >= K = {criterion.K} eigenvalues, got d = {d}"
        )
    S, E, n = _sgd_parts(lam_f, b_arr, eta_val, batch_size, T, noise)
    sig = _explicit_signal(S, E, d, p)
    return _rho_boundaries(sig, n, _norm(b_arr), criterion)
