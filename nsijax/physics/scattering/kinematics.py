"""Elastic two-body kinematics of a neutrino scattering off a target at rest (MeV).

T_max(E) = 2 E^2 / (M + 2 E);  E_min(T) = (T + sqrt(T^2 + 2 M T)) / 2   (PHYSICS.md);  q^2 = 2 M T.
"""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Float


def t_max(E_mev, mass_mev) -> Float[Array, "..."]:
    """Maximum recoil kinetic energy (MeV) for neutrino energy E on a target of mass M (MeV)."""
    E = jnp.asarray(E_mev)
    return 2.0 * E**2 / (mass_mev + 2.0 * E)


def e_min(T_mev, mass_mev) -> Float[Array, "..."]:
    """Minimum neutrino energy (MeV) that can produce recoil T on a target of mass M (MeV)."""
    T = jnp.asarray(T_mev)
    return 0.5 * (T + jnp.sqrt(T**2 + 2.0 * mass_mev * T))


def q2(T_mev, mass_mev) -> Float[Array, "..."]:
    """Squared three-momentum transfer |q|^2 = 2 M T (MeV^2) for elastic recoil T."""
    return 2.0 * mass_mev * jnp.asarray(T_mev)
