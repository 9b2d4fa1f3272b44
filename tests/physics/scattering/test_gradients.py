"""Gradients of the cross sections against central finite differences (float64), including the
special points of issue 2: eps = 0, g = 0, T -> T_max, T -> 0, and a heavy Z'."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nsijax
from nsijax.physics.scattering import cevns, electron_scattering, kinematics
from nsijax.physics.scattering.targets import get_target
from nsijax.physics.sources import pion_dar as flux
from tests.helpers import assert_grad_matches_fd

M_CS = float(get_target("Cs").mass_mev[0])


def _xs(E=30.0, T=0.004, eu=None, ed=None, g=None, m=50.0, mu=0.0, r2=0.0, flavor=0, target="CsI"):
    nsi = None
    if eu is not None or ed is not None:
        nsi = nsijax.NSI.from_components(
            u=jnp.zeros(9) if eu is None else eu, d=jnp.zeros(9) if ed is None else ed
        )
    zp = None if g is None else nsijax.ZPrime(g, m)
    return cevns.dsigma_dT(E, T, target, flavor=flavor, nsi=nsi, zprime=zp, mu_nu=mu, charge_radius=r2) * 1e36


def test_random_points_every_argument(rng):
    for _ in range(4):
        E = rng.uniform(15, 50)
        T = rng.uniform(0.1, 0.8) * float(kinematics.t_max(E, M_CS))
        eu = jnp.asarray(rng.normal(0, 0.2, 9))
        ed = jnp.asarray(rng.normal(0, 0.2, 9))
        g, m = rng.uniform(1e-6, 1e-4), rng.uniform(5, 500)
        mu, r2 = 1e-9 * rng.uniform(0.5, 2), 1e-32 * rng.normal()
        flavor = int(rng.integers(0, 3))
        kw = dict(E=E, T=T, eu=eu, ed=ed, g=g, m=m, mu=mu, r2=r2, flavor=flavor)
        for name in ("E", "T", "g", "m", "mu", "r2"):
            f = lambda x, name=name: _xs(**{**kw, name: x})  # noqa: E731
            assert_grad_matches_fd(f, kw[name], rtol=2e-6)
        for k in range(9):
            f = lambda x, k=k: _xs(**{**kw, "eu": eu.at[k].set(x)})  # noqa: E731
            assert_grad_matches_fd(f, eu[k], h=1e-6, rtol=2e-6, atol=1e-12)
            f = lambda x, k=k: _xs(**{**kw, "ed": ed.at[k].set(x)})  # noqa: E731
            assert_grad_matches_fd(f, ed[k], h=1e-6, rtol=2e-6, atol=1e-12)


def test_at_eps_zero_and_g_zero():
    """At eps = 0 the derivative is the interference term 2 Q_W (2Z+N) F^2 (nonzero, finite); at g = 0
    the Z' derivative vanishes (cross section even in g)."""
    z = jnp.zeros(9)
    g_ee = jax.grad(lambda x: _xs(eu=z.at[0].set(x), target="Cs"))(0.0)
    assert np.isfinite(g_ee) and float(g_ee) < 0  # destructive: Q_W < 0, eps^u > 0 reduces |Q|
    for k in range(9):
        assert_grad_matches_fd(lambda x, k=k: _xs(eu=z.at[k].set(x)), 0.0, h=1e-5, rtol=1e-6, atol=1e-10)
    dg = jax.grad(lambda g: _xs(g=g))(0.0)
    assert float(dg) == 0.0
    assert_grad_matches_fd(lambda g: _xs(g=g), 0.0, h=1e-7, atol=1e-9)
    # second derivative at g = 0 is finite and positive-definite information for fits
    assert np.isfinite(float(jax.grad(jax.grad(lambda g: _xs(g=g)))(0.0)))


def test_near_tmax_and_near_zero_recoil():
    E = 30.0
    tm = float(kinematics.t_max(E, M_CS))
    f = lambda T: _xs(E=E, T=T, target="Cs")  # noqa: E731
    assert_grad_matches_fd(f, tm * (1 - 1e-4), h=tm * 1e-7, rtol=1e-5)
    assert_grad_matches_fd(f, 1e-6, h=1e-8, rtol=1e-6)
    # exactly at T = 0 (one-sided): finite and equal to the forward difference
    g0 = float(jax.grad(f)(0.0))
    fwd = float((f(1e-9) - f(0.0)) / 1e-9)
    assert np.isfinite(g0) and g0 == pytest.approx(fwd, rel=1e-5)
    # exactly at and above T_max: finite (zero above)
    assert np.isfinite(float(jax.grad(f)(tm)))
    assert float(jax.grad(f)(1.1 * tm)) == 0.0
    # and the energy derivative at E_min(T)
    T = 0.005
    emin = float(kinematics.e_min(T, M_CS))
    assert np.isfinite(float(jax.grad(lambda e: _xs(E=e, T=T, target="Cs"))(emin)))


def test_heavy_zprime_gradients_finite():
    """M_Z' -> large at fixed g/M: finite gradients with respect to g and M."""
    for m in (1e4, 1e6, 1e8):
        gm = jax.grad(lambda m_: _xs(g=1.2e-6 * m, m=m_))(m)
        gg = jax.grad(lambda g: _xs(g=g, m=m))(1.2e-6 * m)
        assert np.isfinite(float(gm)) and np.isfinite(float(gg))
    assert_grad_matches_fd(lambda m_: _xs(g=1.2e-6 * 1e4, m=m_), 1e4, rtol=1e-5)


def test_electron_scattering_gradients(rng):
    nsi_c = jnp.asarray(rng.normal(0, 0.1, 9))
    f_l = lambda x: electron_scattering.dsigma_dT(  # noqa: E731
        5.0, 1.0, flavor=0, nsi=nsijax.NSI.from_components(eL=nsi_c.at[3].set(x))
    ) * 1e45
    assert_grad_matches_fd(f_l, 0.0, h=1e-6, rtol=1e-6, atol=1e-12)
    f_t = lambda T: electron_scattering.dsigma_dT(5.0, T, flavor=1, antineutrino=True, mu_nu=1e-10) * 1e45  # noqa: E731
    assert_grad_matches_fd(f_t, 0.7, rtol=1e-6)
    f_g = lambda g: electron_scattering.dsigma_dT(3.0, 0.5, flavor=0, zprime=nsijax.ZPrime(g, 0.3, "B-L")) * 1e45  # noqa: E731
    assert_grad_matches_fd(f_g, 2e-6, rtol=1e-6)
    assert float(jax.grad(f_g)(0.0)) == 0.0


def test_flux_averaged_gradient_in_nsi():
    """Gradient of a flux-averaged cross section (the building block of rates) w.r.t. eps^d_ee."""
    f = lambda x: flux.flux_averaged_cross_section("Ar", nsi=nsijax.NSI(eps_d={"ee": x})) * 1e39  # noqa: E731
    assert_grad_matches_fd(f, 0.0, h=1e-5, rtol=1e-7)
    assert_grad_matches_fd(f, 0.3, h=1e-5, rtol=1e-7)
