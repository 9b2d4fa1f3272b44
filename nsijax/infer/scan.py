"""Profile-likelihood scans: every grid point is a fit of the nuisances with the scanned parameters
fixed, vmapped over fixed-size chunks, sharded over every device ``jax.devices()`` reports, with a
progress bar and a checkpoint file so an interrupted scan resumes without losing finished points.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import InvalidInputError
from .fit import fit
from .results import ScanResult
from .transforms import Bounds


def _progress(total: int, desc: str, enabled: bool):
    """A tqdm bar if tqdm is installed, else a plain line printer (stderr)."""
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, unit="pt", file=sys.stderr)
    except ImportError:  # pragma: no cover - tqdm is optional

        class _Plain:
            def __init__(self):
                self.n = 0

            def update(self, k):
                self.n += k
                print(f"{desc}: {self.n}/{total}", file=sys.stderr, flush=True)

            def close(self):
                pass

        return _Plain()


def points_sharding(n_points: int):
    """NamedSharding of a batch of ``n_points`` over all devices (None for a single device)."""
    devices = jax.devices()
    if len(devices) == 1 or n_points % len(devices):
        return None
    mesh = jax.sharding.Mesh(np.array(devices), ("points",))
    return jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("points"))


def grid_points(grid: Mapping[str, np.ndarray]) -> tuple[tuple[str, ...], list[np.ndarray], np.ndarray]:
    """Names, axes and the (n_points, n_dims) Cartesian product of a scan grid (first name slowest)."""
    names = tuple(grid)
    if not names:
        raise InvalidInputError("the scan grid is empty: give at least one name -> values")
    axes = [np.asarray(grid[k], dtype=float).ravel() for k in names]
    for k, a in zip(names, axes):
        if a.size == 0 or not np.all(np.isfinite(a)):
            raise InvalidInputError(f"scan axis {k!r} must be a non-empty array of finite values")
    pts = np.array(list(itertools.product(*axes)), dtype=float).reshape(-1, len(names))
    return names, axes, pts


def _freeze(d) -> tuple:
    return tuple(sorted((k, tuple(v) if isinstance(v, (list, tuple)) else v) for k, v in (d or {}).items()))


_BATCHED: dict = {}


def _batched_fit(loss, names, prof, fixed_names, bounds, fit_kwargs):
    """jit(vmap(fit at one grid point)), cached per loss and settings so repeated scans of the same
    loss (a resumed scan, a benchmark's second run) reuse the compilation."""
    key = (loss, names, prof, fixed_names, bounds, fit_kwargs)
    if key in _BATCHED:
        return _BATCHED[key]
    bnd = dict((k, tuple(v)) for k, v in bounds)
    kw = dict(fit_kwargs)

    def at_point(vals, start, fixed):
        fx = {**fixed, **{k: vals[i] for i, k in enumerate(names)}}
        if not prof:
            return loss(fx), {}, jnp.zeros((), int)
        r = fit(loss, {k: start[k] for k in prof}, fixed=fx, bounds=bnd, covariance=False, **kw)
        return r.value, {k: r.params[k] for k in prof}, r.result

    if len(_BATCHED) > 32:
        _BATCHED.clear()
    _BATCHED[key] = jax.jit(jax.vmap(at_point, in_axes=(0, None, None)))
    return _BATCHED[key]


def _fingerprint(names, pts, init, extra) -> str:
    h = hashlib.sha256()
    h.update(json.dumps([list(names), sorted(init), extra], default=str).encode())
    h.update(np.ascontiguousarray(pts).tobytes())
    return h.hexdigest()[:16]


def profile_scan(
    loss: Callable[[dict], jax.Array],
    init: Mapping[str, float],
    grid: Mapping[str, np.ndarray],
    *,
    fixed: Mapping[str, float] | None = None,
    bounds: Bounds | None = None,
    chunk_size: int = 64,
    checkpoint: str | Path | None = None,
    progress: bool = True,
    label: str = "profile scan",
    refine_best: bool = True,
    warm_start: bool = True,
    **fit_kwargs,
) -> ScanResult:
    """Profile ``loss`` (a chi^2) over the Cartesian ``grid`` of the scanned parameters.

    Args:
        loss: chi^2 as a function of a dict of every parameter (scanned, profiled and fixed).
        init: starting values of the profiled (free) parameters; empty for a plain grid evaluation.
        grid: ``name -> 1D values`` of the scanned parameters (1, 2 or more names).
        fixed: parameters held fixed everywhere.
        bounds: bounds of the profiled parameters (and of the scanned ones for the global fit).
        chunk_size: points per vmapped, jitted batch (rounded up to a multiple of the device count).
        checkpoint: NPZ file updated after each chunk; an existing one for the same inputs resumes.
        progress: show a progress bar.
        refine_best: refine the best grid point by a fit with the scanned parameters free too (costs
            one more compilation); if False, the grid minimum defines Delta chi^2 = 0.
        warm_start: start each chunk from the previous chunk's last solution (default); if False,
            every point starts from ``init`` (for multi-start scans of multimodal profiles).
        fit_kwargs: passed to :func:`nsijax.infer.fit`.

    Returns:
        :class:`ScanResult` with chi^2 and Delta chi^2 on the grid (shape of the axes), the profiled
        parameters, per-point result codes and the global best fit.
    """
    fixed = dict(fixed or {})
    names, axes, pts = grid_points(grid)
    for k in names:
        if k in init or k in fixed:
            raise InvalidInputError(f"scanned parameter {k!r} must not also be in init or fixed")
    n_dev = len(jax.devices())
    chunk = int(np.ceil(max(1, chunk_size) / n_dev) * n_dev)
    n = len(pts)
    prof = tuple(init)

    batched = _batched_fit(loss, names, prof, tuple(sorted(fixed)), _freeze(bounds), _freeze(fit_kwargs))
    fixed_arrays = {k: jnp.asarray(v, dtype=float) for k, v in fixed.items()}

    values = np.full(n, np.nan)
    profiled = {k: np.full(n, np.nan) for k in prof}
    results = np.full(n, -1, dtype=int)
    done = np.zeros(n, dtype=bool)
    key = _fingerprint(names, pts, init, {"fixed": {k: float(np.asarray(v)) for k, v in fixed.items()}})
    ckpt = Path(checkpoint) if checkpoint else None
    if ckpt and ckpt.exists():
        saved = np.load(ckpt, allow_pickle=False)
        if str(saved["fingerprint"]) == key:
            values, results, done = saved["values"], saved["results"], saved["done"]
            profiled = {k: saved[f"p_{k}"] for k in prof}

    start = {k: jnp.asarray(v, dtype=float) for k, v in init.items()}
    bar = _progress(n, label, progress)
    if bar is not None:
        bar.update(int(done.sum()))
    sharding = points_sharding(chunk)
    t0 = time.perf_counter()
    for lo in range(0, n, chunk):
        idx = np.arange(lo, min(lo + chunk, n))
        if done[idx].all():
            if prof and warm_start:
                start = {k: jnp.asarray(profiled[k][idx[-1]]) for k in prof}
            continue
        batch = np.concatenate([pts[idx], np.repeat(pts[idx[-1:]], chunk - len(idx), axis=0)])
        batch = jnp.asarray(batch)
        if sharding is not None:
            batch = jax.device_put(batch, sharding)
        v, p, r = batched(batch, start, fixed_arrays)
        m = len(idx)
        values[idx] = np.asarray(v)[:m]
        results[idx] = np.asarray(r)[:m]
        for k in prof:
            profiled[k][idx] = np.asarray(p[k])[:m]
        done[idx] = True
        if prof and warm_start:  # warm start the next chunk from this chunk's last point (its neighbour)
            ok = np.isfinite(profiled[prof[0]][idx[-1]])
            if ok:
                start = {k: jnp.asarray(profiled[k][idx[-1]]) for k in prof}
        if ckpt:
            ckpt.parent.mkdir(parents=True, exist_ok=True)
            tmp = ckpt.with_suffix(".tmp.npz")
            np.savez(tmp, fingerprint=key, values=values, results=results, done=done, **{f"p_{k}": profiled[k] for k in prof})
            tmp.replace(ckpt)
        if bar is not None:
            bar.update(m)
    if bar is not None:
        bar.close()
    elapsed = time.perf_counter() - t0

    # global minimum: refine the best grid point with the scanned parameters free too
    best = int(np.nanargmin(values))
    g_init = {**{k: float(pts[best, i]) for i, k in enumerate(names)}, **{k: float(profiled[k][best]) for k in prof}}
    best_fit, chi2_min = g_init, float(np.nanmin(values))
    if refine_best:
        g = fit(loss, g_init, fixed=fixed, bounds=bounds, covariance=False, **fit_kwargs)
        if np.isfinite(float(g.value)) and float(g.value) < chi2_min:
            best_fit, chi2_min = {k: float(np.asarray(v)) for k, v in g.params.items()}, float(g.value)

    shape = tuple(len(a) for a in axes)
    return ScanResult(
        names=names,
        axes=[a for a in axes],
        chi2=values.reshape(shape),
        delta_chi2=(values - chi2_min).reshape(shape),
        profiled={k: v.reshape(shape) for k, v in profiled.items()},
        results=results.reshape(shape),
        best_fit={k: float(np.asarray(v)) for k, v in best_fit.items()},
        chi2_min=chi2_min,
        metadata={"chunk_size": chunk, "devices": n_dev, "seconds": elapsed, "fixed": {k: float(np.asarray(v)) for k, v in fixed.items()}},
    )
