"""Maximum-likelihood fits of named scalar parameters with optax (L-BFGS, Adam fallback).

A fit minimises ``loss(theta)`` where ``theta`` is a dict ``name -> scalar`` (physics parameters and
nuisances alike; names of :mod:`nsijax.parameters.names` when the loss builds a :class:`~nsijax.Params`).
``loss`` is a chi^2 (= -2 ln L up to a constant) unless ``errordef=0.5`` says it is -ln L; the
covariance is ``2 errordef H^-1`` with H the Hessian at the optimum. Bounds are imposed by
transformation (:mod:`nsijax.inference.transforms`), so the optimiser runs in unconstrained coordinates.

``fit`` is compiled with :func:`equinox.filter_jit`: the loss is an argument, so a loss that is a pytree
(an :class:`equinox.Module` holding its experiments, e.g. :func:`nsijax.inference.losses.profiled_chi2`)
is traced, and a second fit of a loss of the same structure (other data of equal shapes, other starting
or fixed values) reuses the compiled program. Names, bounds and settings are static. It can itself be
jitted and vmapped (scans do that). Outcomes are the :class:`RESULTS` enumeration.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.scipy.linalg
import numpy as np
import optax
from jaxtyping import Array, Float, Int

from ..errors import InvalidParamsError
from ..parameters.names import build_params
from ..parameters.params import Params
from .transforms import Bounds, check_bounds, clip_inside, to_constrained, to_unconstrained

# optax renamed tree_l2_norm to tree_norm; support both
_tree_norm = getattr(optax.tree_utils, "tree_norm", None) or optax.tree_utils.tree_l2_norm


class RESULTS(eqx.Enumeration):
    """Outcome of a :func:`fit` (its ``result``). ``successful`` and ``fallback`` are successes; ``fit(...,
    throw=True)`` raises on the others. Codes (:func:`result_code`, stored in scan results) are the
    definition order, 0 to 4."""

    successful = "successful"
    max_steps_reached = "max_steps_reached: L-BFGS stopped at max_steps with the gradient norm above tol"
    nonfinite = "nonfinite: the loss or its gradient is not finite at the end (and the Adam fallback did not help)"
    fallback = "successful (adam fallback): L-BFGS ended non-finite, the Adam fallback reached a finite loss"
    not_positive_definite = (
        "hessian not positive definite (no covariance): a saddle, a flat direction or a boundary at the optimum"
    )


#: The items of :class:`RESULTS` by code (definition order).
RESULT_ITEMS = (RESULTS.successful, RESULTS.max_steps_reached, RESULTS.nonfinite, RESULTS.fallback,
                RESULTS.not_positive_definite)
_MESSAGES = tuple(RESULTS[r] for r in RESULT_ITEMS)


def result_code(result: RESULTS) -> Int[Array, "..."]:
    """The integer code of a (possibly batched) :class:`RESULTS` item (its index in :data:`RESULT_ITEMS`)."""
    return jnp.asarray(result._value)


def result_message(code) -> str | list:
    """The message of an integer code (a nested list of them for an array of codes)."""
    a = np.asarray(code)
    return _MESSAGES[int(a)] if a.ndim == 0 else [result_message(c) for c in a]


def _is_success(result: RESULTS):
    return (result == RESULTS.successful) | (result == RESULTS.fallback)


class FitResult(eqx.Module):
    """Best fit.

    Fields:
        params: name -> value at the optimum (free and fixed parameters; the loss's own names),
            one array per name, with the leading batch shape of a vmapped fit.
        value: loss at the optimum. grad_norm: gradient norm there (unconstrained coordinates).
        steps: L-BFGS iterations. result: a :class:`RESULTS` item (``RESULTS[r.result]`` is its message).
        covariance: of the free parameters, order ``free`` (NaN where undefined).
        free: the free names (static).
    :meth:`to_params` builds the :class:`~nsijax.Params` of flat names (:mod:`nsijax.parameters.names`).
    """

    params: dict[str, Float[Array, "*batch"]]
    value: Float[Array, "*batch"]
    grad_norm: Float[Array, "*batch"]
    steps: Int[Array, "*batch"]
    result: RESULTS
    covariance: Float[Array, "*batch nfree nfree"]
    free: tuple[str, ...] = eqx.field(static=True)

    @property
    def errors(self) -> dict[str, Float[Array, "*batch"]]:
        """One-sigma (Hessian) errors of the free parameters."""
        d = jnp.sqrt(jnp.diagonal(self.covariance, axis1=-2, axis2=-1))
        return {k: d[..., i] for i, k in enumerate(self.free)}

    @property
    def code(self) -> Int[Array, "*batch"]:
        """The integer result code(s) (see :func:`result_code`)."""
        return result_code(self.result)

    @property
    def successful(self) -> jax.Array:
        """True where the fit succeeded (``successful`` or ``fallback``)."""
        return _is_success(self.result)

    def to_params(self, *, zprime_charges: str | None = None, base: Params | None = None) -> Params:
        """The :class:`~nsijax.Params` at the optimum, for a fit over flat names (see
        :func:`nsijax.parameters.names.build_params`, whose arguments these are)."""
        return build_params(self.params, zprime_charges=zprime_charges, base=base)

    def to_dict(self) -> dict:
        """JSON-ready values (lists), with ``result`` codes and their ``result_name`` messages."""
        return {
            "params": {k: np.asarray(v).tolist() for k, v in self.params.items()},
            "value": np.asarray(self.value).tolist(),
            "grad_norm": np.asarray(self.grad_norm).tolist(),
            "steps": np.asarray(self.steps).tolist(),
            "result": np.asarray(self.code).tolist(),
            "result_name": result_message(self.code),
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
    throw: bool = False,
) -> FitResult:
    """Minimise ``loss(theta)`` over the parameters in ``init`` with the ones in ``fixed`` held.

    Args:
        loss: scalar function of a dict ``name -> scalar`` holding every name of ``init`` and ``fixed``;
            a pytree loss (an :class:`equinox.Module` with its data as array fields) is traced, so new
            data of equal shapes do not recompile; a plain function is static (keyed by identity).
        init: starting values of the free parameters.
        fixed: values of parameters held fixed (may be traced: scans vmap over them).
        bounds: ``name -> (lo, hi)`` with None for an open side; starting values are moved inside.
        max_steps: L-BFGS iterations (zoom line search); tol: gradient-norm tolerance.
        fallback_steps: Adam steps used when L-BFGS ends non-finite (0 disables the fallback).
        errordef: 1 for a chi^2 loss, 0.5 for -ln L (covariance = 2 errordef H^-1).
        covariance: compute the Hessian-based covariance of the free parameters. For a loss that
            profiles nuisances (``nuisances="profile"``) the Hessian is that of the profiled chi^2
            (the pulls carry implicit derivatives), so the errors include the profiled directions.
            A Hessian that is not positive definite gives NaN and ``RESULTS.not_positive_definite``.
        throw: if True, raise (:func:`equinox.error_if`: an ``EquinoxRuntimeError`` with the
            :class:`RESULTS` message) unless the fit succeeded (``successful`` or ``fallback``); under
            ``vmap`` it raises if any member failed. Default False: the outcome is returned in
            ``result`` and the caller decides, which is what scans, Feldman-Cousins toys and multi-start
            fits need (one failed point must not abort the batch). Check ``r.successful`` or pass
            ``throw=True`` for a single fit whose failure should stop the program.

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
    lohi = tuple(_bound(bounds.get(k, (None, None))) for k in names)
    x0 = {k: jnp.asarray(init[k], dtype=float) for k in names}
    held = {k: jnp.asarray(v, dtype=float) for k, v in fixed.items()}
    r = _fit(loss, x0, held, names, lohi, int(max_steps), float(tol), int(fallback_steps), float(errordef),
             bool(covariance), bool(throw))
    # a jit boundary sorts dict keys: give the parameters back in the caller's order (free, then fixed)
    return dataclasses.replace(r, params={k: r.params[k] for k in (*names, *fixed)})


def _bound(b) -> tuple[float | None, float | None]:
    """A hashable (lo, hi) of Python floats (static under jit)."""
    return tuple(None if x is None else float(x) for x in b)


@eqx.filter_jit
def _fit(loss, init, fixed, names, lohi, max_steps, tol, fallback_steps, errordef, covariance, throw) -> FitResult:
    """:func:`fit` after validation: arrays (and a pytree loss's arrays) traced, the rest static."""
    x0 = jnp.stack([clip_inside(init[k], *b) for k, b in zip(names, lohi)])
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
    result = RESULTS.where(bad, RESULTS.nonfinite, RESULTS.where(gn < tol, RESULTS.successful, RESULTS.max_steps_reached))
    if fallback_steps:
        u_fb = _minimise_adam(f, u0, fallback_steps, bad)
        val_fb, g_fb = value_and_grad(u_fb)
        use_fb = bad & jnp.isfinite(val_fb)
        u = jnp.where(use_fb, u_fb, u)
        val = jnp.where(use_fb, val_fb, val)
        gn = jnp.where(use_fb, jnp.linalg.norm(g_fb), gn)
        result = RESULTS.where(use_fb, RESULTS.fallback, result)
    theta = theta_of(u)
    if covariance:
        xs = jnp.stack([theta[k] for k in names])

        def fx(x):
            return loss({**{k: x[i] for i, k in enumerate(names)}, **fixed})

        cov, pd = _covariance(jax.hessian(fx)(xs), errordef)
        result = RESULTS.where(pd | (result == RESULTS.nonfinite), result, RESULTS.not_positive_definite)
    else:
        cov = jnp.full((len(names), len(names)), jnp.nan)
    if throw:
        val = result.error_if(val, ~_is_success(result))
    return FitResult(
        params=theta, value=val, grad_norm=gn, steps=steps, result=result, covariance=cov, free=names
    )
