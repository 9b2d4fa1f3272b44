"""Neutrino sources: spectra and fluxes that several experiments share."""

from . import pion_dar

__all__ = ["pion_dar"]
