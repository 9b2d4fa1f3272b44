"""Neutrino sources: spectra and fluxes that several experiments share."""

from . import atmospheric, pion_dar, reactor

__all__ = ["atmospheric", "pion_dar", "reactor"]
