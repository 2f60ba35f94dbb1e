"""Exact second moments of stochastic gradient descent on the linear model.

Online SGD with mini-batches of size ``B``: at every step ``B`` fresh inputs
``x ~ N(0, Σ)`` with labels ``y = xᵀw* + ε`` (``Var ε = σ_ε²``, the *label noise*) are
drawn and ``w_{t+1} = w_t − (η/B) Σ_b x_b (x_bᵀ w_t − y_b)``. The error
``e_t = w_t − w*`` has mean ``(I − ηΣ)^t E e_0`` (gradient descent) and second moment
``P_t = E[e_t e_tᵀ]`` obeying the closed linear recursion

.. math:: P_{t+1} = (I-\\eta\\Sigma)P_t(I-\\eta\\Sigma)
          + \\frac{\\eta^2}{B}\\big(\\mathcal M(P_t) - \\Sigma P_t\\Sigma\\big)
          + \\frac{\\eta^2}{B}\\sigma_\\varepsilon^2\\Sigma,
          \\qquad
          \\mathcal M(P) = 2\\Sigma P\\Sigma + \\operatorname{tr}(\\Sigma P)\\,\\Sigma .

In the eigenbasis of ``Σ`` the diagonal ``p_k = v_kᵀ P v_k`` obeys
``p_{t+1} = A p_t + σ_ε² u`` with ``A = diag(D) + u λᵀ``,
``D_k = r_k² + η²λ_k²/B``, ``r_k = 1 − ηλ_k`` and ``u = η² λ / B``. Hence

* stability: the second moments stay bounded iff ``F(η) < 1`` (and every
  ``(B+1)ηλ_k < 2B``), with ``F(η) = Σ_k ηλ_k / (2B − (B+1)ηλ_k)``
  (:func:`stability_function`, :func:`stability_threshold`);
* the stationary floor is ``p_k^∞ = σ_ε² η / ((2B − (B+1)ηλ_k)(1 − F))``
  (:func:`stationary_floor`).

The float64 results come with stated round-off bounds, relative to the exact values
for the same (float) inputs: :func:`moments_rounding` for :func:`mode_second_moments`,
:func:`floor_rounding` for :func:`stationary_floor`, ``(d + 10) u`` for
:func:`stability_threshold` (``u = 2^-53``) and :func:`cloud_rounding` for
:func:`cloud_covariance`; :func:`dataset_second_moments` states an estimate.

:func:`mode_second_moments` iterates the diagonal recursion, :func:`simulate_online`
runs many independent online-SGD trajectories at once (the Monte-Carlo reference),
:func:`dataset_second_moments` gives the exact moments for mini-batches drawn from a
finite data set (what :func:`ribbonlib.dynamics.run_sgd` does), and
:func:`cloud_covariance` the expected covariance of a cloud of SGD trajectories;
:func:`cloud_covariance_grid` evaluates it for many initial scales and label noises at
once, and :func:`ribbon_map` tells where the clouds of gradient descent and of SGD are
hyper-ribbons (chapter 7's phase diagrams and its explorer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from scipy.optimize import brentq

from . import _geometric, _validate, cloud

__all__ = [
    "stability_function",
    "stability_threshold",
    "threshold_bounds",
    "diagonal_map",
    "mode_second_moments",
    "moments_rounding",
    "stationary_floor",
    "floor_rounding",
    "simulate_online",
    "DatasetMoments",
    "dataset_second_moments",
    "FluctuationParts",
    "fluctuation_parts",
    "fluctuation_covariance",
    "cloud_covariance",
    "cloud_rounding",
    "cloud_covariance_grid",
    "RibbonMap",
    "ribbon_map",
]


# ----------------------------------------------------------------------------- inputs


def _lam(lam: Any) -> np.ndarray:
    return np.asarray(_validate.eigenvalues(lam), dtype=float)


def _batch(batch_size: Any) -> int:
    return _validate.integer(batch_size, "batch_size", low=1)


def _check_size(entries: int, what: str) -> None:
    _validate.check_size(entries, what,
                         "use fewer steps, fewer runs or a smaller problem")


#: Unit round-off of float64.
_U = 2.0**-53


def _gamma(n: float) -> float:
    """``γ_n = n u/(1 − n u)``: bounds ``|Π(1 + δ_i)^±1 − 1|`` over ``n`` roundings."""
    return n * _U / (1.0 - n * _U)


def _coefficients(lam: np.ndarray, eta: float,
                  B: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``r = 1 − ηλ``, ``D = r² + η²λ²/B`` and ``u = η²λ/B``, each to a few ulp.

    ``ηλ`` is kept as the unevaluated sum of its rounded value and its rounding error,
    so that ``r`` is accurate to ``γ_3`` relative also where ``ηλ`` is close to 1; then
    ``D`` is within ``γ_8`` and ``u`` within ``γ_3`` of the values for the exact ``ηλ``.
    """
    a, a_lo = _geometric.rates(eta, lam)
    r = (1.0 - a) - a_lo
    D = r * r + a * a / B
    u = eta * a / B
    return r, D, u


def _F(lam: np.ndarray, eta: float, B: int) -> float:
    """``F(η) = Σ ηλ/(2B − (B+1)ηλ)``, ``inf`` when a denominator is ``<= 0``."""
    a = eta * lam
    den = 2.0 * B - (B + 1.0) * a
    if np.any(den <= 0):
        return float("inf")
    return float(np.sum(a / den))


def _stable_eta(lam: np.ndarray, eta: Any, B: int, name: str = "eta") -> float:
    """Validate ``eta > 0`` and that the SGD second moments stay bounded."""
    val = _validate.finite_real(eta, name, low=0.0, low_open=True)
    if _F(lam, val, B) >= 1.0:
        eta_c = _threshold(lam, B)
        raise ValueError(
            f"{name} must be below the SGD stability threshold {eta_c:.6g} "
            f"for batch_size = {B} "
            f"(the second moments diverge for larger {name}); got {name} = {val!r}"
        )
    return val


# ----------------------------------------------------------------------- stability


