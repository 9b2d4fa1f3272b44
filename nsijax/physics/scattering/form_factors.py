"""Nuclear form factors F(q^2) (normalised F(0) = 1) as functions of q^2 = |q|^2 in MeV^2.

Taking q^2 (not q) keeps derivatives exact at q = 0 (T -> 0), where d sqrt(q^2) is singular.

Helm: R. H. Helm, Phys. Rev. 104, 1466 (1956), with the parameters of J. D. Lewin & P. F. Smith,
    Astropart. Phys. 6, 87 (1996), Sec. 4.1: F = 3 j1(q R0)/(q R0) exp(-q^2 s^2 / 2),
    R0^2 = c^2 + 7/3 pi^2 a^2 - 5 s^2, c = 1.23 A^{1/3} - 0.60 fm, a = 0.52 fm, s = 0.9 fm.
Klein-Nystrand: S. Klein & J. Nystrand, Phys. Rev. C 60, 014903 (1999):
    F = 3 j1(q R_A)/(q R_A) / (1 + q^2 a_k^2), R_A = 1.2 A^{1/3} fm, a_k = 0.7 fm.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
from jaxtyping import Array, Float

from ... import constants as c
from ...errors import InvalidInputError

HELM_S_FM = 0.9
HELM_A_FM = 0.52
KN_AK_FM = 0.7


def spherical_j1_over_x(x2: Float[Array, "..."]) -> Float[Array, "..."]:
    """3 j1(x)/x = 3 (sin x - x cos x)/x^3 as a function of x^2, with a series below x = 0.05."""
    small = x2 < 0.0025
    xs = jnp.sqrt(jnp.where(small, 1.0, x2))
    full = 3.0 * (jnp.sin(xs) - xs * jnp.cos(xs)) / xs**3
    series = 1.0 - x2 / 10.0 + x2 * x2 / 280.0 - x2 * x2 * x2 / 15120.0
    return jnp.where(small, series, full)


def helm_radius_fm(A) -> Float[Array, "..."]:
    """Lewin-Smith Helm radius R0 in fm for mass number A."""
    cc = 1.23 * jnp.asarray(A) ** (1.0 / 3.0) - 0.60
    return jnp.sqrt(cc**2 + 7.0 / 3.0 * math.pi**2 * HELM_A_FM**2 - 5.0 * HELM_S_FM**2)


def helm(q2_mev2, A) -> Float[Array, "..."]:
    """Helm form factor at q^2 (MeV^2) for mass number A (Lewin-Smith parameters)."""
    q2_fm = jnp.asarray(q2_mev2) / c.HBARC_MEV_FM**2
    r0 = helm_radius_fm(A)
    return spherical_j1_over_x(q2_fm * r0**2) * jnp.exp(-0.5 * q2_fm * HELM_S_FM**2)


def helm_from_rms(q2_mev2, rms_fm) -> Float[Array, "..."]:
    """Helm form factor (surface thickness s = 0.9 fm) whose distribution has rms radius ``rms_fm``:
    <r^2> = 3/5 R0^2 + 3 s^2, so R0^2 = 5/3 (rms^2 - 3 s^2) (rms > sqrt(3) s = 1.56 fm)."""
    q2_fm = jnp.asarray(q2_mev2) / c.HBARC_MEV_FM**2
    r0_sq = 5.0 / 3.0 * (jnp.asarray(rms_fm) ** 2 - 3.0 * HELM_S_FM**2)
    return spherical_j1_over_x(q2_fm * r0_sq) * jnp.exp(-0.5 * q2_fm * HELM_S_FM**2)


def helm_rms_fm(A) -> Float[Array, "..."]:
    """rms radius (fm) of the Lewin-Smith Helm distribution of mass number A: sqrt(3/5 R0^2 + 3 s^2)."""
    return jnp.sqrt(0.6 * helm_radius_fm(A) ** 2 + 3.0 * HELM_S_FM**2)


def klein_nystrand(q2_mev2, A) -> Float[Array, "..."]:
    """Klein-Nystrand form factor at q^2 (MeV^2) for mass number A."""
    q2_fm = jnp.asarray(q2_mev2) / c.HBARC_MEV_FM**2
    r_a = 1.2 * jnp.asarray(A) ** (1.0 / 3.0)
    return spherical_j1_over_x(q2_fm * r_a**2) / (1.0 + q2_fm * KN_AK_FM**2)


def unity(q2_mev2, A) -> Float[Array, "..."]:
    """F = 1 (point-like nucleus), for checks."""
    return jnp.ones(jnp.broadcast_shapes(jnp.shape(q2_mev2), jnp.shape(A)))


FORM_FACTORS = {"helm": helm, "klein_nystrand": klein_nystrand, "none": unity}


def get(name: str):
    """The form-factor function of a name in :data:`FORM_FACTORS`."""
    if name not in FORM_FACTORS:
        raise InvalidInputError(f"unknown form_factor {name!r}; choose from {sorted(FORM_FACTORS)}")
    return FORM_FACTORS[name]
