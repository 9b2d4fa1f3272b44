"""Pion-decay-at-rest (pi-DAR) neutrino source: spectra, fluxes, flux-averaged cross sections, and the
quadrature nodes and arrival-time PDFs the pi-DAR experiments build once at load time.

pi+ -> mu+ nu_mu (prompt line at E = (m_pi^2 - m_mu^2)/(2 m_pi) = 29.79 MeV), then
mu+ -> e+ nu_e nu_mu_bar (delayed, tau_mu = 2.197 us), per pi+ decay at rest (Michel spectra without
radiative corrections; e.g. Louis, Los Alamos Science 25 (1997); PHYSICS.md), with x = E / m_mu < 1/2:

    nu_e:       (192 / m_mu) x^2 (1/2 - x),        nu_mu_bar:  (64 / m_mu) x^2 (3/4 - x).

Each is normalised to one neutrino per decay. The flux at distance L is r N_POT / (4 pi L^2) x shape.

Timing: prompt neutrinos follow the proton pulse convolved with the pion lifetime (26.0 ns); delayed
neutrinos add the muon lifetime (2.197 us). The proton pulse is modelled as a Gaussian (mean, width),
as in the COHERENT LAr release (``LArParametersAnlA.yaml``: 440 +- 200 ns, 150 ns).

The spectra and cross sections are JAX functions; :func:`energy_nodes`, :func:`recoil_nodes`,
:func:`arrival_time_density` and :func:`binned_time_pdf` return NumPy arrays (load time, never traced).
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
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


# --- load-time quadrature nodes and arrival-time PDFs (NumPy) --------------------------------------


def energy_nodes(T_mev: np.ndarray, mass_mev: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes in E (MeV) on [E_min(T), m_mu/2] for each recoil node (shape (nT, n) each).

    Integrating from the kinematic threshold of each T keeps the integrand smooth, so a few nodes
    reach ~1e-6 relative accuracy. Recoils above T_max(m_mu/2) get zero weights.
    """
    u, wu = quadrature.unit_rule(n)
    lo = np.minimum(np.asarray(e_min(np.asarray(T_mev, float), mass_mev)), E_DELAYED_MAX)
    span = (E_DELAYED_MAX - lo)[:, None]
    return lo[:, None] + span * u[None, :], span * wu[None, :]


def recoil_nodes(t_lo_mev: float, t_hi_mev: float, panels: int, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss-Legendre nodes and weights in recoil energy (MeV) on [t_lo, t_hi], log-spaced panels."""
    return quadrature.composite(np.geomspace(t_lo_mev, t_hi_mev, panels + 1), order)


def arrival_time_density(t_ns: np.ndarray, mean_ns: float, width_ns: float) -> dict[str, np.ndarray]:
    """Arrival-time densities (1/ns) of prompt and delayed neutrinos on a uniform grid ``t_ns``.

    Gaussian proton pulse (mean, width) convolved with exp(-t/tau_pi) (prompt), then with
    exp(-t/tau_mu) (delayed); discrete convolution with exactly normalised exponential kernels.
    """
    t = np.asarray(t_ns, float)
    dt = t[1] - t[0]
    pulse = np.exp(-0.5 * ((t - mean_ns) / width_ns) ** 2) / (np.sqrt(2 * np.pi) * width_ns)
    k = np.arange(t.size) * dt
    # exactly normalised discrete exponential kernels (probability of decaying in each grid step)
    pion = np.exp(-k / c.TAU_PI_NS) * -np.expm1(-dt / c.TAU_PI_NS)
    muon = np.exp(-k / c.TAU_MU_NS) * -np.expm1(-dt / c.TAU_MU_NS)
    prompt = np.convolve(pulse, pion)[: t.size]
    delayed = np.convolve(prompt, muon)[: t.size]
    # the grid starts before the pulse: values before t[0] are negligible (checked by the builders)
    return {"prompt": prompt, "delayed": delayed}


def binned_time_pdf(
    edges_us: np.ndarray,
    mean_ns: float,
    width_ns: float,
    efficiency=None,
    t0_ns: float | None = None,
    step_ns: float = 1.0,
) -> np.ndarray:
    """Probability per analysis time bin (edges in us) for prompt and delayed neutrinos, shape (2, nt).

    ``efficiency(t_us)`` multiplies the density before integration (time-dependent cut efficiency).
    The probabilities are not renormalised: events outside the window are lost, as in the data.
    """
    edges_ns = np.asarray(edges_us, float) * 1e3
    start = min(edges_ns[0], mean_ns - 8 * width_ns) if t0_ns is None else t0_ns
    t = np.arange(start - 8 * width_ns, edges_ns[-1] + step_ns, step_ns)
    dens = arrival_time_density(t, mean_ns, width_ns)
    eff = np.ones_like(t) if efficiency is None else efficiency(t / 1e3)
    out = np.zeros((2, edges_ns.size - 1))
    for i, key in enumerate(("prompt", "delayed")):
        y = dens[key] * eff
        cum = np.concatenate([[0.0], np.cumsum(0.5 * (y[1:] + y[:-1]) * step_ns)])
        out[i] = np.diff(np.interp(edges_ns, t, cum))
    return out
