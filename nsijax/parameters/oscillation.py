"""Standard three-flavour oscillation parameters and the PMNS matrix (PDG convention, PHYSICS.md).

:func:`resolve_osc` is how every oscillation experiment reads ``params.osc``: None means the documented
default :func:`default_osc` (NuFIT 6.0, normal ordering), anything but an :class:`OscParams` is an error.
"""

from __future__ import annotations

import csv
import io
import math
from functools import lru_cache
from importlib import resources

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Complex, Float

from ..errors import InvalidParamsError

_ORDERING = {"normal": "NO", "no": "NO", "inverted": "IO", "io": "IO"}


@lru_cache(maxsize=1)
def _nufit_rows() -> tuple[dict, ...]:
    text = (
        resources.files("nsijax")
        .joinpath("data/oscillation_params/nufit_bestfit.csv")
        .read_text(encoding="utf-8")
    )
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    return tuple(csv.DictReader(io.StringIO("\n".join(lines))))


class OscParams(eqx.Module):
    """Three-flavour oscillation parameters.

    Attributes:
        theta12, theta13, theta23: mixing angles [rad].
        delta_cp: Dirac CP phase [rad] (PDG: U13 carries e^{-i delta} in its (1, 3) entry).
        dm21, dm31: mass-squared splittings m2^2 - m1^2 and m3^2 - m1^2 [eV^2]; the sign of dm31 is
            the mass ordering.

    All fields are float64 JAX arrays (scalars, or batched with a common leading shape for ``vmap``).
    """

    theta12: Float[Array, "..."]
    theta13: Float[Array, "..."]
    theta23: Float[Array, "..."]
    delta_cp: Float[Array, "..."]
    dm21: Float[Array, "..."]
    dm31: Float[Array, "..."]

    def __init__(self, theta12, theta13, theta23, delta_cp, dm21, dm31):
        vals = []
        for name, v in zip(
            ("theta12", "theta13", "theta23", "delta_cp", "dm21", "dm31"),
            (theta12, theta13, theta23, delta_cp, dm21, dm31),
        ):
            arr = jnp.asarray(v)
            if jnp.iscomplexobj(arr):
                raise InvalidParamsError(f"OscParams.{name} must be real, got dtype {arr.dtype}")
            vals.append(arr.astype(jnp.result_type(float)))
        (self.theta12, self.theta13, self.theta23, self.delta_cp, self.dm21, self.dm31) = vals

    @classmethod
    def nufit(
        cls, ordering: str = "normal", *, version: str = "6.0", with_sk: bool = True
    ) -> OscParams:
        """Best fit of a NuFIT release (http://www.nu-fit.org).

        Args:
            ordering: ``"normal"`` or ``"inverted"``.
            version: ``"5.2"``, ``"5.3"``, ``"6.0"`` (default; Esteban et al., JHEP 12 (2024) 216,
                arXiv:2410.05380, "IC24 with SK" variant) or ``"6.1"``.
            with_sk: include the Super-K atmospheric chi^2 (for 6.x: IceCube-24 + SK).

        Source table: ``nsijax/data/oscillation_params/nufit_bestfit.csv`` (see its README).
        """
        key = _ORDERING.get(str(ordering).lower())
        if key is None:
            raise InvalidParamsError(f"ordering must be 'normal' or 'inverted', got {ordering!r}")
        cat = "with_SK" if with_sk else "without_SK"
        for row in _nufit_rows():
            if (
                row["release"] == f"NuFIT {version}"
                and row["ordering"] == key
                and row["category"] == cat
            ):
                deg = math.pi / 180.0
                return cls(
                    theta12=float(row["theta12_deg"]) * deg,
                    theta13=float(row["theta13_deg"]) * deg,
                    theta23=float(row["theta23_deg"]) * deg,
                    delta_cp=float(row["deltaCP_deg"]) * deg,
                    dm21=float(row["dm21_eV2"]),
                    dm31=float(row["dm31_eV2"]),
                )
        versions = sorted({r["release"].split()[-1] for r in _nufit_rows()})
        raise InvalidParamsError(f"unknown NuFIT version {version!r}; available: {versions}")

    @classmethod
    def from_sin2(cls, sin2_12, sin2_13, sin2_23, delta_cp, dm21, dm31) -> OscParams:
        """Build from sin^2 of the angles (as global fits tabulate them)."""
        f = lambda s: jnp.arcsin(jnp.sqrt(jnp.asarray(s, dtype=jnp.result_type(float))))  # noqa: E731
        return cls(f(sin2_12), f(sin2_13), f(sin2_23), delta_cp, dm21, dm31)

    def pmns(self) -> Complex[Array, "... 3 3"]:
        """PMNS matrix U = R23 U13(delta) R12 (PDG), U[alpha, i] = <nu_alpha | nu_i>."""
        return pmns(self)


def pmns(osc: OscParams) -> Complex[Array, "... 3 3"]:
    """PMNS matrix in the PDG parametrisation (PHYSICS.md), shape ``batch + (3, 3)``."""
    s12, c12 = jnp.sin(osc.theta12), jnp.cos(osc.theta12)
    s13, c13 = jnp.sin(osc.theta13), jnp.cos(osc.theta13)
    s23, c23 = jnp.sin(osc.theta23), jnp.cos(osc.theta23)
    ep = jnp.exp(1j * osc.delta_cp)
    em = jnp.conj(ep)
    z = jnp.zeros_like(s12)
    rows = [
        [c12 * c13 + z * 0j, s12 * c13 + z * 0j, s13 * em],
        [-s12 * c23 - c12 * s23 * s13 * ep, c12 * c23 - s12 * s23 * s13 * ep, s23 * c13 + z * 0j],
        [s12 * s23 - c12 * c23 * s13 * ep, -c12 * s23 - s12 * c23 * s13 * ep, c23 * c13 + z * 0j],
    ]
    return jnp.stack([jnp.stack(r, axis=-1) for r in rows], axis=-2)


def mass_matrix_flavour(osc: OscParams) -> Complex[Array, "... 3 3"]:
    """U diag(0, dm21, dm31) U^dagger [eV^2] (the energy-independent vacuum term times 2E)."""
    u = pmns(osc)
    m = jnp.stack([jnp.zeros_like(osc.dm21), osc.dm21, osc.dm31], axis=-1)
    return jnp.einsum("...ai,...i,...bi->...ab", u, m.astype(u.dtype), jnp.conj(u))


def default_osc() -> OscParams:
    """Oscillation parameters used when ``params.osc`` is None: NuFIT 6.0 normal-ordering best fit."""
    return OscParams.nufit()


def resolve_osc(osc, what: str = "params.osc") -> OscParams:
    """``osc`` itself if an :class:`OscParams`, :func:`default_osc` if None; otherwise
    :class:`~nsijax.errors.InvalidParamsError` naming ``what`` (the field the value came from)."""
    if osc is None:
        return default_osc()
    if not isinstance(osc, OscParams):
        raise InvalidParamsError(
            f"{what} must be an nsijax.physics.oscillation.OscParams or None (= NuFIT 6.0 NO); got {type(osc).__name__}"
        )
    return osc
