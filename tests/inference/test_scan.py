"""Profile scans: analytic profiles, intervals, 2D grids, checkpoint/resume, sharding, saving, no recompilation."""

import json
import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nsijax.inference import ScanResult, profile_scan
from tests.inference.test_fit import COV, MEAN, gauss_chi2


def test_1d_profile_is_analytic():
    """Profiling y in a correlated Gaussian gives Delta chi^2(x) = (x - mu_x)^2 / C_xx, so the 90% CL
    interval is mu_x +- sqrt(2.706 C_xx) (Wilks, exact here)."""
    xs = np.linspace(-1.0, 3.0, 41)
    res = profile_scan(gauss_chi2, {"y": 0.0}, {"x": xs}, chunk_size=8, progress=False)
    np.testing.assert_allclose(res.delta_chi2, (xs - MEAN[0]) ** 2 / COV[0, 0], atol=1e-8)
    np.testing.assert_allclose(res.profiled["y"], MEAN[1] + COV[1, 0] / COV[0, 0] * (xs - MEAN[0]), atol=1e-6)
    (lo, hi), = res.interval(2.706)
    half = np.sqrt(2.706 * COV[0, 0])
    assert lo == pytest.approx(MEAN[0] - half, abs=2e-3)  # linear interpolation on a 0.1 grid
    assert hi == pytest.approx(MEAN[0] + half, abs=2e-3)
    assert res.best_fit["x"] == pytest.approx(1.0, abs=1e-6)
    assert set(np.unique(res.results)) == {0}


def test_2d_grid_without_nuisances():
    xs, ys = np.linspace(0, 2, 5), np.linspace(-3, -1, 3)
    res = profile_scan(gauss_chi2, {}, {"x": xs, "y": ys}, chunk_size=4, progress=False)
    assert res.chi2.shape == (5, 3)
    ref = [[float(gauss_chi2({"x": x, "y": y})) for y in ys] for x in xs]
    np.testing.assert_allclose(res.chi2, ref, rtol=1e-12)
    assert res.chi2_min == pytest.approx(0.0, abs=1e-10)


def _offset_chi2(offset):
    """gauss_chi2 + offset: one factory, so every loss it makes has the same name (like
    ``profiled_chi2(experiments)`` for different experiments); profile (x - mu_x)^2 / C_xx + offset."""

    def loss(th):
        return gauss_chi2(th) + offset

    return loss


def shifted_chi2(th):
    """gauss_chi2 with the mean of x moved to 2: profile (x - 2)^2 / C_xx."""
    return gauss_chi2({"x": th["x"] - 1.0, "y": th["y"]})


XS = np.linspace(-1.0, 3.0, 12)


def _profile(xs, mu=MEAN[0], offset=0.0):
    return (xs - mu) ** 2 / COV[0, 0] + offset


def test_checkpoint_of_another_loss_is_not_reused(tmp_path):
    """Two different losses scanned into one checkpoint path: the second scan returns its own chi^2, not
    the first one's (the checkpoint is keyed by the loss's name, so no warning is needed)."""
    ck = tmp_path / "scan.npz"
    first = profile_scan(gauss_chi2, {"y": 0.0}, {"x": XS}, chunk_size=4, checkpoint=ck, progress=False)
    np.testing.assert_allclose(first.chi2, _profile(XS), atol=1e-8)
    second = profile_scan(shifted_chi2, {"y": 0.0}, {"x": XS}, chunk_size=4, checkpoint=ck, progress=False)
    np.testing.assert_allclose(second.chi2, _profile(XS, mu=2.0), atol=1e-8)
    assert second.metadata["resumed_points"] == 0


def test_checkpoint_of_another_closure_is_not_reused(tmp_path):
    """Two losses of one factory (same name, nothing else to tell them apart): the canary re-evaluation
    of a finished point sees the change, warns and recomputes every point."""
    from nsijax.errors import StaleCheckpointWarning

    ck = tmp_path / "scan.npz"
    profile_scan(_offset_chi2(0.0), {"y": 0.0}, {"x": XS}, chunk_size=4, checkpoint=ck, progress=False)
    with pytest.warns(StaleCheckpointWarning, match="recomputing"):
        second = profile_scan(_offset_chi2(3.0), {"y": 0.0}, {"x": XS}, chunk_size=4, checkpoint=ck, progress=False)
    np.testing.assert_allclose(second.chi2, _profile(XS, offset=3.0), atol=1e-8)


