"""Elastic neutrino-electron scattering with NSI, a light Z' and a magnetic moment.

dsigma/dT = (2 G_F^2 m_e / pi) [ g_L^2 + g_R^2 (1 - T/E)^2 - g_L g_R m_e T / E^2 ]      (per electron)

(Vogel & Engel, PRD 39, 3378 (1989); 't Hooft, PLB 37, 195 (1971); PHYSICS.md). SM: g_L = -1/2 +
sin^2 theta_W (+1 for nu_e through the charged current), g_R = sin^2 theta_W; antineutrinos swap g_L and
g_R. NSI (Barranco et al., PRD 76, 073008 (2007)): with G^P_ab = g_P delta_ab + eps^{eP}_ab,

    g_L^2 -> sum_b |G^L_ab|^2,  g_R^2 -> sum_b |G^R_ab|^2,  g_L g_R -> Re sum_b G^L_ab conj(G^R_ab),

so off-diagonal entries add in quadrature. A Z' enters through eps^{eL,eR}(q^2 = 2 m_e T). Magnetic
moment: (pi alpha^2 / m_e^2)(1/T - 1/E)(mu_nu/mu_B)^2 per electron. Charge radii and millicharge are vector
shifts of the row, delta_ab split equally into G^L_ab and G^R_ab, of opposite sign to the proton's in CEvNS (the
electron's charge is -1; :mod:`.cevns`): delta_aa = (2/3) m_W^2 sin^2 theta_W <r^2_aa> - (2 sqrt(2) pi alpha / G_F)
q_a / (2 m_e T), delta_ab = (2/3) m_W^2 sin^2 theta_W <r^2_ab> (Kouzakov & Studenikin, PRD 95, 055013 (2017): g_V ->
g_V + (2/3) m_W^2 <r^2> sin^2 theta_W). Per atom, the cross section is scaled
by the number of electrons with binding energy below T (step approximation; Kouzakov & Studenikin,
PRD 95, 055013 (2017) for its validity at T >> binding).
"""

from __future__ import annotations

import math

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ... import constants as c
from ..._checks import flavor_index, nonnegative
from ...errors import InvalidInputError
from ...parameters.nsi import NSI, components_to_matrix
from ...parameters.zprime import ZPrime
from .cevns import TRANSITIONS_OF, charge_radius_shift, check_models, millicharge_shift, per_flavour
from .kinematics import t_max
from .targets import Target, get_target

#: SM coupling schemes of :func:`sm_couplings`: tree level in sin^2 theta_W, or the radiatively corrected values of
#: :data:`nsijax.constants.GL_NUE_RC`, :data:`~nsijax.constants.GR_NUE_RC` shifted by their tree-level slope in sin^2 theta_W.
COUPLINGS = ("tree", "pdg")


def sm_couplings(flavor: int, antineutrino: bool = False, sin2_theta_w=c.SIN2_THETA_W, couplings: str = "tree"):
    """Standard-Model (g_L, g_R) for neutrino-electron scattering, before the antineutrino swap: ``"tree"``
    (g_L = -1/2 + s^2, g_R = s^2) or ``"pdg"`` (radiatively corrected, + (s^2 - SIN2_THETA_W) each); nu_e adds 1 to g_L."""
    s2 = sin2_theta_w
    if couplings == "tree":
        g_l, g_r = -0.5 + s2, s2
    elif couplings == "pdg":
        g_l, g_r = c.GL_NUE_RC + (s2 - c.SIN2_THETA_W), c.GR_NUE_RC + (s2 - c.SIN2_THETA_W)
    else:
        raise ValueError(f"couplings must be one of {COUPLINGS}; got {couplings!r}")
    return g_l + (1.0 if flavor == 0 else 0.0), g_r


def dsigma_dT(
    E_mev: ArrayLike,
    T_mev: ArrayLike,
    *,
    flavor: int | str,
    antineutrino: bool = False,
    nsi: NSI | None = None,
    zprime: ZPrime | None = None,
    mu_nu: ArrayLike = 0.0,
    sin2_theta_w: ArrayLike | None = None,
    charge_radius: ArrayLike = 0.0,
    transition_charge_radius: ArrayLike = 0.0,
    millicharge: ArrayLike = 0.0,
    couplings: str = "tree",
) -> Float[Array, "..."]:
    """nu-e elastic dsigma/dT in cm^2/MeV per free electron at rest.

    Args:
        E_mev: neutrino energy (MeV, >= 0); T_mev: electron recoil kinetic energy (MeV, >= 0).
        flavor: 0 (e), 1 (mu), 2 (tau), static. antineutrino: static.
        nsi: chiral electron couplings eps^{eL}, eps^{eR} enter. zprime: at q^2 = 2 m_e T.
        mu_nu: magnetic moment in Bohr magnetons (scalar or per flavour (3,)).
        sin2_theta_w: weak mixing angle of g_L, g_R (None: :data:`nsijax.constants.SIN2_THETA_W`).
        charge_radius: <r^2> per flavour (cm^2); transition_charge_radius: <r^2>_ab of (e mu, e tau, mu tau) (cm^2);
            millicharge: charge per flavour (units of e) -- see the module docstring.
        couplings: SM couplings, ``"tree"`` or ``"pdg"`` (radiatively corrected; :func:`sm_couplings`), static.

    Returns:
        dsigma/dT, broadcast shape of E and T; exactly 0 above T_max = 2E^2/(m_e + 2E).
    """
    if couplings not in COUPLINGS:
        raise InvalidInputError(f"couplings must be one of {COUPLINGS}; got {couplings!r}")
    a = flavor_index(flavor)
    E = nonnegative(E_mev, "E_mev", "MeV")
    T = nonnegative(T_mev, "T_mev", "MeV")
    mu = per_flavour(mu_nu, "mu_nu", a)
    check_models(nsi, zprime)
    s2 = c.SIN2_THETA_W if sin2_theta_w is None else jnp.asarray(sin2_theta_w, dtype=float)
    r2 = per_flavour(charge_radius, "charge_radius", a)
    qnu = per_flavour(millicharge, "millicharge", a)
    r2t = jnp.broadcast_to(jnp.asarray(transition_charge_radius, dtype=float), (3,))
    return _dsigma_dT(E, T, a, bool(antineutrino), nsi, zprime, mu, s2, r2, r2t, qnu, couplings)


