"""Displacement structure and Zolotarev bounds on singular values.

A matrix ``X`` has *displacement rank* ``ν`` with respect to normal matrices ``A`` and
``B`` when ``A X − X B`` has rank ``ν``. Beckermann and Townsend proved that then

.. math:: \\sigma_{j + \\nu k}(X) \\le Z_k(E, F)\\, \\sigma_j(X),

where ``E`` and ``F`` are disjoint sets holding the eigenvalues of ``A`` and ``B`` and
``Z_k(E, F) = inf_r sup_E |r| / inf_F |r|`` over rational functions ``r`` of type
``(k, k)`` is a Zolotarev number. For two real intervals ``Z_k`` is known in closed form
through elliptic functions and is at most ``4 exp(−π² k / log(16 γ))``, ``γ`` the
cross-ratio of the four endpoints.

The time averages of gradient descent have this structure (MATH.md §4): with
``r_k = 1 − ηλ_k``,

* ``G_kl = (1/(T+1)) Σ_t (r_k r_l)^t`` has displacement rank ``≤ 2`` with respect to
  ``(diag(r), diag(1/r))``, and ``G_∞ = [1/(1 − r_k r_l)]`` rank 1;
* the centred signal covariance ``S = U (G − m mᵀ) U``, ``U = diag(sqrt(λ) b)``, has
  displacement rank ``≤ 2`` as well: centring replaces the generators ``1`` and ``r^n``
  (``n = T + 1``) by ``1 − m`` and ``r^n − m`` and adds no rank.

The Cayley map ``h = (1 + r)/(1 − r) = (2 − ηλ)/(ηλ)`` sends ``r`` to ``h > 0`` and
``1/r`` to ``−h`` for every stable learning rate (``0 < ηλ < 2``, also when ``r < 0``),
so the same matrices satisfy Lyapunov equations ``H X + X H = M Nᵀ`` with
``H = diag(h)``, and the relevant Zolotarev problem is the symmetric one,
``E = [h_min, h_max]``, ``F = −E`` (:func:`ribbon_intervals`).

This module gives the Zolotarev numbers (closed-form bound, exact value, the optimal
rational function, and a greedy bound for finite point sets), the generators of the
displacement equations, high-precision singular values, and upper bounds on every
signal width ``σ_i(S)`` by several routes (:func:`signal_width_bounds`). Everything
takes ``precision=`` (decimal digits, mpmath) where high precision makes sense; the
default is float64.
"""

from __future__ import annotations

import math
from typing import Any

import mpmath
import numpy as np
from scipy import special

from . import _validate, cloud

__all__ = [
    "cross_ratio",
    "symmetric_modulus",
    "zolotarev_bound",
    "zolotarev_number",
    "zolotarev_rational",
    "zolotarev_discrete",
    "displacement_singular_value_bounds",
    "cayley_nodes",
    "ribbon_intervals",
    "contraction_intervals",
    "displacement_generators",
    "displacement_rank",
    "singular_values_mp",
    "cauchy_matrix",
    "chebyshev_tails",
    "SIGNAL_ROUTES",
    "signal_width_bounds",
    "cloud_spectrum_bounds",
]

#: Routes of :func:`signal_width_bounds`, in the order the book introduces them.
SIGNAL_ROUTES = (
    "zolotarev_closed",
    "zolotarev",
    "uncentred",
    "infinite",
    "discrete",
    "chebyshev",
    "split",
    "best",
)

_GUARD = 15  # guard digits of the internal mpmath computations


# ----------------------------------------------------------------------------- inputs


def _precision(precision: Any) -> int | None:
    if precision is None:
        return None
    return _validate.integer(precision, "precision", low=16)


def _real(x: Any, name: str, prec: int | None):
    """A finite real number as float (``prec is None``) or as mpf at ``prec`` digits."""
    if isinstance(x, mpmath.mpf):
        if not mpmath.isfinite(x):
            raise ValueError(f"{name} must be finite, got {x!r}")
        return x if prec is not None else float(x)
    val = _validate.finite_real(x, name)
    if prec is None:
        return val
    if isinstance(x, str):
        return mpmath.mpf(x)
    return mpmath.mpf(val)


def _interval(E: Any, name: str, prec: int | None):
    try:
        items = list(E)
    except TypeError:
        raise ValueError(f"{name} must be a pair (lo, hi) of finite reals with lo <= hi, got {E!r}") from None
    if len(items) != 2:
        raise ValueError(f"{name} must be a pair (lo, hi) of finite reals with lo <= hi, got {len(items)} entries")
    lo = _real(items[0], f"{name}[0]", prec)
    hi = _real(items[1], f"{name}[1]", prec)
    if lo > hi:
        raise ValueError(f"{name} = ({lo}, {hi}) is empty: need lo <= hi")
    return lo, hi


def _intervals(E: Any, F: Any, prec: int | None):
    a, b = _interval(E, "E", prec)
    c, d = _interval(F, "F", prec)
    if not (b < c or d < a):
        raise ValueError(
            f"E = [{a}, {b}] and F = [{c}, {d}] overlap or touch: the intervals must be disjoint"
        )
    return a, b, c, d


def _k_values(k: Any) -> tuple[np.ndarray, bool]:
    """``k`` as a 1-D int array (and whether the input was a scalar)."""
    arr = np.asarray(k)
    scalar = arr.ndim == 0
    flat = arr.reshape(-1)
    if flat.size == 0:
        raise ValueError("k must be an integer >= 0 or a non-empty array of them")
    out = np.array([_validate.integer(v.item() if hasattr(v, "item") else v, "k", low=0) for v in flat])
    return out, scalar


def _wrap(values: list, scalar: bool, prec: int | None):
    if prec is None:
        arr = np.array([float(v) for v in values])
        return float(arr[0]) if scalar else arr
    with mpmath.workdps(prec):
        vals = [+v for v in values]
    return vals[0] if scalar else np.array(vals, dtype=object)


# ------------------------------------------------------------------ Zolotarev numbers


def _gamma_parts(a, b, c, d):
    """``(γ, 1/γ, 1 − 1/γ, γ − 1)``, each formed without cancellation."""
    num = (c - a) * (d - b)
    den = (c - b) * (d - a)
    spread = (b - a) * (d - c)
    return num / den, den / num, spread / num, spread / den


def cross_ratio(E: Any, F: Any, *, precision: int | None = None):
    """Cross-ratio ``γ = (c − a)(d − b) / ((c − b)(d − a))`` of ``E = [a, b]``, ``F = [c, d]``.

    Parameters
    ----------
    E, F : pair of real numbers
        Two disjoint closed intervals ``(lo, hi)`` with ``lo <= hi``, in either order
        on the real line.
    precision : int, optional
        Decimal digits (``>= 16``); returns an ``mpmath.mpf``. float64 when omitted.

    Returns
    -------
    float or mpmath.mpf
        ``γ >= 1``; ``γ = 1`` exactly when one interval is a single point. It is
        invariant under Möbius maps that keep both intervals finite, and
        ``Z_k(E, F)`` depends on ``E`` and ``F`` only through it.

    Raises
    ------
    ValueError
        For a non-finite endpoint, an empty interval (``lo > hi``) or intervals that
        overlap or touch.
    """
    prec = _precision(precision)
    if prec is None:
        a, b, c, d = _intervals(E, F, None)
        return float(_gamma_parts(a, b, c, d)[0])
    with mpmath.workdps(prec + _GUARD):
        a, b, c, d = _intervals(E, F, prec)
        g = _gamma_parts(a, b, c, d)[0]
    with mpmath.workdps(prec):
        return +g


