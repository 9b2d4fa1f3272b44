"""Bounds by transformation: map unconstrained reals u to a box (lo, hi), a half-line, or R."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from ..errors import InvalidParamsError

Bounds = dict[str, tuple[float | None, float | None]]


def check_bounds(names, bounds: Bounds | None) -> Bounds:
    """Validate ``bounds`` (name -> (lo, hi), None = open) against the parameter ``names``."""
    bounds = dict(bounds or {})
    unknown = set(bounds) - set(names)
    if unknown:
        raise InvalidParamsError(f"bounds given for unknown parameters {sorted(unknown)}; parameters: {sorted(names)}")
    for k, (lo, hi) in bounds.items():
        if lo is not None and hi is not None and not lo < hi:
            raise InvalidParamsError(f"bounds of {k!r} must satisfy lo < hi; got ({lo}, {hi})")
    return bounds


def to_unconstrained(x, lo, hi):
    """Inverse of :func:`to_constrained` (x strictly inside the bounds)."""
    if lo is not None and hi is not None:
        p = (x - lo) / (hi - lo)
        return jnp.log(p) - jnp.log1p(-p)
    if lo is not None:
        y = x - lo
        return y + jnp.log(-jnp.expm1(-y))  # inverse softplus
    if hi is not None:
        y = hi - x
        return -(y + jnp.log(-jnp.expm1(-y)))
    return x


def to_constrained(u, lo, hi):
    """x = lo + (hi - lo) sigmoid(u), lo + softplus(u), hi - softplus(-u), or u."""
    if lo is not None and hi is not None:
        return lo + (hi - lo) * jax.nn.sigmoid(u)
    if lo is not None:
        return lo + jax.nn.softplus(u)
    if hi is not None:
        return hi - jax.nn.softplus(-u)
    return u


def clip_inside(x, lo, hi, rel: float = 1e-3):
    """Move a starting value at least ``rel`` x span (or ``rel`` for a half-line) inside its bounds:
    at the edge the transformation saturates, its Jacobian vanishes, and a gradient-based optimiser
    would stop there at once."""
    span = (hi - lo) if (lo is not None and hi is not None) else 1.0
    eps = rel * abs(span) if math.isfinite(span) else rel
    if lo is not None:
        x = jnp.maximum(x, lo + eps)
    if hi is not None:
        x = jnp.minimum(x, hi - eps)
    return x
