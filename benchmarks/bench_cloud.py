"""Closed-form cloud spectrum versus a Monte-Carlo ensemble of the same accuracy.

Setting: d = 200 modes, power-law spectrum λ_k = k^(-1), η = 0.5, T = 10^4 steps,
ground truth b_k = 1/sqrt(d) (|b| = 1) and initial scale s = ρ|b| with ρ = 0.1.
The quantity is the top of the spectrum of the expected cloud covariance C
(``cloud.covariance``): its K = 5 largest eigenvalues.

* Closed form: ``cloud.covariance`` + ``numpy.linalg.eigvalsh`` (best of 5 timings;
  the Monte-Carlo time per run is likewise the best over the replicate clouds, so a
  loaded machine penalises neither side).
  Its accuracy is measured against a reference at 30 digits: the Rayleigh quotients
  of the mpmath covariance (``precision=30``) along the float64 eigenvectors, each
  within ‖residual‖²/gap of the true eigenvalue (Kato-Temple), far below 1e-16.
* Monte Carlo: PCA (eigvalsh of ``cloud.sample_moments``) of clouds of M sampled
  gradient-descent runs. Its error is e(M) = max over the top K of
  |μ_i(Ĉ) − μ_i(C)| / μ_i(C); measured as a root mean square over independent
  replicate clouds at three feasible M, it follows e ≈ c/sqrt(M) (the 1/sqrt(M) law, printed
  with the exact first-order prediction of ``montecarlo.eigen_standard_errors``).
  "Same accuracy" means e(M) equal to the closed form's measured error; the M that
  needs is (c/e)², and its time M × (measured seconds per run).

Prints both times, both accuracies and the ratio (target: at least 1000x), and, for
context, the ratio at the looser accuracies 1e-2 and 1e-3.
Run: ``.venv/bin/python benchmarks/bench_cloud.py`` (about 30 s on an idle 2-core machine).
"""

from __future__ import annotations

import time

import mpmath
import numpy as np

from ribbonlib import cloud, montecarlo, spectra

D, ALPHA, ETA, STEPS, RHO, K = 200, 1.0, 0.5, 10_000, 0.1, 5
M_VALUES, N_REPS, SEED = (8, 24, 72), 4, 20260303


def closed_form(lam, b, s):
    C = cloud.covariance(lam, b, s, ETA, STEPS)
    return np.linalg.eigvalsh(C)[::-1]


def reference_top(lam, b, s):
    """Top-K eigenvalues of C to ~30 digits, with their Kato-Temple error bounds."""
    C = cloud.covariance(lam, b, s, ETA, STEPS)
    mu, vecs = np.linalg.eigh(C)
    mu, vecs = mu[::-1], vecs[:, ::-1]
    Cmp = cloud.covariance(lam, b, s, ETA, STEPS, precision=30)
    ref, bound = [], []
    with mpmath.workdps(30):
        A = mpmath.matrix(Cmp.tolist())
        for i in range(K):
            v = mpmath.matrix([mpmath.mpf(float(x)) for x in vecs[:, i]])
            v = v / mpmath.norm(v)
            Av = A * v
            rq = (v.T * Av)[0]
            res = mpmath.norm(Av - rq * v)
            gap = min(abs(mu[i] - mu[j]) for j in range(D) if j != i)
            ref.append(rq)
            bound.append(float(res**2) / (gap - 2 * float(res)))
    return ref, np.array(bound)


def main() -> None:
    lam = spectra.power_law(D, ALPHA)
    b = np.ones(D) / np.sqrt(D)
    s = RHO * np.linalg.norm(b)
    print(f"d = {D}, power law alpha = {ALPHA}, eta = {ETA}, T = {STEPS}, rho = {RHO}, top K = {K} eigenvalues")

    # closed form: time and accuracy
    closed_form(lam, b, s)  # warm-up (caches of the exact grid moments)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        mu_cf = closed_form(lam, b, s)
        times.append(time.perf_counter() - t0)
    t_cf = min(times)
    ref, kt = reference_top(lam, b, s)
    err_cf = max(float(abs(mpmath.mpf(float(mu_cf[i])) - ref[i]) / ref[i]) for i in range(K))
    print(f"closed form: {t_cf * 1e3:.1f} ms (best of 5); max relative error of the top {K}: {err_cf:.2e} "
          f"(reference at 30 digits, Kato-Temple bound {kt.max():.1e})")

    # Monte Carlo: error at feasible M, 1/sqrt(M) law, time per run
    mu_exact = np.array([float(x) for x in ref])
    rms, per_run = [], []
    for M in M_VALUES:
        errs, t_best = [], np.inf
        for rep in range(N_REPS):
            seed = np.random.SeedSequence([SEED, M, rep])
            t0 = time.perf_counter()
            _, Ch = cloud.sample_moments(lam, b, s, ETA, STEPS, M, seed=seed)
            mu_mc = np.linalg.eigvalsh(Ch)[::-1][:K]
            t_best = min(t_best, time.perf_counter() - t0)
            errs.append(np.max(np.abs(mu_mc - mu_exact) / mu_exact))
        rms.append(float(np.sqrt(np.mean(np.square(errs)))))
        per_run.append(t_best / M)
        _, _, se = montecarlo.eigen_standard_errors(lam, b, s, ETA, STEPS, M)
        print(f"Monte Carlo M = {M:3d}: rms max relative error {rms[-1]:.3e} over {N_REPS} clouds; "
              f"sqrt(M) x error = {np.sqrt(M) * rms[-1]:.3f}; first-order standard errors of the top {K} "
              f"(relative) {np.array2string(se[:K] / mu_exact, precision=4)}; {per_run[-1] * 1e3:.1f} ms per run")
    # the 1/sqrt(M) law fitted to the mean squared errors: c² = mean of M e(M)²
    c = float(np.sqrt(np.mean(np.array(M_VALUES) * np.square(rms))))
    t_run = float(min(per_run))
    print(f"fit e(M) = c/sqrt(M): c = {c:.3f}; Monte-Carlo time per run {t_run * 1e3:.1f} ms (best cloud)")

    def mc_cost(eps):
        M_needed = (c / eps) ** 2
        return M_needed, M_needed * t_run

    M_same, t_same = mc_cost(err_cf)
    print(f"same accuracy as the closed form ({err_cf:.2e}): M = {M_same:.2e} runs, {t_same:.2e} s")
    ratio = t_same / t_cf
    print(f"closed form {t_cf:.3e} s   Monte Carlo {t_same:.3e} s   ratio {ratio:.2e} "
          f"(target >= 1e3: {'met' if ratio >= 1e3 else 'NOT met'})")
    for eps in (1e-2, 1e-3):
        M_e, t_e = mc_cost(eps)
        print(f"  context: at relative error {eps:.0e} Monte Carlo needs M = {M_e:.2e} runs, "
              f"{t_e:.2e} s, ratio {t_e / t_cf:.2e}")


if __name__ == "__main__":
    main()
