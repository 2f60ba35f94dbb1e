"""Finite two-layer ReLU networks trained by full-batch gradient descent.

The network is that of :func:`ribbonlib.kernels.two_layer_relu`, with an output scale
``α``:

    ``f(x) = α sqrt(2/m) Σ_j a_j relu(w_j·x)``,  ``a_j ~ N(0, 1)``, ``w_j ~ N(0, I_d)``,

drawn from ``numpy.random.default_rng(seed)`` exactly as there (``W`` first, then ``a``),
so that at ``α = 1`` the initial function is the ``output`` of that function.
Gradient descent on ``L(θ) = ‖f − y‖²/(2N)`` over all parameters ``θ = (W, a)`` uses the
step ``η/α²``:

    ``θ_{t+1} = θ_t − (η/α²) ∇L(θ_t)``.

To first order in the step the predictions then move by ``−(η/N) Θ_m(θ_t)(f_t − y)``,
where ``Θ_m = Σ_params ∂h ∂h`` is the tangent kernel of the unscaled network
``h = f/α`` (:func:`tangent_kernel`): the function-space dynamics are kernel gradient
descent (:func:`ribbonlib.dynamics.run_kernel_gd`) with a kernel that does not depend on
``α``. The scale sets the size of the initial function and how far the weights move:
each unit's parameters by ``O(r/(α sqrt m))`` for residuals ``f − y`` of size ``r``. For an
initial function no larger than the targets, large ``α sqrt m`` is therefore the lazy
regime, in which ``Θ_m(θ_t)`` stays at its initial value (Chizat, Oyallon and Bach, 2019);
at fixed ``α sqrt m`` and growing ``m`` the network tends instead to the mean-field limit
of two-layer networks (Mei, Montanari and Nguyen, 2018).

This module provides the network (:func:`init_weights`, :func:`forward`,
:func:`loss_gradient`, :func:`tangent_kernel`), the training loop (:func:`train`),
the distance between trajectories (:func:`trajectory_distance`) and the fit of a
power law to replicated measurements (:func:`fit_exponent`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _validate

__all__ = [
    "init_weights",
    "forward",
    "loss_gradient",
    "tangent_kernel",
    "TrainedNetworks",
    "train",
    "trajectory_distance",
    "ExponentFit",
    "fit_exponent",
]


def _weights(W: Any, a: Any, d: int) -> tuple[np.ndarray, np.ndarray]:
    Wm = np.asarray(W, dtype=float)
    am = np.asarray(a, dtype=float)
    if Wm.ndim != 2 or Wm.shape[1] != d or Wm.shape[0] == 0:
        raise ValueError(f"W must have shape (m, d = {d}), got {Wm.shape}")
    if am.shape != (Wm.shape[0],):
        raise ValueError(f"a must have shape (m,) = ({Wm.shape[0]},), got {am.shape}")
    if not (np.all(np.isfinite(Wm)) and np.all(np.isfinite(am))):
        raise ValueError("W and a must be finite; found non-finite entries")
    return Wm, am


def _scale(scale: Any) -> float:
    return _validate.finite_real(scale, "scale", low=0.0, low_open=True)


def init_weights(d: int, width: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The weights of :func:`ribbonlib.kernels.two_layer_relu` for the same seed.

    Parameters
    ----------
    d : int
        Input dimension, ``>= 1``.
    width : int
        Number of hidden units ``m >= 1``.
    seed : int
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    W : numpy.ndarray, shape (m, d)
        Hidden weights, standard normal (drawn first).
    a : numpy.ndarray, shape (m,)
        Read-out weights, standard normal (drawn second).

    Raises
    ------
    ValueError
        For ``d < 1``, ``width < 1`` or a bad seed.
    """
    dd = _validate.integer(d, "d", low=1)
    m = _validate.integer(width, "width", low=1)
    _validate.check_size(m * (dd + 1), "the weights")
    rng = np.random.default_rng(_validate.seed(seed))
    W = rng.standard_normal((m, dd))
    a = rng.standard_normal(m)
    return W, a


def forward(X: Any, W: Any, a: Any, scale: float = 1.0) -> np.ndarray:
    """The network's outputs ``f(x_i) = α sqrt(2/m) Σ_j a_j relu(w_j·x_i)``.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Inputs.
    W : array_like, shape (m, d)
        Hidden weights.
    a : array_like, shape (m,)
        Read-out weights.
    scale : float, optional
        Output scale ``α > 0``.

    Returns
    -------
    numpy.ndarray, shape (N,)

    Raises
    ------
    ValueError
        For mismatched shapes, non-finite entries or ``scale <= 0``.
    """
    A = _validate.matrix(X)
    Wm, am = _weights(W, a, A.shape[1])
    c = _scale(scale) * np.sqrt(2.0 / Wm.shape[0])
    return c * (np.maximum(A @ Wm.T, 0.0) @ am)


