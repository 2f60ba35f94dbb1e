"""ribbonlib.classifiers: unit tests, and domain tests of the results of chapter 8.

Every stated result is tested over the whole domain its statement claims, against a
reference that shares no code with the library function under test:

* the linearisation lemma of the softmax, for every ``C >= 2`` and logits of any size
  (``10^-8`` to ``10^3``), shifts, ties and heavy tails, in mpmath at 40 digits;
* the linear twin (proposition ``prop-beyond-twin``): the closed form of
  :func:`linear_twin` and :func:`ribbonlib.dynamics.gd_modes` against the linearised
  update itself, iterated ``T`` times in mpmath by repeated squaring of the affine map
  (``T`` from 0 to 1e6, ``ηλ_1/C`` from 1e-6 to just below 2, feature scales spread over
  six decades), within the round-off bound of :func:`twin_closed_form`; the initial
  coordinates against their stated distribution (z-scores); the distance sandwich of
  item 3 against ``d_B`` from its definition in mpmath;
* the tracking proposition: exact softmax gradient descent and its twin iterated in
  mpmath (an implementation independent of :func:`twin_tracking`, whose balls must
  contain it), and the non-expansion of the error map for arbitrary states;
* the gradients of :func:`loss_and_grad` (linear model, one and two hidden layers,
  ``tanh`` and ReLU, any weight decay and scale) against 256-bit central differences
  of the loss (:func:`central_difference`, itself checked against mpmath's
  differentiation of an independent mpmath loss), within :func:`gradient_error_bound`;
* the one-copy lemma of the twin's cloud: the spectrum of the full ``d_a (C − 1)``-mode
  covariance, diagonalised in mpmath, against :func:`twin_spectra_grid` and inside the
  enclosures of :func:`twin_spectrum_enclosure`.

Hypothesis draws one 32-bit seed per example and the problem is generated from it with
NumPy, so that every example spreads over the whole domain.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from ribbonlib import check, cloud, dynamics
from ribbonlib import classifiers as cl

u = 2.0**-53
seeds = st.integers(0, 2**32 - 1)


def toy(seed: int = 0, n: int = 40, d: int = 5, c: int = 3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.arange(n) % c
    rng.shuffle(y)
    return X, y


def mp_softmax(f):
    m = max(f)
    e = [mpmath.exp(x - m) for x in f]
    s = mpmath.fsum(e)
    return [x / s for x in e]


def logits_vector(rng: np.random.Generator, c: int) -> np.ndarray:
    """Logits of every size, with shifts, ties and heavy tails."""
    f = rng.standard_normal(c) * 10.0 ** rng.uniform(-8.0, 3.0)
    if rng.random() < 0.3:
        f = rng.standard_cauchy(c) * 10.0 ** rng.uniform(-4.0, 1.0)
    if rng.random() < 0.3:
        f[rng.integers(0, c, c)] = f[0]                               # ties
    return f + rng.choice([0.0, rng.uniform(-1e3, 1e3)])


def data_set(rng: np.random.Generator, n: int, d: int, c: int):
    """Inputs with feature scales spread over four decades, labels using every class."""
    X = rng.standard_normal((n, d)) * 10.0 ** rng.uniform(-2.0, 2.0, d)
    X += rng.standard_normal(d) * rng.choice([0.0, 1.0])
    y = rng.permutation(np.arange(n) % c)
    return X, y


# ------------------------------------------------------------------------------ softmax


@given(seeds, st.integers(2, 60))
@settings(max_examples=60)
def test_softmax_against_mpmath(seed, c):
    """cl.softmax to its round-off, (|s_c| + Σ p|s| + 2 FUNCTION_ULP + C) u relative."""
    f = logits_vector(np.random.default_rng(seed), c)
    p = cl.softmax(f)
    with mpmath.workdps(40):
        ref = mp_softmax([mpmath.mpf(float(x)) for x in f])
        s = np.abs(f - f.max())
        bound = u * (s + float(np.sum(p * s)) + 2 * cl.FUNCTION_ULP + c)
        for pc, rc, bc in zip(p, ref, bound):
            assert abs(mpmath.mpf(float(pc)) - rc) <= bc * rc * (1 + 1e-6) + 2.0**-1074


@given(seeds, st.integers(2, 60))
@settings(max_examples=100)
@example(seed=0, c=2)
def test_linearisation_lemma(seed, c):
    """||softmax(f) − 1/C − Pf/C||_2 <= ||Pf||²/2 for every f (lem-beyond-remainder)."""
    f = logits_vector(np.random.default_rng(seed), c)
    with mpmath.workdps(40):
        fm = [mpmath.mpf(float(x)) for x in f]
        mean = mpmath.fsum(fm) / c
        pf = [x - mean for x in fm]
        p = mp_softmax(fm)
        r = mpmath.sqrt(mpmath.fsum((pc - mpmath.mpf(1) / c - q / c) ** 2
                                    for pc, q in zip(p, pf)))
        assert r <= mpmath.fsum(q * q for q in pf) / 2


def test_linearisation_lemma_constant_is_sharp_enough():
    """The ratio stays well below 1 but is not vacuous: it reaches ~0.19 for C = 2."""
    with mpmath.workdps(30):
        best = max(
            mpmath.sqrt(2) * abs(mpmath.tanh(a) - a) / 2 / (a * a)
            for a in [mpmath.mpf(k) / 10 for k in range(1, 60)]
        )
    assert 0.15 < best < 0.25


# ------------------------------------------------------------------------ the gradients


def mp_loss(params, X, y, act, wd):
    """The loss of eq-beyond-loss in mpmath, sample by sample (not the library code)."""
    n = len(X)
    total = mpmath.mpf(0)
    layers = len(params) // 2
    for i in range(n):
        h = list(X[i])
        for l in range(layers):
            W, b = params[2 * l], params[2 * l + 1]
            z = [mpmath.fsum(h[j] * W[j][k] for j in range(len(h))) + b[k]
                 for k in range(len(b))]
            if l < layers - 1:
                h = [mpmath.tanh(x) if act == "tanh" else max(x, 0) for x in z]
            else:
                h = z
        m = max(h)
        total += m + mpmath.log(mpmath.fsum(mpmath.exp(x - m) for x in h))
        total -= h[int(y[i])]
    reg = mpmath.fsum(x * x for l in range(0, len(params), 2)
                      for row in params[l] for x in row)
    return total / n + wd * reg / 2


def test_central_difference_against_mpmath_derivative():
    """The 256-bit central difference equals mpmath's derivative of an mpmath loss."""
    X, y = toy(11, n=6, d=3, c=3)
    cases = [((), "tanh", 0.3), ((3,), "tanh", 0.0), ((2, 3), "relu", 0.05)]
    for hidden, act, wd in cases:
        params = cl.init_params(3, 3, hidden, activation=act, out_scale=2.0, seed=4)
        v = [np.random.default_rng(5).standard_normal(p.shape) for p in params]
        ref_fd = cl.central_difference(params, X, y, v, activation=act, weight_decay=wd)
        with mpmath.workdps(60):
            def along(h):
                shifted = []
                for p, q in zip(params, v):
                    a = np.atleast_2d(p)
                    b = np.atleast_2d(q)
                    m = [[mpmath.mpf(float(x)) + h * mpmath.mpf(float(z))
                          for x, z in zip(ra, rb)] for ra, rb in zip(a, b)]
                    shifted.append(m if p.ndim == 2 else m[0])
                Xm = [[mpmath.mpf(float(x)) for x in row] for row in X]
                return mp_loss(shifted, Xm, y, act, mpmath.mpf(wd))

            exact = mpmath.diff(along, 0)
        assert abs(ref_fd - exact) <= mpmath.mpf(10) ** -20 * (1 + abs(exact))


@given(seeds, st.sampled_from([(), (1,), (4,), (3, 2), (6, 5)]),
       st.sampled_from(["tanh", "relu"]))
