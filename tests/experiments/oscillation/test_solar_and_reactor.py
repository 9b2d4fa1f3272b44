"""Borexino 2018 P_ee and KamLAND 7-year spectrum likelihoods: loading, validation, gradients, bad input.

Numbers at the NuFIT 6.0 NO best fit (params.osc = None), printed by ``pytest -s``:
  Borexino pulls (pred - data) / sigma: pp -0.24, 7Be -0.11, pep +0.77, 8B(HER) -0.35.
KamLAND, digitised curves of arXiv:1009.4771 Fig. 1 (bins with > 5 events):
  no oscillation: ratio ours / digitised 0.97-1.08 (total normalised to 2879 events);
  best fit (tan^2 theta12 = 0.436, dm21 = 7.49e-5 eV^2, sin^2 theta13 = 0.032): ratio 0.95-1.07,
  totals 1631 vs 1634 events.
"""

import shutil

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nsijax.errors import InvalidParamsError, InvalidSpecError
from nsijax.experiments import from_files, load
from nsijax.experiments.base import AbstractExperiment, expected_counts, total_counts
from nsijax.experiments.parsers.spec import DATA_DIR
from nsijax.likelihood import chi2, log_likelihood
from nsijax.parameters.nsi import NSI
from nsijax.parameters.params import Params
from nsijax.physics.oscillation import OscParams
from nsijax.physics.oscillation.sun import survival_probability
from nsijax.physics.sources.reactor import ibd_cross_section

KL_BEST_FIT = OscParams.from_sin2(0.436 / 1.436, 0.032, 0.5, 0.0, 7.49e-5, 2.5e-3)  # KamLAND-only 3nu fit


def test_load_borexino_and_kamland():
    b, k = load("borexino_2018"), load("kamland_2011")
    assert isinstance(b, AbstractExperiment) and b.kind == "oscillation" and b.response == "solar_pee"
    assert b.fluxes == ("pp", "7Be", "pep", "8B")  # 8B: HER only (HER-I, HER-II are its sub-ranges)
    np.testing.assert_allclose(b.observed, [0.566, 0.532, 0.428, 0.37])
    np.testing.assert_allclose(b.energy_gev, [0.267e-3, 0.862e-3, 1.44e-3, 8.1e-3])
    assert k.response == "reactor_spectrum" and k.bin_shape == (17,)
    assert k.nuisance_keys == ("kamland_2011.norm", "kamland_2011.background", "kamland_2011.geonu")
    assert float(k.observed.sum()) == pytest.approx(2094, abs=5)  # digitised; paper: 2106 events > 0.9 MeV
    assert float(jnp.sum(k.site_weight)) == pytest.approx(1.0)


def test_borexino_points_at_nufit_within_errors():
    b = load("borexino_2018")
    pred = b.physics(Params())  # osc None = NuFIT 6.0 NO
    osc = OscParams.nufit()
    for j, flux in enumerate(b.fluxes):  # the prediction is the solar module's P_ee
        ref = survival_probability(osc, b.energy_gev[j], flux, model="GS98")
        np.testing.assert_allclose(pred[j], ref, rtol=1e-12)
    pulls = (pred - b.observed) / b.sigma_up
    print("Borexino pulls at NuFIT 6.0:", dict(zip(b.fluxes, np.round(np.asarray(pulls), 2))))
    assert np.all(np.abs(pulls) < 1.0)
    assert float(chi2(Params(), b)) == pytest.approx(float(jnp.sum(pulls**2)), rel=1e-12)


