"""Physics kernels shared by every experiment: scattering cross sections, oscillations in matter (Earth,
Sun) and neutrino sources. Pure JAX functions of :mod:`nsijax.parameters`; no experiment lives here."""

from . import oscillation, quadrature, scattering, sources

__all__ = ["oscillation", "quadrature", "scattering", "sources"]
