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

import mpmath
import numpy as np

from . import _validate

__all__ = [
    "ACTIVATIONS",
    "OPTIMIZERS",
    "UNIT_ROUNDOFF",
    "FUNCTION_ULP",
    "softmax",
    "standardise",
    "init_params",
    "logits",
    "predict_proba",
    "loss_and_grad",
    "gradient_error_bound",
    "central_difference",
    "snapshot_steps",
    "Trajectory",
    "train",
    "init_conv_params",
    "conv_logits",
    "conv_loss_and_grad",
    "train_conv",
    "sum_zero_basis",
    "LinearTwin",
    "linear_twin",
    "twin_one_copy",
    "twin_spectra_grid",
    "twin_spectrum_enclosure",
    "twin_closed_form",
    "TwinTracking",
    "twin_tracking",
]

#: Hidden-unit nonlinearities.
ACTIVATIONS = ("tanh", "relu")
#: Update rules; ``"gd"`` with a ``batch_size`` is stochastic gradient descent.
OPTIMIZERS = ("gd", "momentum", "adam")
# Largest number of float64 entries a recorded trajectory may hold (2 GB).
_MAX_ENTRIES = _validate.MAX_ENTRIES
#: Unit round-off of float64, ``u = 2^-53``.
UNIT_ROUNDOFF = 2.0**-53
#: Relative error of ``exp``, ``log`` and ``tanh`` in units of ``u``: one ulp, ``2u``.
FUNCTION_ULP = 2.0


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


def _softmax_head(f: np.ndarray, y: np.ndarray, params: list[np.ndarray], wd: float,
                  want_grad: bool) -> tuple[float, np.ndarray, np.ndarray | None]:
    """Mean cross-entropy of the logits ``f`` (plus the weight decay of the weight
    matrices ``params[0::2]``), the probabilities, and the gradient of the mean loss
    with respect to ``f`` (``None`` unless ``want_grad``)."""
    n = f.shape[0]
    f = f - f.max(axis=1, keepdims=True)
    lse = np.log(np.exp(f).sum(axis=1))
    loss = float(np.mean(lse - f[np.arange(n), y]))
    probs = np.exp(f - lse[:, None])
    if wd > 0:
        for l in range(0, len(params), 2):
            loss += 0.5 * wd * float(np.sum(params[l] * params[l]))
    if not want_grad:
        return loss, probs, None
    delta = probs.copy()
    delta[np.arange(n), y] -= 1.0
    delta /= n
    return loss, probs, delta


def _loss_grad(params: list[np.ndarray], X: np.ndarray, y: np.ndarray, act: str,
               wd: float, want_grad: bool = True) -> tuple[float, list[np.ndarray], np.ndarray]:
    """Loss, gradient (``[]`` unless ``want_grad``) and probabilities on ``X``."""
    outs = _forward(params, X, act)
    f = outs[-1]
    loss, probs, delta = _softmax_head(f, y, params, wd, want_grad)
    if delta is None:
        return loss, [], probs
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


def gradient_error_bound(params: Any, X: Any, labels: Any, *, activation: str = "tanh",
                         weight_decay: float = 0.0) -> list[np.ndarray]:
    """First-order bound on the round-off of the gradient of :func:`loss_and_grad`.

    A running error analysis of the forward and backward passes as they are evaluated,
    with ``u = 2^-53``, the basic operations correctly rounded, ``exp``, ``log`` and
    ``tanh`` accurate to ``FUNCTION_ULP·u`` relative, and an inner product or sum of
    ``k`` terms accurate to ``k·u`` times the sum of the absolute values of its terms
    (recursive summation in any order, with or without fused multiply-add). Every
    intermediate array carries an entry-wise bound on its error, propagated to first
    order in ``u``:

    * pre-activations ``z = h W + b``: ``e_h |W| + (n_in + 1)(|h||W| + |b|)``;
    * ``tanh``: ``(1 − h²) e_z + FUNCTION_ULP |h|``; ReLU: ``e_z`` where ``z > 0`` and 0
      elsewhere, provided ``|z| > u e_z`` (else the exact and the computed unit may lie
      on different sides of the kink, and every bound is ``inf``);
    * probabilities, evaluated as ``exp(s − log Σ exp s)`` with ``s = f − max f``:
      relative error ``e_f(c) + max e_f + |s_c| + max|s| + |t_c| + 2·FUNCTION_ULP
      + C − 1 + FUNCTION_ULP·|log Σ exp s|`` (``t = s − log Σ exp s``;
      ``f_c − log Σ exp f`` depends on the logits with Lipschitz constant 1 in the
      maximum norm);
    * the backward pass: ``δ = (p − y)/N``, the weight gradients ``hᵀδ + κW`` (inner
      products of length ``N``), the bias gradients ``Σ_i δ_i``, and
      ``δ ← (δ Wᵀ) ∘ φ'(z)`` with ``φ' = 1 − h²`` or ``1[h > 0]``.

    Parameters
    ----------
    params, X, labels, activation, weight_decay
        As in :func:`loss_and_grad`.

    Returns
    -------
    list of numpy.ndarray
        Same shapes as the gradient: ``|ĝ − g| <= bound`` entry by entry, to first
        order in ``u`` and barring underflow (probabilities below ``2^-1022`` add at
        most that much), for the exact gradient ``g`` at the given (float) parameters
        and inputs and the computed ``ĝ``. All ``inf`` when some ReLU pre-activation is
        within its error bound of zero.

    Raises
    ------
    ValueError
        As :func:`loss_and_grad`.
    """
    A = _inputs(X)
    p = _params(params, A.shape[1])
    y, n_cls = _labels(labels, A.shape[0])
    if n_cls > p[-1].shape[0]:
        raise ValueError(f"labels go up to {n_cls - 1} but the network has only "
                         f"{p[-1].shape[0]} outputs")
    wd = _validate.finite_real(weight_decay, "weight_decay", low=0.0)
    act = _activation(activation)
    u, fu = UNIT_ROUNDOFF, FUNCTION_ULP
    n = A.shape[0]
    n_layers = len(p) // 2
    outs = _forward(p, A, act)
    errs = [np.zeros_like(A)]            # error bounds of outs, in units of u
    undecided = False
    for l in range(n_layers):
        W, b, h, e = p[2 * l], p[2 * l + 1], outs[l], errs[l]
        ez = e @ np.abs(W) + (W.shape[0] + 1) * (np.abs(h) @ np.abs(W) + np.abs(b))
        if l == n_layers - 1:
            errs.append(ez)
        elif act == "tanh":
            h_out = outs[l + 1]
            errs.append((1.0 - h_out**2) * ez + fu * np.abs(h_out))
        else:
            z = h @ W + b
            undecided = undecided or bool(np.any(np.abs(z) <= u * ez))
            errs.append(ez * (z > 0))
    if undecided:
        return [np.full(q.shape, np.inf) for q in p]
    f, ef = outs[-1], errs[-1]
    s = f - f.max(axis=1, keepdims=True)
    lse = np.log(np.exp(s).sum(axis=1))
    t = s - lse[:, None]
    probs = np.exp(t)
    C = f.shape[1]
    rel = (ef + ef.max(axis=1, keepdims=True) + np.abs(s)
           + np.abs(s).max(axis=1, keepdims=True) + np.abs(t)
           + (2 * fu + C - 1) + fu * np.abs(lse)[:, None])
    onehot = np.zeros_like(probs)
    onehot[np.arange(n), y] = 1.0
    d1 = probs - onehot
    delta = d1 / n
    e_delta = (probs * rel + np.abs(d1)) / n + np.abs(delta)
    bounds: list[np.ndarray] = [np.empty(0)] * len(p)
    for l in range(n_layers - 1, -1, -1):
        W, h, e = p[2 * l], outs[l], errs[l]
        ad, ah = np.abs(delta), np.abs(h)
        g = h.T @ delta + wd * W
        bounds[2 * l] = u * (e.T @ ad + ah.T @ e_delta + n * (ah.T @ ad)
                             + np.abs(wd * W) + np.abs(g))
        bounds[2 * l + 1] = u * (e_delta.sum(axis=0) + (n - 1) * ad.sum(axis=0))
        if l > 0:
            back = delta @ W.T
            e_back = e_delta @ np.abs(W).T + W.shape[1] * (ad @ np.abs(W).T)
            if act == "tanh":
                phi = 1.0 - h**2
                delta = back * phi
                e_phi = 2.0 * ah * e + h**2 + np.abs(phi)
                e_delta = e_back * np.abs(phi) + np.abs(back) * e_phi + np.abs(delta)
            else:
                delta = back * (h > 0)
                e_delta = e_back * (h > 0)
    return bounds


