"""Test configuration: float64 on (nsijax does this on import too), deterministic seeds."""

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def rng():
    """A seeded NumPy generator so random test points are reproducible."""
    return np.random.default_rng(20261122)


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop JAX's compiled programs after each test module. One pytest process compiles hundreds of
    XLA:CPU programs; kept alive, their code mappings accumulate (the kernel allows 65530 per process
    here) and a late compilation crashed with a segmentation fault in the full suite, while the same
    test passed on its own. Each module recompiles what it needs."""
    yield
    jax.clear_caches()
