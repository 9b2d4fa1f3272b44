"""IceCube DeepCore from per-event Monte Carlo (response ``deepcore_event_mc``; 3-year sample B).

The release (PRD 99 032007, DOI 10.21234/ac23-ra43) gives every simulated event's true (E, cos z),
flavour, interaction, reco bin and a weight (GeV sr m^2; x flux x livetime = events), plus per-bin
detector-systematics hyperplanes and a data-driven muon template. As in PISA's example analysis of it
(icecube/pisa ``IceCube_3y_neutrinos.cfg``), oscillation probabilities and the flux systematics' factors are
taken at the centre of the event's cell on a true grid (200 log cells in E on [1, 1000] GeV x 200 in cos z
by default, :class:`~nsijax.physics.oscillation.atmospheric.ZenithGrid`); the nominal flux is taken at the
event's own (E, cos z) (spec ``true_grid.flux_at = "event"``) or, as PISA, at its cell centre (``"cell"``:
first order in the cell size, the flux falling as ~E^-3 across a cell; halving the steps then moves chi^2
by 0.22 instead of 0.13). So at load time the events reduce exactly to a sparse response: for each
(detector group, reco bin, nu/nu-bar, flavour, cell) the sums of weight x flux (e and mu) and of their
products. Per parameter point (:meth:`DeepCoreEventMC.physics`) the grid is propagated once (PREM, NSI);
per pull set (:meth:`DeepCoreEventMC.expected`) the flux systematics
(:func:`nsijax.physics.sources.atmospheric.flux_factors`) act on the cell fluxes and the response is two
gathers and one segment sum.

Expected events in reco bin b of group g (nu_e CC, nu_mu CC, nu_tau CC, nu_e/mu NC, nu_tau NC):
    N_gb = aeff_scale x norm_g x h_gb(detector) x sum_(cells c, nu/nu-bar, beta)
                  [W^e_gbc r_e(c) P_e->beta(c) + W^mu_gbc r_mu(c) P_mu->beta(c)]
with W^a = sum over the entry's events of weight x livetime x Phi_a(event), r_a = Phi'_a / Phi_a the flux
systematics' factor at the cell centre,
norm = nutau_norm for nu_tau, x nu_nc_norm for NC, and h the release's hyperplane
``offset + sum slope x value`` (readme.txt; values raw, e.g. opt_eff_lateral = 25 nominal), clipped at >= 0.
Muons: template x atm_muon_scale. NC events take the oscillated flux of their own flavour (PISA); their sum
is the flavour-blind NC rate whatever the (unitary) propagation.

Statistic (spec ``likelihood.statistic``): ``"mod_chi2"`` (PISA's metric: sum (d - N)^2 / (N + sigma^2) with
sigma^2 = MC sum of squared weights x h^2 + muon uncertainty^2) or ``"poisson"`` (Baker-Cousins).
Nuisances have Gaussian or uniform priors (spec ``prior``); value = nominal + sigma x theta.
"""

from __future__ import annotations

import csv
import pathlib
from typing import Any, ClassVar, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from ...errors import InvalidSpecError
from ...parameters.oscillation import resolve_osc
from ...parameters.params import Params
from ...physics.oscillation.atmospheric import ZenithGrid, grid_probabilities
from ...physics.sources.atmospheric import FLUX_MODELS, flux_factors, honda_flux
from ...statistics import terms as stats
from ..base import AbstractExperiment, Terms, register
from ..parsers.spec import edges, field, integer, nuisance_names, number, string
from .true_grid import true_grid, validate_true_grid

