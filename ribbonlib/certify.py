"""Rigorous enclosures for the book's certified checks (ball arithmetic).

A *certified* check decides an inequality about exact numbers, not about their float64
approximations: both sides are enclosed in intervals that provably contain them, and
the check passes only when the intervals prove the inequality. The enclosures here are
computed with the ball arithmetic of Arb (python-flint's :class:`flint.arb`), in which
every operation returns a ball guaranteed to contain the exact result; a pass is then a
proof for the parameters at hand.

* :class:`Enclosure` holds float64 lower and upper ends, rounded outward, so that the
  rest of the book can use plain numpy arrays;
* :func:`enclose` turns floats (exact dyadic numbers), mpmath numbers and Arb balls into
  enclosures;
* :func:`cloud_matrices` and :func:`cloud_covariance` enclose the signal ``S`` and the
  noise of the cloud covariance ``C = S + diag(n)`` for exactly the given
  ``λ, b, s, η, T``, straight from the defining sums' closed forms
  ``G_kl = (1 − (r_k r_l)^(T+1)) / ((T+1)(1 − r_k r_l))``,
  ``m_k = (1 − r_k^(T+1)) / ((T+1) η λ_k)``, in Arb at a precision raised until every entry is
  known to 2^-80 relative (independent of the cancellation-free float64 algorithm of
  :mod:`ribbonlib.cloud`);
* :func:`symmetric_eigenvalues` encloses every eigenvalue of a symmetric matrix (given as
  a ball matrix), in descending order, from approximate eigenvectors of any origin:
  with ``V`` the approximate eigenvectors, ``G = Vᵀ A V`` and ``F = Vᵀ V − I`` are
  enclosed in Arb; Weyl's inequality puts ``λ_i(G)`` within ``||G − diag G||_F`` of the
  ``i``-th largest diagonal entry, and Ostrowski's theorem gives
  ``λ_i(A) = λ_i(G)/θ_i`` with ``θ_i ∈ [1 − ||F||_F, 1 + ||F||_F]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
from flint import arb, arb_mat, ctx

from . import _validate

__all__ = [
    "Enclosure",
    "enclose",
    "balls",
    "to_arb",
    "cloud_matrices",
    "cloud_covariance",
    "time_averages",
    "symmetric_eigenvalues",
]

#: Relative accuracy (bits) that :func:`cloud_matrices` reaches for every non-zero entry.
TARGET_BITS = 80
#: Largest working precision (bits) tried before giving up.
MAX_BITS = 1 << 15


# ------------------------------------------------------------------- enclosures


def _float_down(m: int, e: int) -> float:
    """Largest float64 ``<= m·2^e`` (exact integers ``m``, ``e``).

    Where ``|m·2^e|`` is below ``2^-1100`` (under the smallest subnormal ``2^-1074``) or
    at least ``2^1100`` (above the largest float) the answer follows from the sign
    alone, without forming ``2^e`` exactly (an exponent of ``−10^12`` would take
    terabytes).
    """
    if m != 0 and e + abs(m).bit_length() < -1100:
        return 0.0 if m > 0 else -5e-324
    if m != 0 and e + abs(m).bit_length() > 1100:
        return float(np.finfo(float).max) if m > 0 else -math.inf
    exact = Fraction(m) * (Fraction(2) ** e)
    try:
        f = math.ldexp(float(m), e) if m != 0 else 0.0
    except OverflowError:
        f = math.inf if m > 0 else -math.inf
    if math.isinf(f):
        return f if f < 0 else float(np.finfo(float).max)
    if Fraction(f) > exact:
        f = math.nextafter(f, -math.inf)
    return f


def _float_up(m: int, e: int) -> float:
    return -_float_down(-m, e)


def _arb_ends(x: arb) -> tuple[float, float]:
    """Float64 ends ``lo <= x <= hi`` of a finite ball (``±inf`` if not finite)."""
    if not x.is_finite():
        return -math.inf, math.inf
    lo_m, lo_e = x.lower().man_exp()
    hi_m, hi_e = x.upper().man_exp()
    return _float_down(int(lo_m), int(lo_e)), _float_up(int(hi_m), int(hi_e))


@dataclass(frozen=True)
class Enclosure:
    """Componentwise interval enclosure ``lo <= x <= hi`` of exact numbers ``x``.

    Attributes
    ----------
    lo, hi : numpy.ndarray
        float64 arrays of the same shape, ``lo <= hi``; the ends are rounded outward,
        so the exact values lie in ``[lo, hi]`` however the interval was computed.
    """

    lo: np.ndarray
    hi: np.ndarray

    def __post_init__(self) -> None:
        lo = np.asarray(self.lo, dtype=float)
        hi = np.asarray(self.hi, dtype=float)
        if lo.shape != hi.shape:
            raise ValueError(f"lo and hi must have the same shape, got {lo.shape} and {hi.shape}")
        if np.any(np.isnan(lo)) or np.any(np.isnan(hi)) or np.any(lo > hi):
            raise ValueError("an enclosure needs lo <= hi everywhere, without NaN")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the enclosed array."""
        return self.lo.shape

    @property
    def mid(self) -> np.ndarray:
        """Midpoints (a float64 approximation of the enclosed values)."""
        return 0.5 * self.lo + 0.5 * self.hi

    def __getitem__(self, index: Any) -> Enclosure:
        return Enclosure(self.lo[index], self.hi[index])


