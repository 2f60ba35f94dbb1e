"""Speed of the phase-diagram sweeps: a 64 x 64 grid of exact cloud spectra at d = 100.

Prints the wall time of ``ribbonlib.phase.spectra_grid`` (batched eigvalsh, one call
per decay exponent) and of ``ribbonlib.phase.bounds_grid`` (certified bounds on the same
grid), and checks that every exact eigenvalue lies between its bounds.
Run: ``.venv/bin/python benchmarks/bench_phase.py``.
"""

from __future__ import annotations

import time

import numpy as np

from ribbonlib import phase

D, N_ALPHA, N_RHO, ETA, STEPS = 100, 64, 64, 0.5, 100


def main() -> None:
    alphas = np.linspace(0.5, 3.0, N_ALPHA)
    rhos = np.logspace(-3, 1, N_RHO)
    lams = np.arange(1, D + 1)[None, :] ** -alphas[:, None]
    b = np.ones(D) / np.sqrt(D)
    best_spec = best_bounds = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        mu = phase.spectra_grid(lams, b, rhos, ETA, STEPS)
        t1 = time.perf_counter()
        lower, upper, _ = phase.bounds_grid(lams, b, rhos, ETA, STEPS)
        t2 = time.perf_counter()
        best_spec, best_bounds = min(best_spec, t1 - t0), min(best_bounds, t2 - t1)
    inside = bool(np.all(lower <= mu) and np.all(mu <= upper))
    print(f"grid {N_ALPHA} x {N_RHO} at d = {D}, T = {STEPS} (best of 3)")
    print(f"exact spectra (spectra_grid): {best_spec:.2f} s  (budget 30 s)")
    print(f"certified bounds (bounds_grid): {best_bounds:.2f} s")
    print(f"every eigenvalue inside its bounds: {inside}")


if __name__ == "__main__":
    main()
