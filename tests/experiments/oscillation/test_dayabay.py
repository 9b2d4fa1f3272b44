"""Daya Bay 3158 days (response ``reactor_near_far``): loading, the collaboration's fit and Delta chi^2 map,
NSI insensitivity, gradients, bad input.

Source of every published number: Daya Bay, PRL 130 (2023) 161802 (arXiv:2211.14988): sin^2 2theta13 =
0.0851 +- 0.0024, Delta m^2_32 = (2.466 +- 0.060) x 1e-3 eV^2 (NO), and its supplemental Delta chi^2 map
(shipped as raw/DayaBay_DeltaChiSq_NO_3158days.txt.gz). Measured here (other parameters at the release's
reference point): best fit sin^2 2theta13 = 0.08507, Delta m^2_32 = 2.4611e-3 eV^2, chi^2 58.5 for 78 bins;
Delta chi^2 = 1 intervals [0.08260, 0.08755] (map [0.08268, 0.08746]) and [2.408, 2.514]e-3 eV^2 (map
[2.406, 2.526]e-3); Delta chi^2 = 9: [2.303, 2.620]e-3 (map [2.283, 2.645]e-3): our Delta m^2 intervals are
0.88 of the map's width.
"""

import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize as so

from nsijax.errors import InvalidSpecError
from nsijax.experiments import from_files, load
from nsijax.experiments.oscillation.near_far import reference_osc
from nsijax.experiments.parsers.spec import DATA_DIR
from nsijax.likelihood import chi2
from nsijax.parameters.nsi import NSI
from nsijax.parameters.params import Params
from tests.helpers import assert_grad_matches_fd

NAME = "dayabay_3158d"
REF = dict(sin2_theta12=0.307, sin2_2theta13=0.0851, sin2_theta23=0.57, delta_cp_deg=0.0, dm21=7.53e-5, dm32=2.466e-3)


def _params(s2t13, dm32, **kw):
    return Params(osc=reference_osc(dict(REF, sin2_2theta13=s2t13, dm32=dm32)), **kw)


@pytest.fixture(scope="module")
def db():
    return load(NAME)


@pytest.fixture(scope="module")
def fit(db):
    """chi^2(sin^2 2theta13 [%], Delta m^2_32 [1e-3 eV^2]) with value and gradient, and its minimum."""
    vg = jax.jit(jax.value_and_grad(lambda x: chi2(_params(x[0] * 0.01, x[1] * 1e-3), [db])))
    res = so.minimize(lambda x: tuple(np.asarray(a) for a in vg(jnp.asarray(x))), [8.5, 2.47], jac=True, method="BFGS")
    assert res.success
    return vg, res


def test_loads_with_the_released_totals(db):
    assert db.response == "reactor_near_far" and db.kind == "oscillation" and db.bin_shape == (3, 26)
    assert db.halls == ("EH1", "EH2", "EH3") and db.nuisance_names == ()
    # folder README: observed candidates (backgrounds included) and backgrounds summed over the periods
    np.testing.assert_allclose(db.stat_variance.sum(1), [2236810.0, 2544894.0, 764414.0], rtol=1e-5)
    np.testing.assert_allclose(db.prediction_ref[2].sum(), 38940 + 383336 + 330983, rtol=1e-4)
    assert float(db.observed.sum() + 3682 + 22561 + 9422 + 1553 + 18099 + 14474 + 1687 + 5683 + 4091) == pytest.approx(
        5546118, rel=1e-5
    )


def test_reference_point_gives_back_the_released_prediction(db):
    np.testing.assert_allclose(db.physics(_params(REF["sin2_2theta13"], REF["dm32"])), db.prediction_ref, rtol=1e-12)


def test_best_fit_matches_the_paper(fit):
    vg, res = fit
    s2, dm = res.x[0] * 0.01, res.x[1] * 1e-3
    assert abs(s2 - 0.0851) < 0.2 * 0.0024, s2  # measured 0.08507
    assert abs(dm - 2.466e-3) < 0.25 * 0.060e-3, dm  # measured 2.4611e-3
    assert 40.0 < res.fun < 78.0  # measured 58.5 for 78 bins (Gaussian, every systematic marginalised)


