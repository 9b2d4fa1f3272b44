"""Profile-likelihood scans: every grid point is a fit of the nuisances with the scanned parameters
fixed, vmapped over fixed-size chunks, sharded over every device ``jax.devices()`` reports, with a
progress bar and a checkpoint file so an interrupted scan resumes without losing finished points.

Each chunk is one call of a module-level :func:`equinox.filter_jit` function taking the loss as an
argument: a loss that is a pytree (:func:`nsijax.inference.losses.profiled_chi2` and the studies'
losses hold their experiments as arrays) is traced, so a scan of other data of equal shapes, other starts
or fixed values reuses the compiled chunk; a plain function is keyed by identity. No cache of compiled
functions is kept here.

A checkpoint is reused only if its fingerprint matches: a hash of everything that defines the
values (the loss's name, the scanned names and grid points, start, fixed values, bounds, fit
settings, warm starts, and the caller's ``checkpoint_key``, a :func:`stable_hash` of whatever defines
the loss: settings, experiments and their data). On resume one finished chunk is re-evaluated (the
canary); if it disagrees with the stored chi^2 the checkpoint is discarded with a
:class:`~nsijax.errors.StaleCheckpointWarning` and every point is recomputed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import sys
import time
import warnings
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path, PurePath

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..errors import InvalidInputError, StaleCheckpointWarning
from .fit import fit, result_code
from .results import ScanResult
from .transforms import Bounds


def progress_bar(total: int, desc: str, enabled: bool):
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


@eqx.filter_jit
def _chunk(loss, batch, start, fixed, names, prof, bounds, fit_kwargs):
    """The scan of one chunk: vmap over the grid points ``batch`` (rows: values of ``names``) of a fit of
    the ``prof`` parameters from ``start`` (``loss`` alone without any). Compiled once per structure of
    its arguments: a loss that is a pytree (its experiments as arrays) is traced, so scans of other data
    of equal shapes, other starts or fixed values reuse the program; names, bounds and fit settings
    (hashable tuples) are static."""
    bnd = {k: v for k, v in bounds}
    kw = dict(fit_kwargs)

    def at_point(vals):
        fx = {**fixed, **{k: vals[i] for i, k in enumerate(names)}}
        if not prof:
            return loss(fx), {}, jnp.zeros((), int)
        r = fit(loss, {k: start[k] for k in prof}, fixed=fx, bounds=bnd, covariance=False, **kw)
        return r.value, {k: r.params[k] for k in prof}, result_code(r.result)

    return jax.vmap(at_point)(batch)


def _feed(h, x, where: str) -> None:
    """Feed a canonical, type-tagged, length-prefixed encoding of ``x`` to the hash ``h``."""

    def tok(tag: bytes, payload: bytes) -> None:
        h.update(tag + len(payload).to_bytes(8, "little") + payload)

    if x is None:
        tok(b"N", b"")
    elif isinstance(x, (bool, np.bool_)):
        tok(b"B", b"1" if x else b"0")
    elif isinstance(x, (int, np.integer)):
        tok(b"I", str(int(x)).encode())
    elif isinstance(x, (float, np.floating)):
        f = float(x)  # integral floats hash like ints: TOML's 1 and 1.0 are one setting
        if f.is_integer():
            tok(b"I", str(int(f)).encode())
        else:
            tok(b"F", repr(f).encode())
    elif isinstance(x, (complex, np.complexfloating)):
        tok(b"C", repr(complex(x)).encode())
    elif isinstance(x, (str, PurePath)):
        tok(b"S", str(x).encode())
    elif isinstance(x, bytes):
        tok(b"Y", x)
    elif isinstance(x, (np.ndarray, jax.Array)):
        a = np.asarray(x)
        if a.dtype.hasobject:
            raise InvalidInputError(f"stable_hash: {where} is an object array; give numeric arrays")
        tok(b"A", f"{a.dtype.str}{a.shape}".encode())
        tok(b"D", np.ascontiguousarray(a).tobytes())
    elif dataclasses.is_dataclass(x) and not isinstance(x, type):  # configs, equinox modules (Experiment)
        fields = dataclasses.fields(x)
        tok(b"K", f"{type(x).__module__}.{type(x).__qualname__}:{len(fields)}".encode())
        for f in fields:
            tok(b"S", f.name.encode())
            _feed(h, getattr(x, f.name), f"{where}.{f.name}")
    elif isinstance(x, Mapping):
        items = sorted(((_digest(k, f"key of {where}"), k, v) for k, v in x.items()), key=lambda t: t[0])
        tok(b"M", str(len(items)).encode())
        for d, k, v in items:
            tok(b"S", d.encode())
            _feed(h, v, f"{where}[{k!r}]")
    elif isinstance(x, (list, tuple)):  # lists and tuples alike (TOML lists become config tuples)
        tok(b"L", str(len(x)).encode())
        for i, v in enumerate(x):
            _feed(h, v, f"{where}[{i}]")
    elif isinstance(x, (set, frozenset)):
        ds = sorted(_digest(v, f"element of {where}") for v in x)
        tok(b"E", "".join(ds).encode())
    else:
        leaves, treedef = jax.tree_util.tree_flatten(x)
        if jax.tree_util.treedef_is_leaf(treedef):
            raise InvalidInputError(
                f"stable_hash: cannot hash {where} of type {type(x).__name__}; give JSON-like values, arrays, "
                "dataclasses or pytrees of them (for a function, hash the settings and data that define it)")
        tok(b"T", str(treedef).encode())
        for i, v in enumerate(leaves):
            _feed(h, v, f"{where} leaf {i}")


def _digest(x, where: str) -> str:
    h = hashlib.sha256()
    _feed(h, x, where)
    return h.hexdigest()


def stable_hash(*parts) -> str:
    """A content hash (32 hex digits of SHA-256) of ``parts``, the same in every process and session.

    Hashes JSON-like values (None, bools, numbers, strings, paths, lists, tuples, dicts, sets), NumPy
    and JAX arrays (dtype, shape and bytes), dataclasses (class name and every field: study configs,
    equinox modules such as an experiment (:class:`nsijax.experiments.AbstractExperiment`), whose static fields are hashed by
    value and whose array leaves by content) and other JAX pytrees (structure and leaves). Lists and
    tuples hash alike, as do ints and integral floats (1 == 1.0); dict key order does not matter.
    Nothing depends on object ids or Python's salted ``hash``, so the digest keys files across runs:
    pass ``stable_hash(config, experiments)`` as ``checkpoint_key`` of :func:`profile_scan`.

    Raises:
        InvalidInputError: for anything else (a function, an object array, ...), naming where it is.
    """
    return _digest(list(parts), "argument")[:32]


def _loss_name(loss) -> str:
    """Module and qualified name of the loss (a weak key: closures of one factory share it)."""
    f = getattr(loss, "func", loss)  # functools.partial
    return f"{getattr(f, '__module__', '')}.{getattr(f, '__qualname__', type(f).__qualname__)}"


def _fingerprint(loss, names, pts, init, fixed, bounds, fit_kwargs, warm_chunk, checkpoint_key) -> str:
    """Hash of everything that defines a scan's per-point values (see the module docstring)."""
    return stable_hash({
        "format": 2,
        "loss": _loss_name(loss),
        "names": list(names),
        "points": np.asarray(pts, dtype=float),
        "init": [[k, np.asarray(v, dtype=float)] for k, v in init.items()],  # order: the fit's vector
        "fixed": {k: np.asarray(v, dtype=float) for k, v in fixed.items()},
        "bounds": {k: [None if b is None else float(b) for b in v] for k, v in dict(bounds or {}).items()},
        "fit": dict(fit_kwargs),
        "warm_start_chunk": warm_chunk,
        "key": checkpoint_key,
    })


