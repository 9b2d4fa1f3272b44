"""Inference: fits, profile-likelihood scans, exclusion curves, posteriors and Feldman-Cousins intervals
over flat named parameters (:mod:`nsijax.parameters.names`)."""

from .exclusion import exclusion_limit
from .feldman_cousins import feldman_cousins, feldman_cousins_interval
from .fit import RESULTS, FitResult, fit, result_code
from .losses import AbstractLoss, profiled_chi2, zprime_chi2
from .results import DELTA_CHI2, ScanResult, lowest
from .sampling import experiment_model, numpyro_model, run_nuts
from .scan import profile_scan, stable_hash

__all__ = [
    "DELTA_CHI2",
    "RESULTS",
    "AbstractLoss",
    "FitResult",
    "ScanResult",
    "exclusion_limit",
    "experiment_model",
    "feldman_cousins",
    "feldman_cousins_interval",
    "fit",
    "lowest",
    "numpyro_model",
    "profile_scan",
    "profiled_chi2",
    "result_code",
    "run_nuts",
    "stable_hash",
    "zprime_chi2",
]
