"""Experiments as data: specs, tables, the Experiment pytree, and malformed input."""

import pathlib
import shutil

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nsijax.errors import InvalidInputError, InvalidSpecError
from nsijax.experiments import available, from_files, load, spec, validate
from nsijax.experiments.base import AbstractExperiment
from nsijax.experiments.parsers import coherent_release
from nsijax.experiments.parsers.spec import DATA_DIR, read_spec

NAMES = [
    "borexino_2018", "borexino_phase1", "borexino_phase2", "charm", "coherent_csi_2017", "coherent_csi_2021",
    "coherent_lar_2020", "dayabay_3158d", "deepcore_2019_sample_b", "dresden_ii_2022", "dune_tdr", "gallium",
    "homestake", "kamland_2011", "nutev", "sno_3phase", "sno_d2o_2002", "solar_model_b23", "super_k_atm_2023", "xenonnt_b8",
]
COHERENT = ["coherent_csi_2017", "coherent_csi_2021", "coherent_lar_2020"]


def test_available_lists_the_shipped_experiments():
    assert available() == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_load_gives_a_float64_pytree_with_static_names(name):
    exp = load(name)
    assert isinstance(exp, AbstractExperiment)
    assert exp.name == name
    leaves = jax.tree_util.tree_leaves(exp)
    # every number is float64; integer leaves are gather indices (DeepCore's response, its grid's path order)
    assert leaves and all(jnp.asarray(x).dtype in (jnp.float64, jnp.int32) for x in leaves)
    assert any(jnp.asarray(x).dtype == jnp.float64 for x in leaves)
    assert exp.observed.shape == exp.bin_shape
    # names and shapes are static: they are not leaves
    assert all(not isinstance(x, str) for x in leaves)
    assert load(name) is exp  # cached


def test_unknown_name_lists_available():
    with pytest.raises(InvalidInputError, match="coherent_csi_2021"):
        load("coherent_csi_2019")


@pytest.mark.parametrize("name", COHERENT)
def test_shipped_tables_equal_a_fresh_build_from_the_raw_release(name):
    fresh = coherent_release.build(name)
    with np.load(DATA_DIR / name / "tables.npz") as npz:
        assert sorted(npz.files) == sorted(fresh)
        for k in fresh:
            np.testing.assert_allclose(npz[k], fresh[k], rtol=1e-12, atol=0, err_msg=k)


def test_observed_totals_match_the_release_readmes():
    # coherent_csi_2017/README.md: beam-on C counts in 6-30 PE (all 0-12 us bins of the release)
    t17 = load("coherent_csi_2017")
    assert float(t17.observed.sum()) == 855.0
    # coherent_csi_2021/README.md: PE < 60 and t_rec < 6 us: C = 1578, AC = 1295
    t21 = load("coherent_csi_2021")
    assert float(t21.observed.sum()) == 1578.0
    with np.load(DATA_DIR / "coherent_csi_2021" / "tables.npz") as npz:
        assert float(npz["ac_counts"].sum()) == 1295.0
    # coherent_lar_2020/README.md: 3752 events, BRN template 497, SS template 3152
    lar = load("coherent_lar_2020")
    assert float(lar.observed.sum()) == 3752.0
    assert abs(float(lar.brn.sum()) - 497.0) < 0.01


def test_spec_records_provenance_and_flags_values_from_memory():
    s = spec("coherent_csi_2021")
    assert s["paper"]["arxiv"] == "2110.07730"
    # POT: not read from the PRL itself, corroborated by independent public codes (spec comment)
    assert "source.protons_on_target" in s["paper"]["values_corroborated"]
    assert "binning" in s["paper"]["values_from_memory"]
    assert spec("coherent_lar_2020")["validation"]["sm_cevns"] == 128


def _copy(tmp_path: pathlib.Path, name: str) -> pathlib.Path:
    dst = tmp_path / name
    dst.mkdir()
    shutil.copy(DATA_DIR / name / "spec.toml", dst / "spec.toml")
    if (DATA_DIR / name / "tables.npz").exists():
        shutil.copy(DATA_DIR / name / "tables.npz", dst / "tables.npz")
    return dst


