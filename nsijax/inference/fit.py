"""Maximum-likelihood fits of named scalar parameters with optax (L-BFGS, Adam fallback).

A fit minimises ``loss(theta)`` where ``theta`` is a dict ``name -> scalar`` (physics parameters and
nuisances alike). ``loss`` is a chi^2 (= -2 ln L up to a constant) unless ``errordef=0.5`` says it is
-ln L; the covariance is ``2 errordef H^-1`` with H the Hessian at the optimum. Bounds are imposed by
transformation (:mod:`nsijax.inference.transforms`), so the optimiser runs in unconstrained coordinates.
Everything is a pure function of arrays: ``fit`` can be jitted and vmapped (scans do that).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.scipy.linalg
import optax

from ..errors import InvalidParamsError
from .transforms import Bounds, check_bounds, clip_inside, to_constrained, to_unconstrained

# optax renamed tree_l2_norm to tree_norm; support both
_tree_norm = getattr(optax.tree_utils, "tree_norm", None) or optax.tree_utils.tree_l2_norm

#: Result codes of a fit. NOT_POSITIVE_DEFINITE: the optimiser converged but the Hessian at the optimum
#: is not positive definite (a saddle, a flat direction or a boundary), so there is no covariance (NaN).
SUCCESS, MAX_STEPS, NONFINITE, FALLBACK, NOT_POSITIVE_DEFINITE = 0, 1, 2, 3, 4
RESULT_NAMES = {
    SUCCESS: "successful",
    MAX_STEPS: "max_steps_reached",
    NONFINITE: "nonfinite",
    FALLBACK: "successful (adam fallback)",
    NOT_POSITIVE_DEFINITE: "hessian not positive definite (no covariance)",
}


class FitResult(eqx.Module):
    """Best fit: ``params`` (dict name -> value at the optimum, free and fixed), ``value`` (loss at the
    optimum), ``grad_norm`` (in unconstrained coordinates), ``steps``, ``result`` (code, see
    :data:`RESULT_NAMES`), ``covariance`` (free parameters, order ``free``; NaN where undefined) and
    ``free`` (static tuple of free names)."""

    params: dict
    value: jax.Array
    grad_norm: jax.Array
    steps: jax.Array
    result: jax.Array
    covariance: jax.Array
    free: tuple = eqx.field(static=True)

    @property
    def errors(self) -> dict:
        """One-sigma (Hessian) errors of the free parameters."""
        d = jnp.sqrt(jnp.diagonal(self.covariance, axis1=-2, axis2=-1))
        return {k: d[..., i] for i, k in enumerate(self.free)}

    def to_dict(self) -> dict:
        import numpy as np

        return {
            "params": {k: np.asarray(v).tolist() for k, v in self.params.items()},
            "value": np.asarray(self.value).tolist(),
            "grad_norm": np.asarray(self.grad_norm).tolist(),
            "steps": np.asarray(self.steps).tolist(),
            "result": np.asarray(self.result).tolist(),
            "result_name": RESULT_NAMES.get(int(np.asarray(self.result).ravel()[0]), "?") if np.size(self.result) else "",
            "free": list(self.free),
            "covariance": np.asarray(self.covariance).tolist(),
            "errors": {k: np.asarray(v).tolist() for k, v in self.errors.items()},
        }


def _minimise_lbfgs(f, u0, max_steps, tol):
    opt = optax.lbfgs()
    vg = optax.value_and_grad_from_state(f)

    def step(carry):
        u, state = carry
        value, grad = vg(u, state=state)
        updates, state = opt.update(grad, state, u, value=value, grad=grad, value_fn=f)
        return optax.apply_updates(u, updates), state

    def cont(carry):
        _, state = carry
        k = optax.tree_utils.tree_get(state, "count")
        g = optax.tree_utils.tree_get(state, "grad")
        v = optax.tree_utils.tree_get(state, "value")
        gn = _tree_norm(g)
        return (k == 0) | ((k < max_steps) & (gn >= tol) & jnp.isfinite(gn) & jnp.isfinite(v))

    u, state = jax.lax.while_loop(cont, step, (u0, opt.init(u0)))
    return u, optax.tree_utils.tree_get(state, "count")


def _minimise_adam(f, u0, steps, active, lr=0.05):
    """``steps`` Adam steps from ``u0`` if ``active`` (else none: a while loop, so a vmapped batch of
    fits runs the fallback only as long as one of its members needs it)."""
    opt = optax.adam(lr)

    def body(carry):
        i, u, s = carry
        g = jax.grad(f)(u)
        g = jnp.where(jnp.isfinite(g), g, 0.0)
        upd, s = opt.update(g, s, u)
        return i + 1, optax.apply_updates(u, upd), s

    _, u, _ = jax.lax.while_loop(lambda c: (c[0] < steps) & active, body, (jnp.zeros((), int), u0, opt.init(u0)))
    return u


def _covariance(hess, errordef):
    """``2 errordef H^-1`` by Cholesky, and whether H is positive definite (else the covariance is NaN:
    no pseudo-inverse hides a saddle or a flat direction)."""
    hess = 0.5 * (hess + hess.T)
    chol = jnp.linalg.cholesky(hess)
    pd = jnp.all(jnp.isfinite(chol))  # NaN for a non-finite or not positive-definite H
    eye = jnp.eye(hess.shape[0])
    inv = jax.scipy.linalg.cho_solve((jnp.where(pd, chol, eye), True), eye)
    return jnp.where(pd, 2.0 * errordef * inv, jnp.nan), pd


def fit(
    loss: Callable[[dict], jax.Array],
    init: Mapping[str, float],
    *,
    fixed: Mapping[str, float] | None = None,
    bounds: Bounds | None = None,
    max_steps: int = 200,
    tol: float = 1e-6,
    fallback_steps: int = 500,
    errordef: float = 1.0,
    covariance: bool = True,
) -> FitResult:
    """Minimise ``loss(theta)`` over the parameters in ``init`` with the ones in ``fixed`` held.

    Args:
        loss: scalar function of a dict ``name -> scalar`` holding every name of ``init`` and ``fixed``.
        init: starting values of the free parameters.
        fixed: values of parameters held fixed (may be traced: scans vmap over them).
        bounds: ``name -> (lo, hi)`` with None for an open side; starting values are moved inside.
        max_steps: L-BFGS iterations (zoom line search); tol: gradient-norm tolerance.
        fallback_steps: Adam steps used when L-BFGS ends non-finite (0 disables the fallback).
        errordef: 1 for a chi^2 loss, 0.5 for -ln L (covariance = 2 errordef H^-1).
        covariance: compute the Hessian-based covariance of the free parameters. For a loss that
            profiles nuisances (``nuisances="profile"``) the Hessian is that of the profiled chi^2
            (the pulls carry implicit derivatives), so the errors include the profiled directions.
            A Hessian that is not positive definite gives NaN and the result code
            ``NOT_POSITIVE_DEFINITE``.

    Returns:
        :class:`FitResult`.
    """
    fixed = dict(fixed or {})
    names = tuple(init)
    if not names:
        raise InvalidParamsError("fit needs at least one free parameter in init")
    clash = set(names) & set(fixed)
    if clash:
        raise InvalidParamsError(f"parameters both free and fixed: {sorted(clash)}")
    bounds = check_bounds(names + tuple(fixed), bounds)
    lohi = [bounds.get(k, (None, None)) for k in names]
    x0 = jnp.stack([clip_inside(jnp.asarray(init[k], dtype=float), *b) for k, b in zip(names, lohi)])
    u0 = jnp.stack([to_unconstrained(x0[i], *b) for i, b in enumerate(lohi)])

    def theta_of(u):
        x = [to_constrained(u[i], *b) for i, b in enumerate(lohi)]
        return {**{k: x[i] for i, k in enumerate(names)}, **fixed}

    def f(u):
        return loss(theta_of(u))

    value_and_grad = jax.value_and_grad(f)
    u, steps = _minimise_lbfgs(f, u0, max_steps, tol)
    val, g = value_and_grad(u)
    gn = jnp.linalg.norm(g)
    bad = ~jnp.isfinite(val) | ~jnp.isfinite(gn)
    result = jnp.where(bad, NONFINITE, jnp.where(gn < tol, SUCCESS, MAX_STEPS))
    if fallback_steps:
        u_fb = _minimise_adam(f, u0, fallback_steps, bad)
        val_fb, g_fb = value_and_grad(u_fb)
        use_fb = bad & jnp.isfinite(val_fb)
        u = jnp.where(use_fb, u_fb, u)
        val = jnp.where(use_fb, val_fb, val)
        gn = jnp.where(use_fb, jnp.linalg.norm(g_fb), gn)
        result = jnp.where(use_fb, FALLBACK, result)
    theta = theta_of(u)
    if covariance:
        xs = jnp.stack([theta[k] for k in names])

        def fx(x):
            return loss({**{k: x[i] for i, k in enumerate(names)}, **fixed})

        cov, pd = _covariance(jax.hessian(fx)(xs), errordef)
        result = jnp.where(pd | (result == NONFINITE), result, NOT_POSITIVE_DEFINITE)
    else:
        cov = jnp.full((len(names), len(names)), jnp.nan)
    return FitResult(
        params=theta, value=val, grad_norm=gn, steps=steps, result=result, covariance=cov, free=names
    )
