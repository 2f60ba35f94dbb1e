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
displacement equations, high-precision singular values, upper bounds on every
signal width ``σ_i(S)`` by several routes (:func:`signal_width_bounds`) and two-sided
bounds on the whole cloud spectrum (:func:`cloud_spectrum_bounds`). Everything takes
``precision=`` (decimal digits, mpmath) where high precision makes sense; the default
is float64.

**Rigour.** Every function that returns a *bound* (:func:`zolotarev_bound`,
:func:`zolotarev_discrete`, :func:`chebyshev_tails`, :func:`signal_width_bounds`,
:func:`cloud_spectrum_bounds`) evaluates it in ball arithmetic (Arb, through
python-flint) from the exact inputs (a float is the dyadic number it stores) and
returns the end of the ball rounded outward, in float64 or at ``precision`` digits:
the returned number bounds the exact quantity whatever the round-off, also where the
bound is tight (``σ_1(S) = ||S||_F`` for a signal of rank one). :func:`cross_ratio`
is exact and correctly rounded; :func:`zolotarev_number` is an accurate value, not a
bound (its accuracy is stated there), and :func:`zolotarev_enclosure` encloses it.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
from flint import acb, acb_mat, arb, arb_mat
from flint import ctx as _arb_ctx
from scipy import special

from . import _geometric, _validate, certify, cloud

__all__ = [
    "cross_ratio",
    "symmetric_modulus",
    "zolotarev_bound",
    "zolotarev_number",
    "ZOLOTAREV_FLOAT_RTOL",
    "zolotarev_rtol",
    "zolotarev_enclosure",
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
    "singular_value_enclosures",
    "rational_sup",
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
_LOG2_10 = math.log2(10.0)
_MAX_BITS = 1 << 14  # working precision beyond which an enclosure is accepted as it is

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
        raise ValueError(
            f"{name} must be a pair (lo, hi) of finite reals with lo <= hi, got {E!r}"
        ) from None
    if len(items) != 2:
        raise ValueError(
            f"{name} must be a pair (lo, hi) of finite reals with lo <= hi, "
            f"got {len(items)} entries"
        )
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
            f"E = [{a}, {b}] and F = [{c}, {d}] overlap or touch: "
            "the intervals must be disjoint"
        )
    return a, b, c, d


def _k_values(k: Any) -> tuple[np.ndarray, bool]:
    """``k`` as a 1-D int array (and whether the input was a scalar)."""
    arr = np.asarray(k)
    scalar = arr.ndim == 0
    flat = arr.reshape(-1)
    if flat.size == 0:
        raise ValueError("k must be an integer >= 0 or a non-empty array of them")
    out = np.array(
        [
            _validate.integer(v.item() if hasattr(v, "item") else v, "k", low=0)
            for v in flat
        ]
    )
    return out, scalar


def _wrap(values: list, scalar: bool, prec: int | None):
    if prec is None:
        arr = np.array([float(v) for v in values])
        return float(arr[0]) if scalar else arr
    with mpmath.workdps(prec):
        vals = [+v for v in values]
    return vals[0] if scalar else np.array(vals, dtype=object)


# ---------------------------------------------------------------- ball arithmetic


def _target_bits(prec: int | None) -> int:
    """Relative accuracy (bits) that the enclosures behind a result aim for."""
    return 64 if prec is None else int(math.ceil(prec * _LOG2_10)) + 16


def _mpf_round(x: arb, prec: int, rnd: str):
    """An end of the ball ``x`` rounded outward to ``prec`` digits, i.e. to an mpf of
    ``⌈prec·log₂10⌉ + 4`` bits (``"c"``: the upper end rounded up, else the lower end
    rounded down)."""
    bits = int(math.ceil(prec * _LOG2_10)) + 4
    # Arb rounds the end outward to the context's precision
    with _arb_ctx.workprec(bits + 8):
        end = x.upper() if rnd == "c" else x.lower()
    if not end.is_finite():
        return mpmath.inf if rnd == "c" else -mpmath.inf
    man, exp = end.man_exp()
    return mpmath.mp.make_mpf(mpmath.libmp.from_man_exp(int(man), int(exp), bits, rnd))


def _float_end(x: arb, up: bool) -> float:
    """An end of ``x`` rounded outward to float64 (Arb rounds it to 53 bits; the
    conversion is then exact, checked, with :mod:`ribbonlib.certify` as the fallback
    outside the normal range)."""
    with _arb_ctx.workprec(53):
        end = x.upper() if up else x.lower()
    if end.is_zero():
        return 0.0
    f = float(end)
    if math.isfinite(f) and 2.0**-1021 < abs(f) < 2.0**1022 and arb(f) == end:
        return f
    ends = certify.enclose(x)
    return float(ends.hi if up else ends.lo)


def _up(x: arb, prec: int | None):
    """Upper end of the ball ``x``, rounded up: a float, or an mpf (``prec`` digits)."""
    if prec is None:
        return _float_end(x, True)
    return _mpf_round(x, prec, "c")


def _down(x: arb, prec: int | None):
    """Lower end of the ball ``x``, rounded down (float, or mpf at ``prec`` digits)."""
    if prec is None:
        return _float_end(x, False)
    return _mpf_round(x, prec, "f")


def _outward(values: list, prec: int | None, up: bool = True) -> np.ndarray:
    fn = _up if up else _down
    out = [fn(v, prec) for v in values]
    return np.array(out, dtype=float if prec is None else object)


def _min_exact(values: list) -> arb:
    """The smallest of exact numbers (balls of radius 0)."""
    best = values[0]
    for v in values[1:]:
        if v < best:
            best = v
    return best


# ------------------------------------------------------------------ Zolotarev numbers


def _gamma_parts(a, b, c, d):
    """``(γ, 1/γ, 1 − 1/γ, γ − 1)``, each formed without cancellation."""
    num = (c - a) * (d - b)
    den = (c - b) * (d - a)
    spread = (b - a) * (d - c)
    return num / den, den / num, spread / num, spread / den


def _float_of(q: Fraction) -> float:
    """``q`` correctly rounded to float64 (``inf`` beyond the largest float)."""
    try:
        return float(q)
    except OverflowError:
        return math.inf


def _gamma_parts_float(a: float, b: float, c: float, d: float) -> tuple[float, ...]:
    """:func:`_gamma_parts` in exact rational arithmetic, each correctly rounded."""
    return tuple(
        _float_of(x) for x in _gamma_parts(*(Fraction(v) for v in (a, b, c, d)))
    )


def cross_ratio(E: Any, F: Any, *, precision: int | None = None):
    """Cross-ratio ``γ = (c − a)(d − b) / ((c − b)(d − a))`` of ``[a, b]``, ``[c, d]``.

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
        ``Z_k(E, F)`` depends on ``E`` and ``F`` only through it. In float64 the value
        is the exact cross-ratio of the given endpoints, correctly rounded (formed in
        rational arithmetic, so no difference cancels and no product overflows);
        ``inf`` if it exceeds the largest float. With ``precision`` it is accurate to
        that many digits.

    Raises
    ------
    ValueError
        For a non-finite endpoint, an empty interval (``lo > hi``) or intervals that
        overlap or touch.
    """
    prec = _precision(precision)
    if prec is None:
        a, b, c, d = _intervals(E, F, None)
        return _gamma_parts_float(a, b, c, d)[0]
    with mpmath.workdps(prec + _GUARD):
        a, b, c, d = _intervals(E, F, prec)
        g = _gamma_parts(a, b, c, d)[0]
    with mpmath.workdps(prec):
        return +g


