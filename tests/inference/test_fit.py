"""Fits: exact minima and covariances of quadratic and Poisson losses (closed forms), typed results."""

import re

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nsijax.errors import InvalidParamsError
from nsijax.inference import RESULTS, fit

COV = np.array([[0.25, 0.3], [0.3, 4.0]])
MEAN = np.array([1.0, -2.0])
ICOV = np.linalg.inv(COV)


def gauss_chi2(th):
    d = jnp.stack([th["x"], th["y"]]) - MEAN
    return d @ ICOV @ d


def test_gaussian_minimum_and_covariance():
    """chi^2 = d^T C^-1 d: minimum at the mean, covariance C (errordef 1)."""
    r = fit(gauss_chi2, {"x": 0.0, "y": 0.0})
    assert r.result == RESULTS.successful, RESULTS[r.result]
    np.testing.assert_allclose([r.params["x"], r.params["y"]], MEAN, atol=1e-7)
    np.testing.assert_allclose(r.covariance, COV, rtol=1e-8)
    assert float(r.errors["y"]) == pytest.approx(2.0, rel=1e-8)
    nll = fit(lambda th: 0.5 * gauss_chi2(th), {"x": 0.0, "y": 0.0}, errordef=0.5)
    np.testing.assert_allclose(nll.covariance, COV, rtol=1e-8)


def test_fixed_parameter_profile():
    """Fixing x profiles y: y_hat(x) = mu_y + C_yx/C_xx (x - mu_x) (conditional Gaussian)."""
    r = fit(gauss_chi2, {"y": 0.0}, fixed={"x": 2.0})
    assert float(r.params["y"]) == pytest.approx(-2.0 + 0.3 / 0.25 * (2.0 - 1.0), abs=1e-7)
    assert float(r.params["x"]) == 2.0


def test_bounds_by_transformation():
    """A minimum outside the box ends on its edge; inside, bounds do not move it."""
    r = fit(gauss_chi2, {"x": 0.5, "y": 0.0}, bounds={"x": (-1.0, 0.5)})
    assert float(r.params["x"]) == pytest.approx(0.5, abs=1e-3)
    assert float(r.params["x"]) <= 0.5
    r2 = fit(gauss_chi2, {"x": 0.5, "y": -1.0}, bounds={"x": (0.0, 3.0), "y": (None, 0.0)})
    np.testing.assert_allclose([r2.params["x"], r2.params["y"]], MEAN, atol=1e-6)
    with pytest.raises(InvalidParamsError, match="unknown parameters"):
        fit(gauss_chi2, {"x": 0.0, "y": 0.0}, bounds={"z": (0, 1)})
    with pytest.raises(InvalidParamsError, match="lo < hi"):
        fit(gauss_chi2, {"x": 0.0, "y": 0.0}, bounds={"x": (1, 0)})


def test_poisson_counting_mle():
    """One bin, n observed, mu = a s + b: the MLE is a = (n - b)/s (Cash/Baker-Cousins chi^2)."""
    n, s, b = 17.0, 5.0, 4.0

    def chi2(th):
        mu = th["a"] * s + b
        return 2 * (mu - n + n * jnp.log(n / mu))

    r = fit(chi2, {"a": 1.0}, bounds={"a": (0.0, None)})
    assert float(r.params["a"]) == pytest.approx((n - b) / s, rel=1e-7)
    # Hessian error: sigma_a = sqrt(n)/s at the MLE
    assert float(r.errors["a"]) == pytest.approx(np.sqrt(n) / s, rel=1e-6)


def test_jit_and_vmap_over_fixed_values():
    xs = jnp.linspace(-1.0, 3.0, 5)
    f = jax.jit(jax.vmap(lambda x: fit(gauss_chi2, {"y": 0.0}, fixed={"x": x}, covariance=False).params["y"]))
    np.testing.assert_allclose(f(xs), -2.0 + 1.2 * (xs - 1.0), atol=1e-7)


