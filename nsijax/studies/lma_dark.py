"""The joint study: LMA versus LMA-Dark from oscillation data alone and together with COHERENT.

Oscillations see only differences of the diagonal matter NSI at q^2 = 0; the generalized
mass-ordering degeneracy (PHYSICS.md) maps the LMA solution (theta12 < 45 deg) onto the "dark" one
(theta12 > 45 deg) with eps_ee - eps_mumu ~ -2 / (2 + Y_n) (up quarks) or -2 / (1 + 2 Y_n) (down
quarks). CEvNS measures eps^q_ee and eps^q_mumu separately and so can tell the two apart
(Coloma, Gonzalez-Garcia, Maltoni, Schwetz, arXiv:1708.02899).

For each quark (u, d) and each data set (oscillation experiments alone, then with the scattering
experiments added) the study profiles chi^2 over a grid of theta12 (dm21, eps^q_ee and
eps^q_mumu = eps^q_tautau profiled, every nuisance profiled; theta13, theta23, delta_CP, dm31 at
NuFIT 6.0 NO). Each grid point is fitted from several starting points (the LMA and dark images and
the COHERENT-degenerate solution eps_ee ~ eps_mumu ~ 0.35) and the lowest chi^2 is kept, because
the joint chi^2 has separate minima. Results: ``lma_dark.json`` (the Delta chi^2 of the dark side for
each quark and data set, best fits, inputs), one ScanResult (JSON + NPZ) per profile, and
``lma_dark.png``. Scans run as vmapped chunks with progress bars and resume from checkpoints, keyed by
the whole config, the quark and the experiments' content (a changed setting or data set recomputes).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .. import experiments as _experiments
from ..errors import InvalidInputError
from ..experiments.base import AbstractExperiment
from ..inference import AbstractLoss, lowest, profile_scan, stable_hash
from ..inference.results import ScanResult
from ..likelihood import chi2
from ..parameters.names import build_params
from ..parameters.params import Params
from ..physics.oscillation import OscParams
from ._config import from_mapping as _from_mapping


@dataclasses.dataclass
class LMADarkConfig:
    """Settings of the LMA-Dark study (also read from a TOML table ``[joint]``)."""

    oscillation: tuple[str, ...] = ("borexino_2018", "kamland_2011", "sno_d2o_2002")
    scattering: tuple[str, ...] = ("coherent_csi_2021", "coherent_lar_2020")
    quarks: tuple[str, ...] = ("u", "d")
    theta12_min_deg: float = 25.0
    theta12_max_deg: float = 65.0
    n_theta12: int = 21
    dm21_min: float = 6.0  # 1e-5 eV^2
    dm21_max: float = 9.5
    eps_min: float = -3.0
    eps_max: float = 2.0
    profile_steps: int = 12
    # L-BFGS settings of each profiled fit (chi^2 gradient tolerance; iterations; Adam fallback steps)
    fit_tol: float = 1e-4
    fit_max_steps: int = 100
    fit_fallback_steps: int = 100
    # one grid point per jitted call, warm-started from its neighbour: vmapped batches (chunk_size > 1)
    # of these fits hang in XLA:CPU's thread pool on jaxlib 0.10 (a known XLA issue with vmapped
    # while loops, see README "Known issues"); on GPU larger chunks are fine
    chunk_size: int = 1

    @classmethod
    def fast(cls) -> LMADarkConfig:
        """A coarse theta12 grid (quick looks and tests)."""
        return cls(n_theta12=9, theta12_min_deg=30.0, theta12_max_deg=62.0)

    def validate(self) -> LMADarkConfig:
        known = set(_experiments.available())
        bad = [e for e in (*self.oscillation, *self.scattering) if e not in known]
        if bad:
            raise InvalidInputError(f"unknown experiments {bad}; available: {sorted(known)}")
        kinds = {n: _experiments.spec(n)["kind"] for n in (*self.oscillation, *self.scattering)}
        not_osc = [n for n in self.oscillation if kinds[n] != "oscillation"]
        if not_osc or not self.oscillation:
            raise InvalidInputError(f"oscillation must list oscillation experiments; these are not: {not_osc}")
        if any(kinds[n] == "oscillation" for n in self.scattering):
            raise InvalidInputError("scattering must list scattering (COHERENT, CHARM, NuTeV) experiments")
        if not set(self.quarks) <= {"u", "d"} or not self.quarks:
            raise InvalidInputError(f"quarks must be a non-empty subset of ('u', 'd'); got {self.quarks}")
        if not 0.0 < self.theta12_min_deg < 45.0 < self.theta12_max_deg < 90.0:
            raise InvalidInputError("theta12 range must straddle 45 deg inside (0, 90)")
        if self.n_theta12 < 3 or self.chunk_size < 1:
            raise InvalidInputError("n_theta12 must be >= 3 and chunk_size >= 1")
        if not (0 < self.dm21_min < self.dm21_max) or not (self.eps_min < 0 < self.eps_max):
            raise InvalidInputError("need 0 < dm21_min < dm21_max and eps_min < 0 < eps_max")
        return self

    @classmethod
    def from_mapping(cls, d: dict, base: LMADarkConfig | None = None) -> LMADarkConfig:
        """``base`` (default: the defaults) with the settings in ``d`` replaced; unknown keys are errors."""
        return _from_mapping(cls, d, base)


#: Solar Y_n = n_n / n_e averaged over the 8B production region (B23 GS98, nsijax.physics.oscillation.sun): sets the
#: LMA-Dark image eps_ee - eps_mumu = -2 / (2 + Y_n) (u) or -2 / (1 + 2 Y_n) (d), PHYSICS.md.
SOLAR_YN_8B = 0.46


#: Published LMA-Dark exclusions with COHERENT CsI 2017 data (sigma), for comparison.
PUBLISHED = {
    "arXiv:1708.02899": {
        "reference": "Coloma, Gonzalez-Garcia, Maltoni, Schwetz, PRD 96 (2017) 115007: global oscillation data + "
                     "COHERENT CsI 2017 (total rate), joint fit",
        "lma_dark_excluded_sigma": {"u": 3.1, "d": 3.6},
    },
    "arXiv:1909.00466": {
        "reference": "Giunti, PRD 101 (2020) 035039: COHERENT CsI 2017 energy + timing data at the LMA-Dark fit of "
                     "solar data (abstract)",
        "lma_dark_excluded_sigma": {"u": 5.6, "d": 7.2},
    },
}


def starts(quark: str, joint: bool) -> tuple[tuple[float, float], ...]:
    """Starting points (eps_ee, eps_mumu) of the fits at every theta12: the SM and the dark image of
    ``quark``; with scattering data also the COHERENT-degenerate solution eps_ee ~ eps_mumu ~ 0.35 and
    its dark counterpart (eps_ee ~ 0, eps_mumu ~ 0.4)."""
    image = -2.0 / (2.0 + SOLAR_YN_8B) if quark == "u" else -2.0 / (1.0 + 2.0 * SOLAR_YN_8B)
    base = ((0.0, 0.0), (image, 0.0))
    return base + ((0.35, 0.35), (0.0, 0.4)) if joint else base


def joint_names(theta: dict, quark: str) -> dict:
    """The study's named scalars as flat names (:mod:`nsijax.parameters.names`): ``theta12_deg`` ->
    ``osc_theta12`` (rad), ``dm21_1e5`` (1e-5 eV^2) -> ``osc_dm21`` (eV^2), ``eps_ee`` -> ``eps_<q>_ee``,
    ``eps_mumu`` -> ``eps_<q>_mumu`` and ``eps_<q>_tautau`` (q = ``quark``)."""
    return {"osc_theta12": jnp.deg2rad(theta["theta12_deg"]), "osc_dm21": theta["dm21_1e5"] * 1e-5,
            f"eps_{quark}_ee": theta["eps_ee"], f"eps_{quark}_mumu": theta["eps_mumu"],
            f"eps_{quark}_tautau": theta["eps_mumu"]}


def joint_params(theta: dict, quark: str, base: OscParams | None = None) -> Params:
    """:class:`nsijax.Params` from the study's named scalars (:func:`joint_names`); the other oscillation
    parameters from ``base`` (default NuFIT 6.0 NO)."""
    return build_params(joint_names(theta, quark), base=Params(osc=base))


class JointChi2(AbstractLoss):
    """chi^2 (nuisances profiled) of ``experiments`` as a function of the study's dict of named scalars
    (see :func:`joint_params`); a pytree, so scans of equal structure share one compilation."""

    experiments: tuple[AbstractExperiment, ...]
    quark: str = eqx.field(static=True)
    profile_steps: int = eqx.field(static=True)

    def __call__(self, theta: dict):
        return chi2(joint_params(theta, self.quark), self.experiments, nuisances="profile",
                    profile_steps=self.profile_steps)


def joint_chi2(names: tuple[str, ...], quark: str, profile_steps: int = 12) -> JointChi2:
    """The :class:`JointChi2` of the bundled experiments ``names``."""
    return JointChi2(tuple(_experiments.load(n) for n in names), quark, int(profile_steps))


def profile_theta12(config: LMADarkConfig, names: tuple[str, ...], quark: str, *, checkpoint_dir: Path | None = None,
                    progress: bool = True) -> ScanResult:
    """chi^2 profiled over dm21, eps_ee, eps_mumu (and every nuisance) on the theta12 grid, the
    lowest of the fits from :func:`starts` kept at each point (each fit starts there, no warm start:
    the profile is bimodal)."""
    grid = {"theta12_deg": np.linspace(config.theta12_min_deg, config.theta12_max_deg, config.n_theta12)}
    bounds = {"dm21_1e5": (config.dm21_min, config.dm21_max), "eps_ee": (config.eps_min, config.eps_max),
              "eps_mumu": (config.eps_min, config.eps_max)}
    loss = joint_chi2(tuple(names), quark, config.profile_steps)
    tag = "+".join(names)
    joint = any(_experiments.spec(n)["kind"] != "oscillation" for n in names)
    todo = starts(quark, joint)
    key = stable_hash({"study": "lma_dark", "config": dataclasses.asdict(config), "experiments": list(names),
                       "quark": quark}, list(loss.experiments))
    runs = []
    for i, (ee, mm) in enumerate(todo):
        ck = None if checkpoint_dir is None else Path(checkpoint_dir) / f"lma_dark_{quark}_{tag}_start{i}.npz"
        runs.append(profile_scan(loss, {"dm21_1e5": 7.5, "eps_ee": ee, "eps_mumu": mm}, grid, bounds=bounds,
                                 chunk_size=config.chunk_size, checkpoint=ck, checkpoint_key=key, progress=progress,
                                 refine_best=False, warm_start=False, tol=config.fit_tol, max_steps=config.fit_max_steps,
                                 fallback_steps=config.fit_fallback_steps,
                                 label=f"{quark}, {len(names)} experiments, start {i + 1}/{len(todo)}"))
    return lowest(runs)


def dark_side(res: ScanResult) -> dict:
    """Minima on each side of 45 deg and Delta chi^2 = chi^2_min(dark) - chi^2_min(LMA)."""
    th = np.asarray(res.axes[0])
    out = {}
    for side, sel in (("lma", th < 45.0), ("dark", th > 45.0)):
        j = np.flatnonzero(sel)[int(np.argmin(res.chi2[sel]))]
        out[side] = {"chi2": float(res.chi2[j]), "theta12_deg": float(th[j]),
                     **{k: float(v[j]) for k, v in res.profiled.items()}}
    d = out["dark"]["chi2"] - out["lma"]["chi2"]
    out["delta_chi2_dark"] = d
    out["significance_sigma"] = math.sqrt(max(d, 0.0))  # 1 dof (the discrete LMA / dark choice)
    return out


def run(config: LMADarkConfig, output: str | Path, *, progress: bool = True, plots: bool = True) -> dict:
    """Run the study; write ``lma_dark.json``, the profiles and ``lma_dark.png`` to ``output``."""
    config.validate()
    out = Path(output)
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    inputs = {"config": dataclasses.asdict(config)}
    sets = {"oscillation": tuple(config.oscillation), "joint": (*config.oscillation, *config.scattering)}
    summary: dict = {"inputs": inputs, "results": {}}
    profiles = {}
    t0 = time.perf_counter()
    for quark in config.quarks:
        summary["results"][quark] = {}
        for label, names in sets.items():
            res = profile_theta12(config, names, quark, checkpoint_dir=out / "checkpoints", progress=progress)
            res.save(out / f"lma_dark_{quark}_{label}", inputs={**inputs, "experiments": list(names), "quark": quark})
            profiles[(quark, label)] = res
            summary["results"][quark][label] = {"experiments": list(names), **dark_side(res)}
            if progress:
                s = summary["results"][quark][label]
                print(f"{quark} quarks, {label}: chi2 LMA {s['lma']['chi2']:.2f} at {s['lma']['theta12_deg']:.1f} deg, "
                      f"dark {s['dark']['chi2']:.2f} at {s['dark']['theta12_deg']:.1f} deg "
                      f"(eps_ee - eps_mumu = {s['dark']['eps_ee'] - s['dark']['eps_mumu']:+.2f}): "
                      f"Delta chi2 = {s['delta_chi2_dark']:.2f}", flush=True)
    summary["wall_time_s"] = time.perf_counter() - t0
    summary["published"] = PUBLISHED
    (out / "lma_dark.json").write_text(json.dumps(summary, indent=2))
    if plots:
        _plot(profiles, config, out / "lma_dark.png")
    return summary


def _plot(profiles: dict, config: LMADarkConfig, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(config.quarks), figsize=(5.2 * len(config.quarks), 4.0), squeeze=False)
    for ax, quark in zip(axes[0], config.quarks):
        for label, style in (("oscillation", "--"), ("joint", "-")):
            r = profiles[(quark, label)]
            name = "+".join(config.oscillation) if label == "oscillation" else "+ " + "+".join(config.scattering)
            ax.plot(r.axes[0], r.delta_chi2, style, label=name)
        ax.axvline(45.0, color="0.6", lw=0.8)
        ax.set_xlabel(r"$\theta_{12}$ [deg]")
        ax.set_ylabel(r"$\Delta\chi^2$ (profiled)")
        ax.set_title(f"LMA / LMA-Dark, NSI with {quark} quarks")
        ax.set_ylim(0.0, 25.0)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
