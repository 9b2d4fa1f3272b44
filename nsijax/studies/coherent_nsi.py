"""The main job: NSI and Z' constraints from COHERENT CsI 2021 + LAr 2020 on the bundled data.

Steps (each result saved as JSON/NPZ with the inputs that made it, plots as PNG):
  1. Standard-Model fit: chi^2 with every nuisance profiled, and the fitted pulls.
  2. 1D profiles of eps^u_ee and eps^d_ee (the other couplings zero, nuisances profiled).
  3. The 2D Delta chi^2 map of (eps^u_ee, eps^d_ee) and its 90% CL region.
  4. 90% CL exclusion curves g_Z' versus M_Z' for each charge preset (B-L and universal by default):
     Delta chi^2 relative to the best point at each mass (g = 0, the SM, included) above 2.706.
Scans run as vmapped chunks with progress bars and resume from checkpoints in ``<output>/checkpoints``,
keyed by the whole config and the experiments' content, so a changed setting or data set never reuses them.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import jax
import numpy as np

from .. import experiments as _experiments
from ..errors import InvalidInputError
from ..inference import DELTA_CHI2, ScanResult, exclusion_limit, profile_scan, profiled_chi2, stable_hash, zprime_chi2
from ..interface import plotting
from ..likelihood import chi2, profile_nuisances
from ..parameters.params import Params
from ..parameters.zprime import CHARGE_PRESETS
from ._config import from_mapping as _from_mapping


@dataclasses.dataclass
class StudyConfig:
    """Settings of the COHERENT NSI / Z' study (also read from a TOML table ``[fit]``)."""

    experiments: tuple[str, ...] = ("coherent_csi_2021", "coherent_lar_2020")
    eps_min: float = -1.0
    eps_max: float = 1.0
    n_1d: int = 81
    n_2d: int = 31
    zprime_presets: tuple[str, ...] = ("B-L", "universal")
    log10_mass_min: float = 0.0
    log10_mass_max: float = 4.0
    n_mass: int = 20
    log10_g_min: float = -6.5
    log10_g_max: float = -1.5
    n_g: int = 16
    profile_steps: int = 12
    zprime_profile_steps: int = 4
    chunk_size: int = 64
    level_1d: float = DELTA_CHI2[(0.90, 1)]
    level_2d: float = DELTA_CHI2[(0.90, 2)]

    @classmethod
    def fast(cls) -> StudyConfig:
        """Small grids for tests and quick looks."""
        return cls(n_1d=21, n_2d=9, n_mass=4, n_g=13)

    def validate(self) -> StudyConfig:
        known = set(_experiments.available())
        bad = [e for e in self.experiments if e not in known]
        if bad:
            raise InvalidInputError(f"unknown experiments {bad}; available: {sorted(known)}")
        if not self.eps_min < self.eps_max:
            raise InvalidInputError("eps_min must be below eps_max")
        if not self.log10_mass_min < self.log10_mass_max or not self.log10_g_min < self.log10_g_max:
            raise InvalidInputError("log10 ranges must be increasing (min < max)")
        for k in ("n_1d", "n_2d", "n_mass", "n_g", "chunk_size"):
            if getattr(self, k) < 2:
                raise InvalidInputError(f"{k} must be >= 2")
        if self.profile_steps < 0:
            raise InvalidInputError("profile_steps must be >= 0")
        badz = [p for p in self.zprime_presets if p not in CHARGE_PRESETS]
        if badz:
            raise InvalidInputError(f"unknown Z' presets {badz}; known: {sorted(CHARGE_PRESETS)}")
        return self

    @classmethod
    def from_mapping(cls, d: dict, base: StudyConfig | None = None) -> StudyConfig:
        """``base`` (default: the defaults) with the settings in ``d`` replaced; unknown keys are errors."""
        return _from_mapping(cls, d, base)


