"""Fits: exact minima and covariances of quadratic and Poisson losses (closed forms)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nsijax.errors import InvalidParamsError
from nsijax.inference import RESULT_NAMES, fit

COV = np.array([[0.25, 0.3], [0.3, 4.0]])
MEAN = np.array([1.0, -2.0])
ICOV = np.linalg.inv(COV)


def gauss_chi2(th):
    d = jnp.stack([th["x"], th["y"]]) - MEAN
    return d @ ICOV @ d


def test_gaussian_minimum_and_covariance():
    """chi^2 = d^T C^-1 d: minimum at the mean, covariance C (errordef 1)."""
    r = fit(gauss_chi2, {"x": 0.0, "y": 0.0})
    assert int(r.result) == 0, RESULT_NAMES[int(r.result)]
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
    assert RESULT_NAMES[int(r.result)] in ("successful", "successful (adam fallback)")
    bad = fit(lambda th: jnp.nan * th["x"], {"x": 0.0}, fallback_steps=10)
    assert RESULT_NAMES[int(bad.result)] == "nonfinite"
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
    from nsijax.inference.parameters import profiled_chi2

    exp = load("coherent_csi_2021")
    loss = profiled_chi2([exp], profile_steps=30)
    r = fit(loss, {"cevns_scale": 1.0}, bounds={"cevns_scale": (0.0, None)})
    assert RESULT_NAMES[int(r.result)] == "successful"
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
    assert RESULT_NAMES[int(r.result)] == "hessian not positive definite (no covariance)"
    assert np.all(np.isnan(np.asarray(r.covariance)))
    ok = fit(lambda th: (th["x"] - 1.0) ** 2, {"x": 0.0})
    assert int(ok.result) == 0 and np.isfinite(float(ok.errors["x"]))
