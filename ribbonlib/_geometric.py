"""Time averages of geometric sequences, without cancellation.

Gradient descent contracts mode ``k`` by ``r_k = 1 − a_k`` per step, ``a_k = η λ_k``.
The cloud covariance needs, over the ``n = T + 1`` steps ``t = 0..T``,

* ``m_k  = (1/n) Σ_t r_k^t``,
* ``G_kl = (1/n) Σ_t (r_k r_l)^t``,
* ``Cov_kl = G_kl − m_k m_l``, the covariance over ``t`` of ``r_k^t`` and ``r_l^t``.

The textbook closed forms ``(1 − x^n) / (n (1 − x))`` lose all accuracy when ``x`` is
close to 1 (``1 − x`` is formed from a rounded ``x``), and ``G − m mᵀ`` cancels
catastrophically when both modes are slow (``n a ≪ 1``). Here:

* the rate ``a = η λ`` is kept exactly, as the rounded product plus its rounding error
  (:func:`rates`), and ``|r| = e^L`` with ``L`` computed from it without cancellation
  (:func:`log_abs_r`: ``log1p(−a)``, ``log(1 − a)``, ``log(a − 1)`` or ``log1p(a − 2)``,
  whichever keeps ``|r|`` exact), so ``1 − x = −expm1(L_x)`` and
  ``1 − x^n = −expm1(n L_x)`` (or ``1 + |x|^n`` for negative ``x`` and odd ``n``) keep
  full relative accuracy, also for ``r`` close to −1;
* for two slow modes (``r > 0`` and ``n |L| <= 1``) the covariance is summed as a
  double power series ``Σ_ij (n L_k)^i (n L_l)^j / (i! j!) Cov(s^i, s^j)`` over the
  uniform grid ``s = t/n``, whose moments are exact rationals (Faulhaber's formula).

Private module: the public entry points are in :mod:`ribbonlib.cloud` and
:mod:`ribbonlib.dynamics`.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from math import comb, factorial

import mpmath
import numpy as np

#: Modes with ``r > 0`` and ``n |log r| <= SLOW`` are treated by the power series.
SLOW = 1.0
#: Number of terms of the series in each variable: ``SLOW**J / J!`` is below 1e-23.
_J = 24


def rates(eta: float, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The exact products ``η λ_k`` as unevaluated sums ``a + a_lo`` of two floats.

    ``a = fl(η λ_k)`` and ``a_lo`` is its rounding error, exact (Dekker's product, with
    the factors scaled to ``[1/2, 1)`` first so that splitting cannot overflow) unless
    ``a_lo`` falls below the normal range, where it no longer matters. The error of
    ``a`` alone is only ``u·a``, but ``1 − r_k = η λ_k`` close to 2 (``r_k`` close to
    −1) or to 1 (``r_k`` close to 0) leaves ``|r_k|`` with a relative error
    ``u·a/|r_k|`` or ``u·a/(1 − |r_k|)`` unless ``a_lo`` is kept.
    """
    lam = np.asarray(lam, dtype=float)
    me, ee = np.frexp(np.float64(eta))
    ml, el = np.frexp(lam)
    hi = me * ml  # in [1/4, 1): no overflow below
    split = 134217729.0  # 2^27 + 1 (Veltkamp)
    ce, cl = split * me, split * ml
    eh, lh = ce - (ce - me), cl - (cl - ml)
    et, lt = me - eh, ml - lh
    lo = ((eh * lh - hi) + eh * lt + et * lh) + et * lt
    return np.ldexp(hi, ee + el), np.ldexp(lo, ee + el)


