"""Light vector mediator Z' coupled to a U(1)' current, and the NSI it induces at momentum transfer q^2.

L ⊃ g Z'_mu [ sum_f Q'_f f gamma^mu f + sum_a Q'_a nu_a gamma^mu P_L nu_a ]   (PHYSICS.md)

Integrated out at space-like momentum transfer q^2 (= |q|^2 = 2 M T for a target of mass M):

    eps^{fV}_aa(q^2) = g^2 Q'_f Q'_a / ( sqrt(2) G_F (q^2 + M_Z'^2) ),

with Q'_u = Q'_d = Q'_q. Electrons couple vectorially: eps^{eL} = eps^{eR} = eps^{eV}/2.
With this sign a universal Z' interferes destructively with the SM in CEvNS and B-L constructively.

Kinetic mixing (off by default) adds eps_kin * e * Q_em,f to the coupling g Q'_f of each charged fermion
(proton-like: Q_em,u = 2/3, Q_em,d = -1/3, Q_em,e = -1). ``kinetic_mixing="loop"`` uses the one-loop value
of L_mu - L_tau, eps_kin = e g / (12 pi^2) ln(m_tau^2 / m_mu^2) (e.g. Altmannshofer et al., PRD 89,
095033 (2014); sign conventions vary in the literature, this one makes the mu loop dominate positively).
"""

from __future__ import annotations

import math

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .. import constants as c
from .._checks import as_float, check, nonnegative
from ..errors import InvalidParamsError
from .nsi import NSI

