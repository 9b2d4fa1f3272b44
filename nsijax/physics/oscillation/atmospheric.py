"""Atmospheric neutrinos through the Earth on a true (energy, cos zenith) grid, with NSI.

A :class:`ZenithGrid` holds the cells of a detector's true-variable grid (log-spaced in energy, linear in
cos zenith) and the PREM paths (:func:`nsijax.physics.oscillation.earth.prem_layers`) from the production
height(s) to the detector. :func:`grid_probabilities` propagates nu and nu-bar through every path at every
cell energy in one batched call of the layered solver (Standard matter + the NSI of ``params.matter_nsi()``),
once per parameter point; experiments fold the result with their response on the same cells.

Production height: the probability is averaged over the given heights with their weights (default one
height, 20 km, as PISA's ``prob3`` stage and Honda's mean production height for GeV neutrinos).

Cost: a PREM chord crosses between 2 (down-going) and 27 segments of the 28 the padded paths carry. The
grid sorts its zenith paths into groups (:data:`PATH_GROUPS`) and drops, per group, the layers none of its
paths crosses (zero-length layers are exact identities); the result is put back in grid order. On the
200 x 200 grid of DeepCore (2 cores): value + gradient 1.06 s with one group, 0.57 s with two, 0.49 s with
four, but each group is one more compiled kernel (compile 7.6 s, 12.7 s, 28.6 s): two is the default.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from ...errors import InvalidInputError
from ...parameters.nsi import NSI
from ...parameters.oscillation import OscParams
from .earth import ATMOSPHERE_KM, prem_layers
from .layers import Layers
from .propagation import oscillation_probability

#: Number of groups the zenith paths are sorted into by their count of crossed layers.
PATH_GROUPS = 2


def _group_paths(counts: np.ndarray, n_groups: int) -> list[np.ndarray]:
    """Split path indices, sorted by layer count, into <= n_groups contiguous runs minimising
    sum(run size x largest count in the run) (dynamic programming over the sorted counts)."""
    order = np.argsort(counts, kind="stable")
    c = counts[order]
    n = c.size
    k = max(1, min(int(n_groups), n))
    best = np.full((k + 1, n + 1), np.inf)
    cut = np.zeros((k + 1, n + 1), dtype=int)
    best[0, 0] = 0.0
    for g in range(1, k + 1):
        for j in range(1, n + 1):
            i = np.arange(j)
            cost = best[g - 1, i] + (j - i) * c[j - 1]
            cut[g, j] = int(np.argmin(cost))
            best[g, j] = cost[cut[g, j]]
    g = int(np.argmin(best[1:, n])) + 1
    runs, j = [], n
    while g > 0:
        i = cut[g, j]
        runs.append(order[i:j])
        j, g = i, g - 1
    return runs[::-1]


def _compact(layers: Layers, paths: np.ndarray) -> Layers:
    """The layers of ``paths`` (axis -2) with the layers none of them crosses removed (at any height)."""
    length = np.asarray(layers.length_km)[..., paths, :]
    crossed = np.any(length > 0, axis=tuple(range(length.ndim - 1)))
    n = max(int(crossed.sum()), 1)
    # per path, its crossed layers in order, then zero-length padding
    mask = np.any(length > 0, axis=0)  # (n_paths, n_layers) over heights
    idx = np.zeros((paths.size, n), dtype=int)
    keep = np.zeros((paths.size, n), dtype=bool)
    for r, m in enumerate(mask):
        nz = np.flatnonzero(m)
        idx[r, : nz.size] = nz
        keep[r, : nz.size] = True

    def take(a):
        a = np.broadcast_to(np.asarray(a), np.asarray(layers.length_km).shape)[..., paths, :]
        return np.take_along_axis(a, np.broadcast_to(idx, a.shape[:-2] + idx.shape), axis=-1)

    return Layers(np.where(keep, take(layers.length_km), 0.0), take(layers.density_gcc), take(layers.ye), take(layers.yn))


class ZenithGrid(eqx.Module):
    """True-variable cells of an atmospheric-neutrino detector and the Earth paths to their centres.

    Attributes:
        energy_edges_gev: cell edges in energy [GeV], log-spaced (nE + 1,).
        cz_edges: cell edges in cos zenith, increasing in [-1, 1] (nC + 1,).
        energy_gev: cell centres in energy, geometric means of the edges [GeV] (nE,).
        cos_zenith: cell centres in cos zenith (nC,).
        layers: PREM paths to the detector, :class:`Layers` of shape (nH, nC, 28), one per production height.
        height_weight: weight of each production height, summing to 1 (nH,).
        path_groups: the zenith paths in groups (:data:`PATH_GROUPS`): per group its Layers (nH, n_g, L_g)
            without the layers none of its paths crosses.
        path_order: position of each cos zenith cell in the concatenated groups (nC,).
    """

    energy_edges_gev: Float[Array, " nE+1"]
    cz_edges: Float[Array, " nC+1"]
    energy_gev: Float[Array, " nE"]
    cos_zenith: Float[Array, " nC"]
    layers: Layers
    height_weight: Float[Array, " nH"]
    path_groups: tuple[Layers, ...]
    path_order: Int[Array, " nC"]

    def __init__(
        self,
        energy_edges_gev,
        cz_edges,
        *,
        detector_depth_km: float,
        production_heights_km=(ATMOSPHERE_KM,),
        height_weights=None,
    ):
        e = np.asarray(energy_edges_gev, float)
        c = np.asarray(cz_edges, float)
        if e.ndim != 1 or e.size < 2 or np.any(~np.isfinite(e)) or np.any(e <= 0) or np.any(np.diff(e) <= 0):
            raise InvalidInputError("energy_edges_gev must be positive, finite and increasing")
        if c.ndim != 1 or c.size < 2 or np.any(np.diff(c) <= 0) or c[0] < -1.0 or c[-1] > 1.0:
            raise InvalidInputError("cz_edges must be increasing inside [-1, 1] (cos zenith outside [-1, 1])")
        heights = np.atleast_1d(np.asarray(production_heights_km, float))
        if np.any(~np.isfinite(heights)) or np.any(heights < 0):
            raise InvalidInputError(f"production heights must be finite and >= 0 km; got {heights}")
        w = np.ones_like(heights) if height_weights is None else np.asarray(height_weights, float)
        if w.shape != heights.shape or np.any(w < 0) or w.sum() <= 0:
            raise InvalidInputError("height_weights must be >= 0, one per production height, not all 0")
        centres_c = 0.5 * (c[1:] + c[:-1])
        paths = [prem_layers(jnp.asarray(centres_c), detector_depth_km=detector_depth_km, atmosphere_km=h)
                 for h in heights]
        self.energy_edges_gev = jnp.asarray(e)
        self.cz_edges = jnp.asarray(c)
        self.energy_gev = jnp.asarray(np.sqrt(e[1:] * e[:-1]))
        self.cos_zenith = jnp.asarray(centres_c)
        self.layers = Layers(*(jnp.stack([getattr(p, k) for p in paths]) for k in ("length_km", "density_gcc", "ye", "yn")))
        self.height_weight = jnp.asarray(w / w.sum())
        counts = np.asarray(jnp.sum(jnp.any(self.layers.length_km > 0, axis=0), axis=-1))
        runs = _group_paths(counts, PATH_GROUPS)
        self.path_groups = tuple(_compact(self.layers, r) for r in runs)
        self.path_order = jnp.asarray(np.argsort(np.concatenate(runs)), dtype=jnp.int32)

    @classmethod
    def regular(
        cls, e_min_gev: float, e_max_gev: float, n_energy: int, n_coszen: int, *, cz_min: float = -1.0,
        cz_max: float = 1.0, **kwargs
    ) -> ZenithGrid:
        """``n_energy`` log-equal cells on [e_min, e_max] GeV x ``n_coszen`` equal cells on [cz_min, cz_max]."""
        if int(n_energy) < 1 or int(n_coszen) < 1:
            raise InvalidInputError("n_energy and n_coszen must be >= 1")
        return cls(np.geomspace(e_min_gev, e_max_gev, int(n_energy) + 1),
                   np.linspace(cz_min, cz_max, int(n_coszen) + 1), **kwargs)

    @property
    def shape(self) -> tuple[int, int]:
        """(nC, nE): the cell layout of :func:`grid_probabilities`."""
        return (self.cos_zenith.shape[0], self.energy_gev.shape[0])

    def cell_index(self, energy_gev: np.ndarray, cos_zenith: np.ndarray) -> np.ndarray:
        """Flat cell index ``ic * nE + ie`` of each (energy, cos zenith), NumPy; -1 outside the grid
        (the upper edges are excluded, as a histogram's bins [lo, hi))."""
        e = np.asarray(energy_gev, float)
        c = np.asarray(cos_zenith, float)
        ie = np.searchsorted(np.asarray(self.energy_edges_gev), e, side="right") - 1
        ic = np.searchsorted(np.asarray(self.cz_edges), c, side="right") - 1
        n_c, n_e = self.shape
        inside = (ie >= 0) & (ie < n_e) & (ic >= 0) & (ic < n_c)
        return np.where(inside, ic * n_e + ie, -1)


def grid_probabilities(osc: OscParams, grid: ZenithGrid, nsi: NSI | None = None) -> Float[Array, "2 nC nE 3 3"]:
    """P(nu_a -> nu_b) at every cell centre of ``grid``, for nu (index 0) and nu-bar (1).

    Returns ``P[nubar, ic, ie, a, b]`` averaged over the grid's production heights; the matter term has the
    NSI ``nsi`` (None: Standard Model). Differentiable in ``osc`` and ``nsi``.
    """
    out = []
    for anti in (False, True):
        groups = [oscillation_probability(osc, grid.energy_gev, lay, nsi=nsi, antineutrino=anti) for lay in grid.path_groups]
        p = jnp.concatenate(groups, axis=1)[:, grid.path_order]
        out.append(jnp.einsum("h,h...->...", grid.height_weight, p))
    return jnp.stack(out)
