"""Kernel machines: kernel matrices, random features, the NTK, and the map to the linear theory.

Gradient descent on the squared loss in function space, on the ``N`` training inputs,

.. math:: f_{t+1} = f_t - \\frac{\\eta}{N} K (f_t - y),

is the gradient descent of the linear model with the eigenvalues ``κ_k`` of ``K/N`` in
place of those of ``Σ = XᵀX/N`` (MATH.md §6). This module provides

* kernel matrices: :func:`rbf`, :func:`laplace`, the arc-cosine kernels :func:`arccos`
  of order 0, 1, 2 (Cho and Saul) and the neural tangent kernel :func:`ntk_relu` of a
  two-layer ReLU network;
* seeded random features whose Gram matrices estimate these kernels without bias
  (:func:`arccos_features`, :func:`fourier_features`) and the finite-width two-layer
  ReLU network at initialisation (:func:`two_layer_relu`), with the exact entrywise
  variance of its empirical NTK (:func:`empirical_ntk_variance`);
* the map from a kernel matrix, targets and the covariance of the random initial
  function to the ``lam``, ``b`` and ``s`` of :mod:`ribbonlib.cloud`
  (:func:`linear_equivalent`), the cloud coordinates (:func:`project`), the cloud
  covariance for an initial function of any covariance (:func:`cloud_covariance`) and
  the covariance of a sampled cloud with its standard errors (:func:`cloud_moments`);
* small helpers for real data: :func:`standardise`, :func:`median_length_scale`,
  :func:`fit_power_law`.

Conventions
-----------
The arc-cosine kernel of order ``n`` is

.. math:: k_n(x, y) = 2\\,\\mathbb{E}_{w \\sim N(0, I)}\\big[H(w\\cdot x)H(w\\cdot y)
          (w\\cdot x)^n (w\\cdot y)^n\\big] = \\frac{1}{\\pi}\\lVert x\\rVert^n \\lVert y\\rVert^n J_n(\\theta),

with ``H`` the Heaviside step (``H(0) = 0`` wherever it is evaluated in floating
point): the definition of Cho and Saul (2009) *including* their
factor 2, whose closed form is
their ``(1/π)‖x‖^n‖y‖^n J_n(θ)``: the two expressions are equal (there is no extra
factor), so that ``k_n(x, x) = (2n − 1)!! ‖x‖^(2n)`` (``E[u^(2n)]`` of a Gaussian ``u``
of variance ``‖x‖²``; 1, ``‖x‖²``, ``3‖x‖⁴``). In particular ``k_1/2`` is the covariance
``E[relu(w·x) relu(w·y)]`` of one ReLU unit.

The two-layer ReLU network is ``f(x) = sqrt(2/m) Σ_j a_j relu(w_j·x)`` with
``a_j ~ N(0, 1)``, ``w_j ~ N(0, I_d)`` independent (NTK parametrisation with the He
factor ``sqrt 2``; inputs enter unscaled, so scale them beforehand, e.g. with
:func:`standardise`). Its output covariance (NNGP kernel) is ``k_1`` at every width and
its neural tangent kernel is ``k_1(x, y) + (x·y) k_0(x, y)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial.distance import cdist

from . import _validate, cloud

__all__ = [
    "rbf",
    "laplace",
    "median_length_scale",
    "arccos_angular",
    "arccos",
    "ntk_relu",
    "arccos_enclosure",
    "arccos_features",
    "fourier_features",
    "TwoLayerReLU",
    "two_layer_relu",
    "empirical_ntk_variance",
    "KernelSpectrum",
    "spectrum",
    "LinearEquivalent",
    "linear_equivalent",
    "project",
    "FunctionCloud",
    "cloud_covariance",
    "CloudMoments",
    "cloud_moments",
    "standardise",
    "fit_power_law",
]

#: Orders of the arc-cosine kernel with a closed form here.
ARCCOS_ORDERS = (0, 1, 2)

#: Largest number of entries a function materialises (as in :mod:`ribbonlib.dynamics`).
MAX_ENTRIES = _validate.MAX_ENTRIES


# ----------------------------------------------------------------------------- inputs


_inputs = _validate.matrix


def _pair(X: Any, Y: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    A = _inputs(X, "X")
    if Y is None:
        return A, A, True
    B = _inputs(Y, "Y")
    if B.shape[1] != A.shape[1]:
        raise ValueError(f"Y must have the same number of features as X ({A.shape[1]}), got shape {B.shape}")
    return A, B, False


def _length_scale(length_scale: Any) -> float:
    return _validate.finite_real(length_scale, "length_scale", low=0.0, low_open=True)


def _order(order: Any) -> int:
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or int(order) not in ARCCOS_ORDERS:
        raise ValueError(f"order must be one of {ARCCOS_ORDERS} (the supported arc-cosine orders), got {order!r}")
    return int(order)


def _size(entries: int, what: str) -> None:
    _validate.check_size(entries, what, "use fewer inputs or features")


_kernel_matrix = _validate.symmetric_matrix


# ------------------------------------------------------------------- stationary kernels


def rbf(X: Any, Y: Any = None, *, length_scale: float) -> np.ndarray:
    """Gaussian (RBF) kernel matrix ``exp(−‖x − y‖² / (2 ℓ²))``.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Inputs, one row per sample.
    Y : array_like, shape (N', d), optional
        Second set of inputs; ``X`` when omitted (the Gram matrix, symmetric with unit
        diagonal).
    length_scale : float
        ``ℓ > 0``, keyword-only and required: there is no scale-free default (for
        standardised inputs see :func:`standardise` and :func:`median_length_scale`).

    Returns
    -------
    numpy.ndarray, shape (N, N')
        Entries in ``(0, 1]`` (in float64 they underflow to 0 once
        ``z = ‖x − y‖²/(2ℓ²)`` exceeds about 745). Squared distances are computed
        directly (no ``‖x‖² + ‖y‖² − 2x·y`` cancellation), so ``z`` is correct to
        ``(d + 3) ε`` relative and each entry to ``(z (d + 3) + 1) ε`` relative
        (``ε = 2^-52``; a first-order bound): a few ulp where ``z = O(1)``, more far
        out, where ``exp`` magnifies the error of its argument.

    Raises
    ------
    ValueError
        For non-finite or non-2-D inputs, different numbers of features, or
        ``length_scale`` not in ``(0, inf)``.
    """
    A, B, same = _pair(X, Y)
    ell = _length_scale(length_scale)
    _size(A.shape[0] * B.shape[0], "the kernel matrix")
    D2 = cdist(A, B, "sqeuclidean")
    K = np.exp(-D2 / (2.0 * ell * ell))
    if same:
        K = 0.5 * (K + K.T)
    return K


def laplace(X: Any, Y: Any = None, *, length_scale: float) -> np.ndarray:
    """Laplace (exponential) kernel matrix ``exp(−‖x − y‖ / ℓ)``, Euclidean norm.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Inputs.
    Y : array_like, shape (N', d), optional
        Second set of inputs; ``X`` when omitted.
    length_scale : float
        ``ℓ > 0``, keyword-only and required.

    Returns
    -------
    numpy.ndarray, shape (N, N')
        Entries in ``(0, 1]`` (0 in float64 beyond ``z = ‖x − y‖/ℓ`` of about 745),
        each correct to ``(z (d/2 + 3) + 1) ε`` relative (``ε = 2^-52``).

    Raises
    ------
    ValueError
        As :func:`rbf`.
    """
    A, B, same = _pair(X, Y)
    ell = _length_scale(length_scale)
    _size(A.shape[0] * B.shape[0], "the kernel matrix")
    K = np.exp(-cdist(A, B, "euclidean") / ell)
    if same:
        K = 0.5 * (K + K.T)
    return K


def median_length_scale(X: Any) -> float:
    """Median Euclidean distance between distinct rows of ``X`` (the median heuristic).

    Parameters
    ----------
    X : array_like, shape (N, d)
        Inputs, ``N >= 2``.

    Returns
    -------
    float
        The median of ``‖x_i − x_j‖`` over ``i < j``; ``> 0``.

    Raises
    ------
    ValueError
        For fewer than two rows, non-finite input, or all rows equal (median 0).
    """
    A = _inputs(X)
    if A.shape[0] < 2:
        raise ValueError(f"X must have at least 2 rows for a median distance, got {A.shape[0]}")
    D = cdist(A, A, "euclidean")
    med = float(np.median(D[np.triu_indices(A.shape[0], 1)]))
    if med <= 0.0:
        raise ValueError("X has median pairwise distance 0 (more than half of the pairs coincide); no length scale")
    return med


# --------------------------------------------------------------------- arc-cosine kernels


def arccos_angular(theta: Any, order: int = 1) -> np.ndarray:
    """The angular factor ``J_n(θ)`` of the arc-cosine kernel of order ``n``.

    ``J_0 = π − θ``, ``J_1 = sin θ + (π − θ) cos θ``,
    ``J_2 = 3 sin θ cos θ + (π − θ)(1 + 2 cos² θ)``; in general
    ``J_n(θ) = 2^n n! ∫_{θ−π/2}^{π/2} cos^n φ cos^n(φ − θ) dφ`` (the angular integral
    left after the radial one in the Gaussian expectation).

    Parameters
    ----------
    theta : array_like
        Angles in ``[0, π]``.
    order : int, optional
        ``n`` in ``{0, 1, 2}``.

    Returns
    -------
    numpy.ndarray
        ``J_n(θ)``, same shape as ``theta``, with ``J_n(0) = π (2n − 1)!!`` and
        ``J_n(π) = 0``. Accurate to a few ulp of ``J_n(0)`` in absolute terms; near
        ``θ = π``, where ``J_n`` vanishes like ``(π − θ)^(2n+1)``, the relative accuracy
        is lower.

    Raises
    ------
    ValueError
        For an unsupported order or angles outside ``[0, π]`` or not finite.
    """
    n = _order(order)
    t = np.asarray(theta, dtype=float)
    if not np.all(np.isfinite(t)) or np.any(t < 0.0) or np.any(t > np.pi):
        raise ValueError("theta must hold finite angles in [0, pi]")
    rest = np.pi - t
    if n == 0:
        return rest
    c, s = np.cos(t), np.sin(t)
    if n == 1:
        return s + rest * c
    return 3.0 * s * c + rest * (1.0 + 2.0 * c * c)


def _unit_rows(A: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of unit length, and the norms as ``ν 2^e`` without overflow or underflow.

    Each row is multiplied by the power of two that brings its largest entry into
    ``[1, 2)`` (exact, but for entries below ``2^-1074`` of that one, which underflow),
    so that its sum of squares, ``ν²``, lies in ``[1, 4d)`` whatever the scale of the
    row; ``ν = 0`` for a zero row only. Returns the unit rows, ``ν`` and ``e``.
    """
    _, e = np.frexp(np.max(np.abs(A), axis=1))
    e = e - 1                                   # largest entry in [2^e, 2^(e+1))
    S = np.ldexp(A, -e[:, None])
    nu = np.linalg.norm(S, axis=1)
    return S / np.where(nu > 0, nu, 1.0)[:, None], nu, e


def _angles(Ua: np.ndarray, Ub: np.ndarray, same: bool) -> np.ndarray:
    """Angles between unit rows, ``θ = 2 atan2(‖x̂ − ŷ‖, ‖x̂ + ŷ‖)`` (accurate near 0
    and π)."""
    minus = cdist(Ua, Ub, "euclidean")
    plus = cdist(Ua, -Ub, "euclidean")
    theta = 2.0 * np.arctan2(minus, plus)
    if same:
        theta = 0.5 * (theta + theta.T)
        np.fill_diagonal(theta, 0.0)
    return np.clip(theta, 0.0, np.pi)


def arccos(X: Any, Y: Any = None, order: int = 1) -> np.ndarray:
    """Arc-cosine kernel matrix of Cho and Saul, ``k_n = 2 E_w[H(w·x)H(w·y)(w·x)^n (w·y)^n]``.

    With ``w ~ N(0, I_d)`` this equals ``(1/π) ‖x‖^n ‖y‖^n J_n(θ)``, ``θ`` the angle
    between ``x`` and ``y`` (:func:`arccos_angular`). Normalisation:
    ``k_n(x, x) = (2n − 1)!! ‖x‖^(2n)`` (``k_0(x, x) = 1``, ``k_1(x, x) = ‖x‖²``,
    ``k_2(x, x) = 3‖x‖⁴``); ``k_1/2`` is the covariance of one ReLU unit
    ``relu(w·x)`` and ``k_0/2`` that of one step unit ``H(w·x)`` (``H`` the Heaviside step).

    Parameters
    ----------
    X : array_like, shape (N, d)
        Inputs.
    Y : array_like, shape (N', d), optional
        Second set of inputs; ``X`` when omitted.
    order : int, optional
        ``n`` in ``{0, 1, 2}`` (default 1, the NNGP kernel of a ReLU layer).

    Returns
    -------
    numpy.ndarray, shape (N, N')
        The kernel matrix. Angles are computed as ``2 atan2(‖x̂ − ŷ‖, ‖x̂ + ŷ‖)``, so
        identical and nearly parallel inputs lose no accuracy. Each entry is within
        ``(9d + 32) ε (2n − 1)!! ‖x‖^n ‖y‖^n`` of the exact ``k_n`` of the given floats
        (``ε = 2^-52``; barring overflow and underflow of ``‖x‖^n ‖y‖^n``, whatever the
        scale of ``x`` and ``y`` themselves: rows are scaled by powers of two before
        their norms are taken). This is a
        first-order round-off bound: the norms are correct to ``(d + 1) ε`` relative,
        the angle to ``(6d + 19) ε``, which moves ``J_n/π`` by at most
        ``0.73 (2n − 1)!!`` times as much (the largest ``|J_n'|/(π (2n − 1)!!)``), and
        ``J_n`` with its products adds ``13 ε``; in practice the error is a few ``ε``.

    Raises
    ------
    ValueError
        For non-finite or non-2-D inputs, different numbers of features, an order other
        than 0, 1, 2, or (order 0 only) a zero row, whose angle with anything is
        undefined. For order 1 and 2 a zero row gives a zero row of the kernel.
    """
    n = _order(order)
    A, B, same = _pair(X, Y)
    _size(A.shape[0] * B.shape[0], "the kernel matrix")
    Ua, nuA, eA = _unit_rows(A)
    Ub, nuB, eB = (Ua, nuA, eA) if same else _unit_rows(B)
    if n == 0 and (np.any(nuA == 0.0) or np.any(nuB == 0.0)):
        raise ValueError("X and Y must have non-zero rows for order 0 (the angle of a zero vector is undefined)")
    theta = _angles(Ua, Ub, same)
    K = arccos_angular(theta, n) / np.pi
    if n:
        # ‖x‖^n ‖y‖^n = (ν_x ν_y)^n 2^(n (e_x + e_y)): only the final scaling can
        # overflow or underflow, and only where the product itself does
        K = np.ldexp(K * np.outer(nuA, nuB) ** n, n * np.add.outer(eA, eB))
    return K


def ntk_relu(X: Any, Y: Any = None) -> np.ndarray:
    """Neural tangent kernel of the two-layer ReLU network at infinite width.

    For ``f(x) = sqrt(2/m) Σ_j a_j relu(w_j·x)`` (``a_j ~ N(0,1)``, ``w_j ~ N(0, I)``)
    the tangent kernel ``Σ_params ∂f(x) ∂f(y)`` converges, as ``m → ∞``, to

    ``Θ(x, y) = k_1(x, y) + (x·y) k_0(x, y)``:

    the read-out weights contribute the NNGP kernel ``k_1`` and the hidden weights
    ``(x·y) k_0``.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Inputs (non-zero rows).
    Y : array_like, shape (N', d), optional
        Second set of inputs; ``X`` when omitted.

    Returns
    -------
    numpy.ndarray, shape (N, N')
        Each entry within ``(19d + 71) ε ‖x‖ ‖y‖`` of the exact ``Θ`` of the given
        floats (``ε = 2^-52``; barring overflow of ``Θ`` itself): the bounds of
        :func:`arccos` for ``k_1`` and ``k_0``, ``(d + 1) ε ‖x‖ ‖y‖`` for ``x·y``, and
        the final operations. Without ``Y``, exactly symmetric.

    Raises
    ------
    ValueError
        As :func:`arccos` with order 0.
    """
    A, B, same = _pair(X, Y)
    k0 = arccos(A, None if same else B, order=0)
    k1 = arccos(A, None if same else B, order=1)
    K = k1 + (A @ B.T) * k0
    if same:  # the upper triangle copied: no arithmetic, so no overflow of K + Kᵀ
        i, j = np.tril_indices(K.shape[0], -1)
        K[i, j] = K[j, i]
    return K


# ------------------------------------------------------- enclosures from the definition

#: Upper end of the integration in standard units of ``w·x``; the tail beyond it is
#: below ``e^{-700}`` of the scale and is added to the radius.
_TAIL_CUT = 40


def _point(v: Any, name: str) -> np.ndarray:
    arr = np.asarray(v, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array (one input), "
                         f"got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; found non-finite entries")
    return arr


def _arb_vector(v: np.ndarray) -> list:
    from flint import arb

    return [arb(float(t)) for t in v]


def arccos_enclosure(x: Any, y: Any, order: int = 1, *, bits: int = 128) -> Any:
    """Rigorous enclosure of the arc-cosine kernel ``k_n(x, y)`` from its definition.

    An independent reference for :func:`arccos` that never uses the angle or the closed
    forms ``J_n``. With ``u = w·x`` and ``v = w·y`` (``w ~ N(0, I)``), conditionally on
    ``u`` the variable ``v`` is normal with mean ``μ = (x·y/‖x‖²) u`` and variance
    ``s² = (‖x‖²‖y‖² − (x·y)²)/‖x‖²``, whose truncated moments
    ``T_k = E[v^k H(v) | u]`` obey ``T_0 = Φ(μ/s)``, ``T_1 = μ T_0 + s φ(μ/s)``,
    ``T_k = μ T_{k−1} + (k − 1) s² T_{k−2}`` (integration by parts). Hence

    ``k_n = 2 E[H(u) u^n T_n(u)] = 2 ∫_0^∞ (‖x‖τ)^n φ(τ) T_n(‖x‖τ) dτ``,

    integrated in ball arithmetic (Arb's rigorous ``acb.integral``) over
    ``τ ∈ [0, 40]``; the tail ``τ > 40`` is below ``10^{-300} ‖x‖^n ‖y‖^n`` (there
    ``|T_n| <= ‖y‖^n (τ + 1)^n``) and is added to the radius. The Gram determinant
    ``‖x‖²‖y‖² − (x·y)²`` is formed as ``Σ_{i<j} (x_i y_j − x_j y_i)²`` (Lagrange's
    identity, no cancellation); when it vanishes (parallel inputs, or ``d = 1``),
    ``v = α u`` with ``α = x·y/‖x‖²``, and ``k_n = H(α) α^n (2n − 1)!! ‖x‖^(2n)``
    exactly.

    Parameters
    ----------
    x, y : array_like, shape (d,)
        Two inputs (floats, taken as the exact numbers they are).
    order : int, optional
        ``n`` in ``{0, 1, 2}``.
    bits : int, optional
        Target accuracy in bits, ``>= 64``: the quadrature stops once its error
        estimate is below ``2^-bits`` of ``‖x‖^n ‖y‖^n``, so the radius of the result
        is at most about that, and usually far smaller (the arithmetic runs with 64
        guard bits).

    Returns
    -------
    flint.arb
        A ball containing the exact ``k_n(x, y)``, at ``bits + 64`` bits of precision
        (arithmetic with it at a lower ``flint.ctx.prec`` rounds it there).

    Raises
    ------
    ValueError
        For inputs that are not finite 1-D arrays of the same length, an unsupported
        order, ``bits < 64``, or (order 0) a zero input.
    """
    from flint import acb, arb, ctx

    n = _order(order)
    xv, yv = _point(x, "x"), _point(y, "y")
    if yv.size != xv.size:
        raise ValueError(f"y must have the same length as x ({xv.size}), got {yv.size}")
    prec = _validate.integer(bits, "bits", low=64)
    if not (np.any(xv) and np.any(yv)):
        if n == 0:
            raise ValueError("x and y must be non-zero for order 0 "
                             "(the angle of a zero vector is undefined)")
        return arb(0)
    d = xv.size
    with ctx.workprec(prec + 64):
        xa, ya = _arb_vector(xv), _arb_vector(yv)
        xx = sum((t * t for t in xa), arb(0))
        yy = sum((t * t for t in ya), arb(0))
        xy = sum((p * q for p, q in zip(xa, ya)), arb(0))
        gram = sum(((xa[i] * ya[j] - xa[j] * ya[i]) ** 2
                    for i in range(d) for j in range(i + 1, d)), arb(0))
        dfact = (1, 1, 3)[n]
        if gram == 0:                                   # exactly parallel: v = alpha u
            alpha = xy / xx
            return alpha**n * dfact * xx**n if alpha > 0 else arb(0)
        nx = xx.sqrt()
        c = xy / nx                                     # mu = c tau
        s = gram.sqrt() / nx
        inv_s_root2 = 1 / (s * arb(2).sqrt())
        root_2pi = (2 * arb.pi()).sqrt()

        def integrand(tau: Any, analytic: bool) -> Any:  # entire in tau: no branch cuts
            mu = c * tau
            t = mu / s
            T = [(-(mu * inv_s_root2)).erfc() / 2]
            T.append(mu * T[0] + s * (-(t * t) / 2).exp() / root_2pi)
            for k in range(2, n + 1):
                T.append(mu * T[k - 1] + (k - 1) * s * s * T[k - 2])
            return (nx * tau) ** n * (-(tau * tau) / 2).exp() / root_2pi * T[n]

        scale = (xx * yy).sqrt() ** n
        tol = scale * arb(2) ** (-prec)
        half = acb.integral(integrand, 0, _TAIL_CUT, rel_tol=arb(2) ** (-prec),
                            abs_tol=tol).real
        tail = scale * arb("1e-300")
        return 2 * (half + arb(0, tail.upper()))


# ------------------------------------------------------------------------ random features


def _width(width: Any) -> int:
    return _validate.integer(width, "width", low=1)


def arccos_features(X: Any, order: int, width: int, seed: int) -> np.ndarray:
    """Random features whose Gram matrix estimates :func:`arccos` without bias.

    ``Φ_ij = sqrt(2/m) H(w_j·x_i) (w_j·x_i)^n`` with ``w_j ~ N(0, I_d)`` i.i.d.
    (``numpy.random.default_rng(seed)``, drawn as an ``(m, d)`` array) and
    ``H(0) = 0`` (a zero input has zero features, also for ``n = 0``), so that
    ``E[Φ Φᵀ] = k_n`` and ``m·Φ_ij Φ_lj`` (``j = 1..m``) are ``m`` i.i.d. samples with
    mean ``k_n(x_i, x_l)``. The same ``seed``, ``width`` and number of features give the
    same weights, so features of two input sets built with them are jointly valid.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Inputs.
    order : int
        ``n`` in ``{0, 1, 2}``.
    width : int
        Number of features ``m >= 1``.
    seed : int
        Seed of the weights.

    Returns
    -------
    numpy.ndarray, shape (N, m)

    Raises
    ------
    ValueError
        For bad inputs, order, width or seed.
    """
    A = _inputs(X)
    n = _order(order)
    m = _width(width)
    _size(A.shape[0] * m + m * A.shape[1], "the feature matrix")
    W = np.random.default_rng(_validate.seed(seed)).standard_normal((m, A.shape[1]))
    U = A @ W.T
    pos = U > 0.0
    F = pos.astype(float) if n == 0 else np.where(pos, U, 0.0) ** n
    return F * np.sqrt(2.0 / m)


def fourier_features(X: Any, width: int, seed: int, *, length_scale: float, kernel: str = "rbf") -> np.ndarray:
    """Random Fourier features: ``E[Φ Φᵀ]`` is the RBF or the Laplace kernel.

    ``Φ_ij = sqrt(2/m) cos(ω_j·x_i + β_j)`` with ``β_j ~ U(0, 2π)`` and, for the RBF
    kernel, ``ω_j ~ N(0, I/ℓ²)``; for the Laplace kernel ``ω_j = g_j / (ℓ |c_j|)`` with
    ``g_j ~ N(0, I)`` and ``c_j ~ N(0, 1)`` (a multivariate Cauchy vector, whose
    characteristic function is ``exp(−‖δ‖/ℓ)``). Since
    ``E_β[2 cos(a + β) cos(b + β)] = cos(a − b)``, ``E[Φ Φᵀ]`` is
    ``E_ω[cos(ω·(x − y))]``, the kernel (Bochner's theorem). From
    ``numpy.random.default_rng(seed)`` the ``g_j`` are drawn first (an ``(m, d)``
    array), then for the Laplace kernel the ``c_j``, then the ``β_j``: the same seed,
    width, length scale and kernel give the same ``ω`` and ``β``, so features of two
    input sets built with them are jointly valid.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Inputs.
    width : int
        Number of features ``m >= 1``.
    seed : int
        Seed of ``ω`` and ``β``.
    length_scale : float
        ``ℓ > 0``.
    kernel : {"rbf", "laplace"}, optional

    Returns
    -------
    numpy.ndarray, shape (N, m)

    Raises
    ------
    ValueError
        For bad inputs, width, seed, length scale or kernel name.
    """
    A = _inputs(X)
    m = _width(width)
    ell = _length_scale(length_scale)
    if kernel not in ("rbf", "laplace"):
        raise ValueError(f"kernel must be 'rbf' or 'laplace', got {kernel!r}")
    _size(A.shape[0] * m + m * A.shape[1], "the feature matrix")
    rng = np.random.default_rng(_validate.seed(seed))
    Om = rng.standard_normal((m, A.shape[1])) / ell
    if kernel == "laplace":
        Om = Om / np.abs(rng.standard_normal(m))[:, None]
    beta = rng.uniform(0.0, 2.0 * np.pi, size=m)
    return np.sqrt(2.0 / m) * np.cos(A @ Om.T + beta[None, :])


@dataclass(frozen=True)
class TwoLayerReLU:
    """A two-layer ReLU network ``f(x) = sqrt(2/m) Σ_j a_j relu(w_j·x)`` at initialisation.

    Attributes
    ----------
    output : numpy.ndarray, shape (N,)
        ``f_0(x_i)``, the initial function on the inputs; over the draw of the weights
        its covariance is ``k_1`` (:func:`arccos`, order 1) at every width.
    ntk : numpy.ndarray, shape (N, N)
        The empirical tangent kernel ``Σ_params ∂f(x_i) ∂f(x_l)``; its expectation is
        :func:`ntk_relu`.
    nngp : numpy.ndarray, shape (N, N)
        The read-out part ``(2/m) Σ_j relu(w_j·x_i) relu(w_j·x_l)`` of ``ntk``, an
        unbiased estimate of ``k_1``.
    width : int
        ``m``.
    """

    output: np.ndarray
    ntk: np.ndarray
    nngp: np.ndarray
    width: int


def two_layer_relu(X: Any, width: int, seed: int) -> TwoLayerReLU:
    """Draw a two-layer ReLU network of the given width and evaluate it on ``X``.

    The hidden weights ``W`` (``(m, d)``, ``N(0, 1)`` entries) are drawn first and the
    read-out ``a`` (``(m,)``) second, from ``numpy.random.default_rng(seed)``. With
    ``u_ij = w_j·x_i``, the tangent kernel is
    ``(2/m) Σ_j [relu(u_ij) relu(u_lj) + a_j² H(u_ij) H(u_lj) x_i·x_l]``.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Inputs.
    width : int
        Number of hidden units ``m >= 1``.
    seed : int
        Seed of the weights.

    Returns
    -------
    TwoLayerReLU

    Raises
    ------
    ValueError
        For bad inputs, width or seed.
    """
    A = _inputs(X)
    m = _width(width)
    _size(A.shape[0] * m + m * A.shape[1], "the hidden layer")
    rng = np.random.default_rng(_validate.seed(seed))
    W = rng.standard_normal((m, A.shape[1]))
    a = rng.standard_normal(m)
    U = A @ W.T
    R = np.maximum(U, 0.0)
    S = (U > 0.0).astype(float)
    c = 2.0 / m
    out = np.sqrt(c) * (R @ a)
    nngp = c * (R @ R.T)
    ntk = nngp + (A @ A.T) * (c * ((S * a**2) @ S.T))
    nngp = 0.5 * (nngp + nngp.T)
    ntk = 0.5 * (ntk + ntk.T)
    return TwoLayerReLU(output=out, ntk=ntk, nngp=nngp, width=m)


def empirical_ntk_variance(X: Any, width: int) -> np.ndarray:
    """Exact entrywise variance of the empirical NTK of :func:`two_layer_relu`.

    The empirical kernel is the mean of ``m`` i.i.d. one-unit terms
    ``g = 2 [relu(u) relu(v) + a² H(u) H(v) c]`` (``u = w·x``, ``v = w·y``, ``c = x·y``).
    From ``E[relu(u)² relu(v)²] = k_2/2``, ``E[a² relu(u) relu(v)] = k_1/2`` and
    ``E[a⁴ H(u) H(v)] = 3 k_0/2``:

    ``Var g = 2 k_2 + 4 c k_1 + 6 c² k_0 − (k_1 + c k_0)²``,

    and the empirical kernel has variance ``Var g / m``. Hence
    ``E‖Θ_m − Θ‖_F² = Σ_il Var g / m``: the Frobenius error falls exactly like
    ``1/sqrt(m)``.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Inputs (non-zero rows).
    width : int
        ``m >= 1``.

    Returns
    -------
    numpy.ndarray, shape (N, N)
        ``Var[Θ_m(x_i, x_l)]``, within ``(236 d + 836) ε ‖x_i‖² ‖x_l‖² / m`` of its
        exact value for the given floats (``ε = 2^-52``; a first-order round-off bound
        from those of :func:`arccos`, the four terms being at most 6, 4, 6 and 4 times
        ``‖x_i‖² ‖x_l‖²``).

    Raises
    ------
    ValueError
        For bad inputs (as :func:`arccos` with order 0) or a width ``m < 1``.
    """
    A = _inputs(X)
    m = _width(width)
    k0, k1, k2 = (arccos(A, order=n) for n in ARCCOS_ORDERS)
    c = A @ A.T
    mean = k1 + c * k0
    var = 2.0 * k2 + 4.0 * c * k1 + 6.0 * c * c * k0 - mean * mean
    return np.maximum(0.5 * (var + var.T), 0.0) / m


# --------------------------------------------------------- map to the linear theory


@dataclass(frozen=True)
class KernelSpectrum:
    """Eigen-decomposition of ``K/N``.

    Attributes
    ----------
    lam : numpy.ndarray, shape (N,)
        Eigenvalues ``κ_k`` of ``K/N`` in decreasing order (round-off negatives kept).
    U : numpy.ndarray, shape (N, N)
        Orthonormal eigenvectors ``u_k`` as columns.
    """

    lam: np.ndarray
    U: np.ndarray


def spectrum(K: Any) -> KernelSpectrum:
    """Eigenvalues (decreasing) and eigenvectors of ``K/N`` for a symmetric ``K``.

    Parameters
    ----------
    K : array_like, shape (N, N)
        Symmetric kernel matrix (relative asymmetry at most 1e-10; it is symmetrised).

    Returns
    -------
    KernelSpectrum

    Raises
    ------
    ValueError
        For a non-square, non-finite or non-symmetric ``K``.
    """
    Km = _kernel_matrix(K)
    w, V = np.linalg.eigh(Km / Km.shape[0])
    return KernelSpectrum(lam=w[::-1].copy(), U=V[:, ::-1].copy())


@dataclass(frozen=True)
class LinearEquivalent:
    """A kernel machine written as the linear model of :mod:`ribbonlib.cloud`.

    Attributes
    ----------
    lam : numpy.ndarray, shape (d,)
        The kept eigenvalues ``κ_k`` of ``K/N``, decreasing (all ``> rtol·κ_1``).
    b : numpy.ndarray, shape (d,)
        ``b_k = u_kᵀ y / sqrt(N κ_k)``, the targets in the role of the ground truth.
    s : float
        ``σ_0 sqrt(d)``: with ``f_0`` of covariance ``σ_0² K``, the coefficients
        ``ξ_k = u_kᵀ f_0 / sqrt(N κ_k)`` have variance ``σ_0² = s²/d``, as ``v_kᵀ w_0``.
    U : numpy.ndarray, shape (N, d)
        The kept eigenvectors; :func:`project` gives the cloud coordinates.
    dropped : int
        Number of modes left out (eigenvalue ``<= rtol·κ_1``).
    dropped_signal : float
        ``Σ_dropped (u_kᵀ y)²/N``: the part of the target's mean square in the dropped
        modes, which move at most ``η κ_k T`` of the way to it in ``T`` steps.
    """

    lam: np.ndarray
    b: np.ndarray
    s: float
    U: np.ndarray
    dropped: int
    dropped_signal: float


def linear_equivalent(K: Any, y: Any, sigma0: float = 1.0, *, rtol: float = 1e-10) -> LinearEquivalent:
    """Map kernel gradient descent to the ``lam``, ``b``, ``s`` of the linear theory.

    In the eigenbasis ``K/N = Σ_k κ_k u_k u_kᵀ``, kernel gradient descent
    ``f_{t+1} = f_t − (η/N) K (f_t − y)`` is, mode by mode, the gradient descent of the
    linear model with ``λ_k = κ_k``, and its cloud coordinates
    ``z_k = u_kᵀ f / sqrt(N)`` are ``sqrt(κ_k)(b_k (1 − r_k^t) + r_k^t ξ_k)``
    with ``b_k = u_kᵀ y / sqrt(N κ_k)`` and ``ξ_k = u_kᵀ f_0 / sqrt(N κ_k)``. If the
    initial function has mean 0 and covariance ``σ_0² K`` (a Gaussian process, or a
    random-feature network whose features have Gram expectation ``K``), the ``ξ_k`` are
    uncorrelated with variance ``σ_0²``: ``s = σ_0 sqrt(d)`` in the convention
    ``v_kᵀ w_0 ~ N(0, s²/d)``. Then ``ribbonlib.cloud.covariance(lam, b, s, eta, steps)``
    is the covariance of the cloud in the coordinates of :func:`project`.

    Modes with ``κ_k <= rtol·κ_1`` are dropped: their eigenvectors are not resolved in
    float64, and in ``T`` steps each moves at most
    ``|1 − r_k^T| <= T η κ_k <= 2 rtol T`` of the way to its target (``|r_k| <= 1``):
    negligible only while ``T ≪ 1/rtol``.

    Parameters
    ----------
    K : array_like, shape (N, N)
        Symmetric positive semi-definite kernel matrix.
    y : array_like, shape (N,)
        Targets.
    sigma0 : float, optional
        ``σ_0 >= 0``, the scale of the initial function (covariance ``σ_0² K``).
    rtol : float, optional
        Relative cut on the eigenvalues, in ``[1e-14, 1)``.

    Returns
    -------
    LinearEquivalent

    Raises
    ------
    ValueError
        For a bad ``K`` (also: an eigenvalue below ``−1e-10·κ_1``, not positive
        semi-definite; or ``K = 0``), ``y`` of the wrong length or non-finite,
        ``sigma0 < 0`` or ``rtol`` out of range.
    """
    spec = spectrum(K)
    N = spec.U.shape[0]
    yy = _validate.vector(y, "y", N)
    s0 = _validate.finite_real(sigma0, "sigma0", low=0.0)
    cut = _validate.finite_real(rtol, "rtol", low=1e-14, high=1.0, high_open=True)
    top = float(spec.lam[0])
    if top <= 0.0:
        raise ValueError("K must have a positive eigenvalue (K = 0 has no dynamics)")
    if spec.lam[-1] < -1e-10 * top:
        raise ValueError(f"K must be positive semi-definite; its smallest eigenvalue/N is {spec.lam[-1]:.3g}")
    keep = spec.lam > cut * top
    lam = spec.lam[keep]
    U = spec.U[:, keep]
    proj = spec.U.T @ yy
    b = proj[keep] / np.sqrt(N * lam)
    dropped_signal = float(np.sum(proj[~keep] ** 2) / N)
    return LinearEquivalent(lam=lam, b=b, s=s0 * np.sqrt(lam.size), U=U,
                            dropped=int(np.sum(~keep)), dropped_signal=dropped_signal)


def project(F: Any, U: Any) -> np.ndarray:
    """Cloud coordinates ``z = Uᵀ f / sqrt(N)`` of predictions on the training set.

    Parameters
    ----------
    F : array_like, shape (..., N)
        Predictions, e.g. the ``(T+1, N)`` output of
        :func:`ribbonlib.dynamics.run_kernel_gd`.
    U : array_like, shape (N, d)
        Orthonormal columns (e.g. ``LinearEquivalent.U``).

    Returns
    -------
    numpy.ndarray, shape (..., d)
        ``z_k = u_kᵀ f / sqrt(N)``. Squared Euclidean distances between these
        coordinates (over all ``N`` modes) are ``‖f − f'‖²/N``, i.e. ``8σ²`` times the
        per-sample Bhattacharyya distance of the Gaussian models with means ``f``.
    """
    Um = np.asarray(U, dtype=float)
    if Um.ndim != 2 or Um.shape[0] == 0 or not np.all(np.isfinite(Um)):
        raise ValueError(f"U must be a finite (N, d) array, got shape {Um.shape}")
    Fm = np.asarray(F, dtype=float)
    if Fm.ndim < 1 or Fm.shape[-1] != Um.shape[0]:
        raise ValueError(f"F must have last axis of length N = {Um.shape[0]}, got shape {Fm.shape}")
    if not np.all(np.isfinite(Fm)):
        raise ValueError("F must be finite; found non-finite entries")
    return Fm @ Um / np.sqrt(Um.shape[0])


@dataclass(frozen=True)
class FunctionCloud:
    """Expected covariance of a cloud of kernel gradient-descent trajectories.

    Attributes
    ----------
    cov : numpy.ndarray, shape (d, d)
        ``S + Q∘G`` (minus ``Q∘(m mᵀ)/M`` for a cloud of ``M`` initialisations centred on
        its own mean), in the coordinates ``z = Uᵀ f / sqrt(N)``.
    signal : numpy.ndarray, shape (d, d)
        ``S``, as :func:`ribbonlib.cloud.signal_covariance`.
    Q : numpy.ndarray, shape (d, d)
        Covariance of the initial coordinates, ``Uᵀ P U / N`` for ``Cov f_0 = P``.
    U : numpy.ndarray, shape (N, d)
        The kept eigenvectors of ``K/N``.
    lam : numpy.ndarray, shape (d,)
        The kept eigenvalues.
    dropped_variance : float
        ``tr P / N − tr Q``: variance of the initial function in the dropped modes.
        Those modes move at most ``η κ_k T`` of the way to their targets, so they add to
        the total variance of the cloud at most this much plus ``(η κ_k T)²`` times the
        targets' mean square in them.
    """

    cov: np.ndarray
    signal: np.ndarray
    Q: np.ndarray
    U: np.ndarray
    lam: np.ndarray
    dropped_variance: float


def cloud_covariance(K: Any, y: Any, init_cov: Any, eta: float, steps: int, *,
                     n_inits: int | None = None, rtol: float = 1e-10) -> FunctionCloud:
    """Cloud covariance of kernel gradient descent for an initial function of any covariance.

    For ``f_0`` with mean 0 and covariance ``P`` (e.g. ``σ_0²`` times the NNGP kernel when
    ``K`` is the NTK), the coordinates ``ζ = Uᵀ f_0 / sqrt(N)`` have covariance
    ``Q = Uᵀ P U / N`` and the cloud covariance is ``S + Q∘G``, the Hadamard product
    with ``G_kl = (1/(T+1)) Σ_t (r_k r_l)^t``; for ``P = σ_0² K`` it reduces to
    :func:`ribbonlib.cloud.covariance` with the parameters of :func:`linear_equivalent`.

    Parameters
    ----------
    K : array_like, shape (N, N)
        Symmetric positive semi-definite kernel matrix of the dynamics.
    y : array_like, shape (N,)
        Targets.
    init_cov : array_like, shape (N, N)
        Covariance ``P`` of the initial function (symmetric positive semi-definite).
    eta : float
        Learning rate, ``0 < η·κ_1 < 2``.
    steps : int
        ``T >= 0``.
    n_inits : int, optional
        ``M >= 1``: the expectation of a finite cloud centred on its own mean.
    rtol : float, optional
        Eigenvalue cut of :func:`linear_equivalent`.

    Returns
    -------
    FunctionCloud

    Raises
    ------
    ValueError
        As :func:`linear_equivalent`, for a bad ``init_cov`` (shape, symmetry, an
        eigenvalue below ``−1e-10`` of its largest), ``η`` out of range, ``steps < 0``
        or ``n_inits < 1``.
    """
    le = linear_equivalent(K, y, 1.0, rtol=rtol)
    N = le.U.shape[0]
    P = _kernel_matrix(init_cov, "init_cov")
    if P.shape[0] != N:
        raise ValueError(f"init_cov must have shape ({N}, {N}) like K, got {P.shape}")
    ev = np.linalg.eigvalsh(P)
    if ev[0] < -1e-10 * max(abs(ev[-1]), np.finfo(float).tiny):
        raise ValueError(f"init_cov must be positive semi-definite; its smallest eigenvalue is {ev[0]:.3g}")
    M = None if n_inits is None else _validate.integer(n_inits, "n_inits", low=1)
    G, m, _ = cloud.time_averages(le.lam, eta, steps)
    S = cloud.signal_covariance(le.lam, le.b, eta, steps)
    Q = le.U.T @ P @ le.U / N
    Q = 0.5 * (Q + Q.T)
    noise = Q * G
    if M is not None:
        noise = noise - Q * np.outer(m, m) / M
    return FunctionCloud(cov=S + noise, signal=S, Q=Q, U=le.U, lam=le.lam,
                         dropped_variance=float(np.trace(P) / N - np.trace(Q)))


@dataclass(frozen=True)
class CloudMoments:
    """Covariance of a sampled cloud of runs, with standard errors.

    Attributes
    ----------
    cov : numpy.ndarray, shape (p, p)
        Population-normalised covariance of the first ``p`` coordinates over all
        ``M (T+1)`` points.
    se : numpy.ndarray, shape (p, p)
        Standard error of each entry of ``cov`` (see :func:`cloud_moments`).
    total : float
        Total variance (trace of the covariance) over all ``d`` coordinates.
    total_se : float
        Its standard error.
    n_runs : int
        ``M``.
    """

    cov: np.ndarray
    se: np.ndarray
    total: float
    total_se: float
    n_runs: int


def cloud_moments(runs: Any, block: int | None = None) -> CloudMoments:
    """Sample covariance of a cloud of independent runs and its standard errors.

    The cloud is all ``T + 1`` points of ``M`` runs, equally weighted. Points of one
    run are correlated, runs are independent; so write the covariance as
    ``Ĉ = (1/M) Σ_j A_j − z̄ z̄ᵀ`` with ``A_j = (1/(T+1)) Σ_t z_jt z_jtᵀ``,
    ``m_j = (1/(T+1)) Σ_t z_jt`` and ``z̄ = (1/M) Σ_j m_j``. To first order in the
    fluctuations, ``Ĉ − E Ĉ = (1/M) Σ_j (ψ_j − E ψ_j)`` with
    ``ψ_j = A_j − m_j z̄ᵀ − z̄ m_jᵀ``, a mean of ``M`` i.i.d. terms: the standard error
    of each entry is the sample standard deviation of ``ψ_j`` over runs divided by
    ``sqrt(M)``. (The ``O(1/M)`` bias of ``Ĉ`` is not an error: compare with the
    expectation of a cloud of ``M`` runs, e.g. ``n_inits=M`` in
    :func:`ribbonlib.cloud.covariance`.)

    Parameters
    ----------
    runs : array_like, shape (M, T+1, d)
        Cloud coordinates of ``M >= 2`` runs.
    block : int, optional
        Number ``p`` of leading coordinates whose full covariance is returned
        (default: all ``d``).

    Returns
    -------
    CloudMoments

    Raises
    ------
    ValueError
        For a non-finite array, not 3-D, fewer than two runs, or ``block`` outside
        ``[1, d]``.
    """
    Z = np.asarray(runs, dtype=float)
    if Z.ndim != 3 or Z.shape[0] < 2 or Z.shape[1] == 0 or Z.shape[2] == 0:
        raise ValueError(f"runs must have shape (M >= 2, T+1, d), got {Z.shape}")
    if not np.all(np.isfinite(Z)):
        raise ValueError("runs must be finite; found non-finite entries")
    M, n, d = Z.shape
    p = d if block is None else _validate.integer(block, "block", low=1)
    if p > d:
        raise ValueError(f"block must be in [1, d = {d}], got {p}")
    mj = Z.mean(axis=1)                                  # (M, d)
    mu = mj.mean(axis=0)
    B = Z[:, :, :p]
    A = np.einsum("jtk,jtl->jkl", B, B) / n              # (M, p, p)
    cov = A.mean(axis=0) - np.outer(mu[:p], mu[:p])
    psi = A - mj[:, :p, None] * mu[None, None, :p] - mu[None, :p, None] * mj[:, None, :p]
    se = psi.std(axis=0, ddof=1) / np.sqrt(M)
    a_tot = np.mean(np.sum(Z * Z, axis=2), axis=1)       # (M,)
    total = float(a_tot.mean() - mu @ mu)
    psi_tot = a_tot - 2.0 * (mj @ mu)
    total_se = float(psi_tot.std(ddof=1) / np.sqrt(M))
    return CloudMoments(cov=0.5 * (cov + cov.T), se=0.5 * (se + se.T), total=total, total_se=total_se, n_runs=M)


# ------------------------------------------------------------------------- real data


def standardise(X: Any) -> np.ndarray:
    """Centre and scale each feature, drop constant ones, and divide by ``sqrt(d)``.

    Each column is shifted to mean 0 and divided by its standard deviation (population
    normalisation); columns with zero standard deviation are removed; the result is
    divided by ``sqrt(d')`` with ``d'`` the number of kept columns, so that the mean
    squared norm of the rows is exactly 1.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Raw inputs, ``N >= 2``.

    Returns
    -------
    numpy.ndarray, shape (N, d')

    Raises
    ------
    ValueError
        For non-finite input, fewer than two rows, or all columns constant.
    """
    A = _inputs(X)
    if A.shape[0] < 2:
        raise ValueError(f"X must have at least 2 rows to standardise, got {A.shape[0]}")
    sd = A.std(axis=0)
    keep = sd > 0.0
    if not np.any(keep):
        raise ValueError("X has no feature with non-zero variance")
    Z = (A[:, keep] - A[:, keep].mean(axis=0)) / sd[keep]
    return Z / np.sqrt(keep.sum())


def fit_power_law(lam: Any, k_min: int, k_max: int) -> tuple[float, float]:
    """Least-squares fit of ``log λ_k = log c − α log k`` over ``k_min <= k <= k_max``.

    Parameters
    ----------
    lam : array_like, shape (n,)
        Eigenvalues in decreasing order; those in the fit range must be ``> 0``.
    k_min, k_max : int
        One-based index range, ``1 <= k_min < k_max <= n``.

    Returns
    -------
    alpha : float
        The decay exponent ``α``.
    c : float
        The prefactor ``c``.

    Raises
    ------
    ValueError
        For a bad range or non-positive eigenvalues in it.
    """
    arr = np.asarray(lam, dtype=float)
    if arr.ndim != 1 or arr.size < 2:
        raise ValueError(f"lam must be a 1-D array of at least 2 eigenvalues, got shape {arr.shape}")
    lo = _validate.integer(k_min, "k_min", low=1)
    hi = _validate.integer(k_max, "k_max", low=lo + 1)
    if hi > arr.size:
        raise ValueError(f"k_max must be <= len(lam) = {arr.size}, got {hi}")
    seg = arr[lo - 1:hi]
    if not np.all(np.isfinite(seg)) or np.any(seg <= 0):
        raise ValueError(f"lam must be finite and > 0 for k in [{lo}, {hi}]")
    k = np.arange(lo, hi + 1, dtype=float)
    slope, icpt = np.polyfit(np.log(k), np.log(seg), 1)
    return float(-slope), float(np.exp(icpt))
