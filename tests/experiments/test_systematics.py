"""The +-1 sigma systematics interpolation (nsijax.experiments.systematics.interp_sets).

Reference: HistFactory's piecewise "code 4p" as documented by pyhf (pyhf.interpolators.code4p:
polynomial inside |alpha| <= 1, linear extrapolation outside, continuous up to the second derivative).
Checked by its defining identities, not by re-running the same formula.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nsijax.experiments.systematics import interp_sets

C0, UP, DN = 2.0, 2.7, 1.1  # asymmetric: d+ = 0.7, d- = 0.9


def f(t):
    return interp_sets(t, C0, UP, DN)


def test_exact_at_nominal_and_plus_minus_one_sigma():
    assert float(f(0.0)) == C0
    assert float(f(1.0)) == pytest.approx(UP, rel=1e-15)
    assert float(f(-1.0)) == pytest.approx(DN, rel=1e-15)


@pytest.mark.parametrize("t", [1.3, 2.0, 5.0, 8.0, -1.3, -2.0, -5.0, -8.0])
def test_linear_outside_one_sigma(t):
    slope = (UP - C0) if t > 0 else (C0 - DN)
    assert float(f(t)) == pytest.approx(C0 + t * slope, rel=1e-14)


@pytest.mark.parametrize("edge", [1.0, -1.0])
def test_value_slope_and_curvature_continuous_at_the_edges(edge):
    d1, d2 = jax.grad(f), jax.grad(jax.grad(f))
    h = 1e-7
    for fn in (f, d1, d2):
        lo, hi = float(fn(edge - h)), float(fn(edge + h))
        assert lo == pytest.approx(hi, abs=1e-5)
    out, inn = edge * (1 + h), edge * (1 - h)  # just outside / inside |theta| = 1
    assert float(d2(out)) == 0.0 and abs(float(d2(inn))) < 1e-5


def test_monotone_and_finite_gradients_on_the_whole_pull_range():
    t = jnp.linspace(-8.0, 8.0, 1601)
    v = jax.vmap(f)(t)
    g = jax.vmap(jax.grad(f))(t)
    assert np.all(np.isfinite(g)) and np.all(np.diff(np.asarray(v)) > 0)


def test_symmetric_sets_give_a_straight_line():
    t = jnp.linspace(-3.0, 3.0, 61)
    assert np.allclose(interp_sets(t, 1.0, 1.2, 0.8), 1.0 + 0.2 * t, rtol=0, atol=1e-14)


def test_broadcasts_over_templates():
    c0, up, dn = jnp.ones(4), jnp.array([1.1, 1.2, 0.9, 1.0]), jnp.array([0.95, 0.7, 1.05, 1.0])
    out = interp_sets(jnp.asarray(-2.5), c0, up, dn)
    assert out.shape == (4,) and np.allclose(out, c0 - 2.5 * (c0 - dn))