def test_checkpoint_resume(tmp_path):
    """Finished points in the checkpoint are kept, not recomputed: a sentinel in a finished chunk other
    than the first (the canary, which is re-evaluated) survives the resume, without a warning."""
    ck = tmp_path / "scan.npz"
    full = profile_scan(gauss_chi2, {"y": 0.0}, {"x": XS}, chunk_size=4, checkpoint=ck, progress=False)
    assert full.metadata["resumed_points"] == 0
    with np.load(ck) as f:
        saved = dict(f)
    assert saved["done"].all()
    saved["values"][4:8] = 1234.5  # second chunk "finished" with a sentinel
    saved["done"][8:] = False  # the rest "interrupted"
    saved["values"][8:] = np.nan
    np.savez(ck, **saved)
    resumed = profile_scan(gauss_chi2, {"y": 0.0}, {"x": XS}, chunk_size=4, checkpoint=ck, progress=False)
    assert np.all(resumed.chi2[4:8] == 1234.5)
    assert resumed.metadata["resumed_points"] == 8
    np.testing.assert_allclose(resumed.chi2[:4], full.chi2[:4], atol=1e-9)
    np.testing.assert_allclose(resumed.chi2[8:], full.chi2[8:], atol=1e-9)
    # a checkpoint of other inputs is ignored
    other = profile_scan(gauss_chi2, {"y": 0.0}, {"x": XS + 0.01}, chunk_size=4, checkpoint=ck, progress=False)
    assert np.all(np.isfinite(other.chi2)) and not np.any(other.chi2 == 1234.5)


def test_stale_checkpoint_with_same_key_warns_and_recomputes(tmp_path):
    """A checkpoint written by loss A with the same fingerprint inputs (same name, grid, settings and
    checkpoint_key) but resumed with loss B: the canary warns and every point is recomputed with B,
    including the ones A finished; the rewritten checkpoint then resumes quietly."""
    from nsijax.errors import StaleCheckpointWarning

    ck = tmp_path / "scan.npz"
    a, b = _offset_chi2(0.0), _offset_chi2(1e-3)  # differ by far less than any physics would notice
    profile_scan(a, {"y": 0.0}, {"x": XS}, chunk_size=4, checkpoint=ck, progress=False, checkpoint_key="same")
    with np.load(ck) as f:
        saved = dict(f)
    saved["done"][8:] = False  # A was interrupted after 8 points
    saved["values"][8:] = np.nan
    np.savez(ck, **saved)
    with pytest.warns(StaleCheckpointWarning, match="re-evaluat"):
        res = profile_scan(b, {"y": 0.0}, {"x": XS}, chunk_size=4, checkpoint=ck, progress=False, checkpoint_key="same")
    np.testing.assert_allclose(res.chi2, _profile(XS, offset=1e-3), atol=1e-9)
    assert res.metadata["resumed_points"] == 0
    again = profile_scan(b, {"y": 0.0}, {"x": XS}, chunk_size=4, checkpoint=ck, progress=False, checkpoint_key="same")
    np.testing.assert_array_equal(again.chi2, res.chi2)
    assert again.metadata["resumed_points"] == len(XS)


_BASE = {"init": {"y": 0.0}, "fixed": {"z": 1.0}}


@pytest.mark.parametrize(
    "change",
    [
        {"init": {"y": 0.5}},
        {"fixed": {"z": 2.0}},
        {"bounds": {"y": (-10.0, 10.0)}},
        {"tol": 1e-9},
        {"max_steps": 150},
        {"warm_start": False},
        {"chunk_size": 6},
        {"checkpoint_key": "another data set"},
    ],
    ids=lambda c: next(iter(c)),
)
def test_fingerprint_covers_every_input(tmp_path, change):
    """Every input that defines the values (start values, fixed values, bounds, fit settings, warm
    starts and the chunks they follow, the caller's key) changes the fingerprint: a sentinel in a
    finished, non-canary chunk of the checkpoint is never returned."""
    ck = tmp_path / "scan.npz"
    profile_scan(gauss_chi2, {"y": 0.0}, {"x": XS}, fixed={"z": 1.0}, chunk_size=4, checkpoint=ck, progress=False)
    with np.load(ck) as f:
        saved = dict(f)
    saved["values"][4:8] = 1234.5
    np.savez(ck, **saved)
    kw = {"fixed": {"z": 1.0}, "chunk_size": 4, **change}
    init = kw.pop("init", {"y": 0.0})
    res = profile_scan(gauss_chi2, init, {"x": XS}, checkpoint=ck, progress=False, **kw)
    assert not np.any(res.chi2 == 1234.5)
    assert res.metadata["resumed_points"] == 0
    np.testing.assert_allclose(res.chi2, _profile(XS), atol=1e-7)


