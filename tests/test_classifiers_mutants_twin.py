"""ribbonlib.classifiers: twin_closed_form and twin_tracking, property by property.

Every column of :class:`ribbonlib.classifiers.TwinTracking` is checked against the
exact softmax gradient descent and its twin iterated in mpmath at 50 digits (code that
shares nothing with :func:`twin_tracking`): every ball must contain the exact value.
The validation of both functions is checked at the boundaries of their documented
domains (``lr > 0``, ``bits >= 64``, ``params0`` a softmax-linear model with ``C``
outputs, the documented default ``bits = 128``).
"""

from __future__ import annotations

import dataclasses

import mpmath
import numpy as np
import pytest
from flint import ctx

from ribbonlib import classifiers as cl

u = 2.0**-53


def mp_columns(Xa, y, C, W0, eta, T):
    """Every column of TwinTracking, from the exact runs iterated in mpmath.

    Parameters
    ----------
    Xa : numpy.ndarray, shape (N, d_a)
        Inputs with the constant column appended.
    y : numpy.ndarray of int, shape (N,)
        Labels.
    C : int
        Number of classes.
    W0 : numpy.ndarray, shape (d_a, C)
        Initial weights (bias as the last row).
    eta : float
        Learning rate.
    T : int
        Number of steps.

    Returns
    -------
    dict of str to list of mpmath.mpf
        ``error``, ``remainder``, ``quartic``, ``lemma``, ``displacement``, ``rms`` and
        ``loss``, one value per step ``t = 0..T``, with the definitions of the
        attributes of :class:`TwinTracking` (the lemma's ratio is 0 for a sample with
        ``P f = 0``, where the remainder vanishes too).
    """
    N = Xa.shape[0]
    X = mpmath.matrix(Xa.tolist())
    Y = mpmath.matrix(np.eye(C)[y].tolist())
    P = mpmath.matrix(C, C)
    for i in range(C):
        for j in range(C):
            P[i, j] = (1 if i == j else 0) - mpmath.mpf(1) / C
    W = mpmath.matrix(W0.tolist())
    Wl = mpmath.matrix(W0.tolist())
    F0 = X * W * P
    cols = {k: [] for k in ("error", "remainder", "quartic", "lemma", "displacement",
                            "rms", "loss")}
    for _ in range(T + 1):
        F, Fl = X * W, X * Wl
        probs = mpmath.zeros(N, C)
        rem2 = quart = sq = loss = lemma = mpmath.mpf(0)
        for i in range(N):
            f = [F[i, c] for c in range(C)]
            m = max(f)
            e = [mpmath.exp(x - m) for x in f]
            s = mpmath.fsum(e)
            p = [x / s for x in e]
            mean = mpmath.fsum(f) / C
            pf = [x - mean for x in f]
            r2 = mpmath.fsum((a - mpmath.mpf(1) / C - b / C) ** 2 for a, b in zip(p, pf))
            q2 = mpmath.fsum(b * b for b in pf)
            rem2 += r2
            quart += q2 * q2
            sq += q2
            loss += m + mpmath.log(s) - f[int(y[i])]
            if q2 > 0:
                lemma = max(lemma, mpmath.sqrt(r2) / (q2 / 2))
            for c in range(C):
                probs[i, c] = p[c]
        cols["error"].append(mpmath.sqrt(mpmath.fsum(x**2 for x in (F - Fl) * P)))
        cols["displacement"].append(mpmath.sqrt(mpmath.fsum(x**2 for x in F * P - F0)))
        cols["remainder"].append(mpmath.sqrt(rem2))
        cols["quartic"].append(mpmath.sqrt(quart))
        cols["rms"].append(mpmath.sqrt(sq / N))
        cols["loss"].append(loss / N)
        cols["lemma"].append(lemma)
        W = W - X.T * (probs - Y) * (mpmath.mpf(eta) / N)
        Wl = Wl - X.T * (mpmath.ones(N, C) / C + Fl * P / C - Y) * (mpmath.mpf(eta) / N)
    return cols


def contains(ball, value) -> bool:
    """Whether the arb ``ball`` contains the mpmath number ``value``.

    The ball's ends are taken at 256 bits and read as 60-digit decimals, so no float64
    rounding enters the comparison.
    """
    with ctx.workprec(256):
        lo = mpmath.mpf(ball.lower().str(60, radius=False))
        hi = mpmath.mpf(ball.upper().str(60, radius=False))
    slack = mpmath.mpf(10) ** -45 * (1 + abs(value))      # the 60-digit decimal ends
    return lo - slack <= value <= hi + slack


