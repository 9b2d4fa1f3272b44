"""The CEvNS-properties study (electromagnetic properties, sin^2 theta_W, R_n): settings, and one short run."""

import json

import numpy as np
import pytest

from nsijax.errors import InvalidInputError
from nsijax.studies import cevns_properties as cp


def test_config_checks():
    cp.CEvNSPropertiesConfig().validate()
    cp.CEvNSPropertiesConfig.fast().validate()
    for bad, msg in (
        (dict(experiments=("nope",)), "unknown experiments"),
        (dict(parameters=("mu_nu_x",)), "unknown parameter"),
        (dict(parameters=("eps_u_ee",)), "needs a range"),
        (dict(parameters=("sin2_theta_w",), ranges={"sin2_theta_w": [0.3, 0.2]}), "lo < hi"),
        (dict(parameters=("sin2_theta_w",), ranges={"mu_nu_e": [0.0, 1e-9]}), "not among parameters"),
        (dict(n_points=2), "n_points"),
    ):
        with pytest.raises(InvalidInputError, match=msg):
            cp.CEvNSPropertiesConfig(**bad).validate()
    with pytest.raises(InvalidInputError, match="unknown settings"):
        cp.CEvNSPropertiesConfig.from_mapping({"points": 3})
    c = cp.CEvNSPropertiesConfig.from_mapping({"parameters": ["eps_u_ee"], "ranges": {"eps_u_ee": [-0.1, 0.1]}})
    assert c.validate().range_of("eps_u_ee") == (-0.1, 0.1)


@pytest.mark.slow
def test_run_writes_the_summary_and_resumes(tmp_path):
    """sin^2 theta_W from Dresden-II alone on 7 points: JSON with the SM chi^2 and an interval that closes inside the
    range; a second run resumes every point from the checkpoint."""
    cfg = cp.CEvNSPropertiesConfig(
        experiments=("dresden_ii_2022",),
        parameters=("sin2_theta_w",),
        ranges={"sin2_theta_w": [0.05, 0.45]},
        n_points=7,
    )
    s = cp.run(cfg, tmp_path, progress=False, plots=False)
    saved = json.loads((tmp_path / "cevns_properties.json").read_text())
    r = saved["results"]["sin2_theta_w"]
    assert saved["standard_model"]["n_bins"] == 260
    assert s["results"]["sin2_theta_w"]["chi2_min"] <= saved["standard_model"]["chi2"] + 1e-9
    ((lo, hi),) = r["interval_90cl"]
    assert 0.05 < lo < hi < 0.45
    assert (tmp_path / "profile_sin2_theta_w.npz").exists()
    again = cp.run(cfg, tmp_path, progress=False, plots=False)
    np.testing.assert_allclose(again["results"]["sin2_theta_w"]["chi2_min"], r["chi2_min"], rtol=1e-12)
