"""Bad input gets a clear error naming the argument, eagerly and inside jit."""

import jax
import jax.numpy as jnp
import pytest

import nsijax
from nsijax.errors import InvalidInputError, InvalidParamsError
from nsijax.physics.scattering import cevns, electron_scattering


def test_non_hermitian_eps():
    m = jnp.zeros((3, 3), complex).at[0, 1].set(0.1)
    with pytest.raises(InvalidParamsError, match="eps_u must be a finite Hermitian"):
        nsijax.NSI(eps_u=m)
    with pytest.raises(InvalidParamsError, match="eps_e"):
        nsijax.NSI(eps_e=jnp.eye(3) * jnp.nan)
    with pytest.raises(InvalidParamsError, match="either eps_e"):
        nsijax.NSI(eps_e={"ee": 0.1}, eps_eL={"ee": 0.1})
    with pytest.raises(InvalidParamsError, match="unknown components"):
        nsijax.NSI(eps_u={"ex": 0.1})


def test_non_hermitian_inside_jit_raises():
    f = jax.jit(lambda m: cevns.dsigma_dT(30.0, 0.001, "CsI", flavor=0, nsi=nsijax.NSI(eps_d=m)))
    assert jnp.isfinite(f(jnp.eye(3, dtype=complex) * 0.1))
    with pytest.raises(Exception, match="eps_d must be a finite Hermitian"):
        f(jnp.zeros((3, 3), complex).at[1, 2].set(0.2j)).block_until_ready()


@pytest.mark.parametrize("bad", [-1.0, jnp.nan, jnp.inf])
def test_bad_energies(bad):
    with pytest.raises(InvalidInputError, match="E_mev must be finite and >= 0"):
        cevns.dsigma_dT(bad, 0.001, "CsI", flavor=0)
    with pytest.raises(InvalidInputError, match="T_mev must be finite and >= 0"):
        cevns.dsigma_dT(30.0, jnp.array([0.001, bad]), "CsI", flavor=0)
    with pytest.raises(InvalidInputError, match="E_mev"):
        electron_scattering.dsigma_dT(bad, 0.1, flavor=0)


def test_negative_energy_inside_jit_raises():
    f = jax.jit(lambda e: cevns.dsigma_dT(e, 0.001, "CsI", flavor=0))
    with pytest.raises(Exception, match="E_mev must be finite and >= 0"):
        f(-3.0).block_until_ready()


def test_unknown_target_lists_known():
    with pytest.raises(InvalidInputError, match=r"unknown target 'CsF'.*CsI.*Xe"):
        cevns.dsigma_dT(30.0, 0.001, "CsF", flavor=0)


@pytest.mark.parametrize("flavor", [3, -1, 1.5, "x", None])
def test_bad_flavor(flavor):
    with pytest.raises(InvalidInputError, match="flavor"):
        cevns.dsigma_dT(30.0, 0.001, "CsI", flavor=flavor)


def test_zprime_domain():
    with pytest.raises(InvalidParamsError, match="mass_mev must be finite and > 0"):
        nsijax.ZPrime(1e-5, -10.0)
    with pytest.raises(InvalidParamsError, match="mass_mev"):
        nsijax.ZPrime(1e-5, 0.0)
    with pytest.raises(InvalidParamsError, match=r"unknown Z' charge preset 'B\+L'"):
        nsijax.ZPrime(1e-5, 10.0, "B+L")
    with pytest.raises(InvalidParamsError, match="loop"):
        nsijax.ZPrime(1e-5, 10.0, "B-L", kinetic_mixing="loop")
    with pytest.raises(Exception, match="mass_mev"):
        jax.jit(lambda m: nsijax.ZPrime(1e-5, m).mass_mev)(-1.0).block_until_ready()


def test_other_options():
    with pytest.raises(InvalidInputError, match="form_factor"):
        cevns.dsigma_dT(30.0, 0.001, "CsI", flavor=0, form_factor="fermi")
    with pytest.raises(InvalidInputError, match="couplings"):
        cevns.dsigma_dT(30.0, 0.001, "CsI", flavor=0, couplings="nlo")
    with pytest.raises(InvalidInputError, match="mu_nu must be a scalar or have shape"):
        cevns.dsigma_dT(30.0, 0.001, "CsI", flavor=0, mu_nu=jnp.zeros(2))
    with pytest.raises(InvalidInputError, match="nsi must be an nsijax.NSI"):
        cevns.dsigma_dT(30.0, 0.001, "CsI", flavor=0, nsi={"ee": 0.1})
