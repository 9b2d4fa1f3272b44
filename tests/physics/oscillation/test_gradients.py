"""Gradients of oscillation probabilities against finite differences (float64), including degenerate
spectra (vacuum with dm21 = 0, H = 0, eps = 0, zero-length layers) where differentiating
jnp.linalg.eigh gives NaN. Each check compares jax.grad with a fourth-order central stencil (third-order
one-sided at boundaries such as L = 0) and requires finite values."""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nsijax import NSI
from nsijax.physics.oscillation import Layers, OscParams, oscillation_probability

N_OSC = 6
N_NSI = 9
N_E = 5


@partial(jax.jit, static_argnames=("n_layers", "anti"))
def _loss(theta, energy, weights, ye, yn, *, n_layers, anti=False):
    """sum(w * P) as a function of (6 osc, 9 eps^e components, densities, lengths)."""
    osc = OscParams(*[theta[i] for i in range(N_OSC)])
    eps = theta[N_OSC : N_OSC + N_NSI]
    nsi = NSI.from_components(eL=0.5 * eps, eR=0.5 * eps)
    k = N_OSC + N_NSI
    lay = Layers(theta[k + n_layers : k + 2 * n_layers], theta[k : k + n_layers], ye, yn)
    p = oscillation_probability(osc, energy, lay, nsi=nsi, antineutrino=anti)
    return jnp.sum(p * weights)


_grad = jax.jit(jax.grad(_loss), static_argnames=("n_layers", "anti"))


@partial(jax.jit, static_argnames=("n_layers", "anti"))
def _vloss(thetas, energy, weights, ye, yn, *, n_layers, anti=False):
    return jax.vmap(lambda t: _loss(t, energy, weights, ye, yn, n_layers=n_layers, anti=anti))(thetas)


def _check(theta, energy, weights, ye, yn, n_layers, steps, *, anti=False, rtol=2e-6, atol=1e-8, one_sided=()):
    kw = dict(n_layers=n_layers, anti=anti)
    args = (jnp.asarray(energy), jnp.asarray(weights), ye, yn)
    g = np.asarray(_grad(jnp.asarray(theta), *args, **kw))
    assert np.all(np.isfinite(g)), g
    offsets = {i: ((0, 1, 2, 3) if i in one_sided else (-2, -1, 1, 2)) for i in range(len(theta))}
    eye = np.eye(len(theta))
    pts = np.stack([theta + k * steps[i] * eye[i] for i in range(len(theta)) for k in offsets[i]])
    vals = np.asarray(_vloss(jnp.asarray(pts), *args, **kw)).reshape(len(theta), 4)
    fd = np.zeros_like(theta)
    for i, h in enumerate(steps):
        if i in one_sided:  # third-order forward difference at a boundary
            fd[i] = (-11 * vals[i, 0] + 18 * vals[i, 1] - 9 * vals[i, 2] + 2 * vals[i, 3]) / (6 * h)
        else:  # fourth-order central stencil
            fd[i] = (vals[i, 0] - 8 * vals[i, 1] + 8 * vals[i, 2] - vals[i, 3]) / (12 * h)
    np.testing.assert_allclose(g, fd, rtol=rtol, atol=atol)
    return g


def _theta(osc_vals, nsi_vals, dens, lens):
    return np.concatenate([osc_vals, nsi_vals, dens, lens]).astype(float)


def _steps(theta):
    return np.where(np.abs(theta) > 0, np.abs(theta) * 1e-5, 1e-6)


def _weights(seed):
    return np.random.default_rng(seed).normal(size=(N_E, 3, 3))


@pytest.mark.parametrize("anti", [False, True])
def test_gradients_random_points(rng, anti):
    """All 6 oscillation parameters, the 9 real/imaginary NSI components, densities and lengths."""
    for _ in range(2):
        theta = _theta(
            [rng.uniform(0.2, 1.3), rng.uniform(0.1, 0.4), rng.uniform(0.4, 1.2), rng.uniform(0, 6), 7.4e-5, 2.5e-3],
            rng.normal(scale=0.3, size=9),
            rng.uniform(1, 12, 3),
            rng.uniform(200, 3000, 3),
        )
        _check(theta, np.geomspace(0.3, 8.0, N_E), rng.normal(size=(N_E, 3, 3)), 0.49, 1.05, 3, _steps(theta), anti=anti)


