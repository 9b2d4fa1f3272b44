"""The one flat-name <-> Params mapping (nsijax.parameters.names), and the studies' parametrisations as
thin uses of it."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nsijax.errors import InvalidParamsError
from nsijax.parameters.names import COMPONENTS, FERMIONS, FLAVOURS, OSC, build_params, is_known, named_values
from nsijax.parameters.nsi import NSI
from nsijax.parameters.params import Params
from nsijax.physics.oscillation import OscParams


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
    with pytest.raises(InvalidParamsError, match="unknown parameter names"):
        named_values(Params(), ["osc_theta14"])
    with pytest.raises(InvalidParamsError, match="no Z'"):
        named_values(Params(), ["zprime_g"])


def test_oscillation_parameter_names():
    """osc_* names replace single oscillation parameters and keep the others at NuFIT (default)."""
    ref = OscParams.nufit(ordering="normal")
    p = build_params({"osc_theta12": 0.9, "osc_dm21": 7.0e-5})
    assert float(p.osc.theta12) == 0.9 and float(p.osc.dm21) == 7.0e-5
    assert float(p.osc.dm31) == float(ref.dm31) and float(p.osc.theta23) == float(ref.theta23)
    assert build_params({"eps_u_ee": 0.1}).osc is None


def _every_name() -> dict:
    """One value per name of every kind (each quantity once: eps_e on components eL/eR do not touch)."""
    rng = np.random.default_rng(1)
    theta = {}
    for i, c in enumerate(COMPONENTS):
        for f in ("u", "d"):
            theta[f"eps_{f}_{c}"] = rng.normal(0.0, 0.3)
        # the electron: vector names on even components, chiral names on odd ones
        if i % 2 == 0:
            theta[f"eps_e_{c}"] = rng.normal(0.0, 0.3)
        else:
            theta[f"eps_eL_{c}"], theta[f"eps_eR_{c}"] = rng.normal(0.0, 0.3, 2)
    for a in FLAVOURS:
        theta[f"mu_nu_{a}"] = 1e-11 * (1 + rng.random())
        theta[f"charge_radius_{a}"] = 1e-32 * rng.normal()
    for k, v in zip(OSC, (0.6, 0.15, 0.8, 3.5, 7.4e-5, 2.5e-3)):
        theta[f"osc_{k}"] = v
    theta.update({"cevns_scale": 0.93, "coherent_csi_2021.flux": 0.4, "charm.norm": -1.2,
                  "zprime_log10_g": -4.3, "zprime_log10_mass_mev": 1.7})
    return theta


def test_round_trip_names_params_names_for_every_kind_of_name():
    """names -> Params -> names gives back every value: NSI of each fermion and name kind (u, d, e vector,
    eL / eR chiral), magnetic moments, charge radii, oscillation parameters, cevns_scale, nuisance pulls
    and the Z' (log10 and linear names), to rounding."""
    theta = _every_name()
    assert all(is_known(k) for k in theta) and {k.split("_")[1] for k in theta if k.startswith("eps_")} == set(FERMIONS)
    p = build_params(theta, zprime_charges="universal")
    back = named_values(p, theta)
    assert list(back) == list(theta)
    for k, v in theta.items():
        assert float(back[k]) == pytest.approx(v, rel=1e-13, abs=1e-300), k
    linear = {"zprime_g": 10 ** -4.3, "zprime_mass_mev": 10 ** 1.7, "osc_theta12": 0.6}
    again = named_values(build_params(linear, zprime_charges="B-L"), linear)
    assert {k: float(v) for k, v in again.items()} == pytest.approx(linear, rel=1e-14)
    # Params -> names -> Params: the same pytree
    q = build_params(named_values(p, theta), zprime_charges="universal")
    for a, b in zip(jax.tree_util.tree_leaves(p), jax.tree_util.tree_leaves(q)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-13, atol=1e-300)


def test_named_values_reads_defaults_and_is_traceable():
    """Missing pulls are 0, osc_* of osc=None the NuFIT 6.0 NO values; named_values works under jit/grad."""
    vals = named_values(Params(), ["exp.pull", "osc_dm31", "eps_e_ee", "cevns_scale"])
    assert float(vals["exp.pull"]) == 0.0 and float(vals["osc_dm31"]) == float(OscParams.nufit().dm31)
    assert float(vals["eps_e_ee"]) == 0.0 and float(vals["cevns_scale"]) == 1.0
    g = jax.jit(jax.grad(lambda x: named_values(build_params({"eps_e_mutau_im": x}), ["eps_eL_mutau_im"])["eps_eL_mutau_im"]))
    assert float(g(0.3)) == 0.5  # eps_e is split equally into eL and eR


