"""Likelihoods: the per-bin terms (Poisson / Baker-Cousins, Gaussian, pull priors), nuisance profiling
with implicit derivatives, and ``chi2`` / ``log_likelihood`` of any set of experiments."""

from . import implicit, likelihood, terms
from .likelihood import chi2, log_likelihood, profile_nuisances

__all__ = ["chi2", "implicit", "likelihood", "log_likelihood", "profile_nuisances", "terms"]
