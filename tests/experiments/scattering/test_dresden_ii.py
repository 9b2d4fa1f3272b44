"""Dresden-II reactor CEvNS on germanium (``dresden_ii_2022``, :mod:`nsijax.experiments.scattering.reactor_cevns`).

Sources of the published statements: J. Colaresi et al., PRL 129 (2022) 211802, arXiv:2202.09672 (abstract: a very
strong preference, p < 1.2e-3, for CEvNS with the Fef quenching model; no such effect in 25 days of Rx-OFF; the best
fit in good agreement with the Fef expectation; deviations of order 60 % from the SM excluded; an anti-nu_e flux of
4.8e13 / (cm^2 s)).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nsijax
from nsijax import NSI, experiments
from nsijax.errors import InvalidSpecError
from nsijax.experiments import expected_counts, total_counts
from nsijax.experiments.scattering.reactor_cevns import GeReactorCEvNS
from nsijax.likelihood import chi2
from nsijax.parameters.params import Params
from nsijax.physics.scattering import cevns

NAME = "dresden_ii_2022"
OFF_WITH_REACTOR = [{"name": "off", "value_column": 3, "error_column": 4, "days": 25.0, "reactor_fraction": 1.0}]


@pytest.fixture(scope="module")
def exp():
    return experiments.load(NAME)


def _scan_scale(e, scales, **kw):
    """Profiled chi^2 at each CEvNS normalisation (every nuisance profiled)."""
    f = jax.jit(lambda s: chi2(Params(cevns_scale=s, **kw), e, nuisances="profile", profile_steps=30))
    return np.array([float(f(jnp.asarray(s))) for s in scales])


def test_loads_by_name_and_joins_chi2_with_the_others(exp):
    assert NAME in experiments.available()
    assert isinstance(exp, GeReactorCEvNS)
    assert exp.observed.shape == (2, 130)  # Rx-ON and Rx-OFF, 0.2-1.5 keVee in 10 eV bins
    np.testing.assert_allclose(np.asarray(exp.bin_edges_kev)[[0, -1]], [0.2, 1.5], atol=1e-12)
    csi = experiments.load("coherent_csi_2021")
    p = Params(nsi=NSI(eps_u={"ee": 0.05}))
    joint = chi2(p, [exp, csi])
    np.testing.assert_allclose(joint, chi2(p, exp) + chi2(p, csi), rtol=1e-12)


def test_reactor_off_period_has_no_neutrino_signal(exp):
    comp = expected_counts(Params(mu_nu=1e-10), exp)
    assert float(comp["cevns"][0].sum()) > 50.0  # events / day in the window at full power (Fef)
    assert float(jnp.abs(comp["cevns"][1]).sum()) == 0.0 and float(jnp.abs(comp["electron"][1]).sum()) == 0.0


def test_cevns_component_scales_with_the_weak_charge_under_nsi(exp):
    """eps^u_ee, eps^d_ee shift the anti-nu_e couplings to g_p + 2 eu + ed and g_n + eu + 2 ed (PHYSICS.md). With
    eu = (l - 1)(2 g_p - g_n) / 3 and ed = (l - 1)(2 g_n - g_p) / 3 both become l times the SM ones, so every isotope's
    CEvNS rate, and the total, scales by l^2 exactly (the electron-scattering part is untouched by quark NSI)."""
    lam = 0.9
    gp, gn = cevns.nucleon_couplings("tree")
    eu, ed = (lam - 1) * (2 * gp - gn) / 3, (lam - 1) * (2 * gn - gp) / 3
    sm = exp.physics(Params())
    nsi = exp.physics(Params(nsi=NSI(eps_u={"ee": eu}, eps_d={"ee": ed})))
    np.testing.assert_allclose(nsi["cevns"], lam**2 * sm["cevns"], rtol=1e-12)
    np.testing.assert_allclose(nsi["electron"], sm["electron"], rtol=1e-12)


def test_magnetic_moment_adds_incoherently(exp):
    """The mu_nu terms of CEvNS and nu-e scattering do not interfere with the weak ones: each component's excess
    over the SM grows exactly as mu_nu^2."""
    c0, c1, c2 = (expected_counts(Params(mu_nu=m), exp) for m in (0.0, 1e-11, 2e-11))
    for k in ("cevns", "electron"):
        d1 = np.asarray(c1[k][0] - c0[k][0]).sum()
        d2 = np.asarray(c2[k][0] - c0[k][0]).sum()
        assert d1 > 0
        np.testing.assert_allclose(d2 / d1, 4.0, rtol=1e-9)


def test_fef_gives_a_strong_cevns_preference_consistent_with_the_sm(exp):
    """PRL abstract: a very strong preference (p < 1.2e-3, Delta chi^2 > 10.5 for one parameter) for CEvNS with Fef,
    the best fit in good agreement with the Fef expectation, deviations of ~60 % from the SM excluded.
    Measured here (README.md): background-only Delta chi^2 = 8.7 (p = 3.2e-3, 2.9 sigma), best-fit scale 1.3.
    Checked: > 2.5 sigma preference, the SM within 1 sigma of the best fit, a 60 % deficit excluded at 90 % CL."""
    s = np.array([0.0, 0.4, 0.8, 1.0, 1.2, 1.4, 1.6, 2.0])
    v = _scan_scale(exp, s)
    best = v.min()
    assert s[np.argmin(v)] in (1.2, 1.4)
    assert v[0] - best > 6.63  # 2.5 sigma (one parameter)
    assert v[3] - best < 1.0  # the SM
    assert v[1] - best > 2.71  # a 60 % deficit, 90 % CL


def test_rx_off_shows_no_cevns_like_excess():
    """PRL abstract: no CEvNS-like effect in the 25 days of Rx-OFF. With the reactor taken as on during Rx-OFF,
    the physical best fit (scale >= 0) is 0 and the SM signal is excluded."""
    e = experiments.load(NAME, overrides={"data.periods": OFF_WITH_REACTOR})
    assert e.observed.shape == (1, 130)
    v = _scan_scale(e, [0.0, 0.25, 0.5, 1.0])
    assert np.all(np.diff(v) > 0)
    assert v[3] - v[0] > 9.0


@pytest.mark.slow
def test_fef_describes_the_data_better_than_ybe_and_lindhard(exp):
    """PRL: the signal agrees with the expectation from the Fef characterisation; at the SM, YBe and Lindhard
    (k = 0.157) predict less signal and fit worse."""
    sm = {}
    for model in ("fef", "ybe", "lindhard"):
        e = exp if model == "fef" else experiments.load(NAME, overrides={"quenching.model": model})
        sm[model] = float(chi2(Params(), e, nuisances="profile", profile_steps=30))
    assert sm["fef"] < sm["ybe"] < sm["lindhard"]


def test_gradients_match_finite_differences(exp):
    """d chi^2 / d (eps^u_ee, eps^d_emu, mu_nu, <r^2>, and every kind of pull) against central differences."""
    keys = [
        k
        for k in exp.nuisance_keys
        if k.split(".")[1] in ("quenching", "resolution", "on_l1_width", "on_epithermal_slope")
    ]

    def f(x):
        p = Params(
            nsi=NSI(eps_u={"ee": x[0]}, eps_d={"emu": x[1]}),
            mu_nu=x[2] * 1e-10,
            charge_radius=x[3] * 1e-32,
            nuisances={k: x[4 + i] for i, k in enumerate(keys)},
        )
        return chi2(p, exp)

    x0 = jnp.array([0.03, 0.05, 0.3, 2.0, 0.4, -0.5, 0.7, 0.3])
    g = jax.jit(jax.grad(f))(x0)
    fj = jax.jit(f)
    h = 1e-5
    fd = np.array([(fj(x0.at[i].add(h)) - fj(x0.at[i].add(-h))) / (2 * h) for i in range(x0.size)])
    assert np.all(np.isfinite(g)) and np.all(np.abs(np.asarray(g)) > 0)
    np.testing.assert_allclose(g, fd, rtol=2e-5, atol=1e-6)


def test_terms_are_gaussian_and_resample_draws_with_the_released_errors(exp):
    p = Params()
    mu = total_counts(p, exp)
    t = exp.terms(p, exp.pulls(p), exp.physics(p))
    np.testing.assert_allclose(
        t.chi2, np.sum(((np.asarray(mu) - np.asarray(exp.observed)) / np.asarray(exp.sigma)) ** 2)
    )
    np.testing.assert_allclose(t.log_likelihood, -0.5 * t.chi2)
    keys = jax.random.split(jax.random.PRNGKey(3), 4000)
    x = np.asarray(jax.vmap(lambda k: exp.resample(k, mu))(keys))
    z = (x - np.asarray(mu)) / np.asarray(exp.sigma)
    assert abs(z.mean()) < 5 / np.sqrt(z.size) and abs(z.std() - 1) < 5 / np.sqrt(2 * z.size)


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ({"quenching.model": "sarkis"}, "quenching.model"),
        ({"source.spectrum": "ill"}, "source.spectrum"),
        ({"source.fission_fractions": {"U235": 0.6, "Pu239": 0.3}}, "sum to 1"),
        ({"source.fission_fractions": {"U233": 1.0}}, "unknown fission isotope"),
        ({"source.distance_m": -10.0}, "distance_m"),
        ({"data.file": "missing.txt"}, "not found"),
        ({"data.window_kev": [1.6, 2.0]}, "no data bin"),
        ({"quenching.prior": "flat"}, "quenching.prior"),
    ],
)
def test_bad_spec_gets_a_clear_error(override, match):
    with pytest.raises(InvalidSpecError, match=match):
        experiments.load(NAME, overrides=override)


def test_a_missing_nuisance_is_named():
    s = experiments.spec(NAME)
    nuis = [n for n in s["nuisances"] if n["name"] != "off_l1"]
    with pytest.raises(InvalidSpecError, match="off_l1"):
        experiments.load(NAME, overrides={"nuisances": nuis})


@pytest.mark.slow
def test_profiled_fit_converges_and_keeps_pulls_inside_their_bounds(exp):
    """The spec's background nominals are the SM best fit: profiling from them moves chi^2 by < 1e-6 between
    12 and 50 steps and leaves every uniform pull well inside +-8."""
    a = float(chi2(Params(), exp, nuisances="profile", profile_steps=12))
    b = float(chi2(Params(), exp, nuisances="profile", profile_steps=50))
    assert abs(a - b) < 1e-6
    pulls = nsijax.likelihood.profile_nuisances(Params(), exp, profile_steps=12)
    assert max(abs(float(pulls.nuisance(k))) for k in exp.nuisance_keys) < 2.0