def _arb_matrix(a: np.ndarray):
    """A float array (1-D as one row) as an exact Arb matrix."""
    from flint import arb_mat

    m = np.atleast_2d(np.asarray(a, dtype=float))
    return arb_mat(m.shape[0], m.shape[1], [float(v) for v in m.ravel()])


def _loss_arb(params: list, Xm: Any, ones: Any, y: np.ndarray, act: str,
              wd: Any) -> tuple[Any, list]:
    """The loss of :func:`loss_and_grad` in ball arithmetic, and the ReLU signs."""
    from flint import arb, arb_mat

    n = Xm.nrows()
    h = Xm
    signs: list[bool] = []
    n_layers = len(params) // 2
    for l in range(n_layers):
        z = h * params[2 * l] + ones * params[2 * l + 1]
        if l == n_layers - 1:
            h = z
            break
        ent = z.entries()
        if act == "tanh":
            vals = [x.tanh() for x in ent]
        else:
            vals = []
            for x in ent:
                if x > 0:
                    vals.append(x)
                    signs.append(True)
                elif x < 0:
                    vals.append(arb(0))
                    signs.append(False)
                else:
                    raise ValueError("a ReLU pre-activation cannot be told from 0 at "
                                     "this precision; the loss is not differentiable "
                                     "there")
        h = arb_mat(n, z.ncols(), vals)
    C = h.ncols()
    ent = h.entries()
    total = arb(0)
    for i in range(n):
        row = ent[i * C:(i + 1) * C]
        ex = row[0].exp()
        for x in row[1:]:
            ex += x.exp()
        total += ex.log() - row[int(y[i])]
    loss = total / n
    if wd != 0:
        sq = arb(0)
        for l in range(0, len(params), 2):
            sq += (params[l].transpose() * params[l]).trace()
        loss += wd * sq / 2
    return loss, signs


def central_difference(params: Any, X: Any, labels: Any, direction: Any, *,
                       activation: str = "tanh", weight_decay: float = 0.0,
                       step: float = 2.0**-40, bits: int = 256) -> mpmath.mpf:
    """Directional derivative of the loss by a central difference in ball arithmetic.

    ``(L(θ + h v) − L(θ − h v)) / (2h)`` with both losses evaluated from their
    definition (:func:`loss_and_grad`) in Arb at ``bits`` bits, from the exact values
    of the float parameters, direction and inputs: a reference for the gradient that
    shares nothing with back-propagation. Its error is the truncation
    ``h² |D³L[v, v, v]| / 6`` (about ``10^-25 |D³L|`` for the default ``h = 2^-40``)
    plus the radius of the ball, about ``2^-bits |L| / h``.

    Parameters
    ----------
    params, X, labels, activation, weight_decay
        As in :func:`loss_and_grad`.
    direction : list of array_like
        ``v``, the same shapes as ``params``, finite.
    step : float
        ``h > 0``.
    bits : int
        Working precision, ``>= 64``.

    Returns
    -------
    mpmath.mpf
        The midpoint of the ball enclosing the central difference (every bit of it).

    Raises
    ------
    ValueError
        For malformed inputs (as :func:`loss_and_grad`), a direction of the wrong
        shapes, ``step <= 0``, ``bits < 64``, or a ReLU pre-activation that changes
        sign inside the stencil (a kink between ``θ − hv`` and ``θ + hv``: no central
        difference approximates the derivative there).
    """
    from flint import arb, arb_mat, ctx

    from .certify import to_mpf

    A = _inputs(X)
    p = _params(params, A.shape[1])
    y, n_cls = _labels(labels, A.shape[0])
    if n_cls > p[-1].shape[0]:
        raise ValueError(f"labels go up to {n_cls - 1} but the network has only "
                         f"{p[-1].shape[0]} outputs")
    if not isinstance(direction, (list, tuple)) or len(direction) != len(p):
        raise ValueError(f"direction must be a list of {len(p)} arrays shaped like "
                         f"params")
    v = [np.asarray(q, dtype=float) for q in direction]
    for q, w in zip(v, p):
        if q.shape != w.shape or not np.all(np.isfinite(q)):
            raise ValueError(f"direction must be finite arrays shaped like params; "
                             f"got {q.shape} for {w.shape}")
    wd = _validate.finite_real(weight_decay, "weight_decay", low=0.0)
    h = _validate.finite_real(step, "step", low=0.0, low_open=True)
    prec = _validate.integer(bits, "bits", low=64)
    act = _activation(activation)
    with ctx.workprec(prec):
        Xm = _arb_matrix(A)
        ones = arb_mat(A.shape[0], 1, [1] * A.shape[0])
        hb = arb(h)
        ends = []
        for sign in (1, -1):
            shifted = [_arb_matrix(w) + _arb_matrix(q) * (sign * hb)
                       for w, q in zip(p, v)]
            ends.append(_loss_arb(shifted, Xm, ones, y, act, arb(wd)))
        if ends[0][1] != ends[1][1]:
            raise ValueError("the central-difference stencil crosses a ReLU kink; "
                             "use a smaller step")
        return to_mpf((ends[0][0] - ends[1][0]) / (2 * hb))


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


