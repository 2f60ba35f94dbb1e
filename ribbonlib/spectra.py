"""Eigenvalue spectra of the input correlation matrix ``Σ = XᵀX/N``.

The decay of these eigenvalues is the first control parameter of the hyper-ribbon
(MATH.md §1): a power law ``λ_k = scale·k^(−α)`` or an exponential (geometric) law
``λ_k = scale·q^(k−1)``, or the spectrum of a real data set (:func:`of_data`).
"""

from __future__ import annotations

from typing import Any, Callable

import mpmath
import numpy as np

from . import _validate

__all__ = ["power_law", "exponential", "of_data"]


def power_law(d: int, alpha: float, scale: float = 1.0) -> np.ndarray:
    """Power-law spectrum ``scale·k^(−alpha)``, ``k = 1..d``.

    Parameters
    ----------
    d : int
        Number of eigenvalues, ``>= 1``.
    alpha : float
        Decay exponent, ``>= 0`` (``0`` gives a flat spectrum).
    scale : float, optional
        The largest eigenvalue ``λ_1``, ``> 0``.

    Returns
    -------
    numpy.ndarray, shape (d,)
        Descending eigenvalues ``scale·exp(−alpha·log k)``, each within a relative
        ``u (3 + 3 alpha log k)`` of the exact ``scale·k^(−alpha)`` (``u = 2^-53``: one
        ulp of ``log`` and of ``exp``, the rounding of the product in the exponent and
        of the product with ``scale``), unless it is subnormal (below ``2^-1022``).

    Raises
    ------
    ValueError
        If ``d < 1``, ``alpha`` is negative or not finite, ``scale <= 0``, or the
        smallest eigenvalue underflows to 0 (``alpha·log(d)`` too large).
    """
    n = _validate.integer(d, "d", low=1)
    a = _validate.finite_real(alpha, "alpha", low=0.0)
    c = _validate.finite_real(scale, "scale", low=0.0, low_open=True)
    k = np.arange(1, n + 1, dtype=float)
    lam = _scaled(c, np.exp(-a * np.log(k)),
                  lambda i: mpmath.mpf(c) * mpmath.mpf(int(k[i])) ** -mpmath.mpf(a))
    if lam[-1] <= 0.0:
        raise ValueError(
            f"alpha = {a!r} with d = {n} makes the smallest eigenvalue underflow to 0; "
            "alpha*log(d) must stay below about 745"
        )
    return lam


def exponential(d: int, q: float, scale: float = 1.0) -> np.ndarray:
    """Exponential (geometric) spectrum ``scale·q^(k−1)``, ``k = 1..d``.

    Parameters
    ----------
    d : int
        Number of eigenvalues, ``>= 1``.
    q : float
        Ratio of consecutive eigenvalues, ``0 < q < 1``.
    scale : float, optional
        The largest eigenvalue ``λ_1``, ``> 0``.

    Returns
    -------
    numpy.ndarray, shape (d,)
        Descending eigenvalues, each within a relative ``3u`` of the exact
        ``scale·q^(k−1)`` (``u = 2^-53``: one ulp of the power, the product with
        ``scale``), unless it is subnormal (below ``2^-1022``).

    Raises
    ------
    ValueError
        If ``d < 1``, ``q`` is outside ``(0, 1)``, ``scale <= 0``, or the smallest
        eigenvalue underflows to 0.
    """
    n = _validate.integer(d, "d", low=1)
    ratio = _validate.finite_real(q, "q", low=0.0, high=1.0, low_open=True, high_open=True)
    c = _validate.finite_real(scale, "scale", low=0.0, low_open=True)
    lam = _scaled(c, ratio ** np.arange(n, dtype=float),
                  lambda i: mpmath.mpf(c) * mpmath.mpf(ratio) ** i)
    if lam[-1] <= 0.0:
        raise ValueError(
            f"q = {ratio!r} with d = {n} makes the smallest eigenvalue underflow to 0; "
            "(d-1)*log(1/q) must stay below about 745"
        )
    return lam


def _scaled(c: float, base: np.ndarray, exact: Callable[[int], Any]) -> np.ndarray:
    """``c·base``; when ``c > 1``, the entries whose ``base`` lost precision
    (subnormal) are taken from ``exact(i)`` at 30 digits instead, rounded once (for
    ``c <= 1`` such an eigenvalue is itself subnormal, where no accuracy is stated)."""
    lam = c * base
    lost = np.flatnonzero(base < np.finfo(float).tiny)
    if c > 1.0 and lost.size:
        with mpmath.workdps(30):
            lam[lost] = [float(exact(int(i))) for i in lost]
    return lam


def of_data(X: Any) -> tuple[np.ndarray, np.ndarray]:
    """Eigen-decomposition of the input correlation matrix ``Σ = XᵀX/N`` of a data set.

    Computed from the singular value decomposition of ``X`` (``λ_k = s_k²/N``), which
    resolves small eigenvalues to round-off relative to ``s_k`` rather than to
    ``λ_1``.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Training inputs, one row per sample, finite. Centre or standardise them first
        if that is the model you mean; this function does not.

    Returns
    -------
    lam : numpy.ndarray, shape (d,)
        Eigenvalues in descending order, ``>= 0``; when ``N < d`` the last ``d − N``
        are exactly 0.
    V : numpy.ndarray, shape (d, d)
        Orthonormal eigenvectors, column ``k`` belonging to ``lam[k]``; the sign of each
        column is fixed (its largest-magnitude entry is positive) so results are
        reproducible.

    Raises
    ------
    ValueError
        If ``X`` is not a non-empty 2-D array of finite numbers.
    """
    A = _validate.matrix(X, "X")
    N, d = A.shape
    _, sv, Vt = np.linalg.svd(A, full_matrices=True)
    lam = np.zeros(d)
    lam[: sv.size] = sv**2 / N
    V = Vt.T.copy()
    pivot = np.argmax(np.abs(V), axis=0)
    V *= np.sign(V[pivot, np.arange(d)])[None, :]
    return lam, V
