"""IceCube DeepCore 3-year sample B (response ``deepcore_event_mc``) against PISA's published example fit.

Source of the reference numbers: icecube/pisa ``pisa_examples/IceCube_3y_oscillations_example.ipynb`` (stored
outputs, commit 2cc03215; copied into the spec's ``[validation]``): mod_chi2 of the data against the nominal
template 175.08610766919114; at PISA's best fit, mod_chi2 113.03289312869633 without and 115.80889047543769
with the prior penalties (the latter include theta13's, ((8.51035 - 8.5) / 0.205)^2 = 0.0026, which nsijax
leaves to ``params.osc``). With PISA's scheme (``true_grid.flux_at = "cell"``) ours differs by the Earth model
only (PREM polynomials averaged along each chord vs PISA's 12-layer step model): 175.0750 and 113.0354
(printed by ``pytest -s``). The shipped default takes the flux at each event (174.6567 at nominal): PISA's
cell-centre flux is a first-order discretisation (0.22 in chi^2 between 200 and 400 cells).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nsijax.errors import InvalidSpecError
from nsijax.experiments import expected_counts, load, spec
from nsijax.likelihood import chi2
from nsijax.parameters.nsi import NSI
from nsijax.parameters.oscillation import OscParams
from nsijax.parameters.params import Params

NAME = "deepcore_2019_sample_b"
VAL = spec(NAME)["validation"]


@pytest.fixture(scope="module")
def deepcore():
    return load(NAME)


@pytest.fixture(scope="module")
def deepcore_pisa():
    """The sample with PISA's flux at the cell centres (its published numbers use that scheme)."""
    return load(NAME, overrides={"true_grid.flux_at": "cell"})


def _osc(v):
    d = math.radians
    return OscParams(d(v["theta12_deg"]), d(v["theta13_deg"]), d(v["theta23_deg"]), d(v["delta_cp_deg"]),
                     v["dm21_ev2"], v["dm31_ev2"])


def _best_fit_params(exp):
    bf = VAL["best_fit"]
    osc = dict(VAL["osc_nominal"], theta13_deg=bf["theta13_deg"], theta23_deg=bf["theta23_deg"], dm31_ev2=bf["dm31_ev2"])
    pulls = {
        k: (bf[n] - float(exp.nuisance_nominal[i])) / float(exp.nuisance_sigma[i])
        for i, (n, k) in enumerate(zip(exp.nuisance_names, exp.nuisance_keys))
    }
    return Params(osc=_osc(osc), nuisances=pulls)


def test_nominal_and_best_fit_match_pisa(deepcore_pisa, deepcore):
    """PISA's scheme: mod_chi2 at PISA's nominal point and at its best fit (all 16 parameters) within 0.05 of
    PISA's (the Earth models differ, see the module docstring); the prior penalty of the pulls is PISA's
    without theta13's term. The default (flux at each event) is within 0.5 of PISA's (its discretisation)."""
    nominal = float(chi2(Params(osc=_osc(VAL["osc_nominal"])), deepcore_pisa))
    default = float(chi2(Params(osc=_osc(VAL["osc_nominal"])), deepcore))
    p = _best_fit_params(deepcore_pisa)
    total = float(chi2(p, deepcore_pisa))
    pulls = float(sum(deepcore.nuisance_gaussian[i] * p.nuisances[k] ** 2 for i, k in enumerate(deepcore.nuisance_keys)))
    theta13_prior = ((VAL["best_fit"]["theta13_deg"] - 8.5) / 0.205) ** 2
    print(f"\nmod_chi2 nominal {nominal:.4f} (PISA {VAL['mod_chi2_nominal']:.4f}; flux at events {default:.4f}); best fit {total - pulls:.4f} "
          f"(PISA {VAL['mod_chi2_best_fit']:.4f}), priors {pulls:.4f} (PISA {115.80889047543769 - VAL['mod_chi2_best_fit'] - theta13_prior:.4f})")
    assert abs(nominal - VAL["mod_chi2_nominal"]) < 0.05
    assert abs(default - VAL["mod_chi2_nominal"]) < 0.5
    assert abs(total - pulls - VAL["mod_chi2_best_fit"]) < 0.05
    assert abs(pulls + theta13_prior - (115.80889047543769 - VAL["mod_chi2_best_fit"])) < 1e-4