def stability_function(lam: Any, eta: float, batch_size: int) -> float:
    """The function whose crossing of 1 is the SGD stability threshold.

    Parameters
    ----------
    lam : array_like, shape (d,)
        Eigenvalues ``λ_k > 0`` of ``Σ``.
    eta : float
        Learning rate ``> 0``.
    batch_size : int
        Mini-batch size ``B >= 1``.

    Returns
    -------
    float
        ``F(η) = Σ_k ηλ_k / (2B − (B+1)ηλ_k)`` when every denominator is positive,
        ``inf`` otherwise. The diagonal second-moment map has spectral radius ``< 1``
        iff ``F(η) < 1``; ``F/(1 − F)`` is also the stationary excess loss in units of
        ``σ_ε²/2``.
    """
    lam_f = _lam(lam)
    B = _batch(batch_size)
    val = _validate.finite_real(eta, "eta", low=0.0, low_open=True)
    return _F(lam_f, val, B)


def _threshold(lam: np.ndarray, B: int) -> float:
    lo, hi = _bounds(lam, B)
    # The bracket is attained for a flat spectrum (lower end) and for one mode (upper
    # end); there F(end) = 1 up to round-off and the end point is the answer.
    f_lo, f_hi = _F(lam, lo, B) - 1.0, _F(lam, hi, B) - 1.0
    if f_lo >= 0.0:
        return lo
    if f_hi <= 0.0:
        return hi
    return float(brentq(lambda e: _F(lam, e, B) - 1.0, lo, hi, xtol=1e-300,
                        rtol=4 * np.finfo(float).eps, maxiter=500))


def _bounds(lam: np.ndarray, B: int) -> tuple[float, float]:
    tr = float(np.sum(lam))
    top = float(np.max(lam))
    lower = 2.0 * B / (tr + (B + 1.0) * top)
    upper = min(2.0 * B / tr, 2.0 * B / ((B + 2.0) * top))
    return lower, upper


def stability_threshold(lam: Any, batch_size: Any) -> float | np.ndarray:
    """Largest learning rate for which the second moments of online SGD stay bounded.

    Parameters
    ----------
    lam : array_like, shape (d,)
        Eigenvalues ``λ_k > 0`` of ``Σ``.
    batch_size : int or array_like of int
        Mini-batch size(s) ``B >= 1``.

    Returns
    -------
    float or numpy.ndarray
        ``η_c(B)``, the unique root of ``F(η) = 1`` (:func:`stability_function`) in
        ``(0, 2B/((B+1)λ_max))``, by Brent's method inside the bracket of
        :func:`threshold_bounds`, within ``(d + 10) u`` relative of the exact root for
        the float ``lam`` (``u = 2^-53``). The computed ``F`` is within
        ``(d + 2) u · F + Σ_k f_k c_k γ_2`` of the exact one (``f_k`` its terms,
        ``c_k = (B+1)ηλ_k/(2B − (B+1)ηλ_k)`` the cancellation in the denominators), and
        ``η F'(η) = Σ_k f_k · 2B/(2B − (B+1)ηλ_k)`` exceeds both ``F`` and
        ``Σ_k f_k c_k``, so the root moves by at most ``(d + 6) u`` relative; Brent's
        stopping rule adds ``4u``. It increases with ``B`` and tends to the
        gradient-descent threshold ``2/λ_max`` as ``B → ∞``.

    Raises
    ------
    ValueError
        For invalid ``lam`` or a batch size that is not an integer ``>= 1``.
    """
    lam_f = _lam(lam)
    if np.ndim(batch_size) == 0:
        return _threshold(lam_f, _batch(batch_size))
    Bs = np.asarray(batch_size)
    vals = [_threshold(lam_f, _batch(b.item())) for b in Bs.ravel()]
    return np.array(vals).reshape(Bs.shape)


def threshold_bounds(lam: Any, batch_size: int) -> tuple[float, float]:
    """Closed-form bracket of the SGD stability threshold.

    Parameters
    ----------
    lam : array_like, shape (d,)
        Eigenvalues ``λ_k > 0``.
    batch_size : int
        ``B >= 1``.

    Returns
    -------
    lower, upper : float
        ``2B/(tr Σ + (B+1)λ_max) <= η_c <= min(2B/tr Σ, 2B/((B+2)λ_max))``, each end
        evaluated in float64 to within ``(d + 2) u`` relative (``tr Σ`` sums ``d``
        terms).
    """
    return _bounds(_lam(lam), _batch(batch_size))


