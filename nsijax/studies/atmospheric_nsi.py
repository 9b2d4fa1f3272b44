"""Atmospheric-neutrino bounds on NSI in propagation: profiles of eps_mutau, eps_tautau - eps_mumu, |eps_emu|,
|eps_etau| from the bundled atmospheric data (default: IceCube DeepCore 3-year sample B).

Each coupling is switched on alone ("one at a time") as the NSI with one fermion (``fermion``, default d quarks,
the normalisation of IceCube's DeepCore NSI search, arXiv:1709.07079; ``e`` gives eps_ab relative to the
electron density, PHYSICS.md):

* ``mutau``: real eps_mutau; ``tautau_minus_mumu``: eps_tautau (eps_mumu = 0; oscillations see only differences
  of the diagonal entries);
* ``emu``, ``etau``: |eps_ab| e^{i phi_ab}, the phase profiled (fits from phi = 0 and pi).

At each grid point chi^2 is minimised over theta23 (both octants are started) and dm31 (normal ordering) and
every nuisance of the experiments (profiled); theta12, theta13, delta_CP and dm21 stay at NuFIT 6.0 (the
sample barely constrains them). Results: ``atmospheric_nsi.json`` (best fit, 90 % CL intervals, inputs), one
ScanResult (JSON + NPZ) per profile, ``atmospheric_nsi.png``.
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
from ..experiments.atmospheric.true_grid import resized
from ..inference import AbstractLoss, lowest, profile_scan, stable_hash
from ..inference.results import DELTA_CHI2, ScanResult
from ..likelihood import chi2
from ..parameters.names import build_params
from ..parameters.oscillation import OscParams
from ..parameters.params import Params
from ._config import from_mapping as _from_mapping

#: coupling -> (NSI component of the real part or diagonal entry, of the imaginary part or None)
COUPLINGS = {
    "mutau": ("mutau_re", None),
    "tautau_minus_mumu": ("tautau", None),
    "emu": ("emu_re", "emu_im"),
    "etau": ("etau_re", "etau_im"),
}
#: fit bounds of the profiled oscillation parameters (normal ordering)
BOUNDS = {"theta23_deg": (35.0, 55.0), "dm31_1e3": (2.0, 3.0)}
#: published 90 % CL bounds to compare with (printed and stored in the JSON, not used in the fit)
PUBLISHED = {
    "mutau": {"interval_90cl": [-0.0067, 0.0081], "best_fit": -0.0005,
              "reference": "IceCube DeepCore 3 years (PRD 91 072004 sample), PRD 97 (2018) 072009, arXiv:1709.07079"},
}


def is_complex(coupling: str) -> bool:
    return COUPLINGS[coupling][1] is not None


@dataclasses.dataclass
class AtmosphericNSIConfig:
    """Settings of the atmospheric NSI study (also read from a TOML table ``[atmospheric_nsi]``)."""

    experiments: tuple[str, ...] = ("deepcore_2019_sample_b",)
    couplings: tuple[str, ...] = ("mutau", "tautau_minus_mumu", "emu", "etau")
    fermion: str = "d"
    mutau_max: float = 0.03
    diagonal_max: float = 0.15
    offdiagonal_max: float = 0.3
    n_points: int = 13
    # theta23 starting values of the fits at every grid point (both octants)
    theta23_starts_deg: tuple[float, ...] = (46.0, 44.0)
    # (n_energy, n_coszen) of every experiment's true grid instead of its spec's (None: the spec's)
    true_grid: tuple[int, int] | None = None
    profile_steps: int = 6
    fit_tol: float = 1e-4
    fit_max_steps: int = 100
    fit_fallback_steps: int = 50
    chunk_size: int = 1

    @classmethod
    def fast(cls) -> AtmosphericNSIConfig:
        """Two couplings on 5 points (a quick look, ~10 min on 2 cores)."""
        return cls(couplings=("mutau", "tautau_minus_mumu"), n_points=5, fit_tol=1e-3)

    def validate(self) -> AtmosphericNSIConfig:
        known = _experiments.available()
        for name in self.experiments:
            if name not in known:
                raise InvalidInputError(f"unknown experiment {name!r}; known: {known}")
            if _experiments.spec(name)["kind"] != "atmospheric":
                raise InvalidInputError(f"{name!r} is not an atmospheric-neutrino experiment (kind 'atmospheric')")
        bad = [c for c in self.couplings if c not in COUPLINGS]
        if bad or not self.couplings:
            raise InvalidInputError(f"unknown couplings {bad}; known: {sorted(COUPLINGS)}")
        if self.fermion not in ("e", "u", "d"):
            raise InvalidInputError(f"fermion must be 'e', 'u' or 'd'; got {self.fermion!r}")
        if min(self.mutau_max, self.diagonal_max, self.offdiagonal_max) <= 0.0 or self.n_points < 3:
            raise InvalidInputError("the ranges must be > 0 and n_points >= 3")
        if self.true_grid is not None and (len(self.true_grid) != 2 or min(self.true_grid) < 4):
            raise InvalidInputError(f"true_grid must be (n_energy, n_coszen), each >= 4; got {self.true_grid}")
        lo, hi = BOUNDS["theta23_deg"]
        if not self.theta23_starts_deg or not all(lo < t < hi for t in self.theta23_starts_deg):
            raise InvalidInputError(f"theta23_starts_deg must be non-empty, inside ({lo}, {hi}) deg")
        return self

    @classmethod
    def from_mapping(cls, d: dict, base: AtmosphericNSIConfig | None = None) -> AtmosphericNSIConfig:
        return _from_mapping(cls, d, base)


def flat_names(theta: dict, coupling: str, fermion: str) -> dict:
    """The study's named scalars as flat names (:mod:`nsijax.parameters.names`): ``eps`` (the coupling; the
    modulus for emu, etau) and ``phase`` (rad) -> ``eps_<fermion>_<component>``; ``theta23_deg`` ->
    ``osc_theta23``; ``dm31_1e3`` (1e-3 eV^2) -> ``osc_dm31``."""
    re, im = COUPLINGS[coupling]
    out = {"osc_theta23": jnp.deg2rad(theta["theta23_deg"]), "osc_dm31": theta["dm31_1e3"] * 1e-3}
    eps = jnp.asarray(theta["eps"], float)
    if im is None:
        out[f"eps_{fermion}_{re}"] = eps
    else:
        out[f"eps_{fermion}_{re}"] = eps * jnp.cos(theta["phase"])
        out[f"eps_{fermion}_{im}"] = eps * jnp.sin(theta["phase"])
    return out


class AtmosphericChi2(AbstractLoss):
    """chi^2 of the experiments (nuisances profiled) as a function of the study's named scalars
    (:func:`flat_names`); the other oscillation parameters from NuFIT 6.0 NO."""

    experiments: tuple
    coupling: str = eqx.field(static=True)
    fermion: str = eqx.field(static=True)
    profile_steps: int = eqx.field(static=True)

    def __call__(self, theta: dict):
        p = build_params(flat_names(theta, self.coupling, self.fermion), base=Params(osc=OscParams.nufit()))
        return chi2(p, self.experiments, nuisances="profile", profile_steps=self.profile_steps)


def _starts(config: AtmosphericNSIConfig, coupling: str) -> list[dict]:
    dm = float(OscParams.nufit().dm31) * 1e3
    out = []
    for th23 in config.theta23_starts_deg:
        for phase in ((0.0, math.pi) if is_complex(coupling) else (None,)):
            s = {"theta23_deg": th23, "dm31_1e3": dm}
            if phase is not None:
                s["phase"] = phase
            out.append(s)
    return out


def eps_axis(config: AtmosphericNSIConfig, coupling: str) -> np.ndarray:
    if coupling == "mutau":
        return np.linspace(-config.mutau_max, config.mutau_max, config.n_points)
    if coupling == "tautau_minus_mumu":
        return np.linspace(-config.diagonal_max, config.diagonal_max, config.n_points)
    return np.linspace(0.0, config.offdiagonal_max, config.n_points)


def profile(config: AtmosphericNSIConfig, coupling: str, exps: tuple, *, checkpoint_dir: Path | None = None,
            progress: bool = True) -> ScanResult:
    """chi^2 versus the coupling, theta23, dm31, the phase (emu, etau) and every nuisance profiled; the
    lowest of the fits from both octants (and both phases) at each point."""
    loss = AtmosphericChi2(exps, coupling, config.fermion, config.profile_steps)
    key = stable_hash({"study": "atmospheric_nsi", "config": dataclasses.asdict(config), "coupling": coupling}, *exps)
    runs = []
    todo = _starts(config, coupling)
    for i, init in enumerate(todo):
        ck = None if checkpoint_dir is None else Path(checkpoint_dir) / f"atmospheric_nsi_{coupling}_start{i}.npz"
        runs.append(profile_scan(loss, init, {"eps": eps_axis(config, coupling)}, bounds=BOUNDS,
                                 chunk_size=config.chunk_size, checkpoint=ck, checkpoint_key=key, progress=progress,
                                 refine_best=False, warm_start=True, tol=config.fit_tol,
                                 max_steps=config.fit_max_steps, fallback_steps=config.fit_fallback_steps,
                                 label=f"atmospheric {coupling}, start {i + 1}/{len(todo)}"))
    return lowest(runs)


def _grid_overrides(config: AtmosphericNSIConfig, name: str) -> dict | None:
    """Spec overrides of experiment ``name`` for ``config.true_grid`` (:func:`~nsijax.experiments.atmospheric.true_grid.resized`)."""
    if config.true_grid is None:
        return None
    return resized(_experiments.spec(name), *config.true_grid)


def run(config: AtmosphericNSIConfig, output: str | Path, *, progress: bool = True, plots: bool = True) -> dict:
    """Run the study; write ``atmospheric_nsi.json``, the profiles and ``atmospheric_nsi.png`` to ``output``."""
    config.validate()
    out = Path(output)
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    exps = tuple(_experiments.load(n, overrides=_grid_overrides(config, n)) for n in config.experiments)
    inputs = {"config": dataclasses.asdict(config),
              "fixed": "theta12, theta13, delta_CP, dm21 at the NuFIT 6.0 NO best fit (arXiv:2410.05380)",
              "normalisation": f"eps^{config.fermion} (NSI with {config.fermion} {'quarks' if config.fermion != 'e' else 'electrons'})"}
    summary: dict = {"inputs": inputs, "results": {}, "published": PUBLISHED}
    profiles = {}
    t0 = time.perf_counter()
    for c in config.couplings:
        res = profile(config, c, exps, checkpoint_dir=out / "checkpoints", progress=progress)
        res.save(out / f"atmospheric_nsi_{c}", inputs={**inputs, "coupling": c})
        profiles[c] = res
        i = int(np.argmin(res.chi2))
        summary["results"][c] = {
            "best_fit_on_grid": float(res.axes[0][i]), "chi2_min": float(res.chi2_min),
            "interval_90cl": res.interval(DELTA_CHI2[(0.90, 1)]), "interval_3sigma": res.interval(9.0),
        }
        if progress:
            print(f"atmospheric {c}: 90% CL {summary['results'][c]['interval_90cl']}", flush=True)
    summary["wall_time_s"] = time.perf_counter() - t0
    (out / "atmospheric_nsi.json").write_text(json.dumps(summary, indent=2))
    if plots:
        _plot(profiles, config, out / "atmospheric_nsi.png")
    return summary


_LABELS = {"tautau_minus_mumu": r"\varepsilon_{\tau\tau}-\varepsilon_{\mu\mu}", "mutau": r"\varepsilon_{\mu\tau}",
           "emu": r"|\varepsilon_{e\mu}|", "etau": r"|\varepsilon_{e\tau}|"}


def _plot(profiles: dict, config: AtmosphericNSIConfig, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(profiles)
    fig, axes = plt.subplots(1, len(names), figsize=(4.4 * len(names), 3.6), squeeze=False)
    for ax, c in zip(axes[0], names):
        r = profiles[c]
        ax.plot(r.axes[0], r.delta_chi2, "k.-", label=", ".join(config.experiments))
        if c in PUBLISHED:
            lo, hi = PUBLISHED[c]["interval_90cl"]
            ax.axvspan(lo, hi, color="#9ecae1", alpha=0.5, label="IceCube 2018 90% CL")
        ax.axhline(DELTA_CHI2[(0.90, 1)], color="0.6", lw=0.8)
        ax.set_xlabel(rf"${_LABELS[c]}$ ($\varepsilon^{config.fermion}$)")
        ax.set_ylabel(r"$\Delta\chi^2$")
        ax.set_ylim(0.0, 15.0)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
