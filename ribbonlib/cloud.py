"""The cloud of gradient-descent trajectories and its exact covariance.

``M`` initialisations ``v_kᵀ w_0 = ξ_jk ~ N(0, s²/d)`` (i.i.d.) are trained for ``T``
steps. Every step of every run is a point of the cloud, with coordinates (MATH.md §3)

.. math:: z_k(j, t) = \\sqrt{\\lambda_k}\\,
          \\big(b_k (1 - r_k^t) + r_k^t \\xi_{jk}\\big),
          \\qquad r_k = 1 - \\eta\\lambda_k,

(the predictions of the linear model, up to the constant ``sqrt(N)/(sqrt(8) σ)`` that
turns Euclidean distances into Bhattacharyya distances). All ``M (T + 1)`` points are
weighted equally. Averaged over the initialisations, the centred covariance of the
cloud is ``C = S + diag(n)`` with

* signal ``S_kl = sqrt(λ_k λ_l) b_k b_l (G_kl − m_k m_l)``,
* noise ``n_k = (s²/d) λ_k G_kk``,
* ``G_kl = (1/(T+1)) Σ_t (r_k r_l)^t`` and ``m_k = (1/(T+1)) Σ_t r_k^t``.

:func:`covariance`, :func:`signal_covariance` and :func:`noise_variances` evaluate these
closed forms without cancellation (float64), or in mpmath with ``precision=``;
:func:`sample` and :func:`sample_moments` build the cloud itself by iterating the
gradient-descent update, the independent computation they are checked against.

References for the checks of chapter 3, sharing no code with the closed forms:
:func:`sample_error_bound` (the round-off of :func:`sample`) with :func:`exact_points`
(the mode solution in ball arithmetic), :func:`brute_force_moments` (term-by-term sums
over ``t`` in ball arithmetic) and :func:`exact_signal_rank` (Gaussian elimination over
the rationals).
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np

from . import _geometric, _validate
from .dynamics import MAX_ENTRIES

__all__ = [
    "UNIT_ROUNDOFF",
    "TIME_ULP",
    "COV_ULP",
    "SAME_SIGN_ULP",
    "SCALE_ULP",
    "time_averages",
    "float64_error_bounds",
    "covariance",
    "signal_covariance",
    "noise_variances",
    "sample",
    "sample_moments",
    "sample_error_bound",
    "exact_points",
    "brute_force_moments",
    "exact_signal_rank",
]


#: Unit roundoff of float64, ``u = 2^-53``: the unit of the accuracy constants below.
UNIT_ROUNDOFF = 2.0**-53
#: float64 :func:`time_averages`: ``|ΔG_kl| <= TIME_ULP·u·G_kl`` and
#: ``|Δm_k| <= TIME_ULP·u·m_k`` (both positive), for the exact ``r_k = 1 − η λ_k``.
TIME_ULP = 8
#: float64 :func:`time_averages`: ``|ΔCov_kl| <= COV_ULP·u·(G_kl + m_k m_l)``, every
#: pair.
COV_ULP = 16
#: float64 :func:`time_averages`: ``|ΔCov_kl| <= SAME_SIGN_ULP·u·|Cov_kl|``
#: (componentwise) when ``r_k`` and ``r_l`` have the same sign (both ``η λ <= 1`` or
#: both ``> 1``); in particular on the diagonal.
SAME_SIGN_ULP = 256
#: Further ulp that the scalings by ``sqrt(λ) b``, ``s²/d`` and ``λ`` add in
#: :func:`signal_covariance`, :func:`noise_variances` and :func:`covariance`.
SCALE_ULP = 8


# ----------------------------------------------------------------------------- inputs


def _common(lam: Any, eta: Any, steps: Any, precision: Any):
    lam_v = _validate.eigenvalues(lam)
    lam_f = np.asarray(lam_v, dtype=float)
    eta_v = _validate.learning_rate(eta, lam_f)
    T = _validate.integer(steps, "steps", low=0)
    prec = (
        None if precision is None else _validate.integer(precision, "precision", low=16)
    )
    return lam_v, lam_f, eta_v, T, prec


def _float_time(eta: float, lam_f: np.ndarray, T: int):
    """``(G, m, Cov)`` in float64 for the exact rates ``η λ_k`` (not rounded)."""
    a, a_lo = _geometric.rates(eta, lam_f)
    return _geometric.time_covariance(a, T + 1, a_lo)


def _mp_vector(x: Any) -> list:
    """Entries as mpf: floats exactly (their binary value), mpf and strings as given."""
    arr = np.asarray(x, dtype=object).ravel()
    return [
        (
            mpmath.mpf(v)
            if not isinstance(v, (np.floating, np.integer))
            else mpmath.mpf(float(v))
        )
        for v in arr
    ]


def _vector_any(x: Any, name: str, d: int) -> np.ndarray:
    """Validate a length-``d`` vector of floats or of mpmath numbers (kept as given)."""
    arr = np.asarray(x)
    if arr.dtype == object:
        try:
            as_float = np.array([float(v) for v in arr.ravel()]).reshape(arr.shape)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must hold real numbers") from None
        _validate.vector(as_float, name, d)
        return arr
    return _validate.vector(arr, name, d)


def _mp_eta(eta: Any):
    return eta if isinstance(eta, mpmath.mpf) else mpmath.mpf(float(eta))


def _mp_time(lam_v: Any, eta: Any, T: int, prec: int):
    """``(G, m, Cov)`` as nested lists of mpf, accurate to ``prec`` digits."""
    n = T + 1
    with mpmath.workdps(prec + 5):
        lam_mp = _mp_vector(lam_v)
        a = [_mp_eta(eta) * x for x in lam_mp]
        guard = _geometric.guard_digits(a, n)
    with mpmath.workdps(prec + guard):
        lam_mp = _mp_vector(lam_v)
        a = [_mp_eta(eta) * x for x in lam_mp]
        G, m, C = _geometric.time_covariance_mp(a, n)
    return lam_mp, G, m, C


def _round(values, prec: int) -> np.ndarray:
    with mpmath.workdps(prec):
        return np.array(
            (
                [[+x for x in row] for row in values]
                if isinstance(values[0], list)
                else [+x for x in values]
            ),
            dtype=object,
        )


# ----------------------------------------------------------------------- closed forms


def time_averages(lam: Any, eta: float, steps: int, *, precision: int | None = None):
    """The time averages that the cloud covariance is made of.

    Parameters
    ----------
    lam : array_like, shape (d,)
        Eigenvalues ``λ_k > 0``.
    eta : float
        Learning rate, ``0 < η·max(λ) < 2``.
    steps : int
        ``T >= 0``; the averages run over ``t = 0..T``.
    precision : int, optional
        Decimal digits (``>= 16``) for mpmath; float64 when omitted.

    Returns
    -------
    G : numpy.ndarray, shape (d, d)
        ``G_kl = (1/(T+1)) Σ_t (r_k r_l)^t``.
    m : numpy.ndarray, shape (d,)
        ``m_k = (1/(T+1)) Σ_t r_k^t``.
    cov : numpy.ndarray, shape (d, d)
        ``G_kl − m_k m_l``, the covariance over ``t`` of ``r_k^t`` and ``r_l^t``.

    Notes
    -----
    Accuracy, for the exact rates ``η λ_k`` of the float inputs (the product is formed
    without rounding) and ``u = 2^-53``, on the whole domain ``0 < η λ_k < 2``,
    ``T >= 0``, barring underflow (entries below about ``1e-290``); the constants are
    the module's and the domain tests in ``tests/test_cloud.py`` enforce them against
    Arb enclosures (measured worst cases in brackets):

    * ``G_kl`` and ``m_k`` (both positive): relative error ``<= TIME_ULP·u`` = ``8u``
      [4.5u];
    * ``cov_kl``: error ``<= COV_ULP·u·(G_kl + m_k m_l)`` = ``16u(G_kl + m_k m_l)``
      [6u];
    * ``cov_kl`` when ``r_k`` and ``r_l`` have the same sign (``η λ <= 1`` for both, or
      ``> 1`` for both; always on the diagonal): relative error
      ``<= SAME_SIGN_ULP·u`` = ``256u`` [90u]. For two slow modes (``r > 0``,
      ``n |log r| <= 1``, ``n = T + 1``) ``cov`` is far below ``G`` (a power series
      with exact rational coefficients replaces the difference); the worst cases are
      modes just past that threshold, where ``G + m m`` exceeds ``cov`` by up to about
      33 times. For opposite signs ``cov_kl`` can be arbitrarily small compared with
      ``G_kl + m_k m_l`` (slow ``r_l`` and ``r_k`` close to −1) and only the bound
      before holds.

    With ``precision`` the closed forms run in mpmath with enough guard digits for the
    same cancellations, and every entry of the results (object arrays of
    ``mpmath.mpf``) has a relative error below ``10^-precision``.
    """
    lam_v, lam_f, eta_v, T, prec = _common(lam, eta, steps, precision)
    if prec is None:
        return _float_time(eta_v, lam_f, T)
    _, G, m, C = _mp_time(lam_v, eta, T, prec)
    return _round(G, prec), _round(m, prec), _round(C, prec)


def signal_covariance(
    lam: Any, b: Any, eta: float, steps: int, *, precision: int | None = None
) -> np.ndarray:
    """The signal part ``S`` of the cloud covariance.

    Parameters
    ----------
    lam : array_like, shape (d,)
        Eigenvalues ``λ_k > 0`` (any order; not re-sorted).
    b : array_like, shape (d,)
        Ground truth in the eigenbasis.
    eta : float
        Learning rate, ``0 < η·max(λ) < 2``.
    steps : int
        ``T >= 0``.
    precision : int, optional
        Decimal digits (``>= 16``); returns an object array of ``mpmath.mpf``.

    Returns
    -------
    numpy.ndarray, shape (d, d)
        ``S_kl = sqrt(λ_k λ_l) b_k b_l (G_kl − m_k m_l)``: the covariance, over the
        ``T + 1`` steps, of the noiseless trajectory ``sqrt(λ_k) b_k (1 − r_k^t)``.
        Positive semi-definite, of rank ``min(d', T)`` with ``d'`` the number of
        distinct ``r_k`` among the modes with ``b_k != 0`` (chapter 3).

    Notes
    -----
    float64 accuracy (``u = 2^-53``, barring underflow), from that of
    :func:`time_averages` and ``SCALE_ULP`` for the scaling by
    ``sqrt(λ_k λ_l) b_k b_l``:
    ``|ΔS_kl| <= (COV_ULP + SCALE_ULP)·u·sqrt(λ_k λ_l)|b_k b_l|(G_kl + m_k m_l)`` for
    every entry, and ``|ΔS_kl| <= (SAME_SIGN_ULP + SCALE_ULP)·u·|S_kl|`` when ``r_k``
    and ``r_l`` have the same sign (always on the diagonal). With ``precision`` every
    entry has a relative error below ``10^-precision``.

    Raises
    ------
    ValueError
        For non-positive or non-finite ``lam``, ``b`` of the wrong length or
        non-finite, ``η·max(λ) >= 2``, ``steps < 0`` or ``precision < 16``.
    """
    lam_v, lam_f, eta_v, T, prec = _common(lam, eta, steps, precision)
    if prec is None:
        b_a = _validate.vector(b, "b", lam_f.size)
        _, _, cov = _float_time(eta_v, lam_f, T)
        u = np.sqrt(lam_f) * b_a
        return np.outer(u, u) * cov
    b_v = _vector_any(b, "b", lam_f.size)
    lam_mp, _, _, C = _mp_time(lam_v, eta, T, prec)
    d = len(lam_mp)
    with mpmath.workdps(prec + 10):
        b_mp = _mp_vector(b_v)
        u = [mpmath.sqrt(lam_mp[k]) * b_mp[k] for k in range(d)]
        S = [[u[k] * u[l] * C[k][l] for l in range(d)] for k in range(d)]
    return _round(S, prec)


def noise_variances(
    lam: Any,
    s: float,
    eta: float,
    steps: int,
    *,
    n_inits: int | None = None,
    precision: int | None = None,
) -> np.ndarray:
    """The initialisation-noise diagonal of the cloud covariance.

    Parameters
    ----------
    lam : array_like, shape (d,)
        Eigenvalues ``λ_k > 0``.
    s : float
        Initial weight scale ``>= 0``: ``v_kᵀ w_0 ~ N(0, s²/d)``.
    eta : float
        Learning rate, ``0 < η·max(λ) < 2``.
    steps : int
        ``T >= 0``.
    n_inits : int, optional
        Number of initialisations ``M >= 1`` of a finite cloud. When given, returns the
        expected noise diagonal of the cloud centred on its own sample mean,
        ``n_k − (s²/d) λ_k m_k² / M``; when omitted, the ``M → ∞`` value ``n_k``.
    precision : int, optional
        Decimal digits (``>= 16``); returns an object array of ``mpmath.mpf``.

    Returns
    -------
    numpy.ndarray, shape (d,)
        ``n_k = (s²/d) λ_k G_kk``.

    Raises
    ------
    ValueError
        For non-positive or non-finite ``lam``, ``s < 0``, ``η·max(λ) >= 2``,
        ``steps < 0``, ``n_inits < 1`` or ``precision < 16``.

    Notes
    -----
    float64 relative error (``u = 2^-53``, barring underflow) at most
    ``(TIME_ULP + SCALE_ULP)·u`` for ``M → ∞``, and ``(SAME_SIGN_ULP + SCALE_ULP)·u``
    with ``n_inits``, where ``G_kk − m_k²/M`` is summed as
    ``(G_kk − m_k²) + m_k²(M − 1)/M`` (two terms ``>= 0``). With ``precision``: below
    ``10^-precision``.
    """
    lam_v, lam_f, eta_v, T, prec = _common(lam, eta, steps, precision)
    s_v = _validate.finite_real(s, "s", low=0.0)
    M = None if n_inits is None else _validate.integer(n_inits, "n_inits", low=1)
    d = lam_f.size
    if prec is None:
        G, m, cov = _float_time(eta_v, lam_f, T)
        # G_kk − m_k²/M = (G_kk − m_k²) + m_k² (M − 1)/M: two terms >= 0, no cancelling
        g = np.diag(G) if M is None else np.diag(cov) + m**2 * ((M - 1) / M)
        return (s_v**2 / d) * lam_f * g
    lam_mp, G, m, C = _mp_time(lam_v, eta, T, prec)
    with mpmath.workdps(prec + 10):
        s_mp = s if isinstance(s, mpmath.mpf) else mpmath.mpf(float(s))
        g = [
            G[k][k] if M is None else C[k][k] + m[k] ** 2 * (M - 1) / M
            for k in range(d)
        ]
        out = [s_mp**2 / d * lam_mp[k] * g[k] for k in range(d)]
    return _round(out, prec)


def covariance(
    lam: Any,
    b: Any,
    s: float,
    eta: float,
    steps: int,
    *,
    n_inits: int | None = None,
    precision: int | None = None,
) -> np.ndarray:
    """Expected centred covariance ``C = S + diag(n)`` of the cloud of trajectories.

    Parameters
    ----------
    lam : array_like, shape (d,)
        Eigenvalues ``λ_k > 0`` (any order; not re-sorted).
    b : array_like, shape (d,)
        Ground truth in the eigenbasis.
    s : float
        Initial weight scale ``>= 0``.
    eta : float
        Learning rate, ``0 < η·max(λ) < 2``.
    steps : int
        ``T >= 0``.
    n_inits : int, optional
        For a finite cloud of ``M`` initialisations centred on its own mean: the
        expectation of its (population-normalised) covariance, which is ``C`` minus
        ``diag((s²/d) λ_k m_k²)/M``. Omitted: the ``M → ∞`` covariance ``C``.
    precision : int, optional
        Decimal digits (``>= 16``); returns an object array of ``mpmath.mpf``.

    Returns
    -------
    numpy.ndarray, shape (d, d)
        ``C = signal_covariance(...) + diag(noise_variances(...))``. float64 accuracy:
        off the diagonal that of :func:`signal_covariance`; on it, ``C_kk`` is the sum
        of two terms ``>= 0`` and has a relative error at most
        ``(SAME_SIGN_ULP + SCALE_ULP + 1)·u``. With ``precision``: every entry to a
        relative ``2·10^-precision``.

    Raises
    ------
    ValueError
        As :func:`signal_covariance`, and for ``s < 0`` or ``n_inits < 1``.
    """
    S = signal_covariance(lam, b, eta, steps, precision=precision)
    noise = noise_variances(lam, s, eta, steps, n_inits=n_inits, precision=precision)
    C = S.copy()
    idx = np.arange(C.shape[0])
    if precision is None:
        C[idx, idx] += noise
        return C
    with mpmath.workdps(int(precision)):
        for k in idx:
            C[k, k] = C[k, k] + noise[k]
    return C


def float64_error_bounds(
    lam: Any, b: Any, s: float, eta: float, steps: int, *, n_inits: int | None = None
) -> dict[str, np.ndarray]:
    """Upper bounds on the float64 errors of this module's closed forms.

    The documented accuracy of :func:`time_averages`, :func:`signal_covariance`,
    :func:`noise_variances` and :func:`covariance` (``TIME_ULP``, ``COV_ULP``,
    ``SAME_SIGN_ULP``, ``SCALE_ULP``), turned into numbers: each bound is stated in
    terms of exact values, evaluated here from the float64 results and inflated by
    ``1 + 2^-20``, which covers both the difference between exact and float64 values
    (a few hundred ulp at most) and the rounding of the bound itself. Tolerances of
    checks derived from the stated accuracy use these.

    Parameters
    ----------
    lam, b, s, eta, steps, n_inits
        As in :func:`covariance` (float64 only).

    Returns
    -------
    dict of numpy.ndarray
        ``"G"``, ``"m"``, ``"cov"`` (of :func:`time_averages`), ``"S"``, ``"noise"``
        and ``"C"``: bounds on ``|float64 value − exact value|``, shaped as the values.
    """
    lam_v, lam_f, eta_v, T, _ = _common(lam, eta, steps, None)
    b_a = _validate.vector(b, "b", lam_f.size)
    u = UNIT_ROUNDOFF
    grow = 1.0 + 2.0**-20
    G, m, cov = _float_time(eta_v, lam_f, T)
    a, a_lo = _geometric.rates(eta_v, lam_f)
    below = (a < 1.0) | ((a == 1.0) & (a_lo <= 0.0))
    same = below[:, None] == below[None, :]
    Gm = G + np.outer(m, m)
    out = {"G": TIME_ULP * u * G * grow, "m": TIME_ULP * u * m * grow}
    out["cov"] = (
        np.where(
            same, np.minimum(SAME_SIGN_ULP * np.abs(cov), COV_ULP * Gm), COV_ULP * Gm
        )
        * u
        * grow
    )
    w = np.sqrt(lam_f) * np.abs(b_a)
    S = signal_covariance(lam, b, eta, steps)
    out["S"] = (
        np.where(
            same,
            np.minimum(
                (SAME_SIGN_ULP + SCALE_ULP) * np.abs(S),
                (COV_ULP + SCALE_ULP) * np.outer(w, w) * Gm,
            ),
            (COV_ULP + SCALE_ULP) * np.outer(w, w) * Gm,
        )
        * u
        * grow
    )
    noise = noise_variances(lam, s, eta, steps, n_inits=n_inits)
    ulp_n = TIME_ULP if n_inits is None else SAME_SIGN_ULP
    out["noise"] = (ulp_n + SCALE_ULP) * u * noise * grow
    C = out["S"].copy()
    idx = np.arange(lam_f.size)
    C[idx, idx] = (SAME_SIGN_ULP + SCALE_ULP + 1) * u * (np.diag(S) + noise) * grow
    out["C"] = C
    return out


# ----------------------------------------------------------------------- sampled clouds


def _cloud_inputs(lam, b, s, eta, steps, n_inits, seed):
    lam_f = np.asarray(_validate.eigenvalues(lam), dtype=float)
    d = lam_f.size
    b_a = _validate.vector(b, "b", d)
    s_v = _validate.finite_real(s, "s", low=0.0)
    eta_v = _validate.learning_rate(eta, lam_f)
    T = _validate.integer(steps, "steps", low=0)
    M = _validate.integer(n_inits, "n_inits", low=1)
    rng = np.random.default_rng(_validate.seed(seed))
    xi = rng.standard_normal((M, d)) * (s_v / np.sqrt(d))
    return lam_f, b_a, eta_v, T, xi


def _trajectories(lam_f, b_a, eta_v, T, xi) -> np.ndarray:
    """``(M, T+1, d)`` cloud coordinates by iterating ``c ← c − ηλ(c − b)``."""
    M, d = xi.shape
    out = np.empty((M, T + 1, d))
    root = np.sqrt(lam_f)
    step = eta_v * lam_f
    c = xi.copy()
    out[:, 0, :] = root * c
    for t in range(1, T + 1):
        c -= step * (c - b_a)
        out[:, t, :] = root * c
    return out


def sample(
    lam: Any, b: Any, s: float, eta: float, steps: int, n_inits: int, seed: int
) -> np.ndarray:
    """A sampled cloud of gradient-descent trajectories.

    The initial coordinates ``ξ_j ~ N(0, (s²/d) I)`` are drawn with
    ``numpy.random.default_rng(seed)`` and each run is *iterated*,
    ``c_{t+1} = c_t − ηλ (c_t − b)`` (not evaluated from the closed form), so that
    statistics of the sample are an independent check of :func:`covariance`.

    Parameters
    ----------
    lam, b : array_like, shape (d,)
        Eigenvalues ``λ_k > 0`` and ground truth in the eigenbasis.
    s : float
        Initial weight scale ``>= 0``.
    eta : float
        Learning rate, ``0 < η·max(λ) < 2``.
    steps : int
        ``T >= 0``.
    n_inits : int
        Number of initialisations ``M >= 1``.
    seed : int
        Seed of the initialisations.

    Returns
    -------
    numpy.ndarray, shape (M·(T+1), d)
        Row ``j·(T+1) + t`` holds ``z(j, t) = sqrt(λ) ∘ c_t`` of run ``j``.

    Raises
    ------
    ValueError
        For invalid parameters, or a cloud of more than ``MAX_ENTRIES`` numbers (use
        :func:`sample_moments`, which streams).
    """
    lam_f, b_a, eta_v, T, xi = _cloud_inputs(lam, b, s, eta, steps, n_inits, seed)
    M, d = xi.shape
    if M * (T + 1) * d > MAX_ENTRIES:
        raise ValueError(
            f"a cloud of n_inits*(steps+1)*d = {M * (T + 1) * d:,} numbers exceeds "
            f"{MAX_ENTRIES:,}; use cloud.sample_moments, which streams over the "
            "initialisations"
        )
    return _trajectories(lam_f, b_a, eta_v, T, xi).reshape(M * (T + 1), d)


def sample_moments(
    lam: Any,
    b: Any,
    s: float,
    eta: float,
    steps: int,
    n_inits: int,
    seed: int,
    *,
    chunk_entries: int = 4_000_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and centred covariance of a sampled cloud, streamed over initialisations.

    Draws exactly the same cloud as :func:`sample` (same ``seed``) but never holds more
    than about ``chunk_entries`` coordinates at once. The moments of the chunks are
    merged with the pairwise update of Chan, Golub and LeVeque, which avoids the
    cancellation of ``E[zzᵀ] − E[z]E[z]ᵀ``.

    Parameters
    ----------
    lam, b, s, eta, steps, n_inits, seed
        As in :func:`sample`.
    chunk_entries : int, optional
        Largest number of coordinates materialised at once, ``>= d·(T+1)``.

    Returns
    -------
    mean : numpy.ndarray, shape (d,)
        Mean of all ``M (T+1)`` points.
    cov : numpy.ndarray, shape (d, d)
        Their covariance with population normalisation (divided by ``M (T+1)``): the
        same as ``numpy.cov(sample(...).T, bias=True)`` up to round-off.
    """
    lam_f, b_a, eta_v, T, xi = _cloud_inputs(lam, b, s, eta, steps, n_inits, seed)
    M, d = xi.shape
    per_run = (T + 1) * d
    ce = _validate.integer(chunk_entries, "chunk_entries", low=per_run)
    runs = max(1, ce // per_run)
    count = 0
    mean = np.zeros(d)
    scatter = np.zeros((d, d))
    for j0 in range(0, M, runs):
        Z = _trajectories(lam_f, b_a, eta_v, T, xi[j0 : j0 + runs]).reshape(-1, d)
        nb = Z.shape[0]
        mb = Z.mean(axis=0)
        Zc = Z - mb
        sb = Zc.T @ Zc
        delta = mb - mean
        tot = count + nb
        scatter += sb + np.outer(delta, delta) * (count * nb / tot)
        mean += delta * (nb / tot)
        count = tot
    return mean, scatter / count


# ------------------------------------------------------- references for the checks


def _read_draws(points: Any, lam: Any, b: Any, eta: Any, steps: Any):
    """Validated inputs, and the draws ``ξ_j = z(j, 0)/sqrt(λ)`` read from a cloud."""
    lam_f = np.asarray(_validate.eigenvalues(lam), dtype=float)
    d = lam_f.size
    b_a = _validate.vector(b, "b", d)
    eta_v = _validate.learning_rate(eta, lam_f)
    T = _validate.integer(steps, "steps", low=0)
    Z = np.asarray(points, dtype=float)
    if Z.ndim != 2 or Z.shape[1] != d or Z.shape[0] % (T + 1) or Z.shape[0] == 0:
        raise ValueError(
            f"points must have shape (M*(steps+1), d) = (M*{T + 1}, {d}), "
            f"got {Z.shape}"
        )
    if not np.all(np.isfinite(Z)):
        raise ValueError("points must be finite; found non-finite entries")
    xi = Z[:: T + 1] / np.sqrt(lam_f)
    return lam_f, b_a, eta_v, T, Z, xi


def sample_error_bound(
    points: Any, lam: Any, b: Any, eta: float, steps: int
) -> np.ndarray:
    """Round-off bound of :func:`sample` against the mode solution.

    :func:`sample` iterates ``c ← c − ηλ(c − b)`` from the draws ``ξ_j``. The draws are
    read back from the cloud, ``ξ_jk = z_k(j, 0)/sqrt(λ_k)`` in float64, and compared
    with the exact mode solution for these ``ξ``,
    ``z_k(j, t) = sqrt(λ_k)(b_k(1 − r_k^t) + r_k^t ξ_jk)``, ``r_k = 1 − ηλ_k``. With
    ``u = 2^-53`` and ``K_jk = |b_k| + |ξ_jk − b_k|`` (which bounds ``|c_t|`` and
    ``|c_t − b_k|`` for every ``t``)::

        |points − z| <= sqrt(λ_k) u (7.1 t K_jk + 3|ξ_jk|) + 3u |points|  (+ underflow).

    One step rounds four times (the product ``ηλ_k``, the difference ``c − b_k``, their
    product and the final difference), adding at most
    ``u|c_{t+1}| + 3u ηλ_k|c_t − b_k| <= 7u K_jk`` to first order (``ηλ_k < 2``); the
    exact update multiplies the error already made by ``r_k``, ``|r_k| < 1``, so after
    ``t`` steps the error of ``c`` is at most ``7t u K`` to first order, and 7.1 covers
    the second-order terms. The scaling ``sqrt(λ) ∘ c`` adds ``3u|z|`` (the square root
    and the product), and reading the draws back costs ``3u|ξ|`` (square root, product
    and quotient). Results in the subnormal range have an absolute error of up to
    ``ε_min = 2^-1074`` besides, which adds ``ε_min (sqrt(λ_k)(4t + 1) + 3)``. The
    bound is inflated by ``1 + 2^-20`` for its own rounding.

    Parameters
    ----------
    points : array_like, shape (M·(T+1), d)
        A cloud from :func:`sample` with the same ``lam``, ``b``, ``eta``, ``steps``.
    lam, b, eta, steps
        As in :func:`sample`.

    Returns
    -------
    numpy.ndarray, shape (M·(T+1), d)
        Upper bounds on ``|points − z|`` entry by entry.

    Raises
    ------
    ValueError
        For invalid parameters or a cloud of the wrong shape.
    """
    lam_f, b_a, _, T, Z, xi = _read_draws(points, lam, b, eta, steps)
    M, d = xi.shape
    u = UNIT_ROUNDOFF
    t = np.arange(T + 1, dtype=float)[None, :, None]
    K = (np.abs(b_a) + np.abs(xi - b_a))[:, None, :]
    bound = np.sqrt(lam_f) * u * (7.1 * t * K + 3.0 * np.abs(xi)[:, None, :])
    tiny = 2.0**-1074 * (np.sqrt(lam_f) * (4.0 * t + 1.0) + 3.0)
    bound = (bound + tiny).reshape(M * (T + 1), d) + 3.0 * u * np.abs(Z)
    return bound * (1.0 + 2.0**-20)


def exact_points(
    points: Any, lam: Any, b: Any, eta: float, steps: int, *, bits: int = 256
) -> np.ndarray:
    """Arb enclosures of the mode solution at the draws of a sampled cloud.

    The draws ``ξ_j`` are read back from ``points`` as in :func:`sample_error_bound`,
    and ``z_k(j, t) = sqrt(λ_k)(b_k(1 − r_k^t) + r_k^t ξ_jk)``, ``r_k = 1 − ηλ_k``, is
    evaluated in ball arithmetic for exactly these floats (independent of the iteration
    of :func:`sample`).

    Parameters
    ----------
    points, lam, b, eta, steps
        As in :func:`sample_error_bound`.
    bits : int, optional
        Working precision of the ball arithmetic.

    Returns
    -------
    numpy.ndarray of flint.arb, shape (M·(T+1), d)
    """
    from flint import ctx

    from .certify import to_arb

    lam_f, b_a, eta_v, T, Z, xi = _read_draws(points, lam, b, eta, steps)
    M, d = xi.shape
    out = np.empty((M, T + 1, d), dtype=object)
    with ctx.workprec(_validate.integer(bits, "bits", low=53)):
        for k in range(d):
            root, bk = to_arb(lam_f[k]).sqrt(), to_arb(b_a[k])
            rk = 1 - to_arb(eta_v) * to_arb(lam_f[k])
            for j in range(M):
                x, power = to_arb(xi[j, k]), to_arb(1)
                for t in range(T + 1):
                    out[j, t, k] = root * (bk * (1 - power) + power * x)
                    power *= rk
    return out.reshape(M * (T + 1), d)


def brute_force_moments(
    lam: Any, b: Any, s: float, eta: float, steps: int, *, bits: int = 512
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``G``, ``m`` and the cloud covariance ``C`` by term-by-term sums, in Arb.

    No closed form and no time average is used: ``G`` and ``m`` are the sums over
    ``t`` of the powers ``r^t`` built by repeated multiplication, and ``C`` comes from
    the law of total covariance, the covariance over ``t`` of the mean trajectory plus
    the mean over ``t`` of the covariance over ``ξ``::

        C = (1/(T+1)) Σ_t [(a(t) − ā)(a(t) − ā)ᵀ + (s²/d) diag(λ_k r_k^(2t))],

    ``a_k(t) = sqrt(λ_k) b_k (1 − r_k^t)``. Every operation is a ball operation, so the
    exact values lie in the returned balls. The cost is ``O(d² T)`` ball operations.

    Parameters
    ----------
    lam, b, s, eta, steps
        As in :func:`covariance` (floats, taken exactly).
    bits : int, optional
        Working precision of the ball arithmetic.

    Returns
    -------
    G : numpy.ndarray of flint.arb, shape (d, d)
    m : numpy.ndarray of flint.arb, shape (d,)
    C : numpy.ndarray of flint.arb, shape (d, d)
    """
    from flint import ctx

    from .certify import to_arb

    lam_f = np.asarray(_validate.eigenvalues(lam), dtype=float)
    d = lam_f.size
    b_a = _validate.vector(b, "b", d)
    s_v = _validate.finite_real(s, "s", low=0.0)
    eta_v = _validate.learning_rate(eta, lam_f)
    T = _validate.integer(steps, "steps", low=0)
    n = T + 1
    with ctx.workprec(_validate.integer(bits, "bits", low=53)):
        lam_a = [to_arb(x) for x in lam_f]
        r = [1 - to_arb(eta_v) * x for x in lam_a]
        P = []  # P[k][t] = r_k^t
        for rk in r:
            row = [to_arb(1)]
            for _ in range(T):
                row.append(row[-1] * rk)
            P.append(row)
        m = [sum(P[k]) / n for k in range(d)]
        G = [
            [sum(P[k][t] * P[l][t] for t in range(n)) / n for l in range(d)]
            for k in range(d)
        ]
        w = [lam_a[k].sqrt() * to_arb(b_a[k]) for k in range(d)]
        a = [[w[k] * (1 - P[k][t]) for t in range(n)] for k in range(d)]
        abar = [sum(a[k]) / n for k in range(d)]
        C = [
            [
                sum((a[k][t] - abar[k]) * (a[l][t] - abar[l]) for t in range(n)) / n
                for l in range(d)
            ]
            for k in range(d)
        ]
        sig2 = to_arb(s_v) ** 2 / d
        for k in range(d):
            C[k][k] += sig2 * lam_a[k] * sum(P[k][t] ** 2 for t in range(n)) / n
    return (
        np.array(G, dtype=object),
        np.array(m, dtype=object),
        np.array(C, dtype=object),
    )


def exact_signal_rank(lam: Any, b: Any, eta: float, steps: int) -> int:
    """The rank of the signal ``S``, decided in exact rational arithmetic.

    The floats ``λ_k`` and ``η`` are rational numbers, so ``r_k = 1 − ηλ_k`` and the
    closed forms of ``G`` and ``m`` are rationals, and
    ``S = D (G − m mᵀ) D`` with ``D = diag(sqrt(λ_k) b_k)``. The rows and columns
    with ``b_k = 0`` vanish and ``sqrt(λ_k) b_k ≠ 0`` otherwise, so ``rank S`` is the
    rank of the rational matrix ``G − m mᵀ`` restricted to the modes with ``b_k ≠ 0``,
    computed by Gaussian elimination over the rationals (SymPy's ``QQ``).

    Parameters
    ----------
    lam, b, eta, steps
        As in :func:`signal_covariance` (floats, taken exactly).

    Returns
    -------
    int
    """
    from fractions import Fraction

    from sympy import QQ
    from sympy.polys.matrices import DomainMatrix

    lam_f = np.asarray(_validate.eigenvalues(lam), dtype=float)
    b_a = _validate.vector(b, "b", lam_f.size)
    eta_v = _validate.learning_rate(eta, lam_f)
    n = _validate.integer(steps, "steps", low=0) + 1
    r = [1 - Fraction(eta_v) * Fraction(x) for x, bk in zip(lam_f, b_a) if bk != 0]
    if not r:
        return 0
    m = [(1 - x**n) / (n * (1 - x)) for x in r]
    rows = []
    for k, rk in enumerate(r):
        row = []
        for l, rl in enumerate(r):
            x = rk * rl
            v = (1 - x**n) / (n * (1 - x)) - m[k] * m[l]
            row.append(QQ(v.numerator, v.denominator))
        rows.append(row)
    return int(DomainMatrix(rows, (len(r), len(r)), QQ).rank())
