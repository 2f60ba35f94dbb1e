"""ribbonlib.classifiers: gradients, shapes, determinism, validation and the linear twin."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ribbonlib import classifiers as cl
from ribbonlib import dynamics


def toy(seed: int = 0, n: int = 40, d: int = 5, c: int = 3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.arange(n) % c
    rng.shuffle(y)
    return X, y


def directional_fd(params, X, y, v, h, **kw):
    plus = cl.loss_and_grad([p + h * q for p, q in zip(params, v)], X, y, **kw)[0]
    minus = cl.loss_and_grad([p - h * q for p, q in zip(params, v)], X, y, **kw)[0]
    return (plus - minus) / (2 * h)


@pytest.mark.parametrize(
    "hidden,activation,wd",
    [((), "tanh", 0.0), ((), "tanh", 0.05), ((7,), "tanh", 0.0), ((6, 4), "tanh", 0.01), ((7,), "relu", 0.01)],
)
def test_gradient_matches_central_differences(hidden, activation, wd):
    X, y = toy(1)
    params = cl.init_params(X.shape[1], 3, hidden, activation=activation, out_scale=1.0, seed=3)
    _, grads = cl.loss_and_grad(params, X, y, activation=activation, weight_decay=wd)
    rng = np.random.default_rng(4)
    for _ in range(5):
        v = [rng.standard_normal(p.shape) for p in params]
        norm = np.sqrt(sum(np.sum(q * q) for q in v))
        v = [q / norm for q in v]
        h = 1e-5
        if activation == "relu":  # the stencil must not cross a kink of any unit
            z = X @ params[0] + params[1]
            dz = np.abs(X @ v[0] + v[1])
            assert np.min(np.abs(z) / np.maximum(dz, 1e-300)) > h
        fd = directional_fd(params, X, y, v, h, activation=activation, weight_decay=wd)
        an = sum(np.sum(g * q) for g, q in zip(grads, v))
        # central differences: truncation h^2 |L'''|/6 ~ 1e-10, round-off eps |L|/h ~ 1e-11
        assert abs(fd - an) <= 1e-8 + 1e-7 * abs(an)


def test_linear_gradient_closed_form():
    X, y = toy(2, n=30, d=4, c=4)
    params = cl.init_params(4, 4, (), out_scale=2.0, seed=1)
    _, (gW, gb) = cl.loss_and_grad(params, X, y, weight_decay=0.3)
    P = cl.softmax(X @ params[0] + params[1])
    Y = np.eye(4)[y]
    np.testing.assert_allclose(gW, X.T @ (P - Y) / 30 + 0.3 * params[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(gb, (P - Y).mean(axis=0), rtol=1e-12, atol=1e-15)


def test_shapes_and_probabilities():
    X, y = toy(3)
    tr = cl.train(X, y, hidden=(8, 5), activation="relu", optimizer="adam", lr=0.01, steps=30,
                  out_scale=0.1, seed=7, record=[0, 5, 30])
    assert tr.probs.shape == (3, 40, 3) and tr.loss.shape == (3,)
    np.testing.assert_array_equal(tr.steps, [0, 5, 30])
    np.testing.assert_allclose(tr.probs.sum(axis=-1), 1.0, rtol=0, atol=1e-14)
    assert np.all(tr.probs > 0)
    assert [p.shape for p in tr.params] == [(5, 8), (8,), (8, 5), (5,), (5, 3), (3,)]
    assert tr.loss[-1] < tr.loss[0]
    np.testing.assert_allclose(tr.probs[-1], cl.predict_proba(tr.params, X, "relu"), rtol=1e-12)
    full = cl.train(X, y, optimizer="gd", lr=0.1, steps=4, seed=0)
    assert full.probs.shape == (5, 40, 3)


@given(st.integers(0, 1000), st.integers(1, 5), st.floats(-30, 30))
def test_softmax_rows_sum_to_one(seed, c, shift):
    f = np.random.default_rng(seed).normal(0, 20, size=(6, c + 1)) + shift
    p = cl.softmax(f)
    assert np.all(p >= 0) and np.allclose(p.sum(axis=-1), 1.0, atol=1e-14)
    np.testing.assert_allclose(p, cl.softmax(f + 123.0), rtol=1e-12, atol=1e-300)


@given(st.integers(0, 10_000), st.integers(2, 8), st.floats(0.01, 30.0))
def test_softmax_second_order_remainder_bound(seed, c, scale):
    # || softmax(f) - 1/C - P f / C || <= ||P f||^2 / 2 (the lemma of the chapter)
    f = np.random.default_rng(seed).standard_normal(c) * scale
    pf = f - f.mean()
    rem = cl.softmax(f) - 1.0 / c - pf / c
    assert np.linalg.norm(rem) <= 0.5 * np.sum(pf**2) * (1 + 1e-12) + 1e-15


@pytest.mark.parametrize("opt,batch", [("gd", None), ("gd", 7), ("momentum", None), ("adam", 5)])
def test_determinism_given_seed(opt, batch):
    X, y = toy(4)
    kw = dict(hidden=(6,), optimizer=opt, lr=0.05, steps=12, batch_size=batch, seed=11, record=[0, 6, 12])
    a, b = cl.train(X, y, **kw), cl.train(X, y, **kw)
    np.testing.assert_array_equal(a.probs, b.probs)
    c = cl.train(X, y, **{**kw, "seed": 12})
    assert not np.array_equal(a.probs, c.probs)


def test_optimisers_against_hand_iteration():
    X, y = toy(5, n=20, d=3, c=2)
    p0 = cl.init_params(3, 2, (), out_scale=0.5, seed=2)
    lr, mom, T = 0.3, 0.8, 4
    tr = cl.train(X, y, optimizer="momentum", lr=lr, steps=T, momentum=mom, params0=p0, record=[T])
    p = [q.copy() for q in p0]
    v = [np.zeros_like(q) for q in p0]
    for _ in range(T):
        _, g = cl.loss_and_grad(p, X, y)
        v = [mom * a + b for a, b in zip(v, g)]
        p = [a - lr * b for a, b in zip(p, v)]
    np.testing.assert_allclose(tr.probs[0], cl.predict_proba(p, X), rtol=1e-12)
    tr = cl.train(X, y, optimizer="adam", lr=lr, steps=T, params0=p0, record=[T])
    p = [q.copy() for q in p0]
    m = [np.zeros_like(q) for q in p0]
    s = [np.zeros_like(q) for q in p0]
    for t in range(1, T + 1):
        _, g = cl.loss_and_grad(p, X, y)
        m = [0.9 * a + 0.1 * b for a, b in zip(m, g)]
        s = [0.999 * a + 0.001 * b**2 for a, b in zip(s, g)]
        p = [a - lr * (mm / (1 - 0.9**t)) / (np.sqrt(ss / (1 - 0.999**t)) + 1e-8) for a, mm, ss in zip(p, m, s)]
    np.testing.assert_allclose(tr.probs[0], cl.predict_proba(p, X), rtol=1e-12)


def test_init_statistics_and_near_uniform_start():
    p = cl.init_params(200, 300, (400,), activation="relu", out_scale=0.01, seed=0)
    assert abs(np.std(p[0]) - np.sqrt(2 / 201)) < 0.02 * np.sqrt(2 / 201)
    assert abs(np.std(p[2]) - 0.01 / np.sqrt(401)) < 0.02 * 0.01 / np.sqrt(401)
    X, y = toy(6)
    tr = cl.train(X, y, lr=0.1, steps=1, out_scale=1e-4, seed=0, record=[0])
    np.testing.assert_allclose(tr.probs[0], 1 / 3, atol=1e-3)


def test_standardise():
    rng = np.random.default_rng(0)
    X = np.hstack([rng.normal(3, 2, (50, 3)), np.full((50, 1), 7.0), rng.normal(0, 5, (50, 2))])
    Z, keep = cl.standardise(X)
    np.testing.assert_array_equal(keep, [True, True, True, False, True, True])
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-13)
    np.testing.assert_allclose(np.trace(Z.T @ Z / 50), 5, rtol=1e-12)
    # a common scale: ratios of variances are kept
    v = X[:, keep].var(axis=0)
    np.testing.assert_allclose(Z.var(axis=0) / Z.var(axis=0)[0], v / v[0], rtol=1e-12)


def test_snapshot_steps():
    s = cl.snapshot_steps(800, 20)
    assert s[0] == 0 and s[-1] == 800 and np.all(np.diff(s) > 0) and len(s) <= 20
    np.testing.assert_array_equal(cl.snapshot_steps(1, 2), [0, 1])


def test_sum_zero_basis():
    for c in (2, 3, 10):
        Q = cl.sum_zero_basis(c)
        np.testing.assert_allclose(Q.T @ Q, np.eye(c - 1), atol=1e-15)
        np.testing.assert_allclose(Q @ Q.T, np.eye(c) - 1 / c, atol=1e-15)


def test_linear_twin_follows_linearised_iteration():
    X, y = toy(7, n=60, d=4, c=3)
    C, lr, T = 3, 0.4, 25
    tw = cl.linear_twin(X, y, lr=lr, out_scale=0.3)
    p0 = cl.init_params(4, C, (), out_scale=0.3, seed=9)
    W = np.vstack([p0[0], p0[1][None, :]])
    Xa = np.hstack([X, np.ones((60, 1))])
    Y = np.eye(C)[y]
    P = np.eye(C) - 1 / C
    c0 = (tw.V.T @ W @ tw.Q).ravel()
    modes = dynamics.gd_modes(tw.lam, tw.b, c0, tw.eta, T)
    for t in range(T + 1):
        F_twin = Xa @ tw.V @ modes[t].reshape(5, C - 1) @ tw.Q.T
        np.testing.assert_allclose(F_twin, Xa @ W @ P, rtol=1e-9, atol=1e-11)
        W = W - lr * Xa.T @ (1 / C + Xa @ W @ P / C - Y) / 60
    assert tw.s == pytest.approx(np.sqrt(C - 1) * 0.3) and tw.eta == pytest.approx(lr / C)
    assert tw.sigma2 == C


def test_linear_twin_tracks_softmax_at_small_logits():
    X, y = toy(8, n=50, d=4, c=3)
    Xs = 0.05 * X  # small inputs keep the logits small: the remainder is second order
    tw = cl.linear_twin(Xs, y, lr=1.0, out_scale=0.01)
    p0 = cl.init_params(4, 3, (), out_scale=0.01, seed=1)
    tr = cl.train(Xs, y, lr=1.0, steps=10, params0=p0)
    W = np.vstack([p0[0], p0[1][None, :]])
    c0 = (tw.V.T @ W @ tw.Q).ravel()
    modes = dynamics.gd_modes(tw.lam, tw.b, c0, tw.eta, 10)
    Xa = np.hstack([Xs, np.ones((50, 1))])
    F = np.log(tr.probs)
    F -= F.mean(axis=-1, keepdims=True)
    F_twin = np.einsum("nk,tka,ca->tnc", Xa @ tw.V, modes.reshape(11, 5, 2), tw.Q)
    disp = np.abs(F - F[0]).max()
    assert np.abs(F - F_twin).max() <= 0.05 * disp


def test_validation_errors():
    X, y = toy(9)
    with pytest.raises(ValueError, match="activation"):
        cl.train(X, y, activation="sigmoid", lr=0.1, steps=2)
    with pytest.raises(ValueError, match="optimizer"):
        cl.train(X, y, optimizer="lbfgs", lr=0.1, steps=2)
    with pytest.raises(ValueError, match="lr"):
        cl.train(X, y, lr=0.0, steps=2)
    with pytest.raises(ValueError, match="steps"):
        cl.train(X, y, lr=0.1, steps=0)
    with pytest.raises(ValueError, match="batch_size"):
        cl.train(X, y, lr=0.1, steps=2, batch_size=41)
    with pytest.raises(ValueError, match="record"):
        cl.train(X, y, lr=0.1, steps=5, record=[0, 3, 3])
    with pytest.raises(ValueError, match="record"):
        cl.train(X, y, lr=0.1, steps=5, record=[0, 6])
    with pytest.raises(ValueError, match="momentum"):
        cl.train(X, y, optimizer="momentum", lr=0.1, steps=2, momentum=1.0)
    with pytest.raises(ValueError, match="labels"):
        cl.train(X, y[:-1], lr=0.1, steps=2)
    with pytest.raises(ValueError, match="labels"):
        cl.train(X, np.full(40, -1), lr=0.1, steps=2)
    with pytest.raises(ValueError, match="labels"):
        cl.train(X, y + 0.5, lr=0.1, steps=2)
    with pytest.raises(ValueError, match="X"):
        cl.train(np.full((40, 5), np.nan), y, lr=0.1, steps=2)
    with pytest.raises(ValueError, match="weight_decay"):
        cl.loss_and_grad(cl.init_params(5, 3, seed=0), X, y, weight_decay=-1)
    with pytest.raises(ValueError, match="params"):
        cl.loss_and_grad(cl.init_params(4, 3, seed=0), X, y)
    with pytest.raises(ValueError, match="outputs"):
        cl.loss_and_grad(cl.init_params(5, 2, seed=0), X, y)
    with pytest.raises(ValueError, match="diverged"):
        cl.train(X, y, hidden=(4,), activation="relu", lr=1e200, steps=5, seed=0)
    with pytest.raises(ValueError, match="n_classes"):
        cl.init_params(5, 1)
    with pytest.raises(ValueError, match="hidden width"):
        cl.init_params(5, 3, (0,))
    with pytest.raises(ValueError, match="f must be finite"):
        cl.softmax([0.0, np.inf])
    with pytest.raises(ValueError, match="lr"):
        cl.linear_twin(X, y, lr=1e3, out_scale=0.1)
    with pytest.raises(ValueError, match="full column rank"):
        cl.linear_twin(np.hstack([X, X[:, :1]]), y, lr=0.1, out_scale=0.1)
    with pytest.raises(ValueError, match="constant"):
        cl.standardise(np.ones((5, 3)))
