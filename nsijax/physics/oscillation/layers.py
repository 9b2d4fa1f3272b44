"""Piecewise-constant matter paths."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..._checks import as_float, check
from ...errors import InvalidInputError


class Layers(eqx.Module):
    """A matter path as layers of constant density, in the order the neutrino crosses them.

    Attributes:
        length_km: layer lengths [km], shape ``(..., n)``. Zero-length layers are exact identities,
            so paths of different layer counts can be padded to a common ``n``.
        density_gcc: mass density [g/cm^3].
        ye: electrons per nucleon Y_e = N_e / (N_p + N_n); V_CC = sqrt(2) G_F N_e.
        yn: neutrons per electron Y_n = N_n / N_e (enters the NSI weights, PHYSICS.md).

    ``ye`` and ``yn`` may be scalars or arrays; they are broadcast to the shape of ``length_km``.
    Leading dimensions batch paths (e.g. zenith angles) for ``vmap``. All arrays must have the same
    shape after broadcasting, or :class:`~nsijax.errors.InvalidInputError` is raised.
    """

    length_km: Float[Array, "... n"]
    density_gcc: Float[Array, "... n"]
    ye: Float[Array, "... n"]
    yn: Float[Array, "... n"]

    def __init__(self, length_km, density_gcc, ye=0.5, yn=1.0):
        length = as_float(length_km, "length_km")
        density = as_float(density_gcc, "density_gcc")
        ye = as_float(ye, "ye")
        yn = as_float(yn, "yn")
        if length.ndim == 0:
            length = length[None]
        if density.ndim == 0:
            density = jnp.broadcast_to(density, length.shape)
        if density.shape != length.shape:
            raise InvalidInputError(
                f"Layers: density_gcc has shape {density.shape} but length_km has shape "
                f"{length.shape}; give one density per layer"
            )
        out = []
        for name, v in (("ye", ye), ("yn", yn)):
            try:
                out.append(jnp.broadcast_to(v, length.shape))
            except ValueError:
                raise InvalidInputError(
                    f"Layers: {name} has shape {v.shape}, not broadcastable to the layer shape "
                    f"{length.shape}"
                ) from None
        self.length_km = length
        self.density_gcc = density
        self.ye, self.yn = out

    @property
    def n_layers(self) -> int:
        return self.length_km.shape[-1]

    @property
    def total_length_km(self) -> Float[Array, "..."]:
        return jnp.sum(self.length_km, axis=-1)

    @classmethod
    def constant(cls, length_km, density_gcc, ye=0.5, yn=1.0) -> Layers:
        """One layer of constant density (a single baseline)."""
        return cls(
            jnp.atleast_1d(as_float(length_km, "length_km")),
            jnp.atleast_1d(as_float(density_gcc, "density_gcc")),
            ye,
            yn,
        )

    @classmethod
    def vacuum(cls, length_km) -> Layers:
        """A vacuum baseline."""
        return cls.constant(length_km, 0.0)

    def reversed(self) -> Layers:
        """The same path crossed in the opposite direction."""
        return Layers(
            self.length_km[..., ::-1], self.density_gcc[..., ::-1], self.ye[..., ::-1], self.yn[..., ::-1]
        )

    def validated(self) -> Layers:
        """Self with eqx.error_if checks attached (lengths, densities, Y_e, Y_n finite and >= 0)."""
        # every check is attached to the lengths, which every computation uses (a check on an unused
        # field, e.g. yn without NSI, would otherwise be pruned under jit)
        length = self.length_km
        for bad, msg in (
            (~jnp.isfinite(self.length_km) | (self.length_km < 0), "Layers.length_km must be finite and >= 0 km"),
            (
                ~jnp.isfinite(self.density_gcc) | (self.density_gcc < 0),
                "Layers.density_gcc must be finite and >= 0 g/cm^3",
            ),
            (~jnp.isfinite(self.ye) | (self.ye < 0) | (self.ye > 1), "Layers.ye must be in [0, 1]"),
            (~jnp.isfinite(self.yn) | (self.yn < 0), "Layers.yn must be finite and >= 0"),
        ):
            length = check(length, bad, msg)
        density, ye, yn = self.density_gcc, self.ye, self.yn
        obj = object.__new__(Layers)
        for k, v in (("length_km", length), ("density_gcc", density), ("ye", ye), ("yn", yn)):
            object.__setattr__(obj, k, v)
        return obj
