"""Earth matter paths from PREM (Dziewonski & Anderson, Phys. Earth Planet. Inter. 25 (1981) 297).

:func:`prem_layers` turns zenith angles into :class:`~nsijax.physics.oscillation.Layers` with a static layer count
(two segments per shell, zero-length where a chord misses a shell), so a grid of zenith angles is one
batched array and one compilation. Segment densities are the chord averages of the PREM polynomials
(Gauss-Legendre quadrature along the segment); composition Y_e is the core / mantle value.
:func:`night_paths` groups a detector's night-time cos(zenith) livetime into a few such paths.
"""

from __future__ import annotations

import csv
import io
import math
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..._checks import as_float, check
from .layers import Layers

#: Earth radius of PREM [km].
R_EARTH_KM = 6371.0
#: Core-mantle boundary radius [km] (PREM).
R_CMB_KM = 3480.0
#: Default Y_e (electrons per nucleon) of the core and of the mantle + crust: nuSQuIDS
#: EARTH_MODEL_PREM.dat and IceCube PISA earth.cfg (see nsijax/data/prem/README.md).
YE_CORE = 0.4656
YE_MANTLE = 0.4957
#: Default production height of atmospheric neutrinos [km] (PISA's prop_height is 20 km).
ATMOSPHERE_KM = 20.0


@lru_cache(maxsize=1)
def _prem_table() -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    text = (
        resources.files("nsijax").joinpath("data/prem/prem_density_polynomials.csv").read_text("utf-8")
    )
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    rows = list(csv.DictReader(io.StringIO("\n".join(lines))))
    r_outer = np.array([float(r["r_outer_km"]) for r in rows])
    coef = np.array([[float(r[k]) for k in ("a0", "a1", "a2", "a3")] for r in rows])
    names = tuple(r["name"] for r in rows)
    return r_outer, coef, names


def prem_density(radius_km: Float[Array, "..."]) -> Float[Array, "..."]:
    """PREM mass density [g/cm^3] at radius [km] (0 outside the Earth)."""
    r_outer, coef, _ = _prem_table()
    r = as_float(radius_km, "radius_km")
    x = r / R_EARTH_KM
    idx = jnp.searchsorted(jnp.asarray(r_outer), r, side="right")
    idx_c = jnp.clip(idx, 0, len(r_outer) - 1)
    c = jnp.asarray(coef)[idx_c]
    rho = c[..., 0] + x * (c[..., 1] + x * (c[..., 2] + x * c[..., 3]))
    return jnp.where((r >= 0) & (r <= R_EARTH_KM), rho, 0.0)


def _safe_sqrt(v):
    pos = v > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, v, 1.0)), 0.0)