def _schedule(optimizer: str, lr: float, steps: int, batch_size: int | None,
              n_samples: int, weight_decay: float, momentum: float, betas: Any,
              record: Any, n_classes: int) -> tuple:
    """Validate the hyper-parameters shared by :func:`train` and :func:`train_conv`."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    eta = _validate.finite_real(lr, "lr", low=0.0, low_open=True)
    T = _validate.integer(steps, "steps", low=1)
    B = (None if batch_size is None
         else _validate.integer(batch_size, "batch_size", low=1))
    if B is not None and B > n_samples:
        raise ValueError(f"batch_size must be in [1, N = {n_samples}], got {B}")
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
            raise ValueError(f"record must be strictly increasing steps in "
                             f"[0, steps = {T}]")
    if rec.size * n_samples * n_classes > _MAX_ENTRIES:
        raise ValueError(f"recording {rec.size} snapshots of {n_samples} x {n_classes} "
                         "probabilities is too large; record fewer steps")
    return eta, T, B, wd, mom, b1, b2, rec


def _run(params: list[np.ndarray], loss_grad: Any, n_samples: int, n_classes: int,
         optimizer: str, eta: float, T: int, B: int | None, mom: float, b1: float,
         b2: float, rec: np.ndarray, rng: np.random.Generator) -> Trajectory:
    """The training loop of :func:`train` and :func:`train_conv`.

    ``loss_grad(params, idx, want_grad)`` returns the loss, its gradient (``[]`` unless
    ``want_grad``) and the probabilities on the samples ``idx`` (all when ``None``).
    """
    probs = np.empty((rec.size, n_samples, n_classes))
    losses = np.empty(rec.size)
    vel = [np.zeros_like(p) for p in params]
    sq = [np.zeros_like(p) for p in params]
    g: list[np.ndarray] = []
    j = 0
    for t in range(T + 1):
        recording = j < rec.size and rec[j] == t
        full_grad = B is None and t < T
        if recording or full_grad:
            with np.errstate(over="ignore", invalid="ignore"):
                loss, g, p_full = loss_grad(params, None, full_grad)
            if not np.isfinite(loss):
                raise ValueError(f"training diverged before step {t} (non-finite "
                                 f"loss); lower lr = {eta:g}")
            if recording:
                probs[j], losses[j] = p_full, loss
                j += 1
        if t == T:
            break
        if B is not None:
            idx = rng.choice(n_samples, size=B, replace=False)
            with np.errstate(over="ignore", invalid="ignore"):
                g = loss_grad(params, idx, True)[1]
        with np.errstate(over="ignore", invalid="ignore"):
            _update(optimizer, params, g, vel, sq, eta, mom, b1, b2, t)
        if not all(np.isfinite(p).all() for p in params):
            raise ValueError(f"training diverged at step {t + 1} (non-finite "
                             f"parameters); lower lr = {eta:g}")
    return Trajectory(steps=rec.copy(), probs=probs, loss=losses, params=params)


def _streams(seed: Any) -> tuple[np.random.SeedSequence, np.random.SeedSequence]:
    root = (seed if isinstance(seed, np.random.SeedSequence)
            else np.random.SeedSequence(_validate.seed(seed)))
    init_seq, batch_seq = root.spawn(2)
    return init_seq, batch_seq


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

    Cost: ``steps`` gradient evaluations (on the mini-batch, or on all ``N`` samples
    at full batch), plus one loss-only evaluation on all ``N`` samples at every
    recorded step that has no full-batch gradient (each recorded step with
    mini-batches; the final step at full batch). A non-finite loss is seen where a
    loss is computed (every step but the last at full batch, the recorded ones with
    mini-batches); elsewhere divergence shows as non-finite parameters.

    Returns
    -------
    Trajectory
        Steps, probabilities ``(n_snap, N, C)``, losses and the final parameters.

    Raises
    ------
    ValueError
        For malformed inputs or labels, an unknown activation or optimiser, out-of-range
        hyper-parameters, unsorted or out-of-range recording steps, a recording of
        more than ``MAX_ENTRIES`` probabilities (``len(record)·N·C``, the limit of
        ``ribbonlib._validate``; exactly that many are accepted), or a run that
        diverges (non-finite loss: lower the learning rate).
    """
    A = _inputs(X)
    N, d = A.shape
    y, C = _labels(labels, N)
    act = _activation(activation)
    eta, T, B, wd, mom, b1, b2, rec = _schedule(optimizer, lr, steps, batch_size, N,
                                                weight_decay, momentum, betas, record,
                                                C)
    init_seq, batch_seq = _streams(seed)
    if params0 is None:
        params = init_params(d, C, hidden, activation=act, out_scale=out_scale, seed=init_seq)
    else:
        params = [p.copy() for p in _params(params0, d)]
        if params[-1].shape[0] != C:
            raise ValueError(f"params0 must have {C} outputs (one per class), got {params[-1].shape[0]}")

    def loss_grad(p: list[np.ndarray], idx: np.ndarray | None, want: bool):
        if idx is None:
            return _loss_grad(p, A, y, act, wd, want_grad=want)
        return _loss_grad(p, A[idx], y[idx], act, wd, want_grad=want)

    return _run(params, loss_grad, N, C, optimizer, eta, T, B, mom, b1, b2, rec,
                np.random.default_rng(batch_seq))


# ------------------------------------------------------- small convolutional networks


def _image_shape(image_shape: Any, n_layers: int) -> tuple[int, int]:
    if not (isinstance(image_shape, (tuple, list)) and len(image_shape) == 2):
        raise ValueError(f"image_shape must be a pair (height, width), "
                         f"got {image_shape!r}")
    H = _validate.integer(image_shape[0], "image height", low=1)
    W = _validate.integer(image_shape[1], "image width", low=1)
    if H % 2**n_layers or W % 2**n_layers:
        raise ValueError(f"image sides must be divisible by 2^{n_layers} (one 2x2 "
                         f"pooling per convolutional layer), got {H} x {W}")
    return H, W


def init_conv_params(image_shape: tuple[int, int], n_classes: int,
                     channels: Sequence[int], *, activation: str = "relu",
                     out_scale: float = 1.0, seed: Any = 0) -> list[np.ndarray]:
    """Random initial parameters of a small convolutional network (:func:`conv_logits`).

    Parameters ``[K_1, c_1, ..., K_L, c_L, W, b]``: ``K_l`` of shape
    ``(9 ch_{l-1}, ch_l)`` (a 3 x 3 kernel over ``ch_{l-1}`` input channels,
    ``ch_0 = 1``), ``c_l`` of shape ``(ch_l,)``, and the output layer ``W`` of shape
    ``(ch_L h_L w_L, C)``, ``b`` of shape ``(C,)``, with ``h_L = H/2^L`` and
    ``w_L = W/2^L``.
    As in :func:`init_params`, every weight and bias is drawn from
    ``N(0, g²/(fan_in + 1))`` with the hidden gain ``1`` (``tanh``) or ``sqrt(2)``
    (``relu``) and the output gain ``out_scale``.

    Parameters
    ----------
    image_shape : (int, int)
        Height and width of the images, each divisible by ``2^L``.
    n_classes : int
        ``C >= 2``.
    channels : sequence of int
        Output channels ``ch_1, ..., ch_L`` of the convolutional layers, ``L >= 1``.
    activation : {"tanh", "relu"}
    out_scale : float
        Gain of the output layer, ``>= 0``.
    seed : int or numpy.random.SeedSequence

    Returns
    -------
    list of numpy.ndarray
    """
    chans = [_validate.integer(c, "channels", low=1) for c in channels]
    if not chans:
        raise ValueError("channels must name at least one convolutional layer")
    H, W = _image_shape(image_shape, len(chans))
    C = _validate.integer(n_classes, "n_classes", low=2)
    act = _activation(activation)
    g_out = _validate.finite_real(out_scale, "out_scale", low=0.0)
    rng = np.random.default_rng(_validate.seed(seed))
    g_hid = 1.0 if act == "tanh" else np.sqrt(2.0)
    params = []
    c_in = 1
    for c in chans:
        sd = g_hid / np.sqrt(9 * c_in + 1)
        params += [sd * rng.standard_normal((9 * c_in, c)), sd * rng.standard_normal(c)]
        c_in = c
    feat = c_in * (H >> len(chans)) * (W >> len(chans))
    sd = g_out / np.sqrt(feat + 1)
    params += [sd * rng.standard_normal((feat, C)), sd * rng.standard_normal(C)]
    return params


