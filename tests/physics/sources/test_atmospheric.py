"""Atmospheric fluxes: Honda tables (Honda et al., PRD 92 (2015) 023004), integral-preserving interpolation
(IceCube NuFlux / PISA ``honda_ip``) and the Barr-style systematics (PISA ``barr_simple``)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nsijax.errors import InvalidInputError
from nsijax.physics.sources import atmospheric as atm
from tests.helpers import assert_grad_matches_fd


def test_tables_read_and_ordered():
    """Source: the Honda file layout (20 cos z blocks, 101 energies 0.1 GeV - 10 TeV); first row of the
    [0.9, 1.0] block of honda-2015-spl-solmin-aa.d: NuMu 1.2001E+04, NuMubar 1.2116E+04, NuE 6.0562E+03,
    NuEbar 5.2780E+03 at 0.1 GeV."""
    for model in atm.FLUX_MODELS:
        t = atm.honda_table(model)
        assert t.flux.shape == (2, 2, 20, 101)
        np.testing.assert_allclose(t.cz_edges, np.linspace(-1, 1, 21), atol=1e-12)
    t = atm.honda_table("honda2015_spl_solmin")
    np.testing.assert_allclose(t.flux[:, :, -1, 0], [[6.0562e3, 1.2001e4], [5.2780e3, 1.2116e4]])


def test_interpolation_preserves_the_table_integrals():
    """Integral preservation (the method's definition): the flux averaged over a table cell (a cos z bin x
    a log10 E cell of width 0.05 around a table energy) gives back the table value, for every flavour
    (1e-7: differences of cumulative integrals that reach 1e4 x the cell's content)."""
    t = atm.honda_table("honda2015_spl_solmin")
    step = (t.log10_energy[-1] - t.log10_energy[0]) / 100
    xg, wg = np.polynomial.legendre.leggauss(12)
    for k_cz, k_e in ((3, 30), (12, 45), (19, 60)):
        lo_c, hi_c = t.cz_edges[k_cz], t.cz_edges[k_cz + 1]
        centre = t.log10_energy[0] + k_e * step
        le = centre + 0.5 * step * xg
        cz = 0.5 * (lo_c + hi_c) + 0.5 * (hi_c - lo_c) * xg
        f = atm.honda_flux(t, 10 ** le[:, None], cz[None, :])  # (2, 2, nE, ncz)
        avg = np.einsum("abij,i,j->ab", f * 10 ** le[:, None], wg, wg) / 4 / 10**centre
        np.testing.assert_allclose(avg * 10**centre, t.flux[:, :, k_cz, k_e] * 10 ** t.log10_energy[k_e], rtol=1e-7)


def test_interpolation_is_smooth_and_close_to_the_table():
    """Between table points the interpolant stays within 3 % of log-linear interpolation of the table
    (smooth spectra, 0.05 steps in log10 E); at 10 GeV nu_mu/nu_mu-bar and nu_mu/nu_e are physical
    (~1.2-1.4 and > 3)."""
    t = atm.honda_table("honda2015_spl_solmin")
    f = atm.honda_flux(t, 10.0, -0.55)
    assert 1.1 < f[0, 1] / f[1, 1] < 1.5 and f[0, 1] / f[0, 0] > 3
    e = np.geomspace(2.0, 200.0, 31)
    cz = np.full_like(e, -0.55)  # centre of a cos z bin
    f = atm.honda_flux(t, e, cz)
    k = 4  # bin [-0.6, -0.5]
    ref = np.exp(np.interp(np.log10(e), t.log10_energy, np.log(t.flux[0, 1, k])))
    np.testing.assert_allclose(f[0, 1], ref, rtol=0.03)


def test_bad_input_is_rejected(tmp_path):
    with pytest.raises(InvalidInputError, match="unknown atmospheric flux model"):
        atm.honda_table("bartol")
    with pytest.raises(InvalidInputError, match="cos_zenith"):
        atm.honda_flux("honda2015_spl_solmin", 10.0, -1.2)
    with pytest.raises(InvalidInputError, match="range"):
        atm.honda_flux("honda2015_spl_solmin", 2e4, 0.0)
    bad = tmp_path / "bad.d"
    bad.write_text("average flux in [cosZ = 0.90 --  1.00, phi_Az =   0 -- 360]\n 1.0 2.0 x 4.0 5.0\n")
    with pytest.raises(InvalidInputError, match="bad.d:2"):
        atm.read_honda_table(bad)
    with pytest.raises(InvalidInputError, match="cannot read"):
        atm.read_honda_table(tmp_path / "missing.d")


def _fluxes():
    t = atm.honda_table("honda2015_spl_solmin")
    e = np.geomspace(1.0, 500.0, 7)
    cz = np.linspace(-0.95, 0.95, 7)
    return jnp.asarray(atm.honda_flux(t, e, cz)), jnp.asarray(e), jnp.asarray(cz)


def test_systematics_nominal_identity_and_sum_rules():
    """PISA barr_simple: nominal knobs leave the flux unchanged; the nu_e/nu_mu ratio knob scales the ratio
    and keeps nu_e + nu_mu; the nu/nu-bar knob keeps nu + nu-bar per flavour; delta_index is 1 at the pivot
    24.09 GeV; the up/horizontal knob changes nu_e only."""
    f, e, c = _fluxes()
    np.testing.assert_allclose(atm.flux_factors(f, e, c), f, rtol=1e-14)
    g = atm.flux_factors(f, e, c, nue_numu_ratio=1.1)
    np.testing.assert_allclose(g[:, 0] / g[:, 1], 1.1 * f[:, 0] / f[:, 1], rtol=1e-12)
    np.testing.assert_allclose(g.sum(1), f.sum(1), rtol=1e-12)
    g = atm.flux_factors(f, e, c, nu_nubar_ratio=0.9)
    np.testing.assert_allclose(g[0] / g[1], 0.9 * f[0] / f[1], rtol=1e-12)
    np.testing.assert_allclose(g.sum(0), f.sum(0), rtol=1e-12)
    pivot = jnp.full(3, atm.INDEX_PIVOT_GEV)
    fp = jnp.ones((2, 2, 3))
    np.testing.assert_allclose(atm.flux_factors(fp, pivot, jnp.zeros(3), delta_index=0.3), fp, rtol=1e-14)
    g = atm.flux_factors(f, e, c, delta_index=0.1)
    np.testing.assert_allclose(g / f, jnp.broadcast_to((e / atm.INDEX_PIVOT_GEV) ** 0.1, f.shape), rtol=1e-12)
    g = atm.flux_factors(f, e, c, barr_uphor=1.0)
    np.testing.assert_allclose(g[:, 1], f[:, 1], rtol=1e-14)
    assert np.all(np.asarray(g[:, 0]) != np.asarray(f[:, 0]))
    g = atm.flux_factors(f, e, c, barr_nu_nubar=1.0)
    assert np.all(np.asarray(g[0] / f[0]) > 1.0) and np.all(np.asarray(g[1] / f[1]) < 1.0)


@pytest.mark.parametrize("knob", ["nue_numu_ratio", "nu_nubar_ratio", "delta_index", "barr_uphor", "barr_nu_nubar"])
def test_systematics_gradients_match_finite_differences(knob):
    f, e, c = _fluxes()
    x0 = 1.0 if "ratio" in knob and "barr" not in knob else 0.0
    x0 = x0 + 0.07

    def total(x):
        return jnp.sum(atm.flux_factors(f, e, c, **{knob: x}) * jnp.arange(1.0, f.size + 1).reshape(f.shape))

    assert_grad_matches_fd(total, x0, h=1e-5, rtol=1e-6)
    g0 = jax.grad(total)(jnp.asarray(1.0 if "ratio" in knob and "barr" not in knob else 0.0))
    assert np.isfinite(float(g0)) and float(g0) != 0.0
