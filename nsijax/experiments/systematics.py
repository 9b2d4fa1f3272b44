"""How nuisance pulls move a prediction: the conventions every experiment's response shares.

Pulls theta are standard-normal (prior N(0, 1)); their effects:
    * normalisations: factor max(1 + sigma theta, 0) (documented floor at zero), :func:`norm_factor`;
    * +-1 sigma alternative sets (coefficients or templates c+, c-): HistFactory ``code4p``
      interpolation, :func:`interp_sets`;
    * one-sided alternatives c1: c(theta) = c0 + theta (c1 - c0).
"""

from __future__ import annotations

import jax.numpy as jnp


def interp_sets(theta, c0, c_plus, c_minus):
    """Nominal ``c0`` moved towards the +-1 sigma alternatives ``c_plus`` / ``c_minus`` by the pull theta.

    Piecewise (HistFactory "code 4p", as pyhf's ``code4p`` and evermore): with d+ = c+ - c0 and
    d- = c0 - c-,

        |theta| > 1:   c0 + theta d+ (theta > 1),  c0 + theta d- (theta < -1)      (linear)
        |theta| <= 1:  c0 + theta (d+ + d-)/2 + (d+ - d-)/16 (3 theta^6 - 10 theta^4 + 15 theta^2)

    exact at theta = 0, +-1, with value, slope and curvature continuous at |theta| = 1, so a pull far
    outside +-1 sigma extrapolates the systematic linearly instead of quadratically. Broadcasts.
    """
    d_up = c_plus - c0
    d_dn = c0 - c_minus
    t2 = theta * theta
    inside = theta * 0.5 * (d_up + d_dn) + 0.0625 * (d_up - d_dn) * t2 * (15.0 + t2 * (3.0 * t2 - 10.0))
    outside = theta * jnp.where(theta > 0, d_up, d_dn)
    return c0 + jnp.where(jnp.abs(theta) <= 1.0, inside, outside)


def norm_factor(theta, sigma):
    """Normalisation factor max(1 + sigma theta, 0)."""
    return jnp.maximum(1.0 + sigma * theta, 0.0)
