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


def composite(edges, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss-Legendre rule with ``order`` nodes on each panel between consecutive ``edges`` (NumPy).

    ``edges`` has shape (..., n_panels + 1) (one panel set per leading index, e.g. per recoil energy); the nodes and
    weights have shape (..., n_panels x order), panel by panel.
    """
    e = np.asarray(edges, dtype=float)
    u, wu = _leggauss(int(order))
    a, b = e[..., :-1, None], e[..., 1:, None]
    shape = e.shape[:-1] + (-1,)
    return (a + (b - a) * u).reshape(shape), ((b - a) * wu).reshape(shape)