def _images(A: np.ndarray, image_shape: Any) -> tuple[int, int]:
    """``(H, W)`` of ``image_shape``, checked against the columns of ``A``."""
    H, W = _image_shape(image_shape, 0)
    if A.shape[1] != H * W:
        raise ValueError(f"X must have H*W = {H * W} columns (flattened images), "
                         f"got {A.shape[1]}")
    return H, W


def _conv_params(params: Any, H: int, W: int) -> list[np.ndarray]:
    if not isinstance(params, (list, tuple)) or len(params) < 4 or len(params) % 2:
        raise ValueError("params must be a list [K_1, c_1, ..., K_L, c_L, W, b] "
                         "with L >= 1")
    out = [np.asarray(p, dtype=float) for p in params]
    L = len(out) // 2 - 1
    _image_shape((H, W), L)
    c_in = 1
    for l in range(L):
        K, c = out[2 * l], out[2 * l + 1]
        if K.ndim != 2 or K.shape[0] != 9 * c_in or c.shape != (K.shape[1],):
            raise ValueError(f"params: convolutional layer {l + 1} must be K of shape "
                             f"({9 * c_in}, ch) and c of shape (ch,), got {K.shape} "
                             f"and {c.shape}")
        c_in = K.shape[1]
    feat = c_in * (H >> L) * (W >> L)
    Wo, bo = out[-2], out[-1]
    if (Wo.ndim != 2 or Wo.shape[0] != feat or bo.shape != (Wo.shape[1],)
            or Wo.shape[1] < 2):
        raise ValueError(f"params: the output layer must be W of shape "
                         f"({feat}, C >= 2) and b of shape (C,), got {Wo.shape} and "
                         f"{bo.shape}")
    if not all(np.all(np.isfinite(p)) for p in out):
        raise ValueError("params hold non-finite entries")
    return out


def _patches(h: np.ndarray) -> np.ndarray:
    """3 x 3 neighbourhoods with zero padding: ``(n, H, W, c) -> (n, H, W, 9c)``."""
    n, H, W, c = h.shape
    pad = np.zeros((n, H + 2, W + 2, c))
    pad[:, 1:-1, 1:-1] = h
    out = np.empty((n, H, W, 9 * c))
    for k, (i, j) in enumerate(_OFFSETS):
        out[..., k * c:(k + 1) * c] = pad[:, i:i + H, j:j + W]
    return out


def _patches_adjoint(g: np.ndarray, c: int) -> np.ndarray:
    """The adjoint of :func:`_patches`: ``(n, H, W, 9c) -> (n, H, W, c)``."""
    n, H, W, _ = g.shape
    pad = np.zeros((n, H + 2, W + 2, c))
    for k, (i, j) in enumerate(_OFFSETS):
        pad[:, i:i + H, j:j + W] += g[..., k * c:(k + 1) * c]
    return pad[:, 1:-1, 1:-1]


_OFFSETS = tuple((i, j) for i in range(3) for j in range(3))


def _pool(h: np.ndarray) -> np.ndarray:
    """2 x 2 average pooling, ``(n, H, W, c) -> (n, H/2, W/2, c)``."""
    return 0.25 * (h[:, 0::2, 0::2] + h[:, 1::2, 0::2]
                   + h[:, 0::2, 1::2] + h[:, 1::2, 1::2])


def _pool_adjoint(g: np.ndarray) -> np.ndarray:
    """The adjoint of :func:`_pool`: each input of a block receives a quarter."""
    n, h, w, c = g.shape
    out = np.empty((n, 2 * h, 2 * w, c))
    q = 0.25 * g
    for i in (0, 1):
        for j in (0, 1):
            out[:, i::2, j::2] = q
    return out


def _conv_forward(params: list[np.ndarray], X: np.ndarray, H: int, W: int, act: str,
                  first: np.ndarray | None = None
                  ) -> tuple[list, np.ndarray, np.ndarray]:
    """Per layer (patches, activations), the flattened features and the logits.

    ``first``, if given, holds the first layer's patches (``_patches`` of the images).
    """
    L = len(params) // 2 - 1
    h = X.reshape(-1, H, W, 1)
    cache = []
    for l in range(L):
        P = first if l == 0 and first is not None else _patches(h)
        z = P @ params[2 * l] + params[2 * l + 1]
        a = np.tanh(z) if act == "tanh" else np.maximum(z, 0.0)
        cache.append((P, a))
        h = _pool(a)
    feats = h.reshape(h.shape[0], -1)
    return cache, feats, feats @ params[-2] + params[-1]


