"""Super-Kamiokande atmospheric neutrinos from the binned release (response ``sk_binned_mc``; SK I-V 2023).

The release (arXiv:2311.05105, Zenodo 10.5281/zenodo.8401262) gives, for each of its 930 analysis bins
(29 samples in reconstructed log10 p x cos zenith), the data and the MC expectation per true channel (nu_e,
nu_e-bar, nu_mu, nu_mu-bar, nu_tau + nu_tau-bar CC, NC) at SK's best fit in each ordering and without
oscillation, with the mean, RMS and 2.3/15.9/50/84.1/97.7 % quantiles of the true energy and true cos
zenith of the bin's MC events. Its disclaimer: the binned counts cannot reproduce SK's per-event fit exactly,
and SK's systematic response functions are not public. This model is the reweighting the release invites
(as Newtrinos.jl does):

    N_cb(theta) = N^ref_cb x W_cb(theta) / W_cb(theta_ref),   W_cb = sum_cells R_cb(cell) g_c(cell; theta)

for channel c and bin b, with N^ref the released MC at the reference point (spec ``reference.mc``: SK's NO
best fit by default, or the no-oscillation MC), R_cb the bin's true-(E, cos z) distribution and g_c the
oscillated-to-unoscillated flux ratio of the channel in the cell: nu_beta CC (beta = e, mu):
g = (r_e Phi_e P_e->beta + r_mu Phi_mu P_mu->beta) / Phi_beta for nu and nu-bar separately; nu_tau CC:
the same over Phi_mu (the release's "no-oscillation" nu_tau MC is the nu_tau CC rate of a flux converted
nu_mu -> nu_tau) with nu and nu-bar in the fractions ``nu_fraction``; NC: flavour-blind (no oscillation
under unitary propagation, NSI included), r-weighted. r_a = Phi'_a / Phi_a are the flux systematics'
factors (:func:`nsijax.physics.sources.atmospheric.flux_factors`, Barr-style). P is computed once per
parameter point on the true grid (:func:`~nsijax.physics.oscillation.atmospheric.grid_probabilities`,
PREM, ``params.osc`` and the matter NSI).

Grids: P on a propagation grid (spec ``true_grid``: 400 log cells on [0.1, 10^4] GeV x 200 in cos z), the
channel fractions Phi_a P / Phi_beta averaged over blocks of it (``true_grid.average``) into fold cells
(100 x 40) on which R, the flux systematics and the sum act. Averaging, not sampling, is what the folded
prediction needs where the oscillation is faster than a cell (sub-GeV, up-going): folding the centres of a
200 x 100 grid makes chi^2 jitter by ~3 as dm31 moves by 2e-5 eV^2; the default by 0.34 (rms of second
differences), 800 x 400 by 0.02.

R_cb is the product of a distribution in log10 E and one in cos z, each rebuilt from the five released
quantiles of the no-oscillation MC: the probit z(x) is piecewise linear through (q_k, -2..2) and extended
linearly beyond (Gaussian tails), the CDF is Phi(z(x)), truncated to the grid and renormalised.
Measured (tests/experiments/atmospheric/test_super_k.py): anchored on the NO MC this reproduces the
released IO MC to <= 0.81 % per sample; from the no-oscillation MC it reproduces the NO MC to <= 0.24 % for
the e-like and NC samples but is 2.7-3.3 % high for sub-GeV mu-like and 8-10 % high for up-going muons (the
released energy quantiles are coarse, interpolated from half-decade histograms), hence the NO anchor.

Systematics (spec ``[[nuisances]]``, Gaussian pulls, value = nominal + sigma x theta), each with an
``effect``: the flux knobs (``flux_norm``, ``nue_numu_ratio``, ``nu_nubar_ratio``, ``delta_index``,
``barr_uphor``, ``barr_nu_nubar``), channel normalisations (``nc_norm``, ``nutau_norm``), ``energy_scale``
(fractional momentum scale: events move across the log10 p edges of each (sample, cos z) row, first
order in the shift, with the bin's own density flat inside it), ``sample_norm`` (x (1 + sigma theta) on
the listed samples) and ``migration`` (x (1 + sigma theta) on ``samples``, the same number of events
taken from ``partner``, in proportion to the reference MC totals). Likelihood: Poisson (Baker-Cousins) on
the bins not listed in the spec's ``likelihood.exclude_rows`` (default: Newtrinos.jl's 50 lowest-momentum
sub-GeV e-like bins, where the released MC misses the data's momentum shape at the threshold by 11-16 %); the 7
background-subtracted up-mu bins with non-integer data enter as released.
"""

