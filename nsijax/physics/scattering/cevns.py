"""Coherent elastic neutrino-nucleus scattering (CEvNS) with NSI, a light Z', magnetic moment and
charge radius.

dsigma/dT = (G_F^2 M / pi) (1 - M T / (2 E^2) - T / E) Q_a^2,         T <= T_max = 2 E^2 / (M + 2 E)

Q_a^2 = [ (g_V^p + 2 eps^u_aa + eps^d_aa) Z F(q^2) + (g_V^n + eps^u_aa + 2 eps^d_aa) N F(q^2) ]^2
      + sum_{b != a} | (2 eps^u_ab + eps^d_ab + delta_ab) Z F + (eps^u_ab + 2 eps^d_ab) N F |^2

(Barranco, Miranda & Rashba, JHEP 0512, 021 (2005); PHYSICS.md), q^2 = 2 M T, with the proton form factor F on
the Z terms and the neutron one F_n on the N terms (F_n = F unless a point-neutron radius R_n is given: then a Helm
form with that rms radius). The weak mixing angle sets g_V^p (tree: 1/2 - 2 sin^2 theta_W; the radiatively
corrected "pdg" value shifted by -2 (sin^2 theta_W - SIN2_THETA_W)). A Z' adds the diagonal
eps^{u,d}(q^2) of :meth:`nsijax.ZPrime.nsi`. Charge radius: g_V^p -> g_V^p - (2/3) m_W^2 sin^2 theta_W
<r^2_aa> (Giunti, Neutrino 2022; Cadeddu et al., PRD 98, 113010 (2018)); transition radii <r^2_ab> give the delta_ab
of the b != a amplitudes; a millicharge q_a adds (2 sqrt(2) pi alpha / G_F) q_a / Q^2 to g_V^p (Q^2 = 2 M T). Magnetic moment (incoherent
sum): (pi alpha^2 / m_e^2) (1/T - 1/E) Z^2 F^2 (mu_nu / mu_B)^2 (Vogel & Engel, PRD 39, 3378 (1989)).
Antineutrinos: eps -> eps^*, which leaves every term unchanged.
"""

from __future__ import annotations

import math
from typing import Literal

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ... import constants as c
from ..._checks import flavor_index, nonnegative
from ...errors import InvalidInputError
from ...parameters.nsi import NSI
from ...parameters.zprime import ZPrime
from . import form_factors as ff
from .kinematics import t_max
from .targets import Target, check_elements, get_target

#: Component indices (see nsijax.parameters.nsi.COMPONENTS) of the off-diagonal entries touching flavour a.
_OFFDIAG = {0: ((3, 4), (5, 6)), 1: ((3, 4), (7, 8)), 2: ((5, 6), (7, 8))}
#: Indices into the transition charge radii (e mu, e tau, mu tau) of the pairs touching flavour a, in the order of
#: the final flavours of :data:`_OFFDIAG`.
TRANSITIONS_OF = {0: (0, 1), 1: (0, 2), 2: (1, 2)}
#: 2 sqrt(2) pi alpha / G_F (MeV^2): the photon-exchange amplitude in units of the weak one (Giunti & Studenikin,
#: Rev. Mod. Phys. 87, 531 (2015), Sec. VII).
EM_OVER_WEAK_MEV2 = 2.0 * math.sqrt(2.0) * math.pi * c.ALPHA / c.G_F

COUPLINGS = {"tree": (c.GV_P_TREE, c.GV_N_TREE), "pdg": (c.GV_P_RC, c.GV_N_RC)}


def per_flavour(x, name: str, a: int):
    """``x`` for flavour ``a``: a scalar applies to every flavour, a (3,) array is indexed (e, mu, tau)."""
    x = jnp.asarray(x, dtype=jnp.result_type(float))
    if x.ndim == 0:
        return x
    if x.shape == (3,):
        return x[a]
    raise InvalidInputError(f"{name} must be a scalar or have shape (3,) (per flavour); got {x.shape}")


def check_models(nsi, zprime) -> None:
    """Type checks of the optional new-physics arguments shared by the cross-section functions."""
    if nsi is not None and not isinstance(nsi, NSI):
        raise InvalidInputError(f"nsi must be an nsijax.NSI or None; got {type(nsi).__name__}")
    if zprime is not None and not isinstance(zprime, ZPrime):
        raise InvalidInputError(f"zprime must be an nsijax.ZPrime or None; got {type(zprime).__name__}")


def nucleon_couplings(couplings: str) -> tuple[float, float]:
    """(g_V^p, g_V^n): ``"tree"`` (1/2 - 2 sin^2 theta_W, -1/2) or ``"pdg"`` (radiatively corrected)."""
    if couplings not in COUPLINGS:
        raise InvalidInputError(f"unknown couplings {couplings!r}; choose from {sorted(COUPLINGS)}")
    return COUPLINGS[couplings]


