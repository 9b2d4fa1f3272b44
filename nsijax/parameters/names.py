"""Flat, named scalar parameters <-> :class:`~nsijax.parameters.params.Params`: the one mapping that
fits, scans, samplers, the studies and the command line use.

Names (units as :class:`Params` and its parts store them):

    eps_<f>_<c>        NSI component c of fermion f: f in {u, d, e, eL, eR}, c in
                       nsijax.parameters.nsi.COMPONENTS (ee, mumu, tautau, emu_re, emu_im, etau_re,
                       etau_im, mutau_re, mutau_im); eps_e_* is the electron vector coupling, split
                       equally into eL and eR; names of one component add up (eps_e_ee + eps_eL_ee)
    zprime_g, zprime_mass_mev (MeV), zprime_log10_g, zprime_log10_mass_mev
                       Z' coupling and mass; a Z' needs one of each and a charge preset
    mu_nu_<a>          magnetic moment of flavour a in {e, mu, tau} (mu_B)
    charge_radius_<a>  charge radius <r^2> of flavour a (cm^2); charge_radius_<emu|etau|mutau> the transition ones
    millicharge_<a>    electric charge of flavour a (units of e)
    osc_theta12, osc_theta13, osc_theta23, osc_delta_cp (rad), osc_dm21, osc_dm31 (eV^2)
                       oscillation parameters; those not named keep ``base.osc`` (None: NuFIT 6.0 NO)
    cevns_scale        normalisation of every CEvNS component
    sin2_theta_w       weak mixing angle of the scattering couplings (Params.sin2_theta_w)
    r_n_<El>           point-neutron rms radius of element El in fm (Params.neutron_radius), e.g. r_n_Cs, r_n_Ar
    solar_flux_<c>     normalisation of solar component c in {pp, pep, hep, 7Be, 8B, 13N, 15O, 17F} (Params.solar_flux)
    <experiment>.<nuisance>   a nuisance pull (standard-normal units)

:func:`build_params` maps names to a :class:`Params` (traceable: jit, vmap, grad), :func:`named_values`
reads the same names back from one. A set of names in which every quantity appears once (not eps_e_c
together with eps_eL_c or eps_eR_c, not a coupling or mass twice) round-trips:
``named_values(build_params(theta, ...), theta) == theta`` (the log10 names to rounding).
Studies with their own parametrisations (DUNE's |eps| and phase, LMA-Dark's degrees) change variables
into these names and call :func:`build_params`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import jax.numpy as jnp
from jaxtyping import Array, Float

from ..errors import InvalidParamsError
from ..physics.scattering.targets import ELEMENTS
from ..physics.sources.solar import COMPONENTS as SOLAR_COMPONENTS
from .nsi import COMPONENTS, NSI
from .oscillation import OscParams, resolve_osc
from .params import Params
from .zprime import ZPrime

#: Fermions of the ``eps_<f>_<c>`` names (``e``: vector coupling, split equally into eL and eR).
FERMIONS = ("u", "d", "e", "eL", "eR")
#: Oscillation parameters of the ``osc_<k>`` names, in the order of :class:`OscParams`.
OSC = ("theta12", "theta13", "theta23", "delta_cp", "dm21", "dm31")
#: Flavours of the ``mu_nu_<a>`` and ``charge_radius_<a>`` names.
FLAVOURS = ("e", "mu", "tau")
#: Flavour pairs of the transition ``charge_radius_<ab>`` names, in the order of Params.transition_charge_radius.
TRANSITIONS = ("emu", "etau", "mutau")
#: The Z' names: linear and log10 coupling and mass (MeV).
ZPRIME = ("zprime_g", "zprime_mass_mev", "zprime_log10_g", "zprime_log10_mass_mev")


def is_known(name: str) -> bool:
    """True if ``name`` is a parameter name of this mapping (see the module docstring)."""
    if "." in name:
        return True
    if name.startswith("eps_"):
        parts = name[4:].split("_", 1)
        return len(parts) == 2 and parts[0] in FERMIONS and parts[1] in COMPONENTS
    if name in ZPRIME or name in ("cevns_scale", "sin2_theta_w"):
        return True
    if name.startswith("r_n_") and name[4:] in ELEMENTS:
        return True
    if name.startswith("solar_flux_") and name[11:] in SOLAR_COMPONENTS:
        return True
    if name.startswith("osc_") and name[4:] in OSC:
        return True
    if name.startswith("charge_radius_") and name[14:] in TRANSITIONS:
        return True
    return any(name.startswith(p) and name[len(p):] in FLAVOURS for p in ("mu_nu_", "charge_radius_", "millicharge_"))


def check_names(names: Iterable[str]) -> None:
    """Raise :class:`~nsijax.errors.InvalidParamsError` listing the names that are not known."""
    bad = [n for n in names if not is_known(n)]
    if bad:
        raise InvalidParamsError(
            f"unknown parameter names {bad}; use eps_<u|d|e|eL|eR>_<{'|'.join(COMPONENTS)}>, zprime_g, "
            "zprime_mass_mev (or zprime_log10_*), mu_nu_<e|mu|tau>, charge_radius_<e|mu|tau|emu|etau|mutau>, "
            "millicharge_<e|mu|tau>, cevns_scale, "
            f"sin2_theta_w, r_n_<{'|'.join(ELEMENTS)}>, solar_flux_<{'|'.join(SOLAR_COMPONENTS)}>, "
            f"osc_<{'|'.join(OSC)}>, or '<experiment>.<nuisance>'"
        )


def _float(x) -> Float[Array, "..."]:
    return jnp.asarray(x, dtype=float)


def build_params(
    theta: Mapping[str, object], *, zprime_charges: str | None = None, base: Params | None = None
) -> Params:
    """A :class:`Params` from named scalars (traceable: works under jit, vmap and grad).

    Args:
        theta: name -> value (names of the module docstring).
        zprime_charges: charge preset of the Z' (:data:`nsijax.parameters.zprime.CHARGE_PRESETS`), needed
            with ``zprime_*`` names.
        base: supplies what ``theta`` does not name among the oscillation parameters (``base.osc``), the
            nuisance pulls (``base.nuisances``, e.g. a warm start), ``cevns_scale``, ``sin2_theta_w``, the
            neutron radii and the solar flux normalisations; NSI, Z', magnetic moments, charge radii and millicharges not named are zero. Default ``Params()``.
    """
    check_names(theta)
    comps = {f: [jnp.zeros(())] * 9 for f in FERMIONS}
    for k, v in theta.items():
        if k.startswith("eps_"):
            f, c = k[4:].split("_", 1)
            comps[f][COMPONENTS.index(c)] = comps[f][COMPONENTS.index(c)] + v
    stack = {f: jnp.stack([_float(x) for x in comps[f]]) for f in FERMIONS}
    nsi = NSI.from_components(
        eL=stack["eL"] + 0.5 * stack["e"], eR=stack["eR"] + 0.5 * stack["e"], u=stack["u"], d=stack["d"]
    )
    g = theta.get("zprime_g", None)
    if "zprime_log10_g" in theta:
        g = 10.0 ** _float(theta["zprime_log10_g"])
    m = theta.get("zprime_mass_mev", None)
    if "zprime_log10_mass_mev" in theta:
        m = 10.0 ** _float(theta["zprime_log10_mass_mev"])
    zprime = None
    if g is not None or m is not None:
        if g is None or m is None or zprime_charges is None:
            raise InvalidParamsError("a Z' needs both a coupling and a mass parameter and zprime_charges")
        zprime = ZPrime(g, m, charges=zprime_charges)
    mu = jnp.stack([_float(theta.get(f"mu_nu_{a}", 0.0)) for a in FLAVOURS])
    r2 = jnp.stack([_float(theta.get(f"charge_radius_{a}", 0.0)) for a in FLAVOURS])
    r2_ab = jnp.stack([_float(theta.get(f"charge_radius_{ab}", 0.0)) for ab in TRANSITIONS])
    q_nu = jnp.stack([_float(theta.get(f"millicharge_{a}", 0.0)) for a in FLAVOURS])
    base = base or Params()
    osc = base.osc
    if any(f"osc_{k}" in theta for k in OSC):
        ref = resolve_osc(osc, "base.osc")
        osc = OscParams(*[theta.get(f"osc_{k}", getattr(ref, k)) for k in OSC])
    return Params(
        nsi=nsi,
        zprime=zprime,
        mu_nu=mu,
        charge_radius=r2,
        transition_charge_radius=r2_ab,
        millicharge=q_nu,
        osc=osc,
        nuisances={**base.nuisances, **{k: _float(v) for k, v in theta.items() if "." in k}},
        cevns_scale=theta.get("cevns_scale", base.cevns_scale),
        sin2_theta_w=theta.get("sin2_theta_w", base.sin2_theta_w),
        neutron_radius={**base.neutron_radius, **{k[4:]: _float(v) for k, v in theta.items() if k.startswith("r_n_")}},
        solar_flux={**base.solar_flux, **{k[11:]: _float(v) for k, v in theta.items() if k.startswith("solar_flux_")}},
    )


def named_values(params: Params, names: Iterable[str]) -> dict[str, Float[Array, "..."]]:
    """The values of ``names`` in ``params``, the inverse of :func:`build_params` (traceable).

    ``eps_e_<c>`` reads the vector coupling eL + eR, ``eps_eL_<c>`` / ``eps_eR_<c>`` the chiral ones;
    ``osc_*`` read ``params.osc`` (None: NuFIT 6.0 NO); a missing nuisance pull is 0; the Z' names need
    a Z' in ``params``.
    """
    names = tuple(names)
    check_names(names)
    nsi = params.nsi
    per_fermion = {"u": nsi.u, "d": nsi.d, "e": nsi.eL + nsi.eR, "eL": nsi.eL, "eR": nsi.eR}
    zp = params.zprime
    if zp is None and any(n in ZPRIME for n in names):
        raise InvalidParamsError(f"params has no Z'; cannot read {[n for n in names if n in ZPRIME]}")
    out = {}
    for n in names:
        if "." in n:
            v = params.nuisance(n)
        elif n.startswith("eps_"):
            f, c = n[4:].split("_", 1)
            v = per_fermion[f][..., COMPONENTS.index(c)]
        elif n in ZPRIME:
            v = {"zprime_g": zp.g, "zprime_mass_mev": zp.mass_mev,
                 "zprime_log10_g": jnp.log10(zp.g), "zprime_log10_mass_mev": jnp.log10(zp.mass_mev)}[n]
        elif n.startswith("osc_"):
            v = getattr(resolve_osc(params.osc), n[4:])
        elif n.startswith("mu_nu_"):
            v = params.mu_nu[..., FLAVOURS.index(n[6:])]
        elif n.startswith("charge_radius_") and n[14:] in TRANSITIONS:
            v = params.transition_charge_radius[..., TRANSITIONS.index(n[14:])]
        elif n.startswith("charge_radius_"):
            v = params.charge_radius[..., FLAVOURS.index(n[14:])]
        elif n.startswith("millicharge_"):
            v = params.millicharge[..., FLAVOURS.index(n[12:])]
        elif n == "sin2_theta_w":
            v = params.sin2_theta_w
        elif n.startswith("r_n_"):
            if n[4:] not in params.neutron_radius:
                raise InvalidParamsError(f"params has no neutron radius for {n[4:]}; cannot read {n}")
            v = params.neutron_radius[n[4:]]
        elif n.startswith("solar_flux_"):
            v = params.solar_flux.get(n[11:], 1.0)
        else:  # cevns_scale
            v = params.cevns_scale
        out[n] = _float(v)
    return out
