"""Atmospheric zenith grids: cells, grouped PREM paths and their probabilities."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nsijax.errors import InvalidInputError
from nsijax.parameters.nsi import NSI
from nsijax.physics.oscillation import OscParams, default_osc, earth, oscillation_probability
from nsijax.physics.oscillation.atmospheric import ZenithGrid, grid_probabilities


def test_cells_and_index():
    """Geometric energy centres, linear cos z centres; the cell index of a point is the histogram bin
    [lo, hi) and -1 outside (PISA's lookup: cos z = 1 exactly is outside)."""
    g = ZenithGrid.regular(1.0, 1000.0, 30, 20, detector_depth_km=2.0)
    np.testing.assert_allclose(np.asarray(g.energy_gev)[0], np.sqrt(1.0 * 10 ** 0.1))
    np.testing.assert_allclose(np.asarray(g.cos_zenith)[[0, -1]], [-0.95, 0.95])
    idx = g.cell_index(np.array([1.0, 999.0, 1000.0, 5.0, 0.5]), np.array([-1.0, 0.99, 0.0, 1.0, 0.0]))
    assert idx.tolist()[:2] == [0, 19 * 30 + 29] and idx.tolist()[2:] == [-1, -1, -1]


def test_grouped_paths_equal_the_padded_paths(rng):
    """The grouped, compacted paths give the probabilities of the full 28-layer PREM paths (zero-length
    layers are identities), for nu and nu-bar, with NSI, averaged over two production heights; <= 1e-12."""
    g = ZenithGrid.regular(2.0, 200.0, 12, 40, detector_depth_km=1.5, production_heights_km=(15.0, 25.0),
                           height_weights=(0.3, 0.7))
    assert len(g.path_groups) == 2 and sum(lay.length_km.shape[-2] for lay in g.path_groups) == 40
    assert max(lay.length_km.shape[-1] for lay in g.path_groups) <= 28
    nsi = NSI(eps_d={"mutau": 0.05 + 0.02j, "tautau": -0.1, "emu": 0.03})
    osc = default_osc()
    p = np.array(grid_probabilities(osc, g, nsi))
    for h, w in ((15.0, 0.3), (25.0, 0.7)):
        lay = earth.prem_layers(g.cos_zenith, detector_depth_km=1.5, atmosphere_km=h)
        for anti in (0, 1):
            ref = np.asarray(oscillation_probability(osc, g.energy_gev, lay, nsi=nsi, antineutrino=bool(anti)))
            p[anti] -= w * ref
    np.testing.assert_allclose(p, 0.0, atol=1e-12)


@pytest.mark.slow
def test_grid_unitarity_and_gradient():
    """Rows of P sum to 1; the gradient of a smooth functional of the grid in theta23 and eps_mutau matches
    central differences (1e-6)."""
    g = ZenithGrid.regular(3.0, 60.0, 16, 16, detector_depth_km=2.0)
    p = np.asarray(grid_probabilities(default_osc(), g))
    np.testing.assert_allclose(p.sum(-1), 1.0, atol=1e-11)

    def f(x):
        osc = OscParams(0.59, 0.15, x[0], 0.0, 7.4e-5, 2.5e-3)
        nsi = NSI(eps_d=jnp.zeros((3, 3), complex).at[1, 2].set(x[1]).at[2, 1].set(x[1]))
        return jnp.sum(grid_probabilities(osc, g, nsi)[..., 1, 1] ** 2)

    x0 = jnp.array([0.8, 0.02])
    grad = np.asarray(jax.jit(jax.grad(f))(x0))
    f = jax.jit(f)
    for i in range(2):
        e = np.zeros(2)
        e[i] = 1e-6
        fd = (float(f(x0 + e)) - float(f(x0 - e))) / 2e-6
        np.testing.assert_allclose(grad[i], fd, rtol=1e-6)


def test_bad_grids_are_rejected():
    with pytest.raises(InvalidInputError, match="cos zenith outside"):
        ZenithGrid(np.geomspace(1, 10, 5), np.linspace(-1.2, 1, 5), detector_depth_km=2.0)
    with pytest.raises(InvalidInputError, match="energy_edges_gev"):
        ZenithGrid(np.array([1.0, 0.5]), np.linspace(-1, 1, 5), detector_depth_km=2.0)
    with pytest.raises(InvalidInputError, match="production heights"):
        ZenithGrid.regular(1, 10, 4, 4, detector_depth_km=2.0, production_heights_km=(-5.0,))