@eqx.filter_jit
def _dsigma_dT(E, T, a, antineutrino, nsi, zprime, mu, s2, r2, r2t, qnu, couplings="tree"):
    E, T = jnp.broadcast_arrays(E, T)
    g_l, g_r = sm_couplings(a, sin2_theta_w=s2, couplings=couplings)
    # rows G^P_{a b}, b = e, mu, tau (complex), built from the SM and the NSI row a
    unit = jnp.zeros(3).at[a].set(1.0)
    GL = g_l * unit + jnp.zeros(E.shape + (3,), dtype=complex)
    GR = g_r * unit + jnp.zeros(E.shape + (3,), dtype=complex)
    if nsi is not None:
        GL = GL + components_to_matrix(nsi.eL)[..., a, :]
        GR = GR + components_to_matrix(nsi.eR)[..., a, :]
    if zprime is not None:
        zn = zprime.nsi(2.0 * c.M_E * T)
        GL = GL + zn.eL[..., a, None] * unit
        GR = GR + zn.eR[..., a, None] * unit
    # electromagnetic vector shifts of the row (electron charge -1: the opposite of the proton's shifts)
    delta = (-charge_radius_shift(r2) - millicharge_shift(qnu, 2.0 * c.M_E * T))[..., None] * unit
    others = [b for b in range(3) if b != a]
    for b, k in zip(others, TRANSITIONS_OF[a]):
        delta = delta - charge_radius_shift(r2t[k]) * jnp.zeros(3).at[b].set(1.0)
    GL = GL + 0.5 * delta
    GR = GR + 0.5 * delta
    if antineutrino:  # swap chiralities; eps -> eps^* leaves the moduli below unchanged
        GL, GR = GR, GL
    gl2 = jnp.sum(jnp.abs(GL) ** 2, axis=-1)
    gr2 = jnp.sum(jnp.abs(GR) ** 2, axis=-1)
    glr = jnp.sum(jnp.real(GL * jnp.conj(GR)), axis=-1)

    E_safe = jnp.where(E > 0, E, 1.0)
    y = T / E_safe
    weak = 2.0 * c.G_F**2 * c.M_E / math.pi * (gl2 + gr2 * (1.0 - y) ** 2 - glr * c.M_E * T / E_safe**2)
    T_safe = jnp.where(T > 0, T, 1.0)
    pole = jnp.where(T > 0, 1.0 / T_safe - 1.0 / E_safe, 0.0)
    magnetic = math.pi * c.ALPHA**2 / c.M_E**2 * jnp.clip(pole, 0.0, None) * mu**2
    allowed = (E > 0) & (T <= t_max(E, c.M_E))
    return jnp.where(allowed, jnp.clip(weak, 0.0, None) + magnetic, 0.0) * c.HBARC2_MEV2_CM2


def recoil_panel_edges(target: str | Target, lo_kev: float, hi_kev: float, panels: int) -> np.ndarray:
    """Quadrature panel edges in electron recoil T (keV) on [lo, hi]: ``panels`` log-spaced panels plus an edge at
    every shell binding energy inside, where :func:`free_electrons` steps (so each panel's integrand is smooth)."""
    b = get_target(target).shell_binding_kev
    inside = b[(b > lo_kev) & (b < hi_kev)]
    return np.unique(np.concatenate([np.geomspace(lo_kev, hi_kev, panels + 1), inside]))


def free_electrons(T_mev: ArrayLike, target: str | Target) -> Float[Array, "..."]:
    """Electrons per formula unit of ``target`` with binding energy below the recoil T (MeV)."""
    t = get_target(target)
    T = jnp.asarray(T_mev)[..., None]
    bound = jnp.asarray(t.shell_binding_kev) * 1e-3
    return jnp.sum(jnp.where(T >= bound, jnp.asarray(t.shell_electrons), 0.0), axis=-1)


def dsigma_dT_atom(
    E_mev: ArrayLike,
    T_mev: ArrayLike,
    target: str | Target,
    *,
    flavor: int | str,
    antineutrino: bool = False,
    nsi: NSI | None = None,
    zprime: ZPrime | None = None,
    mu_nu: ArrayLike = 0.0,
    sin2_theta_w: ArrayLike | None = None,
    charge_radius: ArrayLike = 0.0,
    transition_charge_radius: ArrayLike = 0.0,
    millicharge: ArrayLike = 0.0,
) -> Float[Array, "..."]:
    """nu-e dsigma/dT (cm^2/MeV) per formula unit of ``target``: per-electron value times the number of
    electrons that recoil T can free (stepping function of the shell binding energies)."""
    per_e = dsigma_dT(
        E_mev, T_mev, flavor=flavor, antineutrino=antineutrino, nsi=nsi, zprime=zprime, mu_nu=mu_nu,
        sin2_theta_w=sin2_theta_w, charge_radius=charge_radius, transition_charge_radius=transition_charge_radius,
        millicharge=millicharge,
    )  # fmt: skip
    return per_e * free_electrons(T_mev, target)