from __future__ import annotations

import pathlib
from typing import Any, ClassVar, final

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float
from scipy.special import ndtr

from ...errors import InvalidSpecError
from ...parameters.oscillation import OscParams, resolve_osc
from ...parameters.params import Params
from ...physics.oscillation.atmospheric import ZenithGrid, grid_probabilities
from ...physics.sources.atmospheric import FLUX_MODELS, flux_factors, honda_flux
from ...statistics import terms as stats
from ..base import AbstractExperiment, Terms, register
from ..parsers.spec import field, nuisance_names, number, string
from .true_grid import true_grid, validate_true_grid

#: Prediction channels, in order: the release's MC channels (nu_tau: nu_tau + nu_tau-bar CC; NC: all NC).
CHANNELS = ("nue", "nuebar", "numu", "numubar", "nutau", "nc")
_RELEASE_CHANNEL = {"nue": "Nue", "nuebar": "NueBar", "numu": "Numu", "numubar": "NumuBar", "nutau": "Nutau", "nc": "NC"}
#: The released MC configurations a prediction can be anchored on.
REFERENCE_MC = ("NO", "IO", "NoOsc")
#: Nuisance effects acting on the flux (arguments of ``flux_factors``) and their neutral values.
FLUX_EFFECTS = {"nue_numu_ratio": 1.0, "nu_nubar_ratio": 1.0, "delta_index": 0.0, "barr_uphor": 0.0, "barr_nu_nubar": 0.0}
#: Effects that scale whole channels (factor = value): all nu, NC, nu_tau.
NORM_EFFECTS = ("flux_norm", "nc_norm", "nutau_norm")
#: Effects acting per bin, linear in their value.
BIN_EFFECTS = ("sample_norm", "migration")
EFFECTS = tuple(FLUX_EFFECTS) + NORM_EFFECTS + ("energy_scale",) + BIN_EFFECTS
_Z = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])  # the probits of the released quantiles 2.3 ... 97.7 %


def quantile_cdf(quantiles: np.ndarray, x: np.ndarray) -> np.ndarray:
    """CDF at ``x`` of the distribution with the given 2.3/15.9/50/84.1/97.7 % ``quantiles`` (..., 5): the
    probit is piecewise linear through (q_k, -2, -1, 0, 1, 2) and continues with the end segments' slopes
    (NumPy; ties are split by 1e-9 so that the probit stays increasing)."""
    q = np.maximum.accumulate(np.asarray(quantiles, float), axis=-1) + 1e-9 * np.arange(5)
    x = np.asarray(x, float)
    flat = q.reshape(-1, 5)
    out = np.empty((flat.shape[0], x.size))
    for i, qq in enumerate(flat):
        z = np.interp(x, qq, _Z)
        z = np.where(x < qq[0], -2.0 + (x - qq[0]) / (qq[1] - qq[0]), z)
        z = np.where(x > qq[-1], 2.0 + (x - qq[-1]) / (qq[-1] - qq[-2]), z)
        out[i] = ndtr(z)
    return out.reshape(q.shape[:-1] + (x.size,))


