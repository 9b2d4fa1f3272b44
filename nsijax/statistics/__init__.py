"""Statistics below the experiments: the per-bin likelihood terms (Poisson / Baker-Cousins, Gaussian, pull
priors) and minimisation with implicit derivatives. The likelihood of a set of experiments is
:mod:`nsijax.likelihood`."""

from . import implicit, terms

__all__ = ["implicit", "terms"]
