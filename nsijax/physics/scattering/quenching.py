"""Quenching of nuclear recoils: the ionisation (electron-equivalent) energy E_ee = T Y(T) of a recoil of
kinetic energy T, for the detector response of CEvNS experiments. JAX functions of T in keV (differentiable in
T and in the model parameters).

Lindhard: Y = k g(eps) / (1 + k g(eps)), g = 3 eps^0.15 + 0.7 eps^0.6 + eps, eps = 11.5 Z^(-7/3) T[keV]
    (J. Lindhard et al., Mat. Fys. Medd. Dan. Vid. Selsk. 33, no. 10 (1963); the parametrisation of g is that of
    J. D. Lewin & P. F. Smith, Astropart. Phys. 6, 87 (1996), Sec. 5.1); k = 0.157 for Ge in Lindhard's theory.
Tabulated: Y(T) interpolated linearly in a measured table (e.g. the "Fef" and "YBe" germanium models of
    J. I. Collar et al., Phys. Rev. D 103, 122003 (2021), arXiv:2102.10089), held at its end values outside it.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ...errors import InvalidInputError

#: Lindhard's k for germanium (Lindhard et al. 1963, k = 0.133 Z^(2/3) A^(-1/2) for Z = 32, A = 72.6).
LINDHARD_K_GE = 0.157


def lindhard(T_kev: ArrayLike, k: ArrayLike, Z: float) -> Float[Array, "..."]:
    """Lindhard quenching factor Y(T) (dimensionless) of a recoil of T keV in a target of atomic number Z."""
    eps = 11.5 * Z ** (-7.0 / 3.0) * jnp.maximum(jnp.asarray(T_kev, dtype=float), 1e-12)
    g = 3.0 * eps**0.15 + 0.7 * eps**0.6 + eps
    kg = jnp.asarray(k) * g
    return kg / (1.0 + kg)


def tabulated(T_kev: ArrayLike, table_kev: ArrayLike, table_yield: ArrayLike) -> Float[Array, "..."]:
    """Quenching factor interpolated linearly in a table (T in keV, increasing), constant beyond its ends."""
    return jnp.interp(jnp.asarray(T_kev, dtype=float), jnp.asarray(table_kev), jnp.asarray(table_yield))


def check_table(table_kev, table_yield, where: str) -> tuple[np.ndarray, np.ndarray]:
    """A quenching table as float arrays: >= 2 strictly increasing energies >= 0 and yields in (0, 1]."""
    t = np.asarray(table_kev, dtype=float)
    y = np.asarray(table_yield, dtype=float)
    if t.ndim != 1 or t.shape != y.shape or t.size < 2:
        raise InvalidInputError(
            f"{where}: a quenching table needs >= 2 (energy, yield) rows; got shapes {t.shape}, {y.shape}"
        )
    if not (np.all(np.isfinite(t)) and np.all(np.diff(t) > 0) and t[0] >= 0):
        raise InvalidInputError(f"{where}: quenching-table energies must be finite, >= 0 and strictly increasing")
    if not (np.all(np.isfinite(y)) and np.all(y > 0) and np.all(y <= 1)):
        raise InvalidInputError(f"{where}: quenching factors must lie in (0, 1]")
    return t, y
