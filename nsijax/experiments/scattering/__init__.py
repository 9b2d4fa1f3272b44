"""Scattering experiments: CEvNS at pion-decay-at-rest sources (:mod:`.coherent`: COHERENT CsI 2017, CsI
2021, LAr 2020), CEvNS of reactor anti-nu_e in germanium (:mod:`.reactor_cevns`: Dresden-II), CEvNS of solar 8B neutrinos in
xenon (:mod:`.solar_cevns`: XENONnT) and measured neutrino-quark couplings as Gaussian terms (:mod:`.gaussian`: CHARM, NuTeV).
Importing this package registers their classes (:data:`nsijax.experiments.base.RESPONSES`)."""

from . import coherent, gaussian, reactor_cevns, solar_cevns

__all__ = ["coherent", "gaussian", "reactor_cevns", "solar_cevns"]
