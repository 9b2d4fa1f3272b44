"""DUNE sensitivity to NSI in propagation: Delta chi^2 of each NSI coupling against Asimov data.

The data are the Asimov prediction of the DUNE TDR GLoBES configuration (``dune_tdr``: 6.5 + 6.5 years
FHC/RHC, 40 kt, 1.2 MW = 624 kt-MW-yr, i.e. 10 years staged) without NSI, at chosen true oscillation
parameters (default: the NuFIT 6.0 normal-ordering best fit). Each
coupling is switched on alone ("one at a time"), as the matter NSI eps_ab normalised to the electron
density (eps_ab = eps^e_ab + (2 + Y_n) eps^u_ab + (1 + 2 Y_n) eps^d_ab, PHYSICS.md; entered here as
eps^e so that eps_ab is the number scanned):

* ``ee_minus_mumu``: eps_ee (eps_mumu = eps_tautau = 0), i.e. eps_ee - eps_mumu; likewise
  ``tautau_minus_mumu`` (oscillations see only differences of the diagonal entries);
* ``emu``, ``etau``, ``mutau``: |eps_ab| e^{i phi_ab} with the phase either profiled or held fixed.

At each grid point chi^2 is minimised over theta23, delta_CP, dm31 (normal ordering), theta13 (with a
Gaussian prior on sin^2 theta13 of width 0.00056, the NuFIT 6.0 error, dominated by the reactor data),
the phase where profiled, and the nine GLoBES normalisation systematics; theta12 and dm21 stay at NuFIT
6.0 (DUNE barely constrains them). The profile has separate minima (theta23 octant, delta_CP and the
NSI phase trade against each other), so every point is fitted from several starts
(:func:`starts`) and the lowest chi^2 is kept. Results: ``dune_nsi.json`` (90 % CL intervals, phase-
dependent bounds, inputs), one ScanResult (JSON + NPZ) per profile and map, ``dune_nsi.png``.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import time
from pathlib import Path

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .. import experiments as _experiments
from ..errors import InvalidInputError
from ..experiments.base import AbstractExperiment
from ..experiments.oscillation import beam
from ..inference import AbstractLoss, lowest, profile_scan, stable_hash
from ..inference.results import DELTA_CHI2, ScanResult
from ..likelihood import chi2
from ..parameters.names import build_params
from ..parameters.params import Params
from ..physics.oscillation import OscParams
from ._config import from_mapping as _from_mapping

#: coupling -> (NSI component of the real part or diagonal entry, of the imaginary part or None), names of
#: nsijax.parameters.nsi.COMPONENTS
COUPLINGS = {
    "ee_minus_mumu": ("ee", None),
    "tautau_minus_mumu": ("tautau", None),
    "emu": ("emu_re", "emu_im"),
    "etau": ("etau_re", "etau_im"),
    "mutau": ("mutau_re", "mutau_im"),
}

#: sigma of the Gaussian sin^2 theta13 prior (centred on the true value): NuFIT 6.0 NO
#: (arXiv:2410.05380), sin^2 theta13 = 0.02215 +0.00056 -0.00058 (reactor dominated).
THETA13_PRIOR_SIGMA = 0.00056


def is_complex(coupling: str) -> bool:
    return COUPLINGS[coupling][1] is not None


@dataclasses.dataclass
class DuneNSIConfig:
    """Settings of the DUNE NSI sensitivity study (also read from a TOML table ``[dune_nsi]``)."""

    experiment: str = "dune_tdr"
    couplings: tuple[str, ...] = ("ee_minus_mumu", "emu", "etau")
    # true oscillation parameters of the Asimov data (None: NuFIT 6.0 NO best fit), no NSI
    true_theta13_deg: float | None = None
    true_theta23_deg: float | None = None
    true_delta_cp_deg: float | None = None
    true_dm31: float | None = None  # eV^2, > 0 (normal ordering)
    diagonal_min: float = -1.0
    diagonal_max: float = 1.0
    n_diagonal: int = 41
    offdiagonal_max: float = 0.3
    n_offdiagonal: int = 31
    # fixed phases of the (|eps|, phi) maps: n_phase values 0, 360/n_phase, ... deg
    n_phase: int = 24
    # sigma of the Gaussian prior on sin^2 theta13 around its true value; 0 removes it
    theta13_prior_sigma: float = THETA13_PRIOR_SIGMA
    profile_steps: int = 6
    fit_tol: float = 1e-4
    fit_max_steps: int = 200
    fit_fallback_steps: int = 100
    # grid points per vmapped batch (DUNE alone does not trigger the XLA:CPU hang of README "Known issues")
    chunk_size: int = 8

    @classmethod
    def fast(cls) -> DuneNSIConfig:
        """Coarse grids (quick looks and tests)."""
        return cls(n_diagonal=11, n_offdiagonal=9, offdiagonal_max=0.2, n_phase=4)

    def validate(self) -> DuneNSIConfig:
        if self.experiment not in _experiments.available():
            raise InvalidInputError(f"unknown experiment {self.experiment!r}")
        if _experiments.spec(self.experiment).get("response") != "globes_beam":
            raise InvalidInputError(f"{self.experiment!r} is not a long-baseline beam experiment (response 'globes_beam')")
        bad = [c for c in self.couplings if c not in COUPLINGS]
        if bad or not self.couplings:
            raise InvalidInputError(f"unknown couplings {bad}; known: {sorted(COUPLINGS)}")
        if not self.diagonal_min < 0.0 < self.diagonal_max or self.offdiagonal_max <= 0.0:
            raise InvalidInputError("need diagonal_min < 0 < diagonal_max and offdiagonal_max > 0")
        if min(self.n_diagonal, self.n_offdiagonal) < 3 or self.n_phase < 1 or self.chunk_size < 1:
            raise InvalidInputError("need n_diagonal, n_offdiagonal >= 3, n_phase >= 1, chunk_size >= 1")
        t = self.truth()
        if not (0.0 < t["theta13_deg"] < 90.0 and 0.0 < t["theta23_deg"] < 90.0 and 2.2 < t["dm31_1e3"] < 2.8):
            raise InvalidInputError(f"true parameters outside the fitted ranges (theta in (0, 90) deg, dm31 in "
                                    f"(2.2, 2.8)e-3 eV^2, normal ordering): {t}")
        if not self.theta13_prior_sigma >= 0.0:
            raise InvalidInputError(f"theta13_prior_sigma must be >= 0; got {self.theta13_prior_sigma}")
        return self

    def truth(self) -> dict:
        """True oscillation parameters in the study's names (see :func:`nsi_params`)."""
        t = _nufit()
        if self.true_theta13_deg is not None:
            t["theta13_deg"] = float(self.true_theta13_deg)
        if self.true_theta23_deg is not None:
            t["theta23_deg"] = float(self.true_theta23_deg)
        if self.true_delta_cp_deg is not None:
            t["delta_cp"] = math.radians(self.true_delta_cp_deg)
        if self.true_dm31 is not None:
            t["dm31_1e3"] = float(self.true_dm31) * 1e3
        return t

    @classmethod
    def from_mapping(cls, d: dict, base: DuneNSIConfig | None = None) -> DuneNSIConfig:
        """``base`` (default: the defaults) with the settings in ``d`` replaced; unknown keys are errors."""
        return _from_mapping(cls, d, base)


