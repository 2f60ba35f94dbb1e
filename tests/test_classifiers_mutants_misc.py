"""ribbonlib.classifiers: the documented domains, shapes and distributions of the helpers.

Tests of properties that the chapter-8 domain tests of ``test_classifiers.py`` do not
reach: the boundaries of the accepted domains (softmax over one class, standardising
two samples or one feature, the smallest working precision of
:func:`central_difference`, a zero learning rate), the refusals of malformed inputs
(a network without a convolutional layer, a one-class output layer, negative, infinite,
fractional or 2-D scales and horizons), the documented output shape of
:func:`twin_spectra_grid`, the initial distribution of :func:`init_conv_params` on
samples large enough to resolve the fan-in ``+ 1``, the ReLU refusal of an exact zero
pre-activation, the mini-batch sampler of :func:`train` (a batch of all ``N``
samples is a permutation of the data, so one step equals the full-batch step within the
round-off bound of the gradient), the refusals of malformed dense parameters, the hidden
gains of :func:`init_params`, the singularity and learning-rate thresholds of
:func:`linear_twin`, the recording limit and the evaluation cost of :func:`train`, and
the error of :func:`central_difference` relative to the size of the losses it
differences.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from ribbonlib import check
from ribbonlib import classifiers as cl

u = 2.0**-53


def toy(seed: int = 0, n: int = 12, d: int = 3, c: int = 3):
    """A random classification problem.

    Parameters
    ----------
    seed : int
        Seed of the NumPy generator.
    n, d, c : int
        Samples, features and classes.

    Returns
    -------
    X : numpy.ndarray, shape (n, d)
    y : numpy.ndarray of int, shape (n,)
        Every class ``0..c-1`` present.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.arange(n) % c
    rng.shuffle(y)
    return X, y


def small_twin(c: int = 3):
    """A linear twin of a toy problem, ``d_a = 4`` (three features and the bias)."""
    X, y = toy(1, n=20, d=3, c=c)
    return cl.linear_twin(X, y, lr=0.1, out_scale=0.5)


# ----------------------------------------------------------------------------- softmax


def test_softmax_of_one_class_and_malformed_shapes():
    """Softmax over a last axis of length 1 is the probability 1 (the row sums to 1 as
    documented); a scalar or an empty class axis has no last axis over classes and is
    refused with that message. Exact: ``exp(0) / exp(0) = 1``."""
    out = cl.softmax(np.array([[0.3], [-7.0], [1e300]]))
    assert out.shape == (3, 1)
    assert np.all(out == 1.0)
    for bad in (1.0, np.zeros((3, 0)), np.zeros(0)):
        with pytest.raises(ValueError, match="last axis"):
            cl.softmax(bad)


# ------------------------------------------------------------------------- standardise


@pytest.mark.parametrize("n,d", [(2, 1), (2, 3), (3, 1), (5, 1)])
def test_standardise_at_the_smallest_documented_sizes(n, d):
    """``N >= 2`` samples and any number of features are accepted (two samples and one
    feature included), and the result has the documented normalisation: centred
    columns and ``tr(ZᵀZ/N) = d``. Checked against exact rational arithmetic of the
    centring, within a few ulps per entry (one subtraction, one division, and the
    rounded mean and scale: ``8 N u`` relative)."""
    from fractions import Fraction

    rng = np.random.default_rng(n * 10 + d)
    X = rng.standard_normal((n, d))
    Z, keep = cl.standardise(X)
    assert keep.shape == (d,) and np.all(keep)
    assert Z.shape == (n, d)
    cols = [[Fraction(float(X[i, j])) for i in range(n)] for j in range(d)]
    cent = [[x - sum(col) / n for x in col] for col in cols]
    ms = sum(x * x for col in cent for x in col) / (n * d)
    scale = math.sqrt(ms)
    for j in range(d):
        for i in range(n):
            ref = float(cent[j][i]) / scale
            assert abs(Z[i, j] - ref) <= 8 * n * u * (abs(ref) + 1.0)
    assert abs(float(np.sum(Z**2)) / n - d) <= 8 * n * d * u * d
    with pytest.raises(ValueError, match="at least 2 samples"):
        cl.standardise(np.ones((1, 4)))


# -------------------------------------------------------------- convolutional networks


