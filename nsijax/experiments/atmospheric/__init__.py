"""Atmospheric-neutrino experiments (``kind = "atmospheric"``): one class per response, registered on import.

:class:`~.deepcore.DeepCoreEventMC` (``deepcore_event_mc``, IceCube DeepCore 3-year sample B from its
per-event Monte Carlo) and :class:`~.super_k.SuperKBinnedMC` (``sk_binned_mc``, Super-Kamiokande I-V from its
binned release, reweighted on a true grid); :mod:`.true_grid` reads the ``[true_grid]`` spec table they
share. The Earth crossing is computed once per parameter point on each experiment's true (E, cos zenith) grid (:mod:`nsijax.physics.oscillation.atmospheric`) with ``params.osc`` and the matter NSI
``params.matter_nsi()``; the Honda fluxes and their Barr-style systematics are in
:mod:`nsijax.physics.sources.atmospheric`.
"""

from . import deepcore, super_k
from .deepcore import DeepCoreEventMC
from .super_k import SuperKBinnedMC

__all__ = ["DeepCoreEventMC", "SuperKBinnedMC", "deepcore", "super_k"]
