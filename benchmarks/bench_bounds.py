"""Speed of the 60-digit verification of the signal-width bounds at d = 60 (budget 30 s).

For the power-law example of the "Why a ribbon" chapter (lam_k = 1/k, d = 60, eta = 0.5,
T = 200, flat ground truth) the script times, at 60 digits:

* the signal covariance S (``cloud.signal_covariance``),
* its eigenvalues with ``mpmath.eigsy`` (the route used by ``bounds.singular_values_mp``)
  and, for comparison, its singular values with ``mpmath.svd_r``,
* every a priori route of ``bounds.signal_width_bounds``,
* the verification ``sigma_i + allowance <= bound_i`` at every index whose bound lies
  above the resolution of 60 digits,

and, for the phase-diagram sweeps, the float64 ``signal_width_bounds(route="best")`` at
d = 100. Run: ``.venv/bin/python benchmarks/bench_bounds.py``.
"""

from __future__ import annotations

import time

import mpmath
import numpy as np

from ribbonlib import bounds, cloud, spectra

D, ETA, STEPS, DIGITS = 60, 0.5, 200, 60


def verify(lam: np.ndarray, b: np.ndarray) -> dict:
    times = {}
    t0 = time.perf_counter()
    S = cloud.signal_covariance(lam, b, ETA, STEPS, precision=DIGITS)
    times["S at 60 digits"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    sv, allow = bounds.singular_values_mp(S, precision=DIGITS, symmetric=True)
    times["eigenvalues (eigsy)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    routes = bounds.signal_width_bounds(lam, b, ETA, STEPS, route="all", precision=DIGITS)
    times["all routes at 60 digits"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    checked = failed = 0
    with mpmath.workdps(DIGITS + 20):
        for bd in routes.values():
            for i in range(D):
                if bd[i] > 10 * allow:
                    checked += 1
                    failed += not (sv[i] + allow <= bd[i])
    times["verification"] = time.perf_counter() - t0
    times["total"] = sum(times.values())
    return dict(times=times, checked=checked, failed=failed)


def main() -> None:
    lam = spectra.power_law(D, 1.0)
    b = np.ones(D) / np.sqrt(D)
    best = None
    for _ in range(2):
        res = verify(lam, b)
        if best is None or res["times"]["total"] < best["times"]["total"]:
            best = res
    print(f"60-digit verification, d = {D}, T = {STEPS} (best of 2)")
    for key, val in best["times"].items():
        print(f"  {key:28s} {val:7.2f} s" + ("   (budget 30 s)" if key == "total" else ""))
    print(f"  route-index pairs verified: {best['checked']}, violated: {best['failed']}")
    S = cloud.signal_covariance(lam, b, ETA, STEPS, precision=DIGITS)
    with mpmath.workdps(DIGITS):
        M = mpmath.matrix(S.tolist())
        t0 = time.perf_counter()
        mpmath.svd_r(M, compute_uv=False)
        t_svd = time.perf_counter() - t0
    print(f"  for comparison, mpmath.svd_r on the same matrix: {t_svd:.2f} s")
    lam100 = spectra.power_law(100, 1.0)
    b100 = np.ones(100) / 10
    t0 = time.perf_counter()
    for _ in range(5):
        bounds.signal_width_bounds(lam100, b100, ETA, STEPS, route="best")
    print(f"float64 signal_width_bounds(route='best') at d = 100: {(time.perf_counter() - t0) / 5:.3f} s per call")


if __name__ == "__main__":
    main()
