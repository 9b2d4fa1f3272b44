"""Exceptions raised at nsijax's API boundary."""


class NsijaxError(Exception):
    """Base class of every nsijax error."""


class InvalidParamsError(NsijaxError, ValueError):
    """A physics parameter is outside its domain (non-Hermitian eps, negative mass, ...)."""


class InvalidInputError(NsijaxError, ValueError):
    """An input array is malformed (negative energies, mismatched shapes, unknown names, ...)."""


class InvalidSpecError(NsijaxError, ValueError):
    """An experiment specification file is malformed."""


class PrecisionWarning(UserWarning):
    """float32 arrays reached an nsijax entry point, or x64 was explicitly disabled."""


class StaleCheckpointWarning(UserWarning):
    """A scan checkpoint matched the scan's inputs but re-evaluating a finished point disagreed with
    it (the loss, the data or the code changed since it was written): it is discarded and recomputed."""
