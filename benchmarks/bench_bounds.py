"""Speed of the certified verification of the signal-width bounds (budget 30 s).

For the power-law example of the "Why a ribbon" chapter (lam_k = 1/k, d = 60,
eta = 0.5, T = 200, flat ground truth) the script times:

* the exact signal covariance S enclosed in Arb (``certify.cloud_matrices``, 1100 bits);
* rigorous enclosures of its eigenvalues (``bounds.singular_value_enclosures``, Arb
  eigenvectors at 320 digits, Weyl and Ostrowski);
* every a priori route of ``bounds.signal_width_bounds`` at 60 digits (ball arithmetic,
  rounded up);
* the certified comparison ``sigma_i <= bound_i`` at every index whose bound the
  enclosures resolve;

and, for the uses in other chapters: the float64 ``signal_width_bounds(route="best")``
and ``cloud_spectrum_bounds`` at d = 100, and the rigorous sup of Zolotarev's function
of degree 16 (``bounds.rational_sup``).

Run: ``.venv/bin/python benchmarks/bench_bounds.py``.
"""

from __future__ import annotations

import time

import mpmath
import numpy as np
from flint import ctx

from ribbonlib import bounds, certify, spectra

D, ETA, STEPS, DIGITS, P_TRUE = 60, 0.5, 200, 60, 320


def verify(lam: np.ndarray, b: np.ndarray) -> dict:
    times = {}
    t0 = time.perf_counter()
    S, _ = certify.cloud_matrices(lam, b, ETA, STEPS, target_bits=1100)
    times["S in Arb (1100 bits)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    sv = bounds.singular_value_enclosures(S, digits=P_TRUE, symmetric=True)
    times["eigenvalue enclosures"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    routes = bounds.signal_width_bounds(
        lam, b, ETA, STEPS, route="all", precision=DIGITS
    )
    times["all routes at 60 digits"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    proved = undecided = 0
    with ctx.workprec(4000):
        for bd in routes.values():
            for i in range(D):
                bi = certify.to_arb(bd[i])
                if bi > 10 * sv[i].rad():
                    ok = bool(sv[i] <= bi)
                    proved += ok
                    undecided += not ok
    times["certified comparisons"] = time.perf_counter() - t0
    times["total"] = sum(times.values())
    return dict(times=times, proved=proved, undecided=undecided)


def main() -> None:
    lam = spectra.power_law(D, 1.0)
    b = np.ones(D) / np.sqrt(D)
    best = None
    for _ in range(2):
        res = verify(lam, b)
        if best is None or res["times"]["total"] < best["times"]["total"]:
            best = res
    print(f"certified verification, d = {D}, T = {STEPS} (best of 2)")
    for key, val in best["times"].items():
        print(
            f"  {key:28s} {val:7.2f} s" + ("   (budget 30 s)" if key == "total" else "")
        )
    print(
        f"  route-index pairs proved: {best['proved']}, "
        f"resolved but not proved: {best['undecided']}"
    )
    lam100 = spectra.power_law(100, 1.0)
    b100 = np.ones(100) / 10
    for name, fn in (
        (
            "signal_width_bounds(route='best')",
            lambda: bounds.signal_width_bounds(lam100, b100, ETA, STEPS, route="best"),
        ),
        (
            "cloud_spectrum_bounds",
            lambda: bounds.cloud_spectrum_bounds(lam100, b100, 0.1, ETA, STEPS),
        ),
    ):
        t0 = time.perf_counter()
        for _ in range(3):
            fn()
        per_call = (time.perf_counter() - t0) / 3
        print(f"float64 {name} at d = 100: {per_call:.3f} s per call")
    with mpmath.workdps(75):
        kap = mpmath.mpf("1e-6")
        zeros, ext = bounds.zolotarev_rational(kap, 16, precision=DIGITS)
        amp = max(abs(mpmath.fprod([(x - p) / (x + p) for p in zeros])) for x in ext)
        goal = amp * (1 + mpmath.mpf(10) ** -49)
    t0 = time.perf_counter()
    _, sup = bounds.rational_sup(zeros, (kap, 1), target=goal, digits=DIGITS)
    print(
        f"rigorous sup of Zolotarev's function (k = 16, kappa = 1e-6, 60 digits): "
        f"{time.perf_counter() - t0:.2f} s, proved <= (1 + 1e-49) max|r(x_i)|: "
        f"{bool(sup <= certify.to_arb(goal))}"
    )


if __name__ == "__main__":
    main()
