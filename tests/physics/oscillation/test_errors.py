"""Bad input raises clear errors, eagerly and under jit (eqx.error_if), never silent NaN."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nsijax import NSI
from nsijax.errors import InvalidInputError, InvalidParamsError
from nsijax.physics.oscillation import Layers, OscParams, earth, oscillation_probability, sun

OSC = OscParams.nufit()
LAY = Layers.constant(1000.0, 3.0, 0.5)
RUNTIME_ERRORS = (eqx.EquinoxRuntimeError, jax.errors.JaxRuntimeError)


def test_non_hermitian_eps_rejected():
    eps = np.zeros((3, 3), complex)
    eps[0, 1] = 0.1
    with pytest.raises(InvalidParamsError, match="Hermitian"):
        NSI(eps_e=eps)


def test_nsi_wrong_type():
    with pytest.raises(InvalidParamsError, match="nsi must be"):
        oscillation_probability(OSC, 1.0, LAY, nsi=np.eye(3))


@pytest.mark.parametrize("energy", [-1.0, 0.0, np.nan, np.inf])
def test_bad_energy_eager(energy):
    with pytest.raises(InvalidInputError, match="energy_gev"):
        oscillation_probability(OSC, jnp.array([1.0, energy]), LAY)


def test_bad_energy_under_jit():
    f = jax.jit(lambda e: oscillation_probability(OSC, e, LAY))
    with pytest.raises(RUNTIME_ERRORS, match="energy_gev"):
        jax.block_until_ready(f(jnp.array([1.0, -2.0])))


@pytest.mark.parametrize(
    "kw, msg",
    [
        (dict(length_km=[-1.0, 2.0]), "length_km"),
        (dict(density_gcc=[-0.1, 2.0]), "density_gcc"),
        (dict(ye=[0.5, 1.5]), "ye"),
        (dict(yn=[-1.0, 1.0]), "yn"),
        (dict(density_gcc=[np.nan, 2.0]), "density_gcc"),
    ],
)
def test_bad_layers(kw, msg):
    args = dict(length_km=[1.0, 2.0], density_gcc=[3.0, 3.0], ye=[0.5, 0.5], yn=[1.0, 1.0])
    args.update(kw)
    lay = Layers(**args)
    with pytest.raises(InvalidInputError, match=msg):
        oscillation_probability(OSC, 1.0, lay)
    f = jax.jit(lambda lay: oscillation_probability(OSC, 1.0, lay))
    with pytest.raises(RUNTIME_ERRORS, match=msg):
        jax.block_until_ready(f(lay))


def test_mismatched_layer_arrays():
    with pytest.raises(InvalidInputError, match="density_gcc"):
        Layers([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(InvalidInputError, match="ye"):
        Layers([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], ye=[0.5, 0.5])


def test_cos_zenith_out_of_range():
    with pytest.raises(InvalidInputError, match="cos_zenith"):
        earth.prem_layers(jnp.array([0.5, -1.2]))
    f = jax.jit(lambda c: earth.prem_layers(c).length_km)
    with pytest.raises(RUNTIME_ERRORS, match="cos_zenith"):
        jax.block_until_ready(f(jnp.array([1.5])))


def test_bad_osc_params():
    with pytest.raises(InvalidParamsError, match="OscParams"):
        oscillation_probability(OscParams(np.nan, 0.1, 0.1, 0.0, 7e-5, 2e-3), 1.0, LAY)
    with pytest.raises(InvalidParamsError, match="real"):
        OscParams(0.5 + 1j, 0.1, 0.1, 0.0, 7e-5, 2e-3)
    with pytest.raises(InvalidParamsError):
        oscillation_probability("nufit", 1.0, LAY)


def test_sun_bad_input():
    with pytest.raises(InvalidInputError, match="flux"):
        sun.survival_probability(OSC, 1e-2, "9Li")
    with pytest.raises(InvalidInputError, match="energy_gev"):
        sun.survival_probability(OSC, -1e-2, "8B")
    with pytest.raises(InvalidInputError, match="method"):
        sun.survival_probability(OSC, 1e-2, "8B", method="magic")
    with pytest.raises(InvalidInputError, match="solar model"):
        sun.survival_probability(OSC, 1e-2, "8B", model="B16")
