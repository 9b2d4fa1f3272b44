"""Neutrino-electron elastic scattering: closed forms, antineutrinos, NSI, atomic binding steps."""

import math

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad

import nsijax
from nsijax.physics.scattering import electron_scattering as es

GF, ME, S2W = 1.1663788e-11, 0.51099895, 0.23857
HBARC2 = (197.3269804e-13) ** 2
PREF = 2 * GF**2 * ME / math.pi * HBARC2  # cm^2/MeV


def by_hand(E, T, gl, gr):
    """'t Hooft (1971); Vogel & Engel (1989) Eq. 1."""
    return PREF * (gl**2 + gr**2 * (1 - T / E) ** 2 - gl * gr * ME * T / E**2)


@pytest.mark.parametrize(
    "flavor,anti,gl,gr",
    [
        (0, False, 0.5 + S2W, S2W),
        (1, False, -0.5 + S2W, S2W),
        (2, False, -0.5 + S2W, S2W),
        (0, True, S2W, 0.5 + S2W),
        (1, True, S2W, -0.5 + S2W),
    ],
)
def test_sm_closed_form(flavor, anti, gl, gr):
    E, T = 10.0, jnp.array([0.0, 0.5, 3.0, 9.0])
    np.testing.assert_allclose(es.dsigma_dT(E, T, flavor=flavor, antineutrino=anti), by_hand(E, T, gl, gr), rtol=1e-12)


def test_total_cross_sections_marciano_parsa():
    """sigma/E for E >> m_e: nu_e 9.49, nu_mu 1.58, anti-nu_e 3.97, anti-nu_mu 1.35 x 1e-45 cm^2/MeV
    (Marciano & Parsa, J. Phys. G 29, 2629 (2003), with radiative corrections: our tree level agrees
    within 5%)."""
    E = 1000.0
    for (flavor, anti), ref in {(0, False): 9.49, (1, False): 1.58, (0, True): 3.97, (1, True): 1.35}.items():
        tmax = 2 * E**2 / (ME + 2 * E)
        sigma = quad(lambda t: float(es.dsigma_dT(E, t, flavor=flavor, antineutrino=anti)), 0, tmax, epsrel=1e-10, epsabs=0)[0]
        assert sigma / E / 1e-45 == pytest.approx(ref, rel=0.05)


def test_integral_matches_closed_form():
    """integral_0^Tmax dsigma/dT dT = PREF [gL^2 Tm + gR^2 E/3 (1-(1-Tm/E)^3) - gL gR me Tm^2/(2E^2)]."""
    E = 8.0
    gl, gr = 0.5 + S2W, S2W
    tm = 2 * E**2 / (ME + 2 * E)
    closed = PREF * (gl**2 * tm + gr**2 * E / 3 * (1 - (1 - tm / E) ** 3) - gl * gr * ME * tm**2 / (2 * E**2))
    num = quad(lambda t: float(es.dsigma_dT(E, t, flavor=0)), 0, tm, epsrel=1e-12, epsabs=0)[0]
    assert num == pytest.approx(closed, rel=1e-10)
    assert float(es.dsigma_dT(E, tm * 1.000001, flavor=0)) == 0.0


def test_nsi_chiral_and_off_diagonal():
    """g_L -> g_L + eps^L_aa; off-diagonals add in quadrature (Barranco et al., PRD 76, 073008 (2007))."""
    E, T = 5.0, 1.0
    eL, eR = 0.1, -0.2
    nsi = nsijax.NSI(eps_eL={"ee": eL, "etau": 0.3j}, eps_eR={"ee": eR, "emu": 0.15})
    gl, gr = 0.5 + S2W, S2W
    expected = PREF * (
        (gl + eL) ** 2 + 0.3**2
        + ((gr + eR) ** 2 + 0.15**2) * (1 - T / E) ** 2
        - (gl + eL) * (gr + eR) * ME * T / E**2
    )
    assert float(es.dsigma_dT(E, T, flavor=0, nsi=nsi)) == pytest.approx(expected, rel=1e-12)
    # vector eps_e splits equally: eps^L = eps^R = eps^V / 2
    v = nsijax.NSI(eps_e={"mumu": 0.4})
    gl, gr = -0.5 + S2W + 0.2, S2W + 0.2
    assert float(es.dsigma_dT(E, T, flavor=1, nsi=v)) == pytest.approx(float(by_hand(E, T, gl, gr)), rel=1e-12)


def test_zprime_enters_at_electron_q2():
    """B-L Z' (Q_e = Q_nu = -1): eps^{eL} = eps^{eR} = g^2/(2 sqrt2 G_F (2 m_e T + M^2))."""
    g, m, E, T = 3e-6, 1.0, 2.0, 0.4
    eps = g**2 / (2 * math.sqrt(2) * GF * (2 * ME * T + m**2))
    expected = by_hand(E, T, 0.5 + S2W + eps, S2W + eps)
    got = es.dsigma_dT(E, T, flavor=0, zprime=nsijax.ZPrime(g, m, "B-L"))
    assert float(got) == pytest.approx(float(expected), rel=1e-12)


def test_magnetic_moment():
    """(pi alpha^2 / m_e^2)(1/T - 1/E) mu^2 per electron (Vogel & Engel 1989)."""
    E, T, mu = 1.0, 0.01, 1e-10
    alpha = 1 / 137.035999084
    extra = math.pi * alpha**2 / ME**2 * (1 / T - 1 / E) * mu**2 * HBARC2
    got = es.dsigma_dT(E, T, flavor=0, mu_nu=mu) - es.dsigma_dT(E, T, flavor=0)
    assert float(got) == pytest.approx(extra, rel=1e-9)


def test_free_electron_steps_xenon():
    """Xe shells (X-ray Data Booklet): N4,5 at 68-70 eV and outer shells free at 100 eV (18), M1 at 1.149 keV, L at 4.79-5.45 keV, K at 34.56 keV."""
    T = jnp.array([0.1e-3, 1.1e-3, 6e-3, 40e-3])
    n = es.free_electrons(T, "Xe")
    np.testing.assert_array_equal(n, [18.0, 42.0, 52.0, 54.0])
    per_atom = es.dsigma_dT_atom(10.0, T, "Xe", flavor=0)
    np.testing.assert_allclose(per_atom, n * es.dsigma_dT(10.0, T, flavor=0), rtol=1e-14)
    assert nsijax.physics.scattering.targets.get_target("CsI").electrons == 108