def test_stable_hash_keys_by_content():
    """stable_hash: fixed digests (no process-dependent ids or salted hashes), lists == tuples,
    1 == 1.0, dict order irrelevant; any change of an array, a dataclass field or an Experiment's data or
    static fields changes it; a function is a clear error."""
    import dataclasses

    import equinox as eqx

    from nsijax import experiments
    from nsijax.errors import InvalidInputError
    from nsijax.inference import stable_hash

    assert stable_hash({"a": 1, "b": [1, 2.5]}) == "d75e14fe24baed03c25db0bbc27c013c"  # the same in every session
    assert stable_hash({"b": (1.0, 2.5), "a": 1.0}) == stable_hash({"a": 1, "b": [1, 2.5]})
    assert stable_hash({"a": 1}) != stable_hash({"a": 1.5}) != stable_hash({"a": "1.5"}) != stable_hash({"a": None})
    x = np.linspace(0.0, 1.0, 5)
    assert stable_hash(x) == stable_hash(x.copy()) != stable_hash(x.astype(np.float32))
    assert stable_hash(x) != stable_hash(np.where(np.arange(5) == 3, x + 1e-15, x))

    @dataclasses.dataclass
    class Config:
        n: int = 3
        names: tuple = ("charm",)

    assert stable_hash(Config()) == stable_hash(Config(3, ["charm"])) != stable_hash(Config(4))

    charm = experiments.load("charm")
    assert stable_hash(charm) == stable_hash(experiments.load("charm")) != stable_hash(experiments.load("nutev"))
    assert stable_hash(charm) != stable_hash(eqx.tree_at(lambda e: e.observed, charm, charm.observed * (1 + 1e-12)))
    assert stable_hash(charm) != stable_hash(dataclasses.replace(charm, name="charm2"))
    assert stable_hash("a", "b") != stable_hash("ab") != stable_hash(["a", "b"], None)
    with pytest.raises(InvalidInputError, match=r"argument\[0\]\['loss'\] of type function"):
        stable_hash({"loss": gauss_chi2})


def test_save_and_load(tmp_path):
    res = profile_scan(gauss_chi2, {"y": 0.0}, {"x": np.linspace(0, 2, 5)}, progress=False)
    jp, npz = res.save(tmp_path / "out" / "scan", inputs={"what": "test"})
    assert json.loads(jp.read_text())["inputs"] == {"what": "test"}
    back = ScanResult.load(jp)
    np.testing.assert_array_equal(back.delta_chi2, res.delta_chi2)
    with np.load(npz) as f:
        assert "axis_x" in f


def test_sharded_over_four_cpu_devices():
    """Scans shard their chunks over every device (XLA_FLAGS forces 4 host devices)."""
    code = textwrap.dedent(
        """
        import numpy as np, jax
        import nsijax
        from nsijax.inference import profile_scan
        from tests.inference.test_fit import gauss_chi2, MEAN, COV
        assert len(jax.devices()) == 4
        xs = np.linspace(-1, 3, 21)
        r = profile_scan(gauss_chi2, {"y": 0.0}, {"x": xs}, chunk_size=6, progress=False)
        assert r.metadata["devices"] == 4 and r.metadata["chunk_size"] == 8
        np.testing.assert_allclose(r.delta_chi2, (xs - MEAN[0]) ** 2 / COV[0, 0], atol=1e-8)
        print("ok")
        """
    )
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu"}
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root, timeout=600)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr[-3000:]


def test_exclusion_limit_closed_form():
    """chi^2(g, M) = SM + (10^lg / 10^(lm - 5))^2 / 0.1 -> Delta chi^2 = 2.706 at g = M 1e-5 sqrt(0.2706):
    the refined limit lands on the closed form to 1e-6 in log10 g."""
    from nsijax.inference import exclusion_limit

    def chi2(lm, lg):
        return 10.0 + (10.0**lg / 10.0 ** (lm - 5.0)) ** 2 / 0.1

    lm = np.linspace(0, 3, 7)
    out = exclusion_limit(chi2, lm, np.linspace(-7, 0, 15), chi2_sm=10.0, n_refine=25)
    expected = lm - 5.0 + 0.5 * np.log10(0.2706)
    np.testing.assert_allclose(out["log10_g"], expected, atol=1e-6)
    none = exclusion_limit(chi2, lm, np.linspace(-12, -10, 5), chi2_sm=10.0)
    assert np.all(np.isnan(none["log10_g"]))


