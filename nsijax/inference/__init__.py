"""Inference: fits, profile-likelihood scans, posteriors and Feldman-Cousins intervals."""

from .exclusion import exclusion_limit
from .feldman_cousins import feldman_cousins, feldman_cousins_interval
from .fit import RESULT_NAMES, FitResult, fit
from .results import DELTA_CHI2, ScanResult, lowest
from .sampling import numpyro_model, run_nuts
from .scan import profile_scan

__all__ = [
    "DELTA_CHI2",
    "RESULT_NAMES",
    "FitResult",
    "ScanResult",
    "exclusion_limit",
    "feldman_cousins",
    "feldman_cousins_interval",
    "fit",
    "lowest",
    "numpyro_model",
    "profile_scan",
    "run_nuts",
]