def symmetric_modulus(E: Any, F: Any, *, precision: int | None = None):
    """The ``κ ∈ (0, 1]`` for which ``(E, F)`` is Möbius-equivalent to ``([κ, 1], [−1, −κ])``.

    ``κ = 1 / (sqrt(γ) + sqrt(γ − 1))²``, so that ``γ = (1 + κ)² / (4κ)``.

    Parameters
    ----------
    E, F : pair of real numbers
        Two disjoint closed intervals.
    precision : int, optional
        Decimal digits; float64 when omitted.

    Returns
    -------
    float or mpmath.mpf
    """
    prec = _precision(precision)
    if prec is None:
        a, b, c, d = _intervals(E, F, None)
        g, _, _, gm1 = _gamma_parts(a, b, c, d)
        return float(1.0 / (math.sqrt(g) + math.sqrt(gm1)) ** 2)
    with mpmath.workdps(prec + _GUARD):
        a, b, c, d = _intervals(E, F, prec)
        g, _, _, gm1 = _gamma_parts(a, b, c, d)
        kap = 1 / (mpmath.sqrt(g) + mpmath.sqrt(gm1)) ** 2
    with mpmath.workdps(prec):
        return +kap


def zolotarev_bound(E: Any, F: Any, k: Any, *, precision: int | None = None):
    """Closed-form upper bound ``4 exp(−π² k / log(16 γ))`` on ``Z_k(E, F)``.

    Beckermann and Townsend (SIAM J. Matrix Anal. Appl. 38, 2017, Cor. 3.2) for two real
    intervals with cross-ratio ``γ`` (:func:`cross_ratio`). The value is *not* capped:
    for small ``k`` it can exceed ``Z_k <= 1``.

    Parameters
    ----------
    E, F : pair of real numbers
        Two disjoint closed intervals.
    k : int or array_like of int
        Rational degrees ``k >= 0``.
    precision : int, optional
        Decimal digits; float64 when omitted.

    Returns
    -------
    float, mpmath.mpf or ndarray
        One value per ``k`` (an array when ``k`` is an array).

    Raises
    ------
    ValueError
        For invalid intervals (see :func:`cross_ratio`) or a negative or non-integral ``k``.
    """
    prec = _precision(precision)
    ks, scalar = _k_values(k)
    if prec is None:
        g = cross_ratio(E, F)
        rate = math.pi**2 / math.log(16.0 * g)
        return _wrap([4.0 * math.exp(-rate * int(kk)) for kk in ks], scalar, None)
    with mpmath.workdps(prec + _GUARD):
        g = cross_ratio(E, F, precision=prec + _GUARD)
        rate = mpmath.pi**2 / mpmath.log(16 * g)
        vals = [4 * mpmath.exp(-rate * int(kk)) for kk in ks]
    return _wrap(vals, scalar, prec)


def _modulus_from_log_nome(logq, prec: int | None):
    """Elliptic modulus ``(θ₂(q)/θ₃(q))²`` of the nome ``q = e^{logq}``, ``logq < 0``.

    Product form ``4 q^{1/2} Π_j ((1 + q^{2j}) / (1 + q^{2j−1}))⁴``; for ``q`` close to 1
    (``logq > −π``) through Jacobi's imaginary transformation, ``k = sqrt(1 − k'²)`` with
    ``k'`` the modulus of the nome ``exp(π² / logq)``.
    """
    if prec is None:
        if logq == -math.inf:
            return 0.0
        if logq > -math.pi:
            kp = _modulus_from_log_nome(math.pi**2 / logq, None)
            return math.sqrt((1.0 - kp) * (1.0 + kp))
        q = math.exp(logq)
        s = math.log(4.0) + 0.5 * logq
        j = 1
        while True:
            t_odd = q ** (2 * j - 1)
            if t_odd < 1e-18:
                break
            s += 4.0 * (math.log1p(q ** (2 * j)) - math.log1p(t_odd))
            j += 1
        return math.exp(s)
    if logq == -mpmath.inf:
        return mpmath.mpf(0)
    if logq > -mpmath.pi:
        kp = _modulus_from_log_nome(mpmath.pi**2 / logq, prec)
        return mpmath.sqrt((1 - kp) * (1 + kp))
    q = mpmath.exp(logq)
    tiny = mpmath.mpf(10) ** (-(prec + 5))
    prod = mpmath.mpf(1)
    j = 1
    while True:
        t_odd = q ** (2 * j - 1)
        if t_odd < tiny:
            break
        prod *= ((1 + q ** (2 * j)) / (1 + t_odd)) ** 4
        j += 1
    return 4 * mpmath.exp(logq / 2) * prod


def _log_nome_unit(a, b, c, d, prec: int | None):
    """``log q₁ = −2π K(1/γ) / K(1 − 1/γ)`` (parameters, not moduli); ``−inf`` if ``γ = 1``."""
    _, m, mc, _ = _gamma_parts(a, b, c, d)
    if mc == 0:
        return -math.inf if prec is None else -mpmath.inf
    if prec is None:
        # K(m) = ellipkm1(1 − m) = ellipkm1(mc), K(mc) = ellipkm1(m): both accurate near 1
        return -2.0 * math.pi * float(special.ellipkm1(mc)) / float(special.ellipkm1(m))
    return -2 * mpmath.pi * mpmath.ellipk(m) / mpmath.ellipk(mc)


def _zolotarev_from_unit(logq1, ks, prec: int | None) -> list:
    out = []
    for kk in ks:
        kk = int(kk)
        if kk == 0:
            out.append(1.0 if prec is None else mpmath.mpf(1))
        else:
            out.append(_modulus_from_log_nome(logq1 * kk, prec))
    return out


def zolotarev_number(E: Any, F: Any, k: Any, *, precision: int | None = None):
    """The Zolotarev number ``Z_k(E, F)`` of two real intervals, exactly.

    With ``γ`` the cross-ratio and the nome ``q = exp(−2πk K(1/γ) / K(1 − 1/γ))``
    (``K`` the complete elliptic integral of the first kind, parameter convention),

    .. math:: Z_k(E, F) = \\Big(\\frac{\\theta_2(q)}{\\theta_3(q)}\\Big)^2
              = 4 q^{1/2} \\prod_{j \\ge 1} \\Big(\\frac{1 + q^{2j}}{1 + q^{2j-1}}\\Big)^4,

    i.e. the elliptic modulus whose nome is ``q`` (Zolotarev 1877; Akhiezer; see
    Beckermann and Townsend 2017, §3). :func:`zolotarev_rational` gives the rational
    function that attains it, an independent way to evaluate the same number.

    Parameters
    ----------
    E, F : pair of real numbers
        Two disjoint closed intervals.
    k : int or array_like of int
        Degrees ``k >= 0``; ``Z_0 = 1``.
    precision : int, optional
        Decimal digits; float64 when omitted (values below ~1e-308 underflow to 0).

    Returns
    -------
    float, mpmath.mpf or ndarray

    Raises
    ------
    ValueError
        For invalid intervals or a negative or non-integral ``k``.
    """
    prec = _precision(precision)
    ks, scalar = _k_values(k)
    if prec is None:
        a, b, c, d = _intervals(E, F, None)
        return _wrap(_zolotarev_from_unit(_log_nome_unit(a, b, c, d, None), ks, None), scalar, None)
    with mpmath.workdps(prec + _GUARD):
        a, b, c, d = _intervals(E, F, prec)
        vals = _zolotarev_from_unit(_log_nome_unit(a, b, c, d, prec + _GUARD), ks, prec + _GUARD)
    return _wrap(vals, scalar, prec)


