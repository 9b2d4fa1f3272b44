"""Neutrino electromagnetic properties in CEvNS and nu-e scattering: millicharge, diagonal and transition charge
radii (closed forms and identities; sources in each test)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nsijax import NSI
from nsijax import constants as c
from nsijax.physics.scattering import cevns, electron_scattering
from nsijax.physics.scattering import form_factors as ff
from nsijax.physics.scattering.targets import get_target

IODINE = get_target("I")  # one isotope
E = jnp.array([20.0, 30.0, 50.0])[:, None]
T = jnp.array([2e-3, 8e-3, 2e-2])[None, :]  # MeV


def _kin_and_form(E, T):
    M, Z, A = IODINE.mass_mev[0], IODINE.Z[0], IODINE.A[0]
    kin = np.clip(1 - M * T / (2 * E**2) - T / E, 0, None)
    return M, Z, kin, np.asarray(ff.helm(2 * M * T, A))


def test_cevns_millicharge_photon_term():
    """The q^2 part of the cross section, (sigma(q) + sigma(-q)) / 2 - sigma(0), is the photon exchange
    2 pi alpha^2 Z^2 F^2 q^2 (1 - M T / 2E^2 - T/E) / (M T^2) (Giunti & Studenikin, RMP 87, 531 (2015), Sec. VII.B;
    Cadeddu et al., PRD 102, 015030 (2020))."""
    q = 3e-9
    s = [np.asarray(cevns.dsigma_dT(E, T, IODINE, flavor=1, millicharge=x)) for x in (q, -q, 0.0)]
    M, Z, kin, F = _kin_and_form(np.asarray(E), np.asarray(T))
    photon = 2 * math.pi * c.ALPHA**2 * Z**2 * F**2 * q**2 * kin / (M * np.asarray(T) ** 2) * c.HBARC2_MEV2_CM2
    np.testing.assert_allclose(0.5 * (s[0] + s[1]) - s[2], photon, rtol=1e-8)


def test_transition_charge_radius_adds_incoherently_and_interferes_with_the_same_final_flavour():
    """<r^2>_{mu e} adds (d Z F)^2 G_F^2 M kin / pi with d = -(2/3) m_W^2 s^2 <r^2> (the final state nu_e differs from
    the SM's nu_mu), and it interferes with eps^u_{e mu} (same final state): amplitude (d + 2 eps) Z F + eps N F."""
    r2, eps = 4e-31, 0.02
    M, Z, kin, F = _kin_and_form(np.asarray(E), np.asarray(T))
    N = IODINE.N[0]
    d = float(cevns.charge_radius_shift(r2))
    unit = c.G_F**2 * M / math.pi * kin * c.HBARC2_MEV2_CM2
    sm = np.asarray(cevns.dsigma_dT(E, T, IODINE, flavor=1))
    tr = np.asarray(cevns.dsigma_dT(E, T, IODINE, flavor=1, transition_charge_radius=[r2, 0.0, 0.0]))
    np.testing.assert_allclose(tr - sm, unit * (d * Z * F) ** 2, rtol=1e-8)
    both = np.asarray(
        cevns.dsigma_dT(E, T, IODINE, flavor=1, nsi=NSI(eps_u={"emu": eps}), transition_charge_radius=[r2, 0.0, 0.0])
    )
    np.testing.assert_allclose(both - sm, unit * ((d + 2 * eps) * Z * F + eps * N * F) ** 2, rtol=1e-8)
    # a radius of another pair (e tau) does not touch nu_mu
    np.testing.assert_allclose(cevns.dsigma_dT(E, T, IODINE, flavor=1, transition_charge_radius=[0.0, r2, 0.0]), sm)


def test_electron_charge_radius_is_a_shift_of_the_weak_mixing_angle():
    """nu_mu - e: g_V -> g_V + (2/3) m_W^2 sin^2 theta_W <r^2> (Kouzakov & Studenikin, PRD 95, 055013 (2017)); with
    g_V = -1/2 + 2 s^2 this is s^2 -> s^2 + (1/3) m_W^2 s^2 <r^2>, the sign opposite to the proton's in CEvNS."""
    r2 = 3e-32
    shift = -float(cevns.charge_radius_shift(r2)) / 2
    Ee, Te = jnp.array([[1.0], [8.0]]), jnp.array([[0.05, 0.4]])
    a = electron_scattering.dsigma_dT(Ee, Te, flavor=1, charge_radius=r2)
    b = electron_scattering.dsigma_dT(Ee, Te, flavor=1, sin2_theta_w=c.SIN2_THETA_W + shift)
    np.testing.assert_allclose(a, b, rtol=1e-12)
    assert shift > 0  # <r^2> > 0 raises the effective sin^2 theta_W in nu-e scattering


def test_electron_millicharge_photon_term():
    """Photon exchange off a free electron, T << E: dsigma/dT -> 2 pi alpha^2 q^2 / (m_e T^2) (Giunti & Studenikin 2015,
    Sec. VII.B); the q-even part of our cross section at T/E = 1e-4."""
    q, Ee, Te = 1e-11, 10.0, 1e-3
    s = [float(electron_scattering.dsigma_dT(Ee, Te, flavor=1, millicharge=x)) for x in (q, -q, 0.0)]
    photon = 2 * math.pi * c.ALPHA**2 * q**2 / (c.M_E * Te**2) * c.HBARC2_MEV2_CM2
    assert 0.5 * (s[0] + s[1]) - s[2] == pytest.approx(photon, rel=2e-4)


def test_gradients_in_the_electromagnetic_parameters_are_finite_and_match_finite_differences():
    def f(x):
        return (
            jnp.sum(
                cevns.dsigma_dT(E, T, "CsI", flavor=0, millicharge=x[0] * 1e-9, transition_charge_radius=x[1:] * 1e-31)
                + electron_scattering.dsigma_dT_atom(
                    E, T, "CsI", flavor=0, millicharge=x[0] * 1e-9, charge_radius=x[1] * 1e-31
                )
            )
            * 1e36
        )

    x0 = jnp.array([0.5, 1.0, -2.0, 0.7])
    g = jax.grad(f)(x0)
    h = 1e-6
    fd = np.array([(f(x0.at[i].add(h)) - f(x0.at[i].add(-h))) / (2 * h) for i in range(4)])
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9)