@settings(max_examples=60)
@example(seed=1, hidden=(), act="tanh")
def test_gradient_within_its_round_off_bound(seed, hidden, act):
    """Back-propagation = 256-bit central differences, within gradient_error_bound."""
    rng = np.random.default_rng(seed)
    n, d, c = int(rng.integers(1, 13)), int(rng.integers(1, 6)), int(rng.integers(2, 6))
    X = rng.standard_normal((n, d)) * 10.0 ** rng.uniform(-2.0, 2.0)
    y = rng.integers(0, c, n)
    y[0] = c - 1
    wd = float(rng.choice([0.0, 10.0 ** rng.uniform(-6.0, 1.0)]))
    params = cl.init_params(d, c, hidden, activation=act,
                            out_scale=10.0 ** rng.uniform(-3.0, 1.5),
                            seed=int(rng.integers(1 << 30)))
    _, grads = cl.loss_and_grad(params, X, y, activation=act, weight_decay=wd)
    bound = cl.gradient_error_bound(params, X, y, activation=act, weight_decay=wd)
    assume(all(np.all(np.isfinite(b)) for b in bound))            # no unit at its kink
    for _ in range(2):
        v = [rng.standard_normal(p.shape) for p in params]
        try:
            ref = cl.central_difference(params, X, y, v, activation=act,
                                        weight_decay=wd)
        except ValueError:                                   # a kink inside the stencil
            assume(False)
        with mpmath.workprec(300):
            bp = mpmath.fsum(mpmath.mpf(a) * mpmath.mpf(b) for g, q in zip(grads, v)
                             for a, b in zip(g.ravel().tolist(), q.ravel().tolist()))
        tol = sum(float(np.sum(b * np.abs(q))) for b, q in zip(bound, v))
        assert abs(bp - ref) <= tol, (float(abs(bp - ref)), tol)


def test_gradient_error_bound_is_infinite_at_a_relu_kink():
    X = np.array([[1.0, -1.0], [2.0, 0.5]])
    y = np.array([0, 1])
    params = [np.array([[1.0], [1.0]]), np.array([0.0]), np.array([[1.0, -1.0]]),
              np.zeros(2)]
    bound = cl.gradient_error_bound(params, X, y, activation="relu")
    assert all(np.all(np.isinf(b)) for b in bound)
    with pytest.raises(ValueError, match="kink|0 at this precision"):
        v = [np.ones_like(p) for p in params]
        cl.central_difference(params, X, y, v, activation="relu")


def test_gradient_error_bound_relu_threshold():
    """The ReLU rule at its edge: inf when some |z| <= u e_z, finite just beyond.

    One input x = 1, one hidden unit z = x + b_1 (e_z = 2(1 + |b_1|) ~ 4 u, computed
    exactly), and a unit whose weights and bias are all zero (z = 0 = e_z: at the kink).
    """
    X, y = np.array([[1.0], [1.0]]), np.array([0, 1])
    out = [np.array([[1.0, -2.0]]), np.array([0.1, -0.2])]
    for z, finite in ((2.0**-52, False), (2.0**-50, True), (1.0, True)):
        params = [np.array([[1.0]]), np.array([z - 1.0])] + out
        assert params[1][0] + 1.0 == z
        bound = cl.gradient_error_bound(params, X, y, activation="relu")
        assert all(np.all(np.isfinite(b)) == finite for b in bound), z
        assert all(np.all(np.isinf(b)) != finite for b in bound), z
    params = [np.array([[1.0, 0.0]]), np.array([0.5, 0.0]), np.ones((2, 2)), np.zeros(2)]
    bound = cl.gradient_error_bound(params, X, y, activation="relu")
    assert all(np.all(np.isinf(b)) for b in bound)


def stated_gradient_bound(params, X, y, act, wd):
    """gradient_error_bound's stated running error analysis, entry by entry in mpmath.

    ``None`` where the ReLU rule gives ``inf`` (some ``|z| <= u e_z``).
    """
    mpf, fu, u_ = mpmath.mpf, mpmath.mpf(cl.FUNCTION_ULP), mpmath.mpf(2) ** -53
    N, L = X.shape[0], len(params) // 2
    Ws = [[[mpf(float(v)) for v in row] for row in params[2 * l]] for l in range(L)]
    bs = [[mpf(float(v)) for v in params[2 * l + 1]] for l in range(L)]
    h = [[mpf(float(v)) for v in row] for row in X]
    e = [[mpf(0)] * len(row) for row in h]
    hs, es = [h], [e]
    for l in range(L):
        W, b = Ws[l], bs[l]
        n_in, n_out = len(W), len(b)
        z = [[mpmath.fsum(h[i][j] * W[j][k] for j in range(n_in)) + b[k]
              for k in range(n_out)] for i in range(N)]
        ez = [[mpmath.fsum(e[i][j] * abs(W[j][k]) for j in range(n_in))
               + (n_in + 1) * (mpmath.fsum(abs(h[i][j] * W[j][k]) for j in range(n_in))
                               + abs(b[k])) for k in range(n_out)] for i in range(N)]
        if l == L - 1:
            h, e = z, ez
        elif act == "tanh":
            h = [[mpmath.tanh(x) for x in row] for row in z]
            e = [[(1 - a * a) * ea + fu * abs(a) for a, ea in zip(ra, rb)]
                 for ra, rb in zip(h, ez)]
        else:
            if any(abs(x) <= u_ * ex for ra, rb in zip(z, ez) for x, ex in zip(ra, rb)):
                return None
            h = [[x if x > 0 else mpf(0) for x in row] for row in z]
            e = [[ex if x > 0 else mpf(0) for x, ex in zip(ra, rb)]
                 for ra, rb in zip(z, ez)]
        hs.append(h)
        es.append(e)
    f, ef = hs[-1], es[-1]
    C = len(f[0])
    delta, ed = [], []
    for i in range(N):
        s = [x - max(f[i]) for x in f[i]]
        lse = mpmath.log(mpmath.fsum(mpmath.exp(x) for x in s))
        t = [x - lse for x in s]
        rows = ([], [])
        for c in range(C):
            rel = (ef[i][c] + max(ef[i]) + abs(s[c]) + max(abs(x) for x in s)
                   + abs(t[c]) + 2 * fu + C - 1 + fu * abs(lse))
            p = mpmath.exp(t[c])
            d1 = p - (1 if c == y[i] else 0)
            rows[0].append(d1 / N)
            rows[1].append((p * rel + abs(d1)) / N + abs(d1) / N)
        delta.append(rows[0])
        ed.append(rows[1])
    out = [None] * len(params)
    for l in range(L - 1, -1, -1):
        W, h, e = Ws[l], hs[l], es[l]
        n_in, n_out = len(W), len(W[0])
        gW = np.empty((n_in, n_out))
        for j in range(n_in):
            for k in range(n_out):
                g = mpmath.fsum(h[i][j] * delta[i][k] for i in range(N)) + wd * W[j][k]
                gW[j, k] = u_ * (mpmath.fsum(e[i][j] * abs(delta[i][k])
                                             + abs(h[i][j]) * ed[i][k]
                                             + N * abs(h[i][j] * delta[i][k])
                                             for i in range(N))
                                 + abs(wd * W[j][k]) + abs(g))
        out[2 * l] = gW
        out[2 * l + 1] = np.array([float(u_ * mpmath.fsum(
            ed[i][k] + (N - 1) * abs(delta[i][k]) for i in range(N)))
            for k in range(n_out)])
        if l == 0:
            break
        new = ([], [])
        for i in range(N):
            rows = ([], [])
            for j in range(n_in):
                back = mpmath.fsum(delta[i][k] * W[j][k] for k in range(n_out))
                eb = mpmath.fsum(ed[i][k] * abs(W[j][k]) + n_out * abs(delta[i][k] * W[j][k])
                                 for k in range(n_out))
                a, ea = h[i][j], e[i][j]
                if act == "tanh":
                    phi = 1 - a * a
                    e_phi = 2 * abs(a) * ea + a * a + abs(phi)
                    rows[0].append(back * phi)
                    rows[1].append(eb * abs(phi) + abs(back) * e_phi + abs(back * phi))
                else:
                    rows[0].append(back if a > 0 else mpf(0))
                    rows[1].append(eb if a > 0 else mpf(0))
            new[0].append(rows[0])
            new[1].append(rows[1])
        delta, ed = new
    return out