def zolotarev_rational(kappa: Any, k: int, *, precision: int | None = None):
    """Zeros and extremal points of the optimal rational function for ``[κ, 1]`` and ``[−1, −κ]``.

    The function ``r(x) = Π_j (x − p_j) / (x + p_j)`` with
    ``p_j = dn((2j − 1) K' / (2k) | 1 − κ²)``, ``K' = K(1 − κ²)``, satisfies
    ``r(−x) = 1/r(x)`` and equioscillates on ``[κ, 1]`` at the ``k + 1`` points
    ``x_i = dn(i K' / k | 1 − κ²)``, ``i = 0..k``; hence
    ``sup_{[κ,1]} |r| / inf_{[−1,−κ]} |r| = max_i |r(x_i)|²`` equals ``Z_k`` (Zolotarev;
    the same points are Wachspress's optimal ADI shifts).

    Parameters
    ----------
    kappa : float
        ``0 < κ < 1`` (see :func:`symmetric_modulus`).
    k : int
        Degree ``k >= 1``.
    precision : int, optional
        Decimal digits; float64 when omitted.

    Returns
    -------
    zeros : ndarray, shape (k,)
        ``p_1 > ... > p_k`` in ``(κ, 1)``.
    extremal : ndarray, shape (k + 1,)
        ``x_0 = 1 > x_1 > ... > x_k = κ``.
    """
    prec = _precision(precision)
    kap = _validate.finite_real(kappa, "kappa", low=0.0, high=1.0, low_open=True, high_open=True)
    kk = _validate.integer(k, "k", low=1)
    work = (prec or 16) + _GUARD
    with mpmath.workdps(work):
        kap_mp = kappa if isinstance(kappa, mpmath.mpf) else mpmath.mpf(kap)
        m = (1 - kap_mp) * (1 + kap_mp)
        Kp = mpmath.ellipk(m)
        zeros = [mpmath.ellipfun("dn", (2 * j - 1) * Kp / (2 * kk), m=m) for j in range(1, kk + 1)]
        ext = [mpmath.ellipfun("dn", i * Kp / kk, m=m) for i in range(kk + 1)]
    if prec is None:
        return np.array([float(z) for z in zeros]), np.array([float(x) for x in ext])
    with mpmath.workdps(prec):
        return np.array([+z for z in zeros], dtype=object), np.array([+x for x in ext], dtype=object)


def _points(x: Any, name: str, prec: int | None) -> list:
    arr = np.asarray(x, dtype=object).reshape(-1)
    if arr.size == 0:
        raise ValueError(f"{name} must hold at least one point")
    out = []
    for i, v in enumerate(arr):
        out.append(_real(v, f"{name}[{i}]", prec))
    return out


def zolotarev_discrete(E_points: Any, F_points: Any, kmax: int, *, precision: int | None = None):
    """Upper bounds on the Zolotarev numbers ``Z_k`` of two finite point sets, ``k = 0..kmax``.

    The Beckermann--Townsend argument only uses the eigenvalues of ``A`` and ``B``: with
    ``E`` and ``F`` the finite sets of eigenvalues, any rational function of type
    ``(k, k)`` with no pole on ``E`` and no zero on ``F`` gives
    ``Z_k(E, F) <= max_E |r| · max_F |1/r|``. Here ``r`` is built greedily: step ``k``
    puts a zero at the point of ``E`` where ``|r|`` is largest and a pole at the point of
    ``F`` where ``|1/r|`` is largest. Once every point of ``E`` is a zero the bound is 0.

    Parameters
    ----------
    E_points, F_points : array_like
        Finite real points; the two sets must be disjoint.
    kmax : int
        Largest degree, ``>= 0``.
    precision : int, optional
        Decimal digits; float64 when omitted.

    Returns
    -------
    ndarray, shape (kmax + 1,)
        Non-increasing upper bounds on ``Z_0 = 1, Z_1, ..., Z_kmax``.
    """
    prec = _precision(precision)
    K = _validate.integer(kmax, "kmax", low=0)
    work = None if prec is None else prec + _GUARD
    ctx = mpmath.workdps(work) if work else _NullCtx()
    with ctx:
        Ep = _points(E_points, "E_points", work)
        Fp = _points(F_points, "F_points", work)
        if set(map(float, Ep)) & set(map(float, Fp)) or any(x == y for x in Ep for y in Fp):
            raise ValueError("E_points and F_points must be disjoint sets")
        one = 1.0 if prec is None else mpmath.mpf(1)
        zero = 0.0 if prec is None else mpmath.mpf(0)
        rE = [one] * len(Ep)  # |r| on E
        rF = [one] * len(Fp)  # |1/r| on F
        out = [one]
        best = one
        for _ in range(K):
            iE = max(range(len(Ep)), key=lambda i: rE[i])
            iF = max(range(len(Fp)), key=lambda i: rF[i])
            if rE[iE] == 0 or rF[iF] == 0:
                out.append(zero)
                continue
            z, p = Ep[iE], Fp[iF]
            rE = [v * abs(x - z) / abs(x - p) for v, x in zip(rE, Ep)]
            rF = [v * abs(y - p) / abs(y - z) for v, y in zip(rF, Fp)]
            val = max(rE) * max(rF)
            best = min(best, val)
            out.append(best)
    if prec is None:
        return np.array([float(v) for v in out])
    with mpmath.workdps(prec):
        return np.array([+v for v in out], dtype=object)


