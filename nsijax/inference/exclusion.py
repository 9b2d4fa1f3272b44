"""Exclusion curves: the smallest coupling excluded at each mediator mass.

For each mass, Delta chi^2(g) = chi^2(g, M) - chi^2_ref is evaluated on a coarse grid of log10 g
(vmapped over masses and couplings in one jitted call), the first crossing of ``level`` from below is
bracketed, and a few Illinois (modified regula falsi) steps, vmapped over masses, refine it. The
reference is the smaller of the Standard-Model chi^2 (g -> 0) and the grid minimum at that mass.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np


@eqx.filter_jit
def _on_grid(chi2_fn, log10_masses, log10_g):
    """chi^2 on the (masses x couplings) grid. ``chi2_fn`` is an argument: a pytree one (its experiments
    as arrays, :func:`nsijax.inference.losses.zprime_chi2`) is traced, so other data of equal shapes
    reuse the compiled program."""
    return jax.vmap(jax.vmap(chi2_fn, (None, 0)), (0, None))(log10_masses, log10_g)


@eqx.filter_jit
def _at_points(chi2_fn, log10_masses, log10_g):
    """chi^2 at one coupling per mass."""
    return jax.vmap(chi2_fn)(log10_masses, log10_g)


def exclusion_limit(
    chi2_fn: Callable[[jax.Array, jax.Array], jax.Array],
    log10_masses,
    log10_g_grid,
    *,
    chi2_sm: float,
    level: float = 2.706,
    n_refine: int = 6,
) -> dict:
    """Lowest excluded log10 g per mass.

    Args:
        chi2_fn: chi^2(log10_mass, log10_g) for scalars (jit/vmap-able); a pytree (an
            :class:`equinox.Module`) is traced, a plain function keyed by identity.
        log10_masses: masses (log10 MeV); log10_g_grid: increasing coarse grid of log10 g.
        chi2_sm: chi^2 of the Standard Model (g = 0), the reference.
        level: Delta chi^2 threshold (2.706: 90% CL, 1 dof). n_refine: Illinois steps.

    Returns:
        dict with ``log10_g`` (limit per mass, NaN where nothing in the grid is excluded),
        ``grid_delta_chi2`` (masses x grid) and ``reference`` (chi^2 per mass).
    """
    lm = jnp.asarray(log10_masses, dtype=float)
    lg = jnp.asarray(log10_g_grid, dtype=float)
    chi = np.asarray(_on_grid(chi2_fn, lm, lg))
    ref = np.minimum(np.nanmin(chi, axis=1), chi2_sm)
    delta = chi - ref[:, None]
    above = delta > level
    has = above.any(axis=1)
    first = np.where(has, above.argmax(axis=1), len(lg) - 1)
    lo_i = np.maximum(first - 1, 0)
    lo, hi = np.asarray(lg)[lo_i], np.asarray(lg)[first]
    f_lo = delta[np.arange(len(lm)), lo_i] - level
    f_hi = delta[np.arange(len(lm)), first] - level
    f_lo = np.where(first == 0, -1.0, f_lo)  # excluded already at the grid's lowest g: limit at/below it
    side = np.zeros(len(lm))
    def secant(lo, hi, f_lo, f_hi):
        den = np.where(f_hi != f_lo, f_hi - f_lo, 1.0)
        return np.where(f_hi != f_lo, (lo * f_hi - hi * f_lo) / den, 0.5 * (lo + hi))

    for _ in range(n_refine):
        x = secant(lo, hi, f_lo, f_hi)
        x = np.clip(x, np.minimum(lo, hi), np.maximum(lo, hi))
        fx = np.asarray(_at_points(chi2_fn, lm, jnp.asarray(x))) - ref - level
        left = fx < 0  # still allowed: the crossing is above x
        # Illinois: halve the function value of the endpoint kept twice in a row
        f_hi = np.where(left & (side == -1), 0.5 * f_hi, f_hi)
        f_lo = np.where(~left & (side == 1), 0.5 * f_lo, f_lo)
        lo, f_lo = np.where(left, x, lo), np.where(left, fx, f_lo)
        hi, f_hi = np.where(left, hi, x), np.where(left, f_hi, fx)
        side = np.where(left, -1, 1)
    limit = secant(lo, hi, f_lo, f_hi)
    limit = np.where(has, np.where(first == 0, np.asarray(lg)[0], limit), np.nan)
    return {"log10_g": limit, "grid_delta_chi2": delta, "reference": ref}
