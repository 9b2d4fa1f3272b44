"""PREM paths (Dziewonski & Anderson 1981) for atmospheric zenith angles."""

import jax
import jax.numpy as jnp
import numpy as np

from nsijax.physics.oscillation import OscParams, earth, oscillation_probability


def test_prem_density_table_values():
    """Reference: PREM tabulation (Dziewonski & Anderson 1981, Table II): centre 13.0885, just below the
    CMB 9.9034, just above 5.5665, top of the LID (6346.6 km) 3.3808, lower crust 2.9 g/cm^3."""
    r = jnp.array([0.0, 3479.999, 3480.001, 6346.5, 6350.0])
    np.testing.assert_allclose(np.asarray(earth.prem_density(r)), [13.0885, 9.9034, 5.5665, 3.3808, 2.9], atol=2e-4)


def test_chord_lengths_and_column_density():
    """Segments sum to the geometric baseline; the column density through the centre equals twice the
    radial integral of PREM (trapezoid on a fine grid)."""
    c = jnp.array([-1.0, -0.86, -0.4, 0.0, 0.3, 1.0])
    lay = earth.prem_layers(c)
    assert lay.length_km.shape == (6, 28)
    np.testing.assert_allclose(np.asarray(lay.total_length_km), np.asarray(earth.baseline_km(c)), rtol=1e-12)
    np.testing.assert_allclose(float(earth.baseline_km(-1.0)), 2 * 6371.0 + 20.0)
    r = np.linspace(0, 6371, 400001)
    col = 2 * np.trapezoid(np.asarray(earth.prem_density(r)), r)
    np.testing.assert_allclose(float(jnp.sum(lay.length_km[0] * lay.density_gcc[0])), col, rtol=1e-5)
    # up-going chords that miss the core have no core segments
    core = np.asarray(lay.ye[2]) == earth.YE_CORE
    assert np.all(np.asarray(lay.length_km[2])[core] == 0.0)
    assert float(jnp.sum(lay.length_km[1] * (lay.ye[1] == earth.YE_CORE))) > 0


def test_detector_depth_and_symmetry():
    """A detector at depth d sees a down-going path of d + atmosphere; paths are palindromic through Earth
    for a surface detector without atmosphere."""
    lay = earth.prem_layers(1.0, detector_depth_km=1.5, atmosphere_km=15.0)
    np.testing.assert_allclose(float(lay.total_length_km), 16.5, rtol=1e-12)
    lay = earth.prem_layers(-0.7, atmosphere_km=0.0)
    ln = np.asarray(lay.length_km)
    nz = ln[ln > 0]
    np.testing.assert_allclose(nz, nz[::-1], rtol=1e-10)


def test_prem_grid_batched_matches_single():
    """A zenith grid is one batched Layers; probabilities match per-angle calls; unitarity holds."""
    osc = OscParams.nufit()
    c = jnp.linspace(-1, 1, 5)
    e = jnp.geomspace(1, 50, 6)
    p = np.asarray(oscillation_probability(osc, e, earth.prem_layers(c)))
    assert p.shape == (5, 6, 3, 3)
    for i in range(5):
        np.testing.assert_allclose(p[i], np.asarray(oscillation_probability(osc, e, earth.prem_layers(c[i]))), atol=1e-13)
    np.testing.assert_allclose(p.sum(-1), 1.0, atol=1e-12)


def test_prem_differentiable_in_cos_zenith():
    """The path (lengths and chord-averaged densities) is differentiable in cos_zenith."""
    osc = OscParams.nufit()
    f = lambda c: oscillation_probability(osc, 5.0, earth.prem_layers(c))[1, 1]  # noqa: E731
    for c0 in (-0.9, -0.5):
        g = float(jax.grad(f)(c0))
        fd = (float(f(c0 + 1e-6)) - float(f(c0 - 1e-6))) / 2e-6
        np.testing.assert_allclose(g, fd, rtol=1e-5)
