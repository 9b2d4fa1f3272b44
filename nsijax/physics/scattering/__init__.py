"""Scattering cross sections with NSI, Z' and electromagnetic properties: CEvNS on nuclei, nu-e
scattering, charged-current nu_e d, nuclear form factors, targets (isotope mixtures) and kinematics."""

from . import cevns, deuteron, electron_scattering, form_factors, kinematics, targets

__all__ = ["cevns", "deuteron", "electron_scattering", "form_factors", "kinematics", "targets"]