def test_prediction_by_group_and_statistic_setting(deepcore):
    """The groups add up to the total; the muon template is the release's (2045.1 events, muons.csv); the
    spec's statistic is honoured (``poisson``: the Baker-Cousins chi^2 of the same prediction)."""
    p = Params(osc=_osc(VAL["osc_nominal"]))
    parts = expected_counts(p, deepcore)
    assert set(parts) == {"nue_cc", "numu_cc", "nutau_cc", "nc", "nutau_nc", "muons"}
    np.testing.assert_allclose(float(parts["muons"].sum()), 2045.095, rtol=1e-9)
    total = sum(float(v.sum()) for v in parts.values())
    assert 0.97 < total / float(deepcore.observed.sum()) < 1.05
    poisson = load(NAME, overrides={"likelihood.statistic": "poisson"})
    mu = sum(parts.values())
    n = np.asarray(deepcore.observed)
    bc = 2 * np.sum(mu - n + np.where(n > 0, n * np.log(n / mu), 0.0))
    np.testing.assert_allclose(float(chi2(p, poisson)), bc, rtol=1e-10)


def test_bad_input_is_a_clear_error():
    with pytest.raises(InvalidSpecError, match="per-event MC"):
        load(NAME, overrides={"data.mc_file": "raw/missing.npz"})
    with pytest.raises(InvalidSpecError, match="flux.model"):
        load(NAME, overrides={"flux.model": "bartol"})
    with pytest.raises(InvalidSpecError, match="likelihood.statistic"):
        load(NAME, overrides={"likelihood.statistic": "chi2"})
    with pytest.raises(InvalidSpecError, match="cannot read"):
        load(NAME, overrides={"data.muon_file": "raw/missing.csv"})
    with pytest.raises(InvalidSpecError, match="prior"):
        s = spec(NAME)
        s["nuisances"][0]["prior"] = "flat"
        load(NAME, overrides={"nuisances": s["nuisances"]})


@pytest.mark.slow
def test_gradients_match_finite_differences(deepcore):
    """d chi^2 / d (theta23, dm31, eps_mutau, eps_tautau, two pulls) at fixed and at profiled nuisances
    equals central differences (1e-5 relative; 1e-4 profiled)."""
    d = math.radians

    def params(x):
        osc = OscParams(d(33.48), d(8.5), x[0], 0.0, 7.5e-5, x[1])
        eps = jnp.zeros((3, 3), complex).at[1, 2].set(x[2]).at[2, 1].set(x[2]).at[2, 2].set(x[3])
        nuis = {deepcore.nuisance_keys[0]: x[4], deepcore.nuisance_keys[8]: x[5]}
        return Params(osc=osc, nsi=NSI(eps_d=eps), nuisances=nuis)

    x0 = jnp.array([d(44.0), 2.45e-3, 0.004, 0.01, 0.3, -0.2])
    steps = np.array([1e-5, 1e-8, 1e-5, 1e-5, 1e-4, 1e-4])
    # profiled: the finite differences see the profiler's convergence (~1e-8 in chi^2), hence 1e-4
    for mode, check, rtol in (("given", range(6), 1e-5), ("profile", range(4), 1e-4)):
        f = jax.jit(lambda x, mode=mode: chi2(params(x), deepcore, nuisances=mode))
        g = np.asarray(jax.jit(jax.grad(lambda x, mode=mode: chi2(params(x), deepcore, nuisances=mode)))(x0))
        assert np.all(np.isfinite(g))
        for i in check:
            e = jnp.zeros(6).at[i].set(steps[i])
            fd = (float(f(x0 + e)) - float(f(x0 - e))) / (2 * steps[i])
            np.testing.assert_allclose(g[i], fd, rtol=rtol, err_msg=f"{mode} parameter {i}")


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="issue 13 asks < 0.1; measured 200 -> 400 cells: 0.13 at PISA's nominal "
                   "point, 0.09 with NSI (probabilities at cell centres; 100 -> 200: 0.08 and 0.06)")