def _exact(m: int, e: int) -> arb:
    """``m·2^e`` as an exact ball, whatever the working precision."""
    with ctx.workprec(max(ctx.prec, abs(m).bit_length() + 2)):
        return arb((m, e))


def to_arb(x: Any) -> arb:
    """The exact value of ``x`` as a ball of radius 0 (or ``x`` itself if it is a ball).

    Floats are dyadic rationals and convert exactly, as do integers, :class:`fractions.Fraction`
    with a power-of-two denominator and :class:`mpmath.mpf`. Other rationals are enclosed
    at the current precision; a number of another mpmath context (one with ``_mpf_`` that
    is not a :class:`mpmath.mpf`) is first rounded to mpmath's working precision.
    """
    if isinstance(x, arb):
        return x
    if isinstance(x, (bool, np.bool_)):
        raise ValueError(f"expected a real number, got {x!r}")
    if isinstance(x, (int, np.integer)):
        return arb(int(x))
    if isinstance(x, (float, np.floating)):
        f = float(x)
        if not math.isfinite(f):
            raise ValueError(f"expected a finite real number, got {x!r}")
        m, e = f.as_integer_ratio()
        return _exact(m, -(e.bit_length() - 1))
    if isinstance(x, mpmath.mpf):
        sign, man, exp, _ = x._mpf_
        if not man and exp:  # inf or nan
            raise ValueError(f"expected a finite real number, got {x!r}")
        return _exact((-1) ** sign * int(man), int(exp))
    if isinstance(x, Fraction):
        return arb(x.numerator) / x.denominator
    try:
        return to_arb(float(x)) if not hasattr(x, "_mpf_") else to_arb(mpmath.mpf(x))
    except (TypeError, ValueError):
        raise ValueError(f"expected a real number, got {x!r}") from None


