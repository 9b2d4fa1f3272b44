"""CEvNS cross section: closed forms, kinematics, NSI, Z', magnetic moment, charge radius."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import spherical_jn

import nsijax
from nsijax import constants as c
from nsijax.physics.scattering import cevns, kinematics
from nsijax.physics.scattering.targets import get_target

HBARC2 = (197.3269804e-13) ** 2  # MeV^2 cm^2, CODATA 2018
GF = 1.1663788e-11  # MeV^-2, PDG 2024
S2W = 0.23857
M_CS = 132.905451961 * 931.49410242 - 55 * 0.51099895  # AME2020 atomic mass minus electrons


def helm_by_hand(q_mev, A):
    """Lewin & Smith (1996) Eq. 4.11 with c = 1.23 A^1/3 - 0.60, a = 0.52, s = 0.9 fm."""
    q = q_mev / 197.3269804
    cc = 1.23 * A ** (1 / 3) - 0.60
    r0 = math.sqrt(cc**2 + 7 / 3 * math.pi**2 * 0.52**2 - 5 * 0.9**2)
    x = q * r0
    return 3 * spherical_jn(1, x) / x * math.exp(-((q * 0.9) ** 2) / 2)


def test_sm_value_by_hand_cs133():
    """dsigma/dT = G_F^2 M/pi (1 - MT/2E^2 - T/E) (g_V^p Z + g_V^n N)^2 F^2 (Freedman 1974; PHYSICS.md)."""
    E, T = 30.0, 0.005
    Z, N = 55, 78
    qw = (0.5 - 2 * S2W) * Z - 0.5 * N
    F = helm_by_hand(math.sqrt(2 * M_CS * T), 133)
    expected = GF**2 * M_CS / math.pi * (1 - M_CS * T / (2 * E**2) - T / E) * (qw * F) ** 2 * HBARC2
    got = cevns.dsigma_dT(E, T, "Cs", flavor=0)
    assert float(got) == pytest.approx(expected, rel=1e-12)
    # magnitude: G_F^2 M Q_W^2/pi = 3.0e-36 cm^2/MeV at T = 0, times kinematics and F^2 ~ 0.5 here
    assert 1.2e-36 < expected < 1.8e-36


def test_klein_nystrand_by_hand():
    """F = 3 j1(q R_A)/(q R_A) / (1 + q^2 a_k^2), R_A = 1.2 A^1/3 fm, a_k = 0.7 fm (Klein & Nystrand 1999)."""
    E, T = 40.0, 0.02
    q = math.sqrt(2 * M_CS * T) / 197.3269804
    ra = 1.2 * 133 ** (1 / 3)
    F = 3 * spherical_jn(1, q * ra) / (q * ra) / (1 + (q * 0.7) ** 2)
    point = cevns.dsigma_dT(E, T, "Cs", flavor=1, form_factor="none")
    kn = cevns.dsigma_dT(E, T, "Cs", flavor=1, form_factor="klein_nystrand")
    assert float(kn / point) == pytest.approx(F**2, rel=1e-12)


def test_isotope_sum_ge():
    """Natural germanium = abundance-weighted sum over 70,72,73,74,76Ge (CIAAW 2013)."""
    t = get_target("Ge")
    assert t.weight.sum() == pytest.approx(1.0, abs=2e-4)
    E, T = 10.0, 0.002
    total = cevns.dsigma_dT(E, T, "Ge", flavor=0)
    by_hand = 0.0
    for Z, N, M, w, A in zip(t.Z, t.N, t.mass_mev, t.weight, t.A):
        F = helm_by_hand(math.sqrt(2 * M * T), A)
        qw = (0.5 - 2 * S2W) * Z - 0.5 * N
        by_hand += w * GF**2 * M / math.pi * (1 - M * T / (2 * E**2) - T / E) * (qw * F) ** 2 * HBARC2
    assert float(total) == pytest.approx(by_hand, rel=1e-12)


def test_csi_is_sum_of_cs_and_i():
    E, T = 25.0, np.linspace(0.001, 0.02, 7)
    both = cevns.dsigma_dT(E, T, "CsI", flavor=1)
    parts = cevns.dsigma_dT(E, T, "Cs", flavor=1) + cevns.dsigma_dT(E, T, "I", flavor=1)
    np.testing.assert_allclose(both, parts, rtol=1e-13)


def test_kinematics_tmax_emin():
    """T_max = 2E^2/(M+2E) and E_min(T_max(E)) = E (elastic kinematics)."""
    E = jnp.array([5.0, 29.79, 52.8])
    tm = kinematics.t_max(E, M_CS)
    np.testing.assert_allclose(tm, 2 * E**2 / (M_CS + 2 * E), rtol=1e-15)
    np.testing.assert_allclose(kinematics.e_min(tm, M_CS), E, rtol=1e-12)
    # CsI at the prompt line: T_max(Cs) = 13.3 keV (2 x 29.79^2 / 123.8 GeV)
    assert float(kinematics.t_max(29.79, M_CS)) == pytest.approx(0.01433, rel=2e-3)


def test_zero_above_tmax_and_continuous_at_tmax():
    E = 30.0
    tm = float(kinematics.t_max(E, M_CS))
    vals = cevns.dsigma_dT(E, jnp.array([tm * (1 - 1e-9), tm * (1 + 1e-12), 2 * tm]), "Cs", flavor=0)
    assert float(vals[0]) < 1e-8 * float(cevns.dsigma_dT(E, 0.0, "Cs", flavor=0))
    assert float(vals[1]) == 0.0 and float(vals[2]) == 0.0
    assert float(cevns.dsigma_dT(0.0, 0.0, "Cs", flavor=0)) == 0.0


@pytest.mark.parametrize("name", ["Cs", "I", "Na", "F"])
def test_nsi_reproducing_sm_rate(name):
    """eps^u_ee = -2 Q_W/(2Z+N) or eps^d_ee = -2 Q_W/(Z+2N) flips the sign of the weak charge, giving
    back the SM rate (Barranco et al. 2005; issue 2), with Q_W = g_V^p Z + g_V^n N."""
    t = get_target(name)
    Z, N = float(t.Z[0]), float(t.N[0])
    qw = (0.5 - 2 * S2W) * Z - 0.5 * N
    E, T = 30.0, jnp.linspace(0.0, 0.9 * float(kinematics.t_max(30.0, t.mass_mev[0])), 5)
    sm = cevns.dsigma_dT(E, T, name, flavor=0)
    with_u = cevns.dsigma_dT(E, T, name, flavor=0, nsi=nsijax.NSI(eps_u={"ee": -2 * qw / (2 * Z + N)}))
    with_d = cevns.dsigma_dT(E, T, name, flavor=0, nsi=nsijax.NSI(eps_d={"ee": -2 * qw / (Z + 2 * N)}))
    np.testing.assert_allclose(with_u, sm, rtol=1e-12)
    np.testing.assert_allclose(with_d, sm, rtol=1e-12)
    # and the eps that only this flavour sees: the mu-flavour rate is unchanged
    mu_rate = cevns.dsigma_dT(E, T, name, flavor=1, nsi=nsijax.NSI(eps_u={"ee": 0.3}))
    np.testing.assert_allclose(mu_rate, cevns.dsigma_dT(E, T, name, flavor=1), rtol=1e-14)


def test_off_diagonal_adds_in_quadrature():
    """sum_{b != a} |(2 eps^u_ab + eps^d_ab) Z F + (eps^u_ab + 2 eps^d_ab) N F|^2 (PHYSICS.md)."""
    t = get_target("Cs")
    Z, N = 55.0, 78.0
    E, T = 30.0, 0.005
    F2 = float(cevns.dsigma_dT(E, T, "Cs", flavor=0) / cevns.dsigma_dT(E, T, "Cs", flavor=0, form_factor="none"))
    eu = 0.1 + 0.2j
    ed = -0.05 + 0.03j
    nsi = nsijax.NSI(eps_u={"emu": eu}, eps_d={"emu": ed})
    qw = (0.5 - 2 * S2W) * Z - 0.5 * N
    extra = abs((2 * eu + ed) * Z + (eu + 2 * ed) * N) ** 2
    ratio = cevns.dsigma_dT(E, T, "Cs", flavor=0, nsi=nsi) / cevns.dsigma_dT(E, T, "Cs", flavor=0)
    assert float(ratio) == pytest.approx((qw**2 + extra) / qw**2, rel=1e-12)
    # nu_mu sees |eps_mu e| = |eps_e mu|; nu_tau sees none of it
    r_mu = cevns.dsigma_dT(E, T, "Cs", flavor=1, nsi=nsi) / cevns.dsigma_dT(E, T, "Cs", flavor=1)
    assert float(r_mu) == pytest.approx(float(ratio), rel=1e-12)
    r_tau = cevns.dsigma_dT(E, T, "Cs", flavor=2, nsi=nsi) / cevns.dsigma_dT(E, T, "Cs", flavor=2)
    assert float(r_tau) == pytest.approx(1.0, rel=1e-14)
    del t, F2
    # antineutrinos: eps -> eps^* leaves CEvNS unchanged
    anti = cevns.dsigma_dT(E, T, "Cs", flavor=0, nsi=nsi, antineutrino=True)
    assert float(anti) == pytest.approx(float(cevns.dsigma_dT(E, T, "Cs", flavor=0, nsi=nsi)), rel=1e-14)


def _csi_rate_ratio(g_over_m, charges="universal", mass=1e5):
    """Prompt-line CsI flux-averaged cross section with a heavy Z' over the SM one."""
    zp = nsijax.ZPrime(g_over_m * mass, mass, charges=charges)
    sm = nsijax.physics.sources.pion_dar.flux_averaged_cross_section("CsI", "nu_mu")
    return nsijax.physics.sources.pion_dar.flux_averaged_cross_section("CsI", "nu_mu", zprime=zp) / sm


