"""Neutrino sources: spectra and fluxes that several experiments share."""

from . import pion_dar, reactor

__all__ = ["pion_dar", "reactor"]
