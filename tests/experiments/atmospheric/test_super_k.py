"""Super-Kamiokande I-V atmospheric release (response ``sk_binned_mc``) against the release itself.

Sources: the release's ROOT file (Zenodo 10.5281/zenodo.8401262, ``bins/sk_2023_data_mc_bins.root``: data and MC
per channel at SK's NO and IO best fits and without oscillation) and its Delta chi^2 files (``chi2/``); SK's best
fits from arXiv:2311.05105 (in the spec). The release warns that its binned counts cannot reproduce SK's
per-event fit exactly; the tolerances below are what the reweighting achieves, each stated where it is tested.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nsijax.errors import InvalidSpecError
from nsijax.experiments import expected_counts, load, spec
from nsijax.experiments.atmospheric.super_k import CHANNELS, _energy_scale_matrix, quantile_cdf
from nsijax.experiments.base import total_counts
from nsijax.experiments.parsers import super_k_release
from nsijax.experiments.parsers.spec import DATA_DIR
from nsijax.likelihood import chi2
from nsijax.parameters.nsi import NSI
from nsijax.parameters.oscillation import OscParams
from nsijax.parameters.params import Params

NAME = "super_k_atm_2023"
SPEC = spec(NAME)
RELEASE = {"nue": "Nue", "nuebar": "NueBar", "numu": "Numu", "numubar": "NumuBar", "nutau": "Nutau", "nc": "NC"}


def _osc(v):
    return OscParams.from_sin2(v["sin2_theta12"], v["sin2_theta13"], v["sin2_theta23"], v["delta_cp"], v["dm21_ev2"], v["dm31_ev2"])


NO = _osc(SPEC["reference"])
IO = _osc(SPEC["validation"]["io"])


@pytest.fixture(scope="module")
def bins():
    with np.load(DATA_DIR / NAME / "bins.npz") as z:
        return {k: z[k] for k in z.files}


@pytest.fixture(scope="module")
def sk():
    return load(NAME)


def _per_sample(names, pred, ref):
    """Relative deviation of the predicted total per sample."""
    return {s: float(pred[names == s].sum() / ref[names == s].sum() - 1.0) for s in dict.fromkeys(names)}


def test_shipped_bins_equal_a_fresh_build_from_the_release_root_file(bins):
    fresh = super_k_release.build()
    assert set(fresh) == set(bins)
    for k, v in fresh.items():
        np.testing.assert_array_equal(v, bins[k], err_msg=k)
    # the release's integrity numbers (data/super_k_atm_2023 README): data 66,002.3 events, NO MC 61,545.8
    assert bins["data"].sum() == pytest.approx(66002.3, abs=0.05)
    assert bins["mc_NO_Total"][:, 0].sum() == pytest.approx(61545.8, abs=0.05)


def test_the_three_bad_cos_zenith_rows_are_patched(sk, bins):
    """Rows 510, 520, 770 (1-based) have cos z_hi = -1 < cos z_lo in the release; patched to 0, 0, 1 as in
    Newtrinos.jl, after which every zenith-binned sample's cos z bins tile its range."""
    from nsijax.experiments.atmospheric.super_k import _patch_cosz

    name = bins["sample_name"]
    hi = _patch_cosz(name, bins["cosz_lo"], bins["cosz_hi"])
    bad = np.flatnonzero(bins["cosz_hi"] < bins["cosz_lo"])
    assert list(bad + 1) == [510, 520, 770]
    assert list(hi[bad]) == [0.0, 0.0, 1.0]
    assert np.all(hi > bins["cosz_lo"])


def test_prediction_at_the_reference_point_is_the_released_no_mc(sk, bins):
    """Anchored on SK's NO best fit, the prediction there is the released NO MC, channel by channel."""
    comp = expected_counts(Params(osc=NO), sk)
    for ch in CHANNELS:
        np.testing.assert_allclose(np.asarray(comp[ch]), bins[f"mc_NO_{RELEASE[ch]}"][:, 0], rtol=1e-10, atol=1e-12)


def test_chi2_at_the_reference_point_is_baker_cousins_over_the_included_bins(sk, bins):
    """At SK's NO best fit with zero pulls, chi^2 is the Baker-Cousins chi^2 of the data against the released NO
    MC (sum of the channels) over the 880 bins left in the likelihood (NumPy, written here)."""
    n = bins["data"]
    mu = sum(bins[f"mc_NO_{RELEASE[ch]}"][:, 0] for ch in CHANNELS)
    keep = np.ones(n.size, bool)
    for lo, hi in SPEC["likelihood"]["exclude_rows"]:
        keep[lo - 1:hi] = False
    assert keep.sum() == 880
    with np.errstate(divide="ignore", invalid="ignore"):
        per_bin = 2.0 * (mu - n + np.where(n > 0, n * np.log(n / mu), 0.0))
    assert float(chi2(Params(osc=NO), sk)) == pytest.approx(per_bin[keep].sum(), rel=1e-10)