def test_profiles_follow_the_released_delta_chi2_map(db, fit):
    vg, res = fit
    m = np.asarray(db.delta_chi2_map)
    s2g, dmg = np.unique(m[:, 0]), np.unique(m[:, 1])
    g = m[:, 2].reshape(s2g.size, dmg.size)
    assert np.allclose(m[:, 0].reshape(g.shape)[:, 0], s2g)  # rows: sin^2 2theta13 outer, Delta m^2 inner

    def profile(k, v):
        def f(y):
            x = [v, y] if k == 0 else [y, v]
            return float(vg(jnp.asarray(x))[0])

        other = res.x[1 - k]
        return so.minimize_scalar(f, bracket=(0.98 * other, 1.02 * other)).fun - res.fun

    # sin^2 2theta13 at the map's 2, 3 and 4 sigma points on both sides: within 10 % of the map's Delta chi^2
    t = g.min(1)
    for target in (4.0, 9.0):
        for side in (s2g < 0.085, s2g > 0.085):
            i = np.flatnonzero(side)[np.argmin(np.abs(t[side] - target))]
            ours = profile(0, s2g[i] * 100)
            assert ours == pytest.approx(t[i], rel=0.10), (s2g[i], ours, t[i])
    # Delta m^2_32: the 1 and 3 sigma intervals; ours are narrower (half-widths 0.85-0.9 of the map's)
    t = g.min(0)
    for level in (1.0, 9.0):
        lo_map = np.interp(level, t[dmg < 2.466e-3][::-1], dmg[dmg < 2.466e-3][::-1])
        hi_map = np.interp(level, t[dmg > 2.466e-3], dmg[dmg > 2.466e-3])
        f = lambda d: profile(1, d * 1e3) - level  # noqa: E731
        lo = so.brentq(f, 2.2e-3, res.x[1] * 1e-3)
        hi = so.brentq(f, res.x[1] * 1e-3, 2.75e-3)
        assert abs(0.5 * (lo + hi) - 0.5 * (lo_map + hi_map)) < 0.2 * 0.060e-3, (lo, hi, lo_map, hi_map)
        assert 0.75 < (hi - lo) / (hi_map - lo_map) < 1.05, (lo, hi, lo_map, hi_map)


def test_insensitive_to_nc_nsi(db, fit):
    """Matter effects at 0.5-2 km are tiny: eps^u_ee = 0.5 and eps^d_mutau = 0.3 move chi^2 by < 0.01."""
    vg, res = fit
    s2, dm = res.x[0] * 0.01, res.x[1] * 1e-3
    base = float(chi2(_params(s2, dm), [db]))
    nsi = NSI(eps_u={"ee": 0.5}, eps_d={"mutau": 0.3})
    assert abs(float(chi2(_params(s2, dm, nsi=nsi), [db])) - base) < 0.01


def test_gradients_match_finite_differences(db):
    f_s2 = lambda s: chi2(_params(s, 2.45e-3), [db])  # noqa: E731
    assert_grad_matches_fd(f_s2, 0.08, h=1e-6, rtol=1e-5)
    f_dm = lambda d: chi2(_params(0.08, d), [db])  # noqa: E731
    assert_grad_matches_fd(f_dm, 2.45e-3, h=1e-8, rtol=1e-5)
    g = jax.grad(lambda e: chi2(_params(0.085, 2.46e-3, nsi=NSI(eps_u={"ee": e})), [db]))(0.1)
    assert np.isfinite(float(g))


def test_joins_the_joint_chi2_with_kamland(db):
    k = load("kamland_2011")
    p = _params(0.085, 2.46e-3)
    assert float(chi2(p, [db, k])) == pytest.approx(float(chi2(p, [db])) + float(chi2(p, [k])), rel=1e-9)


def test_covariance_is_positive_definite_and_toys_have_its_spread(db):
    mu = db.prediction_ref
    v = np.asarray(db.covariance(mu))
    assert np.all(np.linalg.eigvalsh(v) > 0)
    toys = jax.vmap(lambda k: db.resample(k, mu))(jax.random.split(jax.random.PRNGKey(0), 400))
    z = (np.asarray(toys[:, 2, 10]) - float(mu[2, 10])) / np.sqrt(v[2 * 26 + 10, 2 * 26 + 10])
    assert abs(z.std() - 1.0) < 0.1


def _copy(tmp_path):
    dst = tmp_path / NAME
    shutil.copytree(DATA_DIR / NAME, dst)
    return dst


def test_bad_release_files_name_the_file(tmp_path):
    dst = _copy(tmp_path)
    f = dst / "raw" / "DayaBay_BackgroundSpectrum_EH2_3158days.txt"
    lines = f.read_text().splitlines()
    f.write_text("\n".join(lines[:-3]) + "\n")  # a period block loses bins
    with pytest.raises(InvalidSpecError, match="BackgroundSpectrum_EH2_3158days.txt: 75 data rows"):
        from_files(dst / "spec.toml")
    dst = _copy(tmp_path / "b")
    f = dst / "raw" / "DayaBay_IBDPromptSpectrum_EH3_3158days.txt"
    f.write_text(f.read_text().replace("4.30    4.55", "4.30    4.60"))
    with pytest.raises(InvalidSpecError, match="IBDPromptSpectrum_EH3_3158days.txt: bin edges"):
        from_files(dst / "spec.toml")


def test_bad_spec_is_named(tmp_path):
    dst = _copy(tmp_path)
    spec = dst / "spec.toml"
    spec.write_text(spec.read_text().replace('periods = ["8AD", "7AD"]', 'periods = ["8AD", "9AD"]', 1))
    with pytest.raises(InvalidSpecError, match=r"detectors\[3\].periods"):
        from_files(spec)
    dst = _copy(tmp_path / "b")
    spec = dst / "spec.toml"
    spec.write_text(spec.read_text().replace("baselines_m = [362.38, 371.76, 903.47, 817.16, 1353.62, 1265.32]", "baselines_m = [362.38]"))
    with pytest.raises(InvalidSpecError, match=r"detectors\[0\].baselines_m must give 6"):
        from_files(spec)
