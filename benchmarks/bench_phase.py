"""Speed and reach of the bounds behind chapter 5's phase diagrams (d = 100).

For the grids of chapter 5 (alpha x rho and q x rho at T = 100, alpha x T and q x T at
rho = 0.1, and alpha x rho with a decaying ground truth), prints

* the wall time of ``phase.spectra_grid`` (batched float64 eigvalsh),
  ``phase.bounds_grid``
  (certified bounds, an eigen-decomposition of S per spectrum) and
  ``phase.analytic_bounds_grid`` (explicit bounds from p pivot columns of S, no d x d
  eigen-decomposition), every round-off bounded;
* the fraction of grid points each pair of bounds decides (proved a hyper-ribbon or
  proved not to be), and that of the formulas ``phase.analytic_rho_boundaries`` on the
  rho grids; whether every computed eigenvalue lies between both pairs of bounds;
* the slack in decades of each bound, index by index (median and largest over the grid
  points where the eigenvalue exceeds 1e-12 of the largest);

and the cost of one Arb enclosure of an exact spectrum (``ribbonlib.certify``), the unit
of chapter 5's certified checks. Run: ``.venv/bin/python benchmarks/bench_phase.py``.
"""

from __future__ import annotations

import time

import numpy as np

from ribbonlib import certify, phase

D, N_PAR, N_RHO, ETA, STEPS, RHO = 100, 64, 64, 0.5, 100, 0.1
CRIT = phase.RibbonCriterion()


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def decades(a, b):
    return np.log10(np.maximum(a, 1e-300) / np.maximum(b, 1e-300))


def grids():
    alphas = np.linspace(0.25, 3.0, N_PAR)
    qs = np.linspace(0.5, 0.98, N_PAR)
    rhos = np.logspace(-3, 1, N_RHO)
    Ts = np.unique(np.round(np.geomspace(1, 3000, 40)).astype(int))
    pw = np.arange(1, D + 1)[None, :] ** -alphas[:, None]
    ex = qs[:, None] ** np.arange(D)[None, :]
    iso = np.ones(D) / np.sqrt(D)
    dec = 0.9 ** np.arange(D)
    dec /= np.linalg.norm(dec)
    rows_T = lambda lams: np.repeat(lams[::2], Ts.size, axis=0)
    steps_T = np.tile(Ts, N_PAR // 2)
    return {
        "alpha-rho": (pw, rhos, STEPS, iso),
        "q-rho": (ex, rhos, STEPS, iso),
        "alpha-T": (rows_T(pw), [RHO], steps_T, iso),
        "q-T": (rows_T(ex), [RHO], steps_T, iso),
        "alpha-rho, decaying b": (pw, rhos, STEPS, dec),
    }


def main() -> None:
    print(
        f"d = {D}, eta = {ETA}; criterion K = {CRIT.K}, q = {CRIT.q}, eps = {CRIT.eps}"
    )
    slack_rows = {}
    for name, (lams, s, steps, b) in grids().items():
        t_mu, mu = timed(lambda: phase.spectra_grid(lams, b, s, ETA, steps))
        t_c, (lo, up, tr) = timed(lambda: phase.bounds_grid(lams, b, s, ETA, steps))
        t_a, an = timed(lambda: phase.analytic_bounds_grid(lams, b, s, ETA, steps))
        p_c, x_c = phase.ribbon_certified(lo, up, tr, CRIT)
        p_a, x_a = phase.ribbon_certified(
            an.lower,
            an.upper,
            certify.Enclosure(an.trace_lower, an.trace_upper),
            CRIT,
            tail_lower=an.tail_lower,
            tail_upper=an.tail_upper,
        )
        inside = bool(
            np.all(lo <= mu)
            and np.all(mu <= up)
            and np.all(an.lower <= mu)
            and np.all(mu <= an.upper)
        )
        line = ""
        if np.ndim(steps) == 0:
            t_f, edges = timed(
                lambda: np.array(
                    [
                        phase.analytic_rho_boundaries(l, b, ETA, steps, CRIT)
                        for l in lams
                    ]
                )
            )
            s_arr = np.asarray(s)[None, :] / np.linalg.norm(b)
            decided_f = (s_arr <= edges[:, :1]) | (s_arr > edges[:, 1:])
            line = f", formulas {100 * decided_f.mean():5.1f}% ({t_f:5.2f} s)"
        print(
            f"{name:22s} {mu.shape[0] * mu.shape[1]:5d} points: decided by certified "
            f"{100 * np.mean(p_c | x_c):5.1f}%, "
            f"explicit {100 * np.mean(p_a | x_a):5.1f}%"
            f"{line}; spectra {t_mu:5.2f} s, certified {t_c:5.2f} s, explicit "
            f"{t_a:5.2f} s; eigvalsh inside both: {inside}"
        )
        if name == "alpha-rho":
            seen = mu > 1e-12 * mu[..., :1]
            for who, lo_, up_ in (
                ("certified", lo, up),
                ("explicit", an.lower, an.upper),
            ):
                for side, dec in (
                    ("upper", decades(up_, mu)),
                    ("lower", decades(mu, lo_)),
                ):
                    dec = np.where(seen, dec, np.nan)[..., :8].reshape(-1, 8)
                    slack_rows[f"{who} {side}"] = (
                        np.nanmedian(dec, axis=0),
                        np.nanmax(dec, axis=0),
                    )
    print("slack in decades on the alpha-rho grid, index m = 1..8 (median / largest):")
    for key, (med, top) in slack_rows.items():
        cells = " ".join(f"{m:4.2f}/{t:4.2f}" for m, t in zip(med, top))
        print(f"  {key:17s} {cells}")

    from flint import arb_mat, ctx

    lam = np.arange(1, D + 1) ** -1.5
    S, n_hat = certify.cloud_matrices(lam, np.ones(D) / np.sqrt(D), ETA, STEPS)

    def one_point(s: float):
        with ctx.workprec(256):
            C = arb_mat(S)
            for k in range(D):
                C[k, k] = C[k, k] + certify.to_arb(s) ** 2 * n_hat[k]
        return certify.symmetric_eigenvalues(C, balls=True)

    t_one = min(timed(lambda: one_point(RHO))[0] for _ in range(3))
    print(
        f"one certified spectrum (Arb, float64 eigenvectors) at d = {D}: {t_one:6.3f} s"
    )


if __name__ == "__main__":
    main()