def test_conv_params_refuse_a_network_without_a_convolution_or_with_one_class():
    """``params`` must be a list ``[K_1, c_1, ..., K_L, c_L, W, b]`` with ``L >= 1`` and
    an output layer of ``C >= 2`` columns: a bare output layer ``[W, b]`` (which would
    be a shape-consistent linear model on the pixels), any array that is not a list or
    tuple, and a one-class output layer are refused."""
    X = np.zeros((4, 16))
    good = cl.init_conv_params((4, 4), 2, (2,), seed=1)
    cl.conv_logits(good, X, (4, 4))
    with pytest.raises(ValueError, match="L >= 1"):
        cl.conv_logits([np.zeros((16, 2)), np.zeros(2)], X, (4, 4))
    arr = np.empty(4, dtype=object)
    for k, p in enumerate(good):
        arr[k] = p
    with pytest.raises(ValueError, match="L >= 1"):
        cl.conv_logits(arr, X, (4, 4))
    one = [good[0], good[1], np.zeros((good[2].shape[0], 1)), np.zeros(1)]
    with pytest.raises(ValueError, match="output layer"):
        cl.conv_logits(one, X, (4, 4))


def test_conv_image_sides_divisible_by_two_to_the_layers():
    """Each side must be divisible by ``2^L`` (one 2x2 pooling per layer): a side of 6
    with two layers (divisible by 2 but not by 4) is refused, sides 4 and 8 with two
    layers are accepted, and so is a side of 2 with one layer (the smallest)."""
    with pytest.raises(ValueError, match="divisible"):
        cl.init_conv_params((6, 8), 2, (1, 1))
    with pytest.raises(ValueError, match="divisible"):
        cl.init_conv_params((8, 6), 2, (1, 1))
    p = cl.init_conv_params((4, 8), 2, (1, 1))
    assert p[4].shape == (1 * 1 * 2, 2)
    p = cl.init_conv_params((2, 2), 2, (1,))
    assert p[2].shape == (1, 2)


def test_init_conv_variances_resolve_the_fan_in_plus_one():
    """Every weight and bias of :func:`init_conv_params` is ``N(0, g²/(fan_in + 1))``.
    On samples large enough that ``fan_in + 1`` is told from ``fan_in`` and
    ``fan_in + 2`` (40 000 first-layer entries with fan-in 9; 40 000 output weights and
    as many biases with fan-in 1), the mean square of each group is within the z-score
    limit of its standard error ``var·sqrt(2/n)`` (union bound over the groups)."""
    zl = check.z_limit(1e-6, 4)
    p = cl.init_conv_params((2, 2), 2, (4000,), activation="relu", seed=3)
    groups = [(p[0].ravel(), 2.0 / 10), (p[1], 2.0 / 10)]
    q = cl.init_conv_params((2, 2), 40000, (1,), activation="tanh", out_scale=0.7,
                            seed=4)
    groups += [(q[2].ravel(), 0.49 / 2), (q[3], 0.49 / 2)]
    for w, var in groups:
        z = (np.mean(w**2) - var) / (var * math.sqrt(2.0 / w.size))
        assert abs(z) <= zl, (var, w.size, z)


# -------------------------------------------------------------------------- the twin


def test_linear_twin_refuses_a_zero_learning_rate():
    """The documented domain is ``0 < lr·λ_1/C < 2``: ``lr = 0`` is outside it."""
    X, y = toy(2, n=20)
    with pytest.raises(ValueError, match="lr"):
        cl.linear_twin(X, y, lr=0.0, out_scale=1.0)


def test_twin_spectra_grid_shape_and_refusals():
    """The output has the documented shape ``(A, R, d_a (C − 1))``, descending along the
    last axis; scales must be a non-empty 1-D array of finite values ``>= 0`` and
    horizons a non-empty 1-D array of integers ``>= 0``: a negative, infinite or 2-D
    scale and a negative, fractional or 2-D horizon are refused."""
    tw = small_twin(3)
    g = cl.twin_spectra_grid(tw, [0.0, 0.5, 2.0], [0, 3])
    assert g.shape == (2, 3, 4 * 2)
    assert np.all(np.diff(g, axis=-1) <= 0)
    for s in ([-1.0], [np.inf], [[1.0]], []):
        with pytest.raises(ValueError, match="s_values"):
            cl.twin_spectra_grid(tw, s, [1])
    for T in ([-1], [1.5], [[1]], np.array([], dtype=int)):
        with pytest.raises(ValueError, match="steps"):
            cl.twin_spectra_grid(tw, [1.0], T)


