"""Expected counts: SM predictions against the official numbers, components, physics limits."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nsijax import constants as c
from nsijax.errors import InvalidInputError, InvalidParamsError
from nsijax.experiments import load
from nsijax.experiments.base import expected_counts, total_counts
from nsijax.experiments.scattering.coherent import recoil_rates
from nsijax.parameters.nsi import NSI
from nsijax.parameters.params import Params
from nsijax.parameters.zprime import ZPrime

# Official SM CEvNS predictions:
#   CsI 2017: 173 +- 48 events (Akimov et al., Science 357 (2017) 1123, arXiv:1708.01294);
#   CsI 2021: 341 +- 11 (th) +- 42 (exp) (Akimov et al., PRL 129 (2022) 081801, arXiv:2110.07730);
#   LAr 2020: 128 +- 17 (arXiv:2003.10630; release cevnspdf.txt total, LArParametersAnlA.yaml).
OFFICIAL_SM = {"coherent_csi_2017": 173.0, "coherent_csi_2021": 341.0, "coherent_lar_2020": 128.0}
BACKGROUNDS = {  # the non-CEvNS components (CsI: nu-e elastic scattering too)
    "coherent_csi_2017": {"ssb", "brn", "nu_e_scattering"},
    "coherent_csi_2021": {"ssb", "brn", "nin", "nu_e_scattering"},
    "coherent_lar_2020": {"ssb", "brn", "brn_delayed"},
}


@pytest.mark.parametrize("name", sorted(OFFICIAL_SM))
def test_sm_cevns_counts_within_5_percent_of_official(name):
    n = float(expected_counts(Params(), load(name))["cevns"].sum())
    assert abs(n / OFFICIAL_SM[name] - 1.0) < 0.05, (name, n)


@pytest.mark.parametrize("name", sorted(OFFICIAL_SM))
def test_components_shapes_and_sums(name):
    exp = load(name)
    comp = expected_counts(Params(), exp)
    assert set(comp) == {"cevns", "cevns_nu_mu", "cevns_nu_e", "cevns_nu_mu_bar"} | BACKGROUNDS[name]
    for v in comp.values():
        assert v.shape == exp.bin_shape
        assert bool(jnp.all(v >= 0)) and bool(jnp.all(jnp.isfinite(v)))
    np.testing.assert_allclose(comp["cevns"], comp["cevns_nu_mu"] + comp["cevns_nu_e"] + comp["cevns_nu_mu_bar"])
    tot = total_counts(Params(), exp)
    np.testing.assert_allclose(tot, comp["cevns"] + sum(comp[b] for b in BACKGROUNDS[name]))


@pytest.mark.parametrize("name", ["coherent_csi_2017", "coherent_csi_2021"])
def test_csi_nu_e_scattering_is_negligible_in_the_sm_and_grows_with_electromagnetic_properties(name):
    """nu-e elastic scattering in CsI (E_ee = T_e, the same photo-electron response as the quenched nuclear
    recoils): < 1e-3 events in the SM; a magnetic moment adds exactly mu^2 x a fixed spectrum (no interference), and
    a millicharge of 1e-9 e gives a large excess at low PE (the photon pole 2 pi alpha^2 q^2 / (m_e T^2)).
    LAr has no nu-e component (its pulse-shape cut removes electron recoils)."""
    exp = load(name)
    sm, m1, m2, q = (
        expected_counts(p, exp)["nu_e_scattering"]
        for p in (Params(), Params(mu_nu=1e-9), Params(mu_nu=2e-9), Params(millicharge=1e-9))
    )
    assert float(sm.sum()) < 1e-3
    np.testing.assert_allclose((m2 - sm).sum() / (m1 - sm).sum(), 4.0, rtol=1e-9)
    assert float(q.sum()) > 100 * float(m1.sum())
    assert "nu_e_scattering" not in expected_counts(Params(), load("coherent_lar_2020"))


def test_background_normalisations_match_the_releases():
    # 2017: prompt neutrons 29.9 counts before efficiency (README); 2021: BRN 18.4, NIN 5.6 before
    # the time efficiency (README); LAr: BRN 497, delayed BRN 33, SS 3152 (release PDFs).
    e17 = load("coherent_csi_2017")
    assert abs(float(e17.brn_pe_1pe.sum()) - 29.87) < 0.01
    comp21 = expected_counts(Params(), load("coherent_csi_2021"))
    assert 16.0 < float(comp21["brn"].sum()) < 18.5
    assert 4.5 < float(comp21["nin"].sum()) < 5.6
    lar = expected_counts(Params(), load("coherent_lar_2020"))
    np.testing.assert_allclose([float(lar[k].sum()) for k in ("brn", "brn_delayed", "ssb")], [497, 33, 3152], rtol=1e-5)


def test_lar_timing_and_energy_shapes_follow_the_release_pdf():
    exp = load("coherent_lar_2020")
    cev = np.asarray(expected_counts(Params(), exp)["cevns"])
    off = np.asarray(load("coherent_lar_2020", overrides={"response": "lar_2020_release"}).official_cevns)
    t_mine, t_off = cev.sum((0, 1)) / cev.sum(), off.sum((0, 1)) / off.sum()
    assert np.max(np.abs(t_mine - t_off)) < 0.01  # analytic pi/mu-DAR timing vs the release
    e_mine, e_off = cev.sum((1, 2)) / cev.sum(), off.sum((1, 2)) / off.sum()
    assert np.max(np.abs(e_mine - e_off)) < 0.03


def test_flavour_fractions_and_raw_recoils():
    # delayed components dominate (higher energies); all three positive
    r = recoil_rates(Params(), load("coherent_csi_2021")).sum(1)
    assert bool(jnp.all(r > 0)) and float(r[2]) > float(r[1]) > float(r[0])


def test_zero_nsi_is_the_standard_model():
    exp = load("coherent_csi_2017")
    a = expected_counts(Params(), exp)["cevns"]
    b = expected_counts(Params(nsi=NSI(eps_u={"ee": 0.0})), exp)["cevns"]
    np.testing.assert_allclose(a, b, rtol=1e-14)


def test_flavour_diagonal_nsi_acts_on_its_flavour_only():
    exp = load("coherent_csi_2021")
    sm = expected_counts(Params(), exp)
    mm = expected_counts(Params(nsi=NSI(eps_u={"mumu": 0.1})), exp)
    np.testing.assert_allclose(mm["cevns_nu_e"], sm["cevns_nu_e"], rtol=1e-13)
    assert float(mm["cevns_nu_mu"].sum()) != pytest.approx(float(sm["cevns_nu_mu"].sum()), rel=1e-3)


def test_weak_charge_scaling_of_nsi():
    """A flavour-universal eps^u shifts Q_a by eps (2Z + N) (PHYSICS.md): the rate scales as Q^2."""
    exp = load("coherent_lar_2020")
    eps = 0.05
    sm = float(expected_counts(Params(), exp)["cevns"].sum())
    nsi = float(expected_counts(Params(nsi=NSI(eps_u={"ee": eps, "mumu": eps})), exp)["cevns"].sum())
    Z, N = 18.0, 22.0
    q_sm = c.GV_P_RC * Z + c.GV_N_RC * N
    expected = ((q_sm + eps * (2 * Z + N)) / q_sm) ** 2
    assert nsi / sm == pytest.approx(expected, rel=2e-3)  # Ar-36/38 admixture and the form factor


def test_heavy_zprime_equals_contact_nsi():
    exp = load("coherent_csi_2021")
    g, m = 1e-3, 1e5  # M = 100 GeV >> q ~ 100 MeV
    zp = ZPrime(g, m, charges="universal")
    eps = float(zp.nsi(0.0).u[0])
    a = expected_counts(Params(zprime=zp), exp)["cevns"].sum()
    b = expected_counts(Params(nsi=NSI(eps_u={"ee": eps, "mumu": eps, "tautau": eps}, eps_d={"ee": eps, "mumu": eps, "tautau": eps})), exp)["cevns"].sum()
    assert float(a) == pytest.approx(float(b), rel=1e-5)


def test_magnetic_moment_increases_the_rate():
    exp = load("coherent_csi_2017")
    sm = float(expected_counts(Params(), exp)["cevns"].sum())
    mm = float(expected_counts(Params(mu_nu=[1e-8, 1e-8, 0.0]), exp)["cevns"].sum())
    assert mm > sm


def test_nuisances_move_the_components_they_should():
    exp = load("coherent_csi_2021")
    sm = expected_counts(Params(), exp)
    up = expected_counts(Params(nuisances={"coherent_csi_2021.flux": 1.0, "coherent_csi_2021.brn": 1.0}), exp)
    assert float(up["cevns"].sum()) == pytest.approx(1.1 * float(sm["cevns"].sum()), rel=1e-12)
    assert float(up["brn"].sum()) == pytest.approx(1.25 * float(sm["brn"].sum()), rel=1e-12)
    np.testing.assert_allclose(up["ssb"], sm["ssb"])
    q = expected_counts(Params(nuisances={"coherent_csi_2021.quenching_0": 1.0}), exp)
    assert float(q["cevns"].sum()) != pytest.approx(float(sm["cevns"].sum()), rel=1e-3)


def test_normalisation_floors_at_zero_not_negative():
    exp = load("coherent_lar_2020")
    comp = expected_counts(Params(nuisances={"coherent_lar_2020.brn_delayed": -3.0}), exp)
    assert float(comp["brn_delayed"].sum()) == 0.0


def test_gaussian_experiments_predict_sm_couplings():
    # SM effective couplings (PDG, from memory): g_L^2 = 0.3034, g_R^2 = 0.0301; R_e = g_L^2 + g_R^2
    pred = expected_counts(Params(), load("nutev"))["prediction"]
    np.testing.assert_allclose(pred, [0.3034, 0.0301], atol=2e-4)
    re = expected_counts(Params(), load("charm"))["prediction"]
    np.testing.assert_allclose(re, [0.3034 + 0.0301], atol=3e-4)


def test_expected_counts_rejects_bad_arguments():
    with pytest.raises(InvalidInputError):
        expected_counts(Params(), "coherent_csi_2017")
    with pytest.raises(InvalidInputError):
        expected_counts({"nsi": None}, load("coherent_csi_2017"))
    with pytest.raises(InvalidParamsError):
        Params(nuisances={"coherent_csi_2017.flux": float("nan")})
    with pytest.raises(InvalidParamsError):
        Params(cevns_scale=-1.0)
    with pytest.raises(InvalidParamsError):
        Params(mu_nu=[1.0, 2.0])


def test_vmap_over_nsi_equals_loop():
    exp = load("coherent_csi_2017")
    eps = jnp.array([-0.1, 0.0, 0.2])

    def n(e):
        return expected_counts(Params(nsi=NSI.from_components(u=jnp.zeros(9).at[0].set(e))), exp)["cevns"].sum()

    batched = jax.vmap(n)(eps)
    looped = jnp.stack([n(e) for e in eps])
    np.testing.assert_allclose(batched, looped, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(OFFICIAL_SM))
def test_quadrature_is_converged(name):
    fine = {"binning.recoil_panels": 64, "binning.recoil_order": 6, "binning.energy_nodes": 32}
    a = float(expected_counts(Params(), load(name))["cevns"].sum())
    b = float(expected_counts(Params(), load(name, overrides=fine))["cevns"].sum())
    assert abs(a / b - 1.0) < 1e-3