def _conv_loss_grad(params: list[np.ndarray], X: np.ndarray, y: np.ndarray, H: int,
                    W: int, act: str, wd: float, want_grad: bool = True,
                    first: np.ndarray | None = None
                    ) -> tuple[float, list[np.ndarray], np.ndarray]:
    """Loss, gradient (``[]`` unless ``want_grad``) and probabilities on ``X``."""
    cache, feats, f = _conv_forward(params, X, H, W, act, first)
    loss, probs, delta = _softmax_head(f, y, params, wd, want_grad)
    if delta is None:
        return loss, [], probs
    grads: list[np.ndarray] = [np.empty(0)] * len(params)
    grads[-2] = feats.T @ delta + wd * params[-2]
    grads[-1] = delta.sum(axis=0)
    back = delta @ params[-2].T
    for l in range(len(cache) - 1, -1, -1):
        P, a = cache[l]
        c = a.shape[-1]
        back = _pool_adjoint(back.reshape(a.shape[0], a.shape[1] // 2,
                                          a.shape[2] // 2, c))
        dz = back * (1.0 - a**2) if act == "tanh" else back * (a > 0)
        dz2 = dz.reshape(-1, c)
        grads[2 * l] = P.reshape(-1, P.shape[-1]).T @ dz2 + wd * params[2 * l]
        grads[2 * l + 1] = dz2.sum(axis=0)
        if l > 0:
            c_in = P.shape[-1] // 9
            back = _patches_adjoint((dz2 @ params[2 * l].T).reshape(P.shape), c_in)
    return loss, grads, probs


def conv_logits(params: Any, X: Any, image_shape: tuple[int, int],
                activation: str = "relu") -> np.ndarray:
    """Logits of a small convolutional network, shape ``(N, C)``.

    Each of the ``L`` convolutional layers applies a 3 x 3 convolution with zero padding
    (``ch_{l-1} -> ch_l`` channels, plus a bias per channel), the nonlinearity and a
    2 x 2 average pooling; the flattened features of the last layer go through one
    linear output layer. Parameters as from :func:`init_conv_params`.

    Parameters
    ----------
    params : list of array_like
    X : array_like, shape (N, H W)
        Images, one per row, flattened row by row.
    image_shape : (int, int)
        ``(H, W)``.
    activation : {"tanh", "relu"}
    """
    A = _inputs(X)
    H, W = _images(A, image_shape)
    p = _conv_params(params, H, W)
    return _conv_forward(p, A, H, W, _activation(activation))[2]


def conv_loss_and_grad(params: Any, X: Any, labels: Any,
                       image_shape: tuple[int, int], *, activation: str = "relu",
                       weight_decay: float = 0.0) -> tuple[float, list[np.ndarray]]:
    """Training loss of a convolutional network (:func:`conv_logits`) and its gradient.

    The loss is that of :func:`loss_and_grad`, the weight decay acting on the kernels
    and on the output weights.

    Returns
    -------
    loss : float
    grads : list of numpy.ndarray
        Same shapes as ``params``.
    """
    A = _inputs(X)
    H, W = _images(A, image_shape)
    p = _conv_params(params, H, W)
    y, n_cls = _labels(labels, A.shape[0])
    if n_cls > p[-1].shape[0]:
        raise ValueError(f"labels go up to {n_cls - 1} but the network has only "
                         f"{p[-1].shape[0]} outputs")
    wd = _validate.finite_real(weight_decay, "weight_decay", low=0.0)
    loss, grads, _ = _conv_loss_grad(p, A, y, H, W, _activation(activation), wd)
    return loss, grads


def train_conv(X: Any, labels: Any, image_shape: tuple[int, int], *,
               channels: Sequence[int], activation: str = "relu", optimizer: str = "gd",
               lr: float, steps: int, batch_size: int | None = None,
               weight_decay: float = 0.0, momentum: float = 0.9,
               betas: tuple[float, float] = (0.9, 0.999), out_scale: float = 1.0,
               seed: Any = 0, record: Any = None) -> Trajectory:
    """Train a small convolutional network (:func:`conv_logits`), recording predictions.

    The update rules, the mini-batches, the seeding and the recording are those of
    :func:`train`; the parameters are drawn by :func:`init_conv_params`.

    Parameters
    ----------
    X : array_like, shape (N, H W)
        Images, flattened row by row.
    labels : array_like of int, shape (N,)
    image_shape : (int, int)
        ``(H, W)``, each divisible by ``2^len(channels)``.
    channels : sequence of int
        Channels of the convolutional layers.
    activation, optimizer, lr, steps, batch_size, weight_decay, momentum, betas
        As in :func:`train`.
    out_scale, seed, record
        As in :func:`train`.

    Returns
    -------
    Trajectory
    """
    A = _inputs(X)
    N = A.shape[0]
    H, W = _images(A, image_shape)
    y, C = _labels(labels, N)
    act = _activation(activation)
    eta, T, B, wd, mom, b1, b2, rec = _schedule(optimizer, lr, steps, batch_size, N,
                                                weight_decay, momentum, betas, record,
                                                C)
    init_seq, batch_seq = _streams(seed)
    params = init_conv_params((H, W), C, channels, activation=act, out_scale=out_scale,
                              seed=init_seq)

    first = _patches(A.reshape(N, H, W, 1))    # the first layer's patches never change

    def loss_grad(p: list[np.ndarray], idx: np.ndarray | None, want: bool):
        if idx is None:
            return _conv_loss_grad(p, A, y, H, W, act, wd, want_grad=want, first=first)
        return _conv_loss_grad(p, A[idx], y[idx], H, W, act, wd, want_grad=want,
                               first=first[idx])

    return _run(params, loss_grad, N, C, optimizer, eta, T, B, mom, b1, b2, rec,
                np.random.default_rng(batch_seq))


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
        For malformed inputs, a singular ``Σ`` (some eigenvalue is 0 to round-off:
        ``λ_min <= 1000 ε λ_1 max(N, d + 1)``, ``ε`` the float64 machine epsilon), or a
        learning rate at which the twin diverges (``lr·λ_1/C >= 2``).
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



def _twin(twin: Any) -> LinearTwin:
    if not isinstance(twin, LinearTwin):
        raise ValueError(f"twin must be a LinearTwin (from linear_twin), "
                         f"got {type(twin).__name__}")
    return twin


def twin_one_copy(twin: LinearTwin) -> tuple[np.ndarray, np.ndarray, float]:
    """The ``d_a``-mode cloud whose spectrum, with the noise, makes up the twin's.

    The twin's cloud has ``D = d_a (C − 1)`` modes: eigenvalue ``λ_k`` repeated
    ``C − 1`` times, ground truth ``b_{k,a}``, noise ``n_k = (s²/D) λ_k G_kk`` (the same
    for every ``a``). Its covariance is ``S + diag(n)`` with
    ``S_{(k,a),(l,a')} = sqrt(λ_k λ_l) b_{ka} b_{la'} (G_kl − m_k m_l)``: in the block
    of mode ``k`` it acts only along ``b_{k,·}``. On the ``C − 2`` directions
    orthogonal to ``b_{k,·}`` the covariance is ``n_k``; on the unit vectors
    ``e_k ⊗ b_{k,·}/β_k`` it is the cloud covariance of ``d_a`` modes with ground truth
    ``β_k = ||b_{k,·}||`` and initial scale ``s' = s / sqrt(C − 1)`` (so that
    ``s'²/d_a = s²/D``). Hence the spectrum of the twin's cloud is that of
    ``ribbonlib.cloud.covariance(λ, β, s', η, T)`` together with every ``n_k`` repeated
    ``C − 2`` times (for ``β_k = 0`` the ``d_a``-mode cloud holds the last copy).

    Parameters
    ----------
    twin : LinearTwin

    Returns
    -------
    lam : numpy.ndarray, shape (d_a,)
        The distinct eigenvalues ``λ_k`` of ``Σ_a``.
    beta : numpy.ndarray, shape (d_a,)
        ``||b_{k,·}||`` (float64).
    s : float
        ``s / sqrt(C − 1)`` (float64).
    """
    tw = _twin(twin)
    da, C = tw.V.shape[0], tw.Q.shape[0]
    B = tw.b.reshape(da, C - 1)
    lam = tw.lam.reshape(da, C - 1)[:, 0].copy()
    return lam, np.linalg.norm(B, axis=1), tw.s / np.sqrt(C - 1.0)


def twin_spectra_grid(twin: LinearTwin, s_values: Any, steps: Any) -> np.ndarray:
    """Cloud spectra of the twin on a grid of initial scales and horizons, via one copy.

    :func:`ribbonlib.phase.spectra_grid` of the ``d_a``-mode cloud of
    :func:`twin_one_copy` (initial scales ``s/sqrt(C − 1)``), merged with the noise
    variances repeated ``C − 2`` times: the spectra of
    ``ribbonlib.cloud.covariance(twin.lam, twin.b, s, twin.eta, T)`` at the cost of
    matrices of size ``d_a`` instead of ``d_a (C − 1)``.

    Parameters
    ----------
    twin : LinearTwin
    s_values : array_like, shape (R,)
        Initial scales ``s >= 0`` of the twin (the convention of ``LinearTwin.s``).
    steps : array_like of int, shape (A,)
        Horizons ``T >= 0``.

    Returns
    -------
    numpy.ndarray, shape (A, R, d_a (C − 1))
        Descending eigenvalues.
    """
    from .cloud import noise_variances
    from .phase import spectra_grid

    tw = _twin(twin)
    lam, beta, _ = twin_one_copy(tw)
    C = tw.Q.shape[0]
    s_arr = np.atleast_1d(np.asarray(s_values, dtype=float))
    if (s_arr.ndim != 1 or s_arr.size == 0 or not np.all(np.isfinite(s_arr))
            or np.any(s_arr < 0)):
        raise ValueError("s_values must be a non-empty 1-D array of finite scales >= 0")
    T_arr = np.atleast_1d(np.asarray(steps))
    if (T_arr.ndim != 1 or T_arr.size == 0 or not np.issubdtype(T_arr.dtype, np.integer)
            or np.any(T_arr < 0)):
        raise ValueError("steps must be a non-empty 1-D array of integers >= 0")
    s1 = s_arr / np.sqrt(C - 1.0)
    one = spectra_grid(np.tile(lam, (T_arr.size, 1)), beta, s1, tw.eta, T_arr)
    out = np.empty(one.shape[:2] + (lam.size * (C - 1),))
    for a, T in enumerate(T_arr):
        n_hat = noise_variances(lam, 1.0, tw.eta, int(T))
        for r, s in enumerate(s1):
            merged = np.concatenate([one[a, r], np.repeat(s * s * n_hat, C - 2)])
            out[a, r] = np.sort(merged)[::-1]
    return out


def twin_spectrum_enclosure(twin: LinearTwin, steps: int) -> tuple[Any, Any]:
    """Rigorous enclosures of the descending eigenvalues of the twin's exact cloud.

    The cloud covariance is that of :func:`ribbonlib.cloud.covariance`.

    For the twin's float parameters taken as exact numbers (``twin.lam``, ``twin.b``,
    ``twin.s``, ``twin.eta``): the ``d_a``-mode cloud of :func:`twin_one_copy` (with
    ``β_k`` and ``s'`` enclosed in Arb) by :func:`ribbonlib.certify.cloud_matrices` and
    :func:`ribbonlib.certify.symmetric_eigenvalues`, merged with the enclosures of the
    noise variances repeated ``C − 2`` times; the ``m``-th largest value of a set of
    intervals lies between the ``m``-th largest lower and the ``m``-th largest upper
    end.

    Parameters
    ----------
    twin : LinearTwin
    steps : int
        ``T >= 0``.

    Returns
    -------
    ribbonlib.certify.Enclosure, shape (d_a (C − 1),)
        ``lo[m] <= μ_{m+1} <= hi[m]``.
    trace : flint.arb
        The trace of the exact covariance.
    """
    from flint import arb, ctx

    from . import certify

    tw = _twin(twin)
    T = _validate.integer(steps, "steps", low=0)
    da, C = tw.V.shape[0], tw.Q.shape[0]
    lam = tw.lam.reshape(da, C - 1)[:, 0]
    B = tw.b.reshape(da, C - 1)
    with ctx.workprec(192):
        beta = np.array([sum((arb(float(x)) ** 2 for x in row), arb(0)).sqrt()
                         for row in B], dtype=object)
        s1 = arb(float(tw.s)) / arb(C - 1).sqrt()
        S, noise_unit = certify.cloud_matrices(lam, beta, tw.eta, T)
        s2 = s1 * s1
        noise = [s2 * x for x in noise_unit]
        Cm = S.__class__(S)
        for k in range(da):
            Cm[k, k] = Cm[k, k] + noise[k]
        eig = certify.symmetric_eigenvalues(Cm, balls=True)
        values = list(eig) + [x for x in noise for _ in range(C - 2)]
        trace = Cm.trace() + (C - 2) * sum(noise, arb(0))
    enc = certify.enclose(np.array(values, dtype=object))
    return certify.Enclosure(np.sort(enc.lo)[::-1], np.sort(enc.hi)[::-1]), trace


def twin_closed_form(twin: LinearTwin, X: Any, labels: Any, params0: Any,
                     steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The twin's centred weights by the closed form, and a bound on their round-off.

    ``Ŵ_t = V ĉ_t Qᵀ`` with ``ĉ_t`` = :func:`ribbonlib.dynamics.gd_modes` of the twin's
    ``(λ, b, c_0 = Vᵀ W_0 Q, η/C)``, ``W_0`` the weights of ``params0`` over its bias
    row. The exact twin, the linearised gradient descent
    ``W_{t+1} = W_t − (η/C)(Σ_a W_t P − X_aᵀ C(Y − 1/C)/N)`` from ``W_0 P`` with the
    exact ``η/C``, differs from it in the logits by at most
    ``bound[t] >= ||X_a (Ŵ_t − W_t P)||_F``, to first order in ``u = 2^-53``. The bound
    is ``sqrt(N λ_1)`` times the sum of

    * the round-off of the modes (:func:`ribbonlib.dynamics.gd_modes_error_bound`) and
      of the products ``V ĉ_t Qᵀ``;
    * the initial error ``||V ĉ_0 Qᵀ − W_0 P||_F`` (rounding of ``c_0``, and the
      measured departure of the computed ``V`` and ``Q`` from orthonormality);
    * the one-step defects of the closed form under the exact twin update, summed over
      ``τ < t`` (the update does not expand errors when ``ηλ_1 <= 2C``): the measured
      residual ``Σ_a V − V diag(λ)`` of the computed eigenvectors (with the error of its
      evaluation), the departure of ``V`` from orthonormality, the rounding of ``b``
      (products of lengths ``N``, ``d_a``, ``d_a``, ``d_a`` and ``C``) and of ``η/C``.

    Since the departures of ``V`` and ``Q`` from orthonormality and the residual of the
    eigenpairs are measured, not assumed of round-off size, the bound also holds for a
    twin whose ``V`` or ``Q`` has been perturbed (by up to ``10^-3`` relative, say):
    there it is dominated by these measured terms, first order in the perturbation.
    With ``ω = ||VᵀV − I||_F``, ``ω_Q = ||QQᵀ − P||_F`` and ``c_0 = VᵀW_0Q``, the bound at
    ``t = 0`` is ``sqrt(N λ_1) ((ω + ω_Q)(1 + ω)||W_0||_F + ω_Q (1 + ω)(1 + ω_Q)||c_0||_F)``
    up to terms of order ``u`` (``λ_1`` the largest ``λ_k`` plus the residual
    ``||Σ_a V − V diag(λ)||_F`` of the eigenpairs).

    Parameters
    ----------
    twin : LinearTwin
        From :func:`linear_twin` with the same ``X`` and ``labels``.
    X : array_like, shape (N, d)
        The training inputs of ``twin``.
    labels : array_like of int, shape (N,)
        Its labels.
    params0 : list of array_like
        ``[W, b]`` of a softmax-linear model with ``C`` outputs.
    steps : int
        ``T >= 0``.

    Returns
    -------
    weights : numpy.ndarray, shape (T + 1, d + 1, C)
        ``Ŵ_t`` (the weights over the bias row).
    bound : numpy.ndarray, shape (T + 1,)
        The bound on ``||X_a (Ŵ_t − W_t P)||_F``.

    Raises
    ------
    ValueError
        For a ``twin`` that is not a :class:`LinearTwin`, inputs or labels that do not
        match it, ``params0`` that is not a softmax-linear model, or ``steps < 0``.
    """
    from .dynamics import gd_modes, gd_modes_error_bound

    _twin(twin)
    A = _inputs(X)
    N, d = A.shape
    y, n_cls = _labels(labels, N)
    da, C = twin.V.shape[0], twin.Q.shape[0]
    if da != d + 1 or n_cls != C:
        raise ValueError(f"X and labels must be those of the twin: {da - 1} features "
                         f"and {C} classes, got {d} and {n_cls}")
    p = _params(params0, d)
    if len(p) != 2 or p[1].shape[0] != C:
        raise ValueError(f"params0 must be a softmax-linear model [W, b] with {C} "
                         f"outputs")
    T = _validate.integer(steps, "steps", low=0)
    u = UNIT_ROUNDOFF
    W0 = np.vstack([p[0], p[1][None, :]])
    V, Q = twin.V, twin.Q
    lam = twin.lam.reshape(da, C - 1)[:, 0]
    c0 = V.T @ W0 @ Q
    shape = (T + 1, da, C - 1)
    modes = gd_modes(twin.lam, twin.b, c0.ravel(), twin.eta, T).reshape(shape)
    e_modes = gd_modes_error_bound(twin.lam, twin.b, c0.ravel(), twin.eta, T)
    e_modes = e_modes.reshape(shape)
    weights = np.einsum("kj,tja,ca->tkc", V, modes, Q)
    Xa = np.hstack([A, np.ones((N, 1))])
    aX, aV, aQ = np.abs(Xa), np.abs(V), np.abs(Q)
    # measured departures from orthonormality, with the error of their evaluation
    omega = (float(np.linalg.norm(V.T @ V - np.eye(da)))
             + (da + 1) * u * float(np.sum(V * V)))
    omega_q = float(np.linalg.norm(Q @ Q.T - (np.eye(C) - 1.0 / C))) + (C + 3) * u * C
    grow = (1.0 + omega) * (1.0 + omega_q)
    # residual of the eigenpairs for the exact Σ_a = X_aᵀX_a/N (S is its float64 value)
    S = Xa.T @ Xa / N
    dS = float(np.linalg.norm((N + 1) * u * (aX.T @ aX) / N))
    res_v = (float(np.linalg.norm(S @ V - V * lam[None, :]))
             + (da + 1) * u * (float(np.linalg.norm(np.abs(S) @ aV))
                               + float(np.linalg.norm(aV * lam[None, :])))
             + dS * (1.0 + omega))
    lam1 = float(lam.max()) + res_v + dS
    # rounding of b: the chain of linear_twin, and V's departure from orthonormality
    targets = np.abs(C * np.eye(C)[y] - 1.0)
    chain = (aV.T @ (aV @ ((aV.T @ (aX.T @ targets) / N) / lam[:, None]))) @ aQ
    b_hat = twin.b.reshape(da, C - 1)
    e_b = ((N + 3 * da + C + 4) * u * chain
           + omega * float(np.linalg.norm(b_hat)) * (1.0 + omega))
    rhs = float(np.linalg.norm(Xa.T @ (C * np.eye(C)[y] - 1.0) / N))
    rhs *= 1.0 + (N + 2) * u
    step = twin.eta * (1.0 + u)                                   # >= the exact η/C
    # one-step defects of the exact closed form under the exact update, first order
    c_norm = np.linalg.norm(modes.reshape(T + 1, -1), axis=1)
    drift = lam[None, :, None] * (modes - b_hat[None])
    drift = np.linalg.norm(drift.reshape(T + 1, -1), axis=1)
    e_lam_b = float(np.linalg.norm(lam[:, None] * e_b))
    defect = (step * (grow * res_v * c_norm + omega * rhs + grow * e_lam_b)
              + u * step * grow * drift)
    e_c0 = (da + C) * u * float(np.linalg.norm(aV.T @ np.abs(W0) @ aQ))
    e_init = (grow * (1.0 + omega) * e_c0
              + (omega + omega_q) * float(np.linalg.norm(W0)) * (1.0 + omega))
    # rounding of V ĉ_t Qᵀ: ||(|V| |ĉ_t| |Q|ᵀ)||_F <= ||V||_F ||ĉ_t||_F ||Q||_F
    products = float(np.linalg.norm(V)) * float(np.linalg.norm(Q)) * c_norm
    here = (grow * np.linalg.norm(e_modes.reshape(T + 1, -1), axis=1)
            + (da + C) * u * products + omega_q * grow * c_norm)
    acc = e_init + np.concatenate([[0.0], np.cumsum(defect[:-1])])
    return weights, np.sqrt(N * lam1) * (here + acc)


@dataclass(frozen=True)
class TwinTracking:
    """Ball enclosures along exact softmax-linear gradient descent and its linear twin.

    Both runs start from the same weights and are computed in Arb ball arithmetic from
    the exact values of the float inputs, so every entry is an interval that provably
    contains the exact number (exact arithmetic, no round-off). The arrays hold
    ``flint.arb`` balls, one per step ``t = 0..T``.

    Attributes
    ----------
    error : numpy.ndarray of flint.arb, shape (T + 1,)
        ``||E_t||_F`` with ``E_t = (F_t − F^lin_t) P``, the centred difference of the
        logits.
    remainder : numpy.ndarray of flint.arb, shape (T + 1,)
        ``||R(F_t)||_F``, ``R`` the row-wise remainder ``softmax(f) − 1/C − Pf/C``.
    quartic : numpy.ndarray of flint.arb, shape (T + 1,)
        ``(Σ_i ||P f_{t,i}||⁴)^(1/2)``.
    lemma : numpy.ndarray of flint.arb, shape (T + 1,)
        ``max_i ||R(f_{t,i})|| / (½ ||P f_{t,i}||²)`` over the samples; a sample with
        ``P f_{t,i} = 0`` (all its logits equal, so ``R(f_{t,i}) = 0``) counts 0.
    displacement : numpy.ndarray of flint.arb, shape (T + 1,)
        ``||(F_t − F_0) P||_F``.
    rms : numpy.ndarray of flint.arb, shape (T + 1,)
        ``(Σ_i ||P f_{t,i}||² / N)^(1/2)``, the root-mean-square centred logit vector.
    loss : numpy.ndarray of flint.arb, shape (T + 1,)
        The mean cross-entropy of the real run.
    lam1 : flint.arb
        The largest eigenvalue of ``Σ_a = X_aᵀX_a/N``
        (:func:`ribbonlib.certify.symmetric_eigenvalues`).
    sigma : flint.arb_mat
        ``Σ_a``.
    twin_weights : list of flint.arb_mat
        ``W^lin_t P``, the centred weights of the twin (bias as the last row).
    n_samples : int
        ``N``.
    """

    error: np.ndarray
    remainder: np.ndarray
    quartic: np.ndarray
    lemma: np.ndarray
    displacement: np.ndarray
    rms: np.ndarray
    loss: np.ndarray
    lam1: Any
    sigma: Any
    twin_weights: list
    n_samples: int

    def logit_distance(self, weights: Any) -> np.ndarray:
        """``||X_a (W_t − W^lin_t P)||_F`` for float weights ``W_t``, in Arb balls.

        ``weights`` has shape ``(T + 1, d_a, C)``; the distance is evaluated as
        ``sqrt(N tr(Dᵀ Σ_a D))``, ``D = W_t − W^lin_t P``.
        """
        from flint import ctx

        arr = np.asarray(weights, dtype=float)
        T1 = len(self.twin_weights)
        shape = (T1, self.twin_weights[0].nrows(), self.twin_weights[0].ncols())
        if arr.shape != shape or not np.all(np.isfinite(arr)):
            raise ValueError(f"weights must be finite, of shape {shape}; "
                             f"got {arr.shape}")
        out = np.empty(T1, dtype=object)
        with ctx.workprec(max(ctx.prec, 128)):
            for t in range(T1):
                D = _arb_matrix(arr[t]) - self.twin_weights[t]
                q = self.n_samples * (D.transpose() * (self.sigma * D)).trace()
                out[t] = q.nonnegative_part().sqrt()
        return out


def twin_tracking(X: Any, labels: Any, params0: Any, *, lr: float, steps: int,
                  bits: int = 128) -> TwinTracking:
    """Exact softmax-linear gradient descent and its linear twin, in ball arithmetic.

    The real run is ``W_{t+1} = W_t − η X_aᵀ(softmax(X_a W_t) − Y)/N`` (cross-entropy,
    no weight decay), the twin ``W_{t+1} = W_t − η X_aᵀ(1/C + X_a W_t P/C − Y)/N``, both
    from the weights of ``params0`` (bias as the last row of ``W``). Every quantity of
    the tracking proposition (the linearisation remainder, the distance between the
    logits, the lemma's ratio for every sample) is enclosed at every step; see
    :class:`TwinTracking`.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Training inputs (a constant column is appended for the bias).
    labels : array_like of int, shape (N,)
        Classes ``0..C-1``.
    params0 : list of array_like
        ``[W, b]`` of a softmax-linear model with ``C`` outputs.
    lr : float
        Learning rate ``η > 0``.
    steps : int
        ``T >= 0``.
    bits : int
        Working precision of the balls, ``>= 64``.

    Returns
    -------
    TwinTracking

    Raises
    ------
    ValueError
        For malformed inputs or labels, ``params0`` that is not a softmax-linear model
        with ``C`` outputs, ``lr <= 0``, ``steps < 0`` or ``bits < 64``, or when a
        ball loses all accuracy (the run diverges).
    """
    from functools import reduce

    from flint import arb, arb_mat, ctx

    from .certify import symmetric_eigenvalues

    A = _inputs(X)
    N, d = A.shape
    y, C = _labels(labels, N)
    p = _params(params0, d)
    if len(p) != 2 or p[1].shape[0] != C:
        raise ValueError(f"params0 must be a softmax-linear model [W, b] with {C} "
                         f"outputs")
    eta = _validate.finite_real(lr, "lr", low=0.0, low_open=True)
    T = _validate.integer(steps, "steps", low=0)
    prec = _validate.integer(bits, "bits", low=64)
    W0 = np.vstack([p[0], p[1][None, :]])
    with ctx.workprec(prec):
        Xm = _arb_matrix(np.hstack([A, np.ones((N, 1))]))
        XmT = Xm.transpose()
        sigma = (XmT * Xm) / N
        lam1 = symmetric_eigenvalues(sigma, balls=True)[0]
        onehot = np.eye(C)[y]
        Ym = _arb_matrix(onehot)
        inv_c = arb(1) / C
        Pm = arb_mat(C, C, [int(i == j) - inv_c for i in range(C) for j in range(C)])
        Jc = arb_mat(N, C, [inv_c] * (N * C))
        K0 = (XmT * (Jc - Ym)) / N
        eta_b = arb(eta)
        W = _arb_matrix(W0)
        Wl = _arb_matrix(W0)
        W0P = W * Pm
        keys = ("error", "remainder", "quartic", "lemma", "displacement", "rms", "loss")
        cols = {k: np.empty(T + 1, dtype=object) for k in keys}
        twin_weights = []
        zero = arb(0)
        for t in range(T + 1):
            F = Xm * W
            fe = F.entries()
            ex = [x.exp() for x in fe]
            sums = [sum(ex[i * C:(i + 1) * C], zero) for i in range(N)]
            inv = [1 / s for s in sums]
            probs = arb_mat(N, C, [ex[k] * inv[k // C] for k in range(N * C)])
            Pf = F * Pm
            R = probs - Jc - Pf * inv_c
            re, pe = R.entries(), Pf.entries()
            r2 = [sum([x * x for x in re[i * C:(i + 1) * C]], zero) for i in range(N)]
            q2 = [sum([x * x for x in pe[i * C:(i + 1) * C]], zero) for i in range(N)]
            # P f = 0 exactly means f is constant, so softmax(f) = 1/C and R(f) = 0:
            # the ratio is 0, even when the ball of ||R||² is not an exact zero
            ratios = [zero if q.is_zero()
                      else r.nonnegative_part().sqrt() / (q / 2)
                      for r, q in zip(r2, q2)]
            cols["lemma"][t] = reduce(lambda a, b: a.max(b), ratios)
            cols["remainder"][t] = (R.transpose() * R).trace().nonnegative_part().sqrt()
            cols["quartic"][t] = sum([q * q for q in q2], zero).sqrt()
            cols["rms"][t] = (sum(q2, zero) / N).sqrt()
            lse = [s.log() - fe[i * C + yi]
                   for i, (s, yi) in enumerate(zip(sums, y.tolist()))]
            cols["loss"][t] = sum(lse, zero) / N
            for key, D in (("error", (W - Wl) * Pm), ("displacement", W * Pm - W0P)):
                q = N * (D.transpose() * (sigma * D)).trace()
                cols[key][t] = q.nonnegative_part().sqrt()
            twin_weights.append(Wl * Pm)
            if not all(cols[k][t].is_finite() for k in ("error", "loss", "lemma")):
                raise ValueError(f"the balls lost all accuracy at step {t} (diverging "
                                 f"run?); lower lr = {eta:g}")
            if t == T:
                break
            W = W - (XmT * (probs - Ym)) * (eta_b / N)
            Wl = Wl - (sigma * Wl * Pm * inv_c + K0) * eta_b
    return TwinTracking(twin_weights=twin_weights, lam1=lam1, sigma=sigma, n_samples=N,
                        **cols)