def diagonal_map(lam: Any, eta: float,
                 batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The linear map of the diagonal second-moment recursion in the eigenbasis.

    Parameters
    ----------
    lam : array_like, shape (d,)
        Eigenvalues ``λ_k > 0``.
    eta : float
        Learning rate ``> 0`` (not checked for stability: this is the map whose
        spectral radius decides it).
    batch_size : int
        ``B >= 1``.

    Returns
    -------
    A : numpy.ndarray, shape (d, d)
        ``diag(r² + η²λ²/B) + (η²/B) λ λᵀ``, so that ``p_{t+1} = A p_t + σ_ε² u``.
    u : numpy.ndarray, shape (d,)
        ``η² λ / B``, the label-noise forcing per unit ``σ_ε²``.
    """
    lam_f = _lam(lam)
    B = _batch(batch_size)
    val = _validate.finite_real(eta, "eta", low=0.0, low_open=True)
    _, D, u = _coefficients(lam_f, val, B)
    A = np.diag(D) + np.outer(u, lam_f)
    return A, u


# ---------------------------------------------------------------------- moments


def mode_second_moments(lam: Any, p0: Any, eta: float, batch_size: int, steps: int,
                        label_noise: float = 0.0) -> np.ndarray:
    """Exact per-mode second moments of online SGD with Gaussian inputs.

    Parameters
    ----------
    lam : array_like, shape (d,)
        Eigenvalues ``λ_k > 0`` of the input covariance ``Σ`` (any order).
    p0 : array_like, shape (d,)
        Initial second moments ``E[(v_kᵀ(w_0 − w*))²] >= 0``.
    eta : float
        Learning rate, ``0 < η < η_c(B)`` (:func:`stability_threshold`).
    batch_size : int
        Mini-batch size ``B >= 1``.
    steps : int
        Number of steps ``T >= 0``.
    label_noise : float, optional
        Variance ``σ_ε² >= 0`` of the label noise.

    Returns
    -------
    numpy.ndarray, shape (T+1, d)
        ``E[(v_kᵀ(w_t − w*))²]`` for ``t = 0..T``, from the recursion
        ``p_{t+1} = (r² + η²λ²/B) p_t + (η²/B) λ (λ·p_t + σ_ε²)``. Every term is
        non-negative, so each step multiplies the relative error by at most
        ``1 + γ_{d+10}``: row ``t`` is within :func:`moments_rounding` ``(d, T)[t]``
        (about ``t (d + 10) u``) relative of the exact value for the same float inputs,
        as long as no intermediate value underflows.

    Raises
    ------
    ValueError
        For invalid ``lam``, ``p0`` negative, non-finite or of the wrong length,
        ``batch_size < 1``, ``steps < 0``, ``label_noise < 0``, or ``η >= η_c(B)``
        (the second moments diverge).
    """
    lam_f = _lam(lam)
    d = lam_f.size
    p = _validate.vector(p0, "p0", d)
    if np.any(p < 0):
        raise ValueError("p0 must be >= 0 (second moments); "
                         f"smallest entry is {p.min()!r}")
    B = _batch(batch_size)
    eta_v = _stable_eta(lam_f, eta, B)
    T = _validate.integer(steps, "steps", low=0)
    s2 = _validate.finite_real(label_noise, "label_noise", low=0.0)
    _check_size(d * (T + 1), "the second moments")
    _, D, u = _coefficients(lam_f, eta_v, B)
    out = np.empty((T + 1, d))
    out[0] = p
    for t in range(T):
        p = D * p + u * (lam_f @ p + s2)
        out[t + 1] = p
    return out


def moments_rounding(d: int, steps: int) -> np.ndarray:
    """Round-off bound of :func:`mode_second_moments`, relative, for every step.

    Parameters
    ----------
    d : int
        Number of modes ``>= 1``.
    steps : int
        ``T >= 0``.

    Returns
    -------
    numpy.ndarray, shape (T+1,)
        ``ε_t = (1 + γ_{d+10})^t − 1``, ``γ_n = n u/(1 − n u)``, ``u = 2^-53``: every
        step of the iteration rounds each non-negative term at most ``d + 10`` times
        (``γ_8`` in ``D = r² + η²λ²/B``, one product and one sum; ``γ_3`` in
        ``u = η²λ/B``, ``d`` in ``λ·p``, three more), so the computed ``p_k(t)`` lies in
        ``[(1 − ε_t) p_k(t), (1 + ε_t) p_k(t)]``. Valid without underflow.
    """
    n = _validate.integer(d, "d", low=1) + 10
    T = _validate.integer(steps, "steps", low=0)
    g = _gamma(n)
    t = np.arange(T + 1, dtype=float)
    return np.expm1(t * np.log1p(g)) * (1.0 + 8.0 * _U)


def stationary_floor(lam: Any, eta: float, batch_size: int,
                     label_noise: float) -> np.ndarray:
    """Stationary per-mode second moments of online SGD with label noise.

    Parameters
    ----------
    lam : array_like, shape (d,)
        Eigenvalues ``λ_k > 0``.
    eta : float
        Learning rate, ``0 < η < η_c(B)``.
    batch_size : int
        ``B >= 1``.
    label_noise : float
        ``σ_ε² >= 0``.

    Returns
    -------
    numpy.ndarray, shape (d,)
        ``p_k^∞ = σ_ε² η / ((2B − (B+1)ηλ_k)(1 − F(η)))``, the fixed point of the
        diagonal recursion (Sherman--Morrison on ``I − A``). For ``ηλ_k ≪ 1`` it is
        ``σ_ε² η/(2B)`` to leading order: a floor set by ``η/B``. Its relative round-off
        is at most :func:`floor_rounding`.
    """
    lam_f = _lam(lam)
    B = _batch(batch_size)
    eta_v = _stable_eta(lam_f, eta, B)
    s2 = _validate.finite_real(label_noise, "label_noise", low=0.0)
    a = eta_v * lam_f
    den = 2.0 * B - (B + 1.0) * a
    F = float(np.sum(a / den))
    return s2 * eta_v / (den * (1.0 - F))


def floor_rounding(lam: Any, eta: float, batch_size: int) -> np.ndarray:
    """Round-off bound of :func:`stationary_floor`, relative, per mode.

    Parameters
    ----------
    lam : array_like, shape (d,)
        Eigenvalues ``λ_k > 0``.
    eta : float
        Learning rate, ``0 < η < η_c(B)``.
    batch_size : int
        ``B >= 1``.

    Returns
    -------
    numpy.ndarray, shape (d,)
        ``ε_k`` with ``|computed − exact| <= ε_k · exact`` for the same float inputs.
        The denominators ``2B − (B+1)ηλ_k`` cancel: with ``c_k = (B+1)ηλ_k/den_k`` they
        carry ``e_k = (1 + c_k γ_2)(1 + u) − 1``; ``F`` sums ``d`` quotients
        (``e_F = (1 + max_k((1+u)²/(1 − e_k)) − 1)(1 + γ_{d−1}) − 1``), ``1 − F``
        amplifies that by ``F/(1 − F)`` (``e_q = (1 + e_F F/(1 − F))(1 + u) − 1``), and
        ``ε_k = (1 + u)²/((1 − e_k)(1 − e_q)(1 − u)) − 1``. To first order
        ``ε_k ≈ (2c_k + 5 + (2 max c + d + 3) F/(1 − F)) u``. ``c_k`` and ``F`` are
        bounded from above from their computed values; ``inf`` where the bound exceeds
        about 1/2 (next to the threshold).
    """
    lam_f = _lam(lam)
    B = _batch(batch_size)
    eta_v = _stable_eta(lam_f, eta, B)
    d = lam_f.size
    a = eta_v * lam_f
    den = 2.0 * B - (B + 1.0) * a
    F = float(np.sum(a / den))
    # Every (1 + x)·(1 + y)/(1 − z) − 1 below is formed as expm1(log1p(x) + ...):
    # written out in float64 it would round to a multiple of u. The computed c and F
    # are rounded themselves: the exact ones are bounded from above first.
    def grow(up=(), down=()):
        logs = sum(np.log1p(x) for x in up)
        logs = logs - sum(np.log1p(-np.asarray(x)) for x in down)
        return np.expm1(logs)

    c_hat = (B + 1.0) * a / den
    c = c_hat * (1.0 + grow([c_hat * _gamma(2), _U])) * (1.0 + _gamma(4))
    e_den = grow([c * _gamma(2), _U])
    if np.any(e_den >= 0.5):
        return np.full(d, np.inf)
    e_term = grow([_U, _U], [e_den])
    e_F = float(grow([float(np.max(e_term)), _gamma(d - 1)]))
    F_up = F / (1.0 - e_F) * (1.0 + _gamma(2))
    amp = e_F * F_up / (1.0 - F_up) * (1.0 + _gamma(3)) if F_up < 1.0 else np.inf
    if amp >= 0.5:
        return np.full(d, np.inf)
    e_q = grow([amp, _U])
    return grow([_U, _U], [e_den, np.full(d, e_q), np.full(d, _U)]) * (1.0 + _gamma(8))


# ------------------------------------------------------------------- simulation


def simulate_online(lam: Any, b: Any, c0: Any, eta: float, batch_size: int, steps: int,
                    seed: Any, label_noise: float = 0.0,
                    times: Any = None) -> np.ndarray:
    """Many independent runs of online mini-batch SGD with fresh Gaussian inputs.

    Works in the eigenbasis of ``Σ`` (exact: the coordinates ``v_kᵀx`` of
    ``x ~ N(0, Σ)`` are independent ``N(0, λ_k)``). Every step of every run draws
    ``B`` fresh inputs and label noises and applies
    ``c_{t+1} = c_t − (η/B) Σ_b x_b (x_bᵀ(c_t − b) − ε_b)``, all runs at once. At each
    step ``numpy.random.default_rng(seed)`` gives the inputs of all runs first, as an
    ``(M, B, d)`` array of standard normals times ``sqrt(λ)``, then, when
    ``σ_ε > 0``, the label noises, as an ``(M, B)`` array of standard normals times
    ``σ_ε``.

    Parameters
    ----------
    lam : array_like, shape (d,)
        Eigenvalues ``λ_k > 0``.
    b : array_like, shape (d,)
        Ground truth in the eigenbasis.
    c0 : array_like, shape (M, d)
        Initial coordinates ``v_kᵀw_0`` of the ``M`` runs.
    eta : float
        Learning rate, ``0 < η·max(λ) < 2`` (the mean converges). Above the SGD
        threshold the runs may still be simulated; a ``ValueError`` is raised if they
        leave the finite numbers.
    batch_size : int
        ``B >= 1``.
    steps : int
        ``T >= 0``.
    seed : int
        Seed of ``numpy.random.default_rng``.
    label_noise : float, optional
        ``σ_ε² >= 0``.
    times : array_like of int, optional
        Steps to record (each in ``0..T``); all ``T+1`` steps when omitted.

    Returns
    -------
    numpy.ndarray, shape (M, len(times), d)
        ``v_kᵀ w_t`` of every run at the recorded steps.
    """
    lam_f = _lam(lam)
    d = lam_f.size
    b_a = _validate.vector(b, "b", d)
    c = np.array(c0, dtype=float)
    if c.ndim != 2 or c.shape[1] != d or c.shape[0] == 0:
        raise ValueError(f"c0 must have shape (M, {d}) with M >= 1, "
                         f"got shape {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError("c0 must be finite; found non-finite entries")
    eta_v = _validate.learning_rate(eta, lam_f)
    B = _batch(batch_size)
    T = _validate.integer(steps, "steps", low=0)
    sig = np.sqrt(_validate.finite_real(label_noise, "label_noise", low=0.0))
    if times is None:
        rec = np.arange(T + 1)
    else:
        rec = np.asarray(times)
        bad = rec.ndim != 1 or rec.size == 0 or rec.dtype.kind not in "iu"
        if bad or rec.min() < 0 or rec.max() > T:
            raise ValueError("times must be a non-empty 1-D array of integers in "
                             f"[0, steps = {T}]")
    M = c.shape[0]
    _check_size(M * rec.size * d, "the recorded trajectories")
    _check_size(M * B * d, "one mini-batch of all runs")
    rng = np.random.default_rng(_validate.seed(seed))
    slot = {int(t): [i for i, s in enumerate(rec) if s == t] for t in np.unique(rec)}
    out = np.empty((M, rec.size, d))
    root = np.sqrt(lam_f)
    step = eta_v / B
    for t in range(T + 1):
        if t in slot:
            out[:, slot[t], :] = c[:, None, :]
        if t == T:
            break
        x = rng.standard_normal((M, B, d)) * root
        with np.errstate(over="ignore", invalid="ignore"):
            res = np.einsum("mbd,md->mb", x, c - b_a)
            if sig > 0:
                res -= sig * rng.standard_normal((M, B))
            c = c - step * np.einsum("mbd,mb->md", x, res)
        if not np.all(np.isfinite(c)):
            raise ValueError(
                f"online SGD diverged at step {t + 1}: eta = {eta_v!r} is far above "
                f"the stability threshold {_threshold(lam_f, B):.6g} "
                f"for batch_size = {B}"
            )
    return out


# ------------------------------------------------------------- finite data set


@dataclass(frozen=True)
class DatasetMoments:
    """Exact moments of mini-batch SGD on a finite data set.

    Attributes
    ----------
    w_hat : numpy.ndarray, shape (d,)
        The minimum-norm least-squares solution ``ŵ`` (the fixed point of the mean).
    mean : numpy.ndarray, shape (T+1, d)
        ``E[w_t − ŵ] = (I − ηΣ)^t (E w_0 − ŵ)``.
    second : numpy.ndarray, shape (T+1, d, d)
        ``P_t = E[(w_t − ŵ)(w_t − ŵ)ᵀ]``.
    kappa : float
        The batch factor: ``1/B`` with replacement, ``(N−B)/(B(N−1))`` without.
    """

    w_hat: np.ndarray
    mean: np.ndarray
    second: np.ndarray
    kappa: float


def dataset_second_moments(X: Any, y: Any, w0_mean: Any, w0_cov: Any, eta: float,
                           batch_size: int, steps: int, *,
                           replace: bool = True) -> DatasetMoments:
    """Exact first and second moments of mini-batch SGD on a finite data set.

    The batches are those of :func:`ribbonlib.dynamics.run_sgd`: ``B`` indices drawn
    uniformly and independently at every step (``replace=True``), or ``B`` distinct
    indices (``replace=False``). With ``Σ = XᵀX/N``, the least-squares solution ``ŵ``,
    the residuals ``ε̂_i = y_i − x_iᵀŵ`` and ``e_t = w_t − ŵ``,

    ``P_{t+1} = R P_t R + η²κ(𝓜(P_t) − ΣP_tΣ) − 2η²κ K(m_t) + η²κ Ξ``,

    with ``R = I − ηΣ``, ``𝓜(P) = (1/N) Σ_i (x_iᵀPx_i) x_i x_iᵀ``,
    ``K(m) = (1/N) Σ_i ε̂_i (x_iᵀm) x_i x_iᵀ``, ``Ξ = (1/N) Σ_i ε̂_i² x_i x_iᵀ`` and the
    batch factor ``κ`` (see :class:`DatasetMoments`).

    Parameters
    ----------
    X : array_like, shape (N, d)
        Training inputs.
    y : array_like, shape (N,)
        Targets (label noise, if any, is part of ``y`` and fixed).
    w0_mean : array_like, shape (d,)
        Mean of the initial weights.
    w0_cov : float or array_like, shape (d, d)
        Covariance of the initial weights: a variance ``>= 0`` (times the identity)
        or a symmetric positive semi-definite matrix.
    eta : float
        Learning rate, ``0 < η·λ_max(Σ) < 2``.
    batch_size : int
        ``B >= 1``; ``B <= N`` when ``replace=False``.
    steps : int
        ``T >= 0``.
    replace : bool, optional
        As in :func:`ribbonlib.dynamics.run_sgd`.

    Returns
    -------
    DatasetMoments
        Round-off (an estimate, checked against exact enumeration in the tests): the
        implied ``E[w_t w_tᵀ] = P_t + m_t ŵᵀ + ŵ m_tᵀ + ŵŵᵀ`` is within about
        ``4 (t + 1)(N + d) u κ(X)² s_t`` of the exact values, with ``s_t`` the larger of
        1 and its largest entry and ``κ(X)`` the condition number of the least-squares
        problem (1 when ``N < d``): each step sums ``N + d`` products per entry, and
        ``ŵ`` is exact only up to ``κ(X)²``.

    Raises
    ------
    ValueError
        For bad shapes or values, and when the second moments overflow (``η`` far
        above the SGD stability threshold of the data set).
    """
    A = _validate.matrix(X, "X")
    N, d = A.shape
    yy = _validate.vector(y, "y", N)
    mu0 = _validate.vector(w0_mean, "w0_mean", d)
    if np.ndim(w0_cov) == 0:
        P0 = _validate.finite_real(w0_cov, "w0_cov", low=0.0) * np.eye(d)
    else:
        P0 = np.asarray(w0_cov, dtype=float)
        if P0.shape != (d, d) or not np.all(np.isfinite(P0)):
            raise ValueError(f"w0_cov must be a finite ({d}, {d}) matrix or a variance "
                             f">= 0, got shape {P0.shape}")
        scale = max(float(np.max(np.abs(P0))), np.finfo(float).tiny)
        asym = np.max(np.abs(P0 - P0.T)) > 1e-12 * scale
        if asym or np.linalg.eigvalsh(0.5 * (P0 + P0.T))[0] < -1e-12 * scale:
            raise ValueError("w0_cov must be symmetric positive semi-definite")
        P0 = 0.5 * (P0 + P0.T)
    Sigma = A.T @ A / N
    top = float(np.linalg.norm(A, 2) ** 2 / N)
    eta_v = _validate.learning_rate(eta, np.array([top]))
    B = _batch(batch_size)
    if not replace and B > N:
        raise ValueError(f"batch_size must be in [1, N = {N}] when replace=False, "
                         f"got {B}")
    T = _validate.integer(steps, "steps", low=0)
    _check_size(d * d * (T + 1), "the second moments")
    if replace:
        kappa = 1.0 / B
    else:
        kappa = 0.0 if B == N else (N - B) / (B * (N - 1.0))
    w_hat = np.linalg.lstsq(A, yy, rcond=None)[0]
    rho = yy - A @ w_hat
    R = np.eye(d) - eta_v * Sigma
    Xi = (A * (rho**2)[:, None]).T @ A / N
    m = mu0 - w_hat
    P = P0 + np.outer(m, m)
    means = np.empty((T + 1, d))
    out = np.empty((T + 1, d, d))
    means[0], out[0] = m, P
    c = eta_v * eta_v * kappa
    for t in range(T):
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below
            q = np.einsum("ij,jk,ik->i", A, P, A)  # x_iᵀ P x_i
            Mq = (A * q[:, None]).T @ A / N
            K = (A * (rho * (A @ m))[:, None]).T @ A / N
            P = R @ P @ R + c * (Mq - Sigma @ P @ Sigma - 2.0 * K + Xi)
        P = 0.5 * (P + P.T)
        m = R @ m
        if not np.all(np.isfinite(P)):
            raise ValueError(f"the second moments overflowed at step {t + 1}: "
                             f"eta = {eta_v!r} is far above the SGD stability "
                             f"threshold for batch_size = {B}")
        means[t + 1], out[t + 1] = m, P
    return DatasetMoments(w_hat=w_hat, mean=means, second=out, kappa=float(kappa))


# ------------------------------------------------------------------------ clouds


class FluctuationParts(NamedTuple):
    """The SGD part of the cloud covariance, split by its linear sources.

    The fluctuation covariance is ``signal + s²·init + σ_ε²·label`` (all ``(d, d)``,
    in cloud coordinates ``z_k = sqrt(λ_k) v_kᵀw``).
    """

    signal: np.ndarray
    init: np.ndarray
    label: np.ndarray


def _cloud_args(lam, b, eta, batch_size, steps, n_inits):
    lam_f = _lam(lam)
    d = lam_f.size
    b_a = _validate.vector(b, "b", d)
    B = _batch(batch_size)
    eta_v = _stable_eta(lam_f, eta, B)
    T = _validate.integer(steps, "steps", low=0)
    M = None if n_inits is None else _validate.integer(n_inits, "n_inits", low=1)
    return lam_f, b_a, eta_v, B, T, M


def _tail_sums(r: np.ndarray, T: int) -> np.ndarray:
    """``h[n, k] = Σ_{τ=1}^{n} r_k^τ`` for ``n = 0..T``."""
    pw = np.empty((T + 1, r.size))
    pw[0] = 0.0
    if T:
        pw[1:] = r[None, :] ** np.arange(1, T + 1)[:, None]
    return np.cumsum(pw, axis=0)


def _excess_sums(lam, eta, B, T, b, c0, s2, weights):
    """Time sums of the SGD excess ``X_t`` of the error covariance over GD.

    Diagonal, for every source ``i`` (rows of ``c0``, entries of ``s2``):
    ``x_t = p_t − r^{2t} c0`` from the diagonal recursion, which for ``x`` reads
    ``x_{t+1} = D x_t + (η²λ²/B) r^{2t} c0 + u (λ·p_t + σ²)`` (every term ``>= 0``).
    Off-diagonal: ``δ_t = a^t − c^t``, ``a = r_k r_l + η²λ_kλ_l/B``, ``c = r_k r_l``,
    advanced as ``δ_{t+1} = a δ_t + (η²λ_kλ_l/B) c^t``, times ``b_k b_l``.

    Returns ``(Σ_t x_t, Σ_t δ_t)`` and, when ``weights`` (the ``(T+1, d)`` array
    ``h_k(T − t)``) is given, the same sums weighted by ``1 + h_k(T−t) + h_l(T−t)``.
    """
    r, D, u = _coefficients(lam, eta, B)
    r2 = r * r
    v = (eta * lam) ** 2 / B
    c = np.outer(r, r)
    gap = eta * eta * np.outer(lam, lam) / B
    a = c + gap
    x = np.zeros_like(c0)
    delta = np.zeros_like(c)
    r2t = np.ones_like(lam)
    ct = np.ones_like(c)
    plain_x, plain_d = np.zeros_like(c0), np.zeros_like(c)
    weighted_x = np.zeros_like(c0) if weights is not None else None
    weighted_d = np.zeros_like(c) if weights is not None else None
    for t in range(T + 1):
        plain_x += x
        plain_d += delta
        if weights is not None:
            h = weights[T - t]
            weighted_x += x * (1.0 + 2.0 * h)
            weighted_d += delta * (1.0 + h[:, None] + h[None, :])
        if t == T:
            break
        p = x + r2t * c0
        x = D * x + v * r2t * c0 + u * (p @ lam + s2)[:, None]
        delta = a * delta + gap * ct
        r2t = r2t * r2
        ct = ct * c
    bb = np.outer(b, b)
    weighted = None if weights is None else (weighted_x, weighted_d * bb)
    return (plain_x, plain_d * bb), weighted


def fluctuation_parts(lam: Any, b: Any, eta: float, batch_size: int, steps: int, *,
                      n_inits: int | None = None) -> FluctuationParts:
    """The SGD fluctuation part of the cloud covariance, split by its sources.

    With ``e_t = V ᵀ(w_t − w*)`` in the eigenbasis, ``Q_t = Cov(e_t)`` exceeds its
    gradient-descent value ``(s²/d) diag(r^{2t})`` by ``X_t`` (positive semi-definite),
    with diagonal ``x_t`` from the diagonal recursion and off-diagonal entries
    ``((r_k r_l + η²λ_kλ_l/B)^t − (r_k r_l)^t) b_k b_l``. The fluctuation covariance
    of the cloud is ``Λ^{1/2} ((1/(T+1)) Σ_t X_t) Λ^{1/2}``; it is linear in
    ``b bᵀ``, ``s²`` and ``σ_ε²``, and this function returns the three coefficients.

    Parameters
    ----------
    lam : array_like, shape (d,)
        Eigenvalues ``λ_k > 0``.
    b : array_like, shape (d,)
        Ground truth in the eigenbasis (the runs start from ``E w_0 = 0``).
    eta : float
        Learning rate, ``0 < η < η_c(B)``.
    batch_size : int
        ``B >= 1``.
    steps : int
        ``T >= 0``.
    n_inits : int, optional
        For a cloud of ``M`` runs centred on its own mean: subtract the expected
        ``Λ^{1/2} Cov(ē) Λ^{1/2} / M`` of the SGD excess, where
        ``Cov(ē_t', ē_t) = R^{t'−t} Q_t`` gives
        ``Cov(ē)_kl = (1/(T+1)²) Σ_t X_t,kl (1 + h_k(T−t) + h_l(T−t))``,
        ``h_k(n) = Σ_{τ=1}^{n} r_k^τ``.

    Returns
    -------
    FluctuationParts
        ``(signal, init, label)``, each ``(d, d)``.
    """
    lam_f, b_a, eta_v, B, T, M = _cloud_args(lam, b, eta, batch_size, steps, n_inits)
    d = lam_f.size
    _check_size(4 * d * d, "the fluctuation covariance")
    r = _coefficients(lam_f, eta_v, B)[0]
    h = _tail_sums(r, T) if M is not None else None
    n = T + 1
    root = np.sqrt(lam_f)
    scale = np.outer(root, root)
    c0 = np.stack([b_a**2, np.full(d, 1.0 / d), np.zeros(d)])
    s2 = np.array([0.0, 0.0, 1.0])
    (px, pd), w = _excess_sums(lam_f, eta_v, B, T, b_a, c0, s2, h)
    idx = np.arange(d)
    pd[idx, idx] = 0.0
    if w is not None:
        wx, wd = w
        wd[idx, idx] = 0.0

    def finish(i, off):
        out = np.diag(px[i]) + (pd if off else 0.0)
        if M is not None:
            out = out / n - (np.diag(wx[i]) + (wd if off else 0.0)) / (n * n * M)
        else:
            out = out / n
        return scale * out

    return FluctuationParts(signal=finish(0, True), init=finish(1, False),
                            label=finish(2, False))


def cloud_rounding(d: int, steps: int) -> float:
    """Round-off bound of :func:`cloud_covariance`, relative to its largest entry.

    Parameters
    ----------
    d : int
        Number of modes ``>= 1``.
    steps : int
        ``T >= 0``.

    Returns
    -------
    float
        ``ε = ((T + 1)(d + 20) + 400) u``: every entry of :func:`cloud_covariance`
        (with or without ``n_inits``) is within ``ε · max_k C_kk`` of the exact value
        for the same float inputs. The diagonal excess is a sum of ``T + 1``
        non-negative terms, each from ``t`` steps of a recursion with non-negative
        coefficients (``d + 20`` roundings per step, powers ``r^{2t}`` included); the
        off-diagonal excess ``X_t,kl`` is bounded in absolute value, term by term, by
        the geometric mean of the diagonal ones (``X_t ⪰ 0`` and Cauchy--Schwarz for the
        recursion of its moduli); the gradient-descent part adds at most ``400 u``
        (:mod:`ribbonlib.cloud`).
    """
    n = _validate.integer(d, "d", low=1) + 20
    T = _validate.integer(steps, "steps", low=0)
    return ((T + 1) * n + 400) * _U


def fluctuation_covariance(lam: Any, b: Any, s: float, eta: float, batch_size: int,
                           steps: int, label_noise: float = 0.0, *,
                           n_inits: int | None = None) -> np.ndarray:
    """The SGD fluctuation part ``F`` of the cloud covariance.

    See :func:`fluctuation_parts`.

    Parameters
    ----------
    lam, b : array_like, shape (d,)
        Eigenvalues and ground truth in the eigenbasis.
    s : float
        Initial weight scale ``>= 0``, ``v_kᵀw_0 ~ N(0, s²/d)``.
    eta : float
        Learning rate, ``0 < η < η_c(B)``.
    batch_size : int
        ``B >= 1``.
    steps : int
        ``T >= 0``.
    label_noise : float, optional
        ``σ_ε² >= 0``.
    n_inits : int, optional
        As in :func:`fluctuation_parts`.

    Returns
    -------
    numpy.ndarray, shape (d, d)
        ``F = signal + s²·init + σ_ε²·label``, positive semi-definite.
    """
    s_v = _validate.finite_real(s, "s", low=0.0)
    s2 = _validate.finite_real(label_noise, "label_noise", low=0.0)
    parts = fluctuation_parts(lam, b, eta, batch_size, steps, n_inits=n_inits)
    return parts.signal + s_v**2 * parts.init + s2 * parts.label


def cloud_covariance(lam: Any, b: Any, s: float, eta: float, batch_size: int,
                     steps: int, label_noise: float = 0.0, *,
                     n_inits: int | None = None) -> np.ndarray:
    """Expected centred covariance of a cloud of online-SGD trajectories.

    ``C_SGD = S + diag(n) + F``: the gradient-descent signal and initialisation noise
    of :func:`ribbonlib.cloud.covariance` (the mean of SGD follows gradient descent)
    plus the fluctuation part :func:`fluctuation_covariance`. Exact for online SGD with
    Gaussian inputs (all ``M (T+1)`` points weighted equally, population
    normalisation).

    Parameters
    ----------
    lam, b : array_like, shape (d,)
        Eigenvalues ``λ_k > 0`` and ground truth in the eigenbasis.
    s : float
        Initial weight scale ``>= 0``.
    eta : float
        Learning rate, ``0 < η < η_c(B)``.
    batch_size : int
        ``B >= 1``.
    steps : int
        ``T >= 0``.
    label_noise : float, optional
        ``σ_ε² >= 0``.
    n_inits : int, optional
        Expected covariance of a cloud of ``M`` runs centred on its own mean; omitted:
        ``M → ∞``.

    Returns
    -------
    numpy.ndarray, shape (d, d)
    """
    F = fluctuation_covariance(lam, b, s, eta, batch_size, steps, label_noise,
                               n_inits=n_inits)
    return cloud.covariance(lam, b, s, eta, steps, n_inits=n_inits) + F


# --------------------------------------------------------------- phase diagrams


def _gd_grid(lam: np.ndarray, b: np.ndarray, s_arr: np.ndarray, eta: float,
             T: int) -> np.ndarray:
    """``cloud.covariance(lam, b, s, eta, T)`` for every ``s`` of ``s_arr``, exactly."""
    S = cloud.signal_covariance(lam, b, eta, T)
    d = lam.size
    idx = np.arange(d)
    out = np.broadcast_to(S, (s_arr.size, d, d)).copy()
    # cloud.noise_variances(lam, s, eta, T) = (s²/d)·λ·G_kk, in this order, for each s
    g = np.diag(cloud._float_time(eta, lam, T)[0])
    out[:, idx, idx] += ((s_arr**2 / d)[:, None] * lam) * g
    return out


def _scales_and_noises(s_values: Any,
                       label_noise: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate a 1-D array of initial scales and a number or 1-D array of noises."""
    s_arr = np.asarray(s_values, dtype=float)
    if s_arr.ndim != 1 or s_arr.size == 0:
        raise ValueError(f"s_values must be a non-empty 1-D array, got shape "
                         f"{s_arr.shape}")
    for s in s_arr:
        _validate.finite_real(s, "s_values", low=0.0)
    noise = np.asarray(label_noise, dtype=float)
    if noise.ndim > 1:
        raise ValueError(f"label_noise must be a number or a 1-D array, got shape "
                         f"{noise.shape}")
    for x in noise.ravel():
        _validate.finite_real(x, "label_noise", low=0.0)
    return s_arr, noise


def cloud_covariance_grid(lam: Any, b: Any, s_values: Any, eta: float, batch_size: int,
                          steps: int, label_noise: Any = 0.0) -> np.ndarray:
    """:func:`cloud_covariance` for many initial scales and label noises at once.

    The recursions run once: the cloud covariance is linear in ``s²`` and ``σ_ε²``
    (:func:`fluctuation_parts`), and the gradient-descent signal does not depend on
    either.

    Parameters
    ----------
    lam, b : array_like, shape (d,)
        Eigenvalues ``λ_k > 0`` and ground truth in the eigenbasis.
    s_values : array_like, shape (n,)
        Initial weight scales ``>= 0``.
    eta : float
        Learning rate, ``0 < η < η_c(B)``.
    batch_size : int
        ``B >= 1``.
    steps : int
        ``T >= 0``.
    label_noise : float or array_like, shape (m,)
        Label noises ``σ_ε² >= 0``.

    Returns
    -------
    numpy.ndarray, shape (n, d, d) or (m, n, d, d)
        Entry ``[j]`` (or ``[i, j]``) equals ``cloud_covariance(lam, b, s_values[j],
        eta, batch_size, steps, label_noise[i])`` bit for bit (the same floating-point
        operations), hence is within :func:`cloud_rounding` of the exact value.
    """
    lam_f, b_a, eta_v, B, T, _ = _cloud_args(lam, b, eta, batch_size, steps, None)
    s_arr, noise = _scales_and_noises(s_values, label_noise)
    d = lam_f.size
    _check_size(max(noise.size, 1) * s_arr.size * d * d, "the grid of covariances")
    parts = fluctuation_parts(lam_f, b_a, eta_v, B, T)
    F = (parts.signal + s_arr[:, None, None] ** 2 * parts.init)[None] \
        + noise.reshape(-1, 1, 1, 1) * parts.label
    C = _gd_grid(lam_f, b_a, s_arr, eta_v, T) + F
    return C if noise.ndim else C[0]


class RibbonMap(NamedTuple):
    """Where the clouds of gradient descent and of SGD are hyper-ribbons.

    Rows are spectra, columns initial scales (see :func:`ribbon_map`): ``gd``,
    ``(n_spectra, n_s)`` bool, the gradient-descent cloud is a ribbon; ``sgd``,
    ``(n_spectra, n_s)`` or ``(m, n_spectra, n_s)`` bool (one layer per label noise),
    the SGD cloud is a ribbon, ``False`` on rows where SGD is unstable; ``stable``,
    ``(n_spectra,)`` bool, ``η < η_c(B)`` for the spectrum of the row; ``threshold``,
    ``(n_spectra,)``, ``η_c(B)`` of :func:`stability_threshold`.
    """

    gd: np.ndarray
    sgd: np.ndarray
    stable: np.ndarray
    threshold: np.ndarray


def ribbon_map(lams: Any, b: Any, s_values: Any, eta: float, batch_size: int,
               steps: int, label_noise: Any = 0.0, *,
               criterion: Any = None) -> RibbonMap:
    """The hyper-ribbon phase of the clouds of gradient descent and of online SGD.

    For every spectrum (row of ``lams``) and initial scale, the exact expected cloud
    covariances :func:`ribbonlib.cloud.covariance` (gradient descent) and
    :func:`cloud_covariance` (SGD, through :func:`cloud_covariance_grid`) are
    diagonalised in float64 and tested with :func:`ribbonlib.phase.is_ribbon`.

    Parameters
    ----------
    lams : array_like, shape (n_spectra, d)
        Spectra ``λ_k > 0``, one per row (e.g. power laws of several exponents).
    b : array_like, shape (d,)
        Ground truth in the eigenbasis.
    s_values : array_like, shape (n_s,)
        Initial weight scales ``>= 0``.
    eta : float
        Learning rate, ``0 < η·max(λ) < 2`` for every row (gradient descent is stable);
        rows where ``η >= η_c(B)`` are reported as unstable for SGD.
    batch_size : int
        ``B >= 1``.
    steps : int
        ``T >= 0``.
    label_noise : float or array_like, shape (m,)
        Label noises ``σ_ε² >= 0``.
    criterion : ribbonlib.phase.RibbonCriterion, optional
        The definition of a hyper-ribbon (its defaults when omitted).

    Returns
    -------
    RibbonMap
    """
    from . import phase

    crit = phase.RibbonCriterion() if criterion is None else criterion
    L = np.asarray(lams, dtype=float)
    if L.ndim != 2 or L.shape[0] == 0:
        raise ValueError(f"lams must be a 2-D array with one spectrum per row, got "
                         f"shape {L.shape}")
    B = _batch(batch_size)
    s_arr, noise = _scales_and_noises(s_values, label_noise)
    n_a = L.shape[0]
    gd = np.zeros((n_a, s_arr.size), dtype=bool)
    rib = np.zeros(noise.shape + (n_a, s_arr.size), dtype=bool)
    stable = np.zeros(n_a, dtype=bool)
    threshold = np.empty(n_a)
    for i, lam in enumerate(L):
        lam_f = _lam(lam)
        eta_v = _validate.learning_rate(eta, lam_f)
        b_a = _validate.vector(b, "b", lam_f.size)
        T = _validate.integer(steps, "steps", low=0)
        threshold[i] = _threshold(lam_f, B)
        C_gd = _gd_grid(lam_f, b_a, s_arr, eta_v, T)
        gd[i] = phase.is_ribbon(np.linalg.eigvalsh(C_gd)[..., ::-1], crit)
        stable[i] = _F(lam_f, eta_v, B) < 1.0
        if stable[i]:
            C = cloud_covariance_grid(lam_f, b_a, s_arr, eta_v, B, T, noise)
            rib[..., i, :] = phase.is_ribbon(np.linalg.eigvalsh(C)[..., ::-1], crit)
    return RibbonMap(gd=gd, sgd=rib, stable=stable, threshold=threshold)