def log_abs_r(
    a: np.ndarray, a_lo: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(L, sign)``, ``r = 1 − α = sign · e^L``, for the rate ``0 < α = a + a_lo < 2``.

    ``L = −inf`` at ``α = 1``. With ``a_lo`` (the rounding error of ``a``,
    :func:`rates`) ``L`` is accurate to a few ulp of ``max(|L|, u)`` for the exact
    ``α``, also when ``|r|`` is close to 1 from either side; every difference below is
    exact (Sterbenz) or rounded once.
    """
    a = np.asarray(a, dtype=float)
    lo = (
        np.zeros_like(a)
        if a_lo is None
        else np.broadcast_to(np.asarray(a_lo, dtype=float), a.shape)
    )
    below = (a < 1.0) | ((a == 1.0) & (lo < 0.0))  # α < 1: r > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        small = np.log1p(-np.minimum(a, 0.5)) - lo / (
            1.0 - np.minimum(a, 0.5)
        )  # α < 1/2
        r_pos = (1.0 - a) - lo  # 1/2 <= a <= 1: 1 − a exact
        near_one = np.log(
            np.abs(np.where(below, r_pos, (a - 1.0) + lo))
        )  # |r| up to 1/2
        e = (2.0 - a) - lo  # α > 3/2: 2 − a exact
        near_two = np.log1p(-np.clip(e, 0.0, 1.0))
    L = np.where(below & (a < 0.5), small, np.where(a > 1.5, near_two, near_one))
    sign = np.where(below | ((a == 1.0) & (lo == 0.0)), 1.0, -1.0)
    return L, sign


def powers(L: np.ndarray, sign: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``r^t`` for integers ``t >= 0`` (broadcast); exactly 1 at ``t = 0``."""
    t = np.asarray(t)
    with np.errstate(invalid="ignore"):
        mag = np.exp(t * L)
    par = np.where(t % 2 == 0, 1.0, sign)
    return np.where(t == 0, 1.0, par * mag)


def one_minus_powers(L: np.ndarray, sign: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``1 − r^t`` for integer ``t >= 0``, no cancellation when ``r^t`` is near 1."""
    t = np.asarray(t)
    with np.errstate(invalid="ignore"):
        tl = t * L
        odd_neg = (t % 2 == 1) & (sign < 0)
        out = np.where(odd_neg, 1.0 + np.exp(tl), -np.expm1(tl))
    return np.where(t == 0, 0.0, out)


def geo_mean(L: np.ndarray, sign: np.ndarray, n: int) -> np.ndarray:
    """``(1/n) Σ_{t<n} x^t`` for ``x = sign · e^L`` with ``|x| < 1`` (elementwise)."""
    L = np.asarray(L, dtype=float)
    sign = np.asarray(sign, dtype=float)
    out = np.empty(np.broadcast(L, sign).shape)
    L, sign = np.broadcast_arrays(L, sign)
    zero = np.isneginf(L)
    flat = L == 0.0  # |x| rounds to 1 only if a is below ~1e-308
    pos = (sign > 0) & ~zero & ~flat
    neg = (sign < 0) & ~zero
    out[zero] = 1.0 / n
    out[flat] = 1.0
    Lp = L[pos]
    out[pos] = np.expm1(n * Lp) / (n * np.expm1(Lp))
    Ln = L[neg]
    # 1 − x^n with x < 0: −expm1(n L) for even n (x^n close to 1 when x is close to −1),
    # 1 + |x|^n for odd n (no cancellation)
    one_minus_xn = -np.expm1(n * Ln) if n % 2 == 0 else 1.0 + np.exp(n * Ln)
    out[neg] = one_minus_xn / (n * (1.0 + np.exp(Ln)))
    return out


@lru_cache(maxsize=64)
def _bernoulli(kmax: int) -> tuple[Fraction, ...]:
    """Bernoulli numbers ``B_0..B_kmax`` with ``B_1 = −1/2``."""
    B = [Fraction(1)]
    for m in range(1, kmax + 1):
        B.append(-sum(comb(m + 1, k) * B[k] for k in range(m)) / (m + 1))
    return tuple(B)


@lru_cache(maxsize=64)
def _grid_moments_exact(n: int, kmax: int) -> tuple[Fraction, ...]:
    """``E s^k``, ``k = 0..kmax``, ``s`` uniform on ``{0, 1/n, …, (n−1)/n}`` (exact).

    Faulhaber: ``Σ_{t<n} t^k = (1/(k+1)) Σ_j C(k+1, j) B_j n^(k+1−j)``, ``B_1 = −1/2``.
    """
    B = _bernoulli(kmax)
    nn = Fraction(n)
    return tuple(
        sum(comb(k + 1, j) * B[j] / nn**j for j in range(k + 1)) / (k + 1)
        for k in range(kmax + 1)
    )


@lru_cache(maxsize=64)
def grid_moments(n: int, J: int = _J) -> np.ndarray:
    """``E s^j``, ``j = 1..J``, rounded once to float64."""
    mom = _grid_moments_exact(n, 2 * J)
    return np.array([float(mom[j]) for j in range(1, J + 1)])


@lru_cache(maxsize=64)
def grid_moment_covariance(n: int, J: int = _J) -> np.ndarray:
    """``M_ij = Cov(s^i, s^j)``, ``i, j = 1..J``, each rounded once to float64."""
    mom = _grid_moments_exact(n, 2 * J)
    M = np.empty((J, J))
    for i in range(1, J + 1):
        for j in range(i, J + 1):
            M[i - 1, j - 1] = M[j - 1, i - 1] = float(mom[i + j] - mom[i] * mom[j])
    return M


def _series_basis(z: np.ndarray) -> np.ndarray:
    """``z^j / j!`` for ``j = 1..J`` (rows: entries of ``z``)."""
    j = np.arange(1, _J + 1)
    return (
        z[:, None] ** j[None, :]
        / np.array([factorial(k) for k in j], dtype=float)[None, :]
    )


def _shift_difference(
    L: np.ndarray, sign: np.ndarray, h: np.ndarray, n: int
) -> np.ndarray:
    """``m(x e^h) − m(x)`` for ``x = sign·e^L`` (fast or zero) and small ``h <= 0``.

    ``m(x) = (1/n) Σ_t x^t``. The difference of the two closed forms is rearranged so
    that every term is proportional to ``expm1(h)`` or ``expm1(n h)``: no cancellation.
    Shapes broadcast (``L``, ``sign`` along rows, ``h`` along columns).
    """
    E1, En = np.expm1(h), np.expm1(n * h)
    out = np.zeros(np.broadcast(L, h).shape)
    Lb, sb, E1b, Enb = np.broadcast_arrays(L, sign, E1, En)
    pos = (sb > 0) & np.isfinite(Lb)
    neg = sb < 0
    if np.any(pos):
        L_, E1_, En_ = Lb[pos], E1b[pos], Enb[pos]
        A, B = np.expm1(n * L_), np.expm1(L_)
        out[pos] = ((1 + A) * B * En_ - A * (1 + B) * E1_) / (
            n * B * (B + (1 + B) * E1_)
        )
    if np.any(neg):
        L_, E1_, En_ = Lb[neg], E1b[neg], Enb[neg]
        e, en = np.exp(L_), np.exp(n * L_) * (1.0 if n % 2 == 0 else -1.0)
        out[neg] = (-e * E1_ - en * (En_ * (1 + e) - e * E1_)) / (
            n * (1 + e * (1 + E1_)) * (1 + e)
        )
    return out  # r = 0 (L = −inf): m(0·y) − m(0) = 0


def time_covariance(
    a: np.ndarray, n: int, a_lo: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(G, m, Cov)`` for the rates ``α = a + a_lo = η λ`` over ``n = T + 1`` points.

    ``a_lo`` is the rounding error of ``a`` (:func:`rates`); omitted, ``a`` is taken as
    exact. ``G`` and ``m`` carry a few ulp of relative error (the measured constants are
    documented, and tested, in :func:`ribbonlib.cloud.time_averages`).
    ``Cov = G − m mᵀ`` is formed without catastrophic cancellation in every entry:

    * slow–slow pairs (``r > 0``, ``n |log r| <= 1``): double power series in
      ``n log r`` with the exact moments of the uniform grid;
    * slow–other pairs: ``Cov_kl = [m(r_k r_l) − m(r_k)] − m_k (m_l − 1)``, with the
      bracket rearranged into ``expm1`` terms and ``m_l − 1`` summed as a series;
    * other pairs: the closed forms, where ``Cov`` is not small compared with ``G``.
    """
    L, sign = log_abs_r(a, a_lo)
    m = geo_mean(L, sign, n)
    G = geo_mean(L[:, None] + L[None, :], sign[:, None] * sign[None, :], n)
    cov = G - np.outer(m, m)
    slow = (sign > 0) & (n * np.abs(L) <= SLOW)
    if n > 1 and np.any(slow):
        idx = np.flatnonzero(slow)
        A = _series_basis(n * L[idx])
        cov[np.ix_(idx, idx)] = A @ grid_moment_covariance(n) @ A.T
        other = np.flatnonzero(~slow)
        if other.size:
            U = A @ grid_moments(n)  # m_l − 1 for the slow modes
            D = _shift_difference(
                L[other][:, None], sign[other][:, None], L[idx][None, :], n
            )
            block = D - m[other][:, None] * U[None, :]
            cov[np.ix_(other, idx)] = block
            cov[np.ix_(idx, other)] = block.T
    return G, m, cov


def time_covariance_mp(a: list, n: int) -> tuple[list, list, list]:
    """The same as :func:`time_covariance` in mpmath at the current working precision.

    ``a`` holds mpf numbers. Direct closed forms: the caller adds guard digits for
    the cancellation in ``1 − r_k r_l`` and in ``G − m mᵀ``.
    """
    d = len(a)
    r = [1 - x for x in a]

    def gm(x):
        if x == 1:
            return mpmath.mpf(1)
        return (1 - x**n) / (n * (1 - x))

    m = [gm(x) for x in r]
    G = [[mpmath.mpf(0)] * d for _ in range(d)]
    C = [[mpmath.mpf(0)] * d for _ in range(d)]
    for k in range(d):
        for l in range(k, d):
            g = gm(r[k] * r[l])
            G[k][l] = G[l][k] = g
            C[k][l] = C[l][k] = g - m[k] * m[l]
    return G, m, C


def guard_digits(a: list, n: int) -> int:
    """Extra decimal digits that make the direct mpmath closed forms lose nothing.

    ``1 − r_k r_l`` loses about ``log10(1/min a)`` digits and ``G − m mᵀ`` about
    ``2 log10(1/(n min a))`` when modes are slow; 10 more cover the rest.
    """
    amin = min(min(x, 2 - x) for x in a)
    lost = max(0.0, -float(mpmath.log10(amin)))
    lost += 2 * max(0.0, -float(mpmath.log10(n * amin)))
    return 10 + int(np.ceil(lost))