#: Canary tolerance: a re-evaluated finished point agrees with the checkpoint if
#: |chi2_new - chi2_stored| <= CANARY_RTOL (1 + |chi2_stored|). The canary repeats the original
#: computation (same chunk, same start), which reproduces the stored chi^2 bit for bit on one machine;
#: the tolerance absorbs a different device or XLA version, far below any Delta chi^2 of interest.
CANARY_RTOL = 1e-6


def _agrees(stored: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Pointwise: equal within :data:`CANARY_RTOL`, or both NaN, or the same infinity."""
    with np.errstate(invalid="ignore"):
        close = np.abs(new - stored) <= CANARY_RTOL * (1.0 + np.abs(stored))
    return close | (np.isnan(stored) & np.isnan(new)) | (np.isinf(stored) & (stored == new))


def _load_checkpoint(path: Path | None, key: str, n: int, prof: tuple):
    """(values, profiled, results, done) from a checkpoint with fingerprint ``key``, else None
    (no file, another scan's file, or one that cannot be read)."""
    if path is None or not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as saved:
            if str(saved["fingerprint"]) != key:
                return None
            values, results, done = (np.array(saved[k]) for k in ("values", "results", "done"))
            profiled = {k: np.array(saved[f"p_{k}"]) for k in prof}
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    if values.shape != (n,) or done.shape != (n,) or results.shape != (n,):
        return None
    return values.astype(float), profiled, results.astype(int), done.astype(bool)


def _empty(n: int, prof: tuple):
    """(values, profiled, results, done) of a scan with no finished point."""
    return np.full(n, np.nan), {k: np.full(n, np.nan) for k in prof}, np.full(n, -1, dtype=int), np.zeros(n, dtype=bool)


def _padded(pts: np.ndarray, idx: np.ndarray, chunk: int) -> np.ndarray:
    """The grid points ``idx`` padded to ``chunk`` rows by repeating the last one."""
    return np.concatenate([pts[idx], np.repeat(pts[idx[-1:]], chunk - len(idx), axis=0)])


def _warm(start: dict, profiled: dict, i: int) -> dict:
    """Start of the next chunk: the profiled values at point ``i`` if finite, else ``start``."""
    if profiled and all(np.isfinite(v[i]) for v in profiled.values()):
        return {k: jnp.asarray(v[i]) for k, v in profiled.items()}
    return start


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
    checkpoint_key: str | None = None,
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
        checkpoint: NPZ file updated after each chunk; an existing one with the same fingerprint (every
            argument that defines the values, and ``checkpoint_key``) resumes, after one finished chunk
            is re-evaluated and agrees with it (else a StaleCheckpointWarning and a fresh start).
        progress: show a progress bar.
        refine_best: refine the best grid point by a fit with the scanned parameters free too (costs
            one more compilation); if False, the grid minimum defines Delta chi^2 = 0.
        warm_start: start each chunk from the previous chunk's last solution (default); if False,
            every point starts from ``init`` (for multi-start scans of multimodal profiles).
        checkpoint_key: what defines ``loss`` beyond its name, e.g. ``stable_hash(config, experiments)``
            (:func:`stable_hash`): a checkpoint of another key is never reused.
        fit_kwargs: passed to :func:`nsijax.inference.fit`.

    Returns:
        :class:`ScanResult` with chi^2 and Delta chi^2 on the grid (shape of the axes), the profiled
        parameters, per-point result codes and the global best fit; ``metadata["resumed_points"]``
        counts the points taken from the checkpoint.
    """
    if checkpoint_key is not None and not isinstance(checkpoint_key, str):
        raise InvalidInputError(f"checkpoint_key must be a string (e.g. stable_hash(...)); got {type(checkpoint_key).__name__}")
    fixed = dict(fixed or {})
    names, axes, pts = grid_points(grid)
    for k in names:
        if k in init or k in fixed:
            raise InvalidInputError(f"scanned parameter {k!r} must not also be in init or fixed")
    n_dev = len(jax.devices())
    chunk = int(np.ceil(max(1, chunk_size) / n_dev) * n_dev)
    n = len(pts)
    prof = tuple(init)

    static = (names, prof, _freeze(bounds), _freeze(fit_kwargs))
    fixed_arrays = {k: jnp.asarray(v, dtype=float) for k, v in fixed.items()}

    warm = bool(prof) and warm_start
    key = _fingerprint(loss, names, pts, init, fixed, bounds, fit_kwargs, chunk if warm else None, checkpoint_key)
    ckpt = Path(checkpoint) if checkpoint else None
    values, profiled, results, done = _load_checkpoint(ckpt, key, n, prof) or _empty(n, prof)

    init_start = {k: jnp.asarray(v, dtype=float) for k, v in init.items()}
    sharding = points_sharding(chunk)

    def evaluate(idx, start):
        batch = jnp.asarray(_padded(pts, idx, chunk))
        if sharding is not None:
            batch = jax.device_put(batch, sharding)
        v, p, r = _chunk(loss, batch, start, fixed_arrays, *static)
        m = len(idx)
        return np.asarray(v)[:m], {k: np.asarray(p[k])[:m] for k in prof}, np.asarray(r)[:m]

    # canary: re-evaluate the first finished chunk from the start the original run used
    first = next((lo for lo in range(0, n, chunk) if done[lo:lo + chunk].all()), None)
    if first is not None:
        start = init_start
        for lo in range(chunk, first + 1, chunk):
            start = _warm(start, profiled, lo - 1) if warm else start
        idx = np.arange(first, min(first + chunk, n))
        v, _, _ = evaluate(idx, start)
        ok = _agrees(values[idx], v)
        if not ok.all():
            j = idx[int(np.argmin(ok))]
            point = ", ".join(f"{k}={pts[j, i]:.6g}" for i, k in enumerate(names))
            warnings.warn(
                f"{ckpt}: checkpoint of the same inputs, but re-evaluating its finished point ({point}) gives "
                f"chi^2 = {v[j - first]:.10g}, not the stored {values[j]:.10g}: the loss, its data or the code "
                "changed since it was written (pass checkpoint_key=stable_hash(...) of what defines the loss); "
                "discarding it and recomputing every point",
                StaleCheckpointWarning, stacklevel=2)
            values, profiled, results, done = _empty(n, prof)
    resumed = int(done.sum())

    start = init_start
    bar = progress_bar(n, label, progress)
    if bar is not None:
        bar.update(resumed)
    t0 = time.perf_counter()
    for lo in range(0, n, chunk):
        idx = np.arange(lo, min(lo + chunk, n))
        if not done[idx].all():
            v, p, r = evaluate(idx, start)
            values[idx], results[idx], done[idx] = v, r, True
            for k in prof:
                profiled[k][idx] = p[k]
            if ckpt:
                ckpt.parent.mkdir(parents=True, exist_ok=True)
                tmp = ckpt.with_suffix(".tmp.npz")
                np.savez(tmp, fingerprint=key, values=values, results=results, done=done,
                         **{f"p_{k}": profiled[k] for k in prof})
                tmp.replace(ckpt)
            if bar is not None:
                bar.update(len(idx))
        if warm:  # warm start the next chunk from this chunk's last point (its neighbour)
            start = _warm(start, profiled, idx[-1])
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
        metadata={"chunk_size": chunk, "devices": n_dev, "seconds": elapsed, "resumed_points": resumed,
                  "fixed": {k: float(np.asarray(v)) for k, v in fixed.items()}},
    )
