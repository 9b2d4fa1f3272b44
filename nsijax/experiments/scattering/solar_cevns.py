"""CEvNS of solar 8B neutrinos in XENONnT with the collaboration's full-likelihood templates (``xenonnt_b8``).

Data: XENON Collaboration, "XENONnT solar boron-8 neutrino and light dark matter searches data release"
(github XENONnT/cevns_data_release, Zenodo 10.5281/zenodo.20576156, CC-BY-4.0): post-selection events of science
runs SR0, SR1, SR2 in a 4-D binning (cS2, S2 time shadow, S1 BDT, S2 BDT; 3 bins each), background templates
(accidental coincidences AC, electronic recoils ER in events / (t y bin); radiogenic neutrons on the light-yield x
charge-yield grid) and mono-energetic nuclear-recoil efficiency templates at 0.5-5.0 keVnr (0.1 keV steps) on the same
grid. Papers: PRL 133 (2024) 191002, arXiv:2408.02877 (SR0+SR1); arXiv:2604.06002 (SR0-SR2).

Signal (:meth:`XenonB8CEvNS.physics`, once per point): the nuclear-recoil rate at the template energies

    dR/dT = N_Xe(1 t) x 1 y x sum_a int dE Phi_8B(E) P(nu_e -> nu_a; E) dsigma_a/dT(E, T)     [/(t y keV)]

with the 8B spectrum of Winter et al. (PRC 73 (2006) 025503) times the flux of ``[solar]``, the flavour content at the
Earth from the adiabatic solar P(nu_e -> nu_a) with the matter NSI of ``params`` (B23/SF-III production region of 8B,
:func:`nsijax.physics.oscillation.sun.mass_state_fractions_closed_form`; day only: the ~3 % night regeneration is
neglected), and the CEvNS cross section of each flavour (:func:`nsijax.physics.scattering.cevns.dsigma_dT`: NSI, a Z'
at q^2 = 2 M T -- and in the Sun at q^2 = 0 --, magnetic moments, charge radii, millicharge, weak mixing angle, Xe
neutron radius). Flavours are summed incoherently.

Detector (:meth:`XenonB8CEvNS.expected`): per run r and bin b, as the release's example combines them,

    mu_rb = X_r [ f_B s sum_k dR/dT(T_k) 0.1 keV mono_r(T_k, ly, qy)_b + f_AC,r AC_rb + f_ER ER_rb + f_n RG_rb(ly, qy) ]

with the exposures X_r (t y), the 8B flux pull f_B, ``params.cevns_scale`` s, the light- and charge-yield pulls (ly,
qy) interpolating the templates bilinearly on their -3..3 sigma grid (linear extrapolation beyond), and background
normalisations. Poisson likelihood (Baker-Cousins) over the 81 bins of each run.
"""

from __future__ import annotations

import pathlib
from typing import Any, ClassVar, final

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ... import constants as c
from ...errors import InvalidSpecError
from ...parameters.oscillation import pmns, resolve_osc
from ...parameters.params import Params
from ...physics import quadrature
from ...physics.oscillation.sun import MODELS, gauss_production_nodes, mass_state_fractions_closed_form
from ...physics.scattering import cevns
from ...physics.scattering.kinematics import e_min
from ...physics.scattering.targets import get_target
from ..base import AbstractExperiment, register
from ..parsers.spec import field, integer, nuisance_names, number, string
from ..parsers.tables import read_spectrum

#: Science runs of the release, in order.
RUNS = ("sr0", "sr1", "sr2")
#: Observables of the 4-D binning (names of the template bin axes), in axis order.
AXES = ("cs2", "s2_shadow_s2_time_shadow", "s1_bdt_score", "s2_bdt_score")
#: Nuisances shared by the runs; each run r adds "<r>_ac".
COMMON_NUISANCES = ("b8_flux", "light_yield", "charge_yield", "er", "neutron")
SECONDS_PER_YEAR = 365.25 * 86400.0
#: Gauss nodes of the 8B production region (as SNO, :mod:`nsijax.experiments.oscillation.sno`).
SOLAR_NODES = 12


def nuisance_order(runs: tuple[str, ...]) -> tuple[str, ...]:
    return COMMON_NUISANCES + tuple(f"{r}_ac" for r in runs)