class _NullCtx:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def displacement_singular_value_bounds(Z: Any, nu: int, n: int, scale: Any = 1.0) -> np.ndarray:
    """Beckermann--Townsend bounds ``σ_i(X) <= scale · min(1, Z_{⌊(i−1)/ν⌋})``, ``i = 1..n``.

    From ``σ_{1+νk}(X) <= Z_k σ_1(X)`` and ``σ_i`` non-increasing; valid when ``X`` has
    displacement rank ``<= ν``, ``Z[k]`` bounds ``Z_k(E, F)`` and ``scale >= σ_1(X)``
    (for instance the Frobenius norm). Degrees beyond ``len(Z) − 1`` reuse the last
    entry (``Z_k`` is non-increasing in ``k``).

    Parameters
    ----------
    Z : array_like
        Upper bounds on ``Z_0, Z_1, ...`` (float or mpmath numbers), ``Z[0]`` for ``k = 0``.
    nu : int
        Displacement rank ``ν >= 1``.
    n : int
        Number of singular values, ``>= 1``.
    scale : float or mpmath.mpf
        An upper bound on ``σ_1(X)``, ``>= 0``.

    Returns
    -------
    ndarray, shape (n,)
    """
    Zs = list(np.asarray(Z, dtype=object).reshape(-1))
    if not Zs:
        raise ValueError("Z must hold at least Z_0")
    for i, z in enumerate(Zs):
        if not (z >= 0):
            raise ValueError(f"Z[{i}] must be >= 0, got {z!r}")
    v = _validate.integer(nu, "nu", low=1)
    N = _validate.integer(n, "n", low=1)
    if not (scale >= 0):
        raise ValueError(f"scale must be >= 0 (an upper bound on sigma_1), got {scale!r}")
    out = []
    for i in range(N):
        k = min(i // v, len(Zs) - 1)
        z = Zs[k]
        out.append(scale * (z if z < 1 else 1))
    if all(isinstance(x, (float, int, np.floating)) for x in out):
        return np.array(out, dtype=float)
    return np.array(out, dtype=object)


# --------------------------------------------------------------- the cloud's structure


def _cloud_inputs(lam: Any, eta: Any, prec: int | None):
    lam_v = _validate.eigenvalues(lam)
    lam_f = np.asarray(lam_v, dtype=float)
    eta_v = _validate.learning_rate(eta, lam_f)
    if prec is None:
        return lam_f, eta_v
    lam_mp = [mpmath.mpf(x) if isinstance(x, (mpmath.mpf, str)) else mpmath.mpf(float(x)) for x in np.asarray(lam_v, dtype=object)]
    eta_mp = eta if isinstance(eta, mpmath.mpf) else mpmath.mpf(float(eta))
    return lam_mp, eta_mp


def cayley_nodes(lam: Any, eta: float, *, precision: int | None = None) -> np.ndarray:
    """``h_k = (1 + r_k)/(1 − r_k) = (2 − ηλ_k)/(ηλ_k) > 0`` for the stable range ``0 < ηλ_k < 2``.

    The Cayley map sends ``r`` to ``h`` and ``1/r`` to ``−h``; ``h`` is decreasing in
    ``ηλ`` and ``h_k < 1`` exactly when ``r_k < 0`` (``ηλ_k > 1``).

    Parameters
    ----------
    lam : array_like, shape (d,)
        Eigenvalues ``λ_k > 0``.
    eta : float
        Learning rate, ``0 < η·max(λ) < 2``.
    precision : int, optional
        Decimal digits; float64 when omitted.

    Returns
    -------
    ndarray, shape (d,)
    """
    prec = _precision(precision)
    if prec is None:
        lam_f, eta_v = _cloud_inputs(lam, eta, None)
        a = eta_v * lam_f
        return (2.0 - a) / a
    with mpmath.workdps(prec + _GUARD):
        lam_mp, eta_mp = _cloud_inputs(lam, eta, prec)
        h = [(2 - eta_mp * x) / (eta_mp * x) for x in lam_mp]
    with mpmath.workdps(prec):
        return np.array([+x for x in h], dtype=object)


def ribbon_intervals(lam: Any, eta: float, *, precision: int | None = None):
    """The Zolotarev intervals of the cloud: ``E = [h_min, h_max]`` and ``F = −E``.

    The spectra of ``diag(h)`` and ``−diag(h)`` (:func:`cayley_nodes`), Möbius images of
    ``[r_min, r_max]`` and ``1/[r_min, r_max]``. Valid for every stable learning rate,
    also when some ``r_k = 1 − ηλ_k`` are negative or zero.

    Returns
    -------
    E, F : tuple of two numbers each
    """
    h = cayley_nodes(lam, eta, precision=precision)
    lo, hi = min(h), max(h)
    if precision is None:
        return (lo, hi), (-hi, -lo)
    with mpmath.workdps(int(precision)):  # negation rounds to the context's precision
        return (lo, hi), (-hi, -lo)


def contraction_intervals(lam: Any, eta: float, *, precision: int | None = None):
    """``E = [r_min, r_max]`` and ``F = [1/r_max, 1/r_min]`` when every ``r_k = 1 − ηλ_k > 0``.

    Raises
    ------
    ValueError
        If some ``ηλ_k >= 1``: then ``F = 1/E`` passes through infinity and is not a
        finite interval; use :func:`ribbon_intervals` (same cross-ratio, Cayley frame).
    """
    prec = _precision(precision)
    lam_f = np.asarray(_validate.eigenvalues(lam), dtype=float)
    eta_v = _validate.learning_rate(eta, lam_f)
    if eta_v * lam_f.max() >= 1.0:
        raise ValueError(
            "contraction_intervals needs every r_k = 1 - eta*lam_k > 0 (eta*max(lam) < 1); "
            f"got eta*max(lam) = {eta_v * lam_f.max():.6g}. Use ribbon_intervals (Cayley frame)"
        )
    if prec is None:
        r = 1.0 - eta_v * lam_f
        return (r.min(), r.max()), (1.0 / r.max(), 1.0 / r.min())
    with mpmath.workdps(prec + _GUARD):
        lam_mp, eta_mp = _cloud_inputs(lam, eta, prec)
        r = [1 - eta_mp * x for x in lam_mp]
        lo, hi = min(r), max(r)
        out = (lo, hi), (1 / hi, 1 / lo)
    with mpmath.workdps(prec):
        return (+out[0][0], +out[0][1]), (+out[1][0], +out[1][1])


_WHICH = ("S", "G", "G_inf")
_FORMS = ("sylvester", "lyapunov")


def displacement_generators(lam: Any, eta: float, steps: int, *, b: Any = None, which: str = "S",
                            form: str = "sylvester", precision: int | None = None):
    """A matrix of the cloud and the generators of its displacement equation.

    Returns ``(X, A, B, M, N)`` with ``diag(A) X − X diag(B) = M Nᵀ``:

    * ``which = "G"``: ``X = U G U`` with ``G_kl = (1/n) Σ_{t<n} (r_k r_l)^t``, ``n = T + 1``
      (``U = diag(sqrt(λ) b)``, or ``U = I`` when ``b`` is omitted); 2 generators.
    * ``which = "G_inf"``: ``X = U G_∞ U`` with ``(G_∞)_kl = 1/(1 − r_k r_l)``, the limit of
      ``n G`` as ``T → ∞``; 1 generator.
    * ``which = "S"``: ``X = U (G − m mᵀ) U``, the signal covariance (``b`` required);
      2 generators.

    All three follow from the Stein identity ``X − R X R = W C Wᵀ`` (``R = diag(r)``)
    with ``W = U [1, r^n]`` (``G``), ``U [1]`` (``G_∞``) or ``U [1 − m, r^n − m]``
    (``S``) and a small symmetric core ``C``: ``diag(1, −1)/n`` for ``G``, ``[1]`` for
    ``G_∞`` and ``(diag(1, −1) + [[1, −1], [−1, 1]]/n)/n`` for ``S``.

    Parameters
    ----------
    lam : array_like, shape (d,)
        Eigenvalues ``λ_k > 0``.
    eta : float
        Learning rate, ``0 < η·max(λ) < 2``.
    steps : int
        ``T >= 0``.
    b : array_like, shape (d,), optional
        Ground truth in the eigenbasis (the diagonal scaling).
    which : {"S", "G", "G_inf"}
    form : {"sylvester", "lyapunov"}
        ``"sylvester"``: ``A = r``, ``B = 1/r`` (needs every ``ηλ_k != 1``);
        ``"lyapunov"``: ``A = h``, ``B = −h`` (Cayley nodes), valid for all stable ``η``.
    precision : int, optional
        Decimal digits; float64 when omitted.

    Returns
    -------
    X : ndarray, shape (d, d)
    A, B : ndarray, shape (d,)
    M, N : ndarray, shape (d, ν)
    """
    if which not in _WHICH:
        raise ValueError(f"which must be one of {_WHICH}, got {which!r}")
    if form not in _FORMS:
        raise ValueError(f"form must be one of {_FORMS}, got {form!r}")
    prec = _precision(precision)
    lam_f = np.asarray(_validate.eigenvalues(lam), dtype=float)
    d = lam_f.size
    eta_v = _validate.learning_rate(eta, lam_f)
    T = _validate.integer(steps, "steps", low=0)
    if which == "S" and b is None:
        raise ValueError("which='S' needs the ground truth b (the signal covariance depends on it)")
    b_arr = None if b is None else _validate.vector(b, "b", d)
    if form == "sylvester" and np.any(eta_v * lam_f == 1.0):
        raise ValueError("form='sylvester' needs every r_k = 1 - eta*lam_k != 0; use form='lyapunov'")
    n = T + 1
    if prec is None:
        a = eta_v * lam_f
        r = 1.0 - a
        u = np.ones(d) if b_arr is None else np.sqrt(lam_f) * b_arr
        G, m, cov = cloud.time_averages(lam_f, eta_v, T)
        one = np.ones(d)
        rn = _rpow(r, n)
        if which == "G":
            X, W, C = G, np.column_stack([one, rn]), np.diag([1.0 / n, -1.0 / n])
        elif which == "G_inf":
            X = 1.0 / (a[:, None] + a[None, :] - a[:, None] * a[None, :])
            W, C = one[:, None], np.ones((1, 1))
        else:
            X, W, C = cov, np.column_stack([one - m, rn - m]), _core_S(n, float)
        X = u[:, None] * X * u[None, :]
        W = u[:, None] * W
        if form == "sylvester":
            A, B = r, 1.0 / r
            M, N = W, -(W @ C.T) / r[:, None]
        else:
            A, B = (2.0 - a) / a, -(2.0 - a) / a
            M, N = 2.0 * W / a[:, None], (W @ C.T) / a[:, None]
        return X, A, B, M, N
    work = prec + _GUARD
    with mpmath.workdps(work):
        lam_mp, eta_mp = _cloud_inputs(lam, eta, prec)
        a = [eta_mp * x for x in lam_mp]
        r = [1 - x for x in a]
        if b_arr is None:
            u = [mpmath.mpf(1)] * d
        else:
            b_mp = [v if isinstance(v, mpmath.mpf) else mpmath.mpf(float(v)) for v in np.asarray(b, dtype=object)]
            u = [mpmath.sqrt(lam_mp[k]) * b_mp[k] for k in range(d)]
        G, m, cov = cloud.time_averages(lam, eta, T, precision=work)
        rn = [x**n for x in r]
        one = [mpmath.mpf(1)] * d
        if which == "G":
            X, cols, C = G, [one, rn], [[mpmath.mpf(1) / n, 0], [0, -mpmath.mpf(1) / n]]
        elif which == "G_inf":
            X = np.array([[1 / (a[k] + a[l] - a[k] * a[l]) for l in range(d)] for k in range(d)], dtype=object)
            cols, C = [one], [[mpmath.mpf(1)]]
        else:
            X, cols, C = cov, [[1 - x for x in m], [y - x for x, y in zip(m, rn)]], _core_S(n, mpmath.mpf)
        nu = len(cols)
        Xs = np.array([[u[k] * X[k, l] * u[l] for l in range(d)] for k in range(d)], dtype=object)
        W = [[u[k] * cols[j][k] for j in range(nu)] for k in range(d)]
        WC = [[sum(W[k][i] * C[j][i] for i in range(nu)) for j in range(nu)] for k in range(d)]  # W Cᵀ
        if form == "sylvester":
            A = [x for x in r]
            B = [1 / x for x in r]
            M = W
            N = [[-WC[k][j] / r[k] for j in range(nu)] for k in range(d)]
        else:
            A = [(2 - x) / x for x in a]
            B = [-(2 - x) / x for x in a]
            M = [[2 * W[k][j] / a[k] for j in range(nu)] for k in range(d)]
            N = [[WC[k][j] / a[k] for j in range(nu)] for k in range(d)]
    with mpmath.workdps(prec):
        def rnd(x):
            return np.array([[+v for v in row] for row in x], dtype=object) if isinstance(x[0], (list, np.ndarray)) \
                else np.array([+v for v in x], dtype=object)
        return rnd(Xs), rnd(A), rnd(B), rnd(M), rnd(N)


def _rpow(r: np.ndarray, n: int) -> np.ndarray:
    with np.errstate(under="ignore"):
        return np.where(r == 0, 0.0, np.sign(r) ** n * np.exp(n * np.log(np.abs(np.where(r == 0, 1.0, r)))))


def _core_S(n: int, kind):
    """Core ``C`` of ``(G − m mᵀ) − R (G − m mᵀ) R = W C Wᵀ`` with ``W = [1 − m, r^n − m]``.

    With ``x_t = r^t − m`` (centred, ``Σ_{t<n} x_t = 0``) and ``R x_t = x_{t+1} + v``,
    ``v = (x_0 − x_n)/n``, the Stein difference telescopes to
    ``(x_0 x_0ᵀ − x_n x_nᵀ + (x_0 − x_n)(x_0 − x_n)ᵀ / n) / n``.
    """
    if kind is mpmath.mpf:
        one, nn = mpmath.mpf(1), mpmath.mpf(n)
        return [[(one + one / nn) / nn, -one / nn**2], [-one / nn**2, (-one + one / nn) / nn]]
    return np.array([[(1 + 1 / n) / n, -1 / n**2], [-1 / n**2, (-1 + 1 / n) / n]])


def displacement_rank(X: Any, A: Any, B: Any, *, precision: int = 60, rtol: Any = None):
    """Numerical rank of ``diag(A) X − X diag(B)`` in high precision.

    Parameters
    ----------
    X : array_like, shape (d, d)
        float64 or mpmath entries.
    A, B : array_like, shape (d,)
        Diagonals of the two operators.
    precision : int
        Decimal digits of the SVD (``>= 16``).
    rtol : float, optional
        Singular values above ``rtol · σ_1`` count; default ``10^(−precision/2)``.

    Returns
    -------
    rank : int
    sv : ndarray of mpmath.mpf
        All singular values of the displacement, descending.
    """
    prec = _validate.integer(precision, "precision", low=16)
    Xa = np.asarray(X, dtype=object)
    if Xa.ndim != 2 or Xa.shape[0] != Xa.shape[1] or Xa.shape[0] == 0:
        raise ValueError(f"X must be a non-empty square matrix, got shape {Xa.shape}")
    d = Xa.shape[0]
    Aa = np.asarray(A, dtype=object).reshape(-1)
    Ba = np.asarray(B, dtype=object).reshape(-1)
    if Aa.size != d or Ba.size != d:
        raise ValueError(f"A and B must have length {d} (the size of X)")
    with mpmath.workdps(prec):
        D = mpmath.matrix(d, d)
        for k in range(d):
            for l in range(d):
                D[k, l] = mpmath.mpf(Aa[k]) * mpmath.mpf(Xa[k, l]) - mpmath.mpf(Xa[k, l]) * mpmath.mpf(Ba[l])
        sv = sorted(mpmath.svd_r(D, compute_uv=False), reverse=True)
        tol = mpmath.mpf(10) ** (-(prec // 2)) if rtol is None else mpmath.mpf(rtol)
        rank = sum(1 for s in sv if s > tol * sv[0]) if sv[0] > 0 else 0
    return rank, np.array(sv, dtype=object)


# ------------------------------------------------------------ high-precision spectra


def singular_values_mp(X: Any, *, precision: int, symmetric: bool | None = None):
    """All singular values of ``X`` in mpmath, with a bound on their error.

    Parameters
    ----------
    X : array_like, shape (p, q)
        float64 or mpmath entries.
    precision : int
        Working precision in decimal digits (``>= 16``).
    symmetric : bool, optional
        Use the symmetric eigensolver (``mpmath.eigsy``; singular values are the absolute
        eigenvalues); default: whether ``X`` is exactly symmetric. Otherwise
        ``mpmath.svd_r``.

    Returns
    -------
    sv : ndarray of mpmath.mpf, shape (min(p, q),)
        Descending singular values.
    allowance : mpmath.mpf
        ``10 · max(p, q) · 10^(−precision) · ||X||_F``: both solvers are backward
        stable, so each computed value lies within this of the exact singular value of
        the matrix as stored (Weyl). Values below it are not resolved.
    """
    prec = _validate.integer(precision, "precision", low=16)
    Xa = np.asarray(X, dtype=object)
    if Xa.ndim != 2 or 0 in Xa.shape:
        raise ValueError(f"X must be a non-empty 2-D array, got shape {Xa.shape}")
    p, q = Xa.shape
    with mpmath.workdps(prec):
        M = mpmath.matrix(p, q)
        for i in range(p):
            for j in range(q):
                v = Xa[i, j]
                M[i, j] = v if isinstance(v, mpmath.mpf) else mpmath.mpf(float(v))
        if symmetric is None:
            symmetric = p == q and all(M[i, j] == M[j, i] for i in range(p) for j in range(i + 1, q))
        if symmetric:
            if p != q:
                raise ValueError("symmetric=True needs a square matrix")
            ev = mpmath.eigsy(M, eigvals_only=True)
            sv = sorted((abs(ev[i]) for i in range(p)), reverse=True)
        else:
            s = mpmath.svd_r(M, compute_uv=False)
            sv = sorted((s[i] for i in range(len(s))), reverse=True)
        fro = mpmath.sqrt(mpmath.fsum(M[i, j] ** 2 for i in range(p) for j in range(q)))
        allowance = 10 * max(p, q) * mpmath.mpf(10) ** (-prec) * fro
    return np.array(sv, dtype=object), allowance


def cauchy_matrix(x: Any, y: Any, *, precision: int | None = None) -> np.ndarray:
    """The Cauchy matrix ``C_ij = 1/(x_i − y_j)``.

    It satisfies ``diag(x) C − C diag(y) = 1 1ᵀ`` (displacement rank 1).

    Parameters
    ----------
    x, y : array_like
        Finite real nodes with ``x_i != y_j`` for all pairs.
    precision : int, optional
        Decimal digits; float64 when omitted.
    """
    prec = _precision(precision)
    work = None if prec is None else prec + _GUARD
    ctx = mpmath.workdps(work) if work else _NullCtx()
    with ctx:
        xs = _points(x, "x", work)
        ys = _points(y, "y", work)
        if any(xi == yj for xi in xs for yj in ys):
            raise ValueError("x and y must not share a value (1/(x_i - y_j) would be infinite)")
        rows = [[1 / (xi - yj) for yj in ys] for xi in xs]
    if prec is None:
        return np.array(rows, dtype=float)
    with mpmath.workdps(prec):
        return np.array([[+v for v in row] for row in rows], dtype=object)


# ------------------------------------------------------------- Chebyshev in time


def chebyshev_tails(beta: Any, mmax: int, *, precision: int | None = None) -> np.ndarray:
    """``τ(β, m) = 2 Σ_{j > m} e^{−β} I_j(β)``, ``m = 0..mmax``: Chebyshev truncation errors.

    On ``x ∈ [−1, 1]``, ``e^{−β(1 + x)} = e^{−β} I_0(β) + 2 Σ_{j ≥ 1} (−1)^j e^{−β} I_j(β) T_j(x)``,
    so ``τ(β, m)`` bounds the uniform error of its degree-``m`` Chebyshev truncation.
    Terms are summed upward from ``j = m + 1`` (no cancellation); beyond the last term
    ``J >= β`` the remainder is bounded with ``I_{j+1}(β)/I_j(β) <= β/(2(j + 1))``.
    With ``precision``, ``β <= 64 + 2 mmax`` uses Miller's backward recurrence in mpmath;
    larger ``β`` uses float64 Bessel values (SciPy) inflated by ``1e-9`` relative.

    Parameters
    ----------
    beta : array_like, shape (p,)
        ``β >= 0``.
    mmax : int
        Largest degree, ``>= 0``.
    precision : int, optional
        Decimal digits; float64 when omitted.

    Returns
    -------
    ndarray, shape (p, mmax + 1)
    """
    prec = _precision(precision)
    mm = _validate.integer(mmax, "mmax", low=0)
    bet = np.asarray(beta, dtype=object).reshape(-1)
    for i, v in enumerate(bet):
        try:
            fv = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"beta[{i}] must be a real number >= 0, got {v!r}") from None
        if not (fv >= 0 and math.isfinite(fv)):
            raise ValueError(f"beta[{i}] must be finite and >= 0, got {v!r}")
    p = bet.size
    if prec is None:
        out = np.empty((p, mm + 1))
        for i, bv in enumerate(bet):
            out[i] = _tails_float(float(bv), mm)
        return out
    out = np.empty((p, mm + 1), dtype=object)
    big = 64 + 2 * mm
    with mpmath.workdps(prec + _GUARD):
        for i, bv in enumerate(bet):
            bmp = bv if isinstance(bv, mpmath.mpf) else mpmath.mpf(float(bv))
            if bmp <= big:
                out[i] = _tails_mp(bmp, mm, prec + _GUARD)
            else:
                tf = _tails_float(float(bmp), mm)
                out[i] = [mpmath.mpf(float(t)) * (1 + mpmath.mpf("1e-9")) for t in tf]
    with mpmath.workdps(prec):
        return np.vectorize(lambda v: +v, otypes=[object])(out)


def _tails_float(beta: float, mm: int) -> np.ndarray:
    if beta == 0.0:
        return np.zeros(mm + 1)
    J = int(max(mm + 1, math.ceil(beta))) + 80
    j = np.arange(J + 1)
    with np.errstate(under="ignore"):
        terms = special.ive(j, beta)
    rho = beta / (2.0 * (J + 1))
    rem = terms[J] * rho / (1.0 - rho)
    tail_from = np.cumsum(terms[::-1])[::-1] + rem  # tail_from[j] = sum_{i >= j} terms
    return 2.0 * tail_from[1:mm + 2] * (1.0 + 1e-13)


def _tails_mp(beta, mm: int, work: int) -> list:
    if beta == 0:
        return [mpmath.mpf(0)] * (mm + 1)
    # start J: beyond beta and far enough that I_J / I_{mm+1} < 10^-(work+10)
    J = max(mm + 1, int(mpmath.ceil(beta)) + 1)
    logratio = 0.0
    target = -(work + 10) * math.log(10)
    fb = float(beta)
    while logratio > target:
        J += 1
        logratio += math.log(max(fb, 1e-300) / (2.0 * (J + 1)))
    v = [mpmath.mpf(0)] * (J + 2)
    v[J] = mpmath.mpf(1)
    for jj in range(J, 0, -1):
        v[jj - 1] = v[jj + 1] + (2 * jj / beta) * v[jj]
    norm = v[0] + 2 * mpmath.fsum(v[1:J + 1])
    ive = [x / norm for x in v[:J + 1]]
    rho = beta / (2 * (J + 1))
    acc = ive[J] * rho / (1 - rho)
    tails = [mpmath.mpf(0)] * (mm + 1)
    for jj in range(J, 0, -1):
        acc += ive[jj]
        if jj - 1 <= mm:
            tails[jj - 1] = 2 * acc
    return tails


# ----------------------------------------------------------- bounds on signal widths


class _Ops:
    """float64 or mpmath arithmetic on 1-D/2-D arrays (object arrays for mpmath)."""

    def __init__(self, prec: int | None):
        self.prec = prec
        self.mp = prec is not None

    def arr(self, x):
        return np.array(x, dtype=object if self.mp else float)

    def sqrt(self, x):
        return np.vectorize(mpmath.sqrt, otypes=[object])(x) if self.mp else np.sqrt(x)

    def zero(self):
        return mpmath.mpf(0) if self.mp else 0.0

    def one(self):
        return mpmath.mpf(1) if self.mp else 1.0

    def fro(self, X):
        if self.mp:
            return mpmath.sqrt(mpmath.fsum(v * v for v in X.ravel()))
        return float(np.linalg.norm(X))


def _signal_parts(lam, b, eta, T, prec):
    """Sorted (fast first) modes with ``u != 0`` and the matrices every route needs."""
    lam_f = np.asarray(_validate.eigenvalues(lam), dtype=float)
    d = lam_f.size
    b_f = _validate.vector(b, "b", d)
    eta_v = _validate.learning_rate(eta, lam_f)
    keep = np.flatnonzero(b_f != 0)
    order = keep[np.argsort(-lam_f[keep], kind="stable")]
    ops = _Ops(prec)
    if order.size == 0:
        return ops, d, None
    n = T + 1
    if prec is None:
        lam_s, b_s = lam_f[order], b_f[order]
        G, m, cov = cloud.time_averages(lam_s, eta_v, T)
        a = eta_v * lam_s
        u = np.sqrt(lam_s) * b_s
        Ginf = 1.0 / (a[:, None] + a[None, :] - a[:, None] * a[None, :])
        uu = np.outer(u, u)
        parts = dict(a=a, S=uu * cov, UGU=uu * G, UGiU=uu * Ginf / n, u2=u * u,
                     h=(2.0 - a) / a, beta=_beta_float(a, T),
                     cap=_cap_float(a, T))
        return ops, d, parts
    work = prec + _GUARD
    lam_o = np.asarray(_validate.eigenvalues(lam), dtype=object)[order]
    b_o = np.asarray(b, dtype=object)[order]
    with mpmath.workdps(work):
        G, m, cov = cloud.time_averages(lam_o, eta, T, precision=work)
        lam_mp, eta_mp = _cloud_inputs(lam_o, eta, work)
        bm = [v if isinstance(v, mpmath.mpf) else mpmath.mpf(float(v)) for v in b_o]
        a = [eta_mp * x for x in lam_mp]
        u = [mpmath.sqrt(x) * y for x, y in zip(lam_mp, bm)]
        k = len(a)
        S = np.array([[u[i] * cov[i, j] * u[j] for j in range(k)] for i in range(k)], dtype=object)
        UGU = np.array([[u[i] * G[i, j] * u[j] for j in range(k)] for i in range(k)], dtype=object)
        UGiU = np.array([[u[i] * u[j] / ((a[i] + a[j] - a[i] * a[j]) * n) for j in range(k)] for i in range(k)],
                        dtype=object)
        beta = [(-T * mpmath.log1p(-x) / 2) if x < 1 else mpmath.inf for x in a]
        cap = []
        for x in a:
            if T == 0:
                cap.append(mpmath.mpf(0))
            elif x < 1:
                cap.append(-mpmath.expm1(T * mpmath.log1p(-x)) / 2)
            else:
                cap.append(x / 2)
        parts = dict(a=np.array(a, dtype=object), S=S, UGU=UGU, UGiU=UGiU,
                     u2=np.array([x * x for x in u], dtype=object),
                     h=np.array([(2 - x) / x for x in a], dtype=object),
                     beta=np.array(beta, dtype=object), cap=np.array(cap, dtype=object))
    return ops, d, parts


def _beta_float(a: np.ndarray, T: int) -> np.ndarray:
    """``β = T |log r| / 2`` for ``r = 1 − a > 0``; ``inf`` where ``r <= 0``."""
    out = np.full(a.shape, np.inf)
    pos = a < 1.0
    out[pos] = -0.5 * T * np.log1p(-a[pos])
    return out


def _cap_float(a: np.ndarray, T: int) -> np.ndarray:
    """``(max_t r^t − min_t r^t)/2`` over ``t = 0..T``: error of the best constant."""
    if T == 0:
        return np.zeros_like(a)
    with np.errstate(divide="ignore"):
        pos = -np.expm1(T * np.log1p(-np.minimum(a, 1.0))) / 2.0
    return np.where(a < 1.0, pos, a / 2.0)


def _zolo_interval_block(h_sorted, ks_needed: int, ops: _Ops):
    """Exact ``Z_k([h_1, h_s], −[h_1, h_s])`` for every leading block ``s`` (``k <= ks_needed``)."""
    prec = ops.prec
    s_tot = len(h_sorted)
    out = []
    work = None if prec is None else prec + _GUARD
    ctx = mpmath.workdps(work) if work else _NullCtx()
    with ctx:
        for s in range(1, s_tot + 1):
            lo, hi = h_sorted[0], h_sorted[s - 1]
            if lo > hi:
                lo, hi = hi, lo
            if s == 1 or lo == hi:
                row = [ops.one()] + [ops.zero()] * ks_needed
            else:
                logq1 = _log_nome_unit(lo, hi, -hi, -lo, work)
                row = _zolotarev_from_unit(logq1, range(ks_needed + 1), work)
            out.append(row)
    return out


def _bt_bounds(Z_row, nu: int, size: int, scale, ops: _Ops, d: int):
    """``scale · min(1, Z_{⌊(i−1)/ν⌋})`` for ``i = 1..d``, zero beyond ``size``."""
    out = []
    for i in range(d):
        if i >= size:
            out.append(ops.zero())
            continue
        k = min(i // nu, len(Z_row) - 1)
        z = Z_row[k]
        out.append(scale * (z if z < 1 else ops.one()))
    return ops.arr(out)


def _discrete_weighted(h, diag, nu: int, d: int, ops: _Ops):
    """``σ_{1+νk}(X) <= Σ_j X_jj r(h_j)²`` with greedy zeros on the nodes, ``r(−x) = 1/r(x)``."""
    kmax = (d - 1) // nu
    size = len(h)
    w = [diag[j] for j in range(size)]
    r2 = [ops.one()] * size
    vals = []
    for _ in range(kmax + 1):
        terms = [w[j] * r2[j] for j in range(size)]
        vals.append(mpmath.fsum(terms) if ops.mp else float(np.sum(terms)))
        jmax = max(range(size), key=lambda j: terms[j])
        if not terms[jmax] > 0:
            continue
        z = h[jmax]
        r2 = [r2[j] * ((h[j] - z) / (h[j] + z)) ** 2 for j in range(size)]
    best = []
    cur = None
    for v in vals:
        cur = v if cur is None or v < cur else cur
        best.append(cur)
    out = [best[min(i // nu, len(best) - 1)] for i in range(d)]
    return ops.arr(out)


def _route_values(parts, d_all: int, T: int, ops: _Ops) -> dict:
    S, UGU, UGiU = parts["S"], parts["UGU"], parts["UGiU"]
    h = list(parts["h"])
    k_modes = len(h)
    d = k_modes
    rank = min(d, T)
    routes: dict[str, np.ndarray] = {}
    Zs = _zolo_interval_block(h, d, ops)  # Zs[s-1][k]
    Zfull = Zs[-1]
    fS, fG, fGi = ops.fro(S), ops.fro(UGU), ops.fro(UGiU)
    # closed-form bound on the full interval
    if k_modes > 1 and h[0] != h[-1]:
        lo, hi = min(h), max(h)
        Zc = zolotarev_bound((lo, hi), (-hi, -lo), list(range(d + 1)), precision=ops.prec)
        Zc = list(Zc)
    else:
        Zc = [ops.one()] + [ops.zero()] * d
    routes["zolotarev_closed"] = _bt_bounds(Zc, 2, rank, fS, ops, d)
    routes["zolotarev"] = _bt_bounds(Zfull, 2, rank, fS, ops, d)
    routes["uncentred"] = _bt_bounds(Zfull, 2, rank, fG, ops, d)
    routes["infinite"] = _bt_bounds(Zfull, 1, rank, fGi, ops, d)
    disc = [_discrete_weighted(h, [X[j, j] for j in range(k_modes)], nu, d, ops)
            for X, nu in ((S, 2), (UGiU, 1))]
    routes["discrete"] = _elementwise_min(disc, ops)
    routes["discrete"][rank:] = ops.zero()
    # Chebyshev in t: sigma_{m+1} <= sum_k u_k^2 eps_k(m)^2
    tails = _cheb_eps(parts, d - 1, ops)  # (k_modes, d)
    u2 = parts["u2"]
    cheb_terms = np.array([[u2[k] * tails[k, m] ** 2 for m in range(d)] for k in range(k_modes)],
                          dtype=object if ops.mp else float)
    cheb = ops.arr([_sum(cheb_terms[:, m], ops) for m in range(d)])
    cheb[rank:] = ops.zero()
    routes["chebyshev"] = cheb
    routes["split"] = _split_route(S, UGU, UGiU, Zs, cheb_terms, rank, ops)
    best = _elementwise_min([routes[k] for k in routes], ops)
    routes["best"] = best
    if d < d_all:  # modes with b_k = 0 add zero singular values
        for key in routes:
            routes[key] = np.concatenate([routes[key], ops.arr([ops.zero()] * (d_all - d))])
    return routes


def _sum(col, ops: _Ops):
    return mpmath.fsum(col) if ops.mp else float(np.sum(col))


def _elementwise_min(arrs, ops: _Ops):
    out = arrs[0].copy()
    for a in arrs[1:]:
        for i in range(len(out)):
            if a[i] < out[i]:
                out[i] = a[i]
    return out


def _cheb_eps(parts, mmax: int, ops: _Ops):
    beta, cap, a = parts["beta"], parts["cap"], parts["a"]
    k_modes = len(beta)
    eps = np.empty((k_modes, mmax + 1), dtype=object if ops.mp else float)
    # Chebyshev tails only where they can beat the cap: tail(m) >= 1 - (2m+1) ive_0(beta),
    # so modes with (2 mmax + 1) ive_0(beta) <= 1/2 have tail >= 1/2 >= cap for every m.
    slow = [i for i in range(k_modes)
            if a[i] < 1 and (2 * mmax + 1) * float(special.ive(0, float(beta[i]))) > 0.5]
    if slow:
        bs = np.array([beta[i] for i in slow], dtype=object if ops.mp else float)
        t = chebyshev_tails(bs, mmax, precision=None if not ops.mp else ops.prec + _GUARD)
    for i in range(k_modes):
        eps[i, :] = cap[i]
    for row, i in enumerate(slow):
        for m in range(mmax + 1):
            if t[row, m] < eps[i, m]:
                eps[i, m] = t[row, m]
    return eps


def _split_route(S, UGU, UGiU, Zs, cheb_terms, rank: int, ops: _Ops):
    """Fast block (first ``s`` modes) by Zolotarev, slow block by Chebyshev, joined by Weyl.

    ``sqrt σ_{i+j−1}(S) <= sqrt σ_i(S_FF) + sqrt σ_j(S_SS)`` (``S = Yᵀ P Y / n`` with
    the columns of ``Y`` split); ``σ_i(S_FF) = 0`` for ``i > s``.
    """
    d = S.shape[0]
    mp = ops.mp
    # Frobenius norms of the leading blocks
    def lead_fro(X):
        sq = np.array([[v * v for v in row] for row in X], dtype=object if mp else float)
        out = []
        for s in range(1, d + 1):
            tot = mpmath.fsum(sq[:s, :s].ravel()) if mp else float(sq[:s, :s].sum())
            out.append(mpmath.sqrt(tot) if mp else math.sqrt(tot))
        return out
    fS, fGi = lead_fro(S), lead_fro(UGiU)
    # slow-block Chebyshev bounds: suffix sums over modes
    k_modes = cheb_terms.shape[0]
    suffix = [[None] * d for _ in range(k_modes + 1)]
    for m in range(d):
        acc = ops.zero()
        suffix[k_modes][m] = acc
        for k in range(k_modes - 1, -1, -1):
            acc = acc + cheb_terms[k, m]
            suffix[k][m] = acc
    best = [None] * d
    for s in range(0, k_modes + 1):
        if s > 0:
            Zrow = Zs[s - 1]
            BF = []
            for i in range(s):
                cand = []
                for nu, f in ((2, fS[s - 1]), (1, fGi[s - 1])):
                    k = min(i // nu, len(Zrow) - 1)
                    z = Zrow[k]
                    cand.append(f * (z if z < 1 else ops.one()))
                BF.append(min(cand))
            sBF = [mpmath.sqrt(x) if mp else math.sqrt(x) for x in BF] + [ops.zero()]  # index s: zero
        else:
            sBF = [ops.zero()]
        if s < k_modes:
            sBS = [mpmath.sqrt(suffix[s][j]) if mp else math.sqrt(suffix[s][j]) for j in range(d)]
        else:
            sBS = [ops.zero()] * d
        for l in range(d):
            cur = None
            # i = 1..min(s+1, l+1) (zero-based i-1 in 0..), j = l - i + 1 (zero-based l - (i-1))
            for i0 in range(min(s, l) + 1):
                val = sBF[i0] + sBS[l - i0]
                if cur is None or val < cur:
                    cur = val
            v2 = cur * cur
            if best[l] is None or v2 < best[l]:
                best[l] = v2
    out = ops.arr(best)
    out[rank:] = ops.zero()
    return out


def signal_width_bounds(lam: Any, b: Any, eta: float, steps: int, *, route: str = "best",
                        precision: int | None = None):
    """Upper bounds on every eigenvalue ``σ_1 >= σ_2 >= ...`` of the signal covariance ``S``.

    ``S = U (G − m mᵀ) U`` is :func:`ribbonlib.cloud.signal_covariance`. Modes with
    ``b_k = 0`` add zero rows and columns and are left out of ``E``. Every route is a
    proved upper bound, a priori (it uses closed-form entries, never the spectrum), and
    is zero beyond the rank ``min(d, T)``:

    * ``"zolotarev_closed"``: Beckermann--Townsend with ``ν = 2``, the closed-form
      ``4 exp(−π²k / log 16γ)`` (capped at 1) and ``σ_1 <= ||S||_F``;
    * ``"zolotarev"``: the same with the exact Zolotarev number;
    * ``"uncentred"``: ``S ≼ U G U`` (centring only lowers eigenvalues), ``ν = 2``
      (never better than ``"zolotarev"``, since ``||S||_F <= ||U G U||_F``);
    * ``"infinite"``: ``S ≼ U G_∞ U / (T + 1)``, ``ν = 1``;
    * ``"discrete"``: the Zolotarev argument on the ``d`` nodes themselves, with
      ``σ_{1+νk}(X) <= Σ_j X_jj r(h_j)²`` for a greedy symmetric ``r`` (``X = S`` with
      ``ν = 2`` and ``X = U G_∞ U/(T + 1)`` with ``ν = 1``, the better of the two);
    * ``"chebyshev"``: polynomials of degree ``m`` in ``t`` fitted to ``r_k^t``,
      ``σ_{m+1} <= Σ_k λ_k b_k² ε_k(m)²`` with the Chebyshev truncation error ``ε_k``;
    * ``"split"``: the fastest ``s`` modes by Zolotarev (``"zolotarev"`` or ``"infinite"``
      on that block), the others by Chebyshev,
      joined by Weyl's inequality for the trajectory matrix, best ``s``;
    * ``"best"``: the elementwise minimum of all the above.

    Parameters
    ----------
    lam : array_like, shape (d,)
        Eigenvalues ``λ_k > 0``.
    b : array_like, shape (d,)
        Ground truth in the eigenbasis.
    eta : float
        Learning rate, ``0 < η·max(λ) < 2``.
    steps : int
        ``T >= 0``.
    route : str
        One of :data:`SIGNAL_ROUTES`, or ``"all"`` for a dict of every route.
    precision : int, optional
        Decimal digits (mpmath object arrays); float64 when omitted, where values below
        about 1e-300 underflow to 0.

    Returns
    -------
    ndarray, shape (d,), or dict of them (``route="all"``)
        ``bound[i] >= σ_{i+1}(S)``.

    Raises
    ------
    ValueError
        For invalid ``lam``, ``b``, ``eta``, ``steps``, ``precision`` or ``route``.
    """
    if route != "all" and route not in SIGNAL_ROUTES:
        raise ValueError(f"route must be one of {SIGNAL_ROUTES} or 'all', got {route!r}")
    prec = _precision(precision)
    T = _validate.integer(steps, "steps", low=0)
    ops, d_all, parts = _signal_parts(lam, b, eta, T, prec)
    if parts is None or T == 0:
        zeros = ops.arr([ops.zero()] * d_all)
        routes = {key: zeros.copy() for key in SIGNAL_ROUTES}
    elif prec is None:
        routes = _route_values(parts, d_all, T, ops)
    else:
        with mpmath.workdps(prec + _GUARD):
            routes = _route_values(parts, d_all, T, ops)
    if prec is not None:
        with mpmath.workdps(prec):
            routes = {k: np.array([+v for v in arr], dtype=object) for k, arr in routes.items()}
    if route == "all":
        return routes
    return routes[route]


# ------------------------------------------------------------------ cloud spectrum


def cloud_spectrum_bounds(lam: Any, b: Any, s: float, eta: float, steps: int, *,
                          precision: int | None = None):
    """Certified lower and upper bounds on every eigenvalue of the cloud covariance.

    A thin wrapper around :func:`ribbonlib.phase.cloud_spectrum_bounds` (imported when
    called, so that :mod:`ribbonlib.phase` may itself import this module); all arguments
    are forwarded unchanged.

    For the descending eigenvalues ``μ_1 >= ... >= μ_d`` of ``C = S + diag(n)``
    (:func:`ribbonlib.cloud.covariance`), returns ``lower[m] <= μ_{m+1} <= upper[m]``:

    * upper: Weyl, ``μ_{i+j−1}(C) <= σ_i(S) + n_(j)`` minimised over ``i + j = m + 1``,
      with certified upper bounds on the signal eigenvalues ``σ_i(S)`` and
      ``σ_i(S) = 0`` for ``i > min(d, T)``; also ``μ <= tr C``;
    * lower: ``μ_m(C) >= n_(m)`` (Weyl, ``S ⪰ 0``) and the Poincaré separation theorem
      (Rayleigh--Ritz values on a subspace are lower bounds).

    Parameters
    ----------
    lam : array_like, shape (d,)
        Eigenvalues ``λ_k > 0`` of the input covariance (any order).
    b : array_like, shape (d,)
        Ground truth in the eigenbasis.
    s : float
        Initial weight scale, ``>= 0``.
    eta : float
        Learning rate, ``0 < η·max(λ) < 2``.
    steps : int
        Number of gradient-descent steps ``T >= 0``.
    precision : int, optional
        Decimal digits (``>= 16``); the result is then two object arrays of mpmath.mpf.

    Returns
    -------
    lower, upper : ndarray, shape (d,)
        Bounds on the descending eigenvalues of ``C``, widened by the eigensolver
        round-off allowance so that they also enclose computed eigenvalues.

    Raises
    ------
    ValueError
        For invalid input (see :func:`ribbonlib.phase.cloud_spectrum_bounds`).
    """
    from . import phase

    return phase.cloud_spectrum_bounds(lam, b, s, eta, steps, precision=precision)
