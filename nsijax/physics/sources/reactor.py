"""Reactor anti-nu_e: the inverse-beta-decay cross section and the fission spectra (NumPy, build time).

Used by the reactor experiments (KamLAND, :mod:`nsijax.experiments.oscillation.reactor`) to fold the
emitted spectrum with the detection cross section; energies in MeV.
"""

from __future__ import annotations

import numpy as np

#: Inverse-beta-decay constants [MeV]: neutron-proton mass difference, electron mass.
DELTA_NP_MEV = 1.29333
M_E_MEV = 0.51099895
#: IBD threshold on the anti-nu_e energy [MeV] (Delta + m_e; the recoil correction is neglected).
IBD_THRESHOLD_MEV = DELTA_NP_MEV + M_E_MEV


def ibd_cross_section(enu_mev):
    """Inverse-beta-decay cross section [1e-43 cm^2], Strumia & Vissani, PLB 564 (2003) 42, eq. (25)
    (their low-energy approximation, good to a few per mille below 300 MeV): p_e E_e E^(a(E)),
    a = -0.07056 + 0.02018 ln E - 0.001953 ln^3 E, E_e = E - Delta (E in MeV). Zero below threshold."""
    e = np.asarray(enu_mev, dtype=float)
    ee = e - DELTA_NP_MEV
    pe = np.sqrt(np.maximum(ee**2 - M_E_MEV**2, 0.0))
    le = np.log(e)
    return np.where(ee > M_E_MEV, pe * ee * e ** (-0.07056 + 0.02018 * le - 0.001953 * le**3), 0.0)


def reactor_spectrum(enu_mev, fractions: dict, coefficients: dict):
    """sum_i f_i exp(sum_k a_ik E^k) [nu per MeV per fission] (Huber 2011 / Mueller 2011 fit forms), E in
    MeV; ``fractions`` and ``coefficients`` keyed by isotope (e.g. U235, U238, Pu239, Pu241)."""
    e = np.asarray(enu_mev, dtype=float)
    return sum(f * np.exp(np.polyval(np.asarray(coefficients[k], float)[::-1], e)) for k, f in fractions.items())