def prem_layers(
    cos_zenith: Float[Array, "..."],
    *,
    detector_depth_km: float = 0.0,
    atmosphere_km: float = ATMOSPHERE_KM,
    ye_core: float = YE_CORE,
    ye_mantle: float = YE_MANTLE,
    yn_core: float | None = None,
    yn_mantle: float | None = None,
    n_quad: int = 8,
) -> Layers:
    """Layers along the path to a detector for neutrinos arriving from zenith angle theta.

    Args:
        cos_zenith: cos(theta) of the arrival direction, any shape; -1 = up-going through the centre,
            +1 = down-going. Must satisfy |cos_zenith| <= 1.
        detector_depth_km: detector depth below the surface [km].
        atmosphere_km: production height above the surface [km] (a zero-density first layer).
        ye_core, ye_mantle: Y_e below and above the core-mantle boundary (3480 km).
        yn_core, yn_mantle: Y_n = N_n/N_e; default (1 - Y_e)/Y_e (neutral matter, N_p = N_e).
        n_quad: Gauss-Legendre points for the chord-averaged density of each segment.

    Returns:
        :class:`Layers` with arrays of shape ``cos_zenith.shape + (2 * 14,)``: for each of the 13 PREM
        shells and the atmosphere, the inbound segment (outermost shell first), then the outbound
        segments (innermost first), in the order the neutrino crosses them; segments a chord does not
        cross have zero length.
    """
    c = as_float(cos_zenith, "cos_zenith")
    c = check(c, ~jnp.isfinite(c) | (jnp.abs(c) > 1.0), "cos_zenith must be finite with |cos_zenith| <= 1")
    if not 0.0 <= float(detector_depth_km) < R_EARTH_KM:
        raise ValueError(f"detector_depth_km must be in [0, {R_EARTH_KM}), got {detector_depth_km}")
    if float(atmosphere_km) < 0:
        raise ValueError(f"atmosphere_km must be >= 0, got {atmosphere_km}")
    r_outer, coef, _ = _prem_table()
    radii = np.concatenate([[0.0], r_outer, [R_EARTH_KM + float(atmosphere_km)]])  # 15 edges
    coef_all = np.concatenate([coef, np.zeros((1, 4))])  # atmosphere: rho = 0
    n_sh = len(radii) - 1
    rd = R_EARTH_KM - float(detector_depth_km)
    c = c[..., None]
    b2 = rd * rd * (1.0 - c * c)
    tstar = -rd * c
    q = _safe_sqrt(jnp.asarray(radii) ** 2 - b2)  # (..., 15)
    t_top = tstar + q[..., -1:]
    clipt = lambda t: jnp.clip(t, 0.0, t_top)  # noqa: E731
    # inbound (far side, t > t*): shells outermost -> innermost
    far_hi = clipt(tstar + q[..., 1:])[..., ::-1]
    far_lo = clipt(tstar + q[..., :-1])[..., ::-1]
    # outbound (near side, t < t*): innermost -> outermost
    near_hi = clipt(tstar - q[..., :-1])
    near_lo = clipt(tstar - q[..., 1:])
    t_hi = jnp.concatenate([far_hi, near_hi], axis=-1)
    t_lo = jnp.concatenate([far_lo, near_lo], axis=-1)
    shell = np.concatenate([np.arange(n_sh)[::-1], np.arange(n_sh)])
    length = t_hi - t_lo
    # chord-averaged density by Gauss-Legendre along each segment
    xg, wg = np.polynomial.legendre.leggauss(int(n_quad))
    tq = 0.5 * (t_hi + t_lo)[..., None] + 0.5 * (t_hi - t_lo)[..., None] * xg
    r = jnp.sqrt(b2[..., None] + (tq - tstar[..., None]) ** 2 + 1e-30) / R_EARTH_KM
    cf = jnp.asarray(coef_all[shell])  # (2 n_sh, 4)
    rho = cf[:, 0:1] + r * (cf[:, 1:2] + r * (cf[:, 2:3] + r * cf[:, 3:4]))
    density = 0.5 * jnp.sum(rho * wg, axis=-1)
    core = radii[1:][shell] <= R_CMB_KM
    ye_c, ye_m = float(ye_core), float(ye_mantle)
    yn_c = (1.0 - ye_c) / ye_c if yn_core is None else float(yn_core)
    yn_m = (1.0 - ye_m) / ye_m if yn_mantle is None else float(yn_mantle)
    ye = jnp.broadcast_to(jnp.asarray(np.where(core, ye_c, ye_m)), length.shape)
    yn = jnp.broadcast_to(jnp.asarray(np.where(core, yn_c, yn_m)), length.shape)
    return Layers(length, density, ye, yn)


def baseline_km(
    cos_zenith: Float[Array, "..."], *, detector_depth_km: float = 0.0, atmosphere_km: float = ATMOSPHERE_KM
) -> Float[Array, "..."]:
    """Path length from the production point to the detector [km]."""
    c = as_float(cos_zenith, "cos_zenith")
    c = check(c, ~jnp.isfinite(c) | (jnp.abs(c) > 1.0), "cos_zenith must be finite with |cos_zenith| <= 1")
    rd = R_EARTH_KM - float(detector_depth_km)
    ra = R_EARTH_KM + float(atmosphere_km)
    return -rd * c + jnp.sqrt(ra * ra - rd * rd * (1.0 - c * c))


class NightPaths(NamedTuple):
    """Representative night paths: livetime-weighted mean cos(zenith) per group (Z,), livetime fractions
    (Z,) summing to 1, and their PREM :class:`Layers` (Z, 28)."""

    cos_zenith: np.ndarray
    weight: np.ndarray
    layers: Layers


def night_paths(livetime: np.ndarray, n_nodes: int, detector_depth_km: float) -> NightPaths:
    """Group a night livetime histogram in cos(zenith) (equal bins on [-1, 0]) into ``n_nodes`` equal
    ranges, with one more boundary where paths start to cross the core (cos z = -sqrt(1 - (R_core /
    R_earth)^2)); per non-empty range, the livetime-weighted mean cos(zenith) and the livetime fraction,
    and the PREM paths to a detector ``detector_depth_km`` deep (no atmosphere). NumPy in, at build time."""
    livetime = np.asarray(livetime, float)
    nb = livetime.size
    centres = -1.0 + (np.arange(nb) + 0.5) / nb
    core = -math.sqrt(1.0 - (R_CMB_KM / R_EARTH_KM) ** 2)
    bounds = np.unique(np.concatenate([np.linspace(-1.0, 0.0, n_nodes + 1), [core]]))
    groups = np.clip(np.searchsorted(bounds, centres, side="right") - 1, 0, bounds.size - 2)
    cosz, w = [], []
    for g in range(bounds.size - 1):
        sel = groups == g
        lt = livetime[sel].sum()
        if lt > 0:
            cosz.append(float((centres[sel] * livetime[sel]).sum() / lt))
            w.append(lt)
    w = np.asarray(w) / np.sum(w)
    layers = prem_layers(jnp.asarray(cosz), detector_depth_km=detector_depth_km, atmosphere_km=0.0)
    return NightPaths(np.asarray(cosz), w, layers)
