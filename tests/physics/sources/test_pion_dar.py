"""Pion decay-at-rest spectra and flux-averaged CEvNS cross sections."""

import jax.numpy as jnp
import pytest
from scipy.integrate import quad

import nsijax
from nsijax import constants as c
from nsijax.physics.scattering import cevns
from nsijax.physics.sources import pion_dar as flux

MMU = 105.6583755


@pytest.mark.parametrize("component,mean", [("nu_e", 0.3 * MMU), ("nu_mu_bar", 0.35 * MMU)])
def test_michel_spectra_normalised(component, mean):
    """Normalised Michel spectra; mean energies 3/10 m_mu (nu_e) and 7/20 m_mu (nu_mu_bar) in closed form."""
    f = lambda e: float(flux.pion_dar_spectrum(e, component))  # noqa: E731
    assert quad(f, 0, MMU / 2)[0] == pytest.approx(1.0, rel=1e-12)
    assert quad(lambda e: e * f(e), 0, MMU / 2)[0] == pytest.approx(mean, rel=1e-12)
    assert float(flux.pion_dar_spectrum(MMU / 2 + 1.0, component)) == 0.0


def test_total_cross_section_against_quad():
    """Gauss-Legendre per isotope vs adaptive scipy quad for Ar at 30 MeV (independent integrator)."""
    from nsijax.physics.scattering.kinematics import t_max
    from nsijax.physics.scattering.targets import get_target

    E = 30.0
    kinks = sorted(float(t_max(E, m)) for m in get_target("Ar").mass_mev)  # each isotope's end point
    ref = quad(lambda t: float(cevns.dsigma_dT(E, t, "Ar", flavor=0)), 0, kinks[-1], points=kinks[:-1], limit=200, epsabs=0)[0]
    assert float(flux.total_cross_section(E, "Ar", flavor=0)) == pytest.approx(ref, rel=1e-8)


def test_flux_averaged_csi_matches_coherent():
    """COHERENT CsI (PRL 129, 081801 (2022)): SM flux-averaged cross section (189 +- 6) x 1e-40 cm^2
    per nucleus (averaged over Cs and I and the three pi-DAR components)."""
    per_nucleus = float(flux.flux_averaged_cross_section("CsI")) / 2.0
    assert per_nucleus == pytest.approx(189e-40, abs=6e-40)


def test_flux_averaged_argon_matches_coherent():
    """COHERENT LAr (PRL 126, 012002 (2021)): SM flux-averaged cross section 1.8 x 1e-39 cm^2
    (two significant figures quoted, so |diff| < 0.05e-39)."""
    assert float(flux.flux_averaged_cross_section("Ar")) == pytest.approx(1.8e-39, abs=0.05e-39)


def test_prompt_component_is_line():
    s = flux.flux_averaged_cross_section("Ar", "nu_mu")
    assert float(s) == pytest.approx(float(flux.total_cross_section(c.E_NU_PROMPT, "Ar", flavor=1)), rel=1e-14)
    with pytest.raises(nsijax.errors.InvalidInputError, match="line"):
        flux.pion_dar_spectrum(10.0, "nu_mu")


def test_threshold_lowers_cross_section():
    full = flux.flux_averaged_cross_section("CsI", "nu_e")
    cut = flux.flux_averaged_cross_section("CsI", "nu_e", t_threshold_mev=0.005)
    assert 0 < float(cut) < float(full)
    assert jnp.isfinite(cut)


def test_recoil_spectrum_integrates_to_flux_averaged_cross_section():
    """integral dT <dsigma/dT> = sum of the three flux-averaged cross sections (Fubini; scipy quad)."""
    from nsijax.physics.scattering.kinematics import t_max
    from nsijax.physics.scattering.targets import get_target

    kinks = sorted(float(t_max(MMU / 2, m)) for m in get_target("Ar").mass_mev)
    prompt = sorted(float(t_max(c.E_NU_PROMPT, m)) for m in get_target("Ar").mass_mev)
    f = lambda t: float(flux.pion_dar_recoil_spectrum(t, "Ar", n_energy=64))  # noqa: E731
    total = quad(f, 0, kinks[-1], limit=200, points=prompt + kinks[:-1], epsabs=0)[0]
    assert total == pytest.approx(3 * float(flux.flux_averaged_cross_section("Ar")), rel=1e-6)