def test_true_grid_converges(deepcore):
    """Halving both true-grid steps (400 x 400 cells) moves chi^2 by < 0.1 (issue 13), at PISA's nominal
    point and with NSI (eps^d_mutau = 0.01, eps^d_tautau = 0.03)."""
    fine = load(NAME, overrides={"true_grid.n_energy": 400, "true_grid.n_coszen": 400})
    nsi = NSI(eps_d={"mutau": 0.01, "tautau": 0.03})
    for p in (Params(osc=_osc(VAL["osc_nominal"])), Params(osc=_osc(VAL["osc_nominal"]), nsi=nsi)):
        a, b = float(chi2(p, deepcore)), float(chi2(p, fine))
        print(f"\nchi2 200x200 {a:.4f}, 400x400 {b:.4f}")
        assert abs(a - b) < 0.1


@pytest.mark.slow
def test_generalized_mass_ordering_degeneracy_of_the_folded_prediction(deepcore):
    """Coloma & Schwetz, PRD 94 (2016) 055005 (PHYSICS.md): theta12 -> pi/2 - theta12, delta -> pi - delta,
    dm31 -> dm21 - dm31, eps -> -S eps^* S - 2 diag(1, 0, 0) leaves every probability, hence the folded
    prediction, unchanged; in electron NSI the map holds in every PREM layer whatever its Y_n (1e-8)."""
    s = np.diag([1.0, -1.0, -1.0])
    eps = np.array([[0.1, 0.02 + 0.01j, -0.03], [0.02 - 0.01j, 0.05, 0.04j], [-0.03, -0.04j, -0.02]])
    eps2 = -s @ np.conj(eps) @ s - 2 * np.diag([1.0, 0.0, 0.0])
    osc = OscParams(0.58, 0.15, 0.8, 1.1, 7.4e-5, 2.5e-3)
    osc2 = OscParams(np.pi / 2 - 0.58, 0.15, 0.8, np.pi - 1.1, 7.4e-5, 7.4e-5 - 2.5e-3)
    a = expected_counts(Params(osc=osc, nsi=NSI(eps_e=eps)), deepcore)
    b = expected_counts(Params(osc=osc2, nsi=NSI(eps_e=eps2)), deepcore)
    for k in a:
        np.testing.assert_allclose(np.asarray(a[k]), np.asarray(b[k]), rtol=1e-8, err_msg=k)
    c = expected_counts(Params(osc=osc), deepcore)
    assert float(jnp.abs(c["numu_cc"] - a["numu_cc"]).max()) > 1.0  # the NSI point is not the SM



@pytest.mark.slow
def test_fit_of_theta23_and_dm31_matches_pisa(deepcore_pisa):
    """PISA's scheme: theta23 and dm31 fitted (13 nuisances profiled; theta13 = PISA's 8.51035 deg, delta_CP = 0
    as PISA's config) agree with PISA's best fit (46.251 deg, 2.42612e-3 eV^2) within the sample's 1 sigma errors:
    sin^2 theta23 +0.07 -0.09 and dm32 +0.11 -0.13 x 1e-3 eV^2 (IceCube PRL 120 (2018) 071801, the close
    variant of this analysis); chi^2 + priors at the optimum <= PISA's 115.806 (its theta13 prior removed)
    + 0.05. Measured: 46.07 deg, 2.4328e-3 eV^2, Hessian errors 4.4 deg and 0.13e-3 eV^2."""
    from nsijax.inference import fit, profiled_chi2

    bf = VAL["best_fit"]
    base = Params(osc=_osc(dict(VAL["osc_nominal"], theta13_deg=bf["theta13_deg"])))
    r = fit(profiled_chi2(deepcore_pisa, base=base), {"osc_theta23": math.radians(bf["theta23_deg"]), "osc_dm31": bf["dm31_ev2"]})
    assert bool(r.successful)
    th23 = float(r.params["osc_theta23"])
    dm31 = float(r.params["osc_dm31"])
    print(f"\nfit: theta23 {math.degrees(th23):.3f} deg, dm31 {dm31:.5e}, chi2 {float(r.value):.4f}, errors "
          f"{math.degrees(float(r.errors['osc_theta23'])):.2f} deg, {float(r.errors['osc_dm31']):.2e}")
    assert abs(math.sin(th23) ** 2 - math.sin(math.radians(bf["theta23_deg"])) ** 2) < 0.07
    assert abs(dm31 - bf["dm31_ev2"]) < 0.11e-3
    theta13_prior = ((bf["theta13_deg"] - 8.5) / 0.205) ** 2
    assert float(r.value) <= 115.80889047543769 - theta13_prior + 0.05
