"""Scattering experiments: CEvNS at pion-decay-at-rest sources (:mod:`.coherent`: COHERENT CsI 2017, CsI
2021, LAr 2020) and measured neutrino-quark couplings as Gaussian terms (:mod:`.gaussian`: CHARM, NuTeV).
Importing this package registers their classes (:data:`nsijax.experiments.base.RESPONSES`)."""

from . import coherent, gaussian

__all__ = ["coherent", "gaussian"]