def test_reweighting_the_no_mc_to_sk_io_best_fit_reproduces_the_released_io_mc(sk, bins):
    """The release's IO MC per sample from the NO MC reweighted to SK's IO best fit: within 1 % per sample
    (measured: worst 0.81 %, sk1-5_upmu_stop; then 0.65 %, sk4-5 sub-GeV nuebar-like 0n)."""
    pred = np.asarray(total_counts(Params(osc=IO), sk))
    ref = sum(bins[f"mc_IO_{RELEASE[ch]}"][:, 0] for ch in CHANNELS)
    dev = _per_sample(bins["sample_name"], pred, ref)
    print("\nNO -> IO per sample:", {k: round(100 * v, 2) for k, v in dev.items()})
    assert max(abs(v) for v in dev.values()) < 0.01


def test_reweighting_from_the_unoscillated_mc_reproduces_e_like_and_nc_samples(bins):
    """From the no-oscillation MC (``reference.mc = "NoOsc"``) to SK's NO best fit: the e-like and NC pi0
    samples within 1 % per sample (measured <= 0.24 %). Not the mu-like ones: sub-GeV mu-like come out 2.7-3.3 %
    and up-going muons 8.4-10.3 % high, because the released energy quantiles are coarse (data README); the
    shipped model is therefore anchored on the NO MC."""
    exp = load(NAME, overrides={"reference.mc": "NoOsc"})
    ref = sum(bins[f"mc_NO_{RELEASE[ch]}"][:, 0] for ch in CHANNELS)
    pred = np.asarray(total_counts(Params(osc=NO), exp))
    dev = _per_sample(bins["sample_name"], pred, ref)
    print("\nNoOsc -> NO per sample:", {k: round(100 * v, 2) for k, v in dev.items()})
    e_like = [s for s in dev if "elike" in s or "nuelike" in s or "nuebarlike" in s or "ncpi0" in s]
    assert len(e_like) == 14
    assert max(abs(dev[s]) for s in e_like) < 0.01


def test_sk_delta_chi2_files_put_the_minimum_at_the_reference_delta_cp():
    """The release's Delta chi^2(delta_CP) (theta13 free, NO) is 0 at the spec's reference delta_CP = -1.885,
    and the IO minimum sits 5.23 above (theta13 free) / 5.69 (constrained): SK's mass-ordering preference."""
    import uproot
    folder = DATA_DIR / NAME / "raw" / "chi2"
    with uproot.open(folder / "sk_q13-free_2023.root") as f:
        x, y = f["SK2023_q13-free_dcp_chi2_no"].values()
        assert x[np.argmin(y)] == pytest.approx(SPEC["reference"]["delta_cp"], abs=1e-3)
        assert y.min() == 0.0
        assert f["SK2023_q13-free_dcp_chi2_io"].values()[1].min() == pytest.approx(5.228, abs=1e-3)
    with uproot.open(folder / "sk_q13-constrained_2023.root") as f:
        assert f["SK2023_q13-constrained_dcp_chi2_io"].values()[1].min() == pytest.approx(5.691, abs=1e-3)


def test_nc_is_flavour_blind_and_nsi_changes_only_the_oscillated_channels(sk, bins):
    """NC rates do not oscillate (unitarity; matter NSI included); an NSI eps_mutau changes the mu-like channels."""
    base = expected_counts(Params(osc=NO), sk)
    nsi = expected_counts(Params(osc=NO, nsi=NSI(eps_d={"mutau": 0.05})), sk)
    np.testing.assert_allclose(np.asarray(nsi["nc"]), bins["mc_NO_NC"][:, 0], rtol=1e-12)
    assert float(jnp.max(jnp.abs(nsi["numu"] / base["numu"] - 1))) > 0.01


def test_quantile_cdf_reproduces_its_quantiles():
    q = np.array([[0.1, 0.5, 0.7, 1.2, 3.0], [-0.9, -0.5, 0.0, 0.2, 0.9]])
    cdf = quantile_cdf(q, q[0])
    np.testing.assert_allclose(cdf[0], [0.02275, 0.15866, 0.5, 0.84134, 0.97725], atol=1e-5)
    x = np.linspace(-5, 5, 1001)
    assert np.all(np.diff(quantile_cdf(q, x), axis=-1) >= 0)


def test_energy_scale_moves_events_across_inner_edges_only():
    """A row of bins with flat density: a momentum shift moves nothing between them (inflow = outflow), and
    a single-bin row is unchanged; otherwise the row's total changes by the flux through its outer edges
    (density of the first bin in, of the last bin out: events cross the threshold)."""
    name = np.array(["a", "a", "a", "b"])
    lo, hi, cz = np.array([2.0, 2.4, 2.6, 2.0]), np.array([2.4, 2.6, 3.0, 8.0]), np.zeros(4)
    d = _energy_scale_matrix(name, lo, hi, cz)
    flat = hi - lo
    np.testing.assert_allclose(d @ flat, 0.0, atol=1e-12)
    falling = np.array([10.0, 2.0, 1.0, 5.0])
    dn = d @ falling
    assert dn[:3].sum() == pytest.approx(10.0 / 0.4 - 1.0 / 0.4, rel=1e-12)
    assert dn[1] == pytest.approx(0.5 * (10.0 / 0.4 + 2.0 / 0.2) - 0.5 * (2.0 / 0.2 + 1.0 / 0.4), rel=1e-12)
    assert dn[3] == 0.0