def flat_names(theta: dict, coupling: str) -> dict:
    """The study's named scalars as flat names (:mod:`nsijax.parameters.names`): ``eps`` (the scanned
    coupling; its modulus for off-diagonal ones) and ``phase`` (rad, off-diagonal couplings) ->
    ``eps_e_<component>`` (real and imaginary parts ``eps cos(phase)``, ``eps sin(phase)``; as eps^e they
    are the matter NSI eps_ab, PHYSICS.md), ``theta13_deg``, ``theta23_deg`` -> ``osc_theta13``,
    ``osc_theta23`` (rad), ``delta_cp`` -> ``osc_delta_cp`` (rad), ``dm31_1e3`` (1e-3 eV^2) -> ``osc_dm31``."""
    re, im = COUPLINGS[coupling]
    out = {"osc_theta13": jnp.deg2rad(theta["theta13_deg"]), "osc_theta23": jnp.deg2rad(theta["theta23_deg"]),
           "osc_delta_cp": theta["delta_cp"], "osc_dm31": theta["dm31_1e3"] * 1e-3}
    eps = jnp.asarray(theta["eps"], float)
    if im is None:
        out[f"eps_e_{re}"] = eps
    else:
        out[f"eps_e_{re}"] = eps * jnp.cos(theta["phase"])
        out[f"eps_e_{im}"] = eps * jnp.sin(theta["phase"])
    return out


