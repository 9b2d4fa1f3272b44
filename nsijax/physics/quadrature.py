"""Fixed Gauss-Legendre quadrature rules (nodes computed once in NumPy; static shapes under jit)."""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np


@functools.cache
def _leggauss(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (x + 1.0), 0.5 * w  # nodes and weights on [0, 1]


def unit_rule(n: int):
    """Gauss-Legendre nodes and weights on [0, 1] (NumPy arrays, shape (n,))."""
    return _leggauss(int(n))


def nodes(a, b, n: int):
    """Nodes x (shape ``broadcast(a, b) + (n,)``) and weights w with sum f(x) w ~ integral_a^b f."""
    u, w = _leggauss(int(n))
    a = jnp.asarray(a)[..., None]
    b = jnp.asarray(b)[..., None]
    return a + (b - a) * u, (b - a) * w
