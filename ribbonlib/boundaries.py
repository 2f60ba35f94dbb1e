"""Leading asymptotics of the phase boundaries of hyper-ribbons (chapter 5).

The rigorous boundaries are those of :mod:`ribbonlib.phase` (sufficient and necessary
conditions from two-sided bounds on the exact spectrum). This module gives their
*formal* asymptotics: closed formulas in the control parameters, derived in the
gradient-flow limit (``ηλ_k → 0`` at fixed progress ``x_k = ηλ_kT``) with sums over
modes replaced by integrals. They are guides, not bounds; chapter 5 measures their
error against the exact boundaries.

* :func:`scale_integrals` and :func:`log_scale_integrals`: the Mellin integrals that
  fix the signal and noise scales of power-law and exponential spectra;
* :func:`rho_c`: the critical initial scale of the variance condition (the noise
  plateau against the signal);
* :func:`steps_low_edge`: the number of steps below which a slowly decaying spectrum
  (``1/3 < α < 1``) is not a ribbon, the noise of the modes that have not moved
  drowning the signal;
* :func:`steps_high_edge`: the number of steps beyond which the signal itself fails
  the decay condition, from the effective Zolotarev spread
  ``min(λ_1/λ_d, 4ηλ_1T)``;
* :func:`sgd_rho_c`: the critical initial scale of online SGD, the label-noise floor
  of :func:`ribbonlib.sgd.stationary_floor` joining the signal.
"""

from __future__ import annotations

import math
from typing import Any

import mpmath
import numpy as np

from . import _validate

__all__ = [
    "scale_integrals",
    "log_scale_integrals",
    "rho_c",
    "steps_low_edge",
    "steps_high_edge",
    "sgd_rho_c",
]

_EULER = 0.57721566490153286061


def _gamma_form(g: Any) -> tuple[Any, Any]:
    """``(I_S, I_N)`` at ``γ`` from the Gamma closed forms (mpmath, no singularity)."""
    I_N = -(2 ** (g - 1)) * mpmath.gamma(-g)
    return I_N - 2 * mpmath.gamma(-g) * (1 - 2**g) / (1 + g), I_N


def scale_integrals(alpha: float) -> tuple[float, float]:
    """The integrals ``(I_S, I_N)`` of the signal and noise scales of ``λ_k = k^(−α)``.

    With ``γ = 1/α`` and ``V(x) = (1 − e^(−2x))/(2x) − ((1 − e^(−x))/x)²`` (the variance
    of ``e^(−xt/T)`` over ``t/T`` uniform in ``[0, 1]``),
    ``I_S = ∫_0^∞ x^(−γ) V(x) dx`` and ``I_N = ∫_0^∞ x^(−γ) (1 − e^(−2x))/(2x) dx``;
    in closed form ``I_N = −2^(γ−1) Γ(−γ)`` and
    ``I_S = I_N − 2Γ(−γ)(1 − 2^γ)/(1 + γ)``. At its removable singularities
    ``γ = 1, 2`` (within ``10^-12``) the Gamma form of ``I_S`` is averaged over
    ``γ ± 10^-15`` at 50 digits (error ``O(10^-30)``). Near the true poles ``γ → 0``
    (``α → ∞``, where ``I_S ≈ I_N ≈ 1/(2γ)``) and ``γ → 3`` (``α → 1/3``, where
    ``I_S ≈ 1/(12(3 − γ))``) it is evaluated as it stands: averaging across a pole
    would be wrong.

    Parameters
    ----------
    alpha : float
        Decay exponent ``α > 1/3`` (``I_S`` diverges below).

    Returns
    -------
    I_S, I_N : float
        ``I_N = inf`` for ``α <= 1``.
    """
    a = _validate.finite_real(alpha, "alpha", low=1.0 / 3.0, low_open=True)
    with mpmath.workdps(50):
        g = 1 / mpmath.mpf(a)
        if mpmath.nint(g) in (1, 2) and abs(g - mpmath.nint(g)) < mpmath.mpf(10) ** -12:
            h = mpmath.mpf(10) ** -15
            lo, hi = _gamma_form(g - h), _gamma_form(g + h)
            I_S = (lo[0] + hi[0]) / 2
        else:
            I_S = _gamma_form(g)[0]
        I_N = _gamma_form(g)[1] if g < 1 else mpmath.inf
        return float(I_S), float(I_N)


