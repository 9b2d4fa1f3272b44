"""CEvNS beyond NSI: neutrino electromagnetic properties, the weak mixing angle and a neutron radius from pi-DAR,
reactor and solar CEvNS (by default COHERENT CsI 2021, Dresden-II and XENONnT 8B together).

Each parameter of ``parameters`` (names of :mod:`nsijax.parameters.names`, e.g. ``mu_nu_e``, ``millicharge_e``,
``charge_radius_mu``, ``sin2_theta_w``, ``r_n_Cs``) is profiled alone -- the others at their Standard-Model values,
every nuisance of every experiment profiled -- on its range (``ranges``, defaults :data:`DEFAULT_RANGES`). Output in
``<output>/``: ``cevns_properties.json`` (the inputs, the SM chi^2, per parameter the best fit and the 68 % and 90 % CL
intervals), one ScanResult per parameter (``profile_<name>.npz/.json``) and a PNG each; scans resume from
``checkpoints/``, keyed by the whole configuration and the experiments' data. Run by
``nsijax fit --cevns-properties [--fast] [--config F]`` (TOML table ``[cevns_properties]``).
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from .. import experiments as _experiments
from ..errors import InvalidInputError
from ..inference import DELTA_CHI2, profile_scan, profiled_chi2, stable_hash
from ..interface import plotting
from ..likelihood import chi2
from ..parameters.names import is_known
from ..parameters.params import Params
from ._config import from_mapping as _from_mapping

#: Default scan ranges (units of the names: mu_B, e, cm^2, fm), about twice the 90 % CL intervals of the default
#: experiments (measured with them: mu_nu_e < 3.6e-10, mu_nu_mu < 1.3e-9, |q_e| < 1.5e-11, <r^2_e> in [-7.9, 5.1]e-32,
#: <r^2_mu> in [-7.6, 1.5]e-32, sin^2 theta_W in [0.179, 0.259], R_n(Cs) in [4.7, 7.8] fm); other experiments may need
#: wider ones (``ranges``).
DEFAULT_RANGES: dict[str, tuple[float, float]] = {
    "mu_nu_e": (0.0, 6.0e-10),
    "mu_nu_mu": (0.0, 2.5e-9),
    "millicharge_e": (-2.5e-11, 2.5e-11),
    "charge_radius_e": (-1.5e-31, 1.5e-31),
    "charge_radius_mu": (-1.5e-31, 1.0e-31),
    "sin2_theta_w": (0.12, 0.34),
    "r_n_Cs": (3.0, 9.0),
}


@dataclasses.dataclass
class CEvNSPropertiesConfig:
    """Settings of the study (also read from a TOML table ``[cevns_properties]``; ``ranges`` as
    ``{name = [lo, hi]}``)."""

    experiments: tuple[str, ...] = ("coherent_csi_2021", "dresden_ii_2022", "xenonnt_b8")
    parameters: tuple[str, ...] = tuple(DEFAULT_RANGES)
    ranges: dict = dataclasses.field(default_factory=dict)
    n_points: int = 41
    profile_steps: int = 12
    chunk_size: int = 8
    level_90: float = DELTA_CHI2[(0.90, 1)]

    @classmethod
    def fast(cls) -> CEvNSPropertiesConfig:
        """A quick look: 9 points per parameter, COHERENT CsI 2021 and Dresden-II only."""
        return cls(experiments=("coherent_csi_2021", "dresden_ii_2022"), n_points=9)

    @classmethod
    def from_mapping(cls, d: dict, base: CEvNSPropertiesConfig | None = None) -> CEvNSPropertiesConfig:
        """``base`` (default: the defaults) with the settings in ``d`` replaced; unknown keys are errors."""
        return _from_mapping(cls, d, base)

    def range_of(self, name: str) -> tuple[float, float]:
        lo, hi = self.ranges.get(name, DEFAULT_RANGES.get(name, (None, None)))
        return lo, hi

    def validate(self) -> CEvNSPropertiesConfig:
        known = set(_experiments.available())
        bad = [e for e in self.experiments if e not in known]
        if bad or not self.experiments:
            raise InvalidInputError(f"unknown experiments {bad}; available: {sorted(known)}")
        if not self.parameters:
            raise InvalidInputError("parameters is empty")
        for name in self.parameters:
            if not is_known(name) or "." in name:
                raise InvalidInputError(f"unknown parameter {name!r} (see nsijax.parameters.names)")
            lo, hi = self.range_of(name)
            if lo is None:
                raise InvalidInputError(f"parameter {name!r} needs a range: ranges = {{{name} = [lo, hi]}}")
            if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
                raise InvalidInputError(f"range of {name} must be two finite numbers lo < hi; got {[lo, hi]}")
        for name in self.ranges:
            if name not in self.parameters:
                raise InvalidInputError(f"ranges names {name!r}, which is not among parameters {list(self.parameters)}")
        if self.n_points < 3 or self.chunk_size < 1 or self.profile_steps < 1:
            raise InvalidInputError("n_points must be >= 3, chunk_size and profile_steps >= 1")
        return self


def run(config: CEvNSPropertiesConfig, output: str | Path, *, progress: bool = True, plots: bool = True) -> dict:
    """Run the study; write ``cevns_properties.json``, the scans and the PNGs to ``output``; return the summary."""
    config.validate()
    out = Path(output)
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    exps = [_experiments.load(n) for n in config.experiments]
    inputs = {"config": dataclasses.asdict(config), "experiments": list(config.experiments)}
    t0 = time.perf_counter()
    chi2_sm = float(chi2(Params(), exps, nuisances="profile", profile_steps=config.profile_steps))
    n_bins = int(sum(int(np.size(e.observed)) for e in exps))
    summary: dict = {"inputs": inputs, "standard_model": {"chi2": chi2_sm, "n_bins": n_bins}, "results": {}}
    if progress:
        print(f"Standard Model: chi2 = {chi2_sm:.2f} for {n_bins} bins ({', '.join(config.experiments)})", flush=True)
    loss = profiled_chi2(exps, profile_steps=config.profile_steps)
    key = stable_hash({"study": "cevns_properties", **inputs}, exps)
    for name in config.parameters:
        lo, hi = config.range_of(name)
        grid = np.linspace(lo, hi, config.n_points)
        res = profile_scan(
            loss, {}, {name: grid}, chunk_size=config.chunk_size, checkpoint=out / "checkpoints" / f"{name}.npz",
            checkpoint_key=key, progress=progress, label=f"profile {name}", refine_best=False,
        )  # fmt: skip
        res.save(out / f"profile_{name}", inputs=inputs)
        summary["results"][name] = {
            "range": [lo, hi],
            "best_fit": res.best_fit.get(name),
            "chi2_min": res.chi2_min,
            "delta_chi2_sm": chi2_sm - res.chi2_min,
            "interval_68cl": res.interval(1.0),
            "interval_90cl": res.interval(config.level_90),
        }
        if plots:
            plotting.profile_1d(
                res, out / f"profile_{name}.png", level=config.level_90, title=", ".join(config.experiments)
            )
    summary["wall_time_s"] = time.perf_counter() - t0
    (out / "cevns_properties.json").write_text(json.dumps(summary, indent=1, default=float))
    return summary