@pytest.mark.parametrize("seed", range(12))
def test_gradient_error_bound_is_its_stated_formula(seed):
    """gradient_error_bound is the running error analysis its docstring states, term by
    term (evaluated here sample by sample at 30 digits), and no more: the bound is far
    above the errors met (test above), so only this pins its constants."""
    rng = np.random.default_rng(seed)
    hidden = [(), (3,), (3, 2), (4,)][seed % 4]
    act = ["tanh", "relu", "tanh"][seed % 3]
    n, d, c = int(rng.integers(1, 6)), int(rng.integers(1, 4)), int(rng.integers(2, 5))
    X = rng.standard_normal((n, d)) * 10.0 ** rng.uniform(-1.0, 1.0)
    y = rng.integers(0, c, n)
    y[0] = c - 1
    wd = [0.0, float(10.0 ** rng.uniform(-3.0, 0.0))][seed % 2]
    params = cl.init_params(d, c, hidden, activation=act,
                            out_scale=10.0 ** rng.uniform(-1.0, 1.0), seed=seed)
    bound = cl.gradient_error_bound(params, X, y, activation=act, weight_decay=wd)
    with mpmath.workdps(30):
        ref = stated_gradient_bound(params, X, y, act, mpmath.mpf(wd))
    assert ref is not None
    for b, r in zip(bound, ref):
        assert b.shape == r.shape
        assert np.all(np.abs(b - r) <= 1e-12 * r), np.max(np.abs(b / r - 1))


# ---------------------------------------------------------------------- the linear twin


def exact_twin(Xa, Y, W0, eta, T, dps=50):
    """W_T P of the linearised update, iterated T times by repeated squaring (mpmath).

    The affine map Z -> M Z + G on Z = W P, M = I - (eta/C) Sigma_a,
    G = eta X_a^T (Y - 1/C) / N, as the block matrix [[M, G], [0, I]].
    """
    with mpmath.workdps(dps):
        N, da = Xa.shape
        C = Y.shape[1]
        X = mpmath.matrix(Xa.tolist())
        Ym = mpmath.matrix(Y.tolist()) - mpmath.ones(N, C) / C
        sigma = X.T * X / N
        M = mpmath.eye(da) - sigma * (mpmath.mpf(eta) / C)
        G = X.T * Ym * (mpmath.mpf(eta) / N)
        A = mpmath.zeros(da + C, da + C)
        for i in range(da):
            for j in range(da):
                A[i, j] = M[i, j]
            for j in range(C):
                A[i, da + j] = G[i, j]
        for j in range(C):
            A[da + j, da + j] = 1
        P = mpmath.eye(C) - mpmath.ones(C, C) / C
        Z = mpmath.matrix(W0.tolist()) * P
        state = mpmath.zeros(da + C, C)
        for i in range(da):
            for j in range(C):
                state[i, j] = Z[i, j]
        for j in range(C):
            state[da + j, j] = 1
        power, k = mpmath.eye(da + C), T
        base = A
        while k:
            if k & 1:
                power = base * power
            base = base * base
            k >>= 1
        out = power * state
        return np.array([[out[i, j] for j in range(C)] for i in range(da)],
                        dtype=object)


@given(seeds, st.sampled_from([0, 1, 2, 7, 30, 200, 3000]))
@settings(max_examples=40)
@example(seed=3, T=0)
def test_linear_twin_against_the_linearised_update(seed, T):
    """prop-beyond-twin (1, 2): closed form = linearised update, to its round-off."""
    rng = np.random.default_rng(seed)
    c = int(rng.integers(2, 5))
    d = int(rng.integers(1, 4))
    n = int(rng.integers(max(c, d + 2), 14))
    X, y = data_set(rng, n, d, c)
    lam1 = cl.linear_twin(X, y, lr=1e-9, out_scale=0.0).lam.max()
    x = float(rng.choice([10.0 ** rng.uniform(-6, 0), rng.uniform(0.5, 1.999)]))
    lr = x * c / lam1
    g = float(rng.choice([0.0, 10.0 ** rng.uniform(-3, 1)]))
    tw = cl.linear_twin(X, y, lr=lr, out_scale=g)
    p0 = cl.init_params(d, c, (), out_scale=g, seed=int(rng.integers(1 << 30)))
    W_cf, bound = cl.twin_closed_form(tw, X, y, p0, T)
    Xa = np.hstack([X, np.ones((n, 1))])
    W0 = np.vstack([p0[0], p0[1][None, :]])
    ref = exact_twin(Xa, np.eye(c)[y], W0, lr, T)
    with mpmath.workdps(50):
        diff = mpmath.matrix((W_cf[-1] - ref).tolist())
        dist = mpmath.sqrt(mpmath.fsum(x**2 for x in mpmath.matrix(Xa.tolist()) * diff))
    assert dist <= bound[-1], (float(dist), bound[-1])
    assert tw.eta == lr / c and tw.sigma2 == c
    assert abs(tw.s - math.sqrt(c - 1) * g) <= 2 * u * tw.s


def test_linear_twin_at_a_million_steps():
    """The top of the domain of T (one case: the closed form of 10^6 steps is large)."""
    seed = 5
    rng = np.random.default_rng(seed)
    X, y = data_set(rng, 5, 1, 2)
    tw = cl.linear_twin(X, y, lr=1e-9, out_scale=0.0)
    lr = rng.uniform(0.5, 1.999) * 2 / tw.lam.max()
    tw = cl.linear_twin(X, y, lr=lr, out_scale=0.5)
    p0 = cl.init_params(1, 2, (), out_scale=0.5, seed=1)
    T = 10**6
    W_cf, bound = cl.twin_closed_form(tw, X, y, p0, T)
    Xa = np.hstack([X, np.ones((5, 1))])
    ref = exact_twin(Xa, np.eye(2)[y], np.vstack([p0[0], p0[1][None, :]]), lr, T)
    with mpmath.workdps(50):
        dist = mpmath.sqrt(mpmath.fsum(x**2 for x in mpmath.matrix(Xa.tolist())
                                       * mpmath.matrix((W_cf[-1] - ref).tolist())))
    assert dist <= bound[-1]


def abs_chain(tw, Xa, y):
    """|V|ᵀ|V|(|V|ᵀ|X_a|ᵀ|C·onehot − 1|/N/λ)|Q|: the magnitudes met in the product chain
    that forms b in linear_twin (lengths N, d_a, d_a, d_a and C), in mpmath."""
    N, da = Xa.shape
    C = tw.Q.shape[0]
    lam = tw.lam.reshape(da, C - 1)[:, 0]
    aV = mpmath.matrix(np.abs(tw.V).tolist())
    inner = aV.T * (mpmath.matrix(np.abs(Xa).T.tolist())
                    * mpmath.matrix(np.abs(C * np.eye(C)[y] - 1.0).tolist())) / N
    for k in range(da):
        for j in range(C):
            inner[k, j] /= mpmath.mpf(lam[k])
    chain = aV.T * (aV * inner) * mpmath.matrix(np.abs(tw.Q).tolist())
    return mpmath.sqrt(mpmath.fsum((mpmath.mpf(lam[k]) * chain[k, a]) ** 2
                                   for k in range(da) for a in range(C - 1)))


def test_twin_closed_form_bound_when_only_b_is_rounded():
    """Four classes with the same inputs {1, 3}: X_aᵀ(C·onehot − 1) = 0 exactly, so
    w* = b = 0, and from W_0 = 0 the closed form and the exact twin both stay at 0.
    Every item of the stated bound then vanishes but the rounding of b, which the
    one-step defects carry: bound[t] = sqrt(N λ_1) t (η/C) ||λ e_b||, with e_b the
    first-order rounding of the chain of products of lengths N, d_a, d_a, d_a and C,
    γ u |chain|: γ at least N + 3 d_a + C (one u per term of each inner product) and
    at most that plus 8 (the few elementwise roundings: the targets, the divisions by N
    and λ). Reference: the chain and λ_1 in mpmath; bound[0] = 0."""
    C, N, da = 4, 8, 2
    X = np.array([[1.0], [3.0]] * 4)
    y = np.repeat(np.arange(C), 2)
    tw = cl.linear_twin(X, y, lr=0.5, out_scale=0.0)
    p0 = [np.zeros((1, C)), np.zeros(C)]
    T = 5
    W_cf, bound = cl.twin_closed_form(tw, X, y, p0, T)
    assert np.all(W_cf == 0.0) and bound[0] == 0.0
    Xa = np.hstack([X, np.ones((N, 1))])
    with mpmath.workdps(40):
        lam1 = max(mpmath.eigsy(mpmath.matrix((Xa.T @ Xa).tolist()) / N)[0])
        unit = mpmath.sqrt(N * lam1) * mpmath.mpf(tw.eta) * u * abs_chain(tw, Xa, y)
        gamma = N + 3 * da + C
        for t in range(1, T + 1):
            assert gamma * t * unit <= bound[t] <= (gamma + 8) * t * unit, (t, bound[t])


