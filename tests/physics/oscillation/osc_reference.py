"""Shared helpers for the oscillation tests (independent reference implementations)."""

from __future__ import annotations

import numpy as np
import scipy.linalg

from nsijax.constants import KM_TO_INV_EV, V_CC_EV_PER_GCC


def pmns_np(t12, t13, t23, d):
    """PDG PMNS written out with numpy (PHYSICS.md), independent of nsijax."""
    s12, c12, s13, c13, s23, c23 = np.sin(t12), np.cos(t12), np.sin(t13), np.cos(t13), np.sin(t23), np.cos(t23)
    r23 = np.array([[1, 0, 0], [0, c23, s23], [0, -s23, c23]], dtype=complex)
    u13 = np.array([[c13, 0, s13 * np.exp(-1j * d)], [0, 1, 0], [-s13 * np.exp(1j * d), 0, c13]], dtype=complex)
    r12 = np.array([[c12, s12, 0], [-s12, c12, 0], [0, 0, 1]], dtype=complex)
    return r23 @ u13 @ r12


def hamiltonian_np(osc, e_gev, rho, ye, eps, anti=False):
    """H [eV] of PHYSICS.md with numpy; eps is the 3x3 matter NSI matrix of the layer."""
    u = pmns_np(float(osc.theta12), float(osc.theta13), float(osc.theta23), float(osc.delta_cp))
    m = np.diag([0.0, float(osc.dm21), float(osc.dm31)])
    v = V_CC_EV_PER_GCC * rho * ye
    e1 = np.diag([1.0, 0.0, 0.0])
    if anti:
        return np.conj(u) @ m @ u.T / (2 * e_gev * 1e9) - v * (e1 + np.conj(eps))
    return u @ m @ np.conj(u).T / (2 * e_gev * 1e9) + v * (e1 + eps)


def prob_expm_np(osc, e_gev, lengths, rhos, yes, yns, nsi=None, anti=False):
    """P[a, b] from the product of scipy.linalg.expm over layers (S = S_n ... S_1)."""
    s = np.eye(3, dtype=complex)
    for length, rho, ye, yn in zip(lengths, rhos, yes, yns):
        eps = np.zeros((3, 3)) if nsi is None else np.asarray(nsi.matter(yn))
        h = hamiltonian_np(osc, e_gev, rho, ye, eps, anti)
        s = scipy.linalg.expm(-1j * h * length * KM_TO_INV_EV) @ s
    return (np.abs(s) ** 2).T
