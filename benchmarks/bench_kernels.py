"""Speed of the finite-network and kernel computations behind chapter 6.

Setting: breast cancer, N = 100 standardised samples (as in the chapter's section on
finite networks), d = 30 features, T = 100 steps at η = 1/κ_1 of the NTK.

* ``networks.train``: seconds per network and step at widths 2^6, 2^9 and 2^12 (best of
  three), with the floating-point rate implied by its ``4 N m d + 8 N m`` operations per
  step; the loop is bound by the two matrix products with ``X`` and by passes over the
  ``N × m`` hidden layer.
* The chapter's width study (16 networks at each of m = 2^4, ..., 2^12), timed once.
* ``dynamics.run_kernel_gd`` on 300 initial functions at once against 300 separate calls
  (one validation of ``K`` versus 300), N = 400, T = 100.

Prints the timings; nothing is asserted. The chapter itself prints no timings.
Run: ``.venv/bin/python benchmarks/bench_kernels.py`` (about a minute on an idle 2-core
machine).
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.datasets import load_breast_cancer
from threadpoolctl import threadpool_limits

from ribbonlib import dynamics, kernels, networks

STEPS, N_SAMPLES, SEED = 100, 100, 20260616


def data() -> tuple[np.ndarray, np.ndarray]:
    bc = load_breast_cancer()
    idx = np.sort(np.random.default_rng(SEED).choice(len(bc.target), N_SAMPLES, replace=False))
    return kernels.standardise(bc.data)[idx], 2.0 * bc.target[idx] - 1.0


def best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    threadpool_limits(limits=1)
    X, y = data()
    N, d = X.shape
    eta = 1.0 / kernels.spectrum(kernels.ntk_relu(X)).lam[0]
    print(f"breast cancer: N = {N}, d = {d}, T = {STEPS}, eta = 1/kappa_1 = {eta:.3f}")

    print("\nnetworks.train (one network, best of 3):")
    for m in (2**6, 2**9, 2**12):
        sec = best_of(lambda: networks.train(X, y, m, [1], eta, STEPS))
        flops = (4 * N * m * d + 8 * N * m) * STEPS
        print(f"  m = {m:5d}: {sec:7.3f} s, {1e6 * sec / STEPS:8.1f} us per step, "
              f"{flops / sec / 1e9:5.2f} GFLOP/s")

    widths = 2 ** np.arange(4, 13)
    t0 = time.perf_counter()
    for m in widths:
        networks.train(X, y, int(m), [1000 * int(m) + r for r in range(16)], eta, STEPS)
    print(f"\nwidth study (16 networks at each of m = 2^4..2^12): "
          f"{time.perf_counter() - t0:.1f} s")

    rng = np.random.default_rng(1)
    X4 = kernels.standardise(rng.standard_normal((400, 30)))
    K = kernels.ntk_relu(X4)
    y4 = np.sign(rng.standard_normal(400))
    eta4 = 1.0 / kernels.spectrum(K).lam[0]
    F0 = rng.standard_normal((300, 400))
    batched = best_of(lambda: dynamics.run_kernel_gd(K, y4, F0, eta4, STEPS))
    single = best_of(lambda: [dynamics.run_kernel_gd(K, y4, f, eta4, STEPS) for f in F0], 1)
    print(f"\nrun_kernel_gd, 300 runs, N = 400, T = {STEPS}: batched {batched:.2f} s, "
          f"one call per run {single:.2f} s ({single / batched:.0f}x)")


if __name__ == "__main__":
    main()