def run(config: StudyConfig, output: str | Path, *, progress: bool = True, plots: bool = True) -> dict:
    """Run the study, write ``summary.json``, the scan files and PNG plots to ``output``."""
    config.validate()
    out = Path(output)
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    exps = [_experiments.load(n) for n in config.experiments]
    inputs = {"config": dataclasses.asdict(config), "experiments": list(config.experiments)}
    t_start = time.perf_counter()
    summary: dict = {"inputs": inputs}

    # 1. Standard Model
    sm = Params()
    chi2_sm = float(chi2(sm, exps, nuisances="profile", profile_steps=config.profile_steps))
    pulls = profile_nuisances(sm, exps, profile_steps=config.profile_steps).nuisances
    n_bins = int(sum(int(np.size(e.observed)) for e in exps))
    summary["standard_model"] = {"chi2": chi2_sm, "n_bins": n_bins, "pulls": {k: float(v) for k, v in pulls.items()}}
    if progress:
        print(f"Standard Model: chi2 = {chi2_sm:.2f} for {n_bins} bins ({', '.join(config.experiments)})", flush=True)

    loss = profiled_chi2(exps, profile_steps=config.profile_steps)
    ck = out / "checkpoints"
    key = stable_hash({"study": "coherent_nsi", **inputs}, exps)  # what defines the loss, data included

    # 2. 1D profiles
    eps = np.linspace(config.eps_min, config.eps_max, config.n_1d)
    summary["profiles_1d"] = {}
    scans_1d = {}
    for name in ("eps_u_ee", "eps_d_ee"):
        res = profile_scan(loss, {}, {name: eps}, chunk_size=config.chunk_size, checkpoint=ck / f"{name}.npz",
                           checkpoint_key=key, progress=progress, label=f"1D profile {name}", refine_best=False)
        res.save(out / f"profile_{name}", inputs=inputs)
        scans_1d[name] = res
        summary["profiles_1d"][name] = {
            "best_fit": res.best_fit.get(name),
            "chi2_min": res.chi2_min,
            "interval_90cl": res.interval(config.level_1d),
            "interval_68cl": res.interval(1.0),
        }

    # 3. 2D map
    e2 = np.linspace(config.eps_min, config.eps_max, config.n_2d)
    res2 = profile_scan(loss, {}, {"eps_u_ee": e2, "eps_d_ee": e2}, chunk_size=config.chunk_size,
                        checkpoint=ck / "eps_u_ee-eps_d_ee.npz", checkpoint_key=key, progress=progress,
                        label="2D eps_u_ee x eps_d_ee", refine_best=False)
    res2.save(out / "profile_eps_u_ee-eps_d_ee", inputs=inputs)
    summary["profile_2d"] = {"chi2_min": res2.chi2_min, "best_fit": res2.best_fit,
                             "fraction_allowed_90cl": float(np.mean(res2.delta_chi2 <= config.level_2d))}

    # 4. Z' exclusion curves: coarse grid in log10 g for every mass, then Illinois refinement of the
    #    first crossing; pulls warm-started at their SM best fit, so a few Gauss-Newton steps suffice
    lm = np.linspace(config.log10_mass_min, config.log10_mass_max, config.n_mass)
    lg = np.linspace(config.log10_g_min, config.log10_g_max, config.n_g)
    base = Params(nuisances=dict(pulls))
    summary["zprime"] = {}
    zres = {}
    for preset in config.zprime_presets:
        if progress:
            print(f"Z' {preset}: {config.n_mass} masses x {config.n_g} couplings + refinement ...", flush=True)
        t0 = time.perf_counter()
        zchi2 = zprime_chi2(exps, preset, base=base, profile_steps=config.zprime_profile_steps)
        ex = exclusion_limit(zchi2, lm, lg, chi2_sm=chi2_sm, level=config.level_1d)
        delta = ex["grid_delta_chi2"]
        r = ScanResult(
            names=("zprime_log10_mass_mev", "zprime_log10_g"), axes=[lm, lg], chi2=delta + ex["reference"][:, None],
            delta_chi2=delta, profiled={}, results=np.zeros(delta.shape, int), best_fit={}, chi2_min=float(chi2_sm),
            metadata={"reference": "Delta chi^2 at each mass relative to min(SM, best g on the grid at that mass)",
                      "seconds": time.perf_counter() - t0},
        )
        r.save(out / f"zprime_{preset}", inputs=inputs)
        curve = ex["log10_g"]
        zres[preset] = (r, curve)
        summary["zprime"][preset] = {
            "mass_mev": (10.0**lm).tolist(),
            "g_excluded_90cl": [None if not np.isfinite(x) else float(10.0**x) for x in curve],
            "seconds": time.perf_counter() - t0,
        }
    summary["seconds"] = time.perf_counter() - t_start
    summary["device"] = str(jax.devices()[0])
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=float))
    if plots:
        plotting.coherent_study_plots(out, scans_1d, res2, zres, config)
    return summary
