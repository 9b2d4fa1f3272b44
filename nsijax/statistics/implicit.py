"""Minimisers with implicit derivatives: the profiled nuisances theta*(x) = argmin_theta f(theta, x).

A profiled likelihood chi^2(x, theta*(x)) has first derivatives by the envelope theorem, but its
second derivatives (Hessian-based errors, Laplace approximations) need the response of the optimum
to x. At a minimum grad_theta f(theta*, x) = 0, so by the implicit-function theorem

    d theta* / d x = - H_theta_theta^-1 H_theta_x ,    H = exact Hessian of f at (theta*, x),

and the Hessian of the profiled chi^2 is the Schur complement H_xx - H_x_theta H_theta_theta^-1 H_theta_x
(e.g. the profile-likelihood curvature; Blondel et al., "Efficient and modular implicit
differentiation", NeurIPS 2022, for the construction). :func:`implicit_argmin` attaches this JVP to any
solver, so ``jax.grad``, ``jax.hessian`` and ``jax.jvp`` of a profiled chi^2 are those of the exactly
profiled function (up to the solver's convergence).
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_derivatives import SymbolicZero
from jaxtyping import Array, Float


def _split_live(d, dd):
    """Leaves of ``d``, its tree, and which tangents are not symbolic zeros."""
    leaves, treedef = jax.tree_util.tree_flatten(d)
    t_leaves = treedef.flatten_up_to(dd)
    live = [not isinstance(t, SymbolicZero) for t in t_leaves]
    return leaves, treedef, t_leaves, live


def _jvp_live(fn, d, dd):
    """``jax.jvp(fn, (d,), (dd,))`` differentiating only the leaves whose tangent is not a symbolic zero."""
    leaves, treedef, t_leaves, live = _split_live(d, dd)
    if not any(live):
        out = fn(d)
        return out, jax.tree_util.tree_map(jnp.zeros_like, out)

    def of_live(active):
        it = iter(active)
        return fn(treedef.unflatten([next(it) if z else x for x, z in zip(leaves, live)]))

    act = [x for x, z in zip(leaves, live) if z]
    return jax.jvp(of_live, (act,), ([t for t, z in zip(t_leaves, live) if z],))


def _argmin_fn(objective, solve, static, free):
    """argmin over theta of ``objective`` as a function of the dynamic leaves, with implicit JVP."""

    def grad_theta(theta, d):
        return jax.grad(objective)(theta, eqx.combine(d, static))

    @jax.custom_jvp
    def argmin(d):
        return solve(eqx.combine(d, static))

    def argmin_jvp(primals, tangents):
        (d,), (dd,) = primals, tangents
        theta = argmin(d)
        _, rhs = _jvp_live(lambda x: grad_theta(theta, x), d, dd)
        mask = jnp.ones(theta.shape, theta.dtype) if free is None else jnp.asarray(free, dtype=theta.dtype)
        h = jax.jacfwd(grad_theta)(theta, d)
        h = h * mask[:, None] * mask[None, :] + jnp.diag(1.0 - mask)
        return theta, -jnp.linalg.solve(h, rhs * mask)

    argmin.defjvp(argmin_jvp, symbolic_zeros=True)
    return argmin, argmin_jvp


def implicit_argmin(
    objective: Callable[[Array, object], Array],
    solve: Callable[[object], Array],
    args,
    free: np.ndarray | None = None,
) -> Float[Array, " n"]:
    """``solve(args)`` (a minimiser of ``objective(theta, args)`` over theta) with implicit derivatives.

    Args:
        objective: scalar f(theta, args), twice differentiable; theta has shape (n,).
        solve: returns argmin_theta f(theta, args) (any iterative method; it is not differentiated).
        args: pytree the optimum depends on; its arrays cross the custom JVP as inputs (the
            floating-point ones get derivatives; integer ones, e.g. gather indices, have none), everything
            else is held static. ``objective`` and ``solve`` must take every array they use from
            ``args`` (under ``jit`` a closed-over traced array cannot cross the custom JVP).
        free: static boolean mask (n,) of the components minimised over; the others are held by the
            objective (their entries of theta are ignored by it) and get zero derivative here.

    Returns:
        theta* with d theta*/d args = -H_ff^-1 d(grad_f f)/d args on the free components f.
    """
    dyn, static = eqx.partition(args, eqx.is_array)
    return _argmin_fn(objective, solve, static, free)[0](dyn)


def implicit_min(
    objective: Callable[[Array, object], Array],
    solve: Callable[[object], Array],
    args,
    free: np.ndarray | None = None,
) -> tuple[Float[Array, ""], Float[Array, " n"]]:
    """``(min_theta f(theta, args), argmin)``: the profiled objective and the optimum.

    The minimum's first derivative is the envelope-theorem one (d f / d args at fixed theta*), so a
    gradient costs no more than at fixed nuisances; its second derivatives, and every derivative of
    the returned theta*, use the implicit derivative of :func:`implicit_argmin`. Arguments as there.
    """
    dyn, static = eqx.partition(args, eqx.is_array)
    argmin, argmin_jvp = _argmin_fn(objective, solve, static, free)

    @jax.custom_jvp
    def minimum(d):
        theta = argmin(d)
        return objective(theta, eqx.combine(d, static)), theta

    def minimum_jvp(primals, tangents):
        (d,), (dd,) = primals, tangents
        theta = argmin(d)  # a primal here: its implicit JVP enters only at second order
        value, value_dot = _jvp_live(lambda x: objective(theta, eqx.combine(x, static)), d, dd)
        _, theta_dot = argmin_jvp((d,), (dd,))
        return (value, theta), (value_dot, theta_dot)

    minimum.defjvp(minimum_jvp, symbolic_zeros=True)
    return minimum(dyn)