def enclose(x: Any) -> Enclosure:
    """An :class:`Enclosure` of ``x``.

    Parameters
    ----------
    x : Enclosure, float array, mpmath numbers, Arb balls or a tuple ``(lo, hi)``
        Floats are exact (``lo = hi = x``); mpmath numbers and balls are rounded outward;
        a tuple ``(lo, hi)`` of arrays is taken as the enclosure it states.

    Returns
    -------
    Enclosure
    """
    if isinstance(x, Enclosure):
        return x
    if isinstance(x, tuple) and len(x) == 2:
        return Enclosure(np.asarray(x[0], dtype=float), np.asarray(x[1], dtype=float))
    if isinstance(x, arb):
        lo, hi = _arb_ends(x)
        return Enclosure(np.array(lo), np.array(hi))
    if isinstance(x, arb_mat):
        x = np.array(x.entries(), dtype=object).reshape(x.nrows(), x.ncols())
    arr = np.asarray(x, dtype=object) if not isinstance(x, np.ndarray) else x
    if arr.dtype != object:
        f = np.asarray(arr, dtype=float)
        if np.any(np.isnan(f)):
            raise ValueError("cannot enclose NaN")
        return Enclosure(f, f.copy())
    lo = np.empty(arr.shape)
    hi = np.empty(arr.shape)
    for idx, v in np.ndenumerate(arr):
        lo[idx], hi[idx] = _arb_ends(to_arb(v))
    return Enclosure(lo, hi)


def balls(x: Any) -> np.ndarray:
    """``x`` as an object array of Arb balls (exact for floats and mpmath numbers).

    Parameters
    ----------
    x : Enclosure, float array, mpmath numbers, Arb balls or an Arb matrix

    Returns
    -------
    numpy.ndarray of flint.arb
    """
    if isinstance(x, Enclosure):
        out = np.empty(x.shape, dtype=object)
        for idx, lo in np.ndenumerate(x.lo):
            out[idx] = to_arb(lo).union(to_arb(x.hi[idx]))
        return out
    if isinstance(x, arb_mat):
        return np.array(x.entries(), dtype=object).reshape(x.nrows(), x.ncols())
    if isinstance(x, arb):
        return np.array(x, dtype=object)
    arr = np.asarray(x, dtype=object)
    out = np.empty(arr.shape, dtype=object)
    for idx, v in np.ndenumerate(arr):
        out[idx] = to_arb(v)
    return out


# ---------------------------------------------------------------- cloud covariance


def _arb_vector(x: Any, name: str) -> list[arb]:
    arr = np.asarray(x, dtype=object).ravel()
    try:
        return [to_arb(v) for v in arr]
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _cloud_at(lam: list[arb], b: list[arb], eta: arb, T: int) -> tuple[list[list[arb]], list[arb]]:
    d = len(lam)
    n = T + 1
    r = [1 - eta * x for x in lam]
    a = [eta * x for x in lam]  # 1 − r_k, exactly
    m = [(1 - rk ** n) / (n * ak) for rk, ak in zip(r, a)]
    u = [x.sqrt() * bk for x, bk in zip(lam, b)]
    S = [[arb(0)] * d for _ in range(d)]
    G_diag = []
    for k in range(d):
        for l in range(k, d):
            p = r[k] * r[l]
            one_minus_p = a[k] + a[l] - a[k] * a[l]  # 1 − r_k r_l without cancellation
            G = (1 - p ** n) / (n * one_minus_p)
            if k == l:
                G_diag.append(G)
            S[k][l] = S[l][k] = u[k] * u[l] * (G - m[k] * m[l])
    return S, G_diag


def _accurate(values: list[arb], bits: int) -> bool:
    for v in values:
        if not v.is_finite():
            return False
        if v.is_exact():
            continue
        if v.rel_accuracy_bits() < bits:
            return False
    return True


