"""The weak mixing angle and point-neutron radii in the CEvNS and nu-e cross sections (closed forms, identities)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nsijax import constants as c
from nsijax.errors import InvalidInputError
from nsijax.physics.scattering import cevns, electron_scattering
from nsijax.physics.scattering import form_factors as ff
from nsijax.physics.scattering.targets import get_target

E = jnp.array([5.0, 30.0, 50.0])
T = jnp.array([[2e-3], [1e-2], [3e-2]])  # MeV


def test_tree_couplings_follow_the_weak_mixing_angle():
    """Tree level, one isotope (Ar40 dominates; every Ar isotope scales alike with F_n = F): the ratio of cross
    sections at sin^2 theta_W = x and at the default is ((1/2 - 2x) Z - N/2)^2 / ((1/2 - 2 s0^2) Z - N/2)^2."""
    iso = get_target("Ar").isotopes()[2]
    x = 0.21
    a = cevns.dsigma_dT(E, T, iso, flavor=1, sin2_theta_w=x, couplings="tree")
    b = cevns.dsigma_dT(E, T, iso, flavor=1, couplings="tree")
    Z, N = iso.Z[0], iso.N[0]
    ratio = ((0.5 - 2 * x) * Z - 0.5 * N) ** 2 / ((0.5 - 2 * c.SIN2_THETA_W) * Z - 0.5 * N) ** 2
    np.testing.assert_allclose(np.asarray(a)[np.asarray(b) > 0] / np.asarray(b)[np.asarray(b) > 0], ratio, rtol=1e-12)


def test_electron_couplings_follow_the_weak_mixing_angle():
    """nu_mu - e: g_L = -1/2 + s^2, g_R = s^2 ('t Hooft 1971); at y = T/E -> 0 dsigma/dT -> (2 G_F^2 m_e / pi)(g_L^2 + g_R^2)."""
    x = 0.25
    ds = electron_scattering.dsigma_dT(10.0, 1e-9, flavor=1, sin2_theta_w=x)
    expect = 2 * c.G_F**2 * c.M_E / np.pi * ((-0.5 + x) ** 2 + x**2) * c.HBARC2_MEV2_CM2
    assert float(ds) == pytest.approx(expect, rel=1e-9)


def test_neutron_radius_equal_to_the_helm_rms_reproduces_the_default():
    """helm_from_rms inverts <r^2> = 3/5 R0^2 + 3 s^2: giving every nucleus its Lewin-Smith Helm rms radius as R_n
    gives the default cross section."""
    t = get_target("CsI")
    radii = {el: float(ff.helm_rms_fm(A)) for el, A in zip(t.elements, t.A)}  # one isotope per element
    a = cevns.dsigma_dT(E, T, "CsI", flavor=0, neutron_radius=radii)
    b = cevns.dsigma_dT(E, T, "CsI", flavor=0)
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_larger_neutron_radius_lowers_the_rate_and_has_finite_gradients():
    """A wider neutron distribution suppresses the coherent sum at q > 0 (F_n falls faster); d/dR_n is finite and
    matches central differences; unnamed elements (here I) keep F_n = F."""

    def f(r):
        return jnp.sum(cevns.dsigma_dT(E, T, "CsI", flavor=1, neutron_radius={"Cs": r}))

    g = jax.grad(f)(5.0)
    fd = (f(5.0 + 1e-5) - f(5.0 - 1e-5)) / 2e-5
    assert float(g) < 0 and float(g) == pytest.approx(float(fd), rel=1e-6)
    assert float(f(4.5)) > float(f(5.5))


def test_unknown_element_in_neutron_radius():
    with pytest.raises(InvalidInputError, match="Cz"):
        cevns.dsigma_dT(E, T, "CsI", flavor=0, neutron_radius={"Cz": 5.0})