def bilinear(grid: Float[Array, "7 7 ..."], x: Float[Array, ""], y: Float[Array, ""]) -> Float[Array, "..."]:
    """Bilinear interpolation of ``grid`` (first two axes on the nodes -3, -2, ..., 3) at (x, y); linear
    extrapolation beyond the grid (the outermost cell's plane)."""
    n = grid.shape[0]
    fx, fy = x + (n - 1) / 2, y + (n - 1) / 2
    i = jnp.clip(jnp.floor(fx), 0, n - 2).astype(int)
    j = jnp.clip(jnp.floor(fy), 0, n - 2).astype(int)
    tx, ty = fx - i, fy - j
    g00, g10 = grid[i, j], grid[i + 1, j]
    g01, g11 = grid[i, j + 1], grid[i + 1, j + 1]
    return (1 - tx) * (1 - ty) * g00 + tx * (1 - ty) * g10 + (1 - tx) * ty * g01 + tx * ty * g11


@register
@final
class XenonB8CEvNS(AbstractExperiment):
    """XENONnT 8B CEvNS from the release's templates (see the module docstring).

    Fields:
        name, nuisance_names, runs, form_factor, couplings, solar_model: static.
        observed: (n_runs, 81) events per bin.
        exposure: (n_runs,) t y.
        recoil_kev: (nT,) the template energies (keVnr); recoil_step_kev: their spacing (0.1 keV).
        enu_mev, enu_weights: (nT, nE) neutrino-energy nodes above each recoil's threshold and weight x 8B flux
            per MeV, 1 / (cm^2 s) (the flux of ``[solar]``).
        mono: (n_runs, nT, 7, 7, 81) efficiency templates; rg: (n_runs, 7, 7, 81), ac, er: (n_runs, 81) per t y.
        sun_weight, sun_ne, sun_yn: (SOLAR_NODES,) the 8B production region.
        nuisance_sigma: relative 1-sigma of each normalisation pull (1 for the yield pulls, in template sigmas).
    """

    response: ClassVar[str] = "xenonnt_templates"
    kind: ClassVar[str] = "solar_cevns"

    name: str = eqx.field(static=True)
    nuisance_names: tuple[str, ...] = eqx.field(static=True)
    runs: tuple[str, ...] = eqx.field(static=True)
    form_factor: str = eqx.field(static=True)
    couplings: str = eqx.field(static=True)
    observed: Float[Array, "nr nb"]
    nuisance_sigma: Float[Array, " nn"]
    exposure: Float[Array, " nr"]
    n_targets: Float[Array, ""]
    recoil_kev: Float[Array, " nT"]
    recoil_step_kev: Float[Array, ""]
    enu_mev: Float[Array, "nT nE"]
    enu_weights: Float[Array, "nT nE"]
    mono: Float[Array, "nr nT 7 7 nb"]
    rg: Float[Array, "nr 7 7 nb"]
    ac: Float[Array, "nr nb"]
    er: Float[Array, "nr nb"]
    sun_weight: Float[Array, " ns"]
    sun_ne: Float[Array, " ns"]
    sun_yn: Float[Array, " ns"]
    prob_grid_mev: Float[Array, " ng"]

    # --- building ---------------------------------------------------------------------------------

    @classmethod
    def validate_spec(cls, spec: dict[str, Any], where: str) -> None:
        """``[data]`` (templates, events and exposure per run, the runs used), ``[source]``, ``[solar]``,
        ``[quadrature]`` and the ``[[nuisances]]`` (b8_flux, light_yield, charge_yield, er, neutron, <run>_ac)."""
        string(spec, "data.templates", where)
        runs = field(spec, "data.runs", where)
        if not isinstance(runs, list) or not runs or any(r not in RUNS for r in runs) or len(set(runs)) != len(runs):
            raise InvalidSpecError(f"{where}: data.runs must be a non-empty list of distinct runs from {list(RUNS)}")
        for r in runs:
            string(spec, f"data.events.{r}", where)
            number(spec, f"data.exposure_ty.{r}", where, positive=True)
        string(spec, "source.target", where, {"Xe"})
        string(spec, "source.form_factor", where, {"helm", "klein_nystrand"})
        string(spec, "source.couplings", where, {"tree", "pdg"})
        string(spec, "solar.model", where, set(MODELS))
        number(spec, "solar.b8_flux", where, positive=True)
        string(spec, "solar.b8_spectrum_file", where)
        integer(spec, "quadrature.energy_nodes", where, 4, 512)
        integer(spec, "quadrature.probability_nodes", where, 8, 4096)
        listed = nuisance_names(field(spec, "nuisances", where), where)
        # the runs in use need their nuisances; entries of the other runs are allowed (an override keeps fewer runs)
        missing = [n for n in nuisance_order(tuple(runs)) if n not in listed]
        unknown = [n for n in listed if n not in nuisance_order(RUNS)]
        if missing or unknown or len(set(listed)) != len(listed):
            raise InvalidSpecError(
                f"{where}: response {cls.response!r} needs the nuisances {list(nuisance_order(tuple(runs)))} once "
                f"each; missing {missing}, unknown {unknown}, listed {listed}"
            )

    @classmethod
    def from_spec(cls, spec: dict[str, Any], folder: pathlib.Path) -> XenonB8CEvNS:
        """Build from a validated spec, the template archive, the event files and the 8B spectrum in ``folder``."""
        name, folder = spec["name"], pathlib.Path(folder)
        runs = tuple(spec["data"]["runs"])
        path = folder / spec["data"]["templates"]
        if not path.is_file():
            raise InvalidSpecError(f"{name}: template archive not found: {path}")
        with np.load(path, allow_pickle=False) as z:
            t = {k: np.asarray(z[k], dtype=float) for k in z.files if not k.endswith(("_date", "_gitblob"))}
        energies = t["mono_energy_keVnr"]
        grid = np.arange(-3.0, 4.0)
        if not (np.array_equal(t["tly_values"], grid) and np.array_equal(t["tqy_values"], grid)):
            raise InvalidSpecError(f"{name}: the yield grids of {path.name} must be -3..3 in steps of 1")
        observed, mono, rg, ac, er = [], [], [], [], []
        for r in runs:
            edges = [t[f"{r}_bins_{i}_{a}"] for i, a in enumerate(AXES)]
            ev = _events(folder / spec["data"]["events"][r], name)
            counts, _ = np.histogramdd(ev, bins=edges)
            if counts.sum() != len(ev):
                raise InvalidSpecError(f"{name}: {len(ev) - counts.sum():.0f} events of {r} fall outside its binning")
            observed.append(counts.ravel())
            mono.append(t[f"{r}_mono"].reshape(len(energies), 7, 7, -1))
            rg.append(t[f"{r}_rg"].reshape(7, 7, -1))
            ac.append(t[f"{r}_ac"].ravel())
            er.append(t[f"{r}_er"].ravel())

        src, sol = spec["source"], spec["solar"]
        target = get_target(src["target"])
        spectrum = read_spectrum(folder / sol["b8_spectrum_file"])
        # energy nodes above the threshold of the lightest isotope at each template energy (heavier isotopes have
        # lower thresholds only by < 1 %; dsigma/dT is zero below each isotope's own threshold)
        e_lo = np.asarray(e_min(energies * 1e-3, float(np.min(target.mass_mev))))
        e_hi = float(spectrum[0][-1])
        lo = np.minimum(e_lo, e_hi)[:, None]
        E, W = quadrature.composite(
            np.concatenate([lo, np.full_like(lo, e_hi)], axis=1), spec["quadrature"]["energy_nodes"]
        )
        W = W * np.interp(E, *spectrum, left=0.0, right=0.0) * sol["b8_flux"]
        sun = gauss_production_nodes(sol["model"], "8B", SOLAR_NODES)
        nuis = {n["name"]: n for n in spec["nuisances"]}
        order = nuisance_order(runs)
        f = lambda a: jnp.asarray(a, dtype=float)  # noqa: E731
        return cls(
            name=name,
            nuisance_names=order,
            runs=runs,
            form_factor=src["form_factor"],
            couplings=src["couplings"],
            observed=f(np.stack(observed)),
            nuisance_sigma=f([float(nuis[k]["sigma"]) for k in order]),
            exposure=f([spec["data"]["exposure_ty"][r] for r in runs]),
            n_targets=f(1e6 / target.molar_mass_g * c.N_AVOGADRO),
            recoil_kev=f(energies),
            recoil_step_kev=f(energies[1] - energies[0]),
            enu_mev=f(E),
            enu_weights=f(W),
            mono=f(np.stack(mono)),
            rg=f(np.stack(rg)),
            ac=f(np.stack(ac)),
            er=f(np.stack(er)),
            sun_weight=f(sun.weight),
            sun_ne=f(sun.ne),
            sun_yn=f(sun.yn),
            prob_grid_mev=f(np.geomspace(float(E.min()), float(E.max()), spec["quadrature"]["probability_nodes"])),
        )

    def check_params(self, params: Params) -> None:
        resolve_osc(params.osc)

    # --- prediction -------------------------------------------------------------------------------

    def flavour_probabilities(self, params: Params) -> Float[Array, "nT nE 3"]:
        """P(nu_e -> nu_a) at the Earth (day) at every neutrino-energy node, interpolated linearly in log E from the
        ``prob_grid_mev`` energies (P varies slowly with E: 96 log-spaced energies reproduce the direct evaluation
        at the nodes to < 1e-4)."""
        osc = resolve_osc(params.osc)
        p = mass_state_fractions_closed_form(
            osc, self.prob_grid_mev * 1e-3, self.sun_weight, self.sun_ne, self.sun_yn, nsi=params.matter_nsi()
        )  # (ng, 3)
        u = pmns(osc)
        grid = p @ (jnp.real(u) ** 2 + jnp.imag(u) ** 2).T
        x, xp = jnp.log(self.enu_mev.ravel()), jnp.log(self.prob_grid_mev)
        out = jnp.stack([jnp.interp(x, xp, grid[:, a]) for a in range(3)], axis=-1)
        return out.reshape(self.enu_mev.shape + (3,))

    def physics(self, params: Params) -> Float[Array, " nT"]:
        """dR/dT at the template energies, events / (t y keV), at the model 8B flux times the shared normalisation
        ``params.solar_flux["8B"]`` (default 1; the ``b8_flux`` pull acts on top of it)."""
        prob = self.flavour_probabilities(params)
        T = (self.recoil_kev * 1e-3)[:, None]
        kw = dict(
            nsi=params.nsi, zprime=params.zprime, mu_nu=params.mu_nu, charge_radius=params.charge_radius,
            form_factor=self.form_factor, couplings=self.couplings, sin2_theta_w=params.sin2_theta_w,
            neutron_radius=params.neutron_radius, transition_charge_radius=params.transition_charge_radius,
            millicharge=params.millicharge,
        )  # fmt: skip
        rate = jnp.zeros(T.shape[0])
        for a in range(3):
            xs = cevns.dsigma_dT(self.enu_mev, T, "Xe", flavor=a, **kw)  # cm^2 / MeV
            rate = rate + jnp.sum(xs * prob[..., a] * self.enu_weights, axis=-1)
        return rate * 1e-3 * self.n_targets * SECONDS_PER_YEAR * params.solar_flux.get("8B", 1.0)

    def components(self, params: Params, pulls: Float[Array, " nn"], physics: Float[Array, " nT"]) -> dict[str, Array]:
        """Events per run (rows) and bin: ``"cevns"`` (times ``params.cevns_scale``), ``"ac"``, ``"er"``, ``"neutron"``."""
        v = 1.0 + self.nuisance_sigma * pulls
        ly, qy = pulls[1], pulls[2]
        n_common = len(COMMON_NUISANCES)
        mono = bilinear(jnp.moveaxis(self.mono, (2, 3), (0, 1)), ly, qy)  # (nr, nT, nb)
        rg = bilinear(jnp.moveaxis(self.rg, (1, 2), (0, 1)), ly, qy)  # (nr, nb)
        x = self.exposure[:, None]
        signal = jnp.einsum("t,rtb->rb", physics * self.recoil_step_kev, mono)
        return {
            "cevns": params.cevns_scale * v[0] * x * signal,
            "ac": x * self.ac * v[n_common:, None],
            "er": x * self.er * v[3],
            "neutron": x * rg * v[4],
        }

    def expected(
        self, params: Params, pulls: Float[Array, " nn"], physics: Float[Array, " nT"]
    ) -> Float[Array, "nr nb"]:
        return sum(self.components(params, pulls, physics).values())


def _events(path: pathlib.Path, name: str) -> np.ndarray:
    """The four observables of each event of a run's CSV (index column, then :data:`AXES`)."""
    if not path.is_file():
        raise InvalidSpecError(f"{name}: event file not found: {path}")
    with path.open() as fh:
        header = fh.readline().strip().split(",")
    cols = [header.index(a if a != "s2_shadow_s2_time_shadow" else "s2_shadow_s2_time_shadow_quantile") for a in AXES]
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return data[:, cols]