def cloud_matrices(lam: Any, b: Any, eta: Any, steps: int, *,
                   target_bits: int = TARGET_BITS) -> tuple[arb_mat, list[arb]]:
    """Arb enclosures of the signal ``S`` and of the noise at unit scale ``n̂``.

    ``C = S + s² diag(n̂)`` is the expected centred covariance of the cloud
    (:func:`ribbonlib.cloud.covariance`), with ``n̂_k = λ_k G_kk / d``.

    Parameters
    ----------
    lam : array_like, shape (d,)
        Eigenvalues ``λ_k > 0`` (floats or mpmath numbers, taken exactly).
    b : array_like, shape (d,)
        Ground truth in the eigenbasis (taken exactly).
    eta : float or mpmath.mpf
        Learning rate, ``0 < η·max(λ) < 2`` (taken exactly).
    steps : int
        ``T >= 0``.
    target_bits : int, optional
        Relative accuracy (bits) every non-zero entry must reach; raise it (e.g. to
        ``3.33·digits + 64``) to resolve eigenvalues far below ``2^-80 ||S||``.

    Returns
    -------
    S : flint.arb_mat, shape (d, d)
        Balls containing the exact ``S_kl``, each to at least ``target_bits`` relative bits
        (exact zeros where ``b_k = 0``).
    noise_unit : list of flint.arb
        Balls containing the exact ``n̂_k``.

    Raises
    ------
    ValueError
        For invalid inputs (as :func:`ribbonlib.cloud.covariance`), or if ``MAX_BITS``
        of working precision do not reach the target accuracy.
    """
    lam_v = _validate.eigenvalues(lam)
    d = lam_v.size
    lam_f = np.asarray(lam_v, dtype=float)
    _validate.vector(np.array([float(v) for v in np.asarray(b, dtype=object).ravel()]), "b", d)
    _validate.learning_rate(float(eta), lam_f)
    T = _validate.integer(steps, "steps", low=0)
    target = _validate.integer(target_bits, "target_bits", low=1)
    bits = max(128, target + 48) + 4 * max(0, int(math.log2(T + 1)))
    while True:
        with ctx.workprec(bits):
            lam_a = _arb_vector(lam_v, "lam")
            b_a = _arb_vector(b, "b")
            eta_a = to_arb(eta)
            if any(not (eta_a * x < 2) for x in lam_a):
                raise ValueError("eta must satisfy 0 < eta*max(lam) < 2 exactly")
            S, G_diag = _cloud_at(lam_a, b_a, eta_a, T)
            noise = [x * g / d for x, g in zip(lam_a, G_diag)]
            flat = [v for row in S for v in row] + noise
            if _accurate(flat, target):
                return arb_mat(S), noise
        if bits >= MAX_BITS:
            raise ValueError(f"could not enclose the cloud covariance to {target} bits "
                             f"with {MAX_BITS} bits of working precision")
        bits *= 2


def cloud_covariance(lam: Any, b: Any, s: Any, eta: Any, steps: int) -> arb_mat:
    """Arb enclosure of the exact cloud covariance ``C = S + diag((s²/d) λ_k G_kk)``.

    Parameters are those of :func:`ribbonlib.cloud.covariance` (taken exactly).

    Returns
    -------
    flint.arb_mat, shape (d, d)
    """
    _validate.finite_real(s, "s", low=0.0)
    S, noise = cloud_matrices(lam, b, eta, steps)
    d = S.nrows()
    bits = max(v.mid().bits() for v in [*S.entries(), *noise]) + 64
    with ctx.workprec(max(bits, 128)):
        s_a = to_arb(s)
        C = arb_mat(S)
        for k in range(d):
            C[k, k] = C[k, k] + s_a * s_a * noise[k]
    return C