def test_pulls_move_what_they_name(sk, bins):
    """Sample normalisations scale their samples only; a migration conserves the two samples' sum."""
    names = np.array(sk.sample_names)
    base = np.asarray(total_counts(Params(osc=NO), sk))
    up = np.asarray(total_counts(Params(osc=NO, nuisances={f"{NAME}.pc_norm": 1.0}), sk))
    pc = np.isin(names, ["sk1-5_pc_stop", "sk1-5_pc_thru"])
    np.testing.assert_allclose(up[pc] / base[pc], 1.05, rtol=1e-12)
    np.testing.assert_allclose(up[~pc], base[~pc], rtol=1e-12)
    mig = np.asarray(total_counts(Params(osc=NO, nuisances={f"{NAME}.neutron_tag_subgev": 1.0}), sk))
    pair = np.isin(names, ["sk4-5_fc_subgev_1ring_nuebarlike_0neutron", "sk4-5_fc_subgev_1ring_nuebarlike_1neutron"])
    assert mig[pair].sum() == pytest.approx(base[pair].sum(), rel=1e-12)
    assert not np.allclose(mig[pair], base[pair])


@pytest.mark.parametrize(
    "override, match",
    [
        ({"flux.model": "honda2099"}, "flux.model"),
        ({"reference.mc": "best"}, "reference.mc"),
        ({"data.bins_file": "missing.npz"}, "cannot read"),
        ({"reference.sin2_theta23": 1.5}, "sin2_theta23"),
    ],
)
def test_bad_spec_values_are_rejected(override, match):
    with pytest.raises(InvalidSpecError, match=match):
        load(NAME, overrides=override)


def test_unknown_sample_in_a_nuisance_is_rejected():
    nuis = [dict(n) for n in SPEC["nuisances"]]
    nuis[9]["samples"] = ["sk1-5_pc_stop", "sk9_nonexistent"]
    with pytest.raises(InvalidSpecError, match="sk9_nonexistent"):
        load(NAME, overrides={"nuisances": nuis})


@pytest.mark.slow
def test_gradients_match_finite_differences(sk):
    """d chi^2 (pulls given) / d (theta23, dm31, eps^d_mutau, two pulls) against central differences (1e-5)."""

    def loss(x):
        osc = OscParams(NO.theta12, NO.theta13, x[0], NO.delta_cp, NO.dm21, x[1] * 1e-3)
        p = Params(osc=osc, nsi=NSI(eps_d={"mutau": x[2]}),
                   nuisances={f"{NAME}.energy_scale": x[3], f"{NAME}.neutron_tag_subgev": x[4]})
        return chi2(p, sk)

    x0 = jnp.array([float(NO.theta23) + 0.05, float(NO.dm31) * 1e3 + 0.03, 0.01, 0.3, -0.4])
    g = jax.jit(jax.grad(loss))(x0)
    f = jax.jit(loss)
    h = jnp.array([1e-5, 1e-5, 1e-6, 1e-5, 1e-5])
    fd = jnp.array([(f(x0.at[i].add(h[i])) - f(x0.at[i].add(-h[i]))) / (2 * h[i]) for i in range(5)])
    assert bool(jnp.all(jnp.isfinite(g)))
    np.testing.assert_allclose(np.asarray(g), np.asarray(fd), rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_fitted_theta23_and_dm32_lie_in_sk_90_percent_region(sk):
    """theta23 and dm31 fitted (NO; theta13, delta_CP at SK's NO best fit; 25 nuisances profiled) land inside
    SK's own 90 % CL contour (release ``chi2/sk_q13-free_2023.root``, sin^2 theta23 vs Delta m^2_32). Measured:
    sin^2 theta23 0.493, Delta m^2_32 2.678e-3 eV^2 (SK: 0.450 +0.059 -0.026, 2.40 +0.07 -0.09): outside SK's 68 %
    contour in Delta m^2 (its top 2.626e-3), chi^2 3.5 below ours at SK's point. The binned release's coarse
    energy quantiles (module docstring) are the prime suspect."""
    import uproot
    from matplotlib.path import Path

    from nsijax.inference import fit, profiled_chi2

    r = fit(profiled_chi2(sk, base=Params(osc=NO)), {"osc_theta23": float(NO.theta23), "osc_dm31": float(NO.dm31)},
            covariance=False, tol=1e-4)
    assert bool(r.successful)
    s23 = math.sin(float(r.params["osc_theta23"])) ** 2
    dm32 = float(r.params["osc_dm31"]) - float(NO.dm21)
    print(f"\nfit: sin2 theta23 {s23:.4f}, dm32 {dm32:.5e}, chi2 {float(r.value):.3f}")
    with uproot.open(DATA_DIR / NAME / "raw" / "chi2" / "sk_q13-free_2023.root") as f:
        x, y = f["SK2023_q13-free_m23_s23_90percent_no"].values()
    assert Path(np.stack([x, y], axis=-1)).contains_point((s23, dm32))
