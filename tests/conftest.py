"""Test configuration: float64 on (nsijax does this on import too), deterministic seeds."""

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def rng():
    """A seeded NumPy generator so random test points are reproducible."""
    return np.random.default_rng(20261122)