# --------------------------------------------------------------- central difference


def test_central_difference_at_64_bits_and_its_default():
    """``bits >= 64`` is the documented domain, 64 included; the documented default is
    ``bits = 256`` (the same ball midpoint as passing 256). At 64 bits the result is the
    derivative within the stated error: the truncation ``h² |D³L| / 6`` (negligible at
    ``h = 2^-20``, ``|D³L| = O(1)`` here) plus the ball radius ``≈ 2^-64 |L| / h``;
    the tolerance is 100 times that radius term."""
    X, y = toy(5, n=6, d=3, c=3)
    params = cl.init_params(3, 3, (), out_scale=1.0, seed=2)
    v = [np.random.default_rng(6).standard_normal(p.shape) for p in params]
    h = 2.0**-20
    ref = cl.central_difference(params, X, y, v, step=h, bits=256)
    loss = cl.loss_and_grad(params, X, y)[0]
    lo = cl.central_difference(params, X, y, v, step=h, bits=64)
    assert abs(lo - ref) <= 100 * 2.0**-64 * (abs(loss) + 1) / h + h * h
    assert cl.central_difference(params, X, y, v) == cl.central_difference(
        params, X, y, v, bits=256)
    with pytest.raises(ValueError, match="bits"):
        cl.central_difference(params, X, y, v, bits=63)


def test_central_difference_with_unit_weight_decay():
    """With ``weight_decay = 1`` the derivative includes ``Σ_l <W_l, V_l>`` (the
    derivative of ``(1/2) Σ_l ‖W_l‖²``): the central difference equals ``<∇L, v>`` of
    :func:`loss_and_grad` within the round-off bound of
    :func:`gradient_error_bound` (times ``|v|``) plus the truncation of the default
    step (about ``10^-25``)."""
    X, y = toy(7, n=8, d=3, c=3)
    params = cl.init_params(3, 3, (4,), out_scale=1.0, seed=3)
    v = [np.random.default_rng(8).standard_normal(p.shape) for p in params]
    for wd in (1.0, 0.5):
        _, g = cl.loss_and_grad(params, X, y, weight_decay=wd)
        bound = cl.gradient_error_bound(params, X, y, weight_decay=wd)
        ip = sum(float(np.sum(a * b)) for a, b in zip(g, v))
        err = sum(float(np.sum(e * np.abs(b))) for e, b in zip(bound, v))
        cd = cl.central_difference(params, X, y, v, weight_decay=wd)
        tol = err + 4 * u * sum(float(np.sum(np.abs(a * b))) for a, b in zip(g, v))
        assert abs(float(cd) - ip) <= tol + 1e-20, (wd, float(cd), ip)


def test_central_difference_refuses_an_exact_zero_relu_pre_activation():
    """A ReLU pre-activation that is exactly 0 at both ends of the stencil (a zero input
    row, a zero bias and a zero bias direction) sits on the kink: its sign cannot be
    told from 0 and the loss is not differentiable there, so it is refused."""
    X, y = toy(9, n=6, d=3, c=3)
    X[0] = 0.0
    params = cl.init_params(3, 3, (2,), activation="relu", out_scale=1.0, seed=5)
    params[1] = np.zeros_like(params[1])
    v = [np.random.default_rng(10).standard_normal(p.shape) for p in params]
    v[1] = np.zeros_like(v[1])
    with pytest.raises(ValueError, match="ReLU"):
        cl.central_difference(params, X, y, v, activation="relu")


# ------------------------------------------------------------------------- training


@pytest.mark.parametrize("act,hidden", [("tanh", ()), ("relu", (4,))])
def test_a_batch_of_all_samples_is_the_full_batch_step(act, hidden):
    """A mini-batch of ``B = N`` samples drawn without replacement is a permutation of
    the data, so one step of gradient descent from the same start equals the
    full-batch step: the two gradients are each within :func:`gradient_error_bound` of
    the exact one, so the parameters differ by at most ``2 lr`` times that bound plus
    the rounding of the update (``2u |θ|``)."""
    X, y = toy(11, n=10, d=3, c=3)
    p0 = cl.init_params(3, 3, hidden, activation=act, out_scale=1.0, seed=6)
    lr = 0.5
    full = cl.train(X, y, hidden=hidden, activation=act, lr=lr, steps=1, params0=p0,
                    seed=1)
    batch = cl.train(X, y, hidden=hidden, activation=act, lr=lr, steps=1, params0=p0,
                     batch_size=10, seed=1)
    bound = cl.gradient_error_bound(p0, X, y, activation=act)
    _, g = cl.loss_and_grad(p0, X, y, activation=act)
    assert max(float(np.max(np.abs(a))) for a in g) > 1e-3
    for a, b, e, w in zip(full.params, batch.params, bound, full.params):
        assert np.all(np.abs(a - b) <= 2 * lr * e + 4 * u * np.abs(w) + 1e-300)