@pytest.mark.parametrize("seed", range(12))
def test_twin_closed_form_bound_is_of_round_off_size(seed):
    """The bound is first order in u: at most (N + d_a + C)³ u sqrt(N λ_1)(t + 1) S_t,
    S_t = ||W_0|| + ||Ŵ_t|| + t (η/C) ||λ ⊙ |chain| || (the magnitudes of the weights
    and of the chain that forms b), for a second feature a thousand times smaller
    than the first (λ_min ~ 1e-6, weights along it ~ 1e3), a step η λ_1/C = 1 and a
    start far from w*: the terms of the bound scale with u times these magnitudes,
    and no term may grow like 1/u or like u/λ_min."""
    rng = np.random.default_rng(seed)
    N, d, C = 10, 2, 3
    da = d + 1
    X = rng.standard_normal((N, d)) * np.array([1.0, 1e-3])
    y = rng.permutation(np.arange(N) % C)
    lam_max = cl.linear_twin(X, y, lr=1e-9, out_scale=0.0).lam.max()
    tw = cl.linear_twin(X, y, lr=C / lam_max, out_scale=1.0)
    p0 = cl.init_params(d, C, (), out_scale=1.0, seed=seed)
    T = 4
    W_cf, bound = cl.twin_closed_form(tw, X, y, p0, T)
    Xa = np.hstack([X, np.ones((N, 1))])
    W0 = np.vstack([p0[0], p0[1][None, :]])
    with mpmath.workdps(30):
        lam1 = float(max(mpmath.eigsy(mpmath.matrix((Xa.T @ Xa).tolist()) / N)[0]))
        chain = float(abs_chain(tw, Xa, y))
    t = np.arange(T + 1)
    S = (np.linalg.norm(W0) + np.linalg.norm(W_cf.reshape(T + 1, -1), axis=1)
         + t * tw.eta * chain)
    limit = (N + da + C) ** 3 * u * math.sqrt(N * lam1) * (t + 1) * S
    assert np.all(bound <= limit), np.max(bound / limit)


def test_twin_closed_form_from_the_least_squares_weights():
    """Started at w* (params0 = the twin's least-squares weights), the closed form stays
    there (ĉ_t = b, no drift): the weights are constant, and the bound is finite and of
    round-off size (at most (N + d_a + C)³ u sqrt(N λ_1)(t + 1) S_t as above)."""
    X, y = toy(4, n=12, d=2, c=3)
    tw = cl.linear_twin(X, y, lr=0.5, out_scale=1.0)
    p0 = [tw.w_star[:-1], tw.w_star[-1]]
    T = 3
    W_cf, bound = cl.twin_closed_form(tw, X, y, p0, T)
    np.testing.assert_allclose(W_cf, np.broadcast_to(W_cf[0], W_cf.shape), rtol=0,
                               atol=1e-12 * np.abs(tw.w_star).max())
    Xa = np.hstack([X, np.ones((12, 1))])
    with mpmath.workdps(30):
        lam1 = float(max(mpmath.eigsy(mpmath.matrix((Xa.T @ Xa).tolist()) / 12)[0]))
        chain = float(abs_chain(tw, Xa, y))
    t = np.arange(T + 1)
    S = (2 * np.linalg.norm(tw.w_star) + np.linalg.norm(W_cf.reshape(T + 1, -1), axis=1)
         + t * tw.eta * chain)
    limit = (12 + 3 + 3) ** 3 * u * math.sqrt(12 * lam1) * (t + 1) * S
    assert np.all(np.isfinite(bound)) and np.all(bound <= limit), bound / limit


def test_twin_initial_coordinates_are_iid_with_the_stated_variance():
    """prop-beyond-twin (2): V^T W_0 Q has i.i.d. N(0, s²/D) entries (z-scores)."""
    X, y = toy(12, n=30, d=3, c=4)
    tw = cl.linear_twin(X, y, lr=0.1, out_scale=0.7)
    D = tw.lam.size
    M = 4000
    c0 = np.empty((M, D))
    for j in range(M):
        p = cl.init_params(3, 4, (), out_scale=0.7, seed=j)
        c0[j] = (tw.V.T @ np.vstack([p[0], p[1][None, :]]) @ tw.Q).ravel()
    var = tw.s**2 / D
    cov = c0.T @ c0 / M
    iu = np.triu_indices(D, 1)
    z_diag = (np.diag(cov) - var) / (var * math.sqrt(2.0 / M))
    z_off = cov[iu] / (var / math.sqrt(M))
    z = np.concatenate([z_diag, z_off, c0.mean(axis=0) / math.sqrt(var / M)])
    assert np.max(np.abs(z)) <= check.z_limit(1e-6, z.size)


@given(seeds)
@settings(max_examples=60)
@example(seed=0)
def test_twin_distance_sandwich(seed):
    """prop-beyond-twin (3): e^-ρ Q <= d_B <= e^ρ Q, Q = ||(F − F')P||²/(8CN)."""
    rng = np.random.default_rng(seed)
    n, c = int(rng.integers(1, 6)), int(rng.integers(2, 9))
    F = rng.standard_normal((n, c)) * 10.0 ** rng.uniform(-6, 1)
    G = F + (rng.standard_normal((n, c)) * 10.0 ** rng.uniform(-6, 1)
             * rng.choice([0.0, 1.0]))
    with mpmath.workdps(50):
        d_b = mpmath.mpf(0)
        quad = mpmath.mpf(0)
        rho = mpmath.mpf(0)
        for f, g in zip(F, G):
            fm = [mpmath.mpf(x) for x in f.tolist()]
            gm = [mpmath.mpf(x) for x in g.tolist()]
            p, q = mp_softmax(fm), mp_softmax(gm)
            d_b -= mpmath.log(mpmath.fsum(mpmath.sqrt(a * b) for a, b in zip(p, q)))
            delta = [a - b for a, b in zip(fm, gm)]
            mean = mpmath.fsum(delta) / c
            quad += mpmath.fsum((x - mean) ** 2 for x in delta)
            s = [a + b for a, b in zip(fm, gm)]
            rho = max(rho, (max(s) - min(s) + max(delta) - min(delta)) / 2)
        d_b /= n
        quad /= 8 * c * n
        slack = mpmath.mpf(10) ** -40
        assert mpmath.exp(-rho) * quad - slack <= d_b <= mpmath.exp(rho) * quad + slack


# ------------------------------------------------------------------- the tracking bound