def weak_mixing_shift(sin2_theta_w) -> Float[Array, ""]:
    """Shift of g_V^p when sin^2 theta_W differs from :data:`nsijax.constants.SIN2_THETA_W`: -2 Delta s^2
    (exact at tree level; for the radiatively corrected couplings the rho, kappa factors ~1.005 of the slope are
    neglected). g_V^n does not depend on it."""
    return -2.0 * (jnp.asarray(sin2_theta_w) - c.SIN2_THETA_W)


def neutron_radii(t: Target, neutron_radius) -> tuple[Array | None, np.ndarray | None]:
    """Per nucleus of ``t``: the point-neutron radii of :attr:`nsijax.Params.neutron_radius` (fm; a placeholder
    where the element is not named) and the static mask of the named ones; (None, None) if none applies."""
    if not neutron_radius:
        return None, None
    if not isinstance(neutron_radius, dict):
        raise InvalidInputError("neutron_radius must be a dict element -> R_n (fm), e.g. Params.neutron_radius")
    check_elements(neutron_radius)
    named = np.array([el in neutron_radius for el in t.elements])
    if not named.any():
        return None, None
    placeholder = jnp.asarray(5.0)  # keeps the unused Helm branch finite (and its gradient)
    radii = jnp.stack([jnp.asarray(neutron_radius.get(el, placeholder), dtype=float) for el in t.elements])
    return radii, named


def charge_radius_shift(r2_cm2) -> Float[Array, "..."]:
    """Shift of g_V^p from a neutrino charge radius <r^2> (cm^2): -(2/3) m_W^2 sin^2 theta_W <r^2>."""
    return -(2.0 / 3.0) * c.M_W**2 * c.SIN2_THETA_W * jnp.asarray(r2_cm2) / c.HBARC_MEV_CM**2


def millicharge_shift(charge_e, q2_mev2) -> Float[Array, "..."]:
    """Shift of g_V^p from a neutrino charge q (units of e) at momentum transfer Q^2 = q2 (MeV^2, > 0):
    +(2 sqrt(2) pi alpha / G_F) q / Q^2 (Giunti & Studenikin 2015; Cadeddu et al., PRD 102, 015030 (2020), with
    q^2 = -Q^2). Set to 0 at Q^2 = 0, where the cross section diverges (a threshold keeps it away)."""
    q2 = jnp.asarray(q2_mev2)
    safe = jnp.where(q2 > 0, q2, 1.0)
    return jnp.where(q2 > 0, EM_OVER_WEAK_MEV2 * jnp.asarray(charge_e) / safe, 0.0)


def dsigma_dT(
    E_mev: ArrayLike,
    T_mev: ArrayLike,
    target: str | Target,
    *,
    flavor: int | str,
    antineutrino: bool = False,
    nsi: NSI | None = None,
    zprime: ZPrime | None = None,
    mu_nu: ArrayLike = 0.0,
    charge_radius: ArrayLike = 0.0,
    form_factor: Literal["helm", "klein_nystrand", "none"] = "helm",
    couplings: Literal["tree", "pdg"] = "tree",
    sin2_theta_w: ArrayLike | None = None,
    neutron_radius: dict | None = None,
    transition_charge_radius: ArrayLike = 0.0,
    millicharge: ArrayLike = 0.0,
) -> Float[Array, "..."]:
    """CEvNS differential cross section dsigma/dT in cm^2/MeV per formula unit of ``target``.

    Args:
        E_mev: neutrino energy (MeV, >= 0).
        T_mev: nuclear recoil kinetic energy (MeV, >= 0); broadcasts against ``E_mev``.
        target: a name from :func:`nsijax.physics.scattering.targets.available` ("CsI", "Ar", "Ge", ...) or a Target;
            natural isotopes and every nucleus of the formula unit are summed.
        flavor: incoming flavour 0 (e), 1 (mu), 2 (tau) (static).
        antineutrino: incoming antineutrino (static).
        nsi: NSI couplings (eps^u, eps^d enter), default none.
        zprime: a light vector mediator, evaluated at q^2 = 2 M T of each isotope.
        mu_nu: effective neutrino magnetic moment in Bohr magnetons (scalar or per flavour (3,)).
        charge_radius: neutrino charge radius <r^2> in cm^2 (scalar or per flavour (3,)).
        form_factor: "helm" (Lewin-Smith), "klein_nystrand" or "none".
        couplings: nucleon couplings, "tree" (PHYSICS.md) or "pdg" (radiatively corrected).
        sin2_theta_w: weak mixing angle (None: :data:`nsijax.constants.SIN2_THETA_W`); shifts g_V^p
            (:func:`weak_mixing_shift`).
        neutron_radius: point-neutron rms radius (fm) by element symbol (as :attr:`nsijax.Params.neutron_radius`);
            the named nuclei get a Helm neutron form factor of that radius, the others F_n = F.
        transition_charge_radius: <r^2>_ab of (e mu, e tau, mu tau), cm^2 (scalar or (3,)): each adds
            charge_radius_shift(<r^2>_ab) Z F to the amplitude of the final flavour b != a (with the off-diagonal NSI
            of the same final flavour), incoherently with the flavour-diagonal one.
        millicharge: neutrino charge in units of e (scalar or per flavour (3,)): g_V^p += :func:`millicharge_shift`.

    Returns:
        dsigma/dT with the broadcast shape of E_mev and T_mev; exactly 0 where T > T_max(E).
    """
    t = get_target(target)
    a = flavor_index(flavor)
    E = nonnegative(E_mev, "E_mev", "MeV")
    T = nonnegative(T_mev, "T_mev", "MeV")
    fff = ff.get(form_factor)
    gvp, gvn = nucleon_couplings(couplings)
    mu = per_flavour(mu_nu, "mu_nu", a)
    r2 = per_flavour(charge_radius, "charge_radius", a)
    qnu = per_flavour(millicharge, "millicharge", a)
    r2t = jnp.broadcast_to(jnp.asarray(transition_charge_radius, dtype=float), (3,))
    check_models(nsi, zprime)
    s2 = None if sin2_theta_w is None else jnp.asarray(sin2_theta_w, dtype=float)
    radii, named = neutron_radii(t, neutron_radius)
    named = None if named is None else tuple(bool(x) for x in named)
    return _dsigma_dT(E, T, t, a, bool(antineutrino), nsi, zprime, mu, r2, fff, gvp, gvn, s2, radii, named, r2t, qnu)


