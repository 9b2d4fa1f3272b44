"""jit, vmap and retracing behaviour of the public cross-section functions."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import nsijax
from nsijax.physics.scattering import cevns, electron_scattering


def test_jit_does_not_retrace_for_new_parameter_values():
    """New NSI, Z', mu_nu and energy values reuse one compilation (equinox assert_max_traces)."""

    @jax.jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def rate(E, T, nsi, zp, mu, r2):
        return cevns.dsigma_dT(E, T, "CsI", flavor=0, nsi=nsi, zprime=zp, mu_nu=mu, charge_radius=r2)

    T = jnp.linspace(1e-3, 1e-2, 16)
    for i in range(4):
        nsi = nsijax.NSI(eps_u={"ee": 0.1 * i, "emu": 0.01j * i}, eps_d={"tautau": -0.1 * i})
        zp = nsijax.ZPrime(1e-5 * (i + 1), 10.0 * (i + 1), "B-L")
        out = rate(jnp.asarray(20.0 + i), T, nsi, zp, jnp.asarray(1e-10 * i), jnp.asarray(1e-33 * i))
        assert out.shape == (16,) and bool(jnp.all(jnp.isfinite(out)))

    @jax.jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def e_rate(E, nsi):
        return electron_scattering.dsigma_dT(E, 1.0, flavor=1, nsi=nsi)

    for i in range(3):
        e_rate(jnp.asarray(5.0 + i), nsijax.NSI(eps_eL={"mumu": 0.1 * i}))


def test_jit_equals_eager_and_vmap_equals_loop():
    E = jnp.linspace(5.0, 50.0, 7)
    T = jnp.linspace(0.0, 0.02, 5)
    nsi = nsijax.NSI(eps_u={"ee": 0.2, "etau": 0.1 - 0.05j})
    eager = cevns.dsigma_dT(E[:, None], T[None, :], "Ge", flavor=0, nsi=nsi)
    jitted = jax.jit(lambda e, t: cevns.dsigma_dT(e, t, "Ge", flavor=0, nsi=nsi))(E[:, None], T[None, :])
    np.testing.assert_allclose(jitted, eager, rtol=1e-14)
    vm = jax.vmap(jax.vmap(lambda e, t: cevns.dsigma_dT(e, t, "Ge", flavor=0, nsi=nsi), (None, 0)), (0, None))(E, T)
    np.testing.assert_allclose(vm, eager, rtol=1e-14)


def test_vmap_over_parameter_points():
    """A batch of NSI points (leading dimension on every leaf) vmaps like a loop."""
    eus = jnp.linspace(-0.5, 0.5, 6)
    batch = jax.vmap(lambda x: nsijax.NSI(eps_u={"ee": x}))(eus)
    out = jax.vmap(lambda n: cevns.dsigma_dT(30.0, 0.005, "CsI", flavor=0, nsi=n))(batch)
    loop = [float(cevns.dsigma_dT(30.0, 0.005, "CsI", flavor=0, nsi=nsijax.NSI(eps_u={"ee": float(x)}))) for x in eus]
    np.testing.assert_allclose(out, loop, rtol=1e-14)
    zs = jax.vmap(lambda g: nsijax.ZPrime(g, 20.0))(jnp.array([0.0, 1e-5, 2e-5]))
    out = jax.vmap(lambda z: cevns.dsigma_dT(30.0, 0.005, "CsI", flavor=0, zprime=z))(zs)
    assert out.shape == (3,) and bool(jnp.all(jnp.isfinite(out)))


def test_float64_by_default():
    assert cevns.dsigma_dT(30.0, 0.001, "CsI", flavor=0).dtype == jnp.float64
    assert nsijax.NSI(eps_u={"ee": 0.1}).u.dtype == jnp.float64