def loss_gradient(X: Any, y: Any, W: Any, a: Any, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of ``L = ‖f − y‖²/(2N)`` with respect to ``W`` and ``a``.

    With ``u_ij = w_j·x_i``, ``r = (f − y)/N`` and ``c = α sqrt(2/m)``:
    ``∂L/∂a_j = c Σ_i r_i relu(u_ij)`` and ``∂L/∂w_j = c a_j Σ_i r_i H(u_ij) x_i``
    (``H`` the Heaviside step, ``H(0) = 0``: the derivative of ``relu`` away from its
    kink, where it is not differentiable).

    Parameters
    ----------
    X : array_like, shape (N, d)
    y : array_like, shape (N,)
    W : array_like, shape (m, d)
    a : array_like, shape (m,)
    scale : float, optional
        ``α > 0``.

    Returns
    -------
    grad_W : numpy.ndarray, shape (m, d)
    grad_a : numpy.ndarray, shape (m,)

    Raises
    ------
    ValueError
        For mismatched shapes, non-finite entries or ``scale <= 0``.
    """
    A = _validate.matrix(X)
    N = A.shape[0]
    yy = _validate.vector(y, "y", N)
    Wm, am = _weights(W, a, A.shape[1])
    c = _scale(scale) * np.sqrt(2.0 / Wm.shape[0])
    U = A @ Wm.T
    R = np.maximum(U, 0.0)
    r = (c * (R @ am) - yy) / N
    grad_a = c * (r @ R)
    grad_W = c * am[:, None] * (((U > 0.0) * r[:, None]).T @ A)
    return grad_W, grad_a


def tangent_kernel(X: Any, W: Any, a: Any) -> np.ndarray:
    """The tangent kernel ``Θ_m = Σ_params ∂h(x_i) ∂h(x_l)`` of the unscaled network ``h``.

    ``Θ_m(x_i, x_l) = (2/m) Σ_j [relu(u_ij) relu(u_lj) + a_j² H(u_ij) H(u_lj) x_i·x_l]``;
    at the initial weights of a seed it is the ``ntk`` of
    :func:`ribbonlib.kernels.two_layer_relu`.
    The network with output scale ``α``, trained with the step ``η/α²``, moves its
    predictions with ``(η/N) Θ_m`` to first order in the step.

    Parameters
    ----------
    X : array_like, shape (N, d)
    W : array_like, shape (m, d)
    a : array_like, shape (m,)

    Returns
    -------
    numpy.ndarray, shape (N, N)
        Symmetric positive semi-definite.

    Raises
    ------
    ValueError
        For mismatched shapes or non-finite entries.
    """
    A = _validate.matrix(X)
    Wm, am = _weights(W, a, A.shape[1])
    _validate.check_size(A.shape[0] * Wm.shape[0], "the hidden layer")
    U = A @ Wm.T
    R = np.maximum(U, 0.0)
    S = (U > 0.0).astype(float)
    c = 2.0 / Wm.shape[0]
    K = c * (R @ R.T) + (A @ A.T) * (c * ((S * am**2) @ S.T))
    return 0.5 * (K + K.T)


@dataclass(frozen=True)
class TrainedNetworks:
    """Trajectories of networks trained by :func:`train`.

    Attributes
    ----------
    outputs : numpy.ndarray, shape (R, T+1, N)
        Predictions ``f_t`` on the training inputs, ``t = 0..T``, one row per seed.
    width : int
        ``m``.
    scale : float
        ``α``.
    eta : float
        The function-space learning rate ``η`` (the parameters move with ``η/α²``).
    seeds : tuple of int
        The seed of each network.
    weight_change : numpy.ndarray, shape (R,)
        ``‖θ_T − θ_0‖ / ‖θ_0‖`` over all parameters: how far training moved the weights.
    kernel_change : numpy.ndarray, shape (R,)
        ``‖Θ_m(θ_T) − Θ_m(θ_0)‖_F / ‖Θ_m(θ_0)‖_F``: how far the tangent kernel moved (zero
        in the lazy limit).
    """

    outputs: np.ndarray
    width: int
    scale: float
    eta: float
    seeds: tuple[int, ...]
    weight_change: np.ndarray
    kernel_change: np.ndarray


def _train_one(A: np.ndarray, yy: np.ndarray, W: np.ndarray, a: np.ndarray, c: float,
               lr: float, steps: int, out: np.ndarray) -> int:
    """Train in place; write ``f_t`` into ``out``; return the last finite step."""
    N, m = A.shape[0], W.shape[0]
    U = np.empty((N, m))
    R = np.empty((N, m))
    H = np.empty((N, m))
    for t in range(steps + 1):
        np.matmul(A, W.T, out=U)
        np.maximum(U, 0.0, out=R)
        f = c * (R @ a)
        out[t] = f
        if not np.all(np.isfinite(f)):
            return t
        if t == steps:
            break
        r = (f - yy) * (c / N)
        grad_a = r @ R
        np.greater(U, 0.0, out=H, casting="unsafe")  # H(u) as 0.0 / 1.0
        grad_W = (H.T @ (r[:, None] * A)) * a[:, None]
        a -= lr * grad_a
        W -= lr * grad_W
    return steps


def train(X: Any, y: Any, width: int, seeds: Sequence[int], eta: float, steps: int, *,
          scale: float = 1.0) -> TrainedNetworks:
    """Train one network per seed by full-batch gradient descent and record its predictions.

    Each network starts from :func:`init_weights` ``(d, width, seed)`` and takes ``steps``
    steps ``θ ← θ − (η/α²) ∇L(θ)`` on ``L = ‖f − y‖²/(2N)`` (:func:`loss_gradient`), so
    that its predictions follow kernel gradient descent with its tangent kernel to first
    order in the step (module docstring). The loop costs about ``4 N m d + 8 N m``
    floating-point operations per step and network; the ``R`` networks are trained one
    after the other.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Training inputs.
    y : array_like, shape (N,)
        Targets.
    width : int
        ``m >= 1``.
    seeds : sequence of int
        One seed per network (at least one).
    eta : float
        Function-space learning rate ``η > 0``. Kernel gradient descent with the infinite-
        width kernel converges for ``η κ_1 < 2``; a finite network need not (its kernel
        fluctuates and moves), which this function reports as an error.
    steps : int
        ``T >= 0``.
    scale : float, optional
        Output scale ``α > 0``.

    Returns
    -------
    TrainedNetworks

    Raises
    ------
    ValueError
        For bad inputs, width, seeds, ``η <= 0``, ``steps < 0``, ``scale <= 0``.
    FloatingPointError
        If a network's predictions or weights overflow (training diverged; a unit whose
        weights overflow to ``−inf`` may leave the predictions finite), naming the seed
        and step.
    """
    A = _validate.matrix(X)
    N, d = A.shape
    yy = _validate.vector(y, "y", N)
    m = _validate.integer(width, "width", low=1)
    seed_list = tuple(_validate.integer(s, "seeds", low=0) for s in seeds)
    if not seed_list:
        raise ValueError("seeds must hold at least one seed")
    eta_v = _validate.finite_real(eta, "eta", low=0.0, low_open=True)
    T = _validate.integer(steps, "steps", low=0)
    alpha = _scale(scale)
    _validate.check_size(len(seed_list) * (T + 1) * N + 4 * N * m, "the trajectories")
    c = alpha * np.sqrt(2.0 / m)
    lr = eta_v / alpha**2
    out = np.empty((len(seed_list), T + 1, N))
    moved = np.empty(len(seed_list))
    kmoved = np.empty(len(seed_list))
    with np.errstate(over="ignore", invalid="ignore"):
        for i, s in enumerate(seed_list):
            W, a = init_weights(d, m, s)
            W0, a0 = W.copy(), a.copy()
            last = _train_one(A, yy, W, a, c, lr, T, out[i])
            if last < T or not (np.all(np.isfinite(W)) and np.all(np.isfinite(a))):
                raise FloatingPointError(f"training diverged: network with seed {s} (width {m}, "
                                         f"scale {alpha:g}, eta {eta_v:g}) overflowed at step {last}")
            moved[i] = np.sqrt(np.sum((W - W0) ** 2) + np.sum((a - a0) ** 2)) / np.sqrt(
                np.sum(W0**2) + np.sum(a0**2))
            K0 = tangent_kernel(A, W0, a0)
            kmoved[i] = np.linalg.norm(tangent_kernel(A, W, a) - K0) / np.linalg.norm(K0)
    return TrainedNetworks(outputs=out, width=m, scale=alpha, eta=eta_v, seeds=seed_list,
                           weight_change=moved, kernel_change=kmoved)


def trajectory_distance(F: Any, G: Any, y: Any) -> np.ndarray:
    """Root-mean-square distance between trajectories, relative to the targets' size.

    ``D = sqrt(mean_{t,i} (F_ti − G_ti)²) / sqrt(mean_i y_i²)``, over the ``T+1`` points
    and ``N`` inputs of each trajectory.

    Parameters
    ----------
    F, G : array_like, shape (..., T+1, N)
        Trajectories (e.g. ``TrainedNetworks.outputs`` and the output of
        :func:`ribbonlib.dynamics.run_kernel_gd` from the same initial functions).
    y : array_like, shape (N,)
        Targets, not all zero.

    Returns
    -------
    numpy.ndarray, shape (...)

    Raises
    ------
    ValueError
        For mismatched shapes, non-finite entries or ``y = 0``.
    """
    Fm = np.asarray(F, dtype=float)
    Gm = np.asarray(G, dtype=float)
    if Fm.ndim < 2 or Fm.shape != Gm.shape:
        raise ValueError(f"F and G must have the same shape (..., T+1, N), got {Fm.shape} and {Gm.shape}")
    if not (np.all(np.isfinite(Fm)) and np.all(np.isfinite(Gm))):
        raise ValueError("F and G must be finite; found non-finite entries")
    yy = _validate.vector(y, "y", Fm.shape[-1])
    rms = np.sqrt(np.mean(yy**2))
    if rms == 0.0:
        raise ValueError("y must not be all zero (the distance is relative to its size)")
    return np.sqrt(np.mean((Fm - Gm) ** 2, axis=(-2, -1))) / rms


@dataclass(frozen=True)
class ExponentFit:
    """A power law ``D ≈ c x^p`` fitted to each of ``R`` independent replicates.

    Attributes
    ----------
    exponent : float
        Mean of the replicates' exponents ``p``.
    se : float
        Its standard error: the sample standard deviation of the exponents over
        ``sqrt(R)``.
    exponents : numpy.ndarray, shape (R,)
        The least-squares exponent of each replicate.
    prefactor : float
        ``exp`` of the mean of the fitted ``log c``.
    powers : tuple of float
        The powers ``q`` of the correction terms (see :func:`fit_exponent`).
    corrections : numpy.ndarray, shape (len(powers),)
        Mean coefficients ``β_q`` of the correction terms.
    """

    exponent: float
    se: float
    exponents: np.ndarray
    prefactor: float
    powers: tuple[float, ...]
    corrections: np.ndarray

    def __call__(self, x: Any) -> np.ndarray:
        """The fitted law at ``x``, with the mean coefficients."""
        xx = np.asarray(x, dtype=float)
        log = np.log(self.prefactor) + self.exponent * np.log(xx)
        for q, beta in zip(self.powers, self.corrections):
            log = log + beta * xx**q
        return np.exp(log)


def fit_exponent(x: Any, values: Any, corrections: Sequence[float] = ()) -> ExponentFit:
    """Fit ``log D = log c + p log x + Σ_q β_q x^q`` by least squares, replicate by replicate.

    Replicate ``r`` is the column ``values[:, r]``: one measurement at each ``x``. When the
    measurements of different replicates are independent (different seeds), the fitted
    exponents are independent and identically distributed, and their mean has the
    standard error ``std/sqrt(R)``, whatever the distribution of each measurement. The
    optional terms ``β_q x^q`` (powers ``q < 0``) model corrections to the power law that
    fade as ``x`` grows, e.g. ``q = −1/2`` for ``D = c x^p (1 + β x^(−1/2) + …)`` to first
    order in ``β``; without them (the default) the fit is a straight line in log-log.

    Parameters
    ----------
    x : array_like, shape (n,)
        Positive abscissae (e.g. widths), at least ``2 + len(corrections)`` distinct ones.
    values : array_like, shape (n, R)
        Positive measurements, ``R >= 2`` replicates.
    corrections : sequence of float, optional
        Powers ``q < 0`` of the correction terms.

    Returns
    -------
    ExponentFit

    Raises
    ------
    ValueError
        For non-positive or non-finite entries, too few distinct ``x``, fewer than two
        replicates, mismatched shapes or a correction power ``>= 0``.
    """
    xx = np.asarray(x, dtype=float)
    V = np.asarray(values, dtype=float)
    qs = tuple(_validate.finite_real(q, "corrections", high=0.0, high_open=True) for q in corrections)
    if xx.ndim != 1 or np.unique(xx).size < 2 + len(qs):
        raise ValueError(f"x must be 1-D with at least {2 + len(qs)} distinct values, got {xx!r}")
    if V.ndim != 2 or V.shape[0] != xx.size or V.shape[1] < 2:
        raise ValueError(f"values must have shape (len(x) = {xx.size}, R >= 2), got {V.shape}")
    if not (np.all(np.isfinite(xx)) and np.all(xx > 0) and np.all(np.isfinite(V)) and np.all(V > 0)):
        raise ValueError("x and values must be finite and > 0")
    B = np.column_stack([np.ones_like(xx), np.log(xx)] + [xx**q for q in qs])
    coef = np.linalg.lstsq(B, np.log(V), rcond=None)[0]          # (2 + len(qs), R)
    R = V.shape[1]
    return ExponentFit(exponent=float(coef[1].mean()), se=float(coef[1].std(ddof=1) / np.sqrt(R)),
                       exponents=coef[1].copy(), prefactor=float(np.exp(coef[0].mean())),
                       powers=qs, corrections=coef[2:].mean(axis=1))