def test_from_files_round_trip(tmp_path):
    d = _copy(tmp_path, "coherent_csi_2021")
    exp = from_files(d / "spec.toml")
    assert jnp.array_equal(exp.observed, load("coherent_csi_2021").observed)


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda t: t.replace("distance_m = 19.3", "distance_m = -1.0"), "source.distance_m"),
        (lambda t: t.replace('form_factor = "helm"', 'form_factor = "gaussian"'), "source.form_factor"),
        (lambda t: t.replace("schema_version = 1", "schema_version = 7"), "schema_version"),
        (lambda t: t.replace('name = "nin"', 'name = "nim"'), "nuisances"),
        (lambda t: t.replace("recoil_panels = 24", 'recoil_panels = "many"'), "recoil_panels"),
        (lambda t: t.replace("pe_edges = [0, 8,", "pe_edges = [0, 80,"), "pe_edges"),
        (lambda t: t.replace("[source]", "[source"), "not valid TOML"),
        (lambda t: t.replace('target = "CsI"', 'target = "Unobtainium"'), "target"),
    ],
)
def test_malformed_specs_raise_invalid_spec_error(tmp_path, edit, match):
    d = _copy(tmp_path, "coherent_csi_2021")
    p = d / "spec.toml"
    p.write_text(edit(p.read_text()))
    with pytest.raises(InvalidSpecError, match=match):
        from_files(p)


@pytest.mark.parametrize(
    "name, key",
    [
        ("coherent_csi_2017", "light_yield_pe_per_kevee"),
        ("coherent_csi_2017", "quenching_factor"),
        ("coherent_csi_2017", "efficiency_a"),
        ("coherent_csi_2017", "efficiency_k"),
        ("coherent_csi_2017", "efficiency_x0"),
        ("coherent_csi_2021", "gamma_smearing"),
        ("coherent_lar_2020", "quenching"),
        ("coherent_lar_2020", "quenching_sigma"),
        ("coherent_lar_2020", "resolution"),
    ],
)
def test_every_detector_number_a_model_reads_is_checked(name, key):
    """A missing or malformed ``[detector]`` entry that the response model reads is an InvalidSpecError naming
    it (it used to surface as a KeyError while building)."""
    s = spec(name)
    del s["detector"][key]
    with pytest.raises(InvalidSpecError, match=f"detector.{key}"):
        validate(s, name)
    s = spec(name)
    s["detector"][key] = "many"
    with pytest.raises(InvalidSpecError, match=f"detector.{key}"):
        validate(s, name)


def test_bad_tables_raise_invalid_spec_error(tmp_path):
    d = _copy(tmp_path, "coherent_csi_2021")
    with np.load(d / "tables.npz") as npz:
        tables = {k: npz[k] for k in npz.files}
    bad = dict(tables, observed=tables["observed"][:-1])
    np.savez(d / "tables.npz", **bad)
    with pytest.raises(InvalidSpecError, match="shape"):
        from_files(d / "spec.toml")
    neg = dict(tables, observed=-tables["observed"])
    np.savez(d / "tables.npz", **neg)
    with pytest.raises(InvalidSpecError, match="non-negative integers"):
        from_files(d / "spec.toml")
    nan = dict(tables, brn=np.full_like(tables["brn"], np.nan))
    np.savez(d / "tables.npz", **nan)
    with pytest.raises(InvalidSpecError, match="non-finite"):
        from_files(d / "spec.toml")
    missing = {k: v for k, v in tables.items() if k != "nin"}
    np.savez(d / "tables.npz", **missing)
    with pytest.raises(InvalidSpecError, match="nin"):
        from_files(d / "spec.toml")
    (d / "tables.npz").unlink()
    with pytest.raises(InvalidSpecError, match="not found"):
        from_files(d / "spec.toml")


def test_validate_rejects_non_tables_and_bad_gaussian_measurements():
    with pytest.raises(InvalidSpecError):
        validate([1, 2, 3])
    s = read_spec(DATA_DIR / "nutev" / "spec.toml")
    s["measurements"][0]["sigma"] = 0.0
    with pytest.raises(InvalidSpecError, match="sigma"):
        validate(s)


def test_overrides_are_validated():
    exp = load("coherent_csi_2021", overrides={"source.form_factor": "klein_nystrand"})
    assert exp.form_factor == "klein_nystrand"
    with pytest.raises(InvalidSpecError):
        load("coherent_csi_2021", overrides={"source.form_factor": "box"})
    with pytest.raises(InvalidSpecError):
        load("coherent_csi_2021", overrides={"nope.deeper": 1})


def test_new_data_values_do_not_recompile():
    from nsijax.likelihood import chi2
    from nsijax.parameters.params import Params

    exp = load("coherent_csi_2021")

    @eqx.filter_jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def f(p, e):
        return chi2(p, e)

    p0 = Params(nuisances={"coherent_csi_2021.flux": 0.0})
    v1 = f(p0, exp)
    other = eqx.tree_at(lambda e: e.observed, exp, exp.observed + 1.0)
    v2 = f(p0, other)
    v3 = f(Params(nuisances={"coherent_csi_2021.flux": 0.3}), exp)
    assert np.isfinite([v1, v2, v3]).all() and float(v1) != float(v2)