def symmetric_modulus(E: Any, F: Any, *, precision: int | None = None):
    """The ``κ ∈ (0, 1]`` with ``(E, F)`` Möbius-equivalent to ``([κ, 1], [−1, −κ])``.

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
        g, _, _, gm1 = _gamma_parts_float(a, b, c, d)
        return float(1.0 / (math.sqrt(g) + math.sqrt(gm1)) ** 2)
    with mpmath.workdps(prec + _GUARD):
        a, b, c, d = _intervals(E, F, prec)
        g, _, _, gm1 = _gamma_parts(a, b, c, d)
        kap = 1 / (mpmath.sqrt(g) + mpmath.sqrt(gm1)) ** 2
    with mpmath.workdps(prec):
        return +kap


def _gamma_balls(E: Any, F: Any, prec: int | None, bits: int) -> tuple[arb, ...]:
    """Balls of ``(γ, 1/γ, 1 − 1/γ, γ − 1)`` for the exact endpoints of E and F."""
    if prec is None:
        ends = _intervals(E, F, None)
    else:
        with mpmath.workdps(prec + _GUARD):
            ends = _intervals(E, F, prec)
    with _arb_ctx.workprec(bits):
        return _gamma_parts(*(certify.to_arb(v) for v in ends))


def zolotarev_bound(E: Any, F: Any, k: Any, *, precision: int | None = None):
    """Closed-form upper bound ``4 exp(−π² k / log(16 γ))`` on ``Z_k(E, F)``.

    Beckermann and Townsend (SIAM J. Matrix Anal. Appl. 38, 2017, Cor. 3.2) for two real
    intervals with cross-ratio ``γ`` (:func:`cross_ratio`). The value is *not* capped:
    for small ``k`` it can exceed ``Z_k <= 1``. It is evaluated in ball arithmetic from
    the exact endpoints and rounded up, so the returned number is never below the
    closed form (hence never below ``Z_k``), also where the two agree to the last digit
    (``γ → ∞``).

    Parameters
    ----------
    E, F : pair of real numbers
        Two disjoint closed intervals.
    k : int or array_like of int
        Rational degrees ``k >= 0``.
    precision : int, optional
        Decimal digits; float64 when omitted (values below the smallest float round up
        to it).

    Returns
    -------
    float, mpmath.mpf or ndarray
        One value per ``k`` (an array when ``k`` is an array); for a scalar ``k`` a
        Python ``float`` (float64) or an ``mpmath.mpf`` (with ``precision``).

    Raises
    ------
    ValueError
        For invalid intervals (see :func:`cross_ratio`) or a negative or non-integral
        ``k``.
    """
    prec = _precision(precision)
    ks, scalar = _k_values(k)
    bits = _target_bits(prec) + 32
    g = _gamma_balls(E, F, prec, bits)[0]
    with _arb_ctx.workprec(bits):
        rate = arb.pi() ** 2 / (16 * g).log()
        vals = [4 * (-rate * int(kk)).exp() for kk in ks]
    out = _outward(vals, prec)
    if scalar:
        return float(out[0]) if prec is None else out[0]
    return out


def _modulus_from_log_nome(logq, prec: int | None):
    """Elliptic modulus ``(θ₂(q)/θ₃(q))²`` of the nome ``q = e^{logq}``, ``logq < 0``.

    Product form ``4 q^{1/2} Π_j ((1 + q^{2j}) / (1 + q^{2j−1}))⁴``; for ``q`` close to
    1 (``logq > −π``; at ``logq = −π`` itself the product) through Jacobi's imaginary
    transformation, ``k = sqrt(1 − k'²)`` with ``k'`` the modulus of the nome
    ``exp(π² / logq)``. With ``prec`` (the digits of the mpmath context it runs in, as
    its callers set them) the relative error is below ``10^(1 − prec)``.
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
    """``log q₁ = −2π K(1/γ) / K(1 − 1/γ)`` (parameters); −inf if ``γ = 1``.

    Each ``K`` is taken from the complementary parameter, which ``_gamma_parts`` forms
    without cancellation: ``K(p) = π / (2 agm(1, sqrt(1 − p)))``, so
    ``log q₁ = −2π agm(1, sqrt(1/γ)) / agm(1, sqrt(1 − 1/γ))``, accurate for ``γ`` near
    1 and for ``γ`` so large that ``1 − 1/γ`` rounds to 1 (a ``K`` of the rounded
    parameter would be infinite there). In float64 (scipy's ``ellipkm1``) the same
    holds while ``1 − 1/γ`` rounds below 1; where it rounds to 1 (``1/γ <= 2^-54``,
    also where ``1/γ`` is subnormal or underflows to 0), ``K(1/γ) = π/2`` and
    ``K(1 − 1/γ) = ln 4 − ½ ln(1/γ)`` hold to below float64 resolution (the next terms
    are ``O(1/γ · ln γ)``), with the logarithm of the exact ratio.
    """
    if prec is None:
        _, m, mc, _ = _gamma_parts_float(a, b, c, d)
        if mc == 0:
            return -math.inf
        if mc < 1.0:
            # K(m) = ellipkm1(1 − m) = ellipkm1(mc), K(mc) = ellipkm1(m)
            return (
                -2.0 * math.pi * float(special.ellipkm1(mc)) / float(special.ellipkm1(m))
            )
        m_exact = _gamma_parts(*(Fraction(v) for v in (a, b, c, d)))[1]
        # ln of the exact ratio: scaled by 2^e into [1/2, 2], so no digits cancel
        e = m_exact.denominator.bit_length() - m_exact.numerator.bit_length()
        log_m = math.log(float(m_exact * 2**e)) - e * math.log(2.0)
        return -(math.pi**2) / (math.log(4.0) - 0.5 * log_m)
    _, m, mc, _ = _gamma_parts(a, b, c, d)
    if mc == 0:
        return -mpmath.inf
    return -2 * mpmath.pi * mpmath.agm(1, mpmath.sqrt(m)) / mpmath.agm(1, mpmath.sqrt(mc))


def _zolotarev_from_unit(logq1, ks, prec: int | None) -> list:
    out = []
    for kk in ks:
        kk = int(kk)
        if kk == 0:
            out.append(1.0 if prec is None else mpmath.mpf(1))
        else:
            out.append(_modulus_from_log_nome(logq1 * kk, prec))
    return out


#: Stated accuracy of :func:`zolotarev_number` in float64: relative error at most
#: ``ZOLOTAREV_FLOAT_RTOL·(1 + |ln Z_k|)`` where ``Z_k >= 1e-300`` (below, it underflows
#: towards 0). The error of the nome's exponent grows with ``|ln Z_k|``.
ZOLOTAREV_FLOAT_RTOL = 1e-14


def zolotarev_rtol(precision: int, *, kappa: Any = None, k: int = 1) -> float:
    """Stated relative accuracy of Zolotarev numbers and functions at ``precision``.

    * ``kappa`` omitted: :func:`zolotarev_number` with ``precision``: relative error at
      most ``10^(2 − precision)·(1 + |ln Z_k|)``.
    * ``kappa`` given: the values ``|r(x_i)|`` of Zolotarev's function at its extremal
      points from :func:`zolotarev_rational` (and so the equioscillation, and
      ``max_i |r(x_i)|² = Z_k``). Jacobi's ``dn`` near parameter ``1 − κ²`` close to 1
      loses about ``2 log10(1/κ)`` of the ``precision + 15`` digits carried, each of
      the ``k`` factors contributes, and the zeros are rounded to ``precision`` digits:
      ``10·k·(10^-(precision + 15)/κ² + 10^-precision)``.

    Parameters
    ----------
    precision : int
        Decimal digits (``>= 16``).
    kappa : float, optional
        The symmetric modulus ``0 < κ < 1``.
    k : int, optional
        The degree (``>= 1``).

    Returns
    -------
    float
    """
    prec = _validate.integer(precision, "precision", low=16)
    kk = _validate.integer(k, "k", low=1)
    if kappa is None:
        return 10.0 ** (2 - prec)
    kap = _validate.finite_real(
        kappa, "kappa", low=0.0, high=1.0, low_open=True, high_open=True
    )
    return 10.0 * kk * (10.0 ** -(prec + _GUARD) / kap**2 + 10.0**-prec)


def zolotarev_number(E: Any, F: Any, k: Any, *, precision: int | None = None):
    """The Zolotarev number ``Z_k(E, F)`` of two real intervals, exactly.

    With ``γ`` the cross-ratio and the nome ``q = exp(−2πk K(1/γ) / K(1 − 1/γ))``
    (``K`` the complete elliptic integral of the first kind, parameter convention),

    .. math:: Z_k(E, F) = \\Big(\\frac{\\theta_2(q)}{\\theta_3(q)}\\Big)^2
              = 4 q^{1/2} \\prod_{j \\ge 1}
              \\Big(\\frac{1 + q^{2j}}{1 + q^{2j-1}}\\Big)^4,

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
        An accurate value, not a bound: relative error at most
        ``ZOLOTAREV_FLOAT_RTOL·(1 + |ln Z_k|)`` in float64 (where ``Z_k >= 1e-300``) and
        :func:`zolotarev_rtol` ``(precision)·(1 + |ln Z_k|)`` with ``precision``, both
        checked against Arb (:func:`zolotarev_enclosure`) over the whole domain of
        interval pairs. A rigorous upper bound is the upper end of
        :func:`zolotarev_enclosure`, or :func:`zolotarev_bound`.

    Raises
    ------
    ValueError
        For invalid intervals or a negative or non-integral ``k``.
    """
    prec = _precision(precision)
    ks, scalar = _k_values(k)
    if prec is None:
        a, b, c, d = _intervals(E, F, None)
        return _wrap(
            _zolotarev_from_unit(_log_nome_unit(a, b, c, d, None), ks, None),
            scalar,
            None,
        )
    with mpmath.workdps(prec + _GUARD):
        a, b, c, d = _intervals(E, F, prec)
        vals = _zolotarev_from_unit(
            _log_nome_unit(a, b, c, d, prec + _GUARD), ks, prec + _GUARD
        )
    return _wrap(vals, scalar, prec)


def _zolotarev_balls(m: arb, mc: arb, ks, bits: int) -> list[arb]:
    """Balls containing ``Z_k`` for ``1/γ ∈ m`` and ``1 − 1/γ ∈ mc`` (balls in [0, 1]).

    ``Z_k = sqrt(λ(τ))`` with Arb's modular lambda function ``λ = (θ₂/θ₃)⁴`` at
    ``τ = 2ik K(1/γ)/K(1 − 1/γ)`` (nome ``q = e^{iπτ}``), each ``K`` from the
    complementary parameter, ``K(p) = π / (2 agm(1, sqrt(1 − p)))``, so that ``τ`` is
    resolved also where ``1 − 1/γ`` is indistinguishable from 1. Once ``q < 2^-(bits+8)`` the
    bracket ``4 q^{1/2}(1 − 8q) <= Z_k <= 4 q^{1/2}`` (every factor of the theta
    product lies in ``[1 − q^{2j−1}, 1]``) is used instead. Where the balls do not
    decide (``γ`` indistinguishable from 1), ``[0, 1]`` (``Z_k <= 1`` always).
    """
    unit = arb(0.5, 0.5)
    with _arb_ctx.workprec(bits):
        if mc.is_zero():  # gamma = 1: one interval is a point, r(x) = (x - point)^k
            return [arb(1) if int(k) == 0 else arb(0) for k in ks]
        if not (mc > 0 and m > 0 and m <= 1):
            return [arb(1) if int(k) == 0 else unit for k in ks]
        # K(p) = pi / (2 agm(1, sqrt(1 - p))): each K from its complementary
        # parameter, resolved also where 1 - 1/gamma is indistinguishable from 1
        t1 = 2 * arb(1).agm(m.sqrt()) / arb(1).agm(mc.sqrt())  # Im tau for k = 1
        cut = (bits + 8) * math.log(2.0)
        out = []
        for kk in ks:
            kk = int(kk)
            if kk == 0:
                out.append(arb(1))
                continue
            t = t1 * kk
            x = arb.pi() * t  # -log q
            if not x.is_finite():
                out.append(unit)
            elif x > cut:
                top = 4 * (-x / 2).exp()
                out.append((top * (1 - 8 * (-x).exp())).union(top))
            else:
                lam = acb(0, t).modular_lambda().real.nonnegative_part()
                z = lam.sqrt()
                out.append(z.intersection(unit) if z.overlaps(unit) else z)
        return out


def zolotarev_enclosure(E: Any, F: Any, k: Any, *, digits: int = 30):
    """Rigorous enclosures (Arb balls) of the Zolotarev numbers ``Z_k(E, F)``.

    The same number as :func:`zolotarev_number`, computed independently: Arb's
    arithmetic-geometric mean (the complete elliptic integrals, ``K(p) = π / (2 agm(1,
    sqrt(1 − p)))``) and modular lambda function, ``Z_k = sqrt(λ(τ))`` with
    ``τ = 2ik K(1/γ)/K(1 − 1/γ)``, in ball arithmetic from the exact endpoints, at a
    working precision of ``⌈digits·log₂ 10⌉ + 48`` bits (each midpoint has at most
    that many bits).

    Parameters
    ----------
    E, F : pair of real numbers
        Two disjoint closed intervals (floats and mpmath numbers are taken exactly).
    k : int or array_like of int
        Degrees ``k >= 0``.
    digits : int, optional
        Relative accuracy to aim for, in decimal digits (``>= 1``).

    Returns
    -------
    flint.arb or ndarray of flint.arb
        Balls that contain the exact ``Z_k``.
    """
    dig = _validate.integer(digits, "digits", low=1)
    ks, scalar = _k_values(k)
    bits = int(math.ceil(dig * _LOG2_10)) + 48
    _, m, mc, _ = _gamma_balls(E, F, max(dig, 16), bits)
    vals = _zolotarev_balls(m, mc, ks, bits)
    if scalar:
        return vals[0]
    out = np.empty(len(vals), dtype=object)
    out[:] = vals
    return out


def zolotarev_rational(kappa: Any, k: int, *, precision: int | None = None):
    """Zeros and extremal points of the optimal rational function for [κ, 1], [−1, −κ].

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
    kap = _validate.finite_real(
        kappa, "kappa", low=0.0, high=1.0, low_open=True, high_open=True
    )
    kk = _validate.integer(k, "k", low=1)
    work = (prec or 16) + _GUARD
    with mpmath.workdps(work):
        kap_mp = kappa if isinstance(kappa, mpmath.mpf) else mpmath.mpf(kap)
        m = (1 - kap_mp) * (1 + kap_mp)
        Kp = mpmath.ellipk(m)
        zeros = [
            mpmath.ellipfun("dn", (2 * j - 1) * Kp / (2 * kk), m=m)
            for j in range(1, kk + 1)
        ]
        ext = [mpmath.ellipfun("dn", i * Kp / kk, m=m) for i in range(kk + 1)]
    if prec is None:
        return np.array([float(z) for z in zeros]), np.array([float(x) for x in ext])
    with mpmath.workdps(prec):
        return np.array([+z for z in zeros], dtype=object), np.array(
            [+x for x in ext], dtype=object
        )


def _points(x: Any, name: str, prec: int | None) -> list:
    arr = np.asarray(x, dtype=object).reshape(-1)
    if arr.size == 0:
        raise ValueError(f"{name} must hold at least one point")
    out = []
    for i, v in enumerate(arr):
        out.append(_real(v, f"{name}[{i}]", prec))
    return out


def zolotarev_discrete(
    E_points: Any, F_points: Any, kmax: int, *, precision: int | None = None
):
    """Upper bounds on the Zolotarev numbers ``Z_k`` of finite point sets, k = 0..kmax.

    The Beckermann--Townsend argument only uses the eigenvalues of ``A`` and ``B``: with
    ``E`` and ``F`` the finite sets of eigenvalues, any rational function of type
    ``(k, k)`` with no pole on ``E`` and no zero on ``F`` gives
    ``Z_k(E, F) <= max_E |r| · max_F |1/r|``. Here ``r`` is built greedily: step ``k``
    puts a zero at the point of ``E`` where ``|r|`` is largest and a pole at the point
    of ``F`` where ``|1/r|`` is largest. Once every point of ``E`` is a zero the bound
    is 0. The products are evaluated in ball arithmetic at the exact points and rounded
    up, so each returned number bounds ``Z_k`` rigorously.

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
        Non-increasing upper bounds on ``Z_0 = 1, Z_1, ..., Z_kmax``: entry ``k`` is
        ``min(1, min_{1 <= j <= k} max_E |r_j| · max_F |1/r_j|)`` for the greedy
        ``r_j`` of the points as read (floats exactly, other numbers at ``precision +
        15`` digits), never below it and at most a relative ``2^-50`` (float64) or
        ``10^-precision`` above it (Arb carries 32 bits beyond the target).
    """
    prec = _precision(precision)
    K = _validate.integer(kmax, "kmax", low=0)
    work = None if prec is None else prec + _GUARD
    ctx = mpmath.workdps(work) if work else _NullCtx()
    with ctx:
        Ep = _points(E_points, "E_points", work)
        Fp = _points(F_points, "F_points", work)
    if any(x == y for x in Ep for y in Fp):
        raise ValueError("E_points and F_points must be disjoint sets")
    bits = _target_bits(prec) + 32
    with _arb_ctx.workprec(bits):
        Ea = [certify.to_arb(x) for x in Ep]
        Fa = [certify.to_arb(y) for y in Fp]
        rE = [arb(1)] * len(Ea)  # |r| on E
        rF = [arb(1)] * len(Fa)  # |1/r| on F
        out = [arb(1)]
        best = arb(1)
        for _ in range(K):
            iE = max(range(len(Ea)), key=lambda i: rE[i].mid())
            iF = max(range(len(Fa)), key=lambda i: rF[i].mid())
            if all(v.is_zero() for v in rE) or all(v.is_zero() for v in rF):
                best = arb(0)
                out.append(best)
                continue
            z, p = Ea[iE], Fa[iF]
            rE = [v * abs(x - z) / abs(x - p) for v, x in zip(rE, Ea)]
            rF = [v * abs(y - p) / abs(y - z) for v, y in zip(rF, Fa)]
            val = max(v.upper() for v in rE) * max(v.upper() for v in rF)
            if val.upper() < best:
                best = val.upper()
            out.append(best)
    return _outward(out, prec)


class _NullCtx:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def displacement_singular_value_bounds(
    Z: Any, nu: int, n: int, scale: Any = 1.0
) -> np.ndarray:
    """Beckermann--Townsend bounds ``σ_i(X) <= scale·min(1, Z_{⌊(i−1)/ν⌋})``, i = 1..n.

    From ``σ_{1+νk}(X) <= Z_k σ_1(X)`` and ``σ_i`` non-increasing; valid when ``X`` has
    displacement rank ``<= ν``, ``Z[k]`` bounds ``Z_k(E, F)`` and ``scale >= σ_1(X)``
    (for instance the Frobenius norm). Degrees beyond ``len(Z) − 1`` reuse the last
    entry (``Z_k`` is non-increasing in ``k``).

    Parameters
    ----------
    Z : array_like
        Upper bounds on ``Z_0, Z_1, ...`` (float or mpmath numbers), ``Z[0]`` for
        ``k = 0``.
    nu : int
        Displacement rank ``ν >= 1``.
    n : int
        Number of singular values, ``>= 1``.
    scale : float or mpmath.mpf
        An upper bound on ``σ_1(X)``, ``>= 0``.

    Returns
    -------
    ndarray, shape (n,)
        float64 when every bound is a float: ``scale`` a float and each ``Z_k`` used
        a float or ``>= 1`` (then replaced by the number 1, whatever its type);
        mpmath numbers (an object array) otherwise.
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
        raise ValueError(
            f"scale must be >= 0 (an upper bound on sigma_1), got {scale!r}"
        )
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
    lam_mp = [
        mpmath.mpf(x) if isinstance(x, (mpmath.mpf, str)) else mpmath.mpf(float(x))
        for x in np.asarray(lam_v, dtype=object)
    ]
    eta_mp = eta if isinstance(eta, mpmath.mpf) else mpmath.mpf(float(eta))
    return lam_mp, eta_mp


def cayley_nodes(lam: Any, eta: float, *, precision: int | None = None) -> np.ndarray:
    """``h_k = (1 + r_k)/(1 − r_k) = (2 − ηλ_k)/(ηλ_k) > 0``, stable ``0 < ηλ_k < 2``.

    The Cayley map sends ``r`` to ``h`` and ``1/r`` to ``−h``; ``h`` is decreasing in
    ``ηλ`` and ``h_k < 1`` exactly when ``r_k < 0`` (``ηλ_k > 1``).

    Parameters
    ----------
    lam : array_like, shape (d,)
        Eigenvalues ``λ_k > 0``. With ``precision``, the entries of an object array
        that are mpmath numbers or decimal strings are taken as they are (a string
        at the working precision); any other real number, and every entry of any
        other array, as the float64 it rounds to.
    eta : float or mpmath.mpf
        Learning rate, ``0 < η·max(λ) < 2``; with ``precision``, any other real
        number (a ``Fraction``, a decimal string) as the float64 it rounds to.
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
    """``E = [r_min, r_max]``, ``F = [1/r_max, 1/r_min]`` when all ``r_k = 1 − ηλ_k``
    are positive.

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
            "contraction_intervals needs every r_k = 1 - eta*lam_k > 0 "
            f"(eta*max(lam) < 1); got eta*max(lam) = {eta_v * lam_f.max():.6g}. "
            "Use ribbon_intervals (Cayley frame)"
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


def displacement_generators(
    lam: Any,
    eta: float,
    steps: int,
    *,
    b: Any = None,
    which: str = "S",
    form: str = "sylvester",
    precision: int | None = None,
):
    """A matrix of the cloud and the generators of its displacement equation.

    Returns ``(X, A, B, M, N)`` with ``diag(A) X − X diag(B) = M Nᵀ``:

    * ``which = "G"``: ``X = U G U`` with ``G_kl = (1/n) Σ_{t<n} (r_k r_l)^t``,
      ``n = T + 1`` (``U = diag(sqrt(λ) b)``, or ``U = I`` when ``b`` is omitted);
      2 generators.
    * ``which = "G_inf"``: ``X = U G_∞ U`` with ``(G_∞)_kl = 1/(1 − r_k r_l)``, the
      limit of ``n G`` as ``T → ∞``; 1 generator.
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
        Ground truth in the eigenbasis (the diagonal scaling). With ``precision``,
        mpmath entries are taken as they are, any other as the float64 it rounds to
        (``lam`` and ``eta`` as in :func:`cayley_nodes`).
    which : {"S", "G", "G_inf"}
    form : {"sylvester", "lyapunov"}
        ``"sylvester"``: ``A = r``, ``B = 1/r`` (needs every ``ηλ_k != 1``);
        ``"lyapunov"``: ``A = h``, ``B = −h`` (Cayley nodes), valid for all stable
        ``η``.
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
        raise ValueError(
            "which='S' needs the ground truth b (the signal covariance depends on it)"
        )
    b_arr = None if b is None else _validate.vector(b, "b", d)
    if form == "sylvester" and np.any(eta_v * lam_f == 1.0):
        raise ValueError(
            "form='sylvester' needs every r_k = 1 - eta*lam_k != 0; use form='lyapunov'"
        )
    n = T + 1
    if prec is None:
        # the exact rates a + a_lo = eta*lam; r = sign·e^L and r^n from them
        a, a_lo = _geometric.rates(eta_v, lam_f)
        L, sign = _geometric.log_abs_r(a, a_lo)
        with np.errstate(under="ignore"):
            r = sign * np.exp(L)
            rn = _geometric.powers(L, sign, n)
        u = np.ones(d) if b_arr is None else np.sqrt(lam_f) * b_arr
        G, m, cov = cloud.time_averages(lam_f, eta_v, T)
        one = np.ones(d)
        if which == "G":
            X, W, C = G, np.column_stack([one, rn]), np.diag([1.0 / n, -1.0 / n])
        elif which == "G_inf":
            Ls, same = L[:, None] + L[None, :], sign[:, None] * sign[None, :] > 0
            with np.errstate(under="ignore"):  # 1 − r_k r_l without cancellation
                X = 1.0 / np.where(same, -np.expm1(Ls), 1.0 + np.exp(Ls))
            W, C = one[:, None], np.ones((1, 1))
        else:
            X, W, C = cov, np.column_stack([one - m, rn - m]), _core_S(n, float)
        X = u[:, None] * X * u[None, :]
        W = u[:, None] * W
        if form == "sylvester":
            A, B = r, sign * np.exp(-L)
            M, N = W, -(W @ C.T) / r[:, None]
        else:
            h = ((2.0 - a) - a_lo) / a  # 2 − a is exact where it cancels (a > 1)
            A, B = h, -h
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
            b_mp = [
                v if isinstance(v, mpmath.mpf) else mpmath.mpf(float(v))
                for v in np.asarray(b, dtype=object)
            ]
            u = [mpmath.sqrt(lam_mp[k]) * b_mp[k] for k in range(d)]
        G, m, cov = cloud.time_averages(lam, eta, T, precision=work)
        rn = [x**n for x in r]
        one = [mpmath.mpf(1)] * d
        if which == "G":
            X, cols, C = G, [one, rn], [[mpmath.mpf(1) / n, 0], [0, -mpmath.mpf(1) / n]]
        elif which == "G_inf":
            X = np.array(
                [[1 / (a[k] + a[l] - a[k] * a[l]) for l in range(d)] for k in range(d)],
                dtype=object,
            )
            cols, C = [one], [[mpmath.mpf(1)]]
        else:
            X, cols, C = (
                cov,
                [[1 - x for x in m], [y - x for x, y in zip(m, rn)]],
                _core_S(n, mpmath.mpf),
            )
        nu = len(cols)
        Xs = np.array(
            [[u[k] * X[k, l] * u[l] for l in range(d)] for k in range(d)], dtype=object
        )
        W = [[u[k] * cols[j][k] for j in range(nu)] for k in range(d)]
        WC = [  # W Cᵀ
            [sum(W[k][i] * C[j][i] for i in range(nu)) for j in range(nu)]
            for k in range(d)
        ]
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
            return (
                np.array([[+v for v in row] for row in x], dtype=object)
                if isinstance(x[0], (list, np.ndarray))
                else np.array([+v for v in x], dtype=object)
            )

        return rnd(Xs), rnd(A), rnd(B), rnd(M), rnd(N)


def _core_S(n: int, kind):
    """Core ``C`` of ``(G − m mᵀ) − R (G − m mᵀ) R = W C Wᵀ``, ``W = [1 − m, r^n − m]``.

    With ``x_t = r^t − m`` (centred, ``Σ_{t<n} x_t = 0``) and ``R x_t = x_{t+1} + v``,
    ``v = (x_0 − x_n)/n``, the Stein difference telescopes to
    ``(x_0 x_0ᵀ − x_n x_nᵀ + (x_0 − x_n)(x_0 − x_n)ᵀ / n) / n``.
    """
    if kind is mpmath.mpf:
        one, nn = mpmath.mpf(1), mpmath.mpf(n)
        return [
            [(one + one / nn) / nn, -one / nn**2],
            [-one / nn**2, (-one + one / nn) / nn],
        ]
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
        Singular values strictly above ``rtol · σ_1`` count; default
        ``10^(−⌊precision/2⌋)``.

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
                D[k, l] = mpmath.mpf(Aa[k]) * mpmath.mpf(Xa[k, l]) - mpmath.mpf(
                    Xa[k, l]
                ) * mpmath.mpf(Ba[l])
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
        Real entries: float64 or ``mpmath.mpf`` (taken exactly).
    precision : int
        Working precision in decimal digits (``>= 16``).
    symmetric : bool, optional
        Use the symmetric eigensolver (``mpmath.eigsy``; singular values are the
        absolute eigenvalues); default: whether ``X`` is exactly symmetric. Otherwise
        ``mpmath.svd_r``.

    Returns
    -------
    sv : ndarray of mpmath.mpf, shape (min(p, q),)
        Descending singular values.
    allowance : mpmath.mpf
        ``10 · max(p, q) · 10^(−precision) · ||X||_F``: both solvers are backward
        stable, so each computed value lies within this of the exact singular value of
        the matrix as stored (Weyl). Values below it are not resolved.

    Raises
    ------
    ValueError
        If ``X`` is empty or not 2-D, or ``symmetric=True`` for a non-square ``X``.
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
            symmetric = p == q and all(
                M[i, j] == M[j, i] for i in range(p) for j in range(i + 1, q)
            )
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


def cauchy_matrix(
    x: Any, y: Any, *, precision: int | None = None, enclosure: bool = False
):
    """The Cauchy matrix ``C_ij = 1/(x_i − y_j)``.

    It satisfies ``diag(x) C − C diag(y) = 1 1ᵀ`` (displacement rank 1).

    Parameters
    ----------
    x, y : array_like
        Finite real nodes with ``x_i != y_j`` for all pairs.
    precision : int, optional
        Decimal digits; float64 when omitted.
    enclosure : bool, optional
        Return a ball matrix (``flint.arb_mat``) that contains the exact ``C`` of the
        given nodes (floats and mpmath numbers taken exactly), each entry computed at
        ``⌈precision·log₂10⌉ + 32`` bits (80 bits without ``precision``): its midpoint
        has at most that many bits.
    """
    prec = _precision(precision)
    work = None if prec is None else prec + _GUARD
    ctx = mpmath.workdps(work) if work else _NullCtx()
    with ctx:
        xs = _points(x, "x", work)
        ys = _points(y, "y", work)
        if any(xi == yj for xi in xs for yj in ys):
            raise ValueError(
                "x and y must not share a value (1/(x_i - y_j) would be infinite)"
            )
        if enclosure:
            with _arb_ctx.workprec(_target_bits(prec) + 16):
                xa = [certify.to_arb(v) for v in xs]
                ya = [certify.to_arb(v) for v in ys]
                return arb_mat([[1 / (xi - yj) for yj in ya] for xi in xa])
        rows = [[1 / (xi - yj) for yj in ys] for xi in xs]
    if prec is None:
        return np.array(rows, dtype=float)
    with mpmath.workdps(prec):
        return np.array([[+v for v in row] for row in rows], dtype=object)


def _approx_eigenvectors(J: arb_mat, bits: int) -> np.ndarray:
    """Approximate orthonormal eigenvectors (columns, exact midpoints) of a real
    symmetric ball matrix.

    Arb's QR eigensolver at ``bits`` bits, then Newton--Schulz steps
    ``V <- V (3I − VᵀV)/2`` (midpoints kept) until ``||VᵀV − I||_F < 2^-(bits−16)``
    (the solver does not orthogonalise vectors of close eigenvalues); where it
    returns nearly dependent vectors (a multiple or nearly multiple eigenvalue: the
    defect ``||VᵀV − I||_F`` of Arb's vectors, or of a step, is ``>= 1/4``, from
    which the steps need not converge), or 64 steps do not suffice, or the solver
    raises ``ValueError``,
    ``mpmath.eigsy`` of the symmetrised midpoints ``(A + Aᵀ)/2`` at
    ``⌊bits/log2(10)⌋ + 1`` digits instead (its vectors, ``mpmath.mpf`` entries).
    Either way the columns are orthonormal to ``2^-(bits−16)``.
    """
    n = J.nrows()
    eye = arb_mat(n, n)
    for i in range(n):
        eye[i, i] = arb(1)
    with _arb_ctx.workprec(bits):
        try:
            _, R = acb_mat(J).eig(algorithm="approx", right=True)
            V = arb_mat([[R[i, j].real.mid() for j in range(n)] for i in range(n)])
        except ValueError:
            V = None
        for _ in range(64 if V is not None else 0):
            F = V.transpose() * V - eye
            err = sum((F[i, j].mid() ** 2 for i in range(n) for j in range(n)), arb(0))
            if not err < arb(2) ** (-2 * (bits - 16)):
                if not err < arb(1) / 16:
                    V = None
                    break
                W = V * (3 * eye - V.transpose() * V) / 2
                V = arb_mat([[W[i, j].mid() for j in range(n)] for i in range(n)])
                continue
            return np.array(
                [[V[i, j] for j in range(n)] for i in range(n)], dtype=object
            )
    with mpmath.workdps(int(bits / _LOG2_10) + 1):
        A = mpmath.matrix(
            [[certify.to_mpf(J[i, j]) for j in range(n)] for i in range(n)]
        )
        _, Q = mpmath.eigsy((A + A.T) / 2)
        return np.array(Q.tolist(), dtype=object)


def singular_value_enclosures(
    X: Any, *, digits: int, symmetric: bool | None = None
) -> np.ndarray:
    """Rigorous enclosures (Arb balls) of all singular values of ``X``, descending.

    Symmetric ``X``: the absolute values of the eigenvalue enclosures of
    :func:`ribbonlib.certify.symmetric_eigenvalues`. Otherwise the eigenvalues ``±σ_i``
    of the symmetric ``[[0, X], [Xᵀ, 0]]``. The approximate eigenvectors come from Arb's
    QR eigensolver at ``digits`` digits and 32 guard bits (``⌈digits·log2(10)⌉ + 32``
    bits, ``_approx_eigenvectors``); only their quality matters (Weyl and Ostrowski
    turn any vectors into valid enclosures), and each ball is resolved to about
    ``d·10^-digits·||X||``. A ball that contains 0 only bounds ``σ_i`` from above.

    Parameters
    ----------
    X : flint.arb_mat or array_like of floats / mpmath numbers, shape (p, q)
        The matrix (balls are taken as they are: every matrix in them is covered).
    digits : int
        Precision of the approximate eigenvectors (``>= 16``).
    symmetric : bool, optional
        Default: whether the midpoints of ``X`` are exactly symmetric.

    Returns
    -------
    ndarray of flint.arb, shape (min(p, q),)

    Raises
    ------
    ValueError
        If ``X`` is empty (no rows or no columns, also as an ``arb_mat``), holds a
        non-finite number, or ``symmetric=True`` for a non-square ``X``.
    """
    dig = _validate.integer(digits, "digits", low=16)
    if isinstance(X, arb_mat):
        M = X
    else:
        arr = np.asarray(X, dtype=object)
        if arr.ndim != 2 or 0 in arr.shape:
            raise ValueError(f"X must be a non-empty 2-D array, got shape {arr.shape}")
        try:
            M = arb_mat(certify.balls(arr).tolist())
        except ValueError as exc:
            raise ValueError(f"X must hold finite real numbers: {exc}") from None
    p, q = M.nrows(), M.ncols()
    if p == 0 or q == 0:
        raise ValueError("X must be a non-empty matrix")
    if symmetric is None:
        symmetric = p == q and all(
            M[i, j].mid() == M[j, i].mid() for i in range(p) for j in range(i)
        )
    bits = int(math.ceil(dig * _LOG2_10)) + 32
    if symmetric:
        if p != q:
            raise ValueError("symmetric=True needs a square matrix")
        ev = certify.symmetric_eigenvalues(
            M, vectors=_approx_eigenvectors(M, bits), digits=dig, balls=True
        )
        with _arb_ctx.workprec(bits):
            out = sorted((abs(e) for e in ev), key=lambda e: e.mid(), reverse=True)
        return np.array(out, dtype=object)
    n = p + q
    J = arb_mat(n, n)
    for i in range(p):
        for j in range(q):
            J[i, p + j] = M[i, j]
            J[p + j, i] = M[i, j]
    ev = certify.symmetric_eigenvalues(
        J, vectors=_approx_eigenvectors(J, bits), digits=dig, balls=True
    )
    return np.array(list(ev[: min(p, q)]), dtype=object)


def rational_sup(zeros: Any, interval: Any, *, target: Any = None, digits: int = 40):
    """Enclosure of ``sup_{[lo, hi]} |r(x)|`` for ``r(x) = Π_j (x − p_j)/(x + p_j)``.

    Interval arithmetic on an adaptive subdivision: where ``r'`` has no zero on a piece
    (decided by its enclosure) ``|r|`` is monotone and its sup is at an end; elsewhere
    the mean-value form ``|r(c)| + w·max|r'|`` bounds it, and the piece is halved
    until that bound falls below ``target`` or the pieces reach the resolution of the
    working precision. The maximum near each interior extremum is thereby located
    to within ``sqrt(target)`` relative, however the zeros are placed.

    The balls carry ``b = ⌊digits·log₂10⌋ + 32`` bits, and a piece ``[x0, x1]`` is no
    longer halved once its half-width is below ``2^-⌊b/2⌋·c`` (``c`` its midpoint).
    Without a target, ``U − L`` is therefore of the order of
    ``2^-b·(n·sup|r| + max x*²|r''(x*)|)`` (``n`` zeros, ``x*`` the interior maxima).

    Parameters
    ----------
    zeros : array_like
        The ``p_j`` (floats or mpmath numbers, exact), ``p_j > 0``.
    interval : pair
        ``(lo, hi)`` with ``0 < lo < hi`` (exact).
    target : number, optional
        Stop refining a piece once its bound is at most this (e.g. the claimed sup
        times ``1 + ε``); default: refine to the resolution of ``digits``.
    digits : int, optional
        Working precision (decimal digits), at least 16; default 40.

    Returns
    -------
    L, U : flint.arb
        Exact numbers of at most ``b`` bits with ``L <= sup |r| <= U``: ``L`` from
        values at points, ``U`` from the pieces (``U = 1``, the trivial bound, once
        ``L`` exceeds ``target``, strictly, on a piece where ``|r|`` is not monotone:
        the claim ``sup <= target`` is then refuted and nothing is refined further;
        ``L = target`` refutes nothing).
    """
    dig = _validate.integer(digits, "digits", low=16)
    bits = int(dig * _LOG2_10) + 32
    with mpmath.workdps(dig + _GUARD):
        ps = _points(zeros, "zeros", dig + _GUARD)
        lo, hi = _interval(interval, "interval", dig + _GUARD)
    if not lo > 0 or not lo < hi:
        raise ValueError(f"interval must satisfy 0 < lo < hi, got ({lo}, {hi})")
    if not all(v > 0 for v in ps):
        raise ValueError("zeros must be > 0 (the symmetric form r(-x) = 1/r(x))")
    goal = None
    if target is not None:
        try:
            goal = target if isinstance(target, arb) else certify.to_arb(target)
        except ValueError:
            goal = arb.nan()
        if not goal.is_finite():
            raise ValueError(f"target must be a finite real number, got {target!r}")
    with _arb_ctx.workprec(bits):
        P = [certify.to_arb(v) for v in ps]

        def r(x):
            out = arb(1)
            for pj in P:
                out = out * (x - pj) / (x + pj)
            return out

        def dr(x):  # product rule with prefix and suffix products (no division)
            f = [(x - pj) / (x + pj) for pj in P]
            suffix = [arb(1)] * (len(P) + 1)
            for j in range(len(P) - 1, -1, -1):
                suffix[j] = suffix[j + 1] * f[j]
            tot, prefix = arb(0), arb(1)
            for j, pj in enumerate(P):
                tot = tot + 2 * pj / (x + pj) ** 2 * prefix * suffix[j + 1]
                prefix = prefix * f[j]
            return tot

        a, b = certify.to_arb(lo), certify.to_arb(hi)
        lower = max(abs(r(a)).lower(), abs(r(b)).lower())
        upper = arb(0)
        resolution = arb(2) ** -(bits // 2)  # pieces stop at this width relative to |x|
        stack = [(a, b)]
        while stack:
            x0, x1 = stack.pop()
            X = x0.union(x1)
            d = dr(X)
            if d > 0 or d < 0:  # monotone: the sup is at an end
                v = max(abs(r(x0)).upper(), abs(r(x1)).upper())
                upper = v if v > upper else upper
                continue
            c = ((x0 + x1) / 2).mid()
            rc = abs(r(c))
            lower = rc.lower() if rc.lower() > lower else lower
            w = (x1 - x0) / 2
            ub = (rc + w * abs(d)).upper()
            if goal is not None and lower > goal:  # refuted: the sup exceeds the target
                return lower, arb(1)  # every factor |x - p|/(x + p) is below 1
            if (goal is not None and ub <= goal) or w < resolution * c:
                upper = ub if ub > upper else upper
            else:
                stack.extend([(x0, c), (c, x1)])
        return lower, upper


# ------------------------------------------------------------- Chebyshev in time


def _ive_down(beta: arb, J: int) -> list[arb]:
    """Balls of ``e^{−β} I_j(β)``, ``j = 0..J``: Arb at ``J`` and ``J + 1``, then
    the recurrence ``I_{j−1} = I_{j+1} + (2j/β) I_j`` downwards (positive terms only).
    """
    iv = [arb(0)] * (J + 2)
    iv[J + 1] = beta.bessel_i(J + 1, scaled=True)
    iv[J] = beta.bessel_i(J, scaled=True)
    for j in range(J, 0, -1):
        iv[j - 1] = iv[j + 1] + (2 * j / beta) * iv[j]
    return iv[: J + 1]


def _tails_ball(beta: arb, mm: int, bits: int) -> list[arb]:
    """Balls of ``τ(β, m) = 2 Σ_{j>m} e^{−β} I_j(β)``, m = 0..mm, for exact ``β >= 0``.

    For ``β <= 2(mm + 1)`` the terms are summed upwards to
    ``J >= max(mm + 1, β) + bits`` and the rest is enclosed in
    ``[0, e^{−β} I_J ρ/(1 − ρ)]``, ``ρ = β/(2(J + 1)) < 1/2`` (termwise in the power
    series, ``I_{j+1}(β) <= β I_j(β) / (2(j + 1))``). For larger ``β`` the tail is the
    complement ``1 − e^{−β}(I_0 + 2 Σ_{1 <= j <= m} I_j)`` of the generating function
    ``e^β = Σ_j I_j(β)``, at a precision raised until it is resolved.
    """
    if beta.is_zero():
        return [arb(0)] * (mm + 1)
    bf = float(beta)
    wp = bits
    while True:
        with _arb_ctx.workprec(wp):
            if bf <= 2 * (mm + 1):
                J = max(mm + 1, int(math.ceil(bf))) + bits + 10
                iv = _ive_down(beta, J)
                rho = beta / (2 * (J + 1))
                acc = arb(0).union(iv[J] * rho / (1 - rho))
                tails = [arb(0)] * (mm + 1)
                for j in range(J, 0, -1):
                    acc = acc + iv[j]
                    if j - 1 <= mm:
                        tails[j - 1] = 2 * acc
                return tails
            iv = _ive_down(beta, mm + 1)
            acc = iv[0]
            tails = []
            for j in range(1, mm + 2):
                tails.append(1 - acc)
                acc = acc + 2 * iv[j]
        if tails[-1].rel_accuracy_bits() >= bits or wp >= _MAX_BITS:
            return tails
        wp *= 2


def chebyshev_tails(
    beta: Any, mmax: int, *, precision: int | None = None
) -> np.ndarray:
    """``τ(β, m) = 2 Σ_{j > m} e^{−β} I_j(β)``, m = 0..mmax: Chebyshev truncation error.

    On ``x ∈ [−1, 1]``,
    ``e^{−β(1 + x)} = e^{−β} I_0(β) + 2 Σ_{j ≥ 1} (−1)^j e^{−β} I_j(β) T_j(x)``, so
    ``τ(β, m)`` bounds the uniform error of its degree-``m`` Chebyshev truncation.
    Evaluated in ball arithmetic (Arb's Bessel functions at the two highest orders,
    then the stable downward recurrence; upward sums with a proved remainder, or the
    complement of ``e^β = Σ_j I_j(β)`` for large ``β``) and rounded up: every returned
    number is an upper bound on ``τ``, accurate to about the working precision. ``τ``
    increases with ``β``.

    Parameters
    ----------
    beta : array_like, shape (p,)
        ``β >= 0`` (floats and mpmath numbers are taken exactly; other real numbers,
        such as ints, :class:`fractions.Fraction` or numpy scalars, are rounded to
        float64 first).
    mmax : int
        Largest degree, ``>= 0``.
    precision : int, optional
        Decimal digits; float64 when omitted.

    Returns
    -------
    ndarray, shape (p, mmax + 1)
        float64, or mpmath numbers (object dtype) with ``precision``.
    """
    prec = _precision(precision)
    mm = _validate.integer(mmax, "mmax", low=0)
    bet = np.asarray(beta, dtype=object).reshape(-1)
    vals = []
    for i, v in enumerate(bet):
        try:
            fv = float(v)
        except (TypeError, ValueError):
            raise ValueError(
                f"beta[{i}] must be a real number >= 0, got {v!r}"
            ) from None
        if not (fv >= 0 and math.isfinite(fv)):
            raise ValueError(f"beta[{i}] must be finite and >= 0, got {v!r}")
        vals.append(v if isinstance(v, mpmath.mpf) else fv)
    bits = _target_bits(prec) + 16
    out = np.empty((bet.size, mm + 1), dtype=float if prec is None else object)
    for i, v in enumerate(vals):
        out[i] = _outward(_tails_ball(certify.to_arb(v), mm, bits), prec)
    return out


# ----------------------------------------------------------- bounds on signal widths


def _exact_inputs(
    lam: Any, b: Any, eta: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
    """Validated ``lam``, ``b`` (mpf entries as given, taken exactly; every other number
    as its float64 value), their float64 copies, and ``eta`` (likewise), with
    ``η·λ_k < 2`` checked for the exact values."""
    lam_v = _validate.eigenvalues(lam)
    lam_f = np.asarray(lam_v, dtype=float)
    d = lam_f.size
    b_f = _validate.vector(b, "b", d)
    b_arr = np.asarray(b, dtype=object).reshape(-1)
    b_v = np.array(
        [v if isinstance(v, mpmath.mpf) else float(v) for v in b_arr], dtype=object
    )
    lam_o = np.array(
        [
            v if isinstance(v, mpmath.mpf) else float(v)
            for v in np.asarray(lam_v, dtype=object)
        ],
        dtype=object,
    )
    eta_f = _validate.learning_rate(eta, lam_f)
    eta_v = eta if isinstance(eta, mpmath.mpf) else eta_f
    # the float check above rounds: an mpf eta (or lam) can pass it with eta*lam >= 2
    eta_a = certify.to_arb(eta_v)
    for x in lam_o:
        x_a = certify.to_arb(x)
        with _arb_ctx.workprec(eta_a.mid().bits() + x_a.mid().bits() + 8):
            if not eta_a * x_a < 2:  # exact product
                raise ValueError("eta must satisfy 0 < eta*max(lam) < 2 exactly")
    return lam_o, b_v, lam_f, b_f, eta_v


def _accurate(values, bits: int) -> bool:
    """Whether every ball is finite and either exact or resolved to ``bits`` relative
    bits (``rel_accuracy_bits() >= bits``)."""
    for v in values:
        if not v.is_finite():
            return False
        if not v.is_exact() and v.rel_accuracy_bits() < bits:
            return False
    return True


def _cloud_balls(
    lam_o: np.ndarray, b_o: np.ndarray, eta: Any, T: int, target: int
) -> dict:
    """Ball enclosures of everything the bounds are made of, for the modes as given.

    With ``a = ηλ`` (exact), ``r = 1 − a``, ``n = T + 1`` and
    ``c_kl = a_k + a_l − a_k a_l = 1 − r_k r_l > 0``: ``h = (2 − a)/a``,
    ``u = sqrt(λ) b``, ``m_k = (1 − r_k^n)/(n a_k)``,
    ``G_kl = (1 − (r_k r_l)^n)/(n c_kl)`` (``m = G = 1`` exactly for ``n = 1``),
    ``cov = G − m mᵀ``, ``G_∞/n = 1/(n c)``,
    ``β = T|log r|/2`` (``r > 0``) and the half range ``cap`` of ``r^t``, ``t = 0..T``.
    ``1 − x^n`` is formed as ``−expm1(n log1p(x − 1))`` for ``x > 0``; the working
    precision starts at ``max(128, target + 64)`` bits and is doubled until every ball
    is resolved to ``target`` relative bits (the cancellation in ``G − m mᵀ`` for slow
    modes costs about ``2 log2(1/(nηλ))``), or has reached ``_MAX_BITS``; the
    precision used is returned as ``wp``.
    """
    d = len(lam_o)
    n = T + 1
    wp = max(128, target + 64)
    while True:
        with _arb_ctx.workprec(wp):
            eta_a = certify.to_arb(eta)
            lam_a = [certify.to_arb(x) for x in lam_o]
            b_a = [certify.to_arb(x) for x in b_o]
            a = []
            for x in lam_a:
                with _arb_ctx.workprec(
                    max(wp, eta_a.mid().bits() + x.mid().bits() + 8)
                ):
                    a.append(eta_a * x)  # exact
            pos = [bool(x < 1) for x in a]  # r > 0
            zero = [bool(x == 1) for x in a]  # r = 0
            r = [1 - x for x in a]
            h = [(2 - x) / x for x in a]
            u = [x.sqrt() * y for x, y in zip(lam_a, b_a)]
            em, beta, cap = [], [], []
            for k in range(d):
                if pos[k]:
                    lr = (-a[k]).log1p()
                    em.append(-(n * lr).expm1())
                    beta.append(-T * lr / 2)
                    cap.append(-(T * lr).expm1() / 2)
                else:
                    em.append(1 - r[k] ** n)
                    beta.append(None)
                    cap.append(a[k] / 2 if T > 0 else arb(0))
            # n = 1 (T = 0): m = 1 and G = 1 exactly, so that cov = 0 is the exact ball 0
            m = [em[k] / (n * a[k]) if n > 1 else arb(1) for k in range(d)]
            G = [[None] * d for _ in range(d)]
            cov = [[None] * d for _ in range(d)]
            gin = [[None] * d for _ in range(d)]
            for k in range(d):
                for l in range(k, d):
                    c = a[k] + a[l] - a[k] * a[l]
                    if (pos[k] == pos[l]) and not (zero[k] or zero[l]):  # r_k r_l > 0
                        emp = -(n * (-c).log1p()).expm1()
                    else:
                        emp = 1 - (r[k] * r[l]) ** n
                    g = emp / (n * c) if n > 1 else arb(1)
                    G[k][l] = G[l][k] = g
                    cov[k][l] = cov[l][k] = g - m[k] * m[l]
                    gin[k][l] = gin[l][k] = 1 / (n * c)
            flat = (
                [x for row in cov for x in row]
                + [x for row in G for x in row]
                + h
                + u
                + m
            )
            flat += [x for x in beta if x is not None] + cap
            if _accurate(flat, target) or wp >= _MAX_BITS:
                return dict(
                    a=a,
                    pos=pos,
                    h=h,
                    u=u,
                    m=m,
                    beta=beta,
                    cap=cap,
                    G=G,
                    cov=cov,
                    gin=gin,
                    wp=wp,
                    n=n,
                    T=T,
                )
        wp *= 2


def _fro_hi(X: list) -> arb:
    """Upper end of the Frobenius norm of a (square, list-of-lists) ball matrix."""
    tot = sum((x * x for row in X for x in row), arb(0))
    return tot.upper().sqrt().upper()


def _zolo_blocks(h: list, a: list, kmax: int, bits: int) -> list[list[arb]]:
    """``Z_k([h_1, h_s], −[h_1, h_s])`` for every leading block ``s`` (``a`` exact and
    descending, so ``h`` ascending), ``k = 0..kmax``, as exact upper ends."""
    out = []
    with _arb_ctx.workprec(bits):
        for s in range(1, len(h) + 1):
            lo, hi = h[0], h[s - 1]
            if a[0] == a[s - 1]:  # a point: Z_k = 0 for k >= 1
                row = [arb(1)] + [arb(0)] * kmax
            else:
                den = (lo + hi) ** 2
                m = 4 * lo * hi / den  # 1/gamma
                mc = (hi - lo) ** 2 / den  # 1 - 1/gamma
                row = [
                    z.upper() for z in _zolotarev_balls(m, mc, range(kmax + 1), bits)
                ]
            out.append(row)
    return out


def _bt(Z_row: list, nu: int, rank: int, scale: arb, d: int) -> list[arb]:
    """``scale·min(1, Z_{⌊(i−1)/ν⌋})``, i = 1..d, zero beyond ``rank`` (exact ends)."""
    out = []
    for i in range(d):
        if i >= rank:
            out.append(arb(0))
            continue
        z = Z_row[min(i // nu, len(Z_row) - 1)]
        out.append((scale * (z if z < 1 else arb(1))).upper())
    return out


def _discrete(a: list, diag: list, nu: int, d: int) -> list[arb]:
    """``σ_{1+νk}(X) <= Σ_j X_jj r(h_j)²`` with greedy zeros at the nodes.

    A zero at the node ``h_z`` contributes the factor
    ``(h_j − h_z)/(h_j + h_z) = (a_z − a_j)/(a_j + a_z − a_j a_z)`` (``h = (2 − a)/a``),
    formed from the exact ``a`` so that it vanishes exactly at ``j = z``.
    """
    kmax = (d - 1) // nu
    size = len(a)
    r2 = [arb(1)] * size
    best = []
    cur = None
    for _ in range(kmax + 1):
        terms = [diag[j] * r2[j] for j in range(size)]
        val = sum(terms, arb(0)).upper()
        cur = val if cur is None or val < cur else cur
        best.append(cur)
        jmax = max(range(size), key=lambda j: terms[j].mid())
        if not terms[jmax].mid() > 0:
            continue
        z = a[jmax]
        r2 = [r2[j] * ((z - a[j]) / (a[j] + z - a[j] * z)) ** 2 for j in range(size)]
    return [best[min(i // nu, len(best) - 1)] for i in range(d)]


def _cheb_eps(parts: dict, idx: list, mmax: int, bits: int) -> list[list[arb]]:
    """``ε_k(m)`` (exact upper ends): the smaller of the Chebyshev tail and the cap."""
    eps = []
    for k in idx:
        cap = parts["cap"][k].upper()
        row = [cap] * (mmax + 1)
        beta = parts["beta"][k]
        # tails only where they can beat the cap: tail(m) >= 1 - (2m + 1) ive_0(beta),
        # so modes with (2 mmax + 1) ive_0(beta) <= 1/2 have tail >= 1/2 >= cap (all m)
        if (
            beta is not None
            and (2 * mmax + 1) * float(special.ive(0, float(beta.mid()))) > 0.5
        ):
            with _arb_ctx.workprec(bits):
                tails = _tails_ball(beta.upper(), mmax, bits)  # tau increases with beta
            row = [t.upper() if t.upper() < c else c for t, c in zip(tails, row)]
        eps.append(row)
    return eps


def _split_float(sBF: list, sBS: list, d: int) -> np.ndarray:
    """``min over s, i + j = l + 1 of (sqrt σ_i(S_FF) + sqrt σ_j(S_SS))²``, rounded up.

    ``sBF[s]``, ``sBS[s]``: float64 upper bounds (already rounded up); every float
    operation is followed by one step up (``nextafter``), so the result bounds the
    exact expression built from them.
    """
    best = np.full(d, np.inf)
    L = np.arange(d)
    for A, B in zip(sBF, sBS):
        A = np.asarray(A, dtype=float)
        B = np.asarray(B, dtype=float)
        I0 = np.arange(A.size)[:, None]
        valid = I0 <= L[None, :]
        with np.errstate(over="ignore"):
            vals = np.nextafter(A[I0] + B[np.where(valid, L[None, :] - I0, 0)], np.inf)
            vals = np.where(valid, vals, np.inf).min(axis=0)
            best = np.minimum(best, np.nextafter(vals * vals, np.inf))
    return best


def _split_exact(sBF: list, sBS: list, d: int, bits: int) -> list[arb]:
    best = [None] * d
    with _arb_ctx.workprec(bits):
        for A, B in zip(sBF, sBS):
            for l in range(d):
                cur = None
                for i0 in range(min(len(A) - 1, l) + 1):
                    val = (A[i0] + B[l - i0]).upper()
                    cur = val if cur is None or val < cur else cur
                v2 = (cur * cur).upper()
                best[l] = v2 if best[l] is None or v2 < best[l] else best[l]
    return best


def _routes(parts: dict, idx: list, prec: int | None) -> dict:
    """Every route for the modes ``idx`` (``b_k != 0``, fastest first), as exact upper
    (float64 arrays for the ``split`` route when ``prec is None``)."""
    T = parts["T"]
    bits = parts["wp"]
    d = len(idx)
    rank = min(d, T)
    with _arb_ctx.workprec(bits):
        u = [parts["u"][k] for k in idx]
        h = [parts["h"][k] for k in idx]
        a = [parts["a"][k] for k in idx]
        S = [
            [u[i] * parts["cov"][k][l] * u[j] for j, l in enumerate(idx)]
            for i, k in enumerate(idx)
        ]
        UGU = [
            [u[i] * parts["G"][k][l] * u[j] for j, l in enumerate(idx)]
            for i, k in enumerate(idx)
        ]
        UGiU = [
            [u[i] * parts["gin"][k][l] * u[j] for j, l in enumerate(idx)]
            for i, k in enumerate(idx)
        ]
        fS, fG, fGi = _fro_hi(S), _fro_hi(UGU), _fro_hi(UGiU)
        Zs = _zolo_blocks(h, a, d, bits)
        Zfull = Zs[-1]
        if not a[0] == a[-1]:
            den = (h[0] + h[-1]) ** 2
            g = den / (4 * h[0] * h[-1])
            rate = arb.pi() ** 2 / (16 * g).log()
            Zc = [(4 * (-rate * k).exp()).upper() for k in range(d + 1)]
        else:
            Zc = [arb(1)] + [arb(0)] * d
        routes = {
            "zolotarev_closed": _bt(Zc, 2, rank, fS, d),
            "zolotarev": _bt(Zfull, 2, rank, fS, d),
            "uncentred": _bt(Zfull, 2, rank, fG, d),
            "infinite": _bt(Zfull, 1, rank, fGi, d),
        }
        disc = [
            _discrete(a, [X[j][j] for j in range(d)], nu, d)
            for X, nu in ((S, 2), (UGiU, 1))
        ]
        routes["discrete"] = [x if x < y else y for x, y in zip(*disc)]
        routes["discrete"][rank:] = [arb(0)] * (d - rank)
        # Chebyshev in t: sigma_{m+1} <= sum_k u_k^2 eps_k(m)^2
        eps = _cheb_eps(parts, idx, d - 1, bits)
        terms = [
            [(u[i] * u[i] * eps[i][m] * eps[i][m]).upper() for m in range(d)]
            for i in range(d)
        ]
        cheb = [sum((terms[i][m] for i in range(d)), arb(0)).upper() for m in range(d)]
        cheb[rank:] = [arb(0)] * (d - rank)
        routes["chebyshev"] = cheb
        routes["split"] = _split(S, UGiU, Zs, terms, rank, d, bits, prec)
    return routes


def _split(S, UGiU, Zs, terms, rank: int, d: int, bits: int, prec: int | None):
    """Fast block (first ``s`` modes) by Zolotarev, slow by Chebyshev, joined by Weyl.

    ``sqrt σ_{i+j−1}(S) <= sqrt σ_i(S_FF) + sqrt σ_j(S_SS)`` (``S = Yᵀ P Y / n`` with
    the columns of ``Y`` split); ``σ_i(S_FF) = 0`` for ``i > s``.
    """

    def lead_fro(X):  # Frobenius norms of the leading s x s blocks, s = 1..d
        out, tot = [], arb(0)
        for s in range(d):
            tot = tot + X[s][s] ** 2 + 2 * sum((X[s][j] ** 2 for j in range(s)), arb(0))
            out.append(tot.upper().sqrt().upper())
        return out

    fS, fGi = lead_fro(S), lead_fro(UGiU)
    # suffix[s][m] = sum_{k >= s} terms[k][m]
    suffix = [[arb(0)] * d for _ in range(d + 1)]
    for s in range(d - 1, -1, -1):
        suffix[s] = [(suffix[s + 1][m] + terms[s][m]).upper() for m in range(d)]
    sBF, sBS = [], []
    for s in range(0, d + 1):
        row = []
        if s > 0:
            Zrow = Zs[s - 1]
            for i in range(s):
                cand = []
                for nu, f in ((2, fS[s - 1]), (1, fGi[s - 1])):
                    z = Zrow[min(i // nu, len(Zrow) - 1)]
                    cand.append((f * (z if z < 1 else arb(1))).upper())
                row.append(_min_exact(cand).sqrt().upper())
        sBF.append(row + [arb(0)])  # index s: sigma_{s+1}(S_FF) = 0
        sBS.append(
            [suffix[s][j].sqrt().upper() for j in range(d)] if s < d else [arb(0)] * d
        )
    if prec is None:
        fl = [[_up(x, None) for x in row] for row in sBF], [
            [_up(x, None) for x in row] for row in sBS
        ]
        out = _split_float(*fl, d)
        out[rank:] = 0.0
        return out
    out = _split_exact(sBF, sBS, d, bits)
    out[rank:] = [arb(0)] * (d - rank)
    return out


def _signal_routes(parts: dict, idx: list, d_all: int, prec: int | None) -> dict:
    """All routes for the modes ``idx`` of ``parts`` (``b_k != 0``, fastest first),
    padded with zeros to ``d_all`` (modes with ``b_k = 0`` add zero singular values)."""
    dtype = float if prec is None else object
    zero = 0.0 if prec is None else mpmath.mpf(0)
    if not idx or parts["T"] == 0:
        return {key: np.array([zero] * d_all, dtype=dtype) for key in SIGNAL_ROUTES}
    raw = _routes(parts, idx, prec)
    out = {
        key: vals if isinstance(vals, np.ndarray) else _outward(vals, prec)
        for key, vals in raw.items()
    }
    best = out["zolotarev_closed"].copy()
    for vals in out.values():
        for i in range(len(best)):
            if vals[i] < best[i]:
                best[i] = vals[i]
    out["best"] = best
    pad = np.array([zero] * (d_all - len(idx)), dtype=dtype)
    return {key: np.concatenate([out[key], pad]) for key in SIGNAL_ROUTES}


def _fast_first(lam_o: np.ndarray) -> list[int]:
    """Indices by decreasing ``λ`` (exact comparisons; stable)."""
    return sorted(range(len(lam_o)), key=lambda k: -lam_o[k])


def signal_width_bounds(
    lam: Any,
    b: Any,
    eta: float,
    steps: int,
    *,
    route: str = "best",
    precision: int | None = None,
):
    """Upper bounds on every eigenvalue ``σ_1 >= σ_2 >= ...`` of the signal covariance.

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
    * ``"split"``: the fastest ``s`` modes by Zolotarev (``"zolotarev"`` or
      ``"infinite"`` on that block), the others by Chebyshev, joined by Weyl's
      inequality for the trajectory matrix, best ``s``;
    * ``"best"``: the elementwise minimum of all the above.

    Every ingredient (the entries of ``S``, ``U G U`` and ``U G_∞ U``, their norms, the
    Zolotarev numbers, the Chebyshev tails) is enclosed in ball arithmetic from the
    exact inputs, and each bound is rounded up: the returned numbers are upper bounds
    on the exact ``σ_i`` in float64 as well, also where a route is tight
    (``σ_1 = ||S||_F`` when ``S`` has rank one, e.g. ``T = 1``).

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
        Decimal digits (mpmath object arrays, each rounded up); float64 when omitted,
        where positive values below the smallest float round up to it.

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
        raise ValueError(
            f"route must be one of {SIGNAL_ROUTES} or 'all', got {route!r}"
        )
    prec = _precision(precision)
    T = _validate.integer(steps, "steps", low=0)
    lam_o, b_v, lam_f, b_f, eta_v = _exact_inputs(lam, b, eta)
    keep = [k for k in _fast_first(lam_o) if b_v[k] != 0]
    parts = dict(T=T)
    if keep and T > 0:
        parts = _cloud_balls(lam_o[keep], b_v[keep], eta_v, T, _target_bits(prec))
    routes = _signal_routes(parts, list(range(len(keep))), lam_f.size, prec)
    if route == "all":
        return routes
    return routes[route]


# ------------------------------------------------------------------ cloud spectrum


def cloud_spectrum_bounds(
    lam: Any, b: Any, s: float, eta: float, steps: int, *, precision: int | None = None
):
    """Rigorous lower and upper bounds on every eigenvalue of the cloud covariance.

    For the descending eigenvalues ``μ_1 >= ... >= μ_d`` of the exact
    ``C = S + diag(n)`` (:func:`ribbonlib.cloud.covariance`, for exactly the given
    inputs), returns ``lower[m] <= μ_{m+1} <= upper[m]``. ``C`` is enclosed in ball
    arithmetic from the closed forms, and three facts are combined:

    * the eigenvalue enclosures of Weyl and Ostrowski from approximate eigenvectors
      ``V`` (:func:`ribbonlib.certify.symmetric_eigenvalues`; float64 ``V``, or ``V``
      from ``mpmath.eigsy`` at ``precision`` digits), which resolve ``μ`` to about
      ``d·u·||C||`` (``u`` the unit round-off of the eigenvectors);
    * Weyl with ``S ⪰ 0``: ``μ_m >= n_(m)``, the ``m``-th largest noise variance;
    * Weyl for the upper side, ``μ_{i+j−1} <= σ_i(S) + n_(j)``, with the a priori bounds
      on ``σ_i(S)`` of :func:`signal_width_bounds` (``σ_i = 0`` beyond ``min(d, T)``),
      which stay sharp far below ``u·||C||``; and ``μ_m <= tr C``.

    The bounds are about the exact eigenvalues and are not widened further: eigenvalues
    computed in floating point from the rounded matrix (:func:`numpy.linalg.eigvalsh`
    of :func:`ribbonlib.cloud.covariance`) may lie outside them by their own round-off
    (a backward error of a few ``d·u·||C||``, plus the forming error of ``C``; see
    :data:`ribbonlib.cloud.COV_ULP`). :func:`ribbonlib.phase.cloud_spectrum_bounds`
    gives bounds widened for that comparison.

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
        Bounds on the descending eigenvalues of ``C``, rounded outward.

    Raises
    ------
    ValueError
        For non-positive or non-finite ``lam``, ``b`` of the wrong length or non-finite,
        ``s < 0``, ``eta`` outside ``(0, 2/max(lam))``, ``steps < 0`` or
        ``precision < 16``.
    """
    prec = _precision(precision)
    lam_o, b_v, lam_f, b_f, eta_v = _exact_inputs(lam, b, eta)
    s_val = _validate.finite_real(s, "s", low=0.0)
    T = _validate.integer(steps, "steps", low=0)
    d = lam_f.size
    order = _fast_first(lam_o)
    target = _target_bits(prec)
    parts = _cloud_balls(lam_o[order], b_v[order], eta_v, T, target)
    bits = parts["wp"]
    idx = [k for k in range(d) if b_v[order[k]] != 0]
    sig = _signal_routes(parts, idx, d, prec)["best"]  # rounded up, descending bounds
    with _arb_ctx.workprec(bits):
        s2d = certify.to_arb(s_val) ** 2 / d
        lam_a = [certify.to_arb(x) for x in lam_o[order]]
        u = parts["u"]
        noise = [s2d * lam_a[k] * parts["G"][k][k] for k in range(d)]
        C = arb_mat(d, d)
        for k in range(d):
            for l in range(d):
                C[k, l] = u[k] * parts["cov"][k][l] * u[l]
            C[k, k] = C[k, k] + noise[k]
        trace = sum((C[k, k] for k in range(d)), arb(0)).upper()
        if prec is None:
            mid = np.array(
                [[float(C[k, l].mid()) for l in range(d)] for k in range(d)]
            )
            _, V = np.linalg.eigh(0.5 * (mid + mid.T))
            ev = certify.symmetric_eigenvalues(C, vectors=V.astype(object), balls=True)
        else:
            ev = certify.symmetric_eigenvalues(C, digits=prec, balls=True)
        n_lo = sorted((x.lower() for x in noise), reverse=True)
        n_hi = sorted((x.upper() for x in noise), reverse=True)
        sig_a = [certify.to_arb(x) for x in sig]
        lower, upper = [], []
        for m in range(d):
            lo = ev[m].lower()
            lo = n_lo[m] if n_lo[m] > lo else lo
            hi = _min_exact(
                [ev[m].upper(), trace]
                + [(sig_a[i] + n_hi[m - i]).upper() for i in range(m + 1)]
            )
            lower.append(lo)
            upper.append(hi)
    return _outward(lower, prec, up=False), _outward(upper, prec)