def nsi_params(theta: dict, coupling: str, base: OscParams | None = None) -> Params:
    """:class:`nsijax.Params` from the study's named scalars (:func:`flat_names`); theta12 and dm21 from
    ``base`` (default NuFIT 6.0 NO)."""
    return build_params(flat_names(theta, coupling), base=Params(osc=base))


class DuneChi2(AbstractLoss):
    """chi^2 of ``experiment`` (systematics profiled) + a Gaussian prior on sin^2 theta13 (mean
    ``theta13_mean``, sigma ``theta13_sigma``; 0: none) as a function of the study's dict of named
    scalars (:func:`nsi_params`). A pytree: the experiment (its Asimov data) and the prior mean are
    traced, so losses of other truths share one compilation."""

    experiment: AbstractExperiment
    theta13_mean: Float[Array, ""]
    coupling: str = eqx.field(static=True)
    theta13_sigma: float = eqx.field(static=True)
    profile_steps: int = eqx.field(static=True)

    def __call__(self, theta: dict):
        c = chi2(nsi_params(theta, self.coupling), [self.experiment], nuisances="profile",
                 profile_steps=self.profile_steps)
        if self.theta13_sigma > 0.0:
            c = c + ((jnp.sin(jnp.deg2rad(theta["theta13_deg"])) ** 2 - self.theta13_mean) / self.theta13_sigma) ** 2
        return c


def dune_chi2(experiment: str, coupling: str, truth: tuple[tuple[str, float], ...] | None = None,
              theta13_prior_sigma: float = THETA13_PRIOR_SIGMA, profile_steps: int = 6) -> DuneChi2:
    """The :class:`DuneChi2` of the bundled ``experiment`` against Asimov data at ``truth`` (sorted
    ``(name, value)`` pairs in the study's names, no NSI; None: NuFIT 6.0 NO, the experiment's own data),
    prior centred on the true sin^2 theta13."""
    exp = _experiments.load(experiment)
    t = dict(truth) if truth is not None else _nufit()
    if truth is not None:
        exp = beam.asimov(exp, nsi_params({**t, "eps": 0.0, "phase": 0.0}, coupling))
    mean = math.sin(math.radians(t["theta13_deg"])) ** 2
    return DuneChi2(exp, jnp.asarray(mean, dtype=float), coupling, float(theta13_prior_sigma), int(profile_steps))


def _nufit() -> dict:
    b = OscParams.nufit()
    return {"theta13_deg": math.degrees(float(b.theta13)), "theta23_deg": math.degrees(float(b.theta23)),
            "delta_cp": float(b.delta_cp), "dm31_1e3": float(b.dm31) * 1e3}


#: fit bounds of the profiled oscillation parameters (normal ordering); delta_CP and phases are free
BOUNDS = {"theta13_deg": (7.0, 10.0), "theta23_deg": (35.0, 55.0), "dm31_1e3": (2.2, 2.8)}


def starts(coupling: str, profile_phase: bool, truth: dict | None = None) -> list[dict]:
    """Starting points of the fits at every grid point: theta23 in either octant (the true value and
    its mirror 90 deg - theta23) x delta_CP at the true value and shifted by pi, x (with the phase
    profiled) four NSI phases 0, pi/2, pi, 3 pi/2. ``truth``: default NuFIT 6.0 NO."""
    t = dict(truth or _nufit())
    phases = [0.0, 0.5 * math.pi, math.pi, 1.5 * math.pi] if (profile_phase and is_complex(coupling)) else [None]
    out = []
    for th23, dcp, ph in itertools.product((t["theta23_deg"], 90.0 - t["theta23_deg"]),
                                           (t["delta_cp"], t["delta_cp"] - math.pi), phases):
        s = {**t, "theta23_deg": th23, "delta_cp": dcp}
        if ph is not None:
            s["phase"] = ph
        out.append(s)
    return out