def mp_tracking(Xa, y, C, W0, eta, T):
    """Exact softmax GD and its twin in mpmath: ||E_t||, ||R(F_t)||, quartic, lemma."""
    N, da = Xa.shape
    X = mpmath.matrix(Xa.tolist())
    Y = mpmath.matrix(np.eye(C)[y].tolist())
    W = mpmath.matrix(W0.tolist())
    Wl = mpmath.matrix(W0.tolist())
    P = mpmath.eye(C) - mpmath.ones(C, C) / C
    rows = []
    for t in range(T + 1):
        F, Fl = X * W, X * Wl
        probs = mpmath.zeros(N, C)
        rem2, quart, lemma = mpmath.mpf(0), mpmath.mpf(0), mpmath.mpf(0)
        for i in range(N):
            f = [F[i, c] for c in range(C)]
            p = mp_softmax(f)
            mean = mpmath.fsum(f) / C
            pf = [x - mean for x in f]
            r2 = mpmath.fsum((a - 1 / mpmath.mpf(C) - b / C) ** 2
                             for a, b in zip(p, pf))
            q2 = mpmath.fsum(b * b for b in pf)
            rem2 += r2
            quart += q2 * q2
            if q2 > 0:
                lemma = max(lemma, mpmath.sqrt(r2) / (q2 / 2))
            for c in range(C):
                probs[i, c] = p[c]
        E = (F - Fl) * P
        rows.append((mpmath.sqrt(mpmath.fsum(x**2 for x in E)), mpmath.sqrt(rem2),
                     mpmath.sqrt(quart), lemma))
        W = W - X.T * (probs - Y) * (mpmath.mpf(eta) / N)
        Wl = Wl - X.T * (mpmath.ones(N, C) / C + Fl * P / C - Y) * (mpmath.mpf(eta) / N)
    return rows


@given(seeds)
@settings(max_examples=20)
@example(seed=2)
def test_tracking_bound(seed):
    """prop-beyond-tracking in mpmath; twin_tracking's balls contain the mpmath runs."""
    rng = np.random.default_rng(seed)
    c, d = int(rng.integers(2, 5)), int(rng.integers(1, 4))
    n = int(rng.integers(max(c, d + 1), 9))
    X, y = data_set(rng, n, d, c)
    Xa = np.hstack([X, np.ones((n, 1))])
    lam1 = float(np.linalg.eigvalsh(Xa.T @ Xa / n).max())
    x = float(rng.choice([10.0 ** rng.uniform(-6, 0), rng.uniform(0.5, 1.0)]))
    eta = x * 2 * c / lam1 * (1 - 1e-9)               # eta lambda_1 <= 2C, exactly
    T = int(rng.integers(0, 25))
    p0 = cl.init_params(d, c, (), out_scale=10.0 ** rng.uniform(-2, 1),
                        seed=int(rng.integers(1 << 30)))
    W0 = np.vstack([p0[0], p0[1][None, :]])
    with mpmath.workdps(40):
        rows = mp_tracking(Xa, y, c, W0, eta, T)
        lam_exact = max(mpmath.eigsy(mpmath.matrix((Xa.T @ Xa).tolist()) / n)[0])
        post = mpmath.mpf(0)
        prior = mpmath.mpf(0)
        for err, rem, quart, lemma in rows:
            assert err <= post + mpmath.mpf(10) ** -30
            assert post <= prior + mpmath.mpf(10) ** -30
            assert lemma <= 1
            post += eta * lam_exact * rem
            prior += eta * lam_exact * quart / 2
    ex = cl.twin_tracking(X, y, p0, lr=eta, steps=T)
    with mpmath.workdps(40):
        for t, (err, rem, quart, lemma) in enumerate(rows):
            pairs = ((ex.error[t], err), (ex.remainder[t], rem), (ex.quartic[t], quart))
            for ball, value in pairs:
                lo = mpmath.mpf(float(ball.lower()))
                hi = mpmath.mpf(float(ball.upper()))
                slack = mpmath.mpf(10) ** -30 + 4 * u * abs(value)   # float ends
                assert lo - slack <= value <= hi + slack


@pytest.mark.parametrize("T", [0, 3])
def test_logit_distance_against_mpmath(T):
    """TwinTracking.logit_distance encloses ||X_a (W_t − W^lin_t P)||_F, the twin iterated
    in mpmath (exact_twin) and the distance summed there."""
    rng = np.random.default_rng(T)
    X, y = data_set(rng, 6, 2, 3)
    Xa = np.hstack([X, np.ones((6, 1))])
    p0 = cl.init_params(2, 3, (), out_scale=0.5, seed=T)
    W0 = np.vstack([p0[0], p0[1][None, :]])
    eta = 0.3
    ex = cl.twin_tracking(X, y, p0, lr=eta, steps=T)
    weights = W0[None] + rng.standard_normal((T + 1, 3, 3)) * 0.1
    dist = ex.logit_distance(weights)
    assert dist.shape == (T + 1,)
    with mpmath.workdps(50):
        for t in range(T + 1):
            ref = exact_twin(Xa, np.eye(3)[y], W0, eta, t)
            diff = mpmath.matrix((weights[t] - ref).tolist())
            value = mpmath.sqrt(mpmath.fsum(x**2 for x in mpmath.matrix(Xa.tolist()) * diff))
            lo = mpmath.mpf(float(dist[t].lower()))
            hi = mpmath.mpf(float(dist[t].upper()))
            slack = mpmath.mpf(10) ** -40 + 4 * u * value                   # float ends
            assert lo - slack <= value <= hi + slack
            assert float(dist[t].rad()) <= 1e-30 * float(value)
    with pytest.raises(ValueError, match="finite"):
        ex.logit_distance(np.full((T + 1, 3, 3), np.nan))


@given(seeds)
@settings(max_examples=60)
def test_tracking_error_map_does_not_expand(seed):
    """E -> E − (η/C) K E P does not expand for ηλ_1 <= 2C, for any state E (any T)."""
    rng = np.random.default_rng(seed)
    n, c = int(rng.integers(1, 12)), int(rng.integers(2, 8))
    Xa = rng.standard_normal((n, int(rng.integers(1, 6)))) * 10.0 ** rng.uniform(-3, 3)
    K = Xa @ Xa.T / n
    lam1 = float(np.linalg.eigvalsh(K).max())
    assume(lam1 > 0)
    eta = rng.uniform(0, 1) * 2 * c / lam1
    E = rng.standard_normal((n, c)) * 10.0 ** rng.uniform(-6, 6)
    P = np.eye(c) - 1.0 / c
    with mpmath.workdps(40):
        Km, Em, Pm = (mpmath.matrix(A.tolist()) for A in (K, E, P))
        new = Em - Km * Em * Pm * (mpmath.mpf(eta) / c)
        norm = lambda A: mpmath.sqrt(mpmath.fsum(x**2 for x in A))
        assert norm(new) <= norm(Em) * (1 + mpmath.mpf(10) ** -30)


# ----------------------------------------------------------------------- one-copy lemma


@given(seeds, st.sampled_from([0, 1, 5, 40, 1000, 10**6]))
@settings(max_examples=30)
@example(seed=1, T=3)
def test_twin_cloud_in_one_copy(seed, T):
    """lem-beyond-one-copy: full D-mode spectrum (mpmath) = one copy + noise copies."""
    rng = np.random.default_rng(seed)
    da, c = int(rng.integers(1, 5)), int(rng.integers(2, 5))
    spread = 10.0 ** rng.uniform(0, 12)
    lam = np.exp(rng.uniform(-math.log(spread), 0, da)) * 10.0 ** rng.uniform(-3, 3)
    B = rng.standard_normal((da, c - 1)) * 10.0 ** rng.uniform(-3, 3)
    B[rng.random(da) < 0.3] = 0.0
    eta = float(rng.choice([10.0 ** rng.uniform(-6, 0), rng.uniform(1.0, 1.999)]))
    eta /= lam.max()
    s = float(rng.choice([0.0, 10.0 ** rng.uniform(-3, 2)]))
    tw = cl.LinearTwin(lam=np.repeat(lam, c - 1), b=B.ravel(), s=s, eta=eta,
                       V=np.eye(da), Q=cl.sum_zero_basis(c), w_star=np.zeros((da, c)),
                       sigma2=float(c))
    with mpmath.workdps(40):
        full = cloud.covariance(tw.lam, tw.b, s, eta, T, precision=40)
        mu = sorted(mpmath.eigsy(mpmath.matrix(full.tolist()))[0], reverse=True)
    trace = float(mpmath.fsum(full[i, i] for i in range(full.shape[0])))
    grid = cl.twin_spectra_grid(tw, [s], [T])[0, 0]
    # cloud's float64 accuracy (signal, noise) by Weyl, and the eigensolver allowance
    lam1, beta, s1 = cl.twin_one_copy(tw)
    noise = cloud.noise_variances(lam1, s1, eta, T)
    allow = u * (2 * (cloud.COV_ULP + cloud.SCALE_ULP) * float(np.sum(lam1 * beta**2))
                 + (cloud.TIME_ULP + cloud.SCALE_ULP) * float(noise.max())
                 + 4 * tw.lam.size * trace)
    assert np.all(np.abs(grid - np.array([float(x) for x in mu])) <= allow)
    enc, tr_ball = cl.twin_spectrum_enclosure(tw, T)
    slack = 1e-30 * trace
    assert all(lo - slack <= float(m) <= hi + slack
               for lo, m, hi in zip(enc.lo, mu, enc.hi))
    assert abs(float(tr_ball.mid()) - trace) <= 1e-12 * trace + 1e-300


