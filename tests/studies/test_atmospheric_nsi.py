"""The atmospheric NSI study's settings and parametrisation (the end-to-end run is in tests/interface/test_cli.py)."""

import math

import numpy as np
import pytest

from nsijax.errors import InvalidInputError
from nsijax.parameters.names import build_params
from nsijax.studies import atmospheric_nsi as atm


def test_flat_names_map_the_couplings():
    """|eps| e^{i phi} of emu goes to the real and imaginary components of eps^f; diagonal and mutau are real."""
    th = {"eps": 0.2, "phase": math.pi / 3, "theta23_deg": 45.0, "dm31_1e3": 2.5}
    names = atm.flat_names(th, "emu", "d")
    np.testing.assert_allclose([float(names["eps_d_emu_re"]), float(names["eps_d_emu_im"])],
                               [0.1, 0.2 * math.sin(math.pi / 3)], rtol=1e-12)
    np.testing.assert_allclose(float(names["osc_theta23"]), math.pi / 4, rtol=1e-12)
    p = build_params(atm.flat_names({**th, "eps": -0.03}, "tautau_minus_mumu", "u"))
    np.testing.assert_allclose(np.asarray(p.nsi.eps_u)[2, 2].real, -0.03)
    p = build_params(atm.flat_names(th, "mutau", "e"))
    np.testing.assert_allclose(np.asarray(p.nsi.eps_e)[1, 2], 0.2)


def test_config_checks():
    atm.AtmosphericNSIConfig().validate()
    atm.AtmosphericNSIConfig.fast().validate()
    for bad, msg in ((dict(experiments=("dune_tdr",)), "not an atmospheric"), (dict(couplings=("ee",)), "unknown couplings"),
                     (dict(fermion="s"), "fermion"), (dict(n_points=2), "n_points"),
                     (dict(theta23_starts_deg=(60.0,)), "theta23_starts_deg"), (dict(experiments=("nope",)), "unknown experiment"),
                     (dict(true_grid=(2, 50)), "true_grid")):
        with pytest.raises(InvalidInputError, match=msg):
            atm.AtmosphericNSIConfig(**bad).validate()
    with pytest.raises(InvalidInputError, match="unknown settings"):
        atm.AtmosphericNSIConfig.from_mapping({"points": 3})


def test_true_grid_setting_reaches_every_experiment():
    """``true_grid`` replaces each experiment's propagation grid; Super-K's block average is reset to cell by cell
    so that any grid divides."""
    cfg = atm.AtmosphericNSIConfig(experiments=("deepcore_2019_sample_b", "super_k_atm_2023"), true_grid=(50, 30))
    cfg.validate()
    assert atm._grid_overrides(cfg, "deepcore_2019_sample_b") == {"true_grid.n_energy": 50, "true_grid.n_coszen": 30}
    assert atm._grid_overrides(cfg, "super_k_atm_2023") == {"true_grid.n_energy": 50, "true_grid.n_coszen": 30,
                                                             "true_grid.average": [1, 1]}
    assert atm._grid_overrides(atm.AtmosphericNSIConfig(), "super_k_atm_2023") is None
