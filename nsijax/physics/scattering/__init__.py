"""Scattering cross sections with NSI, Z' and electromagnetic properties: CEvNS on nuclei, nu-e
scattering, nuclear form factors, targets (isotope mixtures) and kinematics."""

from . import cevns, electron_scattering, form_factors, kinematics, targets

__all__ = ["cevns", "electron_scattering", "form_factors", "kinematics", "targets"]
