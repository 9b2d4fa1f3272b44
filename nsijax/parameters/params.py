"""The :class:`Params` pytree: every physics parameter and nuisance a likelihood can depend on.

``Params()`` is the Standard Model with every nuisance at its nominal value. Nuisances are stored as
standard-normal pulls theta (prior N(0, 1)) in a dict keyed ``"<experiment>.<nuisance>"`` (e.g.
``"coherent_csi_2021.flux"``); a missing key means theta = 0. The physical effect of each pull (a 10 %
flux normalisation, the +-1 sigma coefficient sets of a quenching model, ...) is defined by the
experiment's class (:mod:`nsijax.experiments`, e.g. :mod:`nsijax.experiments.scattering.coherent`).
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .. import constants as c
from .._checks import as_float, check
from ..errors import InvalidParamsError
from ..physics.sources.solar import COMPONENTS as SOLAR_COMPONENTS
from .nsi import NSI
from .zprime import ZPrime


def _per_flavour(x, name: str) -> Float[Array, "3"]:
    arr = as_float(x, name)
    if arr.ndim == 0:
        arr = jnp.broadcast_to(arr, (3,))
    if arr.shape[-1:] != (3,):
        raise InvalidParamsError(f"{name} must be a scalar or have shape (3,) (e, mu, tau); got {arr.shape}")
    return check(arr, ~jnp.isfinite(arr), f"{name} must be finite", InvalidParamsError)


#: Smallest point-neutron rms radius (fm) a Helm form factor can have: sqrt(3) x its surface thickness 0.9 fm.
MIN_NEUTRON_RADIUS_FM = 3**0.5 * 0.9


def _neutron_radii(radii) -> dict[str, Array]:
    """Validate ``{element symbol: R_n in fm}`` (each finite and > :data:`MIN_NEUTRON_RADIUS_FM`). The symbols are
    checked against the known targets where they are used (the likelihood's and the cross sections' checks)."""
    radii = {} if radii is None else radii
    if not isinstance(radii, dict) or not all(isinstance(k, str) for k in radii):
        raise InvalidParamsError(f"neutron_radius must be a dict element symbol -> R_n (fm); got {radii!r}")
    out = {}
    for el, r in radii.items():
        a = as_float(r, f"neutron_radius[{el!r}]")
        out[el] = check(
            a,
            ~jnp.isfinite(a) | (a <= MIN_NEUTRON_RADIUS_FM),
            f"neutron_radius[{el!r}] must be a finite radius > {MIN_NEUTRON_RADIUS_FM:.3f} fm (R_n <= 0 is unphysical; "
            "a Helm form needs R_n^2 > 3 s^2)",
            InvalidParamsError,
        )
    return out


def _solar_flux(norms) -> dict[str, Array]:
    """Validate ``{solar component: flux normalisation}`` (keys of :data:`SOLAR_COMPONENTS`, each finite and >= 0)."""
    norms = {} if norms is None else norms
    if not isinstance(norms, dict) or not all(isinstance(k, str) for k in norms):
        raise InvalidParamsError(f"solar_flux must be a dict solar component -> normalisation; got {norms!r}")
    bad = sorted(set(norms) - set(SOLAR_COMPONENTS))
    if bad:
        raise InvalidParamsError(f"solar_flux names unknown components {bad}; known: {list(SOLAR_COMPONENTS)}")
    return {
        k: check(a, ~jnp.isfinite(a) | (a < 0), f"solar_flux[{k!r}] must be finite and >= 0", InvalidParamsError)
        for k, a in ((k, as_float(v, f"solar_flux[{k!r}]")) for k, v in norms.items())
    }


class Params(eqx.Module):
    """Physics parameters and nuisance pulls shared by the likelihoods.

    Args:
        nsi: NSI couplings (default: none, the Standard Model).
        zprime: a light vector mediator :class:`nsijax.ZPrime`, or None.
        mu_nu: effective neutrino magnetic moment per flavour, units of mu_B (scalar or (3,)).
        charge_radius: neutrino charge radius <r^2> per flavour in cm^2 (scalar or (3,)).
        transition_charge_radius: transition charge radii <r^2>_ab of (e mu, e tau, mu tau) in cm^2 (scalar or (3,));
            they add incoherently to the scattering cross sections (a neutrino of flavour a leaves as b).
        millicharge: neutrino electric charge per flavour in units of e (scalar or (3,)).
        osc: :class:`nsijax.physics.oscillation.OscParams` used by the oscillation experiments (Borexino,
            KamLAND; unused by the scattering ones), or None = NuFIT 6.0 normal-ordering best fit.
            Oscillations see the matter NSI :meth:`matter_nsi` (``nsi`` plus the Z' at q^2 = 0).
        nuisances: dict ``"<experiment>.<nuisance>" -> pull`` (standard-normal units; missing = 0).
        cevns_scale: multiplies every CEvNS component (1 = physics prediction). Used for the
            "SM shape, free normalisation" fits; leave at 1 for physics fits.
        sin2_theta_w: the weak mixing angle at the low momentum transfer of CEvNS and nu-e scattering
            (default :data:`nsijax.constants.SIN2_THETA_W`, MS-bar at q -> 0). It sets the SM couplings of
            :mod:`nsijax.physics.scattering` (tree level: g_V^p = 1/2 - 2 s^2, nu-e g_L, g_R; the radiatively
            corrected ``"pdg"`` g_V^p is shifted by its tree-level slope -2 (s^2 - SIN2_THETA_W)) and of
            the CHARM / NuTeV predictions; oscillations do not depend on it.
        neutron_radius: point-neutron rms radius (fm) per element symbol, e.g. ``{"Cs": 5.0, "I": 5.0}``:
            the CEvNS neutron form factor of those nuclei becomes a Helm form with that rms radius
            (R0^2 = 5/3 (R_n^2 - 3 s^2), s = 0.9 fm; > 1.56 fm); elements not named keep the experiment's
            form factor for protons and neutrons alike.
        solar_flux: normalisation of each solar-neutrino component relative to the solar model of the experiments
            (keys pp, pep, hep, 7Be, 8B, 13N, 15O, 17F; missing = 1), e.g. ``{"8B": 0.9}``: one value shared by every
            solar rate experiment of a fit; its prior is the ``solar_model_b23`` data set
            (:mod:`nsijax.experiments.oscillation.solar_rates`).

    Example:
        >>> p = Params(nsi=NSI(eps_u={"ee": 0.1}), nuisances={"coherent_csi_2021.flux": 0.5})
    """

    nsi: NSI
    zprime: ZPrime | None
    mu_nu: Float[Array, "3"]
    charge_radius: Float[Array, "3"]
    transition_charge_radius: Float[Array, "3"]
    millicharge: Float[Array, "3"]
    osc: Any
    nuisances: dict[str, Array]
    cevns_scale: Float[Array, ""]
    sin2_theta_w: Float[Array, ""]
    neutron_radius: dict[str, Array]
    solar_flux: dict[str, Array]

    def __init__(
        self,
        nsi: NSI | None = None,
        zprime: ZPrime | None = None,
        mu_nu=0.0,
        charge_radius=0.0,
        osc: Any = None,
        nuisances: dict[str, Any] | None = None,
        cevns_scale=1.0,
        sin2_theta_w=None,
        neutron_radius: dict[str, Any] | None = None,
        transition_charge_radius=0.0,
        millicharge=0.0,
        solar_flux: dict[str, Any] | None = None,
    ):
        if nsi is not None and not isinstance(nsi, NSI):
            raise InvalidParamsError(f"nsi must be an nsijax.NSI or None; got {type(nsi).__name__}")
        if zprime is not None and not isinstance(zprime, ZPrime):
            raise InvalidParamsError(f"zprime must be an nsijax.ZPrime or None; got {type(zprime).__name__}")
        self.nsi = NSI() if nsi is None else nsi
        self.zprime = zprime
        self.mu_nu = _per_flavour(mu_nu, "mu_nu")
        self.charge_radius = _per_flavour(charge_radius, "charge_radius")
        self.transition_charge_radius = _per_flavour(transition_charge_radius, "transition_charge_radius")
        self.millicharge = _per_flavour(millicharge, "millicharge")
        self.osc = osc
        nu = {} if nuisances is None else nuisances
        if not isinstance(nu, dict) or not all(isinstance(k, str) for k in nu):
            raise InvalidParamsError("nuisances must be a dict mapping '<experiment>.<nuisance>' to a number")
        out = {}
        for k, v in nu.items():
            a = as_float(v, f"nuisance {k}")
            out[k] = check(a, ~jnp.isfinite(a), f"nuisance {k!r} must be finite", InvalidParamsError)
        self.nuisances = out
        s = as_float(cevns_scale, "cevns_scale")
        self.cevns_scale = check(
            s, ~jnp.isfinite(s) | (s < 0), "cevns_scale must be finite and >= 0", InvalidParamsError
        )
        w = as_float(c.SIN2_THETA_W if sin2_theta_w is None else sin2_theta_w, "sin2_theta_w")
        self.sin2_theta_w = check(
            w, ~jnp.isfinite(w) | (w <= 0) | (w >= 1), "sin2_theta_w must lie in (0, 1)", InvalidParamsError
        )
        self.neutron_radius = _neutron_radii(neutron_radius)
        self.solar_flux = _solar_flux(solar_flux)

    def matter_nsi(self) -> NSI:
        """The NSI that oscillations in matter see: ``nsi`` plus the Z'-induced NSI at q^2 = 0.

        Coherent forward scattering has zero momentum transfer, so a Z' of any mass acts in matter
        as the contact NSI ``zprime.nsi(0)`` (PHYSICS.md). Every oscillation experiment uses this.
        """
        if self.zprime is None:
            return self.nsi
        return self.nsi + self.zprime.nsi(0.0)

    def nuisance(self, key: str) -> Float[Array, ""]:
        """Pull of nuisance ``key`` (0 if absent)."""
        return self.nuisances.get(key, jnp.zeros(()))

    def replace(self, **changes) -> Params:
        """A copy with some fields replaced (no validation of the new values)."""
        out = self
        for k, v in changes.items():
            out = eqx.tree_at(lambda p, k=k: getattr(p, k), out, v, is_leaf=lambda x: x is None)
        return out

    def with_nuisances(self, values: dict[str, Any]) -> Params:
        """A copy whose nuisance dict is updated with ``values`` (keys ``"<experiment>.<nuisance>"``)."""
        merged = dict(self.nuisances)
        merged.update({k: jnp.asarray(v, dtype=float) for k, v in values.items()})
        return eqx.tree_at(lambda p: p.nuisances, self, merged)
