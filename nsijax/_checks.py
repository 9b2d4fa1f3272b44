"""Input validation that works both eagerly (clear Python exceptions) and under jit (eqx.error_if).

Every public physics function validates its arguments through these helpers. On concrete arrays they
raise :class:`~nsijax.errors.InvalidInputError` / :class:`~nsijax.errors.InvalidParamsError` naming the
argument; on traced arrays they attach an ``equinox.error_if`` check (honouring ``EQX_ON_ERROR``) so a
bad value inside ``jit`` raises instead of propagating NaN.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .errors import InvalidInputError, InvalidParamsError


def is_concrete(x) -> bool:
    """True if ``x`` holds a value we can inspect in Python (not a tracer)."""
    return not isinstance(x, jax.core.Tracer)


def _fail(exc: type[Exception], msg: str):
    raise exc(msg)


def check(x, bad, msg: str, exc: type[Exception] = InvalidInputError):
    """Return ``x``; raise ``exc(msg)`` if ``bad`` is true (eagerly) or attach ``eqx.error_if``."""
    if is_concrete(bad):
        if bool(np.any(np.asarray(bad))):
            _fail(exc, msg)
        return x
    return eqx.error_if(x, bad, msg)


def as_float(x, name: str):
    """Convert to a float64 (or the x64-less default) JAX array, rejecting complex input."""
    arr = jnp.asarray(x)
    if jnp.iscomplexobj(arr):
        raise InvalidInputError(f"{name} must be real, got dtype {arr.dtype}")
    if not jnp.issubdtype(arr.dtype, jnp.floating):
        arr = arr.astype(jnp.result_type(float))
    return arr


def nonnegative(x, name: str, unit: str = ""):
    """``x`` as a float array; error if any entry is negative or non-finite."""
    x = as_float(x, name)
    u = f" {unit}" if unit else ""
    return check(
        x,
        ~jnp.isfinite(x) | (x < 0),
        f"{name} must be finite and >= 0{u}; got a negative or non-finite value",
    )


def positive(x, name: str, unit: str = "", exc: type[Exception] = InvalidInputError):
    """``x`` as a float array; error if any entry is <= 0 or non-finite."""
    x = as_float(x, name)
    u = f" {unit}" if unit else ""
    return check(x, ~jnp.isfinite(x) | (x <= 0), f"{name} must be finite and > 0{u}", exc)


def finite(x, name: str, exc: type[Exception] = InvalidParamsError):
    """``x`` as an array; error if any entry is non-finite."""
    x = jnp.asarray(x)
    return check(x, ~jnp.isfinite(x), f"{name} must be finite", exc)


def flavor_index(flavor) -> int:
    """Validate a static neutrino flavour index (0 = e, 1 = mu, 2 = tau)."""
    names = {"e": 0, "mu": 1, "tau": 2}
    if isinstance(flavor, str) and flavor in names:
        return names[flavor]
    try:
        idx = int(flavor)
    except (TypeError, ValueError, jax.errors.ConcretizationTypeError):
        raise InvalidInputError(
            f"flavor must be a Python int 0, 1, 2 (or 'e', 'mu', 'tau'); got {flavor!r}"
        ) from None
    if idx != flavor or idx not in (0, 1, 2):
        raise InvalidInputError(f"flavor must be 0 (e), 1 (mu) or 2 (tau); got {flavor!r}")
    return idx