def _cell_weights(quantiles: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Probability of each cell between ``edges`` (rows renormalised to 1 over the grid)."""
    p = np.diff(quantile_cdf(quantiles, edges), axis=-1)
    s = p.sum(axis=-1, keepdims=True)
    return np.where(s > 0, p / np.where(s > 0, s, 1.0), 1.0 / p.shape[-1])


def _patch_cosz(name: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The release's three rows with cos z_hi < cos z_lo (rows 510, 520, 770, 1-based) are the top bins of
    their samples: their upper edge is the first of the sample ranges' ends (0 for up-going muons, 1) above
    cos z_lo, as Newtrinos.jl patches them (0, 0, 1)."""
    hi = hi.copy()
    bad = hi < lo
    hi[bad] = np.where(lo[bad] < 0.0, 0.0, 1.0)
    return hi


def _energy_scale_matrix(name, logp_lo, logp_hi, cosz_lo) -> np.ndarray:
    """D with dN/d(delta) = D @ N for a shift delta of log10 p: per (sample, cos z) row of bins ordered in
    log p, the flux through each inner edge is delta x the mean of the two neighbouring densities N / width;
    through the outer edges, the end bin's own density (flat continuation). (n_bins, n_bins)."""
    n = name.size
    density = 1.0 / (logp_hi - logp_lo)  # events per unit log10 p of one event in the bin
    d = np.zeros((n, n))
    keys = {}
    for b in range(n):
        keys.setdefault((name[b], round(float(cosz_lo[b]), 6)), []).append(b)
    for rows in keys.values():
        rows = sorted(rows, key=lambda b: logp_lo[b])
        for i, b in enumerate(rows):
            # events enter b through its lower edge and leave through its upper edge (delta > 0)
            lower = [(b, 1.0)] if i == 0 else [(rows[i - 1], 0.5), (b, 0.5)]
            upper = [(b, 1.0)] if i == len(rows) - 1 else [(b, 0.5), (rows[i + 1], 0.5)]
            for src, w in lower:
                d[b, src] += w * density[src]
            for src, w in upper:
                d[b, src] -= w * density[src]
    return d


@register
@final
class SuperKBinnedMC(AbstractExperiment):
    """Super-K atmospheric release reweighted on a true grid (see the module docstring for the model).

    Fields:
        observed: data per bin (930,).
        nuisance_nominal, nuisance_sigma: value = nominal + sigma theta per nuisance.
        reference_counts: released MC at the reference point per channel (6, n_bins).
        reference_weight: W_cb at the reference point and nominal flux (6, n_bins).
        energy_response, coszen_response: R_cb's factors on the fold cells, (6, n_bins, FE), (6, n_bins, FC).
        grid: the propagation cells and their Earth paths (nC, nE).
        block: propagation cells averaged into one fold cell, (in cos z, in E) (static).
        cell_flux: nominal Honda flux at the propagation-cell centres (2 nu/nu-bar, 2 e/mu, nC, nE).
        fold_flux: the same at the fold-cell centres (2, 2, FC, FE); fold_energy, fold_coszen: those centres.
        nu_fraction: share of nu (vs nu-bar) in the nu_tau CC and NC channels (scalar).
        bin_effects: per-bin coefficient of each ``sample_norm`` / ``migration`` nuisance (n_bin_nuis, n_bins).
        energy_scale_matrix: D of the energy scale (n_bins, n_bins).
        effect_index: for each of :data:`FLUX_EFFECTS`, :data:`NORM_EFFECTS` and ``energy_scale``, the
            index of its nuisance or -1 (static); bin_effect_index: the nuisances of ``bin_effects`` (static).
        sample_names: sample of each bin (static, for plots and tables).
        bin_edges: per bin log10 p_lo, log10 p_hi [MeV/c], cos z_lo, cos z_hi (the three bad rows patched).
        bin_weight: 1 for the bins in the likelihood, 0 for the excluded ones (n_bins,).
    """

    response: ClassVar[str] = "sk_binned_mc"
    kind: ClassVar[str] = "atmospheric"

    name: str = eqx.field(static=True)
    nuisance_names: tuple[str, ...] = eqx.field(static=True)
    effect_index: tuple[tuple[str, int], ...] = eqx.field(static=True)
    bin_effect_index: tuple[int, ...] = eqx.field(static=True)
    sample_names: tuple[str, ...] = eqx.field(static=True)
    block: tuple[int, int] = eqx.field(static=True)
    observed: Float[Array, " nbins"]
    nuisance_nominal: Float[Array, " nnuis"]
    nuisance_sigma: Float[Array, " nnuis"]
    reference_counts: Float[Array, "6 nbins"]
    reference_weight: Float[Array, "6 nbins"]
    energy_response: Float[Array, "6 nbins FE"]
    coszen_response: Float[Array, "6 nbins FC"]
    grid: ZenithGrid
    cell_flux: Float[Array, "2 2 nC nE"]
    fold_flux: Float[Array, "2 2 FC FE"]
    fold_energy: Float[Array, "FC FE"]
    fold_coszen: Float[Array, "FC FE"]
    nu_fraction: Float[Array, ""]
    bin_effects: Float[Array, "nb nbins"]
    energy_scale_matrix: Float[Array, "nbins nbins"]
    bin_edges: Float[Array, "nbins 4"]
    bin_weight: Float[Array, " nbins"]

    # --- building ---------------------------------------------------------------------------------

    @classmethod
    def validate_spec(cls, spec: dict[str, Any], where: str) -> None:
        string(spec, "data.bins_file", where)
        string(spec, "reference.mc", where, choices=REFERENCE_MC)
        for k in ("sin2_theta12", "sin2_theta13", "sin2_theta23"):
            v = number(spec, f"reference.{k}", where)
            if not 0.0 <= v <= 1.0:
                raise InvalidSpecError(f"{where}: reference.{k} must lie in [0, 1]; got {v}")
        for k in ("delta_cp", "dm21_ev2", "dm31_ev2"):
            number(spec, f"reference.{k}", where)
        string(spec, "flux.model", where, choices=FLUX_MODELS)
        validate_true_grid(spec, where)
        blk = field(spec, "true_grid.average", where)
        if (not isinstance(blk, list) or len(blk) != 2 or not all(isinstance(k, int) and not isinstance(k, bool) and k >= 1 for k in blk)
                or spec["true_grid"]["n_energy"] % blk[0] or spec["true_grid"]["n_coszen"] % blk[1]):
            raise InvalidSpecError(f"{where}: true_grid.average must be [k_E, k_cz], integers >= 1 dividing n_energy and n_coszen; got {blk!r}")
        rows = field(spec, "likelihood.exclude_rows", where)
        if not isinstance(rows, list) or not all(
                isinstance(r, list) and len(r) == 2 and all(isinstance(i, int) and not isinstance(i, bool) for i in r) for r in rows):
            raise InvalidSpecError(f"{where}: likelihood.exclude_rows must be a list of [first, last] row numbers (1-based)")
        nuis = spec.get("nuisances", [])
        names = nuisance_names(nuis, where)
        if len(set(names)) != len(names):
            raise InvalidSpecError(f"{where}: nuisance names must be unique; got {names}")
        seen = set()
        for i, n in enumerate(nuis):
            w = f"{where} nuisances[{i}]"
            effect = string(n, "effect", w, choices=EFFECTS)
            if effect not in BIN_EFFECTS:
                if effect in seen:
                    raise InvalidSpecError(f"{w}: effect {effect!r} may appear once")
                seen.add(effect)
            else:
                keys = ("samples", "partner") if effect == "migration" else ("samples",)
                for k in keys:
                    v = field(n, k, w)
                    if not isinstance(v, list) or not v or not all(isinstance(s, str) for s in v):
                        raise InvalidSpecError(f"{w}: {k} must be a non-empty list of sample names")
            if "nominal" in n:
                number(n, "nominal", w)

    @classmethod
    def from_spec(cls, spec: dict[str, Any], folder: pathlib.Path) -> SuperKBinnedMC:
        folder = pathlib.Path(folder)
        path = folder / spec["data"]["bins_file"]
        try:
            with np.load(path) as z:
                arrays = {k: np.asarray(z[k]) for k in z.files}
        except (OSError, ValueError) as exc:
            raise InvalidSpecError(f"{path}: cannot read the binned release: {exc}") from None
        ref = spec["reference"]["mc"]
        needed = ["sample_name", "logp_lo", "logp_hi", "cosz_lo", "cosz_hi", "data"]
        needed += [f"mc_{c}_{_RELEASE_CHANNEL[ch]}" for c in {ref, "NoOsc"} for ch in CHANNELS]
        missing = [k for k in needed if k not in arrays]
        if missing:
            raise InvalidSpecError(f"{path}: missing arrays {missing}")
        name = arrays["sample_name"].astype(str)
        n_bins = name.size
        if any(arrays[k].shape[0] != n_bins for k in needed):
            raise InvalidSpecError(f"{path}: every array needs one row per bin ({n_bins})")
        numeric = [arrays[k] for k in needed[1:]]
        if any(np.any(~np.isfinite(a)) for a in numeric):
            raise InvalidSpecError(f"{path}: non-finite values")
        observed = arrays["data"]
        if np.any(observed < 0):
            raise InvalidSpecError(f"{path}: negative data")
        logp_lo, logp_hi, cosz_lo = arrays["logp_lo"], arrays["logp_hi"], arrays["cosz_lo"]
        cosz_hi = _patch_cosz(name, cosz_lo, arrays["cosz_hi"])

        g = spec["true_grid"]
        grid = true_grid(spec)
        model = spec["flux"]["model"]
        cz_c, e_c = np.meshgrid(np.asarray(grid.cos_zenith), np.asarray(grid.energy_gev), indexing="ij")
        cell_flux = honda_flux(model, e_c.ravel(), cz_c.ravel()).reshape(2, 2, *e_c.shape)
        k_e, k_c = (int(k) for k in g["average"])
        log_e_edges = np.log10(np.asarray(grid.energy_edges_gev))[::k_e]
        cz_edges = np.asarray(grid.cz_edges)[::k_c]
        fold_e = 10.0 ** (0.5 * (log_e_edges[1:] + log_e_edges[:-1]))
        fold_cz, fold_e = np.meshgrid(0.5 * (cz_edges[1:] + cz_edges[:-1]), fold_e, indexing="ij")
        fold_flux = honda_flux(model, fold_e.ravel(), fold_cz.ravel()).reshape(2, 2, *fold_e.shape)

        # R_cb from the no-oscillation MC's quantiles on the fold cells: log10 E and cos z factors
        e_resp, c_resp, ref_counts = [], [], []
        for ch in CHANNELS:
            no_osc = arrays[f"mc_NoOsc_{_RELEASE_CHANNEL[ch]}"]
            e_resp.append(_cell_weights(np.log10(np.maximum(no_osc[:, 3:8], 1e-3)), log_e_edges))
            c_resp.append(_cell_weights(np.clip(no_osc[:, 10:15], -1.0, 1.0), cz_edges))
            ref_counts.append(arrays[f"mc_{ref}_{_RELEASE_CHANNEL[ch]}"][:, 0])
        ref_counts = np.stack(ref_counts)
        if np.any(ref_counts < 0):
            raise InvalidSpecError(f"{path}: negative MC counts")
        numu = arrays["mc_NoOsc_Numu"][:, 0].sum()
        nu_fraction = numu / (numu + arrays["mc_NoOsc_NumuBar"][:, 0].sum())

        weight = np.ones(n_bins)
        for lo, hi in spec["likelihood"]["exclude_rows"]:
            if not 1 <= lo <= hi <= n_bins:
                raise InvalidSpecError(f"{spec['name']}: likelihood.exclude_rows [{lo}, {hi}] outside rows 1..{n_bins}")
            weight[lo - 1:hi] = 0.0

        # nuisances
        nuis = spec.get("nuisances", [])
        names = tuple(n["name"] for n in nuis)
        nominal = []
        for n in nuis:
            default = FLUX_EFFECTS.get(n["effect"], 1.0 if n["effect"] in NORM_EFFECTS else 0.0)
            nominal.append(float(n.get("nominal", default)))
        effect_index = tuple((e, next((i for i, n in enumerate(nuis) if n["effect"] == e), -1))
                             for e in tuple(FLUX_EFFECTS) + NORM_EFFECTS + ("energy_scale",))
        known = set(name.tolist())
        rows, bin_index = [], []
        totals = ref_counts.sum(axis=0)
        for i, n in enumerate(nuis):
            if n["effect"] not in BIN_EFFECTS:
                continue
            sets = [n["samples"]] + ([n["partner"]] if n["effect"] == "migration" else [])
            for s in sets:
                unknown = sorted(set(s) - known)
                if unknown:
                    raise InvalidSpecError(f"{spec['name']}: nuisance {n['name']!r} names unknown samples {unknown}")
            a = np.isin(name, n["samples"]).astype(float)
            if n["effect"] == "migration":
                b = np.isin(name, n["partner"])
                if np.any(b & (a > 0)):
                    raise InvalidSpecError(f"{spec['name']}: nuisance {n['name']!r}: samples and partner overlap")
                a = a - b * (totals[a > 0].sum() / totals[b].sum())
            rows.append(a)
            bin_index.append(i)

        exp = cls(
            name=spec["name"],
            nuisance_names=names,
            effect_index=effect_index,
            bin_effect_index=tuple(bin_index),
            sample_names=tuple(name.tolist()),
            block=(k_c, k_e),
            observed=jnp.asarray(observed),
            nuisance_nominal=jnp.asarray(nominal, dtype=float).reshape(len(names)),
            nuisance_sigma=jnp.asarray([float(n["sigma"]) for n in nuis], dtype=float).reshape(len(names)),
            reference_counts=jnp.asarray(ref_counts),
            reference_weight=jnp.ones_like(jnp.asarray(ref_counts)),
            energy_response=jnp.asarray(np.stack(e_resp)),
            coszen_response=jnp.asarray(np.stack(c_resp)),
            grid=grid,
            cell_flux=jnp.asarray(cell_flux),
            fold_flux=jnp.asarray(fold_flux),
            fold_energy=jnp.asarray(fold_e),
            fold_coszen=jnp.asarray(fold_cz),
            nu_fraction=jnp.asarray(nu_fraction),
            bin_effects=jnp.asarray(np.stack(rows) if rows else np.zeros((0, n_bins))),
            energy_scale_matrix=jnp.asarray(_energy_scale_matrix(name, logp_lo, logp_hi, cosz_lo)),
            bin_edges=jnp.asarray(np.stack([logp_lo, logp_hi, cosz_lo, cosz_hi], axis=-1)),
            bin_weight=jnp.asarray(weight),
        )
        r = spec["reference"]
        if ref == "NoOsc":
            p_ref = jnp.broadcast_to(jnp.eye(3), (2, *e_c.shape, 3, 3))
        else:
            osc = OscParams.from_sin2(r["sin2_theta12"], r["sin2_theta13"], r["sin2_theta23"], r["delta_cp"],
                                      r["dm21_ev2"], r["dm31_ev2"])
            p_ref = grid_probabilities(osc, grid)
        w_ref = exp.weights(exp.nuisance_nominal, exp._oscillated_fraction(p_ref))
        if not bool(jnp.all(jnp.isfinite(w_ref))):
            raise InvalidSpecError(f"{spec['name']}: non-finite reference weights")
        return eqx.tree_at(lambda e: e.reference_weight, exp, jnp.where(w_ref > 0, w_ref, 1.0))

    # --- prediction -------------------------------------------------------------------------------

    def check_params(self, params: Params) -> None:
        resolve_osc(params.osc)

    def _value(self, values, effect: str, default: float):
        i = dict(self.effect_index)[effect]
        return default if i < 0 else values[i]

    def physics(self, params: Params) -> Float[Array, "2 2 3 FC FE"]:
        """The oscillated fractions H of :meth:`_oscillated_fraction` at ``params`` (osc, matter NSI)."""
        return self._oscillated_fraction(grid_probabilities(resolve_osc(params.osc), self.grid, params.matter_nsi()))

    def _oscillated_fraction(self, prob: Float[Array, "2 nC nE 3 3"]) -> Float[Array, "2 2 3 FC FE"]:
        """H[n, a, beta] = Phi_a P(nu_a -> nu_beta) / Phi_ref(beta) averaged over the propagation cells of each
        fold cell (ref(e) = e, ref(mu) = ref(tau) = mu): the average suppresses the fast oscillations the cell
        centres alias (sub-GeV, up-going)."""
        phi = self.cell_flux
        ref = phi[:, jnp.array([0, 1, 1])]  # (n, beta, nC, nE)
        h = jnp.einsum("nacx,ncxab,nbcx->nabcx", phi, prob[..., :2, :], 1.0 / ref)
        k_c, k_e = self.block
        n_c, n_e = phi.shape[-2:]
        return h.reshape(2, 2, 3, n_c // k_c, k_c, n_e // k_e, k_e).mean(axis=(4, 6))

    def weights(self, values: Float[Array, " nnuis"], h: Float[Array, "2 2 3 FC FE"]) -> Float[Array, "6 nbins"]:
        """W_cb = sum over fold cells of R_cb x g_c at nuisance values ``values`` (module docstring)."""
        knobs = {k: self._value(values, k, d) for k, d in FLUX_EFFECTS.items()}
        phi = self.fold_flux
        r = flux_factors(phi, self.fold_energy, self.fold_coszen, **knobs) / phi  # (n, a, FC, FE)
        osc = jnp.einsum("nacx,nabcx->nbcx", r, h)  # g of nu_beta CC per nu/nu-bar
        f = jnp.stack([self.nu_fraction, 1.0 - self.nu_fraction])
        g = jnp.stack([
            osc[0, 0], osc[1, 0], osc[0, 1], osc[1, 1], jnp.einsum("n,ncx->cx", f, osc[:, 2]),
            jnp.einsum("n,ncx->cx", f, jnp.sum(r * phi, axis=1) / jnp.sum(phi, axis=1)),
        ])  # (6, FC, FE)
        return jnp.einsum("kbe,kce,kbc->kb", self.energy_response, g, self.coszen_response)

    def _channels(self, pulls, physics) -> Float[Array, "6 nbins"]:
        v = self.nuisance_nominal + self.nuisance_sigma * pulls
        counts = self.reference_counts * self.weights(v, physics) / self.reference_weight
        flux_norm = self._value(v, "flux_norm", 1.0)
        one = jnp.ones(())
        norm = flux_norm * jnp.stack([one, one, one, one, self._value(v, "nutau_norm", 1.0), self._value(v, "nc_norm", 1.0)])
        counts = counts * norm[:, None]
        shift = self._value(v, "energy_scale", 0.0) / jnp.log(10.0)  # delta log10 p, first order
        counts = counts + shift * counts @ self.energy_scale_matrix.T
        if self.bin_effect_index:
            theta = (v - self.nuisance_nominal)[jnp.asarray(self.bin_effect_index)]
            counts = counts * (1.0 + theta @ self.bin_effects)
        return jnp.maximum(counts, 0.0)

    def components(self, params: Params, pulls, physics) -> dict[str, Array]:
        """Counts by channel: ``nue``, ``nuebar``, ``numu``, ``numubar``, ``nutau`` (nu + nu-bar CC), ``nc``."""
        c = self._channels(pulls, physics)
        return {k: c[i] for i, k in enumerate(CHANNELS)}

    def expected(self, params: Params, pulls, physics) -> Float[Array, " nbins"]:
        return jnp.sum(self._channels(pulls, physics), axis=0)

    # --- statistics -------------------------------------------------------------------------------

    def terms(self, params: Params, pulls, physics) -> Terms:
        """Poisson log L and Baker-Cousins chi^2 over the bins with weight 1 (an excluded bin enters as its
        saturated value: 0 in chi^2, a constant in log L), plus the pulls' chi^2."""
        mu = jnp.where(self.bin_weight > 0, self.expected(params, pulls, physics), self.observed)
        return Terms(
            stats.poisson_log_likelihood(self.observed, mu),
            stats.baker_cousins_chi2(self.observed, mu),
            stats.pull_penalty(pulls),
        )

    def chi2_derivatives(self, prediction):
        d1, d2 = super().chi2_derivatives(prediction)
        return d1 * self.bin_weight, d2 * self.bin_weight
