"""Checkpoints of `nsijax scan` and of the studies are keyed by their settings and the experiments'
data: scanning other experiments into the same output folder never returns the previous numbers."""

import json

import numpy as np

from nsijax.interface import cli


def _scan(out, experiment):
    assert cli.main(["scan", "--param", "eps_u_ee=-1:1:3", "--experiments", experiment, "--output", str(out),
                     "--quiet"]) == 0
    return json.loads((out / "scan.json").read_text())


def test_cli_scan_of_other_experiments_into_one_folder(tmp_path):
    """`nsijax scan` always writes scan_checkpoint.npz in its output folder: a scan of other experiments
    there recomputes (same numbers as in a fresh folder), the same scan again resumes every point."""
    charm = _scan(tmp_path / "out", "charm")
    assert charm["metadata"]["resumed_points"] == 0
    nutev = _scan(tmp_path / "out", "nutev")
    assert nutev["metadata"]["resumed_points"] == 0
    fresh = _scan(tmp_path / "fresh", "nutev")
    with np.load(tmp_path / "out" / "scan.npz") as out_npz, np.load(tmp_path / "fresh" / "scan.npz") as fresh_npz:
        np.testing.assert_array_equal(out_npz["chi2"], fresh_npz["chi2"])
    assert nutev["chi2_min"] == fresh["chi2_min"] != charm["chi2_min"]
    again = _scan(tmp_path / "out", "nutev")
    assert again["metadata"]["resumed_points"] == 3 and again["chi2_min"] == nutev["chi2_min"]


def test_study_of_other_experiments_into_one_folder(tmp_path):
    """`nsijax fit --experiments X` into an existing output folder: the COHERENT NSI study's profiles of
    other experiments are recomputed (equal to a fresh run), its settings key the checkpoints too."""
    from nsijax.studies import coherent_nsi

    cfg = coherent_nsi.StudyConfig(experiments=("charm",), n_1d=3, n_2d=2, n_mass=2, n_g=2, zprime_presets=("B-L",))
    first = coherent_nsi.run(cfg, tmp_path / "out", progress=False, plots=False)
    other = coherent_nsi.StudyConfig.from_mapping({"experiments": ["nutev"]}, cfg)
    second = coherent_nsi.run(other, tmp_path / "out", progress=False, plots=False)
    fresh = coherent_nsi.run(other, tmp_path / "fresh", progress=False, plots=False)
    for name in ("eps_u_ee", "eps_d_ee"):
        assert second["profiles_1d"][name] == fresh["profiles_1d"][name] != first["profiles_1d"][name]
        assert json.loads((tmp_path / "out" / f"profile_{name}.json").read_text())["metadata"]["resumed_points"] == 0
    assert second["profile_2d"] == fresh["profile_2d"]