@eqx.filter_jit
def _dsigma_dT(E, T, t: Target, a, antineutrino, nsi, zprime, mu, r2, fff, gvp, gvn, s2, radii, named, r2t, qnu):
    del antineutrino  # Q^2 is invariant under eps -> eps^* (PHYSICS.md)
    shape = jnp.broadcast_shapes(E.shape, T.shape)
    # no explicit broadcast: form factors and couplings depend on T only, so on an E x T grid they are
    # computed on T's shape and only the kinematic factor runs over the full grid
    Eb, Tb = E[..., None], T[..., None]  # isotope axis last
    M = jnp.asarray(t.mass_mev)
    Z, N, A = jnp.asarray(t.Z), jnp.asarray(t.N), jnp.asarray(t.A)
    q2 = 2.0 * M * Tb
    F = fff(q2, A)
    Fn = F if radii is None else jnp.where(np.asarray(named), ff.helm_from_rms(q2, radii), F)

    gp = gvp + charge_radius_shift(r2) + millicharge_shift(qnu, q2)
    if s2 is not None:
        gp = gp + weak_mixing_shift(s2)
    gn = gvn
    if nsi is not None:
        eu, ed = nsi.u[..., a, None], nsi.d[..., a, None]
        gp = gp + 2.0 * eu + ed
        gn = gn + eu + 2.0 * ed
    if zprime is not None:
        zn = zprime.nsi(q2)
        gp = gp + 2.0 * zn.u[..., a] + zn.d[..., a]
        gn = gn + zn.u[..., a] + 2.0 * zn.d[..., a]
    q_weak2 = (gp * Z * F + gn * N * Fn) ** 2
    # final flavours b != a: off-diagonal NSI (real and imaginary parts) and the transition charge radius
    for (re, im), k in zip(_OFFDIAG[a], TRANSITIONS_OF[a]):
        amp = {re: charge_radius_shift(r2t[k]) * Z * F, im: 0.0}
        if nsi is not None:
            for j in (re, im):
                u_j, d_j = nsi.u[..., j, None], nsi.d[..., j, None]
                amp[j] = amp[j] + (2.0 * u_j + d_j) * Z * F + (u_j + 2.0 * d_j) * N * Fn
        q_weak2 = q_weak2 + amp[re] ** 2 + amp[im] ** 2

    E_safe = jnp.where(Eb > 0, Eb, 1.0)
    kin = 1.0 - M * Tb / (2.0 * E_safe**2) - Tb / E_safe
    allowed = (Eb > 0) & (Tb <= t_max(Eb, M))
    weak = c.G_F**2 * M / math.pi * jnp.clip(kin, 0.0, None) * q_weak2

    # magnetic moment: 1/T pole set to 0 at T = 0 exactly (integrable; documented in the docstring)
    T_safe = jnp.where(Tb > 0, Tb, 1.0)
    pole = jnp.where(Tb > 0, 1.0 / T_safe - 1.0 / E_safe, 0.0)
    magnetic = math.pi * c.ALPHA**2 / c.M_E**2 * jnp.clip(pole, 0.0, None) * (Z * F) ** 2 * mu**2

    per_nucleus = jnp.where(allowed, weak + magnetic, 0.0) * c.HBARC2_MEV2_CM2
    return jnp.broadcast_to(jnp.sum(per_nucleus * jnp.asarray(t.weight), axis=-1), shape)