def test_lma_dark_parametrisation_is_the_one_mapping():
    """The LMA-Dark study's names (theta12_deg, dm21_1e5, eps_ee, eps_mumu = eps_tautau of one quark) give
    the same Params as built by hand (NuFIT 6.0 NO for the rest), bit for bit."""
    from nsijax.studies import lma_dark

    theta = {"theta12_deg": 56.0, "dm21_1e5": 7.3, "eps_ee": -0.9, "eps_mumu": 0.2}
    b = OscParams.nufit()
    v = jnp.zeros(9).at[0].set(-0.9).at[1].set(0.2).at[2].set(0.2)
    for quark, nsi in (("u", NSI(eps_u=v)), ("d", NSI(eps_d=v))):
        ref = Params(nsi=nsi, osc=OscParams(jnp.deg2rad(56.0), b.theta13, b.theta23, b.delta_cp, 7.3 * 1e-5, b.dm31))
        got = lma_dark.joint_params(theta, quark)
        for x, y in zip(jax.tree_util.tree_leaves(ref), jax.tree_util.tree_leaves(got)):
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_dune_parametrisation_is_the_one_mapping():
    """DUNE's |eps| and phase (as eps^e) and oscillation names give the same Params as built by hand."""
    from nsijax.studies import dune_nsi

    theta = {"eps": 0.12, "phase": 1.1, "theta13_deg": 8.5, "theta23_deg": 48.0, "delta_cp": 3.9, "dm31_1e3": 2.51}
    b = OscParams.nufit()
    osc = OscParams(b.theta12, jnp.deg2rad(8.5), jnp.deg2rad(48.0), 3.9, b.dm21, 2.51 * 1e-3)
    for coupling, (i, j) in {"emu": (3, 4), "mutau": (7, 8), "ee_minus_mumu": (0, None)}.items():
        v = jnp.zeros(9)
        v = v.at[i].set(0.12) if j is None else v.at[i].set(0.12 * jnp.cos(1.1)).at[j].set(0.12 * jnp.sin(1.1))
        ref = Params(nsi=NSI(eps_e=v), osc=osc)
        got = dune_nsi.nsi_params(theta, coupling)
        for x, y in zip(jax.tree_util.tree_leaves(ref), jax.tree_util.tree_leaves(got)):
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_weak_mixing_angle_and_neutron_radius_names():
    """sin2_theta_w and r_n_<El> map to Params.sin2_theta_w and Params.neutron_radius and back; base carries them."""
    theta = {"sin2_theta_w": 0.231, "r_n_Cs": 5.2, "r_n_I": 5.1}
    p = build_params(theta)
    assert {k: float(v) for k, v in named_values(p, theta).items()} == pytest.approx(theta)
    q = build_params({"eps_u_ee": 0.1}, base=p)
    assert float(q.sin2_theta_w) == pytest.approx(0.231) and set(q.neutron_radius) == {"Cs", "I"}
    with pytest.raises(InvalidParamsError, match="no neutron radius"):
        named_values(Params(), ["r_n_Ar"])
    with pytest.raises(InvalidParamsError, match="unknown parameter names"):
        build_params({"r_n_Cz": 5.0})
    for bad in ({"sin2_theta_w": 1.2}, {"r_n_Cs": -1.0}, {"r_n_Cs": 1.0}):
        with pytest.raises(InvalidParamsError):
            build_params(bad)


def test_electromagnetic_names():
    """millicharge_<a> and the transition radii charge_radius_<emu|etau|mutau> round-trip through Params."""
    theta = {"millicharge_e": 1e-9, "millicharge_tau": -2e-9, "charge_radius_emu": 3e-32, "charge_radius_mu": -1e-32}
    p = build_params(theta)
    np.testing.assert_allclose(p.millicharge, [1e-9, 0.0, -2e-9])
    np.testing.assert_allclose(p.transition_charge_radius, [3e-32, 0.0, 0.0])
    assert {k: float(v) for k, v in named_values(p, theta).items()} == pytest.approx(theta)
    with pytest.raises(InvalidParamsError, match="unknown parameter names"):
        build_params({"charge_radius_ee": 1e-32})
