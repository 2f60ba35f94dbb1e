"""Speed of the phase-diagram sweeps: a 64 x 64 grid of cloud spectra at d = 100.

Prints the wall time of ``ribbonlib.phase.spectra_grid`` (batched float64 eigvalsh, one
call per decay exponent), of ``ribbonlib.phase.bounds_grid`` (certified bounds on the
same grid, every round-off bounded) and of ``ribbonlib.phase.analytic_bounds_grid``
(closed-form bounds, every round-off bounded), checks that every computed eigenvalue lies
between both pairs of bounds (which the eigensolver allowance makes true in practice),
and times the same three on a 64 x 64 grid over (decay exponent, steps) at fixed scale,
where every grid point has its own signal (no sharing across scales). Last, the cost of
one Arb enclosure of an exact spectrum at d = 100 (``ribbonlib.certify``), the unit of
chapter 5's certified sweep.
Run: ``.venv/bin/python benchmarks/bench_phase.py``.
"""

from __future__ import annotations

import time

import numpy as np

from ribbonlib import phase

D, N_ALPHA, N_RHO, N_T, ETA, STEPS, RHO = 100, 64, 64, 64, 0.5, 100, 0.1


def best_of(n: int, fn):
    best, out = np.inf, None
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    alphas = np.linspace(0.5, 3.0, N_ALPHA)
    rhos = np.logspace(-3, 1, N_RHO)
    lams = np.arange(1, D + 1)[None, :] ** -alphas[:, None]
    b = np.ones(D) / np.sqrt(D)
    t_spec, mu = best_of(3, lambda: phase.spectra_grid(lams, b, rhos, ETA, STEPS))
    t_cert, (lower, upper, _) = best_of(3, lambda: phase.bounds_grid(lams, b, rhos, ETA, STEPS))
    t_an, an = best_of(3, lambda: phase.analytic_bounds_grid(lams, b, rhos, ETA, STEPS))
    inside = bool(np.all(lower <= mu) and np.all(mu <= upper))
    inside_an = bool(np.all(an.lower <= mu) and np.all(mu <= an.upper))
    print(f"grid {N_ALPHA} x {N_RHO} (alpha x rho) at d = {D}, T = {STEPS} (best of 3)")
    print(f"  exact spectra (spectra_grid):            {t_spec:6.2f} s  (budget 30 s)")
    print(f"  certified bounds (bounds_grid):          {t_cert:6.2f} s")
    print(f"  analytic bounds (analytic_bounds_grid):  {t_an:6.2f} s")
    print(f"  every eigenvalue inside its certified bounds: {inside}; inside its analytic bounds: {inside_an}")

    Ts = np.round(np.geomspace(1, 3000, N_T)).astype(int)
    rows = np.repeat(lams, N_T, axis=0)
    steps = np.tile(Ts, N_ALPHA)
    t_spec, mu = best_of(1, lambda: phase.spectra_grid(rows, b, [RHO], ETA, steps))
    t_cert, (lower, upper, _) = best_of(1, lambda: phase.bounds_grid(rows, b, [RHO], ETA, steps))
    t_an, an = best_of(1, lambda: phase.analytic_bounds_grid(rows, b, [RHO], ETA, steps))
    inside = bool(np.all(lower <= mu) and np.all(mu <= upper) and np.all(an.lower <= mu) and np.all(mu <= an.upper))
    print(f"grid {N_ALPHA} x {N_T} (alpha x T, T = 1..3000) at d = {D}, rho = {RHO} (one run)")
    print(f"  exact spectra:    {t_spec:6.2f} s")
    print(f"  certified bounds: {t_cert:6.2f} s")
    print(f"  analytic bounds:  {t_an:6.2f} s")
    print(f"  every eigenvalue inside both pairs of bounds: {inside}")

    from flint import arb_mat, ctx

    from ribbonlib import certify

    S, n_hat = certify.cloud_matrices(lams[N_ALPHA // 2], b, ETA, STEPS)

    def one_point(s: float):
        with ctx.workprec(256):
            C = arb_mat(S)
            for k in range(D):
                C[k, k] = C[k, k] + certify.to_arb(s) ** 2 * n_hat[k]
        return certify.symmetric_eigenvalues(C, balls=True)

    t_one, _ = best_of(3, lambda: one_point(RHO))
    print(f"one certified spectrum (Arb, float64 eigenvectors) at d = {D}: {t_one:6.3f} s")


if __name__ == "__main__":
    main()