#: Nuisances of ``deepcore_event_mc``, in order (PISA's free parameters of the example fit, theta13 and
#: the standard oscillation parameters excepted: those are ``params.osc``).
NUISANCES = (
    "nue_numu_ratio", "barr_uphor", "barr_nu_nubar", "delta_index", "aeff_scale", "nutau_norm", "nu_nc_norm",
    "opt_eff_overall", "opt_eff_lateral", "opt_eff_headon", "ice_scattering", "ice_absorption", "atm_muon_scale",
)
#: Prediction groups: nu_e CC, nu_mu CC, nu_tau CC, nu_e + nu_mu NC, nu_tau NC (nu and nu-bar together).
GROUPS = ("nue_cc", "numu_cc", "nutau_cc", "nc", "nutau_nc")
#: Hyperplane set of each group (spec ``data.hyperplanes`` keys).
HYPERPLANE_SETS = ("nue_cc", "numu_cc", "nutau_cc", "nc")
_HYPERPLANE_OF_GROUP = np.array([0, 1, 2, 3, 3])
#: Hyperplane columns: the offset, then the slopes of the detector nuisances in this order.
_HYPERPLANE_COLUMNS = ("offset", "opt_eff_overall", "opt_eff_lateral", "opt_eff_headon", "ice_scattering", "ice_absorption")
_MC_ARRAYS = ("pdg", "pid", "reco_coszen", "reco_energy", "true_coszen", "true_energy", "type", "weight")
_SECONDS_PER_YEAR = 365.0 * 86400.0
_PDG_FLAVOUR = {12: 0, 14: 1, 16: 2}


