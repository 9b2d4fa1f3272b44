"""Oscillation experiments (``kind = "oscillation"``): one class per response, registered on import.

:class:`~.solar.SolarPee` (``solar_pee``, Borexino 2018: Gaussian terms on measured P_ee),
:class:`~.reactor.ReactorSpectrum` (``reactor_spectrum``, KamLAND: reactor prompt spectrum),
:class:`~.near_far.ReactorNearFar` (``reactor_near_far``, Daya Bay: near/far prompt spectra),
:class:`~.solar_rates.RadiochemicalRates` (``radiochemical_rates``, gallium and Homestake capture rates),
:class:`~.solar_rates.SolarESRates` (``solar_es_rates``, Borexino Phase I/II interaction rates),
:class:`~.solar_rates.SolarModelFluxes` (``solar_model_prior``, the solar model's fluxes as a data set),
:class:`~.sno_polynomial.SNOPolynomial` (``sno_polynomial``, SNO's three-phase polynomial summary),
:class:`~.sno.SNOD2O` (``sno_d2o``, SNO D2O day/night spectra) and :class:`~.beam.GlobesBeam`
(``globes_beam``, DUNE TDR from GLoBES AEDL files).

They share :class:`nsijax.Params` with the scattering experiments: the oscillation parameters come from
``params.osc`` (None = NuFIT 6.0 NO, :func:`nsijax.physics.oscillation.resolve_osc`), the matter NSI from
``params.matter_nsi()`` (oscillations see q^2 = 0: the contact NSI plus those a Z' induces at q^2 = 0).
All are jit- and grad-able in the oscillation parameters and the NSI couplings.
"""

from . import beam, near_far, reactor, sno, sno_polynomial, solar, solar_rates
from .beam import GlobesBeam
from .near_far import ReactorNearFar
from .reactor import ReactorSpectrum
from .sno import SNOD2O
from .sno_polynomial import SNOPolynomial
from .solar import SolarPee
from .solar_rates import RadiochemicalRates, SolarESRates, SolarModelFluxes

__all__ = [
    "GlobesBeam", "RadiochemicalRates", "ReactorNearFar", "ReactorSpectrum", "SNOD2O", "SNOPolynomial", "SolarESRates",
    "SolarModelFluxes", "SolarPee", "beam", "near_far", "reactor", "sno", "sno_polynomial", "solar", "solar_rates",
]