# ------------------------------------------------------------------------------- units


def test_shapes_and_probabilities():
    X, y = toy(3)
    tr = cl.train(X, y, hidden=(8, 5), activation="relu", optimizer="adam", lr=0.01,
                  steps=30, out_scale=0.1, seed=7, record=[0, 5, 30])
    assert tr.probs.shape == (3, 40, 3) and tr.loss.shape == (3,)
    np.testing.assert_array_equal(tr.steps, [0, 5, 30])
    np.testing.assert_allclose(tr.probs.sum(axis=-1), 1.0, rtol=0, atol=1e-14)
    assert np.all(tr.probs > 0)
    assert [p.shape for p in tr.params] == [(5, 8), (8,), (8, 5), (5,), (5, 3), (3,)]
    assert tr.loss[-1] < tr.loss[0]
    np.testing.assert_allclose(tr.probs[-1], cl.predict_proba(tr.params, X, "relu"),
                               rtol=1e-12)
    full = cl.train(X, y, optimizer="gd", lr=0.1, steps=4, seed=0)
    assert full.probs.shape == (5, 40, 3)


def test_softmax_rows_sum_to_one_and_shift_invariance():
    f = np.random.default_rng(0).normal(0, 20, size=(6, 4)) + 17.0
    p = cl.softmax(f)
    assert np.all(p >= 0) and np.allclose(p.sum(axis=-1), 1.0, atol=1e-14)
    np.testing.assert_allclose(p, cl.softmax(f + 123.0), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("opt,batch",
                         [("gd", None), ("gd", 7), ("momentum", None), ("adam", 5)])
def test_determinism_given_seed(opt, batch):
    X, y = toy(4)
    kw = dict(hidden=(6,), optimizer=opt, lr=0.05, steps=12, batch_size=batch, seed=11,
              record=[0, 6, 12])
    a, b = cl.train(X, y, **kw), cl.train(X, y, **kw)
    np.testing.assert_array_equal(a.probs, b.probs)
    c = cl.train(X, y, **{**kw, "seed": 12})
    assert not np.array_equal(a.probs, c.probs)


def test_optimisers_against_hand_iteration():
    X, y = toy(5, n=20, d=3, c=2)
    p0 = cl.init_params(3, 2, (), out_scale=0.5, seed=2)
    lr, mom, T = 0.3, 0.8, 4
    tr = cl.train(X, y, optimizer="momentum", lr=lr, steps=T, momentum=mom, params0=p0,
                  record=[T])
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
        p = [a - lr * (mm / (1 - 0.9**t)) / (np.sqrt(ss / (1 - 0.999**t)) + 1e-8)
             for a, mm, ss in zip(p, m, s)]
    np.testing.assert_allclose(tr.probs[0], cl.predict_proba(p, X), rtol=1e-12)


def test_init_statistics_and_near_uniform_start():
    """Weights ~ N(0, g²/(fan-in + 1)): the sample variances in standard errors."""
    p = cl.init_params(200, 300, (400,), activation="relu", out_scale=0.01, seed=0)
    for w, var in ((p[0], 2 / 201), (p[2], 0.01**2 / 401)):
        z = (np.mean(w**2) - var) / (var * math.sqrt(2.0 / w.size))
        assert abs(z) <= check.z_limit(1e-6, 1)
    X, y = toy(6)
    tr = cl.train(X, y, lr=0.1, steps=1, out_scale=1e-4, seed=0, record=[0])
    np.testing.assert_allclose(tr.probs[0], 1 / 3, atol=1e-3)


def test_standardise():
    rng = np.random.default_rng(0)
    X = np.hstack([rng.normal(3, 2, (50, 3)), np.full((50, 1), 7.0),
                   rng.normal(0, 5, (50, 2)), rng.normal(1, 1e-3, (50, 1))])
    Z, keep = cl.standardise(X)
    np.testing.assert_array_equal(keep, [True, True, True, False, True, True, True])
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-13)
    np.testing.assert_allclose(np.trace(Z.T @ Z / 50), 6, rtol=1e-12)
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


def test_twin_one_copy_and_tracking_outputs():
    X, y = toy(13, n=20, d=2, c=3)
    tw = cl.linear_twin(X, y, lr=0.3, out_scale=0.2)
    lam, beta, s1 = cl.twin_one_copy(tw)
    np.testing.assert_array_equal(lam, tw.lam[::2])
    np.testing.assert_allclose(beta, np.linalg.norm(tw.b.reshape(3, 2), axis=1),
                               rtol=1e-15)
    assert abs(s1 - 0.2) <= 4 * u
    p0 = cl.init_params(2, 3, (), out_scale=0.2, seed=1)
    ex = cl.twin_tracking(X, y, p0, lr=0.3, steps=3)
    assert len(ex.twin_weights) == 4 and ex.error[0] == 0
    assert all(float(x.upper()) <= 1 for x in ex.lemma)
    with pytest.raises(ValueError, match="weights"):
        ex.logit_distance(np.zeros((2, 3, 3)))


def test_documented_defaults():
    """Each default of the signatures is the documented value: a call that omits it
    equals one that passes it."""
    X, y = toy(14, n=12, d=16, c=3)
    ex = dict(hidden=(), activation="tanh", batch_size=None, weight_decay=0.0,
              momentum=0.9, betas=(0.9, 0.999), out_scale=1.0, seed=0, record=None)
    for opt in ("gd", "momentum", "adam"):
        a = cl.train(X, y, optimizer=opt, lr=0.05, steps=3)
        b = cl.train(X, y, optimizer=opt, lr=0.05, steps=3, **ex)
        np.testing.assert_array_equal(a.probs, b.probs)
    a = cl.train(X, y, lr=0.05, steps=2)
    np.testing.assert_array_equal(a.probs, cl.train(X, y, optimizer="gd", lr=0.05,
                                                    steps=2, **ex).probs)
    ex_c = {k: v for k, v in ex.items() if k not in ("hidden", "activation")}
    for opt in ("gd", "momentum", "adam"):
        a = cl.train_conv(X, y, (4, 4), channels=(1,), optimizer=opt, lr=0.05, steps=2)
        b = cl.train_conv(X, y, (4, 4), channels=(1,), activation="relu", optimizer=opt,
                          lr=0.05, steps=2, **ex_c)
        np.testing.assert_array_equal(a.probs, b.probs)
    p = cl.init_params(16, 3, (2,))
    for q, r in zip(p, cl.init_params(16, 3, (2,), activation="tanh", out_scale=1.0,
                                       seed=0)):
        np.testing.assert_array_equal(q, r)
    pc = cl.init_conv_params((4, 4), 3, (1,))
    for q, r in zip(pc, cl.init_conv_params((4, 4), 3, (1,), activation="relu",
                                            out_scale=1.0, seed=0)):
        np.testing.assert_array_equal(q, r)
    assert cl.loss_and_grad(p, X, y)[0] == cl.loss_and_grad(
        p, X, y, activation="tanh", weight_decay=0.0)[0]
    np.testing.assert_array_equal(cl.logits(p, X), cl.logits(p, X, "tanh"))
    np.testing.assert_array_equal(cl.conv_logits(pc, X, (4, 4)),
                                  cl.conv_logits(pc, X, (4, 4), "relu"))
    assert cl.conv_loss_and_grad(pc, X, y, (4, 4))[0] == cl.conv_loss_and_grad(
        pc, X, y, (4, 4), activation="relu", weight_decay=0.0)[0]
    for q, r in zip(cl.gradient_error_bound(p, X, y), cl.gradient_error_bound(
            p, X, y, activation="tanh", weight_decay=0.0)):
        np.testing.assert_array_equal(q, r)
    v = [np.ones_like(q) for q in p]
    assert cl.central_difference(p, X[:3], y[:3], v) == cl.central_difference(
        p, X[:3], y[:3], v, activation="tanh", weight_decay=0.0, step=2.0**-40, bits=256)