def _profile(config: DuneNSIConfig, coupling: str, grid: dict, profile_phase: bool, tag: str,
             checkpoint_dir: Path | None, progress: bool) -> ScanResult:
    truth = config.truth()
    loss = dune_chi2(config.experiment, coupling, tuple(sorted(truth.items())), config.theta13_prior_sigma,
                     config.profile_steps)
    todo = starts(coupling, profile_phase, truth)
    # checkpoints keyed by the whole config and the experiment's content (the Asimov data follow the truth)
    key = stable_hash({"study": "dune_nsi", "config": dataclasses.asdict(config), "truth": truth, "coupling": coupling,
                       "grid": tag}, _experiments.load(config.experiment))
    runs = []
    for i, init in enumerate(todo):
        ck = None if checkpoint_dir is None else Path(checkpoint_dir) / f"dune_nsi_{coupling}_{tag}_start{i}.npz"
        runs.append(profile_scan(loss, init, grid, bounds=BOUNDS, chunk_size=config.chunk_size, checkpoint=ck,
                                 checkpoint_key=key, progress=progress, refine_best=False, warm_start=False,
                                 tol=config.fit_tol, max_steps=config.fit_max_steps,
                                 fallback_steps=config.fit_fallback_steps,
                                 label=f"DUNE {coupling} {tag}, start {i + 1}/{len(todo)}"))
    return lowest(runs)


def eps_axis(config: DuneNSIConfig, coupling: str) -> np.ndarray:
    if is_complex(coupling):
        return np.linspace(0.0, config.offdiagonal_max, config.n_offdiagonal)
    return np.linspace(config.diagonal_min, config.diagonal_max, config.n_diagonal)


def profile(config: DuneNSIConfig, coupling: str, *, checkpoint_dir: Path | None = None,
            progress: bool = True) -> ScanResult:
    """chi^2 versus the coupling (its modulus for off-diagonal ones, the phase profiled), everything
    else profiled, the lowest of the fits from :func:`starts` at each point."""
    return _profile(config, coupling, {"eps": eps_axis(config, coupling)}, True, "profile", checkpoint_dir, progress)


def phase_map(config: DuneNSIConfig, coupling: str, *, checkpoint_dir: Path | None = None,
              progress: bool = True) -> ScanResult:
    """chi^2 on the (|eps|, phase) grid of an off-diagonal coupling (phases 0, 360/n_phase, ... deg,
    in radians on the axis), the oscillation parameters and systematics profiled."""
    if not is_complex(coupling):
        raise InvalidInputError(f"{coupling!r} has no phase")
    phases = np.deg2rad(np.arange(config.n_phase) * 360.0 / config.n_phase)
    return _profile(config, coupling, {"eps": eps_axis(config, coupling), "phase": phases}, False, "phase",
                    checkpoint_dir, progress)


def intervals(res: ScanResult, level: float = DELTA_CHI2[(0.90, 1)]) -> list[tuple[float, float]]:
    """Where chi^2 - chi^2(truth) <= ``level`` on a 1D profile (the Asimov truth has chi^2 = 0, so the
    offset is the grid minimum, ~0)."""
    return res.interval(level)


def bound_at_fixed_phase(res: ScanResult, level: float = DELTA_CHI2[(0.90, 1)]) -> list[dict]:
    """From a :func:`phase_map`: for each fixed phase, the smallest |eps| where Delta chi^2 reaches
    ``level`` (linear interpolation; None if it never does on the grid)."""
    eps, phases = res.axes
    out = []
    for j, ph in enumerate(phases):
        y = res.delta_chi2[:, j]
        k = np.flatnonzero(y >= level)
        b = None
        if k.size and k[0] > 0:
            i = int(k[0])
            b = float(eps[i - 1] + (level - y[i - 1]) * (eps[i] - eps[i - 1]) / (y[i] - y[i - 1]))
        out.append({"phase_deg": float(np.degrees(ph)), "bound": b})
    return out