def test_universal_zprime_cancellation_band():
    """Heavy universal Z' (M = 100 GeV): the CsI rate vanishes at g ~ 1.26e-6 (M/MeV) and returns to
    the SM at ~1.78e-6 (M/MeV) (issue 2; Giunti, Neutrino 2022). Closed form: 3 eps (Z + N) = -Q_W."""
    grid = jnp.linspace(1.1e-6, 2.0e-6, 901)
    ratio = jax.vmap(_csi_rate_ratio)(grid)
    i_min = int(jnp.argmin(ratio))
    assert float(ratio[i_min]) < 1e-3
    assert float(grid[i_min]) == pytest.approx(1.26e-6, rel=0.015)
    upper = grid[i_min:][int(jnp.argmin(jnp.abs(ratio[i_min:] - 1.0)))]
    assert float(upper) == pytest.approx(1.78e-6, rel=0.015)
    # closed form for Cs alone: eps = g^2/(sqrt2 G_F M^2) with 3 eps (Z+N) = -Q_W
    qw = (0.5 - 2 * S2W) * 55 - 0.5 * 78
    g_zero = math.sqrt(-qw / (3 * 133) * math.sqrt(2) * GF)
    assert float(grid[i_min]) == pytest.approx(g_zero, rel=0.005)


def test_b_minus_l_interferes_constructively():
    """B-L (Q_q = 1/3, Q_nu = -1): constructive interference, the rate grows monotonically with g."""
    r = jax.vmap(lambda g: _csi_rate_ratio(g, "B-L"))(jnp.array([0.0, 5e-7, 1e-6, 2e-6]))
    assert float(r[0]) == pytest.approx(1.0, rel=1e-14)
    assert bool(jnp.all(jnp.diff(r) > 0))
    # closed form: Q -> Q_W - 3 eps (Z+N) / 3 ... eps^u = eps^d = -g^2/(3 sqrt2 G_F M^2)
    g = 1e-6
    eps = -(g**2) / (3 * math.sqrt(2) * GF)
    Z, N = 55, 78
    qw = (0.5 - 2 * S2W) * Z - 0.5 * N
    expected = ((qw + 3 * eps * (Z + N)) / qw) ** 2
    cs_ratio = cevns.dsigma_dT(29.79, 1e-4, "Cs", flavor=1, zprime=nsijax.ZPrime(g * 1e5, 1e5, "B-L")) / cevns.dsigma_dT(
        29.79, 1e-4, "Cs", flavor=1
    )
    assert float(cs_ratio) == pytest.approx(expected, rel=1e-6)  # q^2/M_Z'^2 ~ 2.5e-9 corrections


