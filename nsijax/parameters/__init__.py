"""Parameters of a physics point: :class:`Params` (NSI, Z', oscillations, electromagnetic properties,
nuisance pulls), the NSI couplings :class:`NSI` and the Z' model :class:`ZPrime`."""

from . import nsi, params, zprime
from .nsi import NSI
from .params import Params
from .zprime import Charges, ZPrime

__all__ = ["NSI", "Charges", "Params", "ZPrime", "nsi", "params", "zprime"]
