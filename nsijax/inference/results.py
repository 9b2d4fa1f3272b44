"""Scan results with their inputs, saved as JSON + NPZ, and the usual Delta chi^2 levels."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

#: Delta chi^2 thresholds (Wilks): (confidence level, degrees of freedom) -> level.
DELTA_CHI2 = {(0.68, 1): 1.0, (0.90, 1): 2.706, (0.95, 1): 3.841, (0.68, 2): 2.296, (0.90, 2): 4.605, (0.95, 2): 5.991}


@dataclasses.dataclass
class ScanResult:
    """A profile scan: ``names`` of the scanned parameters and their ``axes``; ``chi2`` and
    ``delta_chi2`` on the grid (shape = axes lengths); ``profiled`` nuisance values; per-point fit
    ``results`` codes; the global ``best_fit`` and ``chi2_min``; ``metadata`` (inputs, timing)."""

    names: tuple
    axes: list
    chi2: np.ndarray
    delta_chi2: np.ndarray
    profiled: dict
    results: np.ndarray
    best_fit: dict
    chi2_min: float
    metadata: dict = dataclasses.field(default_factory=dict)

    def interval(self, level: float = 2.706) -> list[tuple[float, float]]:
        """1D scans: the intervals where Delta chi^2 <= level (crossings linearly interpolated)."""
        if len(self.names) != 1:
            raise ValueError("interval() is for 1D scans; use the Delta chi^2 grid for contours")
        x, y = self.axes[0], self.delta_chi2
        inside = y <= level
        out, i = [], 0
        while i < len(x):
            if not inside[i]:
                i += 1
                continue
            j = i
            while j + 1 < len(x) and inside[j + 1]:
                j += 1
            lo = x[i] if i == 0 else x[i - 1] + (level - y[i - 1]) * (x[i] - x[i - 1]) / (y[i] - y[i - 1])
            hi = x[j] if j == len(x) - 1 else x[j] + (level - y[j]) * (x[j + 1] - x[j]) / (y[j + 1] - y[j])
            out.append((float(lo), float(hi)))
            i = j + 1
        return out

    def to_dict(self) -> dict:
        return {
            "names": list(self.names),
            "axes": [np.asarray(a).tolist() for a in self.axes],
            "chi2": np.asarray(self.chi2).tolist(),
            "delta_chi2": np.asarray(self.delta_chi2).tolist(),
            "profiled": {k: np.asarray(v).tolist() for k, v in self.profiled.items()},
            "results": np.asarray(self.results).tolist(),
            "best_fit": self.best_fit,
            "chi2_min": self.chi2_min,
            "metadata": self.metadata,
        }

    def save(self, path: str | Path, inputs: dict | None = None) -> tuple[Path, Path]:
        """Write ``<path>.json`` (everything, with ``inputs``) and ``<path>.npz`` (arrays)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        d = self.to_dict()
        d["inputs"] = inputs or {}
        jp, npz = path.with_suffix(".json"), path.with_suffix(".npz")
        jp.write_text(json.dumps(d, indent=1, default=str))
        arrays = {f"axis_{k}": np.asarray(a) for k, a in zip(self.names, self.axes)}
        arrays.update(chi2=self.chi2, delta_chi2=self.delta_chi2, results=self.results)
        arrays.update({f"profiled_{k}": v for k, v in self.profiled.items()})
        np.savez(npz, **arrays)
        return jp, npz

    @classmethod
    def load(cls, path: str | Path) -> ScanResult:
        d = json.loads(Path(path).with_suffix(".json").read_text())
        return cls(
            names=tuple(d["names"]),
            axes=[np.asarray(a) for a in d["axes"]],
            chi2=np.asarray(d["chi2"], float),
            delta_chi2=np.asarray(d["delta_chi2"], float),
            profiled={k: np.asarray(v, float) for k, v in d["profiled"].items()},
            results=np.asarray(d["results"], int),
            best_fit=d["best_fit"],
            chi2_min=float(d["chi2_min"]),
            metadata=d.get("metadata", {}),
        )


def lowest(results) -> ScanResult:
    """Pointwise minimum of scans of the same grid (multi-start profiles of a multimodal chi^2): at each
    point the chi^2, profiled values and result code of the run with the lowest chi^2; the best fit is
    the grid minimum (Delta chi^2 relative to it). Metadata: the first run's, with ``starts`` added."""
    results = list(results)
    if not results:
        raise ValueError("lowest() needs at least one ScanResult")
    first = results[0]
    for r in results[1:]:
        if r.names != first.names or any(np.shape(a) != np.shape(b) or not np.allclose(a, b) for a, b in zip(r.axes, first.axes)):
            raise ValueError("lowest() combines scans of the same grid only")
    c = np.stack([np.where(np.isfinite(r.chi2), r.chi2, np.inf) for r in results])
    k = np.argmin(c, axis=0)
    pick = lambda arrs: np.take_along_axis(np.stack(arrs), k[None], axis=0)[0]  # noqa: E731
    chi2 = pick([r.chi2 for r in results])
    prof = {name: pick([r.profiled[name] for r in results]) for name in first.profiled}
    j = np.unravel_index(int(np.nanargmin(chi2)), chi2.shape)
    grid = np.meshgrid(*first.axes, indexing="ij")
    best = {n: float(g[j]) for n, g in zip(first.names, grid)} | {n: float(v[j]) for n, v in prof.items()}
    m = float(chi2[j])
    return ScanResult(names=first.names, axes=first.axes, chi2=chi2, delta_chi2=chi2 - m, profiled=prof,
                      results=pick([r.results for r in results]), best_fit=best, chi2_min=m,
                      metadata={**first.metadata, "starts": len(results)})