def test_light_zprime_q2_dependence():
    """The Z' term scales as 1/(q^2 + M^2) with q^2 = 2 M_N T: compare two recoils by hand."""
    g, m = 1e-5, 10.0
    E = 30.0
    for T in (1e-3, 1e-2):
        q2 = 2 * M_CS * T
        eps = g**2 / (math.sqrt(2) * GF * (q2 + m**2))
        qw = (0.5 - 2 * S2W) * 55 - 0.5 * 78
        expected = ((qw + 3 * eps * 133) / qw) ** 2
        got = cevns.dsigma_dT(E, T, "Cs", flavor=0, zprime=nsijax.ZPrime(g, m)) / cevns.dsigma_dT(E, T, "Cs", flavor=0)
        assert float(got) == pytest.approx(expected, rel=1e-12)


def test_magnetic_moment_by_hand():
    """(pi alpha^2/m_e^2)(1/T - 1/E) Z^2 F^2 mu^2 added incoherently (Vogel & Engel 1989)."""
    E, T, mu = 30.0, 0.002, 1e-9
    F = helm_by_hand(math.sqrt(2 * M_CS * T), 133)
    alpha = 1 / 137.035999084
    extra = math.pi * alpha**2 / 0.51099895**2 * (1 / T - 1 / E) * (55 * F) ** 2 * mu**2 * HBARC2
    got = cevns.dsigma_dT(E, T, "Cs", flavor=0, mu_nu=mu) - cevns.dsigma_dT(E, T, "Cs", flavor=0)
    assert float(got) == pytest.approx(extra, rel=1e-9)
    # per-flavour moments: only the chosen flavour's entry is used
    got_mu = cevns.dsigma_dT(E, T, "Cs", flavor=1, mu_nu=jnp.array([mu, 0.0, 0.0]))
    assert float(got_mu) == pytest.approx(float(cevns.dsigma_dT(E, T, "Cs", flavor=1)), rel=1e-14)


