"""Bhattacharyya distances between models and intensive PCA (InPCA).

A model is identified with the product distribution of its predictions on the ``N``
training inputs. The per-sample Bhattacharyya distance between two such models,

.. math:: d_B(P, Q) = -\\frac{1}{N} \\sum_{i=1}^{N} \\log \\sum_{c} \\sqrt{p_i(c)\\, q_i(c)},

is intensive (it does not grow with ``N``). InPCA embeds a set of models from their
pairwise distances: with ``L`` the centring matrix, ``W = -L D L / 2`` is diagonalised,
the eigenvalues (of either sign) are sorted by decreasing absolute value and the
coordinates are ``V |Λ|^{1/2}``; negative eigenvalues are time-like (Minkowski)
directions, along which squared distances are subtracted.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from ribbonlib import _validate

__all__ = [
    "bhattacharyya",
    "bhattacharyya_error_bound",
    "bhattacharyya_gaussian",
    "inpca",
    "InPCAResult",
    "InPCABounds",
    "inpca_error_bounds",
    "explained_stress",
    "centred_gram",
]

#: Largest allowed deviation of a probability vector's sum from 1.
PROB_SUM_TOL = 1e-6
#: Unit round-off of float64.
UNIT_ROUNDOFF = 2.0**-53


def _gamma(n: float) -> float:
    """``n u / (1 − n u)``: the relative error bound of ``n`` rounded operations."""
    nu = n * UNIT_ROUNDOFF
    return nu / (1.0 - nu)

# Tile edge (models) and number of samples multiplied before one logarithm: a 128 x 128
# tile of float64 stays in cache, and a product of 16 Bhattacharyya coefficients stays
# far from underflow unless some coefficient is below ~1e-18 (then the block falls back
# to one logarithm per sample).
_TILE = 128
_BLOCK = 16
_UNDERFLOW_GUARD = 1e-290
_THREADS = min(2, os.cpu_count() or 1)


def _probabilities(P: Any, name: str) -> np.ndarray:
    arr = np.asarray(P, dtype=float)
    if arr.ndim != 3:
        raise ValueError(f"{name} must have shape (models, samples, classes), got shape {arr.shape}")
    if min(arr.shape) == 0:
        raise ValueError(f"{name} must have at least one model, sample and class, got shape {arr.shape}")
    # min/max reductions allocate nothing; NaN propagates through both.
    lo, hi = float(arr.min()), float(arr.max())
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"{name} must hold finite probabilities in [0, 1]; found non-finite entries")
    if lo < 0:
        raise ValueError(f"{name} must hold probabilities in [0, 1]; smallest entry is {lo!r}")
    sums = arr.sum(axis=-1)
    dev = float(np.max(np.abs(sums - 1.0)))
    if dev > PROB_SUM_TOL:
        raise ValueError(
            f"{name}: the class probabilities of every (model, sample) must sum to 1 "
            f"(within {PROB_SUM_TOL:g}); largest deviation is {dev:.3g}"
        )
    return arr


def _tile_group(Pa: np.ndarray, Qb: np.ndarray, tiles: list[tuple[int, int, int, int]]) -> list[np.ndarray]:
    """Sum of log Bhattacharyya coefficients over samples for a group of tiles."""
    m, n, c = Pa.shape
    mq = Qb.shape[0]
    sym = Qb is Pa
    totals = [np.zeros((a1 - a0, b1 - b0)) for a0, a1, b0, b1 in tiles]
    accs = [np.empty_like(t) for t in totals]
    bufs = [np.empty_like(t) for t in totals]
    ra_buf = np.empty((_BLOCK, m, c))
    rb_buf = np.empty((_BLOCK, c, mq))  # second factor stored transposed: plain GEMMs
    with np.errstate(divide="ignore"):
        for i0 in range(0, n, _BLOCK):
            k = min(_BLOCK, n - i0)
            ra, rb = ra_buf[:k], rb_buf[:k]
            np.sqrt(Pa[:, i0:i0 + k, :].transpose(1, 0, 2), out=ra)
            if sym:
                rb[...] = ra.transpose(0, 2, 1)
            else:
                np.sqrt(Qb[:, i0:i0 + k, :].transpose(1, 2, 0), out=rb)
            for (a0, a1, b0, b1), total, acc, buf in zip(tiles, totals, accs, bufs):
                np.matmul(ra[0, a0:a1], rb[0, :, b0:b1], out=acc)
                for j in range(1, k):
                    np.matmul(ra[j, a0:a1], rb[j, :, b0:b1], out=buf)
                    acc *= buf
                if acc.min() < _UNDERFLOW_GUARD:
                    # Some product may have underflowed: one logarithm per sample instead.
                    for j in range(k):
                        np.matmul(ra[j, a0:a1], rb[j, :, b0:b1], out=buf)
                        np.log(buf, out=buf)
                        total += buf
                else:
                    np.log(acc, out=acc)
                    total += acc
    return totals


def _sum_log_coefficients(Pa: np.ndarray, Qb: np.ndarray | None) -> np.ndarray:
    """``sum_i log sum_c sqrt(Pa[a, i, c] Qb[b, i, c])`` for all pairs ``(a, b)``.

    ``Qb`` is ``None`` for the symmetric case (only tiles on and above the diagonal are
    computed). Samples are taken in blocks of ``_BLOCK``: their square roots go into
    small reused buffers, and for every tile of model pairs the Bhattacharyya
    coefficients of the block are multiplied together before a single logarithm.
    Nothing large is allocated (first-touching fresh memory costs more than the
    arithmetic on a virtual machine), and each tile's accumulators stay in cache. The
    tiles are shared between up to two threads (numpy releases the GIL in matrix
    products and ufuncs); each tile is computed the same way whatever the thread, so
    results are bitwise reproducible.
    """
    sym = Qb is None
    Q = Pa if sym else Qb
    m, mq = Pa.shape[0], Q.shape[0]
    tiles = [
        (a0, min(a0 + _TILE, m), b0, min(b0 + _TILE, mq))
        for a0 in range(0, m, _TILE)
        for b0 in range(a0 if sym else 0, mq, _TILE)
    ]
    workers = max(1, min(_THREADS, len(tiles)))
    if workers == 1:
        groups, results = [tiles], [_tile_group(Pa, Q, tiles)]
    else:
        # Alternate tiles between threads so the work is balanced.
        groups = [tiles[w::workers] for w in range(workers)]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(lambda g: _tile_group(Pa, Q, g), groups))
    out = np.empty((m, mq))
    for group, totals in zip(groups, results):
        for (a0, a1, b0, b1), total in zip(group, totals):
            out[a0:a1, b0:b1] = total
            if sym and b0 != a0:
                out[b0:b1, a0:a1] = total.T
    return out


def bhattacharyya(P: Any, Q: Any | None = None) -> np.ndarray:
    """Per-sample Bhattacharyya distances between categorical product distributions.

    Parameters
    ----------
    P : array_like, shape (m, N, C)
        Class probabilities of ``m`` models on ``N`` samples with ``C`` classes.
    Q : array_like, shape (m', N, C), optional
        A second set of models on the same samples; ``P`` itself when omitted.

    Returns
    -------
    numpy.ndarray, shape (m, m')
        ``D[a, b] = -(1/N) sum_i log sum_c sqrt(P[a, i, c] Q[b, i, c])``; ``inf`` where
        two models give disjoint supports on some sample. Never negative: every
        Bhattacharyya coefficient is at most 1 (Cauchy--Schwarz), so a sum of logarithms
        that round-off pushes above 0 is set to 0, in both the one-set and the two-set
        case (a model and its exact copy are at distance 0). When ``Q`` is omitted the
        result is exactly symmetric with a zero diagonal.

    Raises
    ------
    ValueError
        If an argument is not 3-D, holds negative or non-finite entries, has rows that
        do not sum to 1 (within ``PROB_SUM_TOL``), or ``P`` and ``Q`` disagree in ``N``
        or ``C``.

    Notes
    -----
    The sum of logarithms is evaluated as the logarithm of products of blocks of
    ``_BLOCK`` Bhattacharyya coefficients, tile by tile so that the accumulators stay
    in cache. This does ``_BLOCK`` times fewer logarithms and allocates no large
    temporaries. A block whose product falls below 1e-290 is redone with one logarithm
    per sample, so underflow of the product cannot corrupt the result. The round-off
    error is bounded by :func:`bhattacharyya_error_bound`.
    """
    Pa = _probabilities(P, "P")
    sym = Q is None
    Qa = None if sym else _probabilities(Q, "Q")
    if Qa is not None and Qa.shape[1:] != Pa.shape[1:]:
        raise ValueError(
            f"P and Q must share samples and classes (N, C): got {Pa.shape[1:]} and {Qa.shape[1:]}"
        )
    D = -_sum_log_coefficients(Pa, Qa) / Pa.shape[1]
    if sym:
        D = 0.5 * (D + D.T)
        np.fill_diagonal(D, 0.0)
    # Σ_c sqrt(p q) <= 1 exactly, so D >= 0; only round-off can make it negative.
    np.maximum(D, 0.0, out=D)
    return D


def bhattacharyya_error_bound(D: Any, n_samples: int, n_classes: int) -> np.ndarray:
    """First-order bound on the round-off error of :func:`bhattacharyya`.

    Every coefficient ``Σ_c sqrt(p_c) sqrt(q_c)`` of one sample is computed with a
    relative error of at most ``(C + 2) u`` (two square roots, a product per class and
    ``C − 1`` additions, in any order; ``u = 2^-53``), and a block of ``k <= 16``
    coefficients is multiplied with ``k − 1`` more roundings, less than ``u`` per
    sample; a relative error ``θ`` of a logarithm's argument moves the logarithm by
    ``|θ|`` to first order. The logarithms themselves (one ulp, ``2u``), their sum over
    the samples (at most ``N − 1`` additions of terms of one sign), the division by
    ``N`` and the symmetrisation add relative errors. Altogether, to first order in
    ``u``,

    ``|D̂ − D| <= (C + 3) u + (N + 3) u · D``,

    provided no product ``sqrt(p_c) sqrt(q_c)`` is subnormal (non-zero and below
    ``2^-1022``); exact zeros are fine, and ``inf`` (disjoint supports) has bound
    ``inf``.

    Parameters
    ----------
    D : array_like
        Distances returned by :func:`bhattacharyya`, ``>= 0``.
    n_samples, n_classes : int
        ``N >= 1`` and ``C >= 1`` of the probabilities.

    Returns
    -------
    numpy.ndarray
        The bound, same shape as ``D``.
    """
    Dm = np.asarray(D, dtype=float)
    if np.any(np.isnan(Dm)) or np.any(Dm < 0):
        raise ValueError("D must hold distances >= 0 (as returned by bhattacharyya)")
    N = _validate.integer(n_samples, "n_samples", low=1)
    C = _validate.integer(n_classes, "n_classes", low=1)
    return (C + 3) * UNIT_ROUNDOFF + (N + 3) * UNIT_ROUNDOFF * Dm


def bhattacharyya_gaussian(mu1: Any, mu2: Any, sigma: float) -> np.ndarray | float:
    """Per-sample Bhattacharyya distance between equal-variance Gaussian predictions.

    Two models predicting ``N(mu1_i, sigma^2)`` and ``N(mu2_i, sigma^2)`` on sample ``i``
    are at distance ``(mu1_i - mu2_i)^2 / (8 sigma^2)`` on that sample; this returns
    the average over the last axis.

    Parameters
    ----------
    mu1, mu2 : array_like
        Predicted means, broadcastable; the last axis runs over samples.
    sigma : float
        Common standard deviation, ``> 0``.

    Returns
    -------
    numpy.ndarray or float
        ``mean((mu1 - mu2)**2, axis=-1) / (8 sigma^2)``, with a relative error of at
        most ``(N + 5) u`` to first order (``u = 2^-53``, ``N`` the length of the last
        axis: the difference, its square, ``N − 1`` additions, the division by ``N``,
        ``sigma²`` and the final division), barring overflow and underflow.
    """
    sig = _validate.finite_real(sigma, "sigma", low=0.0, low_open=True)
    a = np.asarray(mu1, dtype=float)
    b = np.asarray(mu2, dtype=float)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("mu1 and mu2 must be finite")
    try:
        diff = a - b
    except ValueError as exc:
        raise ValueError(f"mu1 shape {a.shape} and mu2 shape {b.shape} do not broadcast") from exc
    if diff.ndim == 0:
        raise ValueError("mu1 and mu2 must have a last axis over samples (at least 1-D)")
    out = np.mean(diff**2, axis=-1) / (8.0 * sig**2)
    return float(out) if np.ndim(out) == 0 else out


def _distance_matrix(D: Any, name: str = "D") -> np.ndarray:
    arr = np.asarray(D, dtype=float)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be a square (n, n) distance matrix, got shape {arr.shape}")
    if arr.shape[0] < 2:
        raise ValueError(f"{name} must relate at least 2 points, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (disjoint models have infinite distance and cannot be embedded)")
    scale = max(float(np.max(np.abs(arr))), np.finfo(float).tiny)
    asym = float(np.max(np.abs(arr - arr.T)))
    if asym > 1e-10 * scale:
        raise ValueError(f"{name} must be symmetric; largest |D - D.T| is {asym:.3g} (relative {asym / scale:.3g})")
    diag = float(np.max(np.abs(np.diag(arr))))
    if diag > 1e-10 * scale:
        raise ValueError(f"{name} must have a zero diagonal; largest |D_ii| is {diag:.3g}")
    return 0.5 * (arr + arr.T)


def centred_gram(D: Any) -> np.ndarray:
    """Return ``W = -L D L / 2`` with ``L = I - 11^T/n`` the centring matrix.

    For squared Euclidean distances this is the Gram matrix of the centred points
    (classical multidimensional scaling); for Bhattacharyya distances it is the matrix
    InPCA diagonalises.
    """
    Dm = _distance_matrix(D)
    row = Dm.mean(axis=1)
    W = -0.5 * (Dm - row[:, None] - row[None, :] + Dm.mean())
    return 0.5 * (W + W.T)


def explained_stress(eigenvalues: Any, k: int) -> float:
    """Fraction of the stress explained by the ``k`` leading InPCA directions.

    Parameters
    ----------
    eigenvalues : array_like
        All eigenvalues ``mu_i`` of ``W`` (signed), sorted by decreasing ``|mu_i|``.
    k : int
        Number of leading directions kept, ``0 <= k <= len(eigenvalues)``.

    Returns
    -------
    float
        ``1 - sqrt(1 - sum_{i<=k} mu_i^2 / sum_i mu_i^2)``: one minus the relative
        Frobenius error of the rank-``k`` approximation of ``W``, in ``[0, 1]`` and
        non-decreasing in ``k``; computed as ``1 - sqrt(sum_{i>k} mu_i^2 / sum_i mu_i^2)``
        with an absolute error of at most ``(n + 2) u`` (``n`` eigenvalues,
        ``u = 2^-53``, first order).
    """
    mu = np.asarray(eigenvalues, dtype=float)
    if mu.ndim != 1 or mu.size == 0 or not np.all(np.isfinite(mu)):
        raise ValueError("eigenvalues must be a non-empty, finite 1-D array")
    if np.any(np.diff(np.abs(mu)) > 1e-12 * max(float(np.max(np.abs(mu))), 1e-300)):
        raise ValueError("eigenvalues must be sorted by decreasing absolute value")
    kk = _validate.integer(k, "k", low=0)
    if kk > mu.size:
        raise ValueError(f"k must be in [0, {mu.size}] (the number of eigenvalues), got {kk}")
    sq = mu**2
    total = float(sq.sum())
    if total == 0.0:
        raise ValueError("eigenvalues are all zero: every point coincides, stress is undefined")
    rest = float(sq[kk:].sum()) / total
    return 1.0 - math.sqrt(max(rest, 0.0))


@dataclass(frozen=True)
class InPCAResult:
    """An InPCA embedding of ``n`` base points.

    Attributes
    ----------
    eigenvalues : numpy.ndarray, shape (n,)
        Eigenvalues of ``W = -L D L / 2``, signed, sorted by decreasing absolute value.
    vectors : numpy.ndarray, shape (n, n)
        The matching orthonormal eigenvectors (columns), each with its entry of
        largest modulus positive (so that results are reproducible).
    coords : numpy.ndarray, shape (n, n)
        ``vectors * sqrt(|eigenvalues|)``: column ``i`` is the ``i``-th coordinate;
        ``D[a, b] = sum_i sign(mu_i) (coords[a, i] - coords[b, i])^2``. Columns whose
        ``|mu| <= rank_tol`` are set to zero.
    row_means : numpy.ndarray, shape (n,)
        Row means of the base distance matrix (needed to embed new points).
    grand_mean : float
        Mean of the base distance matrix.
    rank_tol : float
        Eigenvalues with ``|mu| <= rank_tol`` are treated as zero (the centring null
        direction and round-off), in ``coords`` and when embedding new points:
        ``rank_tol = 16 n ε max(max|mu|, tiny)`` with ``ε = 2^-52`` and ``tiny`` the
        smallest normal float64.
    """

    eigenvalues: np.ndarray
    vectors: np.ndarray
    coords: np.ndarray
    row_means: np.ndarray
    grand_mean: float
    rank_tol: float

    @property
    def signature(self) -> np.ndarray:
        """``sign(mu_i)``: +1 for space-like, -1 for time-like (Minkowski) directions."""
        return np.sign(self.eigenvalues)

    def explained_stress(self, k: int) -> float:
        """Explained stress of the ``k`` leading directions (see :func:`explained_stress`)."""
        return explained_stress(self.eigenvalues, k)

    def _new_gram_columns(self, D_new: np.ndarray) -> np.ndarray:
        # Gower: centred inner products of new points with the base points.
        return -0.5 * (D_new - D_new.mean(axis=1, keepdims=True) - self.row_means[None, :] + self.grand_mean)

    def embed(self, D_new: Any) -> np.ndarray:
        """Coordinates of new points in this InPCA basis (out-of-sample embedding).

        Parameters
        ----------
        D_new : array_like, shape (n_new, n)
            Distances of the new points to the ``n`` base points, in the same order.

        Returns
        -------
        numpy.ndarray, shape (n_new, n)
            Coordinates ``y = sign(mu) |mu|^{-1/2} V^T w``, with ``w`` the new point's
            centred inner products with the base points (Gower's formula). In exact
            arithmetic a base point's own row of distances returns its row of
            ``coords``; in float64 the difference is bounded by
            :func:`inpca_error_bounds` (``embedding``). Directions with
            ``|mu| <= rank_tol`` get coordinate 0.
        """
        arr = np.asarray(D_new, dtype=float)
        if arr.ndim == 1:
            arr = arr[None, :]
        n = self.eigenvalues.size
        if arr.ndim != 2 or arr.shape[1] != n:
            raise ValueError(f"D_new must have shape (n_new, {n}) (distances to the {n} base points), got {np.shape(D_new)}")
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ValueError("D_new must hold finite, non-negative distances")
        w = self._new_gram_columns(arr)
        proj = w @ self.vectors
        keep = np.abs(self.eigenvalues) > self.rank_tol
        scale = np.zeros(n)
        scale[keep] = np.sign(self.eigenvalues[keep]) / np.sqrt(np.abs(self.eigenvalues[keep]))
        return proj * scale[None, :]

    def explained_stress_new(self, D_new: Any, D_new_new: Any, k: int) -> float:
        """Explained stress of new points embedded in the ``k`` leading base directions.

        The new points' centred inner products (centred on the base points, as in
        :meth:`embed`) are compared with those of their ``k``-dimensional embedding:
        ``1 - ||W_nn - Y_k J_k Y_k^T||_F / ||W_nn||_F``, with ``J_k`` the signature.
        For the base points themselves this equals :meth:`explained_stress`.

        Parameters
        ----------
        D_new : array_like, shape (n_new, n)
            Distances of the new points to the base points.
        D_new_new : array_like, shape (n_new, n_new)
            Distances among the new points.
        k : int
            Number of leading base directions, ``0 <= k <= n``.
        """
        n = self.eigenvalues.size
        kk = _validate.integer(k, "k", low=0)
        if kk > n:
            raise ValueError(f"k must be in [0, {n}], got {kk}")
        Y = self.embed(D_new)
        Dnn = _distance_matrix(D_new_new, "D_new_new")
        if Dnn.shape[0] != Y.shape[0]:
            raise ValueError(f"D_new_new must be ({Y.shape[0]}, {Y.shape[0]}) to match D_new, got {Dnn.shape}")
        dn = np.asarray(D_new, dtype=float)
        if dn.ndim == 1:
            dn = dn[None, :]
        a = dn.mean(axis=1)
        W = -0.5 * (Dnn - a[:, None] - a[None, :] + self.grand_mean)
        Yk = Y[:, :kk]
        approx = (Yk * self.signature[None, :kk]) @ Yk.T
        norm = float(np.linalg.norm(W))
        if norm == 0.0:
            raise ValueError("the new points all coincide with the base centroid: stress is undefined")
        return 1.0 - float(np.linalg.norm(W - approx)) / norm


@dataclass(frozen=True)
class InPCABounds:
    """A posteriori round-off bounds of an InPCA embedding (:func:`inpca_error_bounds`).

    Attributes
    ----------
    gram : float
        Bound on ``||Ŵ − W||_2``: the computed centred matrix against the exact
        ``W = −L D L / 2`` of the (symmetrised) input.
    residual : float
        Bound on ``||Ŵ V̂ − V̂ diag(μ̂)||_F`` for the computed eigenpairs.
    orthogonality : float
        Bound on ``||V̂ᵀ V̂ − I||_F``.
    eigenvalues : numpy.ndarray, shape (n,)
        ``|μ̂_j − μ_(j)(W)|`` is at most ``eigenvalues[j]``, where ``μ_(j)(W)`` is the
        eigenvalue of the exact ``W`` of the same rank (in descending order) as the
        computed ``μ̂_j``; in the order of ``InPCAResult.eigenvalues``.
    distances : float
        Bound on ``|Σ_k sign(μ̂_k)(c_ak − c_bk)² − D_ab|`` for the returned
        coordinates ``c``, the sum evaluated in float64 in any order.
    embedding : numpy.ndarray, shape (n, n)
        ``|embed(D[a])[k] − coords[a, k]|`` is at most ``embedding[a, k]``, for the
        rows of the symmetrised ``D``.
    """

    gram: float
    residual: float
    orthogonality: float
    eigenvalues: np.ndarray
    distances: float
    embedding: np.ndarray


def inpca_error_bounds(D: Any, result: InPCAResult) -> InPCABounds:
    """Round-off bounds of :func:`inpca`, from the measured residual of its eigenpairs.

    Nothing about the eigensolver is assumed: the bounds follow from quantities
    measured on its output, to first order in ``u = 2^-53``.

    * The centred matrix: each entry of ``Ŵ = centred_gram(D)`` is within
      ``E_ab = ½[γ_5(|D_ab| + |r_a| + |r_b| + |m|) + γ_(n+3)(r̄_a + r̄_b)
      + γ_(n²+3) m̄] + u|Ŵ_ab|`` of the exact ``W`` (``r``, ``m`` the row and grand
      means of ``D``, ``r̄``, ``m̄`` those of ``|D|``, ``γ_k = ku/(1 − ku)``: recursive
      summation in any order); ``gram`` is the Frobenius norm of ``E``.
    * The eigenpairs: with ``R = Ŵ V̂ − V̂ diag(μ̂)`` and ``F = V̂ᵀV̂ − I`` (bounded
      entrywise by their computed moduli plus their evaluation errors,
      ``γ_(n+1)(|Ŵ||V̂| + |V̂||diag(μ̂)|)`` and ``γ_(n+1)|V̂|ᵀ|V̂|``; ``||·||`` is the
      Frobenius norm), ``G = V̂ᵀ Ŵ V̂ = diag(μ̂) + F diag(μ̂) + V̂ᵀ R``, so by
      Weyl's inequality the ``i``-th largest eigenvalue of ``G`` is within
      ``β = sqrt(1 + ω) ||R|| + ω max|μ̂|`` of the ``i``-th largest ``μ̂``
      (``ω = ||F||``), and by Ostrowski's theorem the eigenvalues of ``Ŵ`` are those
      of ``G`` divided by factors in ``[1 − ω, 1 + ω]``:
      ``|μ̂_(i) − μ_i(Ŵ)| <= (β + ω|μ̂_(i)|)/(1 − ω)``; Weyl again adds ``gram``.
    * The distances: ``Σ_k sign(μ_k)(c_ak − c_bk)² = P_aa + P_bb − 2P_ab`` with
      ``P = V̂ Λ' V̂ᵀ`` (``Λ'`` the kept eigenvalues), while
      ``D_ab = W_aa + W_bb − 2W_ab + ½(D_aa + D_bb)``, so the error is at most
      ``4||P − W||_2 + max_a |D_aa|``, with ``||P − W||_2 <= sqrt(1 + ω)||R||
      + ω||Ŵ||_F + (1 + ω) max_dropped|μ̂| + gram`` (the maximum over no dropped
      eigenvalue is 0), plus the rounding of the coordinates and of the sum,
      ``(4n + 24) u max_a Σ_k c_ak²``.
    * The embedding of base row ``a``: ``(Ŵ V̂)_ak = μ̂_k V̂_ak + R_ak``, so embed and
      coords differ by at most
      ``(|R_ak| + 2 sqrt(1 + ω) ||E_a|| + γ_n (|Ŵ||V̂|)_ak)/sqrt|μ̂_k| + 5u |c_ak|``
      (``E_a`` the row ``a`` of ``E``) where ``|μ̂_k| > rank_tol``, and by 0 for the
      dropped directions (both are 0 there).

    Parameters
    ----------
    D : array_like, shape (n, n)
        The distance matrix given to :func:`inpca`.
    result : InPCAResult
        ``inpca(D)``.

    Returns
    -------
    InPCABounds
        The expressions above evaluated in float64 (rounding to nearest); a field of
        subnormal size (below ``2^-1022``) may fall short of its exact value by a few
        units of ``2^-1074``, the terms that underflow.

    Raises
    ------
    ValueError
        If ``D`` is not a valid distance matrix, does not match ``result``, or the
        computed eigenvectors are too far from orthonormal (``ω >= 1/2``).
    """
    if not isinstance(result, InPCAResult):
        raise ValueError("result must be an InPCAResult (from inpca), "
                         f"got {type(result).__name__}")
    Dm = _distance_matrix(D)
    n = Dm.shape[0]
    if result.eigenvalues.shape != (n,):
        raise ValueError(f"result embeds {result.eigenvalues.size} points "
                         f"but D relates {n}")
    u = UNIT_ROUNDOFF
    W = centred_gram(Dm)
    A = np.abs(Dm)
    row, m = Dm.mean(axis=1), float(Dm.mean())
    row_abs, m_abs = A.mean(axis=1), float(A.mean())
    E = 0.5 * (_gamma(5) * (A + np.abs(row)[:, None] + np.abs(row)[None, :] + abs(m))
               + _gamma(n + 3) * (row_abs[:, None] + row_abs[None, :])
               + _gamma(n * n + 3) * m_abs)
    E += u * np.abs(W)
    gram = float(np.linalg.norm(E))
    V, mu = result.vectors, result.eigenvalues
    AV = np.abs(V)
    AW = np.abs(W)
    R = np.abs(W @ V - V * mu[None, :])
    R += _gamma(n + 1) * (AW @ AV + AV * np.abs(mu)[None, :])
    residual = float(np.linalg.norm(R))
    F = np.abs(V.T @ V - np.eye(n)) + _gamma(n + 1) * (AV.T @ AV)
    omega = float(np.linalg.norm(F))
    if not omega < 0.5:
        raise ValueError("the eigenvectors of result are too far from orthonormal "
                         f"(||VᵀV − I|| = {omega:.3g})")
    grow = math.sqrt(1.0 + omega)
    beta = grow * residual + omega * float(np.max(np.abs(mu)))
    eig = gram + (beta + omega * np.abs(mu)) / (1.0 - omega)
    dropped = np.abs(mu) <= result.rank_tol
    drop = float(np.max(np.abs(mu[dropped]))) if np.any(dropped) else 0.0
    p_minus_w = (grow * residual + omega * float(np.linalg.norm(W))
                 + (1.0 + omega) * drop + gram)
    diag = np.abs(np.diag(Dm))
    C2 = float(np.max(np.sum(result.coords**2, axis=1)))
    distances = 4.0 * p_minus_w + float(np.max(diag)) + (4 * n + 24) * u * C2
    keep = ~dropped
    emb = np.zeros((n, n))
    e_row = np.linalg.norm(E, axis=1)
    num = R + 2.0 * grow * e_row[:, None] + _gamma(n) * (AW @ AV)
    root = np.sqrt(np.abs(mu[keep]))[None, :]
    emb[:, keep] = num[:, keep] / root + 5.0 * u * np.abs(result.coords[:, keep])
    return InPCABounds(gram=gram, residual=residual, orthogonality=omega, eigenvalues=eig,
                       distances=distances, embedding=emb)


def inpca(D: Any) -> InPCAResult:
    """Intensive principal component analysis of a distance matrix.

    Parameters
    ----------
    D : array_like, shape (n, n)
        Symmetric matrix of pairwise distances with zero diagonal (e.g. from
        :func:`bhattacharyya`), ``n >= 2``.

    Returns
    -------
    InPCAResult
        Eigenvalues of ``-L D L / 2`` (signed, by decreasing absolute value), the
        coordinates ``V |Λ|^{1/2}``, explained stress, and out-of-sample embedding.

    Raises
    ------
    ValueError
        If ``D`` is not square, not symmetric, has a non-zero diagonal or non-finite
        entries.
    """
    Dm = _distance_matrix(D)
    W = centred_gram(Dm)
    mu, V = np.linalg.eigh(W)
    order = np.argsort(-np.abs(mu), kind="stable")
    mu, V = mu[order], V[:, order]
    # Fix the sign of each eigenvector (largest entry positive) so results are reproducible.
    pivot = np.argmax(np.abs(V), axis=0)
    V = V * np.sign(V[pivot, np.arange(V.shape[1])])[None, :]
    rank_tol = max(float(np.max(np.abs(mu))), np.finfo(float).tiny) * Dm.shape[0] * 16 * np.finfo(float).eps
    # Directions at round-off level (the centring null vector) carry no geometry.
    root = np.where(np.abs(mu) > rank_tol, np.sqrt(np.abs(mu)), 0.0)
    coords = V * root[None, :]
    return InPCAResult(
        eigenvalues=mu,
        vectors=V,
        coords=coords,
        row_means=Dm.mean(axis=1),
        grand_mean=float(Dm.mean()),
        rank_tol=rank_tol,
    )
