"""Flat parameter names -> Params."""

import jax
import pytest

from nsijax.errors import InvalidParamsError
from nsijax.inference.parameters import build_params


def test_build_params_maps_every_kind_of_name():
    p = build_params(
        {"eps_u_ee": 0.1, "eps_d_emu_im": -0.2, "eps_e_mumu": 0.4, "eps_eL_tautau": 0.05, "mu_nu_mu": 1e-10,
         "charge_radius_e": 1e-32, "cevns_scale": 1.1, "coherent_csi_2021.flux": 0.5,
         "zprime_log10_g": -5.0, "zprime_mass_mev": 20.0},
        zprime_charges="B-L",
    )
    assert float(p.nsi.u[0]) == 0.1 and float(p.nsi.d[4]) == -0.2
    assert float(p.nsi.eL[1]) == pytest.approx(0.2) and float(p.nsi.eR[1]) == pytest.approx(0.2)
    assert float(p.nsi.eL[2]) == 0.05
    assert float(p.mu_nu[1]) == 1e-10 and float(p.charge_radius[0]) == 1e-32
    assert float(p.zprime.g) == pytest.approx(1e-5) and float(p.zprime.charges.quark) == pytest.approx(1 / 3)
    assert float(p.nuisances["coherent_csi_2021.flux"]) == 0.5 and float(p.cevns_scale) == 1.1


def test_build_params_is_traceable_and_checks_names():
    f = jax.jit(jax.grad(lambda x: build_params({"eps_u_ee": x}).nsi.u[0] * 3.0))
    assert float(f(0.0)) == 3.0
    with pytest.raises(InvalidParamsError, match="unknown parameter names"):
        build_params({"eps_q_ee": 0.1})
    with pytest.raises(InvalidParamsError, match="zprime_charges"):
        build_params({"zprime_g": 1e-5, "zprime_mass_mev": 10.0})


def test_oscillation_parameter_names():
    """osc_* names replace single oscillation parameters and keep the others at NuFIT (default)."""
    from nsijax.physics.oscillation import OscParams

    ref = OscParams.nufit(ordering="normal")
    p = build_params({"osc_theta12": 0.9, "osc_dm21": 7.0e-5})
    assert float(p.osc.theta12) == 0.9 and float(p.osc.dm21) == 7.0e-5
    assert float(p.osc.dm31) == float(ref.dm31) and float(p.osc.theta23) == float(ref.theta23)
    assert build_params({"eps_u_ee": 0.1}).osc is None