def test_train_accepts_a_seed_sequence():
    """``seed`` may be a ``numpy.random.SeedSequence`` (documented): training runs, and
    the same sequence gives the same trajectory."""
    X, y = toy(12, n=10, d=3, c=2)
    a = cl.train(X, y, lr=0.1, steps=2, batch_size=3, seed=np.random.SeedSequence(4))
    b = cl.train(X, y, lr=0.1, steps=2, batch_size=3, seed=np.random.SeedSequence(4))
    assert np.array_equal(a.probs, b.probs)
    c = cl.train_conv(np.random.default_rng(1).standard_normal((4, 16)),
                      np.arange(4) % 2, (4, 4), channels=(2,), lr=0.1, steps=1,
                      seed=np.random.SeedSequence(4))
    assert np.all(np.isfinite(c.probs))


def test_recording_limit_is_len_record_times_n_times_c(monkeypatch):
    """:func:`train` refuses to record more than ``MAX_ENTRIES`` probabilities, counted
    as ``len(record)·N·C``, and accepts exactly that many (documented in its Raises).
    The limit is lowered to 60 so that both sides of the boundary are cheap:
    ``5·4·3 = 60`` is accepted, ``6·4·3 = 72`` refused (``N/C`` or ``C/N`` in place of
    ``N·C`` would accept it)."""
    X, y = toy(13, n=4, d=2, c=3)
    monkeypatch.setattr(cl, "_MAX_ENTRIES", 60)
    tr = cl.train(X, y, lr=0.1, steps=4)
    assert tr.probs.shape == (5, 4, 3)
    with pytest.raises(ValueError, match="too large"):
        cl.train(X, y, lr=0.1, steps=5)
    with pytest.raises(ValueError, match="too large"):
        cl.train(X, y, lr=0.1, steps=60, record=np.arange(0, 60, 10))


def test_zero_weight_decay_ignores_the_size_of_the_weights():
    """Without weight decay the loss is the mean cross-entropy alone: finite weights of
    any size that multiply a zero feature leave the logits, the loss and the gradient
    of the other parameters unchanged (the penalty ``0·‖W‖²`` is not formed: with
    ``‖W‖² = inf`` it would be NaN). Compared with the same network whose weights on
    that feature are 0: the same float operations on the same logits, so equal."""
    X, y = toy(14, n=6, d=3, c=3)
    X[:, 0] = 0.0
    params = cl.init_params(3, 3, (), out_scale=1.0, seed=7)
    big = [p.copy() for p in params]
    small = [p.copy() for p in params]
    big[0][0] = 1e200
    small[0][0] = 0.0
    lb, gb = cl.loss_and_grad(big, X, y)
    ls, gs = cl.loss_and_grad(small, X, y)
    assert math.isfinite(lb) and lb == ls
    for a, b in zip(gb, gs):
        assert np.array_equal(a, b)
    Xc = np.random.default_rng(3).standard_normal((4, 16))
    pc = cl.init_conv_params((4, 4), 2, (1,), seed=2)
    pc[0] = pc[0] * 0.0
    pc[0][4, 0] = 1e200      # the centre tap of a kernel on all-zero images
    lc, gc = cl.conv_loss_and_grad(pc, Xc * 0.0, np.arange(4) % 2, (4, 4))
    assert math.isfinite(lc)


# ------------------------------------------------------------- parameter validation