def test_schedule_edges():
    """batch_size 1 and N, betas as a list, a single recorded step are accepted; the
    edges just outside are refused."""
    X, y = toy(15, n=12, d=3, c=3)
    for B in (1, 12):
        tr = cl.train(X, y, lr=0.1, steps=2, batch_size=B, seed=1)
        assert np.all(np.isfinite(tr.probs))
    cl.train(X, y, optimizer="adam", lr=0.1, steps=2, betas=[0.0, 0.0])
    assert cl.train(X, y, lr=0.1, steps=3, record=[2]).probs.shape == (1, 12, 3)
    mlp = cl.init_params(3, 3, (5,), seed=2)
    tr = cl.train(X, y, hidden=(5,), lr=0.1, steps=1, params0=mlp, record=[0])
    np.testing.assert_allclose(tr.probs[0], cl.predict_proba(mlp, X), rtol=1e-14)
    with pytest.raises(ValueError, match="params0"):
        cl.train(X, y, lr=0.1, steps=1, params0=cl.init_params(3, 4, (3,), seed=2))
    for B in (0, 13):
        with pytest.raises(ValueError, match="batch_size"):
            cl.train(X, y, lr=0.1, steps=2, batch_size=B)
    for betas, match in ((np.array([0.9, 0.999]), "betas"), ((0.9,), "betas"),
                         ((1.0, 0.5), r"betas\[0\]"), ((0.5, 1.0), r"betas\[1\]"),
                         ((-0.1, 0.5), r"betas\[0\]"), ((0.5, 1.5), r"betas\[1\]")):
        with pytest.raises(ValueError, match=match):
            cl.train(X, y, optimizer="adam", lr=0.1, steps=2, betas=betas)
    for rec in ([], [[0, 1]], [0.0, 1.0], [-1, 1], [2, 1]):
        with pytest.raises(ValueError, match="record"):
            cl.train(X, y, lr=0.1, steps=3, record=rec)


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
    params = cl.init_params(5, 3, seed=0)
    with pytest.raises(ValueError, match="weight_decay"):
        cl.gradient_error_bound(params, X, y, weight_decay=-1.0)
    with pytest.raises(ValueError, match="activation"):
        cl.gradient_error_bound(params, X, y, activation="sigmoid")
    with pytest.raises(ValueError, match="direction"):
        cl.central_difference(params, X, y, [np.ones((5, 3))])
    with pytest.raises(ValueError, match="direction"):
        cl.central_difference(params, X, y, [np.ones((5, 2)), np.ones(3)])
    with pytest.raises(ValueError, match="step"):
        cl.central_difference(params, X, y, [np.ones((5, 3)), np.ones(3)], step=0.0)
    with pytest.raises(ValueError, match="bits"):
        cl.central_difference(params, X, y, [np.ones((5, 3)), np.ones(3)], bits=16)
    tw = cl.linear_twin(X, y, lr=0.1, out_scale=0.1)
    with pytest.raises(ValueError, match="twin"):
        cl.twin_closed_form("twin", X, y, params, 3)
    with pytest.raises(ValueError, match="X and labels"):
        cl.twin_closed_form(tw, X[:, :4], y, params, 3)
    with pytest.raises(ValueError, match="params0"):
        cl.twin_closed_form(tw, X, y, cl.init_params(5, 3, (2,), seed=0), 3)
    with pytest.raises(ValueError, match="steps"):
        cl.twin_closed_form(tw, X, y, params, -1)
    with pytest.raises(ValueError, match="params0"):
        cl.twin_tracking(X, y, cl.init_params(5, 3, (2,), seed=0), lr=0.1, steps=2)
    with pytest.raises(ValueError, match="lr"):
        cl.twin_tracking(X, y, params, lr=-0.1, steps=2)
    with pytest.raises(ValueError, match="bits"):
        cl.twin_tracking(X, y, params, lr=0.1, steps=2, bits=8)
    with pytest.raises(ValueError, match="twin"):
        cl.twin_one_copy(None)
    with pytest.raises(ValueError, match="s_values"):
        cl.twin_spectra_grid(tw, [-1.0], [3])
    with pytest.raises(ValueError, match="steps"):
        cl.twin_spectra_grid(tw, [0.1], [1.5])
    with pytest.raises(ValueError, match="steps"):
        cl.twin_spectrum_enclosure(tw, -2)


# ------------------------------------------------------- small convolutional networks


