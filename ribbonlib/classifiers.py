"""Softmax classifiers trained by gradient methods, recorded as trajectories of predictions.

A classifier with ``C`` classes maps an input ``x`` to logits ``f(x)`` and predicts the
class probabilities ``p(x) = softmax(f(x))``. Two families are provided:

* the softmax-linear model, ``f(x) = Wᵀx + b`` (``hidden=()``);
* multilayer perceptrons with one or more hidden layers of ``tanh`` or ``relu`` units,
  ``f(x) = W_Lᵀ φ(... φ(W_1ᵀ x + b_1) ...) + b_L``.

Parameters are a list ``[W_1, b_1, W_2, b_2, ...]`` with ``W_l`` of shape
``(fan_in, fan_out)``. The training loss is the mean cross-entropy plus
``(weight_decay/2) Σ_l ‖W_l‖²`` (biases are not decayed). :func:`train` runs one
seeded training run with plain gradient steps, heavy-ball momentum or Adam, full batch
or mini-batch, and returns the predicted class probabilities on the training inputs at
chosen steps: one trajectory in the space of models, ready for
:func:`ribbonlib.embedding.bhattacharyya`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from . import _validate

__all__ = [
    "ACTIVATIONS",
    "OPTIMIZERS",
    "softmax",
    "standardise",
    "init_params",
    "logits",
    "predict_proba",
    "loss_and_grad",
    "snapshot_steps",
    "Trajectory",
    "train",
    "sum_zero_basis",
    "LinearTwin",
    "linear_twin",
]

#: Hidden-unit nonlinearities.
ACTIVATIONS = ("tanh", "relu")
#: Update rules; ``"gd"`` with a ``batch_size`` is stochastic gradient descent.
OPTIMIZERS = ("gd", "momentum", "adam")
# Largest number of float64 entries a recorded trajectory may hold (2 GB).
_MAX_ENTRIES = _validate.MAX_ENTRIES


# ----------------------------------------------------------------------------- inputs


_inputs = _validate.matrix


def _labels(labels: Any, n_samples: int) -> tuple[np.ndarray, int]:
    y = np.asarray(labels)
    if y.ndim != 1 or y.shape[0] != n_samples:
        raise ValueError(f"labels must be a 1-D array of length {n_samples} (one per sample), got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        if not (np.issubdtype(y.dtype, np.floating) and np.all(np.isfinite(y)) and np.all(y == np.round(y))):
            raise ValueError("labels must be integers 0..C-1")
        y = y.astype(np.int64)
    if y.min() < 0:
        raise ValueError(f"labels must be integers >= 0; smallest is {int(y.min())}")
    n_classes = int(y.max()) + 1
    if n_classes < 2:
        raise ValueError("labels must contain at least 2 classes (largest label >= 1)")
    return y.astype(np.int64), n_classes


def _activation(activation: Any) -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    return str(activation)


def _params(params: Any, n_features: int | None = None) -> list[np.ndarray]:
    if not isinstance(params, (list, tuple)) or len(params) == 0 or len(params) % 2:
        raise ValueError("params must be a non-empty list [W_1, b_1, W_2, b_2, ...] of even length")
    out = [np.asarray(p, dtype=float) for p in params]
    fan_in = out[0].shape[0] if out[0].ndim == 2 else -1
    if n_features is not None and fan_in != n_features:
        raise ValueError(f"params: W_1 must have {n_features} rows (one per feature), got shape {out[0].shape}")
    for l in range(0, len(out), 2):
        W, b = out[l], out[l + 1]
        if W.ndim != 2 or W.shape[0] != fan_in or b.shape != (W.shape[1],):
            raise ValueError(
                f"params: layer {l // 2 + 1} must be W of shape ({fan_in}, k) and b of shape (k,), "
                f"got {W.shape} and {b.shape}"
            )
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
            raise ValueError(f"params: layer {l // 2 + 1} holds non-finite entries")
        fan_in = W.shape[1]
    if fan_in < 2:
        raise ValueError("params: the last layer must have at least 2 outputs (classes)")
    return out


# ------------------------------------------------------------------------ the models


def softmax(f: Any) -> np.ndarray:
    """Row-wise softmax ``exp(f_c) / Σ_c' exp(f_c')`` along the last axis, overflow-free.

    Parameters
    ----------
    f : array_like, shape (..., C)
        Finite logits.

    Returns
    -------
    numpy.ndarray, shape (..., C)
        Probabilities, each row summing to 1.
    """
    z = np.asarray(f, dtype=float)
    if z.ndim == 0 or z.shape[-1] == 0:
        raise ValueError(f"f must have a last axis over classes, got shape {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError("f must be finite")
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def standardise(X: Any) -> tuple[np.ndarray, np.ndarray]:
    """Centre every feature and divide all of them by one common scale.

    Constant features carry no information and are dropped. The remaining ``d``
    features are centred on their means and divided by the single number
    ``sqrt(mean_j Var(x_j))``, so that ``tr(XᵀX/N) = d`` (mean eigenvalue 1). A common
    scale keeps the relative variances of the features, hence the shape of the
    spectrum of ``XᵀX/N``; z-scoring each feature separately would flatten it.

    Parameters
    ----------
    X : array_like, shape (N, d0)
        Raw inputs, finite, ``N >= 2``.

    Returns
    -------
    Z : numpy.ndarray, shape (N, d)
        Standardised inputs.
    keep : numpy.ndarray of bool, shape (d0,)
        Which columns of ``X`` were kept (non-constant).
    """
    A = _inputs(X)
    if A.shape[0] < 2:
        raise ValueError(f"X must have at least 2 samples, got {A.shape[0]}")
    keep = np.ptp(A, axis=0) > 0
    if not np.any(keep):
        raise ValueError("X has no non-constant feature")
    Z = A[:, keep] - A[:, keep].mean(axis=0)
    Z /= np.sqrt(np.mean(Z**2))
    return Z, keep


def init_params(n_features: int, n_classes: int, hidden: Sequence[int] = (), *,
                activation: str = "tanh", out_scale: float = 1.0, seed: Any = 0) -> list[np.ndarray]:
    """Random initial parameters ``[W_1, b_1, ..., W_L, b_L]``.

    Every weight and bias of layer ``l`` is drawn independently from
    ``N(0, g_l² / (fan_in + 1))``: the bias is treated as the weight of a constant
    input. The gain is ``g = 1`` for ``tanh`` and ``g = sqrt(2)`` for ``relu`` in the
    hidden layers, and ``g = out_scale`` in the output layer, so a small ``out_scale``
    starts training near the uniform prediction.

    Parameters
    ----------
    n_features, n_classes : int
        Input dimension ``>= 1`` and number of classes ``>= 2``.
    hidden : sequence of int
        Widths of the hidden layers, each ``>= 1``; empty for the softmax-linear model.
    activation : {"tanh", "relu"}
        Hidden nonlinearity (sets the hidden gains).
    out_scale : float
        Gain of the output layer, ``>= 0``.
    seed : int or numpy.random.SeedSequence
        Seed of the draw.

    Returns
    -------
    list of numpy.ndarray
    """
    d = _validate.integer(n_features, "n_features", low=1)
    C = _validate.integer(n_classes, "n_classes", low=2)
    widths = [_validate.integer(h, "hidden width", low=1) for h in hidden]
    act = _activation(activation)
    g_out = _validate.finite_real(out_scale, "out_scale", low=0.0)
    rng = np.random.default_rng(_validate.seed(seed))
    g_hid = 1.0 if act == "tanh" else np.sqrt(2.0)
    sizes = [d] + widths + [C]
    params = []
    for l in range(len(sizes) - 1):
        gain = g_out if l == len(sizes) - 2 else g_hid
        sd = gain / np.sqrt(sizes[l] + 1)
        params.append(sd * rng.standard_normal((sizes[l], sizes[l + 1])))
        params.append(sd * rng.standard_normal(sizes[l + 1]))
    return params


def _forward(params: list[np.ndarray], X: np.ndarray, act: str) -> list[np.ndarray]:
    """Hidden activations ``[X, h_1, ..., h_{L-1}]`` followed by the logits."""
    outs = [X]
    h = X
    n_layers = len(params) // 2
    for l in range(n_layers):
        z = h @ params[2 * l] + params[2 * l + 1]
        if l < n_layers - 1:
            h = np.tanh(z) if act == "tanh" else np.maximum(z, 0.0)
        else:
            h = z
        outs.append(h)
    return outs


def logits(params: Any, X: Any, activation: str = "tanh") -> np.ndarray:
    """Logits ``f(X)`` of the network, shape ``(N, C)``.

    Parameters
    ----------
    params : list of array_like
        ``[W_1, b_1, ..., W_L, b_L]`` as from :func:`init_params`.
    X : array_like, shape (N, d)
        Inputs.
    activation : {"tanh", "relu"}
        Hidden nonlinearity (unused when there is no hidden layer).
    """
    A = _inputs(X)
    return _forward(_params(params, A.shape[1]), A, _activation(activation))[-1]


def predict_proba(params: Any, X: Any, activation: str = "tanh") -> np.ndarray:
    """Predicted class probabilities ``softmax(f(X))``, shape ``(N, C)``; see :func:`logits`."""
    return softmax(logits(params, X, activation))


def _loss_grad(params: list[np.ndarray], X: np.ndarray, y: np.ndarray, act: str,
               wd: float, want_grad: bool = True) -> tuple[float, list[np.ndarray], np.ndarray]:
    """Loss, gradient (``[]`` unless ``want_grad``) and probabilities on ``X``."""
    outs = _forward(params, X, act)
    f = outs[-1]
    n = X.shape[0]
    f = f - f.max(axis=1, keepdims=True)
    lse = np.log(np.exp(f).sum(axis=1))
    loss = float(np.mean(lse - f[np.arange(n), y]))
    probs = np.exp(f - lse[:, None])
    if wd > 0:
        for l in range(0, len(params), 2):
            loss += 0.5 * wd * float(np.sum(params[l] * params[l]))
    if not want_grad:
        return loss, [], probs
    delta = probs.copy()
    delta[np.arange(n), y] -= 1.0
    delta /= n
    grads: list[np.ndarray] = [np.empty(0)] * len(params)
    n_layers = len(params) // 2
    for l in range(n_layers - 1, -1, -1):
        W = params[2 * l]
        h_in = outs[l]
        grads[2 * l] = h_in.T @ delta + wd * W
        grads[2 * l + 1] = delta.sum(axis=0)
        if l > 0:
            back = delta @ W.T
            delta = back * (1.0 - h_in**2) if act == "tanh" else back * (h_in > 0)
    return loss, grads, probs


def loss_and_grad(params: Any, X: Any, labels: Any, *, activation: str = "tanh",
                  weight_decay: float = 0.0) -> tuple[float, list[np.ndarray]]:
    """Training loss and its gradient by back-propagation.

    Parameters
    ----------
    params : list of array_like
        ``[W_1, b_1, ..., W_L, b_L]``; the last layer has ``C`` outputs.
    X : array_like, shape (N, d)
        Inputs.
    labels : array_like of int, shape (N,)
        Classes in ``0..C-1``.
    activation : {"tanh", "relu"}
        Hidden nonlinearity.
    weight_decay : float
        Coefficient ``>= 0`` of ``(1/2) Σ_l ‖W_l‖²``.

    Returns
    -------
    loss : float
        ``(1/N) Σ_i [log Σ_c exp f_ic − f_{i,y_i}] + (weight_decay/2) Σ_l ‖W_l‖²``.
    grads : list of numpy.ndarray
        The gradient with respect to each entry of ``params``, same shapes.
    """
    A = _inputs(X)
    p = _params(params, A.shape[1])
    y, n_cls = _labels(labels, A.shape[0])
    if n_cls > p[-1].shape[0]:
        raise ValueError(f"labels go up to {n_cls - 1} but the network has only {p[-1].shape[0]} outputs")
    wd = _validate.finite_real(weight_decay, "weight_decay", low=0.0)
    loss, grads, _ = _loss_grad(p, A, y, _activation(activation), wd)
    return loss, grads


# ------------------------------------------------------------------------- training


def snapshot_steps(steps: int, n: int) -> np.ndarray:
    """Distinct steps from 0 to ``steps``, spaced geometrically in ``t + 1``.

    Parameters
    ----------
    steps : int
        Last step ``T >= 1``.
    n : int
        Requested number of snapshots, ``2 <= n``.

    Returns
    -------
    numpy.ndarray of int
        Sorted distinct steps, beginning with 0 and ending with ``steps``; at most ``n``
        of them (rounding merges some of the early ones).
    """
    T = _validate.integer(steps, "steps", low=1)
    m = _validate.integer(n, "n", low=2)
    return np.unique(np.round(np.geomspace(1.0, T + 1.0, m)).astype(np.int64) - 1)


@dataclass(frozen=True)
class Trajectory:
    """One recorded training run.

    Attributes
    ----------
    steps : numpy.ndarray of int, shape (n_snap,)
        The steps at which the model was recorded.
    probs : numpy.ndarray, shape (n_snap, N, C)
        Predicted class probabilities on the training inputs at those steps.
    loss : numpy.ndarray, shape (n_snap,)
        Full-batch training loss (with the weight-decay term) at those steps.
    params : list of numpy.ndarray
        Parameters after the last step.
    """

    steps: np.ndarray
    probs: np.ndarray
    loss: np.ndarray
    params: list


def _update(optimizer: str, params: list[np.ndarray], g: list[np.ndarray], vel: list[np.ndarray],
            sq: list[np.ndarray], eta: float, mom: float, b1: float, b2: float, t: int) -> None:
    """One in-place update of ``params`` (``vel``, ``sq``: optimiser state)."""
    if optimizer == "gd":
        for p, gp in zip(params, g):
            p -= eta * gp
    elif optimizer == "momentum":
        for p, v, gp in zip(params, vel, g):
            v *= mom
            v += gp
            p -= eta * v
    else:
        c1, c2 = 1.0 - b1 ** (t + 1), 1.0 - b2 ** (t + 1)
        for p, m1, m2, gp in zip(params, vel, sq, g):
            m1 *= b1
            m1 += (1.0 - b1) * gp
            m2 *= b2
            m2 += (1.0 - b2) * gp**2
            p -= eta * (m1 / c1) / (np.sqrt(m2 / c2) + 1e-8)


def train(X: Any, labels: Any, *, hidden: Sequence[int] = (), activation: str = "tanh",
          optimizer: str = "gd", lr: float, steps: int, batch_size: int | None = None,
          weight_decay: float = 0.0, momentum: float = 0.9, betas: tuple[float, float] = (0.9, 0.999),
          out_scale: float = 1.0, seed: Any = 0, record: Any = None,
          params0: Any = None) -> Trajectory:
    """Train one classifier and record its predictions along the way.

    Update rules, with ``g_t`` the gradient of the loss (on a mini-batch when
    ``batch_size`` is given, drawn without replacement afresh at every step):

    * ``"gd"``: ``θ ← θ − lr·g`` (stochastic gradient descent with a batch size);
    * ``"momentum"``: heavy ball, ``v ← momentum·v + g``, ``θ ← θ − lr·v``, ``v_0 = 0``;
    * ``"adam"``: Adam with ``betas = (β1, β2)``, bias correction and ``ε = 1e-8``.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Training inputs.
    labels : array_like of int, shape (N,)
        Classes ``0..C-1``; ``C`` is the largest label plus one.
    hidden : sequence of int
        Hidden widths; empty for the softmax-linear model.
    activation : {"tanh", "relu"}
        Hidden nonlinearity.
    optimizer : {"gd", "momentum", "adam"}
        Update rule.
    lr : float
        Learning rate ``> 0``.
    steps : int
        Number of updates ``T >= 1``.
    batch_size : int, optional
        Mini-batch size in ``[1, N]``; full batch when omitted.
    weight_decay : float
        Coefficient of ``(1/2) Σ_l ‖W_l‖²``, ``>= 0``.
    momentum : float
        Heavy-ball coefficient in ``[0, 1)``.
    betas : tuple of float
        Adam's decay rates, each in ``[0, 1)``.
    out_scale : float
        Gain of the output layer at initialisation (see :func:`init_params`).
    seed : int or numpy.random.SeedSequence
        Seeds the initialisation and the mini-batches (independent streams).
    record : array_like of int, optional
        Steps in ``[0, steps]`` at which to record the model (sorted, distinct);
        every step when omitted.
    params0 : list of array_like, optional
        Initial parameters; drawn from :func:`init_params` when omitted.

    Returns
    -------
    Trajectory
        Steps, probabilities ``(n_snap, N, C)``, losses and the final parameters.

    Raises
    ------
    ValueError
        For malformed inputs or labels, an unknown activation or optimiser, out-of-range
        hyper-parameters, unsorted or out-of-range recording steps, or a run that
        diverges (non-finite loss: lower the learning rate).
    """
    A = _inputs(X)
    N, d = A.shape
    y, C = _labels(labels, N)
    act = _activation(activation)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    eta = _validate.finite_real(lr, "lr", low=0.0, low_open=True)
    T = _validate.integer(steps, "steps", low=1)
    B = None if batch_size is None else _validate.integer(batch_size, "batch_size", low=1)
    if B is not None and B > N:
        raise ValueError(f"batch_size must be in [1, N = {N}], got {B}")
    wd = _validate.finite_real(weight_decay, "weight_decay", low=0.0)
    mom = _validate.finite_real(momentum, "momentum", low=0.0, high=1.0, high_open=True)
    if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
        raise ValueError("betas must be a pair (beta1, beta2)")
    b1 = _validate.finite_real(betas[0], "betas[0]", low=0.0, high=1.0, high_open=True)
    b2 = _validate.finite_real(betas[1], "betas[1]", low=0.0, high=1.0, high_open=True)
    if record is None:
        rec = np.arange(T + 1)
    else:
        rec = np.asarray(record)
        if rec.ndim != 1 or rec.size == 0 or not np.issubdtype(rec.dtype, np.integer):
            raise ValueError("record must be a non-empty 1-D array of integer steps")
        if rec[0] < 0 or rec[-1] > T or np.any(np.diff(rec) <= 0):
            raise ValueError(f"record must be strictly increasing steps in [0, steps = {T}]")
    if rec.size * N * C > _MAX_ENTRIES:
        raise ValueError(f"recording {rec.size} snapshots of {N} x {C} probabilities is too large; record fewer steps")
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(_validate.seed(seed))
    init_seq, batch_seq = root.spawn(2)
    if params0 is None:
        params = init_params(d, C, hidden, activation=act, out_scale=out_scale, seed=init_seq)
    else:
        params = [p.copy() for p in _params(params0, d)]
        if params[-1].shape[0] != C:
            raise ValueError(f"params0 must have {C} outputs (one per class), got {params[-1].shape[0]}")
    rng = np.random.default_rng(batch_seq)

    probs = np.empty((rec.size, N, C))
    losses = np.empty(rec.size)
    vel = [np.zeros_like(p) for p in params]
    sq = [np.zeros_like(p) for p in params]
    j = 0
    for t in range(T + 1):
        recording = j < rec.size and rec[j] == t
        full_grad = B is None and t < T
        if recording or full_grad:
            with np.errstate(over="ignore", invalid="ignore"):
                loss, g, p_full = _loss_grad(params, A, y, act, wd, want_grad=full_grad)
            if not np.isfinite(loss):
                raise ValueError(f"training diverged before step {t} (non-finite loss); lower lr = {eta:g}")
            if recording:
                probs[j], losses[j] = p_full, loss
                j += 1
        if t == T:
            break
        if B is not None:
            idx = rng.choice(N, size=B, replace=False)
            g = _loss_grad(params, A[idx], y[idx], act, wd)[1]
        with np.errstate(over="ignore", invalid="ignore"):
            _update(optimizer, params, g, vel, sq, eta, mom, b1, b2, t)
        if not all(np.isfinite(p).all() for p in params):
            raise ValueError(f"training diverged at step {t + 1} (non-finite parameters); lower lr = {eta:g}")
    return Trajectory(steps=rec.copy(), probs=probs, loss=losses, params=params)


# ------------------------------------------------------------------ the linear twin


def sum_zero_basis(n_classes: int) -> np.ndarray:
    """Orthonormal basis of the vectors of ``R^C`` whose entries sum to zero.

    Parameters
    ----------
    n_classes : int
        ``C >= 2``.

    Returns
    -------
    numpy.ndarray, shape (C, C - 1)
        Columns ``q_a`` with ``Σ_c q_a[c] = 0`` and ``QᵀQ = I``, so ``Q Qᵀ = I − 11ᵀ/C``
        (Helmert's construction: column ``a`` is proportional to
        ``(1, ..., 1, −(a+1), 0, ..., 0)`` with ``a + 1`` leading ones).
    """
    C = _validate.integer(n_classes, "n_classes", low=2)
    Q = np.zeros((C, C - 1))
    for a in range(C - 1):
        Q[: a + 1, a] = 1.0
        Q[a + 1, a] = -(a + 1.0)
        Q[:, a] /= np.sqrt((a + 1.0) * (a + 2.0))
    return Q


@dataclass(frozen=True)
class LinearTwin:
    """The linear-Gaussian model that a softmax-linear classifier follows near the uniform prediction.

    Linearised around zero logits, gradient descent on the cross-entropy of the
    softmax-linear model with learning rate ``lr`` moves the class-centred weights like
    gradient descent on the squared loss with learning rate ``lr/C`` and targets
    ``C (onehot − 1/C)``; the Bhattacharyya distance becomes the Gaussian one with
    ``σ² = C``. In the eigenbasis of ``Σ = X_aᵀX_a/N`` (``X_a`` the inputs with a constant
    column appended for the bias) and the sum-zero class basis ``Q``, this is
    ``C − 1`` independent copies of the linear model of :mod:`ribbonlib.cloud`.

    Attributes
    ----------
    lam : numpy.ndarray, shape (d_a (C-1),)
        Eigenvalues of ``Σ``, mode ``(k, a)`` at index ``k (C − 1) + a``.
    b : numpy.ndarray, shape (d_a (C-1),)
        Ground truth ``v_kᵀ W* q_a`` in the same order, ``W*`` the least-squares weights.
    s : float
        Initial weight scale in the convention of :mod:`ribbonlib.cloud`:
        ``s² = (C − 1) out_scale²``.
    eta : float
        Learning rate of the twin, ``lr / C``.
    V : numpy.ndarray, shape (d_a, d_a)
        Eigenvectors of ``Σ`` (columns), as from :func:`ribbonlib.spectra.of_data`.
    Q : numpy.ndarray, shape (C, C - 1)
        The sum-zero class basis of :func:`sum_zero_basis`.
    w_star : numpy.ndarray, shape (d_a, C)
        Least-squares weights for the targets ``C (onehot − 1/C)`` (last row: bias).
    sigma2 : float
        Output variance ``σ² = C`` of the Gaussian twin.
    """

    lam: np.ndarray
    b: np.ndarray
    s: float
    eta: float
    V: np.ndarray
    Q: np.ndarray
    w_star: np.ndarray
    sigma2: float


def linear_twin(X: Any, labels: Any, *, lr: float, out_scale: float) -> LinearTwin:
    """Parameters of the linear twin of softmax-linear gradient descent (see :class:`LinearTwin`).

    Parameters
    ----------
    X : array_like, shape (N, d)
        Training inputs (without a constant column; one is appended for the bias).
    labels : array_like of int, shape (N,)
        Classes ``0..C-1``.
    lr : float
        Learning rate of the classifier, ``0 < lr·λ_1/C < 2``.
    out_scale : float
        The ``out_scale`` of :func:`init_params` (every weight and bias drawn from
        ``N(0, out_scale²/(d + 1))``), ``>= 0``.

    Returns
    -------
    LinearTwin

    Raises
    ------
    ValueError
        For malformed inputs, a singular ``Σ`` (some eigenvalue is 0 to round-off), or a
        learning rate at which the twin diverges.
    """
    from .spectra import of_data  # local import keeps the module light

    A = _inputs(X)
    N, d = A.shape
    y, C = _labels(labels, N)
    g = _validate.finite_real(out_scale, "out_scale", low=0.0)
    eta = _validate.finite_real(lr, "lr", low=0.0, low_open=True)
    Xa = np.hstack([A, np.ones((N, 1))])
    lam, V = of_data(Xa)
    if lam[-1] <= 1e3 * np.finfo(float).eps * lam[0] * max(N, d + 1):
        raise ValueError("X with a constant column appended must have full column rank (Σ is singular)")
    if eta * lam[0] / C >= 2.0:
        raise ValueError(f"lr must satisfy lr*λ_1/C < 2 for the twin to converge; lr < {2.0 * C / lam[0]:.6g}")
    targets = C * (np.eye(C)[y] - 1.0 / C)
    # Least squares through the eigenbasis: w* = V diag(1/λ) Vᵀ X_aᵀ y / N.
    w_star = V @ ((V.T @ (Xa.T @ targets) / N) / lam[:, None])
    Q = sum_zero_basis(C)
    B = V.T @ w_star @ Q
    return LinearTwin(
        lam=np.repeat(lam, C - 1),
        b=B.ravel(),
        s=float(np.sqrt(C - 1.0) * g),
        eta=eta / C,
        V=V,
        Q=Q,
        w_star=w_star,
        sigma2=float(C),
    )
