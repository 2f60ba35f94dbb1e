"""Exact sampling statistics of finite clouds of gradient-descent trajectories.

A cloud of ``M`` initialisations (:func:`ribbonlib.cloud.sample`) centred on its own
mean has the population-normalised covariance

.. math:: \\hat C = \\frac{1}{M(T+1)} \\sum_{j,t}
          (z(j,t) - \\bar z)(z(j,t) - \\bar z)^\\top .

Writing ``z_k(j,t) = a_k(t) + c_k(t) ξ_jk`` with ``a_k(t) = sqrt(λ_k) b_k (1 − r_k^t)``,
``c_k(t) = sqrt(λ_k) r_k^t`` and ``ξ_jk ~ N(0, σ²)``, ``σ² = s²/d``, the estimator is an
exact sum of a constant, a linear and a quadratic form in the Gaussian draws:

.. math:: \\hat C_{kl} = S_{kl} + A_{kl}\\bar\\xi_l + A_{lk}\\bar\\xi_k
          + g_{kl} Q_{kl} - \\bar c_k \\bar c_l \\bar\\xi_k \\bar\\xi_l,

with ``Q = ΞᵀΞ/M`` (``Ξ`` the ``M × d`` draws), ``ξ̄`` the mean draw, ``g_kl = sqrt(λ_k
λ_l) G_kl``, ``c̄_k = sqrt(λ_k) m_k`` and ``A_kl = −sqrt(λ_k λ_l) b_k (G_kl − m_k
m_l)``. The linear and quadratic parts are uncorrelated (odd Gaussian moments vanish),
and the variance of a Gaussian quadratic form ``xᵀBx`` is ``2σ⁴ tr(B²)``. This gives the
variance of every entry, and of every bilinear form ``uᵀĈv`` and linear functional ``Σ
W_kl Ĉ_kl``, in closed form (:func:`entry_variances`, :func:`form_variances`,
:func:`functional_variance`): the standard errors that Monte-Carlo checks of
:func:`ribbonlib.cloud.covariance` need, with no estimate of their own to account for.
The third and fourth cumulants of a linear functional follow in the same way
(:func:`functional_cumulants`), and with them the exact standard error of a Monte-Carlo
estimate of a variance.

Accuracy (float64, ``u = 2^-53``; enforced against exact rational arithmetic by
``tests/test_montecarlo.py``): write ``Γ̄_kl = sqrt(λ_k λ_l)(G_kl + m_k m_l) >=
|Γ_kl|``, ``Ā_kl = |b_k| Γ̄_kl`` and ``V̄_kl`` for :func:`entry_variances`' formula with
``Γ̄``, ``Ā`` in place of ``Γ``, ``A`` (:func:`variance_scale`; ``V̄ >= Var Ĉ``).
:func:`entry_variances` has a relative error at most ``ENTRY_ULP·u`` where ``r_k`` and
``r_l`` have the same sign (always on the diagonal; ``Γ`` is then accurate
componentwise, :func:`ribbonlib.cloud.time_averages`), and an error at most
``ENTRY_ULP·u·V̄_kl`` otherwise. :func:`form_variances`, :func:`functional_variance` and
:func:`functional_cumulants` (``κ_p``, ``p = 2, 3, 4``) are within ``(FORM_ULP +
4d)·u·(Σ_kl |W_kl| sqrt(V̄_kl))^p`` of the exact values, ``W = u vᵀ`` for a form.

References for the checks of chapter 3: :func:`exact_moments` (the moments of a small
cloud written out as a polynomial in its draws, by Isserlis' theorem,
:func:`gaussian_mean`), :func:`mean_square_statistic` (the Wilson–Hilferty statistic of
a Monte-Carlo variance) and :func:`kato_temple` (certified eigenvalues of a sampled
cloud near Rayleigh quotients).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _validate, cloud

__all__ = [
    "entry_variances",
    "form_variances",
    "functional_variance",
    "functional_cumulants",
    "variance_scale",
    "mean_variances",
    "eigen_standard_errors",
    "replicate_moments",
    "gaussian_mean",
    "exact_moments",
    "mean_square_statistic",
    "KatoTemple",
    "kato_temple",
]


#: Largest number of cloud coordinates :func:`replicate_moments` holds at once.
_CHUNK_ENTRIES = 4_000_000
#: Relative accuracy of :func:`entry_variances`, in units of ``u = 2^-53`` (see the
#: module docstring).
ENTRY_ULP = 1024
#: Accuracy of the forms, functionals and cumulants: ``(FORM_ULP + 4d)·u`` of their
#: absolute-value counterpart (module docstring).
FORM_ULP = 1024


def _inputs(lam: Any, b: Any, s: Any, eta: Any, steps: Any, n_inits: Any):
    lam_f = np.asarray(_validate.eigenvalues(lam), dtype=float)
    d = lam_f.size
    b_a = _validate.vector(b, "b", d)
    s_v = _validate.finite_real(s, "s", low=0.0)
    eta_v = _validate.learning_rate(eta, lam_f)
    T = _validate.integer(steps, "steps", low=0)
    M = _validate.integer(n_inits, "n_inits", low=1)
    return lam_f, b_a, s_v * s_v / d, eta_v, T, M


def _blocks(lam_f, b_a, eta_v, T):
    """``g``, ``Γ = sqrt(λλ)∘(G − m mᵀ)``, ``A`` and ``c̄`` of the module docstring."""
    G, m, cov = cloud.time_averages(lam_f, eta_v, T)
    root = np.sqrt(lam_f)
    scale = np.outer(root, root)
    g = scale * G
    gamma = scale * cov
    A = -b_a[:, None] * gamma
    return g, gamma, A, root * m


def entry_variances(
    lam: Any, b: Any, s: float, eta: float, steps: int, n_inits: int
) -> np.ndarray:
    """Variance of every entry of the covariance of a cloud of ``M`` initialisations.

    Parameters
    ----------
    lam : array_like, shape (d,)
        Eigenvalues ``λ_k > 0``.
    b : array_like, shape (d,)
        Ground truth in the eigenbasis.
    s : float
        Initial weight scale ``>= 0``.
    eta : float
        Learning rate, ``0 < η·max(λ) < 2``.
    steps : int
        ``T >= 0``.
    n_inits : int
        Number of initialisations ``M >= 1``.

    Returns
    -------
    numpy.ndarray, shape (d, d)
        ``Var Ĉ_kl`` over the draws of the initialisations, where ``Ĉ`` is the
        population-normalised covariance of the cloud centred on its own mean (what
        :func:`ribbonlib.cloud.sample_moments` returns; its expectation is
        ``cloud.covariance(..., n_inits=M)``)::

            (1 + δ_kl) [ σ² (A_kl² + A_lk²) / M + σ⁴ ((M − 1) g_kl² + Γ_kl²) / M² ]

        with ``σ² = s²/d``, ``g_kl = sqrt(λ_k λ_l) G_kl``,
        ``Γ_kl = sqrt(λ_k λ_l)(G_kl − m_k m_l)`` and ``A_kl = −b_k Γ_kl``. Every term is
        non-negative, so float64 keeps full relative accuracy.

    Raises
    ------
    ValueError
        For non-positive or non-finite ``lam``, ``b`` of the wrong length, ``s < 0``,
        ``η·max(λ) >= 2``, ``steps < 0`` or ``n_inits < 1``.
    """
    lam_f, b_a, sig2, eta_v, T, M = _inputs(lam, b, s, eta, steps, n_inits)
    g, gamma, A, _ = _blocks(lam_f, b_a, eta_v, T)
    lin = sig2 * (A**2 + A.T**2) / M
    quad = sig2**2 * ((M - 1) * g**2 + gamma**2) / M**2
    out = lin + quad
    idx = np.arange(lam_f.size)
    out[idx, idx] *= 2.0
    return out


def _columns(x: Any, name: str, d: int) -> tuple[np.ndarray, bool]:
    arr = np.asarray(x, dtype=float)
    single = arr.ndim == 1
    if single:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] != d or arr.shape[1] == 0:
        raise ValueError(
            f"{name} must have shape (d,) or (d, p) with d = {d} and p >= 1, "
            f"got {np.shape(x)}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; found non-finite entries")
    return arr, single


def form_variances(
    lam: Any,
    b: Any,
    s: float,
    eta: float,
    steps: int,
    n_inits: int,
    u: Any,
    v: Any = None,
) -> np.ndarray | float:
    """Variance of the bilinear forms ``uᵀĈv`` of the covariance of a finite cloud.

    Parameters
    ----------
    lam, b, s, eta, steps, n_inits
        As in :func:`entry_variances`.
    u : array_like, shape (d,) or (d, p)
        Fixed (non-random) vectors, one per column.
    v : array_like, shape like ``u``, optional
        Second vectors; ``v = u`` when omitted (the quadratic forms ``uᵀĈu``, e.g. the
        first-order fluctuation of an eigenvalue along its eigenvector).

    Returns
    -------
    float or numpy.ndarray, shape (p,)
        ``Var(u_iᵀ Ĉ v_i)`` for each column ``i``::

            σ² |w|² / M + 2σ⁴ [ (M − 1) tr(H²) + tr(H_Γ²) ] / M²

        with ``w = v∘(Aᵀu) + u∘(Aᵀv)``, ``H = sym(diag(u) g diag(v))`` and
        ``H_Γ = sym(diag(u) Γ diag(v))`` (notation of :func:`entry_variances`). With
        ``u = e_k`` and ``v = e_l`` this is ``entry_variances(...)[k, l]``.

    Raises
    ------
    ValueError
        As :func:`entry_variances`, and for ``u`` or ``v`` of the wrong shape or not
        finite.
    """
    lam_f, b_a, sig2, eta_v, T, M = _inputs(lam, b, s, eta, steps, n_inits)
    d = lam_f.size
    U, single = _columns(u, "u", d)
    if v is None:
        V = U
    else:
        V, single_v = _columns(v, "v", d)
        if V.shape != U.shape or single_v != single:
            raise ValueError(
                f"v must have the same shape as u, {np.shape(u)}; got {np.shape(v)}"
            )
    g, gamma, A, _ = _blocks(lam_f, b_a, eta_v, T)
    W = V * (A.T @ U) + U * (A.T @ V)
    lin = sig2 * np.sum(W**2, axis=0) / M

    def tr_sym_sq(K: np.ndarray) -> np.ndarray:
        # tr(H²) for H = sym(diag(u) K diag(v)), K symmetric:
        # [ (u²)ᵀ K∘K (v²) + (u∘v)ᵀ K∘K (u∘v) ] / 2
        K2 = K * K
        uv = U * V
        return (
            np.sum((U**2) * (K2 @ V**2), axis=0) + np.sum(uv * (K2 @ uv), axis=0)
        ) / 2.0

    quad = 2.0 * sig2**2 * ((M - 1) * tr_sym_sq(g) + tr_sym_sq(gamma)) / M**2
    out = lin + quad
    return float(out[0]) if single else out


def functional_variance(
    lam: Any, b: Any, s: float, eta: float, steps: int, n_inits: int, weights: Any
) -> float:
    """Variance of a linear functional ``Σ_kl W_kl Ĉ_kl`` of the covariance of a cloud.

    Parameters
    ----------
    lam, b, s, eta, steps, n_inits
        As in :func:`entry_variances`.
    weights : array_like, shape (d, d)
        The weights ``W``; only their symmetric part matters (``Ĉ`` is symmetric), so
        ``W = I`` gives the variance of the total variance ``tr Ĉ`` of the cloud.

    Returns
    -------
    float
        ``σ² |2 (W∘A)ᵀ 1|² / M + 2σ⁴ [ (M − 1) ‖W∘g‖_F² + ‖W∘Γ‖_F² ] / M²`` with ``W``
        symmetrised and ``∘`` the entrywise product (notation of
        :func:`entry_variances`). With ``W = sym(u vᵀ)`` this is ``form_variances(...,
        u, v)``.

    Raises
    ------
    ValueError
        As :func:`entry_variances`, and for ``weights`` of the wrong shape or not
        finite.
    """
    lam_f, b_a, sig2, eta_v, T, M = _inputs(lam, b, s, eta, steps, n_inits)
    W = _weights(weights, lam_f.size)
    g, gamma, A, _ = _blocks(lam_f, b_a, eta_v, T)
    w = 2.0 * np.sum(W * A, axis=0)
    lin = sig2 * float(w @ w) / M
    quad = (
        2.0
        * sig2**2
        * ((M - 1) * np.sum((W * g) ** 2) + np.sum((W * gamma) ** 2))
        / M**2
    )
    return float(lin + quad)


def functional_cumulants(
    lam: Any, b: Any, s: float, eta: float, steps: int, n_inits: int, weights: Any
) -> tuple[float, float, float]:
    """Second, third and fourth cumulants of ``F = Σ_kl W_kl Ĉ_kl`` for a finite cloud.

    ``F`` is a constant plus ``ℓᵀξ + ξᵀBξ`` in the ``M·d`` Gaussian draws ``ξ`` of
    variance ``σ² = s²/d``, with ``ℓ = (1/M) 1 ⊗ w`` and
    ``B = (1/M)[(I − P) ⊗ H + P ⊗ H_Γ]`` (``P = 11ᵀ/M``, ``H = W∘g``, ``H_Γ = W∘Γ``,
    ``w = 2 (W∘A)ᵀ1``, ``W`` symmetrised; notation of :func:`entry_variances`). The
    cumulants of a Gaussian quadratic form,
    ``κ_p = 2^(p−1)(p−1)! σ^(2p) tr B^p + p! 2^(p−3) σ^(2p−2) ℓᵀB^(p−2)ℓ``, give::

        κ2 = σ²|w|²/M + 2σ⁴[(M − 1) tr H² + tr H_Γ²]/M²        (functional_variance)
        κ3 = 6σ⁴ wᵀH_Γ w/M² + 8σ⁶[(M − 1) tr H³ + tr H_Γ³]/M³
        κ4 = 48σ⁶ |H_Γ w|²/M³ + 48σ⁸[(M − 1) tr H⁴ + tr H_Γ⁴]/M⁴

    The mean of ``R`` independent squared deviations ``(F_r − E F)²`` has expectation
    ``κ2`` and variance ``(κ4 + 2κ2²)/R``: the exact standard error of a Monte-Carlo
    variance.

    Parameters
    ----------
    lam, b, s, eta, steps, n_inits
        As in :func:`entry_variances`.
    weights : array_like, shape (d, d)
        The weights ``W`` (only their symmetric part matters).

    Returns
    -------
    (float, float, float)
        ``κ2`` (the variance), ``κ3`` and ``κ4`` of ``F``.

    Raises
    ------
    ValueError
        As :func:`functional_variance`.
    """
    lam_f, b_a, sig2, eta_v, T, M = _inputs(lam, b, s, eta, steps, n_inits)
    W = _weights(weights, lam_f.size)
    g, gamma, A, _ = _blocks(lam_f, b_a, eta_v, T)
    w = 2.0 * np.sum(W * A, axis=0)
    H, HG = W * g, W * gamma
    H2, HG2 = H @ H, HG @ HG
    k2 = (
        sig2 * float(w @ w) / M
        + 2.0 * sig2**2 * ((M - 1) * np.sum(H * H) + np.sum(HG * HG)) / M**2
    )
    k3 = (
        6.0 * sig2**2 * float(w @ HG @ w) / M**2
        + 8.0 * sig2**3 * ((M - 1) * np.sum(H * H2) + np.sum(HG * HG2)) / M**3
    )
    Hw = HG @ w
    k4 = (
        48.0 * sig2**3 * float(Hw @ Hw) / M**3
        + 48.0 * sig2**4 * ((M - 1) * np.sum(H2 * H2) + np.sum(HG2 * HG2)) / M**4
    )
    return float(k2), float(k3), float(k4)


def variance_scale(
    lam: Any, b: Any, s: float, eta: float, steps: int, n_inits: int
) -> np.ndarray:
    """``V̄``, the scale of the documented float64 accuracy of this module.

    :func:`entry_variances`' formula with ``Γ̄_kl = sqrt(λ_k λ_l)(G_kl + m_k m_l)`` and
    ``Ā_kl = |b_k| Γ̄_kl`` in place of ``Γ`` and ``A`` (module docstring): ``V̄ >= Var
    Ĉ`` entrywise, and the float64 errors of :func:`entry_variances` are at most
    ``ENTRY_ULP·u·V̄``, those of the functionals and cumulants at most ``(FORM_ULP +
    4d)·u·(Σ_kl |W_kl| sqrt(V̄_kl))^p``. Computed in float64 (a scale).

    Parameters
    ----------
    lam, b, s, eta, steps, n_inits
        As in :func:`entry_variances`.

    Returns
    -------
    numpy.ndarray, shape (d, d)
    """
    lam_f, b_a, sig2, eta_v, T, M = _inputs(lam, b, s, eta, steps, n_inits)
    G, m, _ = cloud.time_averages(lam_f, eta_v, T)
    root = np.sqrt(lam_f)
    scale = np.outer(root, root)
    g = scale * G
    gbar = scale * (G + np.outer(m, m))
    Abar = np.abs(b_a)[:, None] * gbar
    out = sig2 * (Abar**2 + Abar.T**2) / M + sig2**2 * ((M - 1) * g**2 + gbar**2) / M**2
    idx = np.arange(lam_f.size)
    out[idx, idx] *= 2.0
    return out


def _weights(weights: Any, d: int) -> np.ndarray:
    W = np.asarray(weights, dtype=float)
    if W.shape != (d, d):
        raise ValueError(f"weights must have shape (d, d) = ({d}, {d}), got {W.shape}")
    if not np.all(np.isfinite(W)):
        raise ValueError("weights must be finite; found non-finite entries")
    return (W + W.T) / 2.0


def mean_variances(
    lam: Any, s: float, eta: float, steps: int, n_inits: int
) -> np.ndarray:
    """Variance of the cloud mean ``z̄_k`` over the draws of ``M`` initialisations.

    Parameters
    ----------
    lam, s, eta, steps, n_inits
        As in :func:`entry_variances`.

    Returns
    -------
    numpy.ndarray, shape (d,)
        ``(s²/d) λ_k m_k² / M`` (the coordinates of ``z̄`` are independent); its mean is
        ``sqrt(λ_k) b_k (1 − m_k)``.

    Raises
    ------
    ValueError
        As :func:`entry_variances`.
    """
    lam_f, _, sig2, eta_v, T, M = _inputs(
        lam, np.zeros(np.size(lam)), s, eta, steps, n_inits
    )
    _, m, _ = cloud.time_averages(lam_f, eta_v, T)
    return sig2 * lam_f * m**2 / M


def eigen_standard_errors(
    lam: Any, b: Any, s: float, eta: float, steps: int, n_inits: int
):
    """Eigenpairs of ``E Ĉ`` and the first-order standard errors of the eigenvalues.

    Parameters
    ----------
    lam, b, s, eta, steps, n_inits
        As in :func:`entry_variances`.

    Returns
    -------
    mu : numpy.ndarray, shape (d,)
        Eigenvalues of ``E Ĉ = cloud.covariance(..., n_inits=M)``, descending.
    vectors : numpy.ndarray, shape (d, d)
        The matching orthonormal eigenvectors (columns).
    se : numpy.ndarray, shape (d,)
        ``sqrt(Var(v_iᵀ Ĉ v_i))``: to first order in ``Ĉ − E Ĉ`` the sampled eigenvalue
        ``μ_i(Ĉ)`` is ``μ_i + v_iᵀ(Ĉ − E Ĉ)v_i``, whose standard deviation this is. When
        ``4‖Ĉ − E Ĉ‖ < gap_i``, the distance of ``μ_i`` to the rest of the spectrum, the
        remainder ``|μ_i(Ĉ) − v_iᵀĈv_i|`` is at most ``‖(Ĉ − E Ĉ)v_i‖² / (gap_i − 2‖Ĉ −
        E Ĉ‖)`` (Kato–Temple; tested on sampled clouds in ``tests/test_cloud.py``).

    Raises
    ------
    ValueError
        As :func:`entry_variances`.
    """
    lam_f, b_a, _, eta_v, T, M = _inputs(lam, b, s, eta, steps, n_inits)
    C = cloud.covariance(lam_f, b_a, s, eta_v, T, n_inits=M)
    mu, vecs = np.linalg.eigh(C)
    mu, vecs = mu[::-1], vecs[:, ::-1]
    se = np.sqrt(form_variances(lam_f, b_a, s, eta_v, T, M, vecs))
    return mu, vecs, se


def replicate_moments(
    lam: Any,
    b: Any,
    s: float,
    eta: float,
    steps: int,
    n_inits: int,
    n_reps: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Means and covariances of independent sampled clouds.

    Replicate ``i`` is the cloud of :func:`ribbonlib.cloud.sample` (iterated gradient
    descent) with the ``i``-th child of ``numpy.random.SeedSequence(seed)`` as its seed,
    so replicates are independent and the whole set is reproducible; the clouds are
    iterated together, a block of replicates at a time (at most about ``4e6``
    coordinates), and each one's mean and covariance are those of
    :func:`ribbonlib.cloud.sample_moments` up to round-off.

    Parameters
    ----------
    lam, b, s, eta, steps, n_inits
        As in :func:`entry_variances`.
    n_reps : int
        Number of independent clouds, ``>= 1``.
    seed : int
        Seed ``>= 0`` of the parent seed sequence.

    Returns
    -------
    means : numpy.ndarray, shape (n_reps, d)
    covs : numpy.ndarray, shape (n_reps, d, d)
        Population-normalised covariances of the clouds, each centred on its own mean.

    Raises
    ------
    ValueError
        As :func:`entry_variances`, and for ``n_reps < 1`` or a negative seed.
    """
    lam_f, b_a, sig2, eta_v, T, M = _inputs(lam, b, s, eta, steps, n_inits)
    R = _validate.integer(n_reps, "n_reps", low=1)
    children = np.random.SeedSequence(_validate.integer(seed, "seed", low=0)).spawn(R)
    d = lam_f.size
    sd = np.sqrt(sig2)
    # the draws of cloud.sample(..., seed=child), replicate by replicate
    xi = (
        np.stack(
            [np.random.default_rng(child).standard_normal((M, d)) for child in children]
        )
        * sd
    )
    n_pts = M * (T + 1)
    per_chunk = max(1, _CHUNK_ENTRIES // (n_pts * d))
    means = np.empty((R, d))
    covs = np.empty((R, d, d))
    for r0 in range(0, R, per_chunk):
        block = xi[r0 : r0 + per_chunk]
        c = block.shape[0]
        Z = cloud._trajectories(lam_f, b_a, eta_v, T, block.reshape(c * M, d)).reshape(
            c, n_pts, d
        )
        mu = Z.mean(axis=1)
        Zc = Z - mu[:, None, :]
        means[r0 : r0 + c] = mu
        covs[r0 : r0 + c] = np.matmul(Zc.transpose(0, 2, 1), Zc) / n_pts
    return means, covs


# ------------------------------------------------------- references for the checks


def gaussian_mean(expr: Any, variables: Any, variance: Any) -> Any:
    """Exact mean of a polynomial in independent centred Gaussian variables (SymPy).

    By Isserlis' theorem the odd moments vanish and ``E x^(2q) = (2q − 1)!! σ^(2q)``;
    the mean of a polynomial is that of its monomials.

    Parameters
    ----------
    expr : sympy.Expr
        A polynomial in ``variables`` (any other symbols are coefficients).
    variables : sequence of sympy.Symbol
        The Gaussian variables, independent, of mean 0 and variance ``variance``.
    variance : sympy.Expr
        Their common variance ``σ²``.

    Returns
    -------
    sympy.Expr
        ``E[expr]``, expanded.
    """
    import sympy as sp

    out = sp.Integer(0)
    for mon, coef in sp.Poly(sp.expand(expr), *variables).terms():
        out += coef * sp.Mul(
            *[0 if p % 2 else sp.factorial2(p - 1) * variance ** (p // 2) for p in mon]
        )
    return sp.expand(out)


def _rational(x: Any, name: str):
    import sympy as sp
    from fractions import Fraction

    if isinstance(x, sp.Basic):
        if not x.is_Rational:
            raise ValueError(f"{name} must hold rational numbers, got {x}")
        return x
    if isinstance(x, Fraction):
        return sp.Rational(x.numerator, x.denominator)
    if isinstance(x, (int, np.integer)):
        return sp.Integer(int(x))
    v = float(x)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {x!r}")
    f = Fraction(v)
    return sp.Rational(f.numerator, f.denominator)


def exact_moments(
    lam: Any,
    b: Any,
    s: Any,
    eta: Any,
    steps: int,
    n_inits: int,
    weights: Any = None,
):
    """Exact moments of the covariance ``Ĉ`` of a cloud small enough to write out.

    The ``M (T+1)`` points ``z_k(j, t) = sqrt(λ_k)(b_k(1 − r_k^t) + r_k^t ξ_jk)`` are
    polynomials in the ``M d`` draws ``ξ_jk ~ N(0, s²/d)``; ``Ĉ`` (centred on the
    cloud's own mean, population normalisation) is a polynomial of degree two, and
    its moments are exact by :func:`gaussian_mean`. No closed form of this module is
    used: a reference for :func:`ribbonlib.cloud.covariance` (``n_inits=M``),
    :func:`entry_variances` and :func:`functional_cumulants`.

    Parameters
    ----------
    lam, b, s, eta
        Rationals: ``fractions.Fraction``, SymPy rationals, integers or floats (taken
        exactly); every ``λ_k`` must be the square of a rational, so that the results
        are rational.
    steps : int
        ``T``, at most 8.
    n_inits : int
        ``M``, with ``M d <= 8`` (the expansion grows fast).
    weights : array_like, shape (d, d), optional
        ``W`` of the functional ``F = Σ_kl W_kl Ĉ_kl`` (the trace by default).

    Returns
    -------
    mean : numpy.ndarray of fractions.Fraction, shape (d, d)
        ``E Ĉ``.
    variance : numpy.ndarray of fractions.Fraction, shape (d, d)
        ``Var Ĉ_kl``.
    cumulants : tuple of fractions.Fraction
        ``κ2, κ3, κ4`` of ``F``.

    Raises
    ------
    ValueError
        For non-rational input, a ``λ_k`` that is not a square, ``η λ_k`` outside
        ``(0, 2)``, or a cloud too large to expand.
    """
    import sympy as sp
    from fractions import Fraction

    lam_q = [_rational(x, "lam") for x in np.ravel(np.asarray(lam, dtype=object))]
    d = len(lam_q)
    b_q = [_rational(x, "b") for x in np.ravel(np.asarray(b, dtype=object))]
    if len(b_q) != d:
        raise ValueError(f"b must have length {d}, got {len(b_q)}")
    s_q, eta_q = _rational(s, "s"), _rational(eta, "eta")
    T = _validate.integer(steps, "steps", low=0)
    M = _validate.integer(n_inits, "n_inits", low=1)
    if T > 8 or M * d > 8:
        raise ValueError(
            f"a cloud of steps = {T} (at most 8) and n_inits*d = {M * d} (at most 8) "
            "is too large to expand"
        )
    roots = [sp.sqrt(x) for x in lam_q]
    if any(x <= 0 or not r.is_Rational for x, r in zip(lam_q, roots)):
        raise ValueError("lam must hold squares of positive rationals")
    if s_q < 0 or not all(0 < eta_q * x < 2 for x in lam_q):
        raise ValueError("need s >= 0 and 0 < eta*lam_k < 2 for every k")
    W = np.eye(d) if weights is None else np.asarray(weights, dtype=object)
    if W.shape != (d, d):
        raise ValueError(f"weights must have shape ({d}, {d}), got {W.shape}")
    W = [[_rational(W[k, l], "weights") for l in range(d)] for k in range(d)]
    xs = sp.symbols(f"xi_0:{M * d}", real=True)
    var = s_q**2 / d
    pts = [
        [
            roots[k]
            * (
                b_q[k] * (1 - (1 - eta_q * lam_q[k]) ** t)
                + (1 - eta_q * lam_q[k]) ** t * xs[j * d + k]
            )
            for k in range(d)
        ]
        for j in range(M)
        for t in range(T + 1)
    ]
    n = len(pts)
    mean_pt = [sum(p[k] for p in pts) / n for k in range(d)]
    C = [
        [
            sp.expand(sum((p[k] - mean_pt[k]) * (p[l] - mean_pt[l]) for p in pts) / n)
            for l in range(d)
        ]
        for k in range(d)
    ]
    E = [[gaussian_mean(C[k][l], xs, var) for l in range(d)] for k in range(d)]
    V = [
        [gaussian_mean((C[k][l] - E[k][l]) ** 2, xs, var) for l in range(d)]
        for k in range(d)
    ]
    F = sp.expand(
        sum(W[k][l] * (C[k][l] - E[k][l]) for k in range(d) for l in range(d))
    )
    mu2, mu3, mu4 = (gaussian_mean(F**p, xs, var) for p in (2, 3, 4))

    def frac(x):
        return Fraction(int(x.p), int(x.q))  # rational: every sqrt(lam_k) is

    mean = np.array([[frac(x) for x in row] for row in E], dtype=object)
    variance = np.array([[frac(x) for x in row] for row in V], dtype=object)
    return mean, variance, (frac(mu2), frac(mu3), frac(mu4 - 3 * mu2**2))


def mean_square_statistic(
    mean_squares: Any, k2: Any, k4: Any, n_reps: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wilson–Hilferty statistic of a mean of squared deviations, with exact moments.

    ``Q = (1/R) Σ_r (F_r − E F)²`` over ``R`` independent replicates has mean ``κ2``
    and variance ``(κ4 + 2κ2²)/R``. A mean of squares is skewed, so the cube root is
    compared instead: ``νQ/κ2`` has the mean and variance of a ``χ²`` variable with
    ``ν = 2Rκ2²/(κ4 + 2κ2²)`` degrees of freedom (``ν = R`` for a Gaussian ``F``,
    ``κ4 = 0``), and by Wilson and Hilferty
    ``(Q/κ2)^(1/3)`` is close to Gaussian with mean ``1 − 2/(9ν)`` and variance
    ``2/(9ν)``.

    Parameters
    ----------
    mean_squares : array_like
        ``Q``, one per functional.
    k2, k4 : array_like
        Exact second and fourth cumulants of each functional
        (:func:`functional_cumulants`).
    n_reps : int
        ``R >= 1``.

    Returns
    -------
    statistic, expected, standard_error : numpy.ndarray
        ``(Q/κ2)^(1/3)``, ``1 − 2/(9ν)`` and ``sqrt(2/(9ν))``.
    """
    Q = np.asarray(mean_squares, dtype=float)
    k2 = np.asarray(k2, dtype=float)
    k4 = np.asarray(k4, dtype=float)
    R = _validate.integer(n_reps, "n_reps", low=1)
    if np.any(k2 <= 0) or np.any(k4 + 2 * k2**2 <= 0) or np.any(Q < 0):
        raise ValueError("need k2 > 0, k4 + 2 k2^2 > 0 and mean_squares >= 0")
    nu = 2 * R * k2**2 / (k4 + 2 * k2**2)
    return np.cbrt(Q / k2), 1 - 2 / (9 * nu), np.sqrt(2 / (9 * nu))


@dataclass(frozen=True)
class KatoTemple:
    """Certified Kato–Temple comparison of eigenvalues with Rayleigh quotients.

    Attributes
    ----------
    index : numpy.ndarray of int
        The (0-based, descending) eigenvalues for which the hypothesis was proved.
    deviation : numpy.ndarray of flint.arb
        Two balls per kept eigenvalue: ``ρ_i − lo_i`` and ``hi_i − ρ_i``, where
        ``[lo_i, hi_i]`` is a certified enclosure of ``μ_i`` and ``ρ_i`` the Rayleigh
        quotient.
    bound : numpy.ndarray of flint.arb
        The matching Kato–Temple bounds ``‖r_i‖²/(β − ρ_i)`` and ``‖r_i‖²/(ρ_i − α)``
        (zero where the neighbour is absent): ``deviation <= bound`` says that the
        enclosure lies inside the Kato–Temple interval.
    remainder : numpy.ndarray of float
        An upper bound on the larger of the two bounds, per kept eigenvalue.
    """

    index: np.ndarray
    deviation: np.ndarray
    bound: np.ndarray
    remainder: np.ndarray


def kato_temple(
    matrix: Any, vectors: Any, *, margin: float = 4.0, bits: int = 256
) -> KatoTemple:
    """Certified Kato–Temple intervals for the eigenvalues of a symmetric matrix.

    For a unit-free vector ``v_i`` let ``ρ_i = v_iᵀAv_i / v_iᵀv_i`` and
    ``r_i = Av_i − ρ_i v_i``. If ``(α, β)`` contains ``ρ_i`` and no eigenvalue of
    ``A`` other than ``μ_i``, and ``‖r_i‖² < (β − ρ_i)(ρ_i − α)`` (with
    ``‖v_i‖ = 1``), then (Kato–Temple)
    ``ρ_i − ‖r_i‖²/(β − ρ_i) <= μ_i <= ρ_i + ‖r_i‖²/(ρ_i − α)``.
    Here ``β`` and ``α`` are certified bounds on the neighbours ``μ_(i−1)`` and
    ``μ_(i+1)`` (:func:`ribbonlib.certify.symmetric_eigenvalues`; ``±∞`` at the ends
    of the spectrum), ``ρ_i`` and ``‖r_i‖`` are evaluated in Arb, and an eigenvalue is
    kept only when the hypothesis is proved with a factor ``margin`` to spare. A ball
    comparison is true only when certain, so every kept index satisfies the theorem's
    hypothesis.

    Parameters
    ----------
    matrix : array_like, shape (d, d)
        A symmetric float64 matrix (its entries are taken exactly).
    vectors : array_like, shape (d, d)
        Approximate eigenvectors (columns) in the order of the descending eigenvalues.
    margin : float, optional
        ``margin·‖r_i‖² < (β − ρ_i)(ρ_i − α)`` is required, ``>= 1``.
    bits : int, optional
        Working precision of the ball arithmetic.

    Returns
    -------
    KatoTemple
    """
    from flint import ctx

    from . import certify

    A = np.asarray(matrix, dtype=float)
    V = np.asarray(vectors, dtype=float)
    d = A.shape[0] if A.ndim == 2 else 0
    if A.shape != (d, d) or d == 0 or not np.array_equal(A, A.T):
        raise ValueError(f"matrix must be square and symmetric, got shape {A.shape}")
    if V.shape != (d, d) or not np.all(np.isfinite(V)):
        raise ValueError(f"vectors must be finite with shape ({d}, {d}), got {V.shape}")
    margin = _validate.finite_real(margin, "margin", low=1.0)
    enc = certify.symmetric_eigenvalues(A)  # descending, rigorous
    to = certify.to_arb
    index, deviation, bound = [], [], []
    with ctx.workprec(_validate.integer(bits, "bits", low=53)):
        A_arb = certify.balls(A)
        for i in range(d):
            x = certify.balls(V[:, i])
            Ax = A_arb @ x
            xx = x @ x
            rho = (x @ Ax) / xx
            res2 = sum((y - rho * xv) ** 2 for y, xv in zip(Ax, x)) / xx
            above = to(enc.lo[i - 1]) - rho if i > 0 else None  # beta - rho
            below = rho - to(enc.hi[i + 1]) if i + 1 < d else None  # rho - alpha
            if any(g is not None and not g > 0 for g in (above, below)):
                continue  # rho not proved inside (alpha, beta)
            if above is not None and below is not None:
                if not margin * res2 < above * below:
                    continue  # too close to its neighbours
            index.append(i)
            deviation += [rho - to(enc.lo[i]), to(enc.hi[i]) - rho]
            bound += [
                res2 / above if above is not None else to(0),
                res2 / below if below is not None else to(0),
            ]
    bound_a = np.array(bound, dtype=object)
    upper = np.array([float(certify.enclose(x).hi) for x in bound_a])
    remainder = upper.reshape(-1, 2).max(axis=1)
    return KatoTemple(
        np.array(index, dtype=int),
        np.array(deviation, dtype=object),
        bound_a,
        remainder,
    )
