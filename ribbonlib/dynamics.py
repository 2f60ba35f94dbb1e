"""Gradient descent on the linear model, in closed form and by explicit iteration.

With ``Σ = XᵀX/N = Σ_k λ_k v_k v_kᵀ`` and targets ``y = X w*``, gradient descent on
``L(w) = ‖Xw − y‖²/(2N)`` is ``w_{t+1} = w_t − η Σ (w_t − w*)``. In the eigenbasis each
mode relaxes on its own (MATH.md §2):

.. math:: v_k^\\top w_t = b_k + r_k^t\\,(v_k^\\top w_0 - b_k), \\qquad r_k = 1 - \\eta\\lambda_k,

which converges iff ``0 < η λ_k < 2`` for every mode. :func:`gd_modes` evaluates this
closed form; :func:`run_gd`, :func:`run_sgd` and :func:`run_kernel_gd` iterate the
updates explicitly (the independent computations the book checks it against).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _geometric, _validate

__all__ = [
    "gd_modes",
    "gd_loss",
    "gd_modes_error_bound",
    "gd_loss_error_bound",
    "run_gd",
    "run_sgd",
    "run_kernel_gd",
]

#: Largest number of array entries a function materialises (2 GB of float64).
MAX_ENTRIES = _validate.MAX_ENTRIES
#: Unit round-off of float64.
UNIT_ROUNDOFF = 2.0**-53
#: Smallest positive float64 (the absolute error of a result that underflows).
TINY = 2.0**-1074


def _check_size(entries: int, what: str) -> None:
    _validate.check_size(entries, what, "use fewer steps, fewer initialisations or a smaller problem")


#: Veltkamp's splitting constant 2^27 + 1 (Dekker's exact product).
_SPLIT = 134217729.0


def _two_product(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(p, e)`` with ``p = fl(x·y)`` and ``p + e = x·y`` exactly (Dekker).

    Exact unless a partial product overflows or underflows (``|x|, |y|`` beyond about
    ``1e150``, or products below about ``1e-290``).
    """

    def split(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c = _SPLIT * z
        hi = c - (c - z)
        return hi, z - hi

    p = x * y
    xh, xl = split(x)
    yh, yl = split(y)
    return p, ((xh * yh - p) + xh * yl + xl * yh) + xl * yl


def _log_abs_r(eta: float, lam: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(L, sign, central)``, ``r = 1 − ηλ = sign·e^L`` for the exact product ``ηλ``.

    ``ηλ = a + e`` exactly (:func:`_two_product`). For ``|1 − a| < ½`` (``central``)
    ``1 − a`` is exact (Sterbenz) and ``r = (1 − a) − e`` is rounded once,
    ``L = log|r|``; elsewhere ``L = log1p(−a) − e/(1 − a)`` (``a < ½``) or
    ``log(a − 1) + e/(a − 1)`` (``a > 3/2``), the first-order correction for ``e``,
    where ``|e/(1 − a)| <= 4u``.
    So ``|L̂ − L| <= 3u|L|`` (``+ u`` in the central range), whatever the rounding of
    the product ``η·λ``.
    """
    a, e = _two_product(np.float64(eta), np.asarray(lam, dtype=float))
    central = np.abs(1.0 - a) < 0.5
    with np.errstate(divide="ignore", invalid="ignore"):
        r_c = (1.0 - a) - e
        L_c = np.log(np.abs(r_c))
        L_lo = np.log1p(-np.minimum(a, 0.5)) - e / (1.0 - a)
        L_hi = np.log(np.abs(a - 1.0)) + e / (a - 1.0)
    L = np.where(central, L_c, np.where(a < 1.0, L_lo, L_hi))
    sign = np.where(central, np.where(r_c < 0, -1.0, 1.0), np.where(a < 1.0, 1.0, -1.0))
    return L, sign, central


def _mode_args(lam: Any, b: Any, c0: Any, eta: float, steps: int, what: str
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, int]:
    """Validated ``(lam, b, c0, eta, T)`` of the closed forms (``c0`` 1-D or 2-D)."""
    lam_a = np.asarray(_validate.eigenvalues(lam), dtype=float)
    d = lam_a.size
    b_a = _validate.vector(b, "b", d)
    c = np.asarray(c0, dtype=float)
    if c.ndim not in (1, 2) or c.shape[-1] != d:
        raise ValueError(f"c0 must have shape ({d},) or (M, {d}), got shape {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError("c0 must be finite; found non-finite entries")
    eta_v = _validate.learning_rate(eta, lam_a)
    T = _validate.integer(steps, "steps", low=0)
    _check_size(c.size * (T + 1), what)
    return lam_a, b_a, c, eta_v, T


def gd_modes(lam: Any, b: Any, c0: Any, eta: float, steps: int) -> np.ndarray:
    """Closed-form gradient-descent trajectory in the eigenbasis.

    Parameters
    ----------
    lam : array_like, shape (d,)
        Eigenvalues ``λ_k > 0`` of ``Σ`` (any order).
    b : array_like, shape (d,)
        Ground truth in the eigenbasis, ``b_k = v_kᵀ w*``.
    c0 : array_like, shape (d,) or (M, d)
        Initial coordinates ``v_kᵀ w_0`` (one row per initialisation when 2-D).
    eta : float
        Learning rate, ``0 < η·max(λ) < 2`` (the float64 product ``η·max(λ)`` must be
        below 2; since rounding is monotone, every rate with exact ``η·max(λ) >= 2`` is
        refused).
    steps : int
        Number of steps ``T >= 0``.

    Returns
    -------
    numpy.ndarray, shape (T+1, d) or (M, T+1, d)
        ``v_kᵀ w_t = b_k + r_k^t (c0_k − b_k)`` for ``t = 0..T``, evaluated as
        ``c0_k + (1 − r_k^t)(b_k − c0_k)`` with ``1 − r_k^t = −expm1(t·log1p(−ηλ_k))``
        (sign-corrected for ``ηλ_k > 1``, and with the product ``ηλ_k`` formed
        exactly), so that slow modes keep full relative accuracy in their
        displacement. The error is a few ulp of ``|c0_k| + |b_k − c0_k|`` for every
        ``t``, bounded entry by entry by :func:`gd_modes_error_bound`; it is exact at
        ``t = 0``.

    Raises
    ------
    ValueError
        For non-positive or non-finite ``lam``, ``b`` or ``c0`` of the wrong shape or
        non-finite, ``η·max(λ) >= 2`` (divergence) or ``steps < 0``.
    """
    lam_a, b_a, c, eta_v, T = _mode_args(lam, b, c0, eta, steps, "the trajectory")
    L, sign, _ = _log_abs_r(eta_v, lam_a)
    # v_kᵀw_t = c0_k + (1 − r_k^t)(b_k − c0_k), with 1 − r^t = −expm1(t log r): accurate
    # to a few ulp also while r^t is close to 1 (slow modes, early times).
    t = np.arange(T + 1)[:, None]
    om = _geometric.one_minus_powers(L[None, :], sign[None, :], t)  # (T+1, d)
    if c.ndim == 1:
        return c[None, :] + om * (b_a - c)[None, :]
    return c[:, None, :] + om[None, :, :] * (b_a[None, :] - c)[:, None, :]


def _power_sensitivity(lam: np.ndarray, eta: float, T: int, power: int
                       ) -> tuple[np.ndarray, ...]:
    """Terms of the round-off bounds, shape (T+1, d), for ``|r|^(power·t)``.

    Returns ``(|1 − r^t|, |r|^(pt), pt·|r|^(pt)·|log|r||, pt·|r|^(pt)·[central])``: the
    last two are the first-order sensitivities of ``|r|^(pt)`` to a relative error of
    ``log|r|`` and to an absolute error ``u`` of ``log|r|`` (only in the central range
    ``|1 − ηλ| < ½``, see :func:`_log_abs_r`); 0 where ``t = 0``.
    """
    L, sign, central = _log_abs_r(eta, lam)
    t = np.arange(T + 1, dtype=float)[:, None]
    pt = power * t
    Lr = L[None, :]
    om = np.abs(_geometric.one_minus_powers(Lr, sign[None, :], t.astype(int)))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        mag = np.where(t == 0, 1.0, np.exp(pt * Lr))
        rel = np.where((t == 0) | np.isneginf(Lr), 0.0, pt * mag * np.abs(Lr))
    cen = pt * mag * central[None, :]
    return om, mag, rel, cen


def gd_modes_error_bound(lam: Any, b: Any, c0: Any, eta: float, steps: int
                         ) -> np.ndarray:
    r"""First-order bound on the round-off error of :func:`gd_modes`, entry by entry.

    With ``u = 2^-53``, elementary functions (``log1p``, ``log``, ``exp``,
    ``expm1``) accurate to one ulp (``2u`` relative) and the basic operations correctly
    rounded, the computed ``ĉ_k(t)`` differs from the exact
    ``c_k(t) = b_k + r_k^t (c0_k − b_k)`` (for the exact ``r_k = 1 − η λ_k`` of the
    given floats) by at most

    .. math::

        u\,\Big[\,|c_k(t)| + |b_k - c0_k|\,\big(4\,|1 - r_k^t|
        + |r_k|^t\,(2 + 4t\,|\log|r_k|| + t\,[\,|r_k| < \tfrac12\,])\big)\Big]

    to first order in ``u``, plus ``2^-1074 (|b_k − c0_k| + 1)`` for results that
    underflow (``r_k^t`` or a product below the smallest float). The terms: rounding
    of the result, of ``b − c0`` and of the product (``|1 − r^t|``), the one-ulp
    error of ``expm1``/``exp``, and the error of ``log|r_k|`` (at most
    ``3u|log|r_k||``, ``+ u`` where ``|r_k| < ½``: the product ``η·λ_k`` is formed
    exactly, so its rounding does not enter) and of the product with ``t``,
    propagated through ``e^(t log|r|)``. Since ``t|r|^t|log|r|| <= 1/e`` and
    ``t|r|^t <= 1/(e log 2)`` for ``|r| <= ½``, the bound never exceeds
    ``u (|c_k(t)| + 12 |b_k − c0_k|)``: a few ulp for every ``t`` and every
    ``0 < ηλ_k < 2``. The library's tests check the bound against the recursion
    iterated in 40-digit arithmetic over the whole stable range.

    Parameters and validation are those of :func:`gd_modes`.

    Returns
    -------
    numpy.ndarray
        The bound, same shape as :func:`gd_modes`' result (``|ĉ_k(t)|`` is used for
        ``|c_k(t)|``, a second-order difference).
    """
    lam_a, b_a, c, eta_v, T = _mode_args(lam, b, c0, eta, steps, "the error bound")
    om, mag, rel, cen = _power_sensitivity(lam_a, eta_v, T, 1)
    sens = 4.0 * om + 2.0 * mag + 4.0 * rel + cen  # (T+1, d)
    modes = gd_modes(lam_a, b_a, c, eta_v, T)
    if c.ndim == 1:
        gap = np.abs(b_a - c)[None, :]
    else:
        gap = np.abs(b_a[None, :] - c)[:, None, :]
    sens = sens if c.ndim == 1 else sens[None, :, :]
    return UNIT_ROUNDOFF * (np.abs(modes) + gap * sens) + TINY * (gap + 1.0)


def gd_loss(lam: Any, b: Any, c0: Any, eta: float, steps: int) -> np.ndarray:
    """Closed-form training loss ``L(w_t) = ½ Σ_k λ_k r_k^(2t) (c0_k − b_k)²``.

    Parameters are those of :func:`gd_modes` (``c0`` 1-D or 2-D).

    Returns
    -------
    numpy.ndarray, shape (T+1,) or (M, T+1)
        The loss ``‖X w_t − y‖²/(2N)`` at ``t = 0..T`` for noiseless targets
        ``y = X w*``. Every term is positive, so the error is a sum of relative errors
        of the terms, bounded by :func:`gd_loss_error_bound`.
    """
    lam_a, b_a, c, eta_v, T = _mode_args(lam, b, c0, eta, steps, "the loss curve")
    L, sign, _ = _log_abs_r(eta_v, lam_a)
    t = np.arange(T + 1)[:, None]
    r2t = _geometric.powers(2.0 * L[None, :], np.ones_like(sign)[None, :], t)
    e2 = (c - b_a) ** 2
    if c.ndim == 1:
        return 0.5 * (r2t * lam_a[None, :]) @ e2.T
    return 0.5 * e2 * lam_a[None, :] @ r2t.T


def gd_loss_error_bound(lam: Any, b: Any, c0: Any, eta: float, steps: int
                        ) -> np.ndarray:
    """First-order bound on the round-off error of :func:`gd_loss`.

    Term ``k`` of the loss, ``½ λ_k r_k^(2t) a_k²`` with ``a_k = c0_k − b_k``, is
    computed with an absolute error of at most

    ``u ½ λ_k a_k² |r_k|^(2t) [7 + 8t |log|r_k|| + 2t [|r_k| < ½]]``

    (the rounding of ``c0 − b``, of its square, of the two products and one ulp of
    ``exp``; the error of ``log|r_k|`` as in :func:`gd_modes_error_bound`, doubled by
    the square), to first order in ``u = 2^-53``; the sum of the ``d`` positive terms
    adds ``(d − 1) u`` of the total, and results that underflow add
    ``2^-1074 (L_0 + 2d)``, with ``L_0`` the initial loss. Relative to the term itself
    the error grows like ``t|log|r_k||``, the number of e-folds the term has decayed
    (up to about 745 before it underflows): no relative accuracy independent of ``t``
    (such as ``(d + 8) u``) holds. Relative to the initial loss it stays below
    ``9u L_0 + (d − 1) u L_t``.

    Parameters and validation are those of :func:`gd_loss`.

    Returns
    -------
    numpy.ndarray
        The bound, same shape as :func:`gd_loss`' result.
    """
    lam_a, b_a, c, eta_v, T = _mode_args(lam, b, c0, eta, steps, "the error bound")
    _, mag, rel, cen = _power_sensitivity(lam_a, eta_v, T, 2)
    terms = 0.5 * mag * lam_a[None, :]  # (T+1, d): ½ λ_k r_k^(2t)
    sens = 0.5 * lam_a[None, :] * (7.0 * mag + 4.0 * rel + cen)
    e2 = (c - b_a) ** 2
    total = terms @ e2.T if c.ndim == 1 else e2 @ terms.T
    per = sens @ e2.T if c.ndim == 1 else e2 @ sens.T
    d = lam_a.size
    return UNIT_ROUNDOFF * (per + (d - 1) * total) + TINY * (total[..., :1] + 2.0 * d)


def _data(X: Any, y: Any, w0: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    A = _validate.matrix(X, "X")
    N, d = A.shape
    yy = _validate.vector(y, "y", N)
    ww = _validate.vector(w0, "w0", d)
    return A, yy, ww


def _largest_eigenvalue(X: np.ndarray) -> float:
    """``λ_max(XᵀX/N)`` from the largest singular value of ``X``."""
    return float(np.linalg.norm(X, 2) ** 2 / X.shape[0])


def run_gd(X: Any, y: Any, w0: Any, eta: float, steps: int) -> np.ndarray:
    """Explicit gradient descent ``w_{t+1} = w_t − (η/N) Xᵀ(X w_t − y)``.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Training inputs.
    y : array_like, shape (N,)
        Targets.
    w0 : array_like, shape (d,)
        Initial weights.
    eta : float
        Learning rate, ``0 < η·λ_max(XᵀX/N) < 2``.
    steps : int
        Number of steps ``T >= 0``.

    Returns
    -------
    numpy.ndarray, shape (T+1, d)
        The weights ``w_0, …, w_T``.

    Raises
    ------
    ValueError
        For inputs of the wrong shape or non-finite, ``steps < 0``, or
        ``η·λ_max >= 2`` (gradient descent diverges).
    """
    A, yy, w = _data(X, y, w0)
    N, d = A.shape
    eta_v = _validate.learning_rate(eta, np.array([_largest_eigenvalue(A)]))
    T = _validate.integer(steps, "steps", low=0)
    _check_size(d * (T + 1), "the trajectory")
    out = np.empty((T + 1, d))
    out[0] = w
    step = eta_v / N
    for t in range(T):
        w = w - step * (A.T @ (A @ w - yy))
        out[t + 1] = w
    return out


def run_sgd(
    X: Any,
    y: Any,
    w0: Any,
    eta: float,
    steps: int,
    batch_size: int,
    seed: int,
    *,
    replace: bool = True,
) -> np.ndarray:
    """Mini-batch stochastic gradient descent on the squared loss.

    At every step a batch ``B_t`` of ``batch_size`` sample indices is drawn and
    ``w_{t+1} = w_t − (η/B) Σ_{i∈B_t} x_i (x_iᵀ w_t − y_i)``. The mean update is the
    gradient-descent update.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Training inputs.
    y : array_like, shape (N,)
        Targets (label noise, if any, is part of ``y``).
    w0 : array_like, shape (d,)
        Initial weights.
    eta : float
        Learning rate, ``0 < η·λ_max(XᵀX/N) < 2`` (the mean must converge; the
        fluctuations may still diverge for large ``η``: that raises, see below).
    steps : int
        Number of steps ``T >= 0``.
    batch_size : int
        ``1 <= B``; with ``replace=False`` also ``B <= N``.
    seed : int
        Seed of the batch draws (``numpy.random.default_rng``).
    replace : bool, optional
        ``True`` (default): the ``B`` indices are drawn independently and uniformly
        (with replacement), so the update noise has covariance ``1/B`` times that of
        one sample. ``False``: a uniformly random subset of ``B`` distinct indices per
        step.

    Returns
    -------
    numpy.ndarray, shape (T+1, d)
        The weights ``w_0, …, w_T``.

    Raises
    ------
    ValueError
        For bad shapes or values, ``η·λ_max >= 2``, and when the iteration leaves the
        finite numbers (the second moments of SGD diverge for this ``η`` and ``B``).
    """
    A, yy, w = _data(X, y, w0)
    N, d = A.shape
    eta_v = _validate.learning_rate(eta, np.array([_largest_eigenvalue(A)]))
    T = _validate.integer(steps, "steps", low=0)
    B = _validate.integer(batch_size, "batch_size", low=1)
    if not replace and B > N:
        raise ValueError(f"batch_size must be in [1, N = {N}] when replace=False, got {B}")
    rng = np.random.default_rng(_validate.seed(seed))
    _check_size(d * (T + 1), "the trajectory")
    out = np.empty((T + 1, d))
    out[0] = w
    step = eta_v / B
    for t in range(T):
        idx = rng.integers(0, N, size=B) if replace else rng.choice(N, size=B, replace=False)
        Xb = A[idx]
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below
            w = w - step * (Xb.T @ (Xb @ w - yy[idx]))
        out[t + 1] = w
        if not np.all(np.isfinite(w)):
            raise ValueError(
                f"SGD diverged at step {t + 1}: eta = {eta_v!r} is too large for batch_size = {B} "
                "(the second moments grow without bound; see ribbonlib.sgd for the stability threshold)"
            )
    return out


def run_kernel_gd(K: Any, y: Any, f0: Any, eta: float, steps: int) -> np.ndarray:
    """Gradient descent in function space on the training set.

    ``f_{t+1} = f_t − (η/N) K (f_t − y)``: the predictions of a kernel machine trained
    by gradient descent on the squared loss, with kernel (Gram) matrix ``K``.

    Parameters
    ----------
    K : array_like, shape (N, N)
        Symmetric positive semi-definite kernel matrix.
    y : array_like, shape (N,)
        Targets.
    f0 : array_like, shape (N,) or (M, N)
        Initial predictions on the training set; one row per run when 2-D (the kernel
        is then validated once and all runs advance together by matrix products).
    eta : float
        Learning rate, ``0 < η·λ_max(K/N) < 2``.
    steps : int
        Number of steps ``T >= 0``.

    Returns
    -------
    numpy.ndarray, shape (T+1, N) or (M, T+1, N)
        The predictions ``f_0, …, f_T`` (of every run).

    Raises
    ------
    ValueError
        If ``K`` is not square, not finite, not symmetric (relative asymmetry above
        1e-10) or has an eigenvalue below ``−1e-10·λ_max`` (not positive
        semi-definite); if ``y`` or ``f0`` have the wrong shape or are not finite; if
        ``η·λ_max(K/N) >= 2`` or ``steps < 0``.
    """
    Km = _validate.symmetric_matrix(K, "K")
    N = Km.shape[0]
    ev = np.linalg.eigvalsh(Km) / N
    if ev[0] < -1e-10 * max(ev[-1], np.finfo(float).tiny):
        raise ValueError(f"K must be positive semi-definite; its smallest eigenvalue/N is {ev[0]:.3g}")
    yy = _validate.vector(y, "y", N)
    F = np.asarray(f0, dtype=float)
    if F.ndim not in (1, 2) or F.shape[-1] != N:
        raise ValueError(f"f0 must have shape ({N},) or (M, {N}), got shape {F.shape}")
    if not np.all(np.isfinite(F)):
        raise ValueError("f0 must be finite; found non-finite entries")
    eta_v = _validate.learning_rate(eta, np.array([max(ev[-1], np.finfo(float).tiny)]))
    T = _validate.integer(steps, "steps", low=0)
    _check_size(F.size * (T + 1), "the trajectory")
    runs = F.reshape(-1, N).copy()
    out = np.empty((runs.shape[0], T + 1, N))
    out[:, 0] = runs
    step = eta_v / N
    for t in range(T):
        runs -= step * ((runs - yy) @ Km)  # K is symmetric: (K (f − y))ᵀ = (f − y)ᵀ K
        out[:, t + 1] = runs
    return out[0] if F.ndim == 1 else out