def mp_conv_loss(params, X, y, H, W, act, wd):
    """The loss of a convolutional network from its definition: loops in mpmath."""
    L = len(params) // 2 - 1
    n = X.shape[0]
    phi = (lambda z: mpmath.tanh(z)) if act == "tanh" else (lambda z: max(z, 0))
    total = mpmath.mpf(0)
    for i in range(n):
        img = [[[mpmath.mpf(X[i, r * W + c])] for c in range(W)] for r in range(H)]
        h, w_, ch = H, W, 1
        for l in range(L):
            K, b = params[2 * l], params[2 * l + 1]
            out_ch = K.shape[1]
            act_map = [[[None] * out_ch for _ in range(w_)] for _ in range(h)]
            for r in range(h):
                for c in range(w_):
                    for o in range(out_ch):
                        z = mpmath.mpf(b[o])
                        for k, (di, dj) in enumerate((a, b_) for a in range(3)
                                                     for b_ in range(3)):
                            rr, cc = r + di - 1, c + dj - 1
                            if 0 <= rr < h and 0 <= cc < w_:
                                for q in range(ch):
                                    z += mpmath.mpf(K[k * ch + q, o]) * img[rr][cc][q]
                        act_map[r][c][o] = phi(z)
            img = [[[sum(act_map[2 * r + a][2 * c + b_][o] for a in (0, 1)
                         for b_ in (0, 1)) / 4 for o in range(out_ch)]
                    for c in range(w_ // 2)] for r in range(h // 2)]
            h, w_, ch = h // 2, w_ // 2, out_ch
        feats = [img[r][c][o] for r in range(h) for c in range(w_) for o in range(ch)]
        Wo, bo = params[-2], params[-1]
        f = [mpmath.mpf(bo[k]) + mpmath.fsum(mpmath.mpf(Wo[j, k]) * feats[j]
                                             for j in range(len(feats)))
             for k in range(Wo.shape[1])]
        m = max(f)
        lse = m + mpmath.log(mpmath.fsum(mpmath.exp(x - m) for x in f))
        total += lse - f[int(y[i])]
    loss = total / n
    for l in range(0, len(params), 2):
        loss += mpmath.mpf(wd) / 2 * mpmath.fsum(mpmath.mpf(x) ** 2
                                                 for x in params[l].ravel())
    return loss


@pytest.mark.parametrize("channels,act,shape", [
    ((2,), "relu", (4, 4)), ((2,), "tanh", (4, 4)), ((2, 3), "relu", (4, 4)),
    ((2, 3), "tanh", (4, 4)), ((2,), "tanh", (2, 6)), ((2, 1), "relu", (8, 4))])
def test_conv_network_against_its_definition(channels, act, shape):
    """Logits, loss and directional derivatives against loops in mpmath (40 digits),
    on square and on non-square images (height and width kept apart)."""
    rng = np.random.default_rng(len(channels) * 10 + len(act))
    H, W = shape
    X = rng.standard_normal((3, H * W))
    y = np.array([0, 2, 1])
    p = cl.init_conv_params((H, W), 3, channels, activation=act, out_scale=1.5, seed=4)
    wd = 0.03
    loss, grads = cl.conv_loss_and_grad(p, X, y, (H, W), activation=act,
                                        weight_decay=wd)
    with mpmath.workdps(40):
        ref = mp_conv_loss(p, X, y, H, W, act, wd)
        assert abs(loss - ref) <= 1e-13 * abs(ref)
        for _ in range(2):
            v = [rng.standard_normal(q.shape) for q in p]
            h = mpmath.mpf(10) ** -15
            shifted = lambda sgn: [np.array([mpmath.mpf(a) + sgn * h * mpmath.mpf(b)
                                             for a, b in zip(q.ravel(), w.ravel())],
                                            dtype=object).reshape(q.shape)
                                   for q, w in zip(p, v)]
            fd = (mp_conv_loss(shifted(1), X, y, H, W, act, wd)
                  - mp_conv_loss(shifted(-1), X, y, H, W, act, wd)) / (2 * h)
            bp = sum(float(np.sum(g * w)) for g, w in zip(grads, v))
            scale = sum(float(np.sum(np.abs(g * w))) for g, w in zip(grads, v))
            assert abs(bp - fd) <= 1e-12 * scale
    f = cl.conv_logits(p, X, (H, W), act)
    assert f.shape == (3, 3)


def test_conv_patches_and_pooling_adjoints():
    rng = np.random.default_rng(2)
    h = rng.standard_normal((3, 4, 6, 2))
    g = rng.standard_normal((3, 4, 6, 18))
    lhs = np.sum(cl._patches(h) * g)
    rhs = np.sum(h * cl._patches_adjoint(g, 2))
    assert abs(lhs - rhs) <= 1e-12 * np.sum(np.abs(g))
    q = rng.standard_normal((3, 2, 3, 2))
    assert abs(np.sum(cl._pool(h) * q) - np.sum(h * cl._pool_adjoint(q))) <= 1e-13


def test_train_conv_against_hand_iteration():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((20, 16))
    y = np.arange(20) % 3
    tr = cl.train_conv(X, y, (4, 4), channels=(2,), activation="tanh", lr=0.2, steps=5,
                       weight_decay=0.01, out_scale=0.5, seed=9, record=[0, 5])
    init_seq, _ = np.random.SeedSequence(9).spawn(2)
    p = cl.init_conv_params((4, 4), 3, (2,), activation="tanh", out_scale=0.5,
                            seed=init_seq)
    for _ in range(5):
        _, g = cl.conv_loss_and_grad(p, X, y, (4, 4), activation="tanh",
                                     weight_decay=0.01)
        p = [a - 0.2 * b for a, b in zip(p, g)]
    f = cl.conv_logits(p, X, (4, 4), "tanh")
    np.testing.assert_allclose(tr.probs[-1], cl.softmax(f), rtol=1e-12)
    assert tr.loss[-1] < tr.loss[0]
    kw = dict(channels=(2, 2), lr=0.05, steps=6, batch_size=5, optimizer="adam", seed=3,
              record=[0, 6])
    a, b = cl.train_conv(X, y, (4, 4), **kw), cl.train_conv(X, y, (4, 4), **kw)
    np.testing.assert_array_equal(a.probs, b.probs)


def test_conv_validation_errors():
    X = np.zeros((4, 16))
    y = np.arange(4) % 2
    with pytest.raises(ValueError, match="divisible"):
        cl.init_conv_params((4, 6), 2, (2, 2))
    with pytest.raises(ValueError, match="channels"):
        cl.init_conv_params((4, 4), 2, ())
    with pytest.raises(ValueError, match="columns"):
        cl.train_conv(np.zeros((4, 15)), y, (4, 4), channels=(2,), lr=0.1, steps=1)
    with pytest.raises(ValueError, match="image_shape"):
        cl.conv_logits(cl.init_conv_params((4, 4), 2, (2,)), X, (4,))
    with pytest.raises(ValueError, match="convolutional layer 1"):
        cl.conv_logits([np.zeros((8, 2)), np.zeros(2), np.zeros((8, 2)), np.zeros(2)],
                       X, (4, 4))
    with pytest.raises(ValueError, match="output layer"):
        cl.conv_logits([np.zeros((9, 2)), np.zeros(2), np.zeros((7, 2)), np.zeros(2)],
                       X, (4, 4))
    with pytest.raises(ValueError, match="outputs"):
        cl.conv_loss_and_grad(cl.init_conv_params((4, 4), 2, (2,)), X, np.arange(4) % 3,
                              (4, 4))


@pytest.mark.parametrize("act,gain2", [("tanh", 1.0), ("relu", 2.0)])
def test_init_conv_statistics(act, gain2):
    """Kernels, biases and output weights ~ N(0, g²/(fan_in + 1)) as documented: hidden
    g² = 1 (tanh) or 2 (ReLU), fan-in 9 ch_{l-1}; output g = out_scale, fan-in
    ch_L h_L w_L. The mean squares of each layer in standard errors of a Gaussian
    sample (z-scores, union bound over the layers)."""
    p = cl.init_conv_params((8, 4), 3, (200, 40), activation=act, out_scale=0.3,
                            seed=11)
    layers = ((np.concatenate([p[0].ravel(), p[1]]), gain2 / 10),
              (np.concatenate([p[2].ravel(), p[3]]), gain2 / 1801),
              (np.concatenate([p[4].ravel(), p[5]]), 0.09 / (40 * 2 * 1 + 1)))
    for w, var in layers:
        z = (np.mean(w**2) - var) / (var * math.sqrt(2.0 / w.size))
        assert abs(z) <= check.z_limit(1e-6, len(layers)), (act, var, z)


def test_tracking_loss_against_mpmath():
    """TwinTracking.loss encloses the mean cross-entropy of the real run, softmax
    gradient descent iterated in mpmath (50 digits) from the same weights, with labels
    of every class (the log-sum-exp minus the logit of the sample's own label)."""
    rng = np.random.default_rng(21)
    X, y = data_set(rng, 7, 2, 3)
    Xa = np.hstack([X, np.ones((7, 1))])
    p0 = cl.init_params(2, 3, (), out_scale=2.0, seed=3)
    eta, T = 0.05, 3
    ex = cl.twin_tracking(X, y, p0, lr=eta, steps=T)
    with mpmath.workdps(50):
        Xm = mpmath.matrix(Xa.tolist())
        W = mpmath.matrix(np.vstack([p0[0], p0[1][None, :]]).tolist())
        for t in range(T + 1):
            F = Xm * W
            probs = mpmath.zeros(7, 3)
            total = mpmath.mpf(0)
            for i in range(7):
                f = [F[i, c] for c in range(3)]
                lse = mpmath.log(mpmath.fsum(mpmath.exp(x) for x in f))
                total += lse - f[int(y[i])]
                for c, q in enumerate(mp_softmax(f)):
                    probs[i, c] = q - (c == y[i])
            loss = total / 7
            lo = mpmath.mpf(float(ex.loss[t].lower()))
            hi = mpmath.mpf(float(ex.loss[t].upper()))
            slack = 4 * u * abs(loss)                                  # float ends
            assert lo - slack <= loss <= hi + slack, (t, loss, ex.loss[t])
            W = W - Xm.T * probs * (mpmath.mpf(eta) / 7)


@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_linear_twin_refuses_a_singular_covariance_at_any_scale(scale):
    """``Σ`` singular to round-off (relative to ``λ_1``) is refused at every scale.

    Two input columns differ by ``1e-7`` times noise, so the smallest eigenvalue of
    ``Σ`` is about ``1e-15 λ_1`` (checked here), below the documented round-off level
    ``1e3 eps λ_1 max(N, d + 1)``. At scale ``1e4`` it is still about ``1e-7`` in
    absolute terms: only a test relative to ``λ_1`` sees that it is round-off.
    """
    from ribbonlib.spectra import of_data

    rng = np.random.default_rng(3)
    x = rng.standard_normal((40, 1))
    x2 = x + 1e-7 * rng.standard_normal((40, 1))
    X = scale * np.hstack([x, x2, rng.standard_normal((40, 1))])
    lam = of_data(np.hstack([X, np.ones((40, 1))]))[0]
    assert 0 < lam[-1] < 1e3 * np.finfo(float).eps * lam[0] * 40
    assert lam[-1] > 1e-12 * (scale / 1e4) ** 2
    with pytest.raises(ValueError, match="full column rank"):
        cl.linear_twin(X, rng.integers(0, 3, 40), lr=1e-9, out_scale=1.0)