def test_params_refusals():
    """``params`` must be a non-empty list or tuple ``[W_1, b_1, ...]`` of even length,
    every ``W_l`` 2-D with as many rows as the previous layer has outputs, every ``b_l``
    of shape ``(k,)``, and all entries finite: each violation (an empty list, an odd
    length, an array in place of a list, a scalar or 1-D weight matrix, a wrong row
    count with a consistent bias, a non-finite bias) is refused with ``ValueError``."""
    X = np.zeros((3, 3))
    W1, b1 = np.zeros((3, 4)), np.zeros(4)
    W2, b2 = np.zeros((4, 2)), np.zeros(2)
    cl.logits([W1, b1, W2, b2], X)
    arr = np.empty(2, dtype=object)
    arr[0], arr[1] = W2[:3], b2
    bad = {"non-empty": [[], [W1, b1, W2], arr],
           "W_1|layer 1": [[np.float64(0.5), b2], [np.zeros(3), b2]],
           "layer 2": [[W1, b1, np.zeros((5, 2)), b2], [W1, b1, np.zeros(4), np.zeros(1)]],
           "non-finite": [[W1, b1, W2, np.array([0.0, np.nan])]]}
    for msg, cases in bad.items():
        for params in cases:
            with pytest.raises(ValueError, match=msg):
                cl.logits(params, X)


def test_init_params_hidden_gains():
    """Hidden weights of :func:`init_params` are ``N(0, g²/(fan_in + 1))`` with
    ``g = 1`` for ``tanh`` and ``g = sqrt(2)`` for ``relu`` (documented): mean squares
    of 60 000 first-layer weights in standard errors ``var·sqrt(2/n)`` within the
    z-score limit (union bound over the two activations)."""
    zl = check.z_limit(1e-6, 2)
    for act, g2 in (("tanh", 1.0), ("relu", 2.0)):
        p = cl.init_params(3, 2, (20000,), activation=act, seed=5)
        w, var = p[0].ravel(), g2 / 4
        z = (np.mean(w**2) - var) / (var * math.sqrt(2.0 / w.size))
        assert abs(z) <= zl, (act, z)


# ------------------------------------------------------------ linear twin's domain


def hadamard_inputs(a):
    """Four samples whose ``Σ_a`` is exactly ``diag(a_1², a_2², a_3², 1)``.

    Parameters
    ----------
    a : sequence of 3 floats
        Column scales.

    Returns
    -------
    numpy.ndarray, shape (4, 3)
        Columns ``a_j h_j`` for the three non-constant columns ``h_j`` of the 4 x 4
        Hadamard matrix: orthogonal to each other and to the constant column, with
        ``|h_j|² = 4``, so ``X_aᵀX_a / 4`` is diagonal and its entries are ``a_j²``.
    """
    h = np.array([[1, 1, -1, -1], [1, -1, 1, -1], [1, -1, -1, 1]], dtype=float).T
    return h * np.asarray(a, dtype=float)


def test_linear_twin_singularity_threshold():
    """A singular ``Σ`` is ``λ_min <= 1000 ε λ_1 max(N, d + 1)`` (documented). With
    ``Σ_a = diag(4, a², 1, 1)`` (``N = 4``, ``d = 3``, so ``max(N, d + 1) = 4`` and
    the threshold is ``t = 16000 ε``) and ``a² = r t``: refused for ``r = 0.5`` and
    accepted for ``r = 1.0005`` and ``1.1`` (margins far above the few-ulp rounding of
    ``a²`` and of the diagonal eigenvalues)."""
    eps = np.finfo(float).eps
    t = 1e3 * eps * 4.0 * 4
    y = np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="singular"):
        cl.linear_twin(hadamard_inputs([2.0, math.sqrt(0.5 * t), 1.0]), y, lr=0.1,
                       out_scale=1.0)
    for r in (1.0005, 1.1):
        tw = cl.linear_twin(hadamard_inputs([2.0, math.sqrt(r * t), 1.0]), y, lr=0.1,
                            out_scale=1.0)
        assert abs(tw.lam.min() / (r * t) - 1) <= 1e-12


def test_linear_twin_learning_rate_boundary():
    """The twin converges for ``lr·λ_1/C < 2`` (documented): with ``λ_1 = 4`` exactly
    (``Σ_a = diag(4, 1, 1, 1)``) and ``C = 2``, ``lr = 1`` (ratio exactly 2) and
    ``lr = 1.25`` are refused, and the next float below 1 is accepted."""
    X = hadamard_inputs([2.0, 1.0, 1.0])
    y = np.array([0, 1, 0, 1])
    for lr in (1.0, 1.25):
        with pytest.raises(ValueError, match="lr"):
            cl.linear_twin(X, y, lr=lr, out_scale=1.0)
    tw = cl.linear_twin(X, y, lr=float(np.nextafter(1.0, 0.0)), out_scale=1.0)
    assert tw.lam.max() == 4.0


