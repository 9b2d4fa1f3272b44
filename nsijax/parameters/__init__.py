"""Parameters of a physics point: :class:`Params` (NSI, Z', oscillations, electromagnetic properties,
nuisance pulls), the NSI couplings :class:`NSI`, the Z' model :class:`ZPrime`, the oscillation parameters
:class:`OscParams` (with the PMNS matrix), and the flat names of fits and scans (:mod:`.names`)."""

from . import names, nsi, oscillation, params, zprime
from .nsi import NSI
from .oscillation import OscParams
from .params import Params
from .zprime import Charges, ZPrime

__all__ = ["NSI", "Charges", "OscParams", "Params", "ZPrime", "names", "nsi", "oscillation", "params", "zprime"]
