"""Speed of ribbonlib.classifiers.train on the digits data, with one and two BLAS threads.

The matrices of a digits run are small (1797 x 61 inputs, hidden widths up to 128), so a
multi-threaded BLAS spends more time synchronising than computing. Prints, for a
softmax-linear run and two networks, the seconds per 100 full-batch steps with the
default thread count and with one thread.

Run: python benchmarks/bench_classifiers.py
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.datasets import load_digits
from threadpoolctl import threadpool_info, threadpool_limits

from ribbonlib import classifiers as cl


def seconds_per_100_steps(X, y, hidden, steps=200, repeats=3):
    best = np.inf
    for r in range(repeats):
        t0 = time.perf_counter()
        cl.train(X, y, hidden=hidden, lr=0.3, steps=steps, out_scale=0.3, seed=r, record=[0, steps])
        best = min(best, time.perf_counter() - t0)
    return 100 * best / steps


def main() -> None:
    X_raw, y = load_digits(return_X_y=True)
    X, _ = cl.standardise(X_raw)
    threads = max((i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"), default=1)
    print(f"digits: N = {X.shape[0]}, d = {X.shape[1]}; default BLAS threads: {threads}")
    print(f"{'model':>12s}{'default threads':>18s}{'one thread':>12s}   (s per 100 full-batch steps)")
    for hidden in [(), (64,), (64, 64)]:
        default = seconds_per_100_steps(X, y, hidden)
        with threadpool_limits(limits=1):
            single = seconds_per_100_steps(X, y, hidden)
        name = "linear" if not hidden else "x".join(map(str, hidden))
        print(f"{name:>12s}{default:18.3f}{single:12.3f}")


if __name__ == "__main__":
    main()
