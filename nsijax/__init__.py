"""nsijax: a JAX-differentiable likelihood engine for neutrino non-standard interactions.

Float64 policy: importing nsijax enables JAX's 64-bit mode (``jax_enable_x64``) unless the user has
set ``JAX_ENABLE_X64`` explicitly in the environment, in which case that choice is respected and a
:class:`~nsijax.errors.PrecisionWarning` is issued when it disables x64. See DESIGN.md.
"""

import os as _os
import warnings as _warnings

import jax as _jax

from .errors import PrecisionWarning as _PrecisionWarning

if "JAX_ENABLE_X64" not in _os.environ:
    _jax.config.update("jax_enable_x64", True)
elif not _jax.config.read("jax_enable_x64"):
    _warnings.warn(
        "JAX_ENABLE_X64 is set false: nsijax will run in float32, with reduced accuracy "
        "(oscillation phases and likelihood differences need float64).",
        _PrecisionWarning,
        stacklevel=2,
    )

# the architecture, one package a layer (DESIGN.md): parameters -> physics -> statistics -> experiments
# -> likelihood -> inference -> studies; the command line and plots in interface
from . import constants, errors, experiments, inference, likelihood, parameters, physics, statistics  # noqa: E402
from .experiments import expected_counts  # noqa: E402
from .inference import fit, profile_scan  # noqa: E402
from .likelihood import chi2, log_likelihood  # noqa: E402
from .parameters import NSI, Charges, Params, ZPrime  # noqa: E402
from .physics.oscillation import Layers, OscParams, oscillation_probability  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "NSI",
    "Charges",
    "Layers",
    "OscParams",
    "Params",
    "ZPrime",
    "chi2",
    "constants",
    "errors",
    "expected_counts",
    "experiments",
    "fit",
    "inference",
    "likelihood",
    "log_likelihood",
    "oscillation_probability",
    "parameters",
    "physics",
    "profile_scan",
    "statistics",
]