def _read_csv(path: pathlib.Path, columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise InvalidSpecError(f"cannot read {path}: {exc}") from None
    if not rows:
        raise InvalidSpecError(f"{path}: no rows")
    missing = [c for c in columns if c not in rows[0]]
    if missing:
        raise InvalidSpecError(f"{path}: missing columns {missing}; has {list(rows[0])}")
    try:
        out = {c: np.array([float(r[c]) for r in rows]) for c in columns}
    except ValueError as exc:
        raise InvalidSpecError(f"{path}: non-numeric value ({exc})") from None
    if any(np.any(~np.isfinite(v)) for v in out.values()):
        raise InvalidSpecError(f"{path}: non-finite values")
    return out


def _bin_index(path, energy, coszen, pid, e_edges, c_edges, n_pid) -> np.ndarray:
    """Flat analysis-bin index (reco energy slowest, PID fastest) of rows given by bin-centre values."""
    ie = np.searchsorted(e_edges, energy, side="right") - 1
    ic = np.searchsorted(c_edges, coszen, side="right") - 1
    p = np.asarray(pid)
    bad = (ie < 0) | (ie >= e_edges.size - 1) | (ic < 0) | (ic >= c_edges.size - 1) | (p < 0) | (p >= n_pid) | (p != np.round(p))
    if np.any(bad):
        raise InvalidSpecError(f"{path}: {int(bad.sum())} rows outside the analysis binning (first: row {int(np.argmax(bad)) + 1})")
    return (ie * (c_edges.size - 1) + ic) * n_pid + p.astype(int)


def _per_bin(path, table, value_columns, e_edges, c_edges, n_pid) -> np.ndarray:
    """Values of a per-bin table, ordered by analysis bin; every bin exactly once."""
    n_bins = (e_edges.size - 1) * (c_edges.size - 1) * n_pid
    idx = _bin_index(path, table["reco_energy"], table["reco_coszen"], table["pid"], e_edges, c_edges, n_pid)
    if idx.size != n_bins or np.unique(idx).size != n_bins:
        raise InvalidSpecError(f"{path}: needs one row per analysis bin ({n_bins}); got {idx.size} rows for {np.unique(idx).size} bins")
    out = np.empty((n_bins, len(value_columns)))
    out[idx] = np.stack([table[c] for c in value_columns], axis=-1)
    return out


@register
@final
class DeepCoreEventMC(AbstractExperiment):
    """DeepCore per-event MC folded on a true grid (see the module docstring for the model).

    Fields:
        observed: data counts per bin, shape (n_E_reco, n_cz_reco, n_pid).
        nuisance_nominal, nuisance_sigma, nuisance_gaussian: per nuisance, value = nominal + sigma theta;
            1 where its prior is N(0, 1) in theta, 0 where uniform.
        grid: the true cells and their Earth paths.
        cell_flux: nominal flux at the cell centres [(m^2 s sr GeV)^-1], (2 nu/nu-bar, 2 e/mu, n_cells); the
            flux systematics act on it and scale each event's flux by the ratio in its cell.
        cell_energy, cell_coszen: cell centres (n_cells,), cell index = ic * nE + ie.
        entry_source: index into the (nu/nu-bar, flavour beta, cell) array of each response entry (K,).
        entry_segment: group * n_bins + flat bin of each entry (K,).
        entry_weight: sums of event weight x livetime x nominal flux, e and mu (K, 2) [events].
        entry_weight2: sums of their products ee, e mu, mu mu (MC-statistical variance, (K, 3)).
        hyperplanes: (4 sets, n_bins, 6) offset and slopes (:data:`_HYPERPLANE_COLUMNS`).
        muon_count, muon_sigma: muon template and its absolute uncertainty per bin (n_bins,).
        sigma2_reference: MC + muon variance per bin without oscillation at nominal pulls (the profiler's
            Gauss-Newton weights under ``mod_chi2``).
        statistic: ``"mod_chi2"`` or ``"poisson"`` (static).
    """

    response: ClassVar[str] = "deepcore_event_mc"
    kind: ClassVar[str] = "atmospheric"

    name: str = eqx.field(static=True)
    nuisance_names: tuple[str, ...] = eqx.field(static=True)
    statistic: str = eqx.field(static=True)
    observed: Float[Array, "nE nC npid"]
    nuisance_nominal: Float[Array, " nnuis"]
    nuisance_sigma: Float[Array, " nnuis"]
    nuisance_gaussian: Float[Array, " nnuis"]
    grid: ZenithGrid
    cell_flux: Float[Array, "2 2 ncells"]
    cell_energy: Float[Array, " ncells"]
    cell_coszen: Float[Array, " ncells"]
    entry_source: Int[Array, " K"]
    entry_segment: Int[Array, " K"]
    entry_weight: Float[Array, "K 2"]
    entry_weight2: Float[Array, "K 3"]
    hyperplanes: Float[Array, "4 nbins 6"]
    muon_count: Float[Array, " nbins"]
    muon_sigma: Float[Array, " nbins"]
    sigma2_reference: Float[Array, " nbins"]

    # --- building ---------------------------------------------------------------------------------

    @classmethod
    def validate_spec(cls, spec: dict[str, Any], where: str) -> None:
        for key in ("data_file", "muon_file", "mc_file"):
            string(spec, f"data.{key}", where)
        hp = field(spec, "data.hyperplanes", where)
        if not isinstance(hp, dict) or set(hp) != set(HYPERPLANE_SETS):
            raise InvalidSpecError(f"{where}: data.hyperplanes must give a file for each of {list(HYPERPLANE_SETS)}")
        for k in HYPERPLANE_SETS:
            string(spec, f"data.hyperplanes.{k}", where)
        edges(spec, "binning.reco_energy_edges_gev", where)
        c = edges(spec, "binning.reco_coszen_edges", where)
        if c[0] < -1.0 or c[-1] > 1.0:
            raise InvalidSpecError(f"{where}: binning.reco_coszen_edges must lie in [-1, 1]; got {c}")
        integer(spec, "binning.n_pid", where, lo=1, hi=16)
        number(spec, "exposure.livetime_years", where, positive=True)
        string(spec, "flux.model", where, choices=FLUX_MODELS)
        validate_true_grid(spec, where)
        string(spec, "true_grid.flux_at", where, choices=("event", "cell"))
        string(spec, "likelihood.statistic", where, choices=("mod_chi2", "poisson"))
        nuis = spec.get("nuisances", [])
        nuisance_names(nuis, where, expected=NUISANCES, response=cls.response)
        for i, n in enumerate(nuis):
            number(n, "nominal", f"{where} nuisances[{i}]")
            string(n, "prior", f"{where} nuisances[{i}]", choices=("gaussian", "uniform"))

    @classmethod
    def from_spec(cls, spec: dict[str, Any], folder: pathlib.Path) -> DeepCoreEventMC:
        folder = pathlib.Path(folder)
        d, b, g = spec["data"], spec["binning"], spec["true_grid"]
        e_edges = np.asarray(b["reco_energy_edges_gev"], float)
        c_edges = np.asarray(b["reco_coszen_edges"], float)
        n_pid = int(b["n_pid"])
        shape = (e_edges.size - 1, c_edges.size - 1, n_pid)
        n_bins = int(np.prod(shape))
        where = (e_edges, c_edges, n_pid)
        keys = ("reco_energy", "reco_coszen", "pid")

        path = folder / d["data_file"]
        observed = _per_bin(path, _read_csv(path, keys + ("count",)), ("count",), *where)[:, 0]
        if np.any(observed < 0):
            raise InvalidSpecError(f"{path}: negative counts")
        path = folder / d["muon_file"]
        muons = _per_bin(path, _read_csv(path, keys + ("count", "abs_uncert")), ("count", "abs_uncert"), *where)
        hyperplanes = []
        for k in HYPERPLANE_SETS:
            path = folder / d["hyperplanes"][k]
            hyperplanes.append(_per_bin(path, _read_csv(path, keys + _HYPERPLANE_COLUMNS), _HYPERPLANE_COLUMNS, *where))

        grid = true_grid(spec)
        n_c, n_e = grid.shape
        n_cells = n_c * n_e
        cz_c, e_c = np.meshgrid(np.asarray(grid.cos_zenith), np.asarray(grid.energy_gev), indexing="ij")
        cell_flux = honda_flux(spec["flux"]["model"], e_c.ravel(), cz_c.ravel())

        path = folder / d["mc_file"]
        try:
            with np.load(path) as z:
                mc = {k: np.asarray(z[k]) for k in _MC_ARRAYS}
        except (OSError, ValueError, KeyError) as exc:
            raise InvalidSpecError(f"{path}: cannot read the per-event MC (arrays {list(_MC_ARRAYS)} needed): {exc}") from None
        n_ev = mc["pdg"].size
        if any(v.shape != (n_ev,) for v in mc.values()):
            raise InvalidSpecError(f"{path}: the MC arrays must be 1-D of one length")
        pdg = mc["pdg"].astype(int)
        if not np.all(np.isin(np.abs(pdg), list(_PDG_FLAVOUR))):
            raise InvalidSpecError(f"{path}: pdg codes must be +-12, +-14, +-16")
        if np.any(~np.isfinite(mc["weight"])) or np.any(mc["weight"] < 0):
            raise InvalidSpecError(f"{path}: event weights must be finite and >= 0")
        if np.any(np.abs(mc["true_coszen"]) > 1) or np.any(mc["true_energy"] <= 0):
            raise InvalidSpecError(f"{path}: true cos zenith outside [-1, 1] or non-positive true energy")
        bin_ = _bin_index(path, mc["reco_energy"], mc["reco_coszen"], mc["pid"], *where)
        cell = grid.cell_index(mc["true_energy"].astype(float), mc["true_coszen"].astype(float))
        beta = np.vectorize(_PDG_FLAVOUR.get)(np.abs(pdg))
        nubar = (pdg < 0).astype(int)
        cc = mc["type"] > 0
        group = np.where(cc, beta, np.where(beta < 2, 3, 4))
        keep = cell >= 0  # PISA: events outside the true grid get weight 0
        source = (nubar * 3 + beta) * n_cells + cell
        segment = group * n_bins + bin_
        key = segment.astype(np.int64)[keep] * (6 * n_cells) + source[keep]
        unique, inverse = np.unique(key, return_inverse=True)
        w = mc["weight"].astype(float)[keep] * float(spec["exposure"]["livetime_years"]) * _SECONDS_PER_YEAR
        # nominal flux of each event's nu/nu-bar type, e and mu: at the event ("event") or its cell centre ("cell")
        if g["flux_at"] == "event":
            phi = honda_flux(spec["flux"]["model"], mc["true_energy"][keep].astype(float), mc["true_coszen"][keep].astype(float))
        else:
            phi = cell_flux[:, :, cell[keep]]
        phi = phi[nubar[keep], :, np.arange(w.size)]  # (N, 2): e, mu
        # per entry: sum of w Phi_a (a = e, mu) and of w^2 Phi_a Phi_b (ee, e mu, mu mu); the cell's
        # P and flux-systematics factors multiply them exactly (they are constant over the cell)
        wp = w[:, None] * phi
        weight = np.stack([np.bincount(inverse, weights=wp[:, a], minlength=unique.size) for a in (0, 1)], axis=-1)
        weight2 = np.stack([np.bincount(inverse, weights=wp[:, a] * wp[:, b], minlength=unique.size)
                            for a, b in ((0, 0), (0, 1), (1, 1))], axis=-1)

        nuis = spec["nuisances"]
        exp = cls(
            name=spec["name"],
            nuisance_names=NUISANCES,
            statistic=spec["likelihood"]["statistic"],
            observed=jnp.asarray(observed.reshape(shape)),
            nuisance_nominal=jnp.asarray([float(n["nominal"]) for n in nuis]),
            nuisance_sigma=jnp.asarray([float(n["sigma"]) for n in nuis]),
            nuisance_gaussian=jnp.asarray([1.0 if n["prior"] == "gaussian" else 0.0 for n in nuis]),
            grid=grid,
            cell_flux=jnp.asarray(cell_flux),
            cell_energy=jnp.asarray(e_c.ravel()),
            cell_coszen=jnp.asarray(cz_c.ravel()),
            entry_source=jnp.asarray((unique % (6 * n_cells)).astype(np.int32)),
            entry_segment=jnp.asarray((unique // (6 * n_cells)).astype(np.int32)),
            entry_weight=jnp.asarray(weight),
            entry_weight2=jnp.asarray(weight2),
            hyperplanes=jnp.asarray(np.stack(hyperplanes)),
            muon_count=jnp.asarray(muons[:, 0]),
            muon_sigma=jnp.asarray(muons[:, 1]),
            sigma2_reference=jnp.zeros(n_bins),
        )
        no_osc = jnp.broadcast_to(jnp.eye(3)[:2], (2, n_cells, 2, 3))
        _, var = exp._predict(exp.nuisance_nominal * 0.0, no_osc)
        return eqx.tree_at(lambda e: e.sigma2_reference, exp, var)

    # --- prediction -------------------------------------------------------------------------------

    def check_params(self, params: Params) -> None:
        resolve_osc(params.osc)

    def values(self, pulls: Float[Array, " nnuis"]) -> dict[str, Float[Array, ""]]:
        """The nuisance values (nominal + sigma theta) by name."""
        v = self.nuisance_nominal + self.nuisance_sigma * pulls
        return {n: v[i] for i, n in enumerate(self.nuisance_names)}

    def physics(self, params: Params) -> Float[Array, "2 ncells 2 3"]:
        """P(nu_a -> nu_b) for a = e, mu at every cell: (nu/nu-bar, cell, a, b)."""
        p = grid_probabilities(resolve_osc(params.osc), self.grid, params.matter_nsi())
        return p[..., :2, :].reshape(2, -1, 2, 3)

    def _predict(self, pulls, physics) -> tuple[dict[str, Array], Array]:
        """Counts per group (5, n_bins) and muons (n_bins,) by name, and the variance of the total."""
        v = self.values(pulls)
        flux = flux_factors(
            self.cell_flux, self.cell_energy, self.cell_coszen, nue_numu_ratio=v["nue_numu_ratio"],
            delta_index=v["delta_index"], barr_uphor=v["barr_uphor"], barr_nu_nubar=v["barr_nu_nubar"],
        )
        # the systematics' factor on each cell's flux times the probability: (nu/nu-bar, a, beta, cell)
        factor = jnp.einsum("nac,ncab->nabc", flux / self.cell_flux, physics)
        g_e = factor[:, 0].reshape(-1)[self.entry_source]
        g_mu = factor[:, 1].reshape(-1)[self.entry_source]
        w, w2 = self.entry_weight, self.entry_weight2
        rate = w[:, 0] * g_e + w[:, 1] * g_mu
        rate2 = w2[:, 0] * g_e**2 + 2.0 * w2[:, 1] * g_e * g_mu + w2[:, 2] * g_mu**2
        n_seg = len(GROUPS) * self.muon_count.shape[0]
        counts = jax.ops.segment_sum(rate, self.entry_segment, n_seg).reshape(len(GROUPS), -1)
        sumw2 = jax.ops.segment_sum(rate2, self.entry_segment, n_seg).reshape(len(GROUPS), -1)
        one = jnp.ones(())
        norm = v["aeff_scale"] * jnp.stack(
            [one, one, v["nutau_norm"], v["nu_nc_norm"], v["nutau_norm"] * v["nu_nc_norm"]]
        )
        knobs = jnp.stack([one] + [v[k] for k in _HYPERPLANE_COLUMNS[1:]])
        h = (self.hyperplanes @ knobs)[_HYPERPLANE_OF_GROUP]  # (5, n_bins)
        scale = norm[:, None] * h
        counts = jnp.maximum(counts * scale, 0.0)
        var = jnp.sum(sumw2 * scale**2, axis=0) + self.muon_sigma**2
        out = {name: counts[i] for i, name in enumerate(GROUPS)}
        out["muons"] = self.muon_count * v["atm_muon_scale"]
        return out, var

    def components(self, params: Params, pulls, physics) -> dict[str, Array]:
        """Counts by group (``nue_cc``, ``numu_cc``, ``nutau_cc``, ``nc``, ``nutau_nc``; nu + nu-bar) and
        ``muons``, each shaped like ``observed``."""
        out, _ = self._predict(pulls, physics)
        return {k: c.reshape(self.observed.shape) for k, c in out.items()}

    def expected(self, params: Params, pulls, physics) -> Float[Array, "nE nC npid"]:
        out, _ = self._predict(pulls, physics)
        return sum(out.values()).reshape(self.observed.shape)

    def variance(self, params: Params, pulls, physics) -> Float[Array, "nE nC npid"]:
        """MC-statistical (sum of squared weights) + muon variance of the prediction per bin."""
        return self._predict(pulls, physics)[1].reshape(self.observed.shape)

    # --- statistics -------------------------------------------------------------------------------

    def terms(self, params: Params, pulls, physics) -> Terms:
        """``mod_chi2`` (log L = -chi^2 / 2) or Poisson; the pull chi^2 counts the Gaussian-prior pulls only."""
        out, var = self._predict(pulls, physics)
        mu = sum(out.values()).reshape(self.observed.shape)
        pull_chi2 = jnp.sum(self.nuisance_gaussian * pulls**2)
        if self.statistic == "poisson":
            return Terms(stats.poisson_log_likelihood(self.observed, mu), stats.baker_cousins_chi2(self.observed, mu), pull_chi2)
        chi2 = mod_chi2(self.observed, mu, var.reshape(self.observed.shape))
        return Terms(-0.5 * chi2, chi2, pull_chi2)

    def chi2_derivatives(self, prediction):
        if self.statistic == "poisson":
            return super().chi2_derivatives(prediction)
        n = self.observed
        v = jnp.maximum(prediction, stats.MU_FLOOR) + self.sigma2_reference.reshape(n.shape)
        r = n - prediction
        return -2.0 * r / v - (r / v) ** 2, 2.0 / v


def mod_chi2(observed, expected, variance) -> Float[Array, ""]:
    """PISA's ``mod_chi2``: sum (n - mu)^2 / (mu + sigma^2), mu floored at 1e-10 (icecube/pisa
    ``pisa/utils/stats.py``)."""
    mu = jnp.maximum(expected, stats.MU_FLOOR)
    return jnp.sum((observed - mu) ** 2 / (mu + variance))