def log_scale_integrals(progress: float) -> tuple[float, float]:
    """The integrals ``(J_S, J_N)`` of the scales of an exponential spectrum.

    ``J_N = ½(log(2X) + γ_E)`` is ``∫_0^X (1 − e^(−2x))/(2x) dx`` up to ``e^(−2X)/X``
    and ``J_S = J_N − 2 log 2`` is ``∫_0^X V(x) dx`` up to ``1/X + e^(−2X)/X``, at
    ``X = ηλ_1T`` (``V`` as in :func:`scale_integrals`; for ``λ_k = q^(k−1)`` the sums
    over modes sample ``x = ηλ_kT`` uniformly in ``log x``).

    Parameters
    ----------
    progress : float
        ``X = ηλ_1T > 0``.

    Returns
    -------
    J_S, J_N : float
    """
    X = _validate.finite_real(progress, "progress", low=0.0, low_open=True)
    jn = 0.5 * (math.log(2.0 * X) + _EULER)
    return jn - 2.0 * math.log(2.0), jn


def _criterion(criterion: Any):
    from . import phase

    if criterion is None:
        return phase.RibbonCriterion()
    if not isinstance(criterion, phase.RibbonCriterion):
        raise ValueError(
            f"criterion must be a RibbonCriterion, got {type(criterion).__name__}"
        )
    return criterion


def _family(family: Any, decay: Any) -> tuple[str, float]:
    if family not in ("power", "exponential"):
        raise ValueError(f"family must be 'power' or 'exponential', got {family!r}")
    if family == "power":
        return family, _validate.finite_real(decay, "decay", low=1.0, low_open=True)
    return family, _validate.finite_real(
        decay, "decay", low=0.0, high=1.0, low_open=True, high_open=True
    )


def rho_c(
    family: str, decay: float, eta: float, steps: int, criterion: Any = None
) -> float:
    """The critical ``ρ = s/|b|`` of the variance condition (formal asymptotic).

    For an isotropic ground truth in the gradient-flow limit, when the noise plateau is
    much wider than ``K`` and narrower than ``d``, the variance condition fails for
    ``ρ > ρ_c`` with

    * ``λ_k = k^(−α)``, ``α > 1``: ``ρ_c² = ε I_S / ((1 − ε) I_N − (Kα/2)(ηT)^(−1/α))``
      (:func:`scale_integrals`);
    * ``λ_k = q^(k−1)``: ``ρ_c² = ε J_S / ((1 − ε) J_N − (K/2) log(1/q))``
      (:func:`log_scale_integrals`, ``X = ηT``).

    Parameters
    ----------
    family : {"power", "exponential"}
    decay : float
        ``α > 1`` or ``0 < q < 1``.
    eta, steps : float, int
        Learning rate ``η > 0`` (with ``λ_1 = 1``) and ``T >= 1``.
    criterion : ribbonlib.phase.RibbonCriterion, optional

    Returns
    -------
    float
        ``ρ_c``; ``inf`` when the denominator is not positive (the plateau is too
        narrow for the formula).
    """
    family, par = _family(family, decay)
    eta_v = _validate.finite_real(eta, "eta", low=0.0, low_open=True)
    T = _validate.integer(steps, "steps", low=1)
    crit = _criterion(criterion)
    K, eps = crit.K, crit.eps
    if family == "power":
        i_s, i_n = scale_integrals(par)
        den = (1 - eps) * i_n - K * par / 2 * (eta_v * T) ** (-1 / par)
    else:
        i_s, i_n = log_scale_integrals(eta_v * T)
        den = (1 - eps) * i_n - K / 2 * math.log(1 / par)
    return math.sqrt(eps * i_s / den) if den > 0 else math.inf


def steps_low_edge(
    alpha: float, rho: float, eta: float, d: int, criterion: Any = None
) -> float:
    """Steps below which ``λ_k = k^(−α)``, ``1/3 < α < 1``, fails the variance
    condition.

    When ``ηT ≪ d^α`` most of the noise sits in modes that have not moved,
    ``tr n̂ ≃ d^(−α)/(1 − α)``, while the signal grows like ``(ηT)^(1/α−1)``
    (``tr S ≃ (ηT)^(1/α−1) I_S/(α d)``); the variance condition
    ``(1 − ε) ρ² tr n̂ <= ε tr S`` then holds from

    ``T_− = (1/η) [ρ² (1 − ε) α d^(1−α) / (ε (1 − α) I_S(α))]^(α/(1−α))``

    on (formal asymptotic; isotropic ground truth, ``|b| = 1``).

    Parameters
    ----------
    alpha : float
        ``1/3 < α < 1``.
    rho : float
        ``ρ = s/|b| > 0``.
    eta : float
        ``η > 0`` (``λ_1 = 1``).
    d : int
        Number of modes ``>= 1``.
    criterion : ribbonlib.phase.RibbonCriterion, optional

    Returns
    -------
    float
    """
    a = _validate.finite_real(
        alpha, "alpha", low=1.0 / 3.0, high=1.0, low_open=True, high_open=True
    )
    r = _validate.finite_real(rho, "rho", low=0.0, low_open=True)
    eta_v = _validate.finite_real(eta, "eta", low=0.0, low_open=True)
    n = _validate.integer(d, "d", low=1)
    eps = _criterion(criterion).eps
    i_s = scale_integrals(a)[0]
    base = r**2 * (1 - eps) * a * n ** (1 - a) / (eps * (1 - a) * i_s)
    return base ** (a / (1 - a)) / eta_v


