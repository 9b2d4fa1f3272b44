"""Implicit derivatives of profiled minima (nsijax.statistics.implicit), checked against closed forms and against
central differences of the re-profiled likelihood (each point profiled anew)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nsijax.experiments import load
from nsijax.likelihood import chi2, profile_nuisances
from nsijax.parameters.nsi import NSI
from nsijax.parameters.params import Params
from nsijax.statistics.implicit import implicit_argmin, implicit_min

A = jnp.array([[3.0, 1.0], [1.0, 2.0]])


def objective(theta, args):
    """f = theta^T A theta / 2 - b(x)^T theta + x^2 with b = (x, x^2): argmin A^-1 b(x),
    min f = x^2 - b^T A^-1 b / 2."""
    x = args["x"]
    b = jnp.stack([x, x**2])
    return 0.5 * theta @ A @ theta - b @ theta + x**2


def solve(args):
    x = args["x"]
    return jnp.linalg.solve(A, jnp.stack([x, x**2]))


def exact_min(x):
    b = jnp.stack([x, x**2])
    return x**2 - 0.5 * b @ jnp.linalg.solve(A, b)


def test_closed_form_value_gradient_hessian_and_argmin_derivative():
    x = 0.7
    value, theta = implicit_min(objective, solve, {"x": jnp.asarray(x)})
    assert float(value) == pytest.approx(float(exact_min(x)), rel=1e-14)
    g = jax.grad(lambda x: implicit_min(objective, solve, {"x": x})[0])(x)
    h = jax.hessian(lambda x: implicit_min(objective, solve, {"x": x})[0])(x)
    assert float(g) == pytest.approx(float(jax.grad(exact_min)(x)), rel=1e-12)
    assert float(h) == pytest.approx(float(jax.hessian(exact_min)(x)), rel=1e-12)
    jac = jax.jacfwd(lambda x: implicit_argmin(objective, solve, {"x": x}))(x)
    np.testing.assert_allclose(jac, jax.jacfwd(lambda x: solve({"x": x}))(x), rtol=1e-12)


def test_held_components_keep_their_values_and_get_no_implicit_derivative():
    free = np.array([True, False])

    def solve_first(args):  # minimise over theta_0 with theta_1 = 0 held
        return jnp.stack([args["x"] / A[0, 0], 0.0])

    jac = jax.jacfwd(lambda x: implicit_argmin(objective, solve_first, {"x": x}, free))(0.4)
    np.testing.assert_allclose(jac, [1.0 / 3.0, 0.0], rtol=1e-12)


def _csi_params(e, pulls=None):
    return Params(nsi=NSI.from_components(u=jnp.zeros(9).at[0].set(e)), nuisances=pulls or {})


def test_profiled_chi2_curvature_matches_reprofiled_differences():
    """COHERENT CsI 2017, eps^u_ee, every nuisance profiled (30 Gauss-Newton steps): the Hessian of the
    profiled chi^2 equals central second differences of the chi^2 re-profiled at each point."""
    exp = load("coherent_csi_2017")

    def f(e):
        return chi2(_csi_params(e), exp, nuisances="profile", profile_steps=30)

    e0, h = 0.05, 5e-3
    fd = (float(f(e0 + h)) - 2.0 * float(f(e0)) + float(f(e0 - h))) / h**2
    ad = float(jax.jit(jax.hessian(f))(e0))
    assert ad == pytest.approx(fd, rel=2e-3)
    g_fd = (float(f(e0 + 1e-4)) - float(f(e0 - 1e-4))) / 2e-4
    assert float(jax.grad(f)(e0)) == pytest.approx(g_fd, rel=1e-4)


def test_profiled_pulls_derivative_matches_reprofiled_differences():
    exp = load("coherent_csi_2017")

    def pulls(e):
        p = profile_nuisances(_csi_params(e), exp, profile_steps=30).nuisances
        return jnp.stack([p[k] for k in exp.nuisance_keys])

    e0, h = 0.05, 1e-4
    fd = (np.asarray(pulls(e0 + h)) - np.asarray(pulls(e0 - h))) / (2 * h)
    ad = np.asarray(jax.jacfwd(pulls)(e0))
    np.testing.assert_allclose(ad, fd, rtol=2e-3, atol=1e-3 * np.max(np.abs(fd)))