def test_charge_radius_shift():
    """g_V^p -> g_V^p - (2/3) m_W^2 sin^2 theta_W <r^2> (Giunti, Neutrino 2022). For <r^2> = 1e-32 cm^2
    the shift is -(2/3)(80369.2 MeV)^2 0.23857 x 1e-32 cm^2/(hbar c)^2 = -0.02635."""
    shift = float(cevns.charge_radius_shift(1e-32))
    assert shift == pytest.approx(-(2 / 3) * 80369.2**2 * S2W * 1e-32 / HBARC2, rel=1e-12)
    assert shift == pytest.approx(-0.02635, abs=5e-5)
    E, T = 30.0, 0.003
    qw = (0.5 - 2 * S2W + shift) * 55 - 0.5 * 78
    qw0 = (0.5 - 2 * S2W) * 55 - 0.5 * 78
    ratio = cevns.dsigma_dT(E, T, "Cs", flavor=0, charge_radius=1e-32) / cevns.dsigma_dT(E, T, "Cs", flavor=0)
    assert float(ratio) == pytest.approx((qw / qw0) ** 2, rel=1e-12)


def test_pdg_couplings_option():
    """couplings="pdg" uses the radiatively corrected g_V^p = 0.0298, g_V^n = -0.5117 (PDG 2024)."""
    E, T = 30.0, 0.003
    ratio = cevns.dsigma_dT(E, T, "Cs", flavor=0, couplings="pdg") / cevns.dsigma_dT(E, T, "Cs", flavor=0)
    qw_rc = 0.0298 * 55 - 0.5117 * 78
    qw = (0.5 - 2 * S2W) * 55 - 0.5 * 78
    assert float(ratio) == pytest.approx((qw_rc / qw) ** 2, rel=1e-12)


def test_known_targets_listed():
    for name in ("CsI", "NaI", "Ar", "Ge", "Xe", "Si", "C3F8"):
        assert name in nsijax.physics.scattering.targets.available()
        assert float(cevns.dsigma_dT(20.0, 1e-3, name, flavor=0)) > 0
    assert get_target("C3F8").weight.sum() == pytest.approx(11.0)
    assert c.M_E > 0