def test_borexino_solar_model_setting_is_honoured():
    """data.solar_model selects the B23/SF-III profile of the prediction. Identity: each P_ee equals
    nsijax.physics.oscillation.sun.survival_probability(..., model=<spec model>) at the measurement's energy (<= 1e-12),
    with and without NSI. AGSS09 (low metallicity) has ~1.5 % more electrons in the 8B core than GS98,
    so the MSW suppression is slightly stronger: measured at NuFIT 6.0 NO, AGSS09 - GS98 =
    pp -3.4e-5, 7Be -9.6e-5, pep -1.6e-4, 8B(HER) -2.1e-4 (<= 0.003 sigma of Borexino's errors)."""
    gs, ag = load("borexino_2018"), load("borexino_2018", overrides={"data.solar_model": "AGSS09"})
    osc = OscParams.nufit()
    assert gs.sun_weight.shape == gs.sun_ne.shape == (4, gs.sun_weight.shape[1])
    for p in (Params(), Params(nsi=NSI(eps_u={"ee": 0.3}, eps_d={"emu": 0.1}))):
        pred = {m: np.asarray(e.physics(p)) for m, e in (("GS98", gs), ("AGSS09", ag))}
        for m, e in (("GS98", gs), ("AGSS09", ag)):
            ref = [survival_probability(osc, e.energy_gev[j], f, nsi=p.matter_nsi(), model=m)
                   for j, f in enumerate(e.fluxes)]
            np.testing.assert_allclose(pred[m], np.asarray(ref), rtol=1e-12)
        diff = pred["AGSS09"] - pred["GS98"]
        print("Borexino P_ee AGSS09 - GS98:", dict(zip(gs.fluxes, diff)))
        assert np.all(diff < -1e-5) and np.all(diff > -1e-3)  # higher n_e: lower P_ee, by 1e-5 .. 1e-3
        assert np.all(np.diff(diff) < 0)  # the matter effect grows with energy: pp < 7Be < pep < 8B
    with pytest.raises(InvalidSpecError, match="solar_model"):
        load("borexino_2018", overrides={"data.solar_model": "B16"})


def test_asymmetric_errors_are_used_on_their_side():
    b = load("borexino_2018")
    b2 = eqx.tree_at(lambda e: e.sigma_up, b, b.sigma_up * 2.0)
    pred = b.physics(Params())
    above = pred > b.observed
    expect = jnp.sum(((pred - b.observed) / jnp.where(above, b2.sigma_up, b2.sigma_down)) ** 2)
    assert float(chi2(Params(), b2)) == pytest.approx(float(expect), rel=1e-12)
    assert above.any() and (~above).any()


def test_ibd_cross_section_reference_value():
    # Strumia-Vissani: sigma(E = 5 MeV) ~ 1.6e-42 cm^2 (their Table/plot); zero below threshold
    assert ibd_cross_section(5.0) * 1e-43 == pytest.approx(1.6e-42, rel=0.05)
    assert ibd_cross_section(1.7) == 0.0


def test_kamland_no_oscillation_spectrum_matches_digitised_curve():
    k = load("kamland_2011")
    ours = np.asarray(k.response_matrix.sum(0))  # P = 1
    dig = np.asarray(k.digitised_no_osc)
    big = dig > 5.0
    ratio = ours / dig
    print("KamLAND no-osc ours/digitised:", np.round(ratio, 3))
    assert ours.sum() == pytest.approx(2879.0) and dig.sum() == pytest.approx(2879.0, rel=0.01)
    assert np.all(np.abs(ratio[big] - 1.0) < 0.10)
    # P = 1 through the oscillation engine gives the same (dm -> 0)
    tiny = OscParams(0.59, 0.15, 0.8, 0.0, 1e-12, 1e-12)
    np.testing.assert_allclose(k.physics(Params(osc=tiny)), ours, rtol=1e-6)


def test_kamland_best_fit_spectrum_matches_digitised_curve():
    k = load("kamland_2011")
    ours = np.asarray(k.physics(Params(osc=KL_BEST_FIT)))
    dig = np.asarray(k.digitised_best_fit_osc)
    big = dig > 3.0
    ratio = ours / dig
    print("KamLAND best-fit ours/digitised:", np.round(ratio, 3), ours.sum(), dig.sum())
    assert np.all(np.abs(ratio[big] - 1.0) < 0.08)
    assert ours.sum() == pytest.approx(dig.sum(), rel=0.02)
    total = k.expected(Params(osc=KL_BEST_FIT), jnp.zeros(3), ours)
    assert float(total.sum()) == pytest.approx(float(k.digitised_best_fit_total.sum()), rel=0.02)