def test_lowest_keeps_the_best_start_pointwise():
    """Two wells in y whose depths trade places at x = 0: min((y - 1)^2 + x, (y + 1)^2 - x) + x^2. A start
    in either well stays there (profiles x^2 + x and x^2 - x); the pointwise minimum is the true profile
    x^2 - |x| with y = +1 for x < 0 and y = -1 for x > 0."""
    import jax.numpy as jnp

    from nsijax.inference import lowest

    def loss(t):
        return jnp.minimum((t["y"] - 1.0) ** 2 + t["x"], (t["y"] + 1.0) ** 2 - t["x"]) + t["x"] ** 2

    xs = np.array([-1.0, -0.5, 0.5, 1.0])
    runs = [profile_scan(loss, {"y": y0}, {"x": xs}, chunk_size=4, progress=False, refine_best=False, warm_start=False)
            for y0 in (1.0, -1.0)]
    np.testing.assert_allclose(runs[0].chi2, xs**2 + xs, atol=1e-8)
    np.testing.assert_allclose(runs[1].chi2, xs**2 - xs, atol=1e-8)
    best = lowest(runs)
    np.testing.assert_allclose(best.chi2, xs**2 - np.abs(xs), atol=1e-8)
    np.testing.assert_allclose(best.profiled["y"], np.sign(-xs), atol=1e-6)
    assert best.chi2_min == pytest.approx(-0.25) and best.best_fit["x"] in (-0.5, 0.5)
    np.testing.assert_allclose(best.delta_chi2, best.chi2 + 0.25, atol=1e-8)
    assert best.metadata["starts"] == 2
    other = profile_scan(loss, {"y": 1.0}, {"x": xs[:3]}, chunk_size=3, progress=False, refine_best=False)
    with pytest.raises(ValueError, match="same grid"):
        lowest([runs[0], other])


# --- one way to avoid recompiling: the loss is an argument of the jitted chunk ------------------------


def test_scan_does_not_recompile_for_new_data_of_equal_shapes():
    """profile_scan compiles its chunk with equinox.filter_jit, the loss an argument: a second scan of a
    loss of the same structure (other data, other start) reuses the compiled chunk and the refining fit
    (the loss is traced nowhere again), and gives that loss's own profile."""
    from tests.inference.test_fit import TRACES, QuadLoss

    xs = np.linspace(-1.0, 3.0, 12)
    first = profile_scan(QuadLoss(np.array([1.0, -2.0])), {"y": 0.0}, {"x": xs}, chunk_size=4, progress=False)
    n = TRACES[0]
    second = profile_scan(QuadLoss(np.array([2.0, 1.0])), {"y": 0.5}, {"x": xs}, chunk_size=4, progress=False)
    assert TRACES[0] == n
    np.testing.assert_allclose(first.delta_chi2, _profile(xs), atol=1e-8)
    np.testing.assert_allclose(second.delta_chi2, _profile(xs, mu=2.0), atol=1e-8)
    assert second.best_fit["x"] == pytest.approx(2.0, abs=1e-6)


def test_scan_of_an_experiment_does_not_recompile_for_other_data():
    """profiled_chi2 is a pytree holding its experiments: a scan of the same experiment with other observed
    values (equal shapes) is not traced again, and its chi^2 is that of the new data."""
    import equinox as eqx

    from nsijax import experiments
    from nsijax.inference import AbstractLoss, profiled_chi2

    count = [0]

    class Counting(AbstractLoss):
        inner: AbstractLoss

        def __call__(self, theta):
            count[0] += 1
            return self.inner(theta)

    charm = experiments.load("charm")
    other = eqx.tree_at(lambda e: e.observed, charm, charm.observed * 1.05)
    xs = np.linspace(-0.5, 0.5, 4)
    a = profile_scan(Counting(profiled_chi2(charm)), {}, {"eps_u_ee": xs}, chunk_size=4, progress=False, refine_best=False)
    n = count[0]
    b = profile_scan(Counting(profiled_chi2(other)), {}, {"eps_u_ee": xs}, chunk_size=4, progress=False, refine_best=False)
    assert count[0] == n
    loss = profiled_chi2(other)
    np.testing.assert_allclose(b.chi2, [float(loss({"eps_u_ee": x})) for x in xs], rtol=1e-12)
    assert not np.allclose(a.chi2, b.chi2)


def test_exclusion_limit_does_not_recompile_for_new_data():
    from nsijax.inference import AbstractLoss, exclusion_limit

    count = [0]

    class Chi2(AbstractLoss):
        sm: jax.Array

        def __call__(self, lm, lg):
            count[0] += 1
            return self.sm + (10.0**lg / 10.0 ** (lm - 5.0)) ** 2 / 0.1

    lm, lg = np.linspace(0, 3, 7), np.linspace(-7, 0, 15)
    first = exclusion_limit(Chi2(jnp.asarray(10.0)), lm, lg, chi2_sm=10.0, n_refine=25)
    n = count[0]
    second = exclusion_limit(Chi2(jnp.asarray(12.0)), lm, lg, chi2_sm=12.0, n_refine=25)
    assert count[0] == n
    np.testing.assert_allclose(second["log10_g"], first["log10_g"], atol=1e-9)
    np.testing.assert_allclose(first["log10_g"], lm - 5.0 + 0.5 * np.log10(0.2706), atol=1e-6)