def problem(seed: int, n: int = 5, d: int = 2, c: int = 3, scale: float = 0.7):
    """A small problem: inputs, labels using every class, a softmax-linear start."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.permutation(np.arange(n) % c)
    p0 = cl.init_params(d, c, (), out_scale=scale, seed=seed)
    return X, y, p0


@pytest.mark.parametrize("seed", [0, 1])
def test_tracking_columns_contain_the_mpmath_runs(seed):
    """Every column of TwinTracking (error, remainder, quartic, lemma, displacement,
    rms, loss) and ``lam1`` contains the exact value, computed from the definitions in
    the TwinTracking docstring on runs iterated in mpmath at 50 digits (an independent
    implementation). The balls are exact enclosures, so the only tolerance is the
    decimal reading of their ends (1e-45 relative, far below the 128-bit radius)."""
    X, y, p0 = problem(seed)
    n, c = X.shape[0], 3
    Xa = np.hstack([X, np.ones((n, 1))])
    W0 = np.vstack([p0[0], p0[1][None, :]])
    T, eta = 3, 0.4
    ex = cl.twin_tracking(X, y, p0, lr=eta, steps=T)
    with mpmath.workdps(50):
        ref = mp_columns(Xa, y, c, W0, eta, T)
        for key, values in ref.items():
            col = getattr(ex, key)
            assert col.shape == (T + 1,)
            for t, value in enumerate(values):
                assert contains(col[t], value), (key, t)
        lam = max(mpmath.eigsy(mpmath.matrix((Xa.T @ Xa).tolist()) / n)[0])
        assert contains(ex.lam1, lam)


def test_tracking_lemma_is_zero_for_zero_logits():
    """From ``W_0 = 0`` every centred logit vector vanishes at ``t = 0`` and so does
    the remainder: the lemma's ratio is 0 there (TwinTracking.lemma is the maximum of
    the ratios, and ``R(f) = 0`` when ``P f = 0``), and the run must not be reported as
    diverging. ``C = 2`` makes ``1/C`` exact, so the balls are exact zeros."""
    X, y, _ = problem(3, c=2)
    p0 = [np.zeros((2, 2)), np.zeros(2)]
    ex = cl.twin_tracking(X, y, p0, lr=0.5, steps=2)
    assert ex.lemma[0].is_zero()
    assert ex.displacement[0].is_zero()
    with mpmath.workdps(50):
        Xa = np.hstack([X, np.ones((X.shape[0], 1))])
        ref = mp_columns(Xa, y, 2, np.zeros((3, 2)), 0.5, 2)
        for t in range(3):
            assert contains(ex.lemma[t], ref["lemma"][t])


def test_tracking_default_precision_is_128_bits():
    """The signature documents ``bits = 128``: the default run is, ball for ball (mid
    and radius), the run with ``bits=128``. Another working precision gives other
    radii, so this pins the documented default exactly; no tolerance is involved."""
    X, y, p0 = problem(4)
    a = cl.twin_tracking(X, y, p0, lr=0.3, steps=2)
    b = cl.twin_tracking(X, y, p0, lr=0.3, steps=2, bits=128)
    for key in ("error", "remainder", "loss", "rms"):
        for s, t in zip(getattr(a, key), getattr(b, key)):
            assert s.mid() == t.mid() and s.rad() == t.rad()


def test_tracking_domain_boundaries():
    """``bits = 64`` is the lowest documented precision and must be accepted (and still
    enclose the exact loss); ``lr = 0`` lies outside ``lr > 0`` and must be refused."""
    X, y, p0 = problem(5)
    ex = cl.twin_tracking(X, y, p0, lr=0.3, steps=1, bits=64)
    Xa = np.hstack([X, np.ones((X.shape[0], 1))])
    W0 = np.vstack([p0[0], p0[1][None, :]])
    with mpmath.workdps(50):
        ref = mp_columns(Xa, y, 3, W0, 0.3, 1)
        for t in range(2):
            assert contains(ex.loss[t], ref["loss"][t])
    with pytest.raises(ValueError):
        cl.twin_tracking(X, y, p0, lr=0.0, steps=1)
    with pytest.raises(ValueError):
        cl.twin_tracking(X, y, p0, lr=0.3, steps=1, bits=63)


def test_params0_must_be_softmax_linear_even_with_c_hidden_units():
    """A network with one hidden layer of exactly ``C`` units is not a softmax-linear
    model: both functions must refuse it (the guard must not hinge on the width of the
    second array, which here is ``C`` like a bias of a linear model)."""
    X, y, _ = problem(6, n=6)
    mlp = cl.init_params(2, 3, (3,), seed=0)
    with pytest.raises(ValueError, match="softmax-linear"):
        cl.twin_tracking(X, y, mlp, lr=0.3, steps=1)
    tw = cl.linear_twin(X, y, lr=0.3, out_scale=0.5)
    with pytest.raises(ValueError, match="softmax-linear"):
        cl.twin_closed_form(tw, X, y, mlp, 1)


def test_tracking_lemma_with_equal_logits_is_zero():
    """Regression: from weights whose columns are equal (``C = 2``), every logit vector
    is constant, so ``P f = 0`` exactly and ``R(f) = 0``: the lemma's ratio counts 0
    (TwinTracking.lemma) and the run is not reported as diverging. The ball of
    ``||R||²`` is not an exact zero there (``exp`` is rounded), which used to make the
    ratio an infinite ball and raise. Compared with the mpmath runs (exact enclosures,
    no tolerance beyond the decimal reading of the ball ends)."""
    X, y, _ = problem(7, n=4, c=2)
    W = np.array([[0.3, 0.3], [-0.2, -0.2]])
    b = np.array([0.1, 0.1])
    ex = cl.twin_tracking(X, y, [W, b], lr=0.5, steps=2)
    assert ex.lemma[0].is_zero()
    with mpmath.workdps(50):
        Xa = np.hstack([X, np.ones((4, 1))])
        ref = mp_columns(Xa, y, 2, np.vstack([W, b[None, :]]), 0.5, 2)
        for key, values in ref.items():
            for t, value in enumerate(values):
                assert contains(getattr(ex, key)[t], value), (key, t)


def mp_twin(Xa, y, C, W0, lr, T):
    """``W_t P``, t = 0..T, of the exact linearised update iterated in mpmath.

    ``W_{t+1} P = W_t P − (η/C)(Σ_a W_t P P − X_aᵀ C (Y − 1/C)/N)`` with the exact
    ``η/C`` (``lr`` read exactly, divided by ``C`` in mpmath) and the exact ``Σ_a``.
    """
    N = Xa.shape[0]
    X = mpmath.matrix(Xa.tolist())
    G = X.T * (mpmath.matrix(np.eye(C)[y].tolist()) - mpmath.ones(N, C) / C) / N
    S = X.T * X / N
    P = mpmath.eye(C) - mpmath.ones(C, C) / C
    step = mpmath.mpf(lr) / C
    Z = mpmath.matrix(W0.tolist()) * P
    out = [Z]
    for _ in range(T):
        Z = Z - step * (S * Z * P - C * G)
        out.append(Z)
    return out


@pytest.mark.parametrize("seed", range(4))
def test_twin_closed_form_bound_holds_for_a_perturbed_basis(seed):
    """The bound of twin_closed_form measures the departure of ``V`` and ``Q`` from
    orthonormality (its docstring): for a twin whose ``V`` is scaled by ``1 + ε``,
    whose ``Q`` is, or both are moved by ``ε`` times a Gaussian matrix (``ε`` = 1e-6
    and 1e-3), ``bound[t] >= ||X_a (Ŵ_t − W_t P)||_F`` at every step, ``W_t P`` the exact
    twin iterated in mpmath at 40 digits. The error is then of size ``ε``, far above
    the round-off, so the measured terms must carry it on their own (no tolerance:
    the bound is an upper bound, the distance is exact to 40 digits)."""
    rng = np.random.default_rng(seed)
    N, d, C, T = 7, 2, 3, 4
    X = rng.standard_normal((N, d))
    y = rng.permutation(np.arange(N) % C)
    lr = 0.8 * C / cl.linear_twin(X, y, lr=1e-9, out_scale=0.0).lam.max()
    tw = cl.linear_twin(X, y, lr=lr, out_scale=1.0)
    p0 = cl.init_params(d, C, (), out_scale=1.0, seed=seed)
    Xa = np.hstack([X, np.ones((N, 1))])
    W0 = np.vstack([p0[0], p0[1][None, :]])
    with mpmath.workdps(40):
        ref = mp_twin(Xa, y, C, W0, lr, T)
        Xm = mpmath.matrix(Xa.tolist())
        for eps in (1e-6, 1e-3):
            E = rng.standard_normal(tw.V.shape)
            F = rng.standard_normal(tw.Q.shape)
            for V, Q in ((tw.V * (1 + eps), tw.Q), (tw.V, tw.Q * (1 + eps)),
                         (tw.V + eps * E, tw.Q + eps * F)):
                W, bound = cl.twin_closed_form(dataclasses.replace(tw, V=V, Q=Q),
                                               X, y, p0, T)
                for t in range(T + 1):
                    D = Xm * (mpmath.matrix(W[t].tolist()) - ref[t])
                    dist = mpmath.sqrt(mpmath.fsum(x**2 for x in D))
                    assert dist <= bound[t], (eps, t, float(dist), bound[t])


@pytest.mark.parametrize("seed, moved", [(0, False), (1, False), (2, True)])
def test_twin_closed_form_initial_bound_for_a_scaled_basis(seed, moved):
    """The docstring states the bound at ``t = 0``: ``sqrt(N λ_1)((ω + ω_Q)(1 + ω)||W_0||
    + ω_Q (1 + ω)(1 + ω_Q)||c_0||)`` up to terms of order ``u``. With ``V`` scaled by
    ``1 + 10^-3`` and ``Q`` by ``1 + 2·10^-3`` (exact eigenvectors otherwise, so the
    residual of the eigenpairs stays of order ``u``), ``ω`` and ``ω_Q`` are about
    ``10^-3`` and the stated value is evaluated in mpmath at 40 digits from the float
    ``V``, ``Q``, ``W_0`` and the exact ``λ_1``. The order-``u`` terms are at most
    ``(N + d_a + C)² u`` times the magnitudes ``||W_0||``, ``||c_0||`` (the products of
    lengths ``N``, ``d_a`` and ``C``), i.e. below ``10^-9`` relative to a bound of size
    ``10^-3 ||W_0||``: that is the tolerance, while a term of second order in ``ω``
    dropped or doubled moves the bound by ``10^-3`` relative. With ``moved``, ``V`` is
    also moved by ``10^-4`` times a Gaussian matrix, so that the residual
    ``||Σ_a V − V diag(λ)||_F`` in ``λ_1`` is of order ``10^-4`` too."""
    rng = np.random.default_rng(seed)
    N, d, C = 7, 2, 3
    X = rng.standard_normal((N, d))
    y = rng.permutation(np.arange(N) % C)
    tw = cl.linear_twin(X, y, lr=0.5, out_scale=1.0)
    V, Q = tw.V * (1 + 1e-3), tw.Q * (1 + 2e-3)
    if moved:
        V = V + 1e-4 * rng.standard_normal(V.shape)
    p0 = cl.init_params(d, C, (), out_scale=1.0, seed=seed)
    _, bound = cl.twin_closed_form(dataclasses.replace(tw, V=V, Q=Q), X, y, p0, 0)
    Xa = np.hstack([X, np.ones((N, 1))])
    W0 = np.vstack([p0[0], p0[1][None, :]])
    with mpmath.workdps(40):
        Vm, Qm, Wm = (mpmath.matrix(A.tolist()) for A in (V, Q, W0))

        def fro(A):
            return mpmath.sqrt(mpmath.fsum(x**2 for x in A))

        om = fro(Vm.T * Vm - mpmath.eye(d + 1))
        om_q = fro(Qm * Qm.T - mpmath.eye(C) + mpmath.ones(C, C) / C)
        lam = tw.lam.reshape(d + 1, C - 1)[:, 0]
        res = fro(mpmath.matrix((Xa.T @ Xa).tolist()) / N * Vm
                  - Vm * mpmath.diag([mpmath.mpf(x) for x in lam]))
        lam1 = mpmath.mpf(float(lam.max())) + res
        stated = mpmath.sqrt(N * lam1) * ((om + om_q) * (1 + om) * fro(Wm)
                                          + om_q * (1 + om) * (1 + om_q)
                                          * fro(Vm.T * Wm * Qm))
        assert abs(bound[0] - stated) <= 1e-9 * stated, (bound[0], float(stated))
