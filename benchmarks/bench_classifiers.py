"""Speed of the training and baseline code of chapter 8 on the digits data.

The matrices of a digits run are small (1797 x 61 inputs, hidden widths up to 256), so a
multi-threaded BLAS spends more time synchronising than computing. Prints

* for a softmax-linear run, two networks and two small convolutional networks, the
  seconds per 100 steps (full batch, and mini-batches of 64) with the default thread
  count and with one thread;
* for many softmax-linear runs trained together (``ensembles.linear_gd_runs``, as in
  the chapter's sweep of the initial scale), the seconds per run and 100 steps against
  ``classifiers.train`` run by run;
* the seconds of ``ensembles.baselines`` (four draws of both nulls) for ensembles of
  growing size.

Run: python benchmarks/bench_classifiers.py
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.datasets import load_digits
from threadpoolctl import threadpool_info, threadpool_limits

from ribbonlib import classifiers as cl
from ribbonlib import ensembles


def seconds_per_100_steps(X, X_img, y, model, batch_size, steps=200, repeats=3):
    best = np.inf
    for r in range(repeats):
        t0 = time.perf_counter()
        if model[0] == "conv":
            cl.train_conv(X_img, y, (8, 8), channels=model[1], lr=0.1, steps=steps,
                          batch_size=batch_size, out_scale=0.3, seed=r, record=[0, steps])
        else:
            cl.train(X, y, hidden=model[1], lr=0.3, steps=steps, batch_size=batch_size,
                     out_scale=0.3, seed=r, record=[0, steps])
        best = min(best, time.perf_counter() - t0)
    return 100 * best / steps


def main() -> None:
    X_raw, y = load_digits(return_X_y=True)
    X, keep = cl.standardise(X_raw)
    X_img = np.zeros((X.shape[0], 64))
    X_img[:, keep] = X
    threads = max((i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"),
                  default=1)
    print(f"digits: N = {X.shape[0]}, d = {X.shape[1]}; default BLAS threads: {threads}")
    print(f"{'model':>12s}{'batch':>7s}{'default threads':>18s}{'one thread':>12s}"
          "   (s per 100 steps)")
    models = [("mlp", ()), ("mlp", (64,)), ("mlp", (64, 64)), ("conv", (8,)),
              ("conv", (4, 8))]
    for model in models:
        for batch in (None, 64):
            default = seconds_per_100_steps(X, X_img, y, model, batch)
            with threadpool_limits(limits=1):
                single = seconds_per_100_steps(X, X_img, y, model, batch)
            name = ("CNN " if model[0] == "conv" else "MLP ") + "-".join(map(str, model[1]))
            name = "linear" if model == ("mlp", ()) else name
            print(f"{name:>12s}{str(batch or 'full'):>7s}{default:18.3f}{single:12.3f}")

    with threadpool_limits(limits=1):
        steps, K = 100, 24
        p0 = [cl.init_params(X.shape[1], 10, (), out_scale=0.1, seed=s) for s in range(K)]
        t0 = time.perf_counter()
        ensembles.linear_gd_runs(X, y, p0, lr=0.5, record=[0, steps])
        batched = (time.perf_counter() - t0) / K
        t0 = time.perf_counter()
        for p in p0[:4]:
            cl.train(X, y, lr=0.5, steps=steps, params0=p, record=[0, steps])
        single = (time.perf_counter() - t0) / 4
        print(f"\nsoftmax-linear GD, {steps} steps: {batched:.3f} s per run in a batch of "
              f"{K}, {single:.3f} s per run alone")

        print(f"\n{'runs':>6s}{'models':>8s}{'baselines (s)':>15s}   (400 samples, 4 draws)")
        rng = np.random.default_rng(0)
        for n_runs in (8, 16, 32):
            runs = []
            for j in range(n_runs):
                tr = cl.train(X, y, lr=rng.choice([0.3, 1.0]), steps=200, out_scale=0.1,
                              seed=j, record=cl.snapshot_steps(200, 16))
                runs.append(tr)
            late = [r.loss < np.log(10) / 2 for r in runs]
            base = np.arange(n_runs) % 2 == 0
            t0 = time.perf_counter()
            ensembles.baselines([r.probs for r in runs], [y] * n_runs, base, late,
                                n_samples=400, replicates=4, seed=1)
            models_ = sum(len(r.steps) for r in runs)
            print(f"{n_runs:6d}{models_:8d}{time.perf_counter() - t0:15.2f}")


if __name__ == "__main__":
    main()
