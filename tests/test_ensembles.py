"""ribbonlib.ensembles: null ensembles, baselines, twin ensembles, interval checks.

Each function is tested against a reference that shares no code with it:

* :func:`residual_stress` against its two definitions (the ratio of unexplained
  stress, and the explained stress of the remaining eigenvalues), for random spectra of
  any sign;
* the null ensembles against the properties that define them (the shuffled null is a
  class-preserving permutation, fixed in time, that keeps each run's cross-entropy
  exactly; the random-time null predicts the uniform or the learned distribution, learns
  monotonically, and its mean probability of the correct label has the stated
  expectation, in z-scores over independent draws);
* :func:`baselines` against InPCA computed directly, and against an ensemble whose
  predictions depend on the class only (its shuffled null is itself);
* :func:`linear_gd_runs` against :func:`ribbonlib.classifiers.train`, run by run;
* :func:`twin_coordinates` against the linearised update of the twin iterated in the
  weight space (proposition ``prop-beyond-twin``);
* :func:`log_crossing` on exact power laws, :func:`t_to_z` against Student's and the
  normal distributions, :func:`check_in_interval` on replicates inside and outside the
  claimed interval.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from ribbonlib import check, ensembles
from ribbonlib import classifiers as cl
from ribbonlib.embedding import bhattacharyya, explained_stress, inpca

seeds = st.integers(0, 2**32 - 1)


def toy_run(rng: np.random.Generator, S: int = 6, N: int = 40, C: int = 4):
    """A run whose correct-class probability grows from 1/C, with random confusions."""
    y = rng.permutation(np.arange(N) % C)
    logits = rng.standard_normal((N, C))
    growth = np.linspace(0.0, 1.0, S)[:, None, None] * rng.uniform(1, 4, (1, N, 1))
    f = logits[None] * growth * 0.3
    f[:, np.arange(N), y] += 3 * growth[..., 0]
    P = np.exp(f - f.max(axis=-1, keepdims=True))
    return P / P.sum(axis=-1, keepdims=True), y


# ----------------------------------------------------------------------- summaries


@settings(max_examples=60, deadline=None)
@given(seeds)
def test_residual_stress_two_definitions(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 30))
    mu = rng.standard_normal(n) * 10.0 ** rng.uniform(-3, 3, n)
    mu = mu[np.argsort(-np.abs(mu))]
    for k in range(n - 1):
        if np.sum(mu[k:] ** 2) == 0:
            continue
        r = ensembles.residual_stress(mu, k)
        e1, e2 = explained_stress(mu, k), explained_stress(mu, k + 1)
        if 1 - e1 > 1e-6:
            assert abs(r - (1 - (1 - e2) / (1 - e1))) <= 1e-9
        assert abs(r - explained_stress(mu[k:], 1)) <= 1e-12
        assert 0.0 <= r <= 1.0


def test_residual_stress_errors():
    with pytest.raises(ValueError, match="nothing is left"):
        ensembles.residual_stress([2.0, 0.0, 0.0], 1)
    with pytest.raises(ValueError, match="k must"):
        ensembles.residual_stress([2.0, 1.0], 2)
    with pytest.raises(ValueError, match="eigenvalues"):
        ensembles.residual_stress([[1.0]], 0)


def test_noisy_labels():
    y = np.arange(1000) % 7
    z = ensembles.noisy_labels(y, 0.2, seed=3)
    changed = z != y
    assert changed.sum() == 200 and np.all((z >= 0) & (z < 7))
    np.testing.assert_array_equal(z, ensembles.noisy_labels(y, 0.2, seed=3))
    np.testing.assert_array_equal(ensembles.noisy_labels(y, 0.0, seed=3), y)
    # the new class is uniform over the six others: offsets (z - y) mod 7 in 1..6
    big = ensembles.noisy_labels(np.arange(60000) % 7, 1.0, seed=4)
    counts = np.bincount((big - np.arange(60000) % 7) % 7, minlength=7)
    assert counts[0] == 0
    chi2 = np.sum((counts[1:] - 10000) ** 2 / 10000)
    assert chi2 < stats.chi2.isf(1e-6, 5)
    with pytest.raises(ValueError, match="fraction"):
        ensembles.noisy_labels(y, 1.5, seed=0)


# ----------------------------------------------------------------------------- nulls


@settings(max_examples=30, deadline=None)
@given(seeds)
def test_shuffled_null_is_a_class_preserving_permutation(seed):
    rng = np.random.default_rng(seed)
    P, y = toy_run(rng)
    Q = ensembles.shuffled_null(P, y, seed)
    # one permutation for all snapshots, mapping each class onto itself
    match = [np.flatnonzero(np.all(P[:, :, :] == Q[:, i:i + 1, :], axis=(0, 2)))
             for i in range(P.shape[1])]
    for i, m in enumerate(match):
        assert m.size >= 1 and np.all(y[m] == y[i])
    for c in np.unique(y):
        sel = y == c
        a = np.sort(P[:, sel].reshape(-1))
        b = np.sort(Q[:, sel].reshape(-1))
        np.testing.assert_array_equal(a, b)
    ce = lambda R: -np.log(R[:, np.arange(y.size), y]).mean(axis=1)
    np.testing.assert_allclose(ce(Q), ce(P), rtol=4 * y.size * 2.0**-53)
    np.testing.assert_array_equal(Q, ensembles.shuffled_null(P, y, seed))


@settings(max_examples=30, deadline=None)
@given(seeds)
def test_random_time_null_structure(seed):
    rng = np.random.default_rng(seed)
    P, y = toy_run(rng)
    S, N, C = P.shape
    Q, f = ensembles.random_time_null(P, y, seed)
    q = P[:, np.arange(N), y].mean(axis=1)
    theta = q[-1]
    uniform = np.all(np.abs(Q - 1 / C) == 0, axis=2)
    target = np.full((N, C), (1 - theta) / (C - 1))
    target[np.arange(N), y] = theta
    learned = np.all(Q == target[None], axis=2)
    assert np.all(uniform ^ learned)
    assert np.all(np.diff(learned.astype(int), axis=0) >= 0)      # never unlearned
    assert np.all(learned[-1]) and f[-1] == 1
    raw = (q - 1 / C) / (theta - 1 / C)
    expected_f = np.maximum.accumulate(np.clip(raw, 0, 1))
    expected_f[-1] = 1.0
    np.testing.assert_array_equal(f, expected_f)
    np.testing.assert_allclose(Q.sum(axis=-1), 1.0, rtol=0, atol=1e-15)


def test_random_time_null_expectation():
    """Mean probability of the correct label over 400 draws, in standard errors."""
    P, y = toy_run(np.random.default_rng(5), S=8, N=50, C=5)
    N, C = P.shape[1:]
    draws = np.array([ensembles.random_time_null(P, y, s)[0][:, np.arange(N), y]
                      .mean(axis=1) for s in range(400)])
    f = ensembles.random_time_null(P, y, 0)[1]
    theta = P[-1, np.arange(N), y].mean()
    expected = 1 / C + f * (theta - 1 / C)
    inside = (f > 0) & (f < 1)
    se = (theta - 1 / C) * np.sqrt(f * (1 - f) / N) / np.sqrt(400)
    z = (draws.mean(axis=0) - expected)[inside] / se[inside]
    assert np.all(np.abs(z) < check.z_limit(1e-6, int(inside.sum())))
    np.testing.assert_array_equal(np.ptp(draws[:, ~inside], axis=0), 0.0)


def test_random_time_null_refuses_a_run_that_does_not_learn():
    P = np.full((3, 10, 4), 0.25)
    with pytest.raises(ValueError, match="uniform"):
        ensembles.random_time_null(P, np.arange(10) % 4, 0)
    with pytest.raises(ValueError, match="probs"):
        ensembles.shuffled_null(np.ones((3, 10)), np.arange(10) % 4, 0)
    with pytest.raises(ValueError, match="labels"):
        ensembles.shuffled_null(np.full((3, 10, 4), 0.25), np.arange(9) % 4, 0)


# ------------------------------------------------------------------------- baselines


def test_baselines_against_direct_inpca():
    rng = np.random.default_rng(8)
    runs, labels = [], []
    for j in range(6):
        P, y = toy_run(rng, S=5, N=60, C=3)
        runs.append(P)
        labels.append(y)
    base = np.array([True, True, True, False, False, False])
    late = [np.arange(5) >= 2 for _ in runs]
    b = ensembles.baselines(runs, labels, base, late, n_samples=40, replicates=3,
                            seed=1)
    assert b.real.shape == (5, 2) and b.null.shape == (2, 5, 2, 3)
    sub = b.samples
    P = np.concatenate([r[:, sub] for r in runs])
    D = bhattacharyya(P)
    res = inpca(D)
    np.testing.assert_allclose(b.real[0, 0], res.explained_stress(1), rtol=1e-12)
    np.testing.assert_allclose(b.real[1, 0], res.explained_stress(2), rtol=1e-12)
    np.testing.assert_allclose(b.real[2, 0], ensembles.residual_stress(res.eigenvalues),
                               rtol=1e-10)
    keep = np.concatenate(late)
    in_base = np.repeat(base, 5)
    bi, ni = np.flatnonzero(keep & in_base), np.flatnonzero(keep & ~in_base)
    basis = inpca(D[np.ix_(bi, bi)])
    new = basis.explained_stress_new(D[np.ix_(ni, bi)], D[np.ix_(ni, ni)], 2)
    np.testing.assert_allclose(b.real[4, 1], new, rtol=1e-12)
    for h, sel in enumerate((np.ones(keep.size, bool), keep)):
        idx = np.flatnonzero(sel)
        res = inpca(D[np.ix_(idx, idx)])
        bi, ni = np.flatnonzero(sel & in_base), np.flatnonzero(sel & ~in_base)
        basis = inpca(D[np.ix_(bi, bi)])
        ref = [res.explained_stress(1), res.explained_stress(2),
               ensembles.residual_stress(res.eigenvalues)]
        ref += [basis.explained_stress_new(D[np.ix_(ni, bi)], D[np.ix_(ni, ni)], k)
                for k in (1, 2)]
        np.testing.assert_allclose(b.real[:, h], ref, rtol=1e-10)
        np.testing.assert_allclose(b.own[h], inpca(D[np.ix_(ni, ni)]).explained_stress(2),
                                   rtol=1e-12)
    assert b.own.shape == (2,)
    assert b.n_models.tolist() == [30, 18]
    assert np.all((b.null >= -1e-12) & (b.null <= 1 + 1e-12))


def test_baselines_shuffled_null_of_class_only_runs_is_the_ensemble():
    """Predictions that depend only on the class: shuffling within classes is void."""
    rng = np.random.default_rng(3)
    y = rng.permutation(np.arange(30) % 3)
    runs = []
    for j in range(5):
        per_class = rng.dirichlet(np.ones(3), size=(6, 3))          # (snap, class, C)
        per_class[0] = 1 / 3
        per_class[:, np.arange(3), np.arange(3)] += np.linspace(0, 2, 6)[:, None]
        per_class /= per_class.sum(axis=-1, keepdims=True)
        runs.append(per_class[:, y])
    late = [np.arange(6) >= k for k in (1, 2, 1, 3, 2)]
    b = ensembles.baselines(runs, [y] * 5, np.array([True, False, True, False, True]),
                            late, n_samples=30, replicates=2, seed=0)
    for r in range(2):
        np.testing.assert_allclose(b.null[1, :, :, r], b.real, rtol=1e-9, atol=1e-12)


def test_baselines_validation():
    P, y = toy_run(np.random.default_rng(0))
    runs = [P] * 4
    late = [np.ones(P.shape[0], bool)] * 4
    with pytest.raises(ValueError, match="base"):
        ensembles.baselines(runs, [y] * 4, [True, False, False, False], late,
                            n_samples=10, replicates=2, seed=0)
    with pytest.raises(ValueError, match="late"):
        ensembles.baselines(runs, [y] * 4, [True, True, False, False],
                            [np.zeros(P.shape[0], bool)] * 4, n_samples=10,
                            replicates=2, seed=0)
    with pytest.raises(ValueError, match="n_samples"):
        ensembles.baselines(runs, [y] * 4, [True, True, False, False], late,
                            n_samples=1000, replicates=2, seed=0)
    with pytest.raises(ValueError, match="replicates"):
        ensembles.baselines(runs, [y] * 4, [True, True, False, False], late,
                            n_samples=10, replicates=1, seed=0)
    with pytest.raises(ValueError, match="base"):
        ensembles.baselines([P], [y], [True], late[:1], n_samples=10, replicates=2,
                            seed=0)
    with pytest.raises(ValueError, match="labels and late"):
        ensembles.baselines(runs, [y] * 3, [True, True, False, False], late,
                            n_samples=10, replicates=2, seed=0)
    with pytest.raises(ValueError, match="labels and late"):
        ensembles.baselines(runs, [y] * 4, [True, True, False, False], late[:3],
                            n_samples=10, replicates=2, seed=0)
    with pytest.raises(ValueError, match="same shape"):
        ensembles.baselines(runs[:3] + [P[:, :-1]], [y] * 4, [True, True, False, False],
                            late, n_samples=10, replicates=2, seed=0)


# ---------------------------------------------------- finite ensembles and the twin


def toy_data(seed: int = 0, n: int = 60, d: int = 4, c: int = 3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.array([2.0, 1.0, 0.5, 0.2])[:d]
    y = rng.permutation(np.arange(n) % c)
    return X, y


def test_linear_gd_runs_equals_train():
    X, y = toy_data()
    p0 = [cl.init_params(4, 3, (), out_scale=g, seed=s) for g, s in [(0.1, 1), (1.0, 2),
                                                                      (3.0, 3)]]
    rec = np.array([0, 1, 5, 17])
    P = ensembles.linear_gd_runs(X, y, p0, lr=0.7, record=rec)
    assert P.shape == (3, 4, 60, 3)
    for k, p in enumerate(p0):
        ref = cl.train(X, y, optimizer="gd", lr=0.7, steps=17, params0=p, record=rec)
        np.testing.assert_allclose(P[k], ref.probs, rtol=1e-12, atol=1e-15)


def test_twin_coordinates_against_the_linearised_update():
    X, y = toy_data(1)
    N, C = X.shape[0], 3
    eta = 0.4
    tw = cl.linear_twin(X, y, lr=eta, out_scale=0.3)
    p0 = [cl.init_params(4, C, (), out_scale=0.3, seed=s) for s in range(3)]
    steps = np.array([0, 2, 9, 30])
    Z = ensembles.twin_coordinates(tw, p0, steps)
    Xa = np.hstack([X, np.ones((N, 1))])
    Sigma = Xa.T @ Xa / N
    U_star = tw.w_star @ tw.Q
    lam_k = tw.lam.reshape(5, C - 1)[:, 0]
    for k, p in enumerate(p0):
        U = np.vstack([p[0], p[1][None]]) @ tw.Q
        for t in range(31):
            if t in steps:
                z = (np.sqrt(lam_k)[:, None] * (tw.V.T @ U)).ravel()
                np.testing.assert_allclose(Z[k, list(steps).index(t)], z, rtol=1e-10,
                                           atol=1e-12)
            U = U - (eta / C) * Sigma @ (U - U_star)
    # squared distances / (8C) are the Gaussian distance of item 3 of the proposition
    W0 = np.vstack([p0[0][0], p0[0][1][None]])
    W1 = np.vstack([p0[1][0], p0[1][1][None]])
    F = Xa @ (W0 - W1) @ tw.Q
    np.testing.assert_allclose(np.sum((Z[0, 0] - Z[1, 0]) ** 2), np.sum(F**2) / N,
                               rtol=1e-10)


def test_linear_gd_runs_and_twin_coordinates_edges(monkeypatch):
    """One run, a single recorded step, logits of 10^3 (the softmax is shifted), and the
    size guard at its limit: the recorded numbers K n_snap N C (resp. K n_steps D)."""
    X, y = toy_data(2, n=12)
    big = [np.zeros((4, 3)), np.array([900.0, 0.0, -300.0])]
    for rec in ([0], [3], [0, 1, 4]):
        P = ensembles.linear_gd_runs(X, y, [big], lr=0.5, record=rec)
        ref = cl.train(X, y, lr=0.5, steps=max(rec[-1], 1), params0=big, record=rec)
        assert P.shape == (1, len(rec), 12, 3) and np.all(np.isfinite(P))
        np.testing.assert_allclose(P[0], ref.probs, rtol=1e-12, atol=1e-300)
    tw = cl.linear_twin(X, y, lr=0.5, out_scale=0.3)
    p0 = [cl.init_params(4, 3, (), out_scale=0.3, seed=s) for s in range(2)]
    for steps in ([0], [1], [7], [0, 1]):
        Z = ensembles.twin_coordinates(tw, p0[:1], steps)
        both = ensembles.twin_coordinates(tw, p0, steps)
        assert Z.shape == (1, len(steps), 10)
        np.testing.assert_array_equal(Z[0], both[0])
    limit = 2 * 3 * 12 * 3                              # K n_snap N C, 72 * 3
    monkeypatch.setattr("ribbonlib._validate.MAX_ENTRIES", limit)
    ensembles.linear_gd_runs(X, y, p0, lr=0.5, record=[0, 2, 5])
    with pytest.raises(ValueError, match="recorded probabilities"):
        ensembles.linear_gd_runs(X, y, p0 + p0[:1], lr=0.5, record=[0, 2, 5])
    with pytest.raises(ValueError, match="recorded probabilities"):
        ensembles.linear_gd_runs(X, y, p0, lr=0.5, record=[0, 2, 5, 6])
    monkeypatch.setattr("ribbonlib._validate.MAX_ENTRIES", 2 * 3 * 10)  # K n_steps D
    ensembles.twin_coordinates(tw, p0, [0, 1, 2])     # (gd_modes: K (T + 1) D, the same)
    with pytest.raises(ValueError, match="twin coordinates"):
        ensembles.twin_coordinates(tw, p0 + p0[:1], [0, 1, 2])
    with pytest.raises(ValueError, match="twin coordinates"):
        ensembles.twin_coordinates(tw, p0, [0, 1, 2, 3])


def test_twin_coordinates_in_several_chunks(monkeypatch):
    """Runs handed to gd_modes a few at a time give the coordinates of one call."""
    X, y = toy_data(3, n=12)
    tw = cl.linear_twin(X, y, lr=0.5, out_scale=0.3)
    p0 = [cl.init_params(4, 3, (), out_scale=0.3, seed=s) for s in range(5)]
    whole = ensembles.twin_coordinates(tw, p0, [0, 3, 8])
    for entries in (9 * 10, 2 * 9 * 10, 1):                 # 1, 2, then 1 run per call
        monkeypatch.setattr(ensembles, "_CHUNK_ENTRIES", entries)
        np.testing.assert_array_equal(ensembles.twin_coordinates(tw, p0, [0, 3, 8]),
                                      whole)


def test_linear_gd_runs_and_twin_coordinates_validation():
    X, y = toy_data(2, n=12)
    p = cl.init_params(4, 3, (), seed=0)
    for rec in ([], [[0, 1]], [0.0, 1.0], [-1, 2], [0, 3, 3], [2, 1]):
        with pytest.raises(ValueError, match="record"):
            ensembles.linear_gd_runs(X, y, [p], lr=0.5, record=rec)
    for lr in (0.0, -1.0, np.inf):
        with pytest.raises(ValueError, match="lr"):
            ensembles.linear_gd_runs(X, y, [p], lr=lr, record=[0, 1])
    bad = ([p[0]], [p[0], p[1], p[1]], [p[0][:3], p[1]], [p[0], p[1][:2]],
           [p[0][:, :2], p[1]])
    for q in bad:
        with pytest.raises(ValueError, match=r"params0\[1\]"):
            ensembles.linear_gd_runs(X, y, [p, q], lr=0.5, record=[0, 1])
    with pytest.raises(ValueError, match="finite"):
        ensembles.linear_gd_runs(X, y, [[p[0], np.full(3, np.nan)]], lr=0.5, record=[1])
    with pytest.raises(ValueError, match="at least one run"):
        ensembles.linear_gd_runs(X, y, [], lr=0.5, record=[0, 1])
    tw = cl.linear_twin(X, y, lr=0.5, out_scale=0.3)
    for steps in ([], [[0, 1]], [0.0, 1.0], [-1, 2], 3):
        with pytest.raises(ValueError, match="steps"):
            ensembles.twin_coordinates(tw, [p], steps)
    for q in bad:
        with pytest.raises(ValueError, match=r"params0\[1\]"):
            ensembles.twin_coordinates(tw, [p, q], [0, 1])
    with pytest.raises(ValueError, match="at least one run"):
        ensembles.twin_coordinates(tw, [], [0, 1])
    with pytest.raises(ValueError, match="LinearTwin"):
        ensembles.twin_coordinates("twin", [p], [0, 1])


def test_ribbon_statistics():
    st_ = ensembles.ribbon_statistics([4.0, -1.0, 0.25, 0.01])
    np.testing.assert_allclose(st_.widths, [0.5, 0.25])
    assert st_.negative == 0.25
    np.testing.assert_allclose(st_.es, [explained_stress([4.0, -1.0, 0.25, 0.01], k)
                                        for k in (1, 2, 3)])
    assert st_.k99 == 3
    assert ensembles.ribbon_statistics([1.0, 1e-4, 1e-5, 0.0]).k99 == 1
    assert ensembles.ribbon_statistics(np.ones(10)).k99 == 4
    with pytest.raises(ValueError, match="positive"):
        ensembles.ribbon_statistics([-1.0, 0.5, 0.1])


def test_ribbon_statistics_edges():
    """k99 counts an explained stress of exactly 0.99; no negative eigenvalue gives 0;
    the leading eigenvalue must be positive, not merely >= 0."""
    lo, hi = 0.0, 1.0                  # mu_2 with ES(1) of [1, mu_2, 0] exactly 0.99
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if explained_stress([1.0, mid, 0.0], 1) >= 0.99 else (lo, mid)
    assert explained_stress([1.0, lo, 0.0], 1) == 0.99
    assert ensembles.ribbon_statistics([1.0, lo, 0.0]).k99 == 1
    assert ensembles.ribbon_statistics([1.0, hi, 0.0]).k99 == 2
    st_ = ensembles.ribbon_statistics([0.01, 4.0, 0.25, 1.0])
    assert st_.negative == 0.0
    np.testing.assert_allclose(st_.widths, [0.5, 0.25], rtol=1e-15)
    for bad, match in (([0.0, 0.0, 0.0], "positive"), ([0.0, -0.0, 0.0], "positive"),
                       ([1.0, 0.5], "at least 3"), ([1.0, np.nan, 0.5], "finite"),
                       (np.ones((2, 2)), "1-D")):
        with pytest.raises(ValueError, match=match):
            ensembles.ribbon_statistics(bad)


@settings(max_examples=50, deadline=None)
@given(seeds)
def test_log_crossing_is_exact_on_power_laws(seed):
    rng = np.random.default_rng(seed)
    x = np.sort(10.0 ** rng.uniform(-3, 1, 6))
    x = np.unique(x)
    if x.size < 2:
        return
    a, p = 10.0 ** rng.uniform(-2, 1), rng.uniform(0.3, 3)
    y = a * x**p
    level = 10.0 ** rng.uniform(np.log10(y[0]) + 1e-9, np.log10(y[-1]))
    if not (y[0] < level <= y[-1]):
        return
    np.testing.assert_allclose(ensembles.log_crossing(x, y, level),
                               (level / a) ** (1 / p), rtol=1e-9)


def test_log_crossing_edges_and_t_to_z():
    assert np.isnan(ensembles.log_crossing([1, 2, 3], [1, 2, 3], 5))
    assert np.isnan(ensembles.log_crossing([1, 2, 3], [6, 7, 8], 5))
    with pytest.raises(ValueError, match="increasing"):
        ensembles.log_crossing([2, 1], [1, 2], 1.5)
    t = np.array([-4.0, -1.0, 0.0, 0.5, 3.0])
    z = ensembles.t_to_z(t, 3)
    np.testing.assert_allclose(stats.norm.sf(np.abs(z)), stats.t.sf(np.abs(t), 3),
                               rtol=1e-10)
    assert np.all(np.sign(z) == np.sign(t)) and np.all(np.abs(z) <= np.abs(t))
    np.testing.assert_allclose(ensembles.t_to_z(t, 10**7), t, rtol=1e-5)


def test_log_crossing_at_the_level_and_validation():
    """Reaching the level counts as rising through it, at the first sample that does;
    a series that starts at the level gives nan; each argument check."""
    assert ensembles.log_crossing([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 1.5, 3.0], 2.0) == 2.0
    assert np.isnan(ensembles.log_crossing([1.0, 2.0], [2.0, 3.0], 2.0))
    assert ensembles.log_crossing([1.0, 4.0], [1.0, 4.0], 2.0) == pytest.approx(2.0,
                                                                                rel=1e-15)
    bad = (([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0, 4.0]], 2.0, "1-D"),
           ([1.0, 2.0, 3.0], [1.0, 2.0], 2.0, "same length"),
           ([1.0], [1.0], 2.0, ">= 2"),
           ([0.0, 1.0, 2.0], [1.0, 2.0, 3.0], 2.0, "positive"),
           ([1.0, 1.0, 2.0], [1.0, 2.0, 3.0], 2.0, "increasing"),
           ([1.0, 2.0, 3.0], [0.0, 2.0, 3.0], 2.0, "positive"),
           ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], 0.0, "level"))
    for x, y, level, match in bad:
        with pytest.raises(ValueError, match=match):
            ensembles.log_crossing(x, y, level)


def test_check_in_interval():
    rng = np.random.default_rng(0)
    inside = 0.5 + 0.01 * rng.standard_normal(5)
    out = ensembles.check_in_interval("test: inside", inside, 0.4, 0.6)
    assert out.passed and out.kind == "statistical" and out.error == 0.0
    one_sided = ensembles.check_in_interval("test: above", inside, 0.45, np.inf)
    assert one_sided.passed
    with pytest.raises(check.CheckFailed):
        ensembles.check_in_interval("test: far below", inside, 0.7, 1.0)
    # on the boundary the false-alarm rate is that of Student's t: a claim just true
    # passes in the vast majority of replicate sets
    passed = 0
    for s in range(200):
        x = 0.6 + 0.01 * np.random.default_rng(s).standard_normal(4)
        try:
            ensembles.check_in_interval("test: boundary", x, 0.4, 0.6)
            passed += 1
        except check.CheckFailed:
            pass
    assert passed == 200
    with pytest.raises(ValueError, match="replicates"):
        ensembles.check_in_interval("test", [1.0], 0, 1)
    with pytest.raises(ValueError, match="low"):
        ensembles.check_in_interval("test", [1.0, 2.0], 1, 0)


def test_random_time_null_clips_an_overshoot_to_one():
    """A run whose mean correct-class probability overshoots its final value: the
    learned fraction is clipped to 1 there (a probability), and stays at 1 after it;
    every sample is then learned. Reference: f_s worked out by hand from the
    module notes, (q̄_s − 1/C)/(θ − 1/C) = 0, 1/2, 3/2 -> 1, 1 clipped to [0, 1]."""
    C, N = 2, 4
    y = np.array([0, 1, 0, 1])
    q = [0.5, 0.625, 0.875, 0.75]                  # exact binary fractions, θ = 0.75
    P = np.empty((len(q), N, C))
    for s, p in enumerate(q):
        P[s, np.arange(N), y] = p
        P[s, np.arange(N), 1 - y] = 1 - p
    Q, f = ensembles.random_time_null(P, y, 3)
    np.testing.assert_array_equal(f, [0.0, 0.5, 1.0, 1.0])
    assert np.all(Q[2:, np.arange(N), y] == 0.75)
    assert np.all(Q[0] == 0.5)


def test_check_in_interval_z_against_students_t_with_r_minus_one_dof():
    """The reported |z| of a mean outside the interval, against Student's t with
    R − 1 = 2 degrees of freedom in closed form (F(t) = 1/2 + t/(2 sqrt(2 + t²))),
    mapped to the normal quantile in mpmath; and the alpha passed sets the limit: the
    same replicates pass at the default false-alarm rate and fail at alpha = 0.5."""
    import mpmath

    x = np.array([0.61, 0.62, 0.66])                       # R = 3, mean above 0.6
    out = ensembles.check_in_interval("test: student", x, 0.4, 0.6)
    with mpmath.workdps(40):
        xs = [mpmath.mpf(float(v)) for v in x]
        mean = mpmath.fsum(xs) / 3
        sd = mpmath.sqrt(mpmath.fsum((v - mean) ** 2 for v in xs) / 2)
        t = (mean - mpmath.mpf(0.6)) / (sd / mpmath.sqrt(3))
        sf = mpmath.mpf(1) / 2 - t / (2 * mpmath.sqrt(2 + t * t))
        z = mpmath.sqrt(2) * mpmath.erfinv(1 - 2 * sf)
    assert out.passed and abs(out.error - float(z)) <= 1e-12 * float(z)
    assert 0.5 < float(z) < check.z_limit(check.DEFAULT_ALPHA, 1)
    with pytest.raises(check.CheckFailed):
        ensembles.check_in_interval("test: student, alpha 0.5", x, 0.4, 0.6, alpha=0.5)
    out = ensembles.check_in_interval("test: alpha", x, 0.0, 1.0, alpha=0.5)
    assert out.alpha == 0.5


def test_run_probs_accept_zero_probabilities():
    """A one-hot run (probabilities exactly 0 and 1) is valid input (``>= 0``).

    The learned fraction of a run that predicts uniformly and then one-hot on the
    label at the last snapshot is 0 before it and 1 at it, by the definition
    ``f_s = (q̄_s − 1/C)/(θ − 1/C)``.
    """
    S, N, C = 3, 4, 2
    y = np.array([0, 1, 0, 1])
    P = np.full((S, N, C), 0.5)
    P[-1] = 0.0
    P[-1, np.arange(N), y] = 1.0
    f = ensembles.random_time_null(P, y, 0)[1]
    np.testing.assert_array_equal(f, [0.0, 0.0, 1.0])