def time_averages(lam: Any, eta: Any, steps: int, *,
                  bits: int = TARGET_BITS) -> tuple[arb_mat, list[arb], arb_mat]:
    """Arb enclosures of the time averages ``G``, ``m`` and ``G − m mᵀ``.

    The plain closed forms ``G_kl = (1 − (r_k r_l)^n) / (n (1 − r_k r_l))`` and
    ``m_k = (1 − r_k^n) / (n η λ_k)``, ``n = T + 1``, for exactly the given ``λ`` and ``η``
    (the counterpart of :func:`ribbonlib.cloud.time_averages`), each entry to at least
    ``bits`` relative bits.

    Parameters
    ----------
    lam, eta, steps
        As in :func:`cloud_matrices`.
    bits : int, optional
        Relative accuracy of every non-zero entry, ``TARGET_BITS`` by default.

    Returns
    -------
    G : flint.arb_mat, shape (d, d)
    m : list of flint.arb
    cov : flint.arb_mat, shape (d, d)

    Raises
    ------
    ValueError
        As :func:`cloud_matrices`.
    """
    lam_v = _validate.eigenvalues(lam)
    d = lam_v.size
    _validate.learning_rate(float(eta), np.asarray(lam_v, dtype=float))
    T = _validate.integer(steps, "steps", low=0)
    n = T + 1
    target = _validate.integer(bits, "bits", low=1)
    work = 2 * target + 4 * max(0, int(math.log2(n)))
    while True:
        with ctx.workprec(work):
            lam_a = _arb_vector(lam_v, "lam")
            eta_a = to_arb(eta)
            a = [eta_a * x for x in lam_a]
            r = [1 - x for x in a]
            m = [(1 - rk ** n) / (n * ak) for rk, ak in zip(r, a)]
            G = arb_mat(d, d)
            C = arb_mat(d, d)
            for k in range(d):
                for l in range(k, d):
                    g = (1 - (r[k] * r[l]) ** n) / (n * (a[k] + a[l] - a[k] * a[l]))
                    G[k, l] = G[l, k] = g
                    C[k, l] = C[l, k] = g - m[k] * m[l]
            if _accurate([*G.entries(), *C.entries(), *m], target):
                return G, m, C
        if work >= MAX_BITS:
            raise ValueError(f"could not enclose the time averages to {target} bits "
                             f"with {MAX_BITS} bits of working precision")
        work *= 2


# ------------------------------------------------------------------ eigenvalues


def _as_arb_mat(A: Any) -> arb_mat:
    if isinstance(A, arb_mat):
        return A
    if isinstance(A, Enclosure):
        lo, hi = A.lo, A.hi
        if lo.ndim != 2:
            raise ValueError(f"A must be a square matrix, got shape {lo.shape}")
        M = arb_mat(lo.shape[0], lo.shape[1])
        for (i, j), v in np.ndenumerate(lo):
            M[i, j] = to_arb(v).union(to_arb(hi[i, j]))
        return M
    arr = np.asarray(A, dtype=object) if not isinstance(A, np.ndarray) else A
    if arr.ndim != 2:
        raise ValueError(f"A must be a square matrix, got shape {arr.shape}")
    if arr.dtype == float or (arr.dtype == object and all(type(v) is float for v in arr.flat)):
        f = arr.astype(float)
        if np.all(np.isfinite(f)):  # floats convert exactly at any precision; one call, not d² calls
            return arb_mat(f.tolist())
    M = arb_mat(arr.shape[0], arr.shape[1])
    for (i, j), v in np.ndenumerate(arr):
        M[i, j] = to_arb(v)
    return M


def _midpoints(M: arb_mat) -> np.ndarray:
    return np.array([float(v.mid()) for v in M.entries()]).reshape(M.nrows(), M.ncols())