def steps_high_edge(lam: Any, eta: float, criterion: Any = None) -> float:
    """Steps beyond which the signal itself fails the decay condition (formal
    asymptotic).

    The eigenvalues of the signal fall off like the Zolotarev numbers of the Cayley
    nodes of the modes that have moved, ``σ_(k+1)/σ_1 ≈ exp(−π²k/log(4Γ))``, with the
    *effective spread* ``Γ = min(λ_1/λ_d, ηλ_1T)``: modes with ``ηλ_kT ≪ 1`` have not
    moved and carry almost no signal. The decay condition
    ``σ_K <= q^(2(K−1)) σ_1`` then holds while ``log(4Γ) <= π²/(2 log(1/q))``,
    whatever ``K``: the edge is at

    ``T_+ = exp(π²/(2 log(1/q))) / (4ηλ_1)``

    when the spectrum is wide enough, ``λ_1/λ_d > ηλ_1T_+``, and absent (``inf``)
    otherwise.

    Parameters
    ----------
    lam : array_like, shape (d,)
        Eigenvalues ``λ_k > 0``.
    eta : float
        Learning rate, ``0 < η·max(λ) < 2``.
    criterion : ribbonlib.phase.RibbonCriterion, optional

    Returns
    -------
    float
    """
    lam_f = np.asarray(_validate.eigenvalues(lam), dtype=float)
    eta_v = _validate.learning_rate(eta, lam_f)
    q = _criterion(criterion).q
    top = float(lam_f.max())
    gamma_c = math.exp(math.pi**2 / (2.0 * math.log(1.0 / q))) / 4.0
    if top / float(lam_f.min()) <= gamma_c:
        return math.inf
    return gamma_c / (eta_v * top)


def sgd_rho_c(
    lam: Any,
    b: Any,
    eta: float,
    batch_size: int,
    steps: int,
    label_noise: float,
    criterion: Any = None,
) -> float:
    """The critical ``ρ`` of the variance condition for online SGD (leading order).

    Applied to ``C_SGD = S' + s² diag(n̂')``
    (:func:`ribbonlib.phase.sgd_rho_boundaries`),
    the bracket of chapter 5 gives to leading order
    ``ρ_c² |b|² = (ε tr S' − τ_K(S')) / ((1 − ε) tr n̂' − Σ_{k<=K} n̂'_(k))``. Here the
    label-noise floor is taken stationary, ``σ_ε² λ_k p̂_k^∞`` with ``p̂^∞`` of
    :func:`ribbonlib.sgd.stationary_floor` at unit label noise, and concentrated on the
    top modes (its part beyond ``K`` is its own tail); the signal ``S`` and the unit
    noises are those of gradient descent (the SGD corrections ``Φ_b`` and ``φ_0`` are of
    relative order ``η/B``), and ``τ_K(S)`` is dropped.

    Parameters
    ----------
    lam, b : array_like, shape (d,)
        Eigenvalues and ground truth in the eigenbasis (sorted: ``λ`` descending).
    eta : float
        Learning rate, ``0 < η < η_c(B)``.
    batch_size, steps : int
        ``B >= 1``, ``T >= 0``.
    label_noise : float
        ``σ_ε² >= 0``.
    criterion : ribbonlib.phase.RibbonCriterion, optional

    Returns
    -------
    float
        ``ρ_c``; ``0`` when the label-noise floor alone puts more than ``ε`` of the
        variance beyond ``K`` (no ``ρ`` passes), ``inf`` when the denominator is not
        positive.
    """
    from . import cloud, sgd

    crit = _criterion(criterion)
    lam_f = np.asarray(_validate.eigenvalues(lam), dtype=float)
    if np.any(np.diff(lam_f) > 0):
        raise ValueError("lam must be sorted in decreasing order")
    b_a = _validate.vector(b, "b", lam_f.size)
    sig2 = _validate.finite_real(label_noise, "label_noise", low=0.0)
    K, eps = crit.K, crit.eps
    trS = float(np.trace(cloud.signal_covariance(lam_f, b_a, eta, steps)))
    n_hat = np.sort(cloud.noise_variances(lam_f, 1.0, eta, steps))[::-1]
    floor = lam_f * sgd.stationary_floor(lam_f, eta, batch_size, 1.0)
    num = eps * trS + sig2 * (eps * floor.sum() - floor[K:].sum())
    den = (1 - eps) * n_hat.sum() - n_hat[:K].sum()
    bn2 = float(np.sum(b_a**2))
    if num <= 0:
        return 0.0
    return math.sqrt(num / den / bn2) if den > 0 else math.inf