def test_linear_twin_singularity_threshold_is_inclusive(monkeypatch):
    """The refusal ``λ_min <= 1000 ε λ_1 max(N, d + 1)`` includes equality (documented
    ``<=``). The eigenvalues the statement is about are those of
    :func:`ribbonlib.spectra.of_data`; here it returns the true eigenvectors of the
    inputs with the smallest eigenvalue set to the threshold itself (refused) and to
    the next float above it (accepted), so the tie is met exactly on every platform."""
    from ribbonlib import spectra

    true_of_data = spectra.of_data
    eps = np.finfo(float).eps
    X = hadamard_inputs([9.0, 1.0, 1.0])
    y = np.array([0, 1, 0, 1])
    N, d = X.shape
    lam, V = true_of_data(np.hstack([X, np.ones((N, 1))]))
    threshold = 1e3 * eps * lam[0] * max(N, d + 1)
    for smallest, refused in ((threshold, True), (np.nextafter(threshold, np.inf), False)):
        lam_set = lam.copy()
        lam_set[-1] = smallest
        monkeypatch.setattr(spectra, "of_data", lambda A, lam_set=lam_set: (lam_set, V))
        if refused:
            with pytest.raises(ValueError, match="singular"):
                cl.linear_twin(X, y, lr=0.01, out_scale=1.0)
        else:
            tw = cl.linear_twin(X, y, lr=0.01, out_scale=1.0)
            assert tw.lam.min() == smallest


@pytest.mark.parametrize("batch", [None, 3])
def test_train_cost_in_loss_and_gradient_evaluations(record_calls, batch):
    """The documented cost of :func:`train`: ``steps`` gradient evaluations (of the
    mini-batch, or of all ``N`` samples at full batch) and full-data losses only at the
    recorded steps. Counted exactly by wrapping the loss-and-gradient routine: with
    ``T = 6`` steps recorded at ``0, 3, 6``, full batch makes 6 gradient evaluations on
    all samples plus 1 loss-only evaluation (step 6); mini-batches make 6 gradient
    evaluations of 3 samples and 3 loss-only evaluations on all 10."""
    X, y = toy(15, n=10, d=3, c=3)
    log = record_calls(cl, "_loss_grad")
    cl.train(X, y, lr=0.1, steps=6, batch_size=batch, record=[0, 3, 6], seed=2)
    calls = [(c["X"].shape[0], bool(c["want_grad"])) for c in log]
    if batch is None:
        assert sorted(calls) == sorted([(10, True)] * 6 + [(10, False)])
    else:
        assert sorted(calls) == sorted([(3, True)] * 6 + [(10, False)] * 3)


def test_central_difference_error_scales_with_the_loss_under_weight_decay():
    """The error of :func:`central_difference` is the truncation plus about
    ``2^-bits |L| / h`` (docstring), ``|L|`` the size of the losses it differences
    (at ``θ ± hv``). Tiny weights (``10^-40``) under a huge weight decay (``10^40``)
    make the penalty's derivative ``O(1)``, while the losses at the stencil ends are
    ``log C + 10^40 h² |v_W|² / 2`` (about ``10^16``): the 256-bit result agrees with
    the 1024-bit one (same ``h``, hence the same truncation) within
    ``2^10 · 2^-256 (max |L(θ ± hv)| + 1) / h`` (a factor ``2^10`` for the constant of
    the estimate; the ends' losses in float64, ample for a tolerance), far below the
    derivative."""
    X, y = toy(16, n=5, d=3, c=3)
    params = cl.init_params(3, 3, (), out_scale=1.0, seed=8)
    params[0] = params[0] * 1e-40
    v = [np.random.default_rng(9).standard_normal(p.shape) for p in params]
    wd, h = 1e40, 2.0**-40
    ends = [cl.loss_and_grad([p + sg * h * q for p, q in zip(params, v)], X, y,
                             weight_decay=wd)[0] for sg in (1, -1)]
    size = max(abs(e) for e in ends) + 1
    lo = cl.central_difference(params, X, y, v, weight_decay=wd, bits=256)
    hi = cl.central_difference(params, X, y, v, weight_decay=wd, bits=1024)
    assert abs(hi) > 1e-3
    assert abs(lo - hi) <= mpmath.mpf(2) ** (10 - 256) * size / h