def run(config: DuneNSIConfig, output: str | Path, *, progress: bool = True, plots: bool = True) -> dict:
    """Run the study; write ``dune_nsi.json``, the profiles and maps, and ``dune_nsi.png`` to ``output``."""
    config.validate()
    out = Path(output)
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    inputs = {"config": dataclasses.asdict(config),
              "truth": {**config.truth(), "nsi": "none (Standard Model)", "data": "Asimov",
                        "defaults": "NuFIT 6.0 NO best fit (arXiv:2410.05380) for parameters not set"}}
    summary: dict = {"inputs": inputs, "results": {}}
    profiles, maps = {}, {}
    t0 = time.perf_counter()
    for c in config.couplings:
        res = profile(config, c, checkpoint_dir=out / "checkpoints", progress=progress)
        res.save(out / f"dune_nsi_{c}", inputs={**inputs, "coupling": c})
        profiles[c] = res
        s = {"interval_90cl": intervals(res), "interval_3sigma": intervals(res, 9.0), "chi2_truth": float(res.chi2_min)}
        if is_complex(c):
            m = phase_map(config, c, checkpoint_dir=out / "checkpoints", progress=progress)
            m.save(out / f"dune_nsi_{c}_phase", inputs={**inputs, "coupling": c})
            maps[c] = m
            s["bound_90cl_fixed_phase"] = bound_at_fixed_phase(m)
        summary["results"][c] = s
        if progress:
            print(f"DUNE {c}: 90% CL {[(round(a, 4), round(b, 4)) for a, b in s['interval_90cl']]}", flush=True)
    summary["wall_time_s"] = time.perf_counter() - t0
    (out / "dune_nsi.json").write_text(json.dumps(summary, indent=2))
    if plots:
        _plot(profiles, maps, out / "dune_nsi.png")
    return summary


_LABELS = {"ee_minus_mumu": r"\varepsilon_{ee}-\varepsilon_{\mu\mu}", "tautau_minus_mumu": r"\varepsilon_{\tau\tau}-\varepsilon_{\mu\mu}",
           "emu": r"|\varepsilon_{e\mu}|", "etau": r"|\varepsilon_{e\tau}|", "mutau": r"|\varepsilon_{\mu\tau}|"}


def _plot(profiles: dict, maps: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(profiles)
    rows = 2 if maps else 1
    fig, axes = plt.subplots(rows, len(names), figsize=(4.6 * len(names), 3.8 * rows), squeeze=False)
    for col, c in enumerate(names):
        ax = axes[0][col]
        r = profiles[c]
        ax.plot(r.axes[0], r.delta_chi2, "k-", label="phase profiled" if c in maps else "profiled")
        if c in maps:
            m = maps[c]
            for j in range(0, len(m.axes[1]), max(1, len(m.axes[1]) // 4)):
                ax.plot(m.axes[0], m.delta_chi2[:, j], "--", lw=1, label=rf"$\phi$ = {np.degrees(m.axes[1][j]):.0f}$^\circ$")
        ax.axhline(DELTA_CHI2[(0.90, 1)], color="0.6", lw=0.8)
        ax.set_xlabel(rf"${_LABELS[c]}$")
        ax.set_ylabel(r"$\Delta\chi^2$")
        ax.set_ylim(0.0, 25.0)
        ax.set_title(f"DUNE (624 kt MW yr), {c}")
        ax.legend(fontsize=7)
        if rows == 2:
            ax2 = axes[1][col]
            if c in maps:
                m = maps[c]
                ph = np.degrees(np.append(m.axes[1], 2 * np.pi))
                z = np.concatenate([m.delta_chi2, m.delta_chi2[:, :1]], axis=1)
                ax2.contourf(ph, m.axes[0], z, levels=[0, DELTA_CHI2[(0.90, 2)], 11.83, 1e9],
                             colors=["#9ecae1", "#deebf7", "white"])
                ax2.contour(ph, m.axes[0], z, levels=[DELTA_CHI2[(0.90, 2)], 11.83], colors="k", linewidths=0.8)
                ax2.set_xlabel(r"$\phi$ [deg]")
                ax2.set_ylabel(rf"${_LABELS[c]}$")
                ax2.set_title(r"allowed: 90% (2 dof), 3$\sigma$")
            else:
                ax2.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