def test_gradient_vacuum_dm21_zero():
    """Degenerate vacuum spectrum (dm21 = 0: two equal eigenvalues): finite, equal to finite differences."""
    theta = _theta([0.6, 0.15, 0.8, 1.0, 0.0, 2.5e-3], np.zeros(9), [0.0, 0.0, 0.0], [400.0, 300.0, 300.0])
    steps = _steps(theta)
    steps[4] = 1e-9  # dm21 around 0
    _check(theta, np.geomspace(0.3, 5.0, N_E), _weights(1), 0.5, 1.0, 3, steps, one_sided=(15, 16, 17))


def test_gradient_fully_degenerate_vacuum():
    """dm21 = dm31 = 0 in vacuum: H = 0 (triple degeneracy); the exact derivatives vanish."""
    theta = _theta([0.6, 0.15, 0.8, 1.0, 0.0, 0.0], np.zeros(9), [0.0, 0.0, 0.0], [400.0, 300.0, 300.0])
    steps = _steps(theta)
    steps[4] = steps[5] = 1e-6  # P is even in dm here: the exact derivative is 0
    _check(theta, np.geomspace(0.3, 5.0, N_E), _weights(2), 0.5, 1.0, 3, steps, one_sided=(15, 16, 17))


def test_gradient_at_eps_zero_in_matter():
    """eps = 0 (Standard Model point): derivatives in all nine NSI components, through layers."""
    theta = _theta([0.58, 0.15, 0.8, 3.7, 7.4e-5, 2.5e-3], np.zeros(9), [3.3, 11.0, 3.3], [1500.0, 2000.0, 1500.0])
    steps = _steps(theta)
    steps[6:15] = 1e-6
    _check(theta, np.geomspace(0.5, 10.0, N_E), _weights(3), 0.49, 1.05, 3, steps)


def test_gradient_zero_length_padding_layers():
    """Zero-length (padding) layers: d/dL from one-sided differences, d/drho = 0 there, all finite."""
    theta = _theta([0.58, 0.15, 0.8, 3.7, 7.4e-5, 2.5e-3], np.full(9, 0.1), [3.0, 5.0, 0.0], [800.0, 0.0, 0.0])
    steps = _steps(theta)
    steps[-2:] = 1e-3
    k = N_OSC + N_NSI
    g = _check(theta, np.geomspace(0.5, 10.0, N_E), _weights(4), 0.49, 1.05, 3, steps, one_sided=(k + 2, k + 4, k + 5))
    assert g[k + 1] == 0.0 and g[k + 2] == 0.0


def test_gradient_energy():
    """d P / d E against central differences (energies are differentiable inputs too)."""
    osc = OscParams.nufit()
    lay = Layers.constant(1300.0, 2.8, 0.5)
    f = jax.jit(lambda e: oscillation_probability(osc, e, lay)[1, 0])
    g = jax.jit(jax.grad(lambda e: oscillation_probability(osc, e, lay)[1, 0]))
    for e0 in (0.5, 2.0, 7.0):
        fd = (float(f(e0 + 1e-6)) - float(f(e0 - 1e-6))) / 2e-6
        np.testing.assert_allclose(float(g(e0)), fd, rtol=1e-6, atol=1e-9)


def test_eigh_gradient_is_nan_where_ours_is_finite():
    """Motivation check: differentiating jnp.linalg.eigh at a degenerate spectrum gives NaN/inf."""

    def p_eigh(dm21):
        h = jnp.diag(jnp.stack([0.0 * dm21, dm21, 2.5e-3]))
        _, v = jnp.linalg.eigh(h)
        return jnp.sum(jnp.abs(v) ** 2 * jnp.arange(9.0).reshape(3, 3))

    assert not np.isfinite(float(jax.grad(p_eigh)(0.0)))