def test_nonfinite_loss_uses_fallback_or_reports():
    """A loss that is NaN along the L-BFGS path is reported (result code), never silently returned."""
    r = fit(lambda th: jnp.where(th["x"] > 5.0, jnp.nan, (th["x"] - 1.0) ** 2), {"x": 0.0})
    assert bool(r.successful) and (r.result == RESULTS.successful) | (r.result == RESULTS.fallback)
    bad = fit(lambda th: jnp.nan * th["x"], {"x": 0.0}, fallback_steps=10)
    assert bad.result == RESULTS.nonfinite and int(bad.code) == 2 and not bool(bad.successful)
    assert bad.to_dict()["result_name"] == RESULTS[RESULTS.nonfinite]
    with pytest.raises(InvalidParamsError, match="free and fixed"):
        fit(gauss_chi2, {"x": 0.0}, fixed={"x": 1.0})


# --- errors of fits whose loss profiles nuisances -------------------------------------------------


def test_profiled_nuisance_error_closed_form():
    """chi^2 = (x + theta - d)^2 + theta^2 with theta profiled: theta* = (d - x)/2, so
    chi^2_prof(x) = (x - d)^2 / 2 and sigma_x = sqrt(2) (not 1, the curvature at fixed theta)."""
    from nsijax.statistics.implicit import implicit_argmin

    d = 0.7

    def objective(theta, args):
        return (args["x"] + theta[0] - d) ** 2 + theta[0] ** 2

    def solve(args):  # a few Newton steps from 0 (exact for a quadratic after one)
        th = jnp.zeros(1)
        for _ in range(3):
            g = jax.grad(objective)(th, args)
            th = th - g / 4.0
        return th

    def loss(p):
        th = implicit_argmin(objective, solve, {"x": p["x"]})
        return objective(th, {"x": p["x"]})

    r = fit(loss, {"x": 0.0})
    assert float(r.params["x"]) == pytest.approx(d, abs=1e-7)
    assert float(r.errors["x"]) == pytest.approx(np.sqrt(2.0), rel=1e-10)
    # higher-order: d theta*/dx = -1/2 exactly
    g = jax.grad(lambda x: implicit_argmin(objective, solve, {"x": x})[0])(0.3)
    assert float(g) == pytest.approx(-0.5, rel=1e-12)


@pytest.mark.slow  # compiles the Hessian of the full CsI 2021 likelihood (about a minute)
def test_profiled_fit_error_csi2021_matches_reprofiled_curvature():
    """COHERENT CsI 2021 with a free CEvNS normalisation and every nuisance profiled: the fit's Hessian
    error equals the one from central differences of the re-profiled chi^2 (each point profiled anew).
    Before the pulls had implicit derivatives the fit gave 0.080 instead of 0.135 (the curvature at
    fixed nuisances)."""
    from nsijax.experiments import load
    from nsijax.inference import profiled_chi2

    exp = load("coherent_csi_2021")
    loss = profiled_chi2([exp], profile_steps=30)
    r = fit(loss, {"cevns_scale": 1.0}, bounds={"cevns_scale": (0.0, None)})
    assert r.result == RESULTS.successful
    x0, h = float(r.params["cevns_scale"]), 0.02
    f = jax.jit(lambda x: loss({"cevns_scale": x}))
    curv = (float(f(x0 + h)) - 2.0 * float(f(x0)) + float(f(x0 - h))) / h**2
    sigma_fd = np.sqrt(2.0 / curv)
    print(f"CsI 2021 cevns_scale = {x0:.4f} +- {float(r.errors['cevns_scale']):.4f} (fit), {sigma_fd:.4f} (differences)")
    assert float(r.errors["cevns_scale"]) == pytest.approx(sigma_fd, rel=2e-3)
    assert 0.12 < sigma_fd < 0.15


def test_non_positive_definite_hessian_gives_a_result_code_and_no_covariance():
    """A saddle direction: x is minimised, y is flat-to-concave at the stopping point. No pinv."""
    r = fit(lambda th: (th["x"] - 1.0) ** 2 + 0.0 * th["y"], {"x": 0.0, "y": 0.0})
    assert r.result == RESULTS.not_positive_definite and int(r.code) == 4
    assert r.to_dict()["result_name"].startswith("hessian not positive definite")
    assert np.all(np.isnan(np.asarray(r.covariance)))
    ok = fit(lambda th: (th["x"] - 1.0) ** 2, {"x": 0.0})
    assert ok.result == RESULTS.successful and np.isfinite(float(ok.errors["x"]))


# --- typed results: throw=, codes under vmap, parameter order --------------------------------------


def saddle(th):
    return (th["x"] - 1.0) ** 2 + 0.0 * th["y"]


