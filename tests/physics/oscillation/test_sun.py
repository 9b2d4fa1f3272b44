"""Solar nu_e survival probabilities (B23/SF-III solar model) with NSI."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nsijax import NSI
from nsijax.physics.oscillation import OscParams, earth, sun

OSC = OscParams.nufit()
E_8B = jnp.array([3.0, 6.0, 10.0, 14.0]) * 1e-3


def _dark(osc):
    return OscParams(np.pi / 2 - osc.theta12, osc.theta13, osc.theta23, np.pi - osc.delta_cp, osc.dm21, osc.dm21 - osc.dm31)


def test_lma_values_and_borexino_range():
    """LMA: P_ee ~ 0.55 for pp (vacuum-dominated, 1 - sin^2 2th12/2 ~ 0.55 with th13 corrections) and
    ~0.3 for high-energy 8B (~sin^2 th12); Borexino Nature 562 (2018) 505 measures 0.57 +- 0.09 (pp) and
    0.37 +- 0.08 (8B HER)."""
    ppv = float(sun.survival_probability(OSC, 0.3e-3, "pp"))
    c13 = np.cos(float(OSC.theta13))
    vac = c13**4 * (1 - 0.5 * np.sin(2 * float(OSC.theta12)) ** 2) + np.sin(float(OSC.theta13)) ** 4
    assert abs(ppv - vac) < 0.02
    b8 = np.asarray(sun.survival_probability(OSC, E_8B, "8B"))
    assert np.all(np.diff(b8) < 0) and 0.29 < b8[-1] < 0.34


def test_lma_dark_image_fixed_composition():
    """Reference: Coloma & Schwetz, arXiv:1604.05772 / Miranda, Tortola, Valle hep-ph/0406280 (LMA-Dark):
    theta12 -> pi/2 - theta12 (with delta -> pi - delta, dm31 -> dm21 - dm31) and eps_ee - eps_mumu = -2
    for every Y_n (eps^u_ee = -4/3, eps^d_ee = 2/3) give the same P_ee; also with a fixed composition Y_n and
    eps^u only. <= 1e-10."""
    p0 = sun.survival_probability(OSC, E_8B, "8B")
    p1 = sun.survival_probability(_dark(OSC), E_8B, "8B", nsi=NSI(eps_u={"ee": -4 / 3}, eps_d={"ee": 2 / 3}))
    np.testing.assert_allclose(np.asarray(p0), np.asarray(p1), atol=1e-10)
    yn = 0.4
    p2 = sun.survival_probability(_dark(OSC), E_8B, "8B", nsi=NSI(eps_u={"ee": -2 / (2 + yn)}), yn=yn)
    np.testing.assert_allclose(np.asarray(sun.survival_probability(OSC, E_8B, "8B", yn=yn)), np.asarray(p2), atol=1e-10)


def test_lma_dark_realistic_composition_departure():
    """With eps^u alone tuned to eps_ee = -2 at the core composition (Y_n = 0.49), the varying Y_n(r)
    of the solar model breaks the image: record how far (reported, not a tolerance)."""
    yn0 = 0.4859
    nsi = NSI(eps_u={"ee": -2 / (2 + yn0)})
    e = jnp.geomspace(0.2, 15, 30) * 1e-3
    dev = {}
    for flux in ("pp", "7Be", "8B"):
        d = np.abs(np.asarray(sun.survival_probability(OSC, e, flux)) - np.asarray(sun.survival_probability(_dark(OSC), e, flux, nsi=nsi)))
        dev[flux] = d.max()
    assert all(np.isfinite(v) for v in dev.values())
    assert 1e-6 < dev["8B"] < 0.1, dev  # a real but small departure


def test_layered_propagation_agrees_with_adiabatic():
    """Numerical check: layered propagation through the tabulated profile (0.002 R_sun layers) agrees
    with the adiabatic formula for LMA (adiabaticity parameter >> 1), within the discretisation error."""
    e = jnp.array([1.0, 5.0, 10.0]) * 1e-3
    pa = np.asarray(sun.survival_probability(OSC, e, "8B"))
    pl = np.asarray(sun.survival_probability(OSC, e, "8B", method="layered"))
    np.testing.assert_allclose(pl, pa, atol=5e-3)


def test_night_regeneration_sign_and_size():
    """Earth regeneration raises P_ee at night for 8B on average over mantle paths (day-night asymmetry
    of a few percent, SK-IV PRD 94 (2016) 052010); at one zenith angle and energy it may dip slightly."""
    e = jnp.geomspace(4.0, 15.0, 12) * 1e-3
    day = np.asarray(sun.survival_probability(OSC, e, "8B"))
    nights = np.stack(
        [
            np.asarray(sun.survival_probability(OSC, e, "8B", earth_layers=earth.prem_layers(c, atmosphere_km=0.0)))
            for c in (-0.2, -0.4, -0.6, -0.8)
        ]
    )
    assert (nights - day).mean() > 1e-3 and np.all(np.abs(nights - day) < 0.06)
    fr = np.asarray(sun.mass_state_fractions(OSC, E_8B, "8B"))
    np.testing.assert_allclose(fr.sum(-1), 1.0, atol=1e-12)


def test_sun_nsi_gradient_and_vmap():
    """P_ee is differentiable in NSI couplings and vmappable over parameter points."""
    f = lambda x: jnp.sum(sun.survival_probability(OSC, E_8B, "8B", nsi=NSI.from_components(d=jnp.zeros(9).at[0].set(x))))  # noqa: E731
    g = float(jax.grad(f)(0.1))
    fd = (float(f(0.1 + 1e-6)) - float(f(0.1 - 1e-6))) / 2e-6
    np.testing.assert_allclose(g, fd, rtol=1e-5)
    xs = jnp.array([0.0, 0.1, 0.2])
    np.testing.assert_allclose(np.asarray(jax.vmap(f)(xs)), [float(f(x)) for x in xs], atol=1e-13)


@pytest.mark.parametrize("flux", ["pp", "pep", "7Be", "8B", "13N", "15O", "17F", "hep"])
def test_all_fluxes(flux):
    p = np.asarray(sun.survival_probability(OSC, jnp.array([0.5, 1.0]) * 1e-3, flux, model="AGSS09"))
    assert np.all((p > 0.4) & (p < 0.6))


def test_adiabaticity_diagnostic_and_non_adiabatic_case():
    """LMA is adiabatic (gamma >> 1; Kuo & Pantaleone RMP 61 (1989) 937); the old SMA solution
    (sin^2 2th ~ 4e-3, dm21 = 6e-6 eV^2) is not at 10 MeV (gamma < 1), where the layered propagation
    departs strongly from the adiabatic formula (Landau-Zener crossing), as it must."""
    e = jnp.array([1.0, 10.0]) * 1e-3
    assert np.all(np.asarray(sun.adiabaticity(OSC, e)) > 100)
    sma = OscParams(0.03, 0.0, 0.7, 0.0, 6e-6, 2.5e-3)
    gam = np.asarray(sun.adiabaticity(sma, e))
    assert gam[1] < 1 < gam[0]
    pa = np.asarray(sun.survival_probability(sma, e, "8B"))
    pl = np.asarray(sun.survival_probability(sma, e, "8B", method="layered"))
    assert pa[1] < 0.01 and pl[1] > 0.3


def test_survival_probability_at_nodes_padding_and_per_energy_nodes():
    """Identities: (1) survival_probability (adiabatic) is survival_probability_at_nodes on the
    production_nodes of the flux; (2) padding nodes of zero weight (stacked_production_nodes) change
    nothing, with one node set per energy (one flux per measurement), to <= 1e-13 relative; (3) the
    padded average is differentiable in the NSI (finite gradient equal to the per-flux sum's)."""
    nsi = NSI(eps_u={"ee": 0.3, "emu": 0.05}, eps_d={"mutau": -0.1})
    nd = sun.production_nodes("AGSS09", "7Be")
    assert nd.weight.sum() == pytest.approx(1.0, abs=1e-14) and nd.r.shape == nd.ne.shape == nd.yn.shape
    e = jnp.array([0.5, 0.862, 1.2]) * 1e-3
    np.testing.assert_array_equal(
        np.asarray(sun.survival_probability_at_nodes(OSC, e, nd.weight, nd.ne, nd.yn, nsi=nsi)),
        np.asarray(sun.survival_probability(OSC, e, "7Be", nsi=nsi, model="AGSS09")),
    )
    fluxes = ("pp", "7Be", "pep", "8B")
    w, ne, yn = sun.stacked_production_nodes("GS98", fluxes)
    lengths = [len(sun.production_nodes("GS98", f).r) for f in fluxes]
    assert w.shape == (4, max(lengths)) and np.all(w[0, lengths[0]:] == 0) and np.all(ne[3, lengths[3]:] == ne[3, lengths[3] - 1])
    energies = jnp.array([0.267, 0.862, 1.44, 8.1]) * 1e-3
    ref = np.array([float(sun.survival_probability(OSC, energies[j], f, nsi=nsi)) for j, f in enumerate(fluxes)])
    got = np.asarray(sun.survival_probability_at_nodes(OSC, energies, w, ne, yn, nsi=nsi))
    np.testing.assert_allclose(got, ref, rtol=1e-13)

    def padded(x):
        n = NSI.from_components(u=jnp.zeros(9).at[0].set(x))
        return jnp.sum(sun.survival_probability_at_nodes(OSC, energies, w, ne, yn, nsi=n))

    def per_flux(x):
        n = NSI.from_components(u=jnp.zeros(9).at[0].set(x))
        return sum(sun.survival_probability(OSC, energies[j], f, nsi=n) for j, f in enumerate(fluxes))

    np.testing.assert_allclose(float(jax.grad(padded)(0.2)), float(jax.grad(per_flux)(0.2)), rtol=1e-10)


def test_survival_probability_at_nodes_bad_input():
    from nsijax.errors import InvalidInputError

    nd = sun.production_nodes("GS98", "8B")
    with pytest.raises(InvalidInputError, match="share a shape"):
        sun.survival_probability_at_nodes(OSC, E_8B, nd.weight, nd.ne[:-1], nd.yn)
    with pytest.raises(InvalidInputError, match="share a shape"):  # per-energy nodes need energy_gev.shape + (R,)
        sun.survival_probability_at_nodes(OSC, E_8B, *(np.stack([x] * 3) for x in (nd.weight, nd.ne, nd.yn)))
    with pytest.raises(InvalidInputError, match="ne"):
        sun.survival_probability_at_nodes(OSC, E_8B, nd.weight, -nd.ne, nd.yn)
    with pytest.raises(InvalidInputError, match="solar model"):
        sun.production_nodes("B16", "8B")
