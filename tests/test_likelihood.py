"""Poisson likelihoods with nuisances: identities, gradients, floors, profiling, bad input."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy.special import gammaln

from nsijax.errors import InvalidInputError, InvalidParamsError
from nsijax.experiments import load
from nsijax.likelihood import chi2, log_likelihood, profile_nuisances
from nsijax.parameters.nsi import NSI
from nsijax.parameters.params import Params
from nsijax.statistics import terms as stats

COHERENT = ["coherent_csi_2017", "coherent_csi_2021", "coherent_lar_2020"]


def test_stats_identities(rng):
    n = rng.poisson(3.0, size=50).astype(float)
    mu = rng.uniform(0.5, 6.0, size=50)
    ll = stats.poisson_log_likelihood(n, mu)
    ref = np.sum(n * np.log(mu) - mu - gammaln(n + 1))
    np.testing.assert_allclose(ll, ref, rtol=1e-13)
    bc = stats.baker_cousins_chi2(n, mu)
    np.testing.assert_allclose(bc, -2 * (ll - stats.poisson_saturated_log_likelihood(n)), rtol=1e-12)
    assert float(stats.baker_cousins_chi2(n, n)) == pytest.approx(0.0, abs=1e-12)


def test_zero_expectation_with_observed_counts_is_finite_with_finite_gradient():
    n = jnp.array([0.0, 3.0, 1.0])
    f = lambda mu: stats.baker_cousins_chi2(n, mu)  # noqa: E731
    mu = jnp.array([0.0, 0.0, 1.0])
    v, g = jax.value_and_grad(f)(mu)
    assert np.isfinite(v) and np.all(np.isfinite(g))
    assert float(v) > 100.0  # documented floor MU_FLOOR = 1e-10: 2 * 3 * ln(3 / 1e-10) ~ 144
    ll, gl = jax.value_and_grad(lambda m: stats.poisson_log_likelihood(n, m))(mu)
    assert np.isfinite(ll) and np.all(np.isfinite(gl))


@pytest.mark.parametrize("name", COHERENT)
def test_chi2_is_minus_two_delta_loglik(name):
    exp = load(name)
    p = Params(nuisances={f"{name}.flux": 0.4})
    sat = stats.poisson_saturated_log_likelihood(exp.observed)
    np.testing.assert_allclose(chi2(p, exp), -2 * (log_likelihood(p, exp) - sat), rtol=1e-10)


def test_sum_over_experiments():
    exps = [load(n) for n in COHERENT] + [load("charm"), load("nutev")]
    total = chi2(Params(), exps)
    np.testing.assert_allclose(total, sum(float(chi2(Params(), e)) for e in exps), rtol=1e-12)


def _fd(f, x, h):
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("name", COHERENT)
def test_gradient_matches_finite_differences(name):
    exp = load(name)
    keys = exp.nuisance_keys

    def f(eps, theta):
        nsi = NSI.from_components(u=jnp.zeros(9).at[0].set(eps))
        return chi2(Params(nsi=nsi, nuisances={k: theta[i] for i, k in enumerate(keys)}), exp)

    eps0 = 0.03
    theta0 = jnp.linspace(-0.3, 0.4, len(keys))
    ge, gt = jax.grad(f, argnums=(0, 1))(eps0, theta0)
    np.testing.assert_allclose(ge, _fd(lambda e: f(e, theta0), eps0, 1e-5), rtol=2e-5)
    for i in range(len(keys)):
        fd = _fd(lambda x: f(eps0, theta0.at[i].set(x)), float(theta0[i]), 1e-5)
        np.testing.assert_allclose(gt[i], fd, rtol=2e-5, atol=1e-6, err_msg=keys[i])


def test_gradient_at_sm_point_and_of_zprime_is_finite():
    exp = load("coherent_csi_2021")
    from nsijax.parameters.zprime import ZPrime

    def f(logg):
        return chi2(Params(zprime=ZPrime(10.0**logg, 20.0, charges="B-L")), exp)

    g = jax.grad(f)(-5.0)
    assert np.isfinite(g)
    np.testing.assert_allclose(g, _fd(f, -5.0, 1e-5), rtol=1e-4)
    gp = jax.grad(lambda p: chi2(p, exp))(Params())
    assert all(np.all(np.isfinite(x)) for x in jax.tree_util.tree_leaves(gp))


def test_likelihood_finite_with_empty_expectation_bins():
    # LAr: no CEvNS above 60 keVee; remove the steady-state background in one such bin that has counts
    exp = load("coherent_lar_2020")
    i = (10, 3, 5)
    assert float(exp.observed[i]) > 0
    ssb = exp.ssb.at[i].set(0.0)
    brn = exp.brn.at[i].set(0.0)
    bad = eqx.tree_at(lambda e: (e.ssb, e.brn), exp, (ssb, brn))
    v, g = jax.value_and_grad(lambda s: chi2(Params(cevns_scale=s), bad))(1.0)
    assert np.isfinite(v) and np.isfinite(g)


def test_profiling_lowers_chi2_and_gives_small_pulls():
    exp = load("coherent_csi_2021")
    c_given = float(chi2(Params(), exp))
    c_prof = float(chi2(Params(), exp, nuisances="profile"))
    assert c_prof < c_given
    fitted = profile_nuisances(Params(), exp)
    pulls = np.array([float(fitted.nuisances[k]) for k in exp.nuisance_keys])
    assert np.all(np.abs(pulls) < 2.0)
    np.testing.assert_allclose(chi2(fitted, exp), c_prof, rtol=1e-10)
    # stationarity: the gradient with respect to the pulls vanishes at the profiled point
    g = jax.grad(lambda p: chi2(p, exp))(fitted)
    assert max(abs(float(g.nuisances[k])) for k in exp.nuisance_keys) < 1e-3
    # fixed nuisances stay put
    kept = profile_nuisances(Params(nuisances={"coherent_csi_2021.flux": 0.5}), exp, fixed=["coherent_csi_2021.flux"])
    assert float(kept.nuisances["coherent_csi_2021.flux"]) == 0.5


def test_profiled_gradient_uses_the_envelope_theorem():
    exp = load("coherent_csi_2017")

    def f(s):
        return chi2(Params(cevns_scale=s), exp, nuisances="profile")

    g = float(jax.grad(f)(0.9))
    np.testing.assert_allclose(g, _fd(f, 0.9, 1e-3), rtol=2e-2)


def test_gaussian_terms():
    charm, nutev = load("charm"), load("nutev")
    assert float(chi2(Params(), charm)) == pytest.approx(((0.406 - 0.3335) / 0.140) ** 2, rel=2e-2)
    assert 4.0 < float(chi2(Params(), nutev)) < 8.0  # the NuTeV g_L^2 anomaly (~2.5 sigma)
    np.testing.assert_allclose(log_likelihood(Params(), nutev), -0.5 * chi2(Params(), nutev))


def test_bad_input_is_rejected_clearly():
    exp = load("coherent_csi_2021")
    with pytest.raises(InvalidParamsError, match="coherent_csi_2021.flux"):
        chi2(Params(nuisances={"coherent_csi_2021.flx": 0.1}), exp)
    with pytest.raises(InvalidInputError, match="given"):
        chi2(Params(), exp, nuisances="marginalise")
    with pytest.raises(InvalidInputError):
        chi2(Params(), "coherent_csi_2021")
    with pytest.raises(InvalidInputError):
        chi2(Params(), [])
    with pytest.raises(InvalidInputError, match="twice"):
        chi2(Params(), [exp, exp])
    with pytest.raises(InvalidParamsError, match="fixed"):
        chi2(Params(), exp, nuisances="profile", fixed=["coherent_csi_2021.nope"])
    with pytest.raises(InvalidParamsError):
        Params(nuisances={"coherent_csi_2021.flux": jnp.inf})


def test_jit_and_vmap_over_physics_parameters():
    exp = load("coherent_lar_2020")

    def f(eps):
        return chi2(Params(nsi=NSI.from_components(d=jnp.zeros(9).at[0].set(eps))), exp)

    eps = jnp.array([-0.05, 0.0, 0.05])
    np.testing.assert_allclose(jax.jit(jax.vmap(f))(eps), jnp.stack([f(e) for e in eps]), rtol=1e-10)


def test_non_finite_pull_under_jit_raises_instead_of_returning_nan():
    exp = load("coherent_csi_2017")
    f = jax.jit(lambda x: chi2(Params(nuisances={"coherent_csi_2017.flux": x}), exp))
    assert np.isfinite(f(0.5))
    with pytest.raises(Exception, match="must be finite"):
        jax.block_until_ready(f(jnp.nan))


def test_log_likelihood_without_priors_for_samplers():
    exp = load("coherent_csi_2021")
    p = Params(nuisances={"coherent_csi_2021.flux": 0.6, "coherent_csi_2021.ssb": -0.8})
    with_p = float(log_likelihood(p, exp))
    without = float(log_likelihood(p, exp, include_priors=False))
    assert with_p == pytest.approx(without - 0.5 * (0.6**2 + 0.8**2), rel=1e-12)