def test_gradients_match_finite_differences():
    exps = [load("borexino_2018"), load("kamland_2011")]
    nf = OscParams.nufit()

    def f(x):
        osc = OscParams(x[0], nf.theta13, nf.theta23, nf.delta_cp, x[1] * 1e-5, nf.dm31)
        nsi = NSI(eps_u=jnp.zeros(9).at[0].set(x[2]).at[1].set(x[3]).at[2].set(x[3]))  # mumu = tautau
        p = Params(nsi=nsi, osc=osc, nuisances={"kamland_2011.norm": 0.3, "kamland_2011.geonu": -0.5})
        return chi2(p, exps)

    x0 = jnp.array([0.6, 7.5, -0.2, 0.1])
    g = jax.jit(jax.grad(f))(x0)
    assert np.all(np.isfinite(g))
    fj = jax.jit(f)
    for i, h in enumerate((1e-5, 1e-5, 1e-5, 1e-5)):
        e = jnp.zeros(4).at[i].set(h)
        fd = (fj(x0 + e) - fj(x0 - e)) / (2 * h)
        np.testing.assert_allclose(g[i], fd, rtol=2e-4, atol=1e-4)
    # eps proportional to the identity is unobservable: d/dee + d/d(mumu = tautau) = 0
    assert float(g[2] + g[3]) == pytest.approx(0.0, abs=1e-6 * float(jnp.abs(g[2]) + 1))


def test_joint_with_coherent_and_profiling():
    exps = [load("borexino_2018"), load("kamland_2011"), load("coherent_csi_2017")]
    p = Params()
    given, prof = chi2(p, exps), chi2(p, exps, nuisances="profile")
    assert np.isfinite(given) and float(prof) <= float(given) + 1e-9
    parts = sum(float(chi2(p, e)) for e in exps)
    assert float(given) == pytest.approx(parts, rel=1e-10)
    assert np.isfinite(log_likelihood(p, exps))


def test_bad_osc_params_is_a_clear_error():
    with pytest.raises(InvalidParamsError, match="params.osc"):
        chi2(Params(osc={"theta12": 0.6}), load("kamland_2011"))


def _copy(tmp_path, name):
    dst = tmp_path / name
    shutil.copytree(DATA_DIR / name, dst)
    for f in dst.rglob("*"):
        f.chmod(0o644 if f.is_file() else 0o755)
    return dst


def test_malformed_data_file_names_file_and_line(tmp_path):
    d = _copy(tmp_path, "kamland_2011")
    path = d / "raw" / "Reactors.csv"
    lines = path.read_text().splitlines()
    lines[3] = "751.10, four"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InvalidSpecError, match=r"Reactors\.csv, line 4"):
        from_files(d / "spec.toml")
    d2 = _copy(tmp_path / "b", "borexino_2018")
    path = d2 / "raw" / "borexino_pee_nature2018.csv"
    text = path.read_text().replace("7Be,0.862,0.532", "7Be,0.862,abc")
    path.write_text(text)
    with pytest.raises(InvalidSpecError, match=r"borexino_pee_nature2018\.csv, line 8"):
        from_files(d2 / "spec.toml")


def test_bad_spec_fields(tmp_path):
    d = _copy(tmp_path, "borexino_2018")
    spec = d / "spec.toml"
    spec.write_text(spec.read_text().replace('"8B HER"]', '"8B HER-III"]'))
    with pytest.raises(InvalidSpecError, match="8B HER-III"):
        from_files(spec)
    with pytest.raises(InvalidSpecError, match="not found"):
        from_files(tmp_path / "nope" / "spec.toml")
    k = _copy(tmp_path / "k", "kamland_2011")
    spec = k / "spec.toml"
    spec.write_text(spec.read_text().replace('name = "geonu"', 'name = "geo"'))
    with pytest.raises(InvalidSpecError, match="geonu"):
        from_files(spec)
    with pytest.raises(InvalidSpecError, match="data file not found"):
        load("kamland_2011", overrides={"data.reactors_file": "raw/missing.csv"})


def test_expected_counts_by_component():
    k = load("kamland_2011")
    p = Params(nuisances={"kamland_2011.norm": 0.5, "kamland_2011.background": -1.0})
    comp = expected_counts(p, k)
    assert set(comp) == {"reactor", "background", "geonu"}
    np.testing.assert_allclose(total_counts(p, k), k.expected(p, jnp.array([0.5, -1.0, 0.0]), k.physics(p)), rtol=1e-12)
    b = load("borexino_2018")
    np.testing.assert_allclose(total_counts(p, b), b.physics(p), rtol=1e-12)
