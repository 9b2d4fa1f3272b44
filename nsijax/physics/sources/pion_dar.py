"""Pion-decay-at-rest (pi-DAR) neutrino spectra and flux-averaged cross sections.

pi+ -> mu+ nu_mu (prompt line at E = (m_pi^2 - m_mu^2)/(2 m_pi) = 29.79 MeV), then
mu+ -> e+ nu_e nu_mu_bar (delayed, tau_mu = 2.197 us), per pi+ decay at rest (Michel spectra without
radiative corrections; e.g. Louis, Los Alamos Science 25 (1997); PHYSICS.md), with x = E / m_mu < 1/2:

    nu_e:       (192 / m_mu) x^2 (1/2 - x),        nu_mu_bar:  (64 / m_mu) x^2 (3/4 - x).

Each is normalised to one neutrino per decay. The flux at distance L is r N_POT / (4 pi L^2) x shape.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ... import constants as c
from ..._checks import nonnegative
from ...errors import InvalidInputError
from .. import quadrature
from ..scattering import cevns
from ..scattering.kinematics import e_min, t_max
from ..scattering.targets import Target, get_target

#: pi-DAR components: name -> (flavour index, antineutrino, prompt?).
PION_DAR_COMPONENTS = {
    "nu_mu": (1, False, True),
    "nu_e": (0, False, False),
    "nu_mu_bar": (1, True, False),
}
#: Endpoint of the delayed spectra, m_mu / 2 (MeV).
E_DELAYED_MAX = 0.5 * c.M_MU


def _component(component: str):
    if component not in PION_DAR_COMPONENTS:
        raise InvalidInputError(
            f"unknown pi-DAR component {component!r}; choose from {sorted(PION_DAR_COMPONENTS)}"
        )
    return PION_DAR_COMPONENTS[component]


def pion_dar_spectrum(E_mev: ArrayLike, component: str) -> Float[Array, "..."]:
    """Normalised delayed pi-DAR spectrum dN/dE (1/MeV) of ``component`` in {"nu_e", "nu_mu_bar"}.

    The prompt ``"nu_mu"`` is a line at :data:`nsijax.constants.E_NU_PROMPT` and has no density.
    """
    _, _, prompt = _component(component)
    if prompt:
        raise InvalidInputError("the prompt nu_mu is a line at constants.E_NU_PROMPT; it has no spectrum density")
    E = nonnegative(E_mev, "E_mev", "MeV")
    x = E / c.M_MU
    shape = x**2 * (0.5 - x) * 192.0 if component == "nu_e" else x**2 * (0.75 - x) * 64.0
    return jnp.where(x <= 0.5, shape, 0.0) / c.M_MU


def total_cross_section(
    E_mev: ArrayLike,
    target: str | Target,
    *,
    flavor: int | str,
    t_threshold_mev: ArrayLike = 0.0,
    n_recoil: int = 48,
    **kwargs,
) -> Float[Array, "..."]:
    """CEvNS cross section (cm^2 per formula unit) integrated over T from ``t_threshold_mev`` to T_max.

    Gauss-Legendre in T separately for each isotope (so each integrand is smooth up to its own
    T_max); ``kwargs`` go to :func:`nsijax.physics.scattering.cevns.dsigma_dT`.
    """
    t = get_target(target)
    E = nonnegative(E_mev, "E_mev", "MeV")
    thr = nonnegative(t_threshold_mev, "t_threshold_mev", "MeV")
    total = 0.0
    for iso in t.isotopes():  # a handful of isotopes, not a loop over energies
        tmax = t_max(E, iso.mass_mev[0])
        lo = jnp.minimum(thr, tmax)
        T, w = quadrature.nodes(lo, tmax, n_recoil)
        ds = cevns.dsigma_dT(E[..., None], T, iso, flavor=flavor, **kwargs)
        total = total + jnp.sum(ds * w, axis=-1)
    return total


def flux_averaged_cross_section(
    target: str | Target,
    component: str | None = None,
    *,
    t_threshold_mev: ArrayLike = 0.0,
    n_energy: int = 64,
    n_recoil: int = 48,
    **kwargs,
) -> Float[Array, ""]:
    """pi-DAR flux-averaged CEvNS cross section in cm^2 per formula unit.

    ``component`` = "nu_mu" (prompt line), "nu_e" or "nu_mu_bar" (delayed spectra), or None for the
    average over the three equal-intensity components (the "flux-averaged cross section" quoted by
    COHERENT). ``kwargs`` (nsi, zprime, form_factor, ...) go to :func:`nsijax.physics.scattering.cevns.dsigma_dT`.
    """
    if component is None:
        parts = [
            flux_averaged_cross_section(
                target, comp, t_threshold_mev=t_threshold_mev, n_energy=n_energy, n_recoil=n_recoil, **kwargs
            )
            for comp in PION_DAR_COMPONENTS
        ]
        return sum(parts) / 3.0
    flavor, anti, prompt = _component(component)
    if prompt:
        return total_cross_section(
            c.E_NU_PROMPT, target, flavor=flavor, antineutrino=anti, t_threshold_mev=t_threshold_mev,
            n_recoil=n_recoil, **kwargs,
        )
    E, w = quadrature.nodes(0.0, E_DELAYED_MAX, n_energy)
    sigma = total_cross_section(
        E, target, flavor=flavor, antineutrino=anti, t_threshold_mev=t_threshold_mev, n_recoil=n_recoil, **kwargs
    )
    return jnp.sum(sigma * pion_dar_spectrum(E, component) * w)


def flux_at(distance_m: float, pot: float, nu_per_proton: float) -> float:
    """Time-integrated flux per component (neutrinos/cm^2): r N_POT / (4 pi L^2)."""
    return nu_per_proton * pot / (4.0 * math.pi * (100.0 * distance_m) ** 2)


def pion_dar_recoil_spectrum(
    T_mev: ArrayLike,
    target: str | Target,
    component: str | None = None,
    *,
    n_energy: int = 48,
    **kwargs,
) -> Float[Array, "..."]:
    """Flux-folded recoil spectrum <dsigma/dT>(T) in cm^2/MeV per formula unit and per neutrino of
    each pi-DAR component: sum over ``component`` (all three if None) of integral phi(E) dsigma/dT dE.

    Each isotope is integrated by Gauss-Legendre from its own E_min(T) to m_mu/2 (smooth integrand);
    the prompt line contributes dsigma/dT(E_prompt, T). Multiply by r N_POT / (4 pi L^2) and the number
    of formula units for events per MeV. ``kwargs`` go to :func:`nsijax.physics.scattering.cevns.dsigma_dT`.
    """
    t = get_target(target)
    T = nonnegative(T_mev, "T_mev", "MeV")
    comps = list(PION_DAR_COMPONENTS) if component is None else [component]
    total = jnp.zeros(T.shape)
    for comp in comps:
        flavor, anti, prompt = _component(comp)
        if prompt:
            total = total + cevns.dsigma_dT(c.E_NU_PROMPT, T, t, flavor=flavor, antineutrino=anti, **kwargs)
            continue
        for iso in t.isotopes():
            lo = jnp.minimum(e_min(T, iso.mass_mev[0]), E_DELAYED_MAX)
            E, w = quadrature.nodes(lo, E_DELAYED_MAX, n_energy)
            ds = cevns.dsigma_dT(E, T[..., None], iso, flavor=flavor, antineutrino=anti, **kwargs)
            total = total + jnp.sum(ds * pion_dar_spectrum(E, comp) * w, axis=-1)
    return total