@pytest.mark.parametrize(
    "loss,init,kwargs,result",
    [
        (saddle, {"x": 0.0, "y": 0.0}, {}, "not_positive_definite"),
        (lambda th: jnp.nan * th["x"], {"x": 0.0}, {"fallback_steps": 10}, "nonfinite"),
        (gauss_chi2, {"x": 5.0, "y": 5.0}, {"max_steps": 1, "tol": 1e-12, "covariance": False}, "max_steps_reached"),
    ],
    ids=["not_positive_definite", "nonfinite", "max_steps_reached"],
)
def test_throw_raises_on_failure_and_false_returns_the_code(loss, init, kwargs, result):
    """throw=True raises an EquinoxRuntimeError carrying the RESULTS message; throw=False (the default)
    returns the same outcome as a code."""
    item = getattr(RESULTS, result)
    r = fit(loss, init, **kwargs)
    assert r.result == item and not bool(r.successful)
    assert fit(loss, init, throw=False, **kwargs).result == item
    with pytest.raises(eqx.EquinoxRuntimeError, match=re.escape(RESULTS[item])):
        jax.block_until_ready(fit(loss, init, throw=True, **kwargs).value)


def test_throw_passes_a_success_and_raises_under_vmap_if_any_fails():
    r = fit(gauss_chi2, {"x": 0.0, "y": 0.0}, throw=True)
    assert r.result == RESULTS.successful
    run = jax.vmap(lambda y: fit(lambda th: (th["x"] - 1.0) ** 2 + y * th["y"] ** 2, {"x": 0.0, "y": 0.5},
                                 throw=True).value)
    np.testing.assert_allclose(run(jnp.array([1.0, 2.0])), 0.0, atol=1e-12)
    with pytest.raises(eqx.EquinoxRuntimeError, match="positive definite"):
        jax.block_until_ready(run(jnp.array([1.0, 0.0])))  # y = 0: a flat direction in the second fit


def test_vmapped_results_codes_and_parameter_order():
    """A vmapped fit returns one RESULTS code per member (code 0: successful); the parameters come back in
    the caller's order (free, then fixed), not the sorted order of a jit boundary."""
    xs = jnp.linspace(-1.0, 3.0, 3)
    r = jax.vmap(lambda x: fit(gauss_chi2, {"y": 0.0}, fixed={"x": x}))(xs)
    np.testing.assert_array_equal(r.code, [0, 0, 0])
    assert r.to_dict()["result_name"] == ["successful"] * 3
    one = fit(gauss_chi2, {"y": 0.0, "x": 0.0})
    assert list(one.params) == ["y", "x"] and one.free == ("y", "x")
    assert list(fit(gauss_chi2, {"y": 0.0}, fixed={"x": 1.0}).params) == ["y", "x"]


TRACES = [0]


class QuadLoss(eqx.Module):
    """gauss_chi2 around ``mean`` (a pytree loss: its data are arrays), counting its traces in TRACES."""

    mean: jax.Array

    def __call__(self, th):
        TRACES[0] += 1
        d = jnp.stack([th["x"], th["y"]]) - self.mean
        return d @ ICOV @ d


def test_fit_does_not_recompile_for_new_data_of_equal_shapes():
    """fit is filter_jit-compiled with the loss as an argument: a second loss of the same structure (other
    data), other start values and other fixed values reuse the compiled program (no new trace)."""
    first = fit(QuadLoss(jnp.array([1.0, -2.0])), {"x": 0.0, "y": 0.0})
    n = TRACES[0]
    second = fit(QuadLoss(jnp.array([3.0, 0.5])), {"x": 0.7, "y": -0.2})
    assert TRACES[0] == n
    np.testing.assert_allclose([first.params["x"], first.params["y"]], MEAN, atol=1e-7)
    np.testing.assert_allclose([second.params["x"], second.params["y"]], [3.0, 0.5], atol=1e-7)
    fit(QuadLoss(jnp.array([0.0, 0.0])), {"y": 0.0}, fixed={"x": 1.0})
    n = TRACES[0]
    third = fit(QuadLoss(jnp.array([1.0, 1.0])), {"y": 0.3}, fixed={"x": -1.0})
    assert TRACES[0] == n
    assert float(third.params["y"]) == pytest.approx(1.0 + 1.2 * (-2.0), abs=1e-7)
