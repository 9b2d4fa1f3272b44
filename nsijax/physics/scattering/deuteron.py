"""Charged-current nu_e d -> e- p p: the electron kinetic-energy spectrum at fixed neutrino energy
(NumPy, build time; used by SNO, :mod:`nsijax.experiments.oscillation.sno`). Energies in MeV.

The total cross section is taken from the tables of Nakamura et al., Nucl. Phys. A707 (2002) 561
(nucl-th/0201062), shipped with the experiment; this module gives its distribution in T_e.
"""

from __future__ import annotations

import math

import numpy as np

from ... import constants as c

#: nu_e d -> e- p p threshold [MeV]: 2 m_p + m_e - m_d (kinetic energy T_e = E - Q_CC - E_pp).
Q_CC_MEV = 1.442
#: Deuteron binding energy [MeV] (wave-number gamma = sqrt(m_N B)).
B_DEUTERON_MEV = 2.224566
#: Coulomb-modified 1S0 proton-proton scattering length a_pp^C [fm].
A_PP_FM = -7.8063
#: Empirical correction exp(c1 x + c2 x^2 + c3 x^3), x = ln(E_pp/MeV), of the CC electron-spectrum shape,
#: fitted to Nakamura et al. 2002 dsigma/dp_e at E = 10 and 15.5 MeV (see :func:`cc_dsigma_dT_shape`).
CC_SHAPE_CORRECTION = (-0.09889, -0.04953, 0.00125)


def cc_dsigma_dT_shape(enu_mev, t_mev, correction=None):
    """Shape of dsigma/dT_e for nu_e d -> e- p p (arbitrary normalisation per E), NumPy.

    Allowed (Gamow-Teller) approximation with a zero-range deuteron and a zero-range 1S0 pp final state
    with the Coulomb (Gamow) factor (e.g. Kubodera & Nozawa, Int. J. Mod. Phys. E 3 (1994) 101):

        dsigma/dT  ~  p_e E_e F(2, E_e) x k |I(k)|^2 x g(E_pp),
        |I(k)|^2  ~  C^2(eta) (gamma - 1/a_pp)^2 / ((k^2 + 1/a_pp^2) (k^2 + gamma^2)^2),
        E_pp = E - Q_CC - T_e - (E^2 + p_e^2) / (4 m_p) = k^2 / m_p      (pp recoil, angle-averaged q^2),

    F: non-relativistic Fermi function for Z = 2; C^2(eta) = 2 pi eta / (exp(2 pi eta) - 1), eta =
    alpha m_p / (2 k); gamma = sqrt(m_N B_d). g(E_pp) = exp(c1 x + c2 x^2 + c3 x^3), x = ln(E_pp / MeV),
    is an EMPIRICAL correction fitted to the tabulated dsigma/dp_e of Nakamura et al., Nucl. Phys. A707
    (2002) 561 (nucl-th/0201062) at E = 10 and 15.5 MeV (:data:`CC_SHAPE_CORRECTION`; residuals within
    8 % for E_pp > 0.15 MeV, nsijax/data/experiments/sno_d2o_2002/README.md). The total cross section is
    taken from their table, so only this shape at fixed E is approximate.
    """
    corr = CC_SHAPE_CORRECTION if correction is None else correction
    e = np.asarray(enu_mev, float)
    t = np.asarray(t_mev, float)
    e, t = np.broadcast_arrays(e, t)
    pe2 = np.maximum(t * (t + 2.0 * c.M_E), 0.0)
    epp = e - Q_CC_MEV - t - (e**2 + pe2) / (4.0 * c.M_PROTON)
    ok = (epp > 0) & (t > 0)
    epp = np.where(ok, epp, 1.0)
    tt = np.where(ok, t, 1.0)
    ee = tt + c.M_E
    pe = np.sqrt(tt * (tt + 2.0 * c.M_E))
    eta_e = 2.0 * c.ALPHA * ee / pe
    fermi = 2.0 * math.pi * eta_e / (1.0 - np.exp(-2.0 * math.pi * eta_e))
    k_mev = np.sqrt(c.M_PROTON * epp)
    k = k_mev / c.HBARC_MEV_FM  # fm^-1
    m_n = 0.5 * (c.M_PROTON + c.M_NEUTRON)
    gamma = math.sqrt(m_n * B_DEUTERON_MEV) / c.HBARC_MEV_FM
    x = np.minimum(math.pi * c.ALPHA * c.M_PROTON / k_mev, 700.0)  # 2 pi eta
    gamow = x / np.expm1(x)
    inv_a = 1.0 / A_PP_FM
    overlap = gamow * (gamma - inv_a) ** 2 / ((k**2 + inv_a**2) * (k**2 + gamma**2) ** 2)
    lx = np.log(epp)
    g = np.exp(corr[0] * lx + corr[1] * lx**2 + corr[2] * lx**3)
    return np.where(ok, pe * ee * fermi * k * overlap * g, 0.0)


def cc_dsigma_dT(enu_mev, t_mev, sigma_total_cm2):
    """dsigma/dT_e [cm^2/MeV] of nu_e d -> e- p p on the grid (E nodes, T nodes): the shape of
    :func:`cc_dsigma_dT_shape` normalised at each E to ``sigma_total_cm2`` (Nakamura et al. 2002)."""
    e = np.asarray(enu_mev, float).reshape(-1)
    fine = np.linspace(0.0, 1.0, 4001)[1:-1]
    t_fine = (e[:, None] - Q_CC_MEV) * fine[None, :]
    norm = np.trapezoid(cc_dsigma_dT_shape(e[:, None], t_fine), t_fine, axis=1)
    shape = cc_dsigma_dT_shape(e[:, None], np.asarray(t_mev, float)[None, :])
    scale = np.where(norm > 0, np.asarray(sigma_total_cm2, float) / np.where(norm > 0, norm, 1.0), 0.0)
    return shape * scale[:, None]
