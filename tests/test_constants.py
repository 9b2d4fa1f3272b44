"""Constants: regression against textbook values."""

import math

import pytest

from nsijax import constants as c


def test_matter_potential_prefactor():
    """V_CC = sqrt(2) G_F N_e = 7.63e-14 eV x rho[g/cm^3] Y_e (PHYSICS.md; e.g. Giunti & Kim, 2007)."""
    assert c.V_CC_EV_PER_GCC == pytest.approx(7.63e-14, rel=1e-3)


def test_prompt_line_energy():
    """E = (m_pi^2 - m_mu^2)/(2 m_pi) = 29.79 MeV (PHYSICS.md)."""
    assert c.E_NU_PROMPT == pytest.approx(29.79, abs=0.005)


def test_hbarc_squared_in_cm2():
    """(hbar c)^2 = 0.3894 mb GeV^2 = 3.894e-22 MeV^2 cm^2 (PDG Physical Constants table)."""
    assert c.HBARC2_MEV2_CM2 == pytest.approx(0.3893793721e-27 * 1e6, rel=1e-8)


def test_km_conversion():
    """1 km = 5.0677e9 eV^-1 (hbar c = 197.327 MeV fm)."""
    assert c.KM_TO_INV_EV == pytest.approx(5.0677307e9, rel=1e-7)
    assert math.isclose(c.GV_P_TREE, 0.5 - 2 * c.SIN2_THETA_W)