def symmetric_eigenvalues(A: Any, *, vectors: Any = None, digits: int | None = None,
                          balls: bool = False) -> Enclosure | np.ndarray:
    """Rigorous enclosures of all eigenvalues of a symmetric matrix, descending.

    Parameters
    ----------
    A : flint.arb_mat, Enclosure, or array_like of floats / mpmath numbers, shape (d, d)
        The matrix, or a ball matrix containing it; it must contain a symmetric matrix
        (the statement is about every symmetric matrix in the balls).
    vectors : array_like, shape (d, d), optional
        Approximate eigenvectors (columns, any order), e.g. from a high-precision
        eigensolver. Only their quality, not their correctness, is assumed: a poor
        ``V`` gives wide but still valid enclosures.
    digits : int, optional
        When ``vectors`` is omitted: ``None`` takes them from float64 ``numpy.linalg.eigh``
        of the midpoints; an integer ``> 15`` from :func:`mpmath.eigsy` at that many
        digits (needed to resolve eigenvalues below ``1e-16 ||A||``).
    balls : bool, optional
        Return Arb balls instead of float64 ends (an :class:`Enclosure` cannot be
        narrower than one float64 ulp; balls keep the full precision).

    Returns
    -------
    Enclosure, shape (d,), or numpy.ndarray of flint.arb (``balls=True``)
        ``lo[i] <= λ_{i+1}(A) <= hi[i]`` for the descending eigenvalues.

    Raises
    ------
    ValueError
        If ``A`` is not square, or ``V`` is too far from orthonormal (``||VᵀV − I||_F >= 1/2``).
    """
    M = _as_arb_mat(A)
    d = M.nrows()
    if M.ncols() != d or d == 0:
        raise ValueError(f"A must be a non-empty square matrix, got {M.nrows()} x {M.ncols()}")
    if vectors is None:
        mid = _midpoints(M)
        mid = 0.5 * mid + 0.5 * mid.T  # halved first: no overflow near the largest float
        if digits is None or digits <= 15:
            _, V = np.linalg.eigh(mid)
            V = V.astype(object)
        else:
            _validate.integer(digits, "digits", low=16)
            with mpmath.workdps(digits):
                Am = mpmath.matrix([[to_mpf(v) for v in row] for row in
                                    (np.array([x.mid() for x in M.entries()], dtype=object)
                                     .reshape(d, d))])
                Am = (Am + Am.T) / 2
                _, Q = mpmath.eigsy(Am)
                V = np.array(Q.tolist(), dtype=object)
    else:
        V = np.asarray(vectors, dtype=object)
        if V.shape != (d, d):
            raise ValueError(f"vectors must have shape ({d}, {d}), got {V.shape}")
    bits = 128 if digits is None else int(3.33 * digits) + 96
    bits = max(bits, max((v.mid().bits() for v in M.entries()), default=0) + 64)
    with ctx.workprec(bits):
        Vm = _as_arb_mat(V)
        Gm = Vm.transpose() * M * Vm
        F = Vm.transpose() * Vm
        for i in range(d):
            F[i, i] = F[i, i] - 1
        diag = [Gm[i, i] for i in range(d)]
        H = arb_mat(Gm)
        for i in range(d):
            H[i, i] = arb(0)
        off = _sqrt_upper((H.transpose() * H).trace())
        delta = _sqrt_upper((F.transpose() * F).trace())
        if not delta < arb(1) / 2:
            raise ValueError("the approximate eigenvectors are too far from orthonormal "
                             "(||VᵀV − I||_F >= 1/2): pass better vectors")
        lows = sorted((g.lower() for g in diag), key=_key, reverse=True)
        highs = sorted((g.upper() for g in diag), key=_key, reverse=True)
        theta = arb(1).union(1 - delta.upper()).union(1 + delta.upper())
        out = np.empty(d, dtype=object)
        for i in range(d):
            g = (lows[i] - off).union(highs[i] + off)
            out[i] = g / theta
    if balls:
        return out
    ends = [_arb_ends(x) for x in out]
    return Enclosure(np.array([e[0] for e in ends]), np.array([e[1] for e in ends]))


def _sqrt_upper(x: arb) -> arb:
    """An exact upper bound on ``sqrt(y)`` for every ``y >= 0`` in the ball ``x``."""
    top = x.upper()
    if not top > 0:
        return arb(0)
    return top.sqrt().upper()


def _key(x: arb) -> Fraction:
    m, e = x.man_exp()
    return Fraction(int(m)) * (Fraction(2) ** int(e))


def to_mpf(x: arb) -> mpmath.mpf:
    """The midpoint of a ball as an mpmath number (exactly, whatever mpmath's precision)."""
    m, e = x.mid().man_exp()
    # mpmath.mpf((m, e)) would round to the current working precision
    return mpmath.mp.make_mpf(mpmath.libmp.from_man_exp(int(m), int(e)))