#: Charge presets: (Q'_q, Q'_e, Q'_nu_e, Q'_nu_mu, Q'_nu_tau, Q'_mu, Q'_tau).
#: Quark charge Q'_q is per quark (baryon number 1/3 per quark for B-type models).
CHARGE_PRESETS: dict[str, tuple[float, ...]] = {
    "universal": (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
    "B-L": (1 / 3, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0),
    "B": (1 / 3, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    "B-3Le": (1 / 3, -3.0, -3.0, 0.0, 0.0, 0.0, 0.0),
    "B-3Lmu": (1 / 3, 0.0, 0.0, -3.0, 0.0, -3.0, 0.0),
    "B-3Ltau": (1 / 3, 0.0, 0.0, 0.0, -3.0, 0.0, -3.0),
    "Lmu-Ltau": (0.0, 0.0, 0.0, 1.0, -1.0, 1.0, -1.0),
}

_E_CHARGE = math.sqrt(4.0 * math.pi * c.ALPHA)


class Charges(eqx.Module):
    """U(1)' charges: quarks (per quark), electron, the three neutrinos (left-handed)."""

    quark: Float[Array, ""]
    electron: Float[Array, ""]
    nu: Float[Array, "3"]

    def __init__(self, quark=0.0, electron=0.0, nu=(0.0, 0.0, 0.0)):
        self.quark = as_float(quark, "charges.quark")
        self.electron = as_float(electron, "charges.electron")
        self.nu = as_float(nu, "charges.nu")
        if self.nu.shape[-1:] != (3,):
            raise InvalidParamsError(f"charges.nu must have 3 entries (e, mu, tau); got shape {self.nu.shape}")

    @classmethod
    def preset(cls, name: str) -> Charges:
        """Charges of a named model; ``CHARGE_PRESETS`` lists them."""
        if name not in CHARGE_PRESETS:
            raise InvalidParamsError(
                f"unknown Z' charge preset {name!r}; known presets: {sorted(CHARGE_PRESETS)}"
            )
        q, e, ne, nm, nt, _, _ = CHARGE_PRESETS[name]
        return cls(q, e, (ne, nm, nt))


class ZPrime(eqx.Module):
    """A vector Z' of coupling ``g`` and mass ``mass_mev`` (MeV) with U(1)' charges.

    Args:
        g: gauge coupling g_Z' (dimensionless).
        mass_mev: Z' mass in MeV (> 0).
        charges: a preset name (see ``CHARGE_PRESETS``), a :class:`Charges`, or a dict with keys
            ``quark``, ``electron``, ``nu`` (3 entries).
        kinetic_mixing: mixing parameter eps_kin with the photon (0 = off), or ``"loop"`` for the
            one-loop L_mu - L_tau value (only with that preset).

    Example:
        >>> zp = ZPrime(1e-5, 10.0, charges="B-L")
        >>> nsi = zp.nsi(2 * 123_800.0 * 0.01)   # q^2 = 2 M T for CsI at T = 10 keV
    """

    g: Float[Array, "..."]
    mass_mev: Float[Array, "..."]
    charges: Charges
    kinetic_mixing: Float[Array, "..."]
    loop_mixing: bool = eqx.field(static=True, default=False)

    def __init__(self, g, mass_mev, charges="universal", kinetic_mixing=0.0):
        g = as_float(g, "g")
        self.g = check(g, ~jnp.isfinite(g), "Z' coupling g must be finite", InvalidParamsError)
        m = as_float(mass_mev, "mass_mev")
        self.mass_mev = check(
            m, ~jnp.isfinite(m) | (m <= 0), "Z' mass_mev must be finite and > 0 (MeV)", InvalidParamsError
        )
        if isinstance(charges, str):
            preset = charges
            charges = Charges.preset(charges)
        else:
            preset = None
            if isinstance(charges, dict):
                charges = Charges(**charges)
            if not isinstance(charges, Charges):
                raise InvalidParamsError(
                    f"charges must be a preset name {sorted(CHARGE_PRESETS)}, a dict or a Charges; "
                    f"got {type(charges).__name__}"
                )
        self.charges = charges
        if isinstance(kinetic_mixing, str):
            if kinetic_mixing != "loop":
                raise InvalidParamsError(f"kinetic_mixing must be a number or 'loop'; got {kinetic_mixing!r}")
            if preset != "Lmu-Ltau":
                raise InvalidParamsError("kinetic_mixing='loop' is defined for the 'Lmu-Ltau' preset only")
            self.loop_mixing = True
            self.kinetic_mixing = jnp.zeros(())
        else:
            self.loop_mixing = False
            k = as_float(kinetic_mixing, "kinetic_mixing")
            self.kinetic_mixing = check(k, ~jnp.isfinite(k), "kinetic_mixing must be finite", InvalidParamsError)

    def _mixing(self):
        if self.loop_mixing:
            return _E_CHARGE * self.g / (12.0 * math.pi**2) * math.log(c.M_TAU**2 / c.M_MU**2)
        return self.kinetic_mixing

    def fermion_couplings(self):
        """Effective couplings (g_u, g_d, g_e) = g Q'_f + eps_kin e Q_em,f."""
        k = self._mixing() * _E_CHARGE
        gq = self.g * self.charges.quark
        return gq + k * (2.0 / 3.0), gq - k / 3.0, self.g * self.charges.electron - k

    def nsi(self, q2_mev2=0.0) -> NSI:
        """The NSI induced at momentum transfer ``q2_mev2`` (MeV^2, >= 0; 0 for oscillations).

        Leaves of the returned NSI have shape ``q2.shape + (9,)``.
        """
        q2 = nonnegative(q2_mev2, "q2_mev2", "MeV^2")
        g_u, g_d, g_e = self.fermion_couplings()
        prop = 1.0 / (math.sqrt(2.0) * c.G_F * (q2 + self.mass_mev**2))  # MeV^-2 / MeV^-2
        gnu = self.g * self.charges.nu  # (3,)
        zeros6 = jnp.zeros(q2.shape + (6,), dtype=prop.dtype)

        def diag(gf):
            d = (gf * prop)[..., None] * gnu  # (..., 3)
            return jnp.concatenate([d, zeros6], axis=-1)

        e_v = diag(g_e)
        return NSI.from_components(eL=0.5 * e_v, eR=0.5 * e_v, u=diag(g_u), d=diag(g_d))
