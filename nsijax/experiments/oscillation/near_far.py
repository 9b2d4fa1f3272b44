"""Reactor anti-nu_e near/far prompt spectra (response ``reactor_near_far``; Daya Bay 3158 days).

Data: the IBD prompt spectra of the three experimental halls with their background spectra and the
collaboration's best-fit prediction (supplemental material of Daya Bay, PRL 130 (2023) 161802,
arXiv:2211.14988), three data-taking periods (6, 8 and 7 ADs) summed per hall: 3 x 26 bins of prompt
energy (true prompt energy after the non-linearity correction), backgrounds subtracted.

Model of the signal in hall h, bin i::

    mu_hi(theta) = sum_p U_hpi <P>_hpi(theta),    U_hpi = N^pred_hpi / <P>_hpi(theta_ref)

* ``<P>_hpi``: the anti-nu_e survival probability averaged over the bin and over the (AD, core) pairs of
  hall h active in period p, weighted by target mass x efficiency / L^2 (equal core powers); in the bin,
  Gauss-Legendre nodes in E_nu = E_prompt + ``prompt_offset_mev`` weighted by the IBD cross section x the
  Huber-Mueller spectrum (:mod:`nsijax.physics.sources.reactor`). Propagation through constant-density
  crust with ``params.matter_nsi()`` (NSI and a Z' at q^2 = 0; both are negligible at these baselines,
  which is the point: Daya Bay pins theta13 and Delta m^2_31 independently of NC NSI).
* ``U``: the unoscillated prediction, Daya Bay's own best-fit prediction N^pred divided by ``<P>`` at
  their best-fit point ``theta_ref`` (the spectrum shape, efficiencies and live times come from the
  collaboration, not from a flux model here; cf. Newtrinos.jl, which uses the far hall alone).

Likelihood: Gaussian chi^2 = r^T V^-1 r over the 78 bins, r = observed - mu, with every systematic
marginalised analytically (exact for effects linear in the prediction)::

    V = diag(N_obs) + sum_{h,t} s_t^2 b_ht b_ht^T + diag(mu) K diag(mu),
    K[(h,i),(h',j)] = S_ij + s_core^2 sum_r g_hr g_h'r + delta_hh' s_det,h^2

- ``diag(N_obs)``: statistics of the observed events, backgrounds included;
- ``b_ht``: the background of type t in hall h (accidentals, 13C(alpha,n), AmC, 9Li/8He, fast neutrons),
  each with a fractional normalisation uncertainty s_t, uncorrelated between halls;
- ``S = diag(d) C diag(d)``: the reactor-spectrum uncertainty (fractional d and correlation C per bin,
  arXiv:1607.05378 Fig. 29), **fully correlated between the halls** - it cancels in the near/far
  comparison, which is what makes the measurement relative;
- ``s_core``: reactor-uncorrelated rate uncertainty per core, g_hr the share of core r in hall h;
- ``s_det,h``: the uncorrelated detection-efficiency uncertainty per AD divided by sqrt(ADs in hall h).

There are no explicit nuisance pulls: every one of these directions is profiled exactly by the
covariance. Not modelled: relative energy scale between halls, IAV/non-linearity (the spectra are
already unfolded to true prompt energy), neutron recoil in E_nu (a fixed offset).
"""

from __future__ import annotations

import pathlib
from typing import Any, ClassVar, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ...errors import InvalidSpecError
from ...parameters.oscillation import OscParams, resolve_osc
from ...parameters.params import Params
from ...physics import quadrature
from ...physics.oscillation import Layers, oscillation_probability
from ...physics.sources.reactor import IBD_THRESHOLD_MEV, emitted_spectrum, ibd_cross_section
from ..base import AbstractExperiment, Terms, register
from ..parsers.spec import integer, number, string
from ..parsers.tables import read_rows

#: Data-taking periods, in the column order of the released files (6-AD, 8-AD, 7-AD).
PERIODS = ("6AD", "8AD", "7AD")
#: Background types, in the column order of the background files (after Nbkg).
BACKGROUNDS = ("accidentals", "alpha_n", "amc", "li9_he8", "fast_neutrons")
_REF_KEYS = ("sin2_theta12", "sin2_2theta13", "sin2_theta23", "delta_cp_deg", "dm21", "dm32")


def reference_osc(ref: dict[str, float]) -> OscParams:
    """The oscillation point of a release's prediction, from the spec's ``[reference]`` table
    (sin^2 theta12, sin^2 2theta13, sin^2 theta23, delta_CP [deg], Delta m^2_21, Delta m^2_32 [eV^2])."""
    return OscParams(
        jnp.arcsin(jnp.sqrt(ref["sin2_theta12"])),
        0.5 * jnp.arcsin(jnp.sqrt(ref["sin2_2theta13"])),
        jnp.arcsin(jnp.sqrt(ref["sin2_theta23"])),
        jnp.deg2rad(ref["delta_cp_deg"]),
        ref["dm21"],
        ref["dm32"] + ref["dm21"],
    )


def _read_block_file(path: pathlib.Path, nbins: int, nblocks: int, ncols: int) -> np.ndarray:
    rows = read_rows(path, ncols)
    if rows.shape[0] != nbins * nblocks:
        raise InvalidSpecError(f"{path}: {rows.shape[0]} data rows; expected {nblocks} blocks of {nbins} bins")
    return rows.reshape(nblocks, nbins, ncols)


def _check_edges(path: pathlib.Path, rows: np.ndarray, edges: np.ndarray) -> None:
    if not (np.allclose(rows[:, 0], edges[:-1], atol=1e-6) and np.allclose(rows[:, 1], edges[1:], atol=1e-6)):
        raise InvalidSpecError(f"{path}: bin edges {rows[:, 0]} - {rows[:, 1]} differ from the first hall's {edges}")


@register
@final
class ReactorNearFar(AbstractExperiment):
    """Reactor near/far prompt spectra with analytically marginalised systematics (Daya Bay).

    Fields:
        observed: background-subtracted events per hall and prompt bin (nhall, nbins).
        prompt_edges_mev: prompt-energy bin edges [MeV] (nbins + 1,).
        enu_gev: in-bin neutrino-energy nodes [GeV] (nbins x order,).
        node_weight: normalised weights of the nodes within their bin (nbins, order).
        paths: one constant-density path per (AD, core) pair (:class:`Layers`, (npairs, 1)).
        pair_weight: normalised weight of each pair in each hall and period (nhall, nperiod, npairs).
        unoscillated: U, the prediction without oscillation per hall, period and bin (nhall, nperiod, nbins).
        stat_variance: observed events including backgrounds (nhall, nbins).
        background_cov: the background covariance (nhall x nbins, nhall x nbins).
        fractional_cov: K, the covariance of the fractional signal uncertainties (nhall x nbins)^2.
        prediction_ref: the collaboration's best-fit prediction summed over periods (nhall, nbins).
        delta_chi2_map: the released Delta chi^2 map, rows (sin^2 2theta13, Delta m^2_32 [eV^2], Delta chi^2).
    """

    response: ClassVar[str] = "reactor_near_far"
    kind: ClassVar[str] = "oscillation"

    name: str = eqx.field(static=True)
    nuisance_names: tuple[str, ...] = eqx.field(static=True)
    halls: tuple[str, ...] = eqx.field(static=True)
    observed: Float[Array, "nhall nbins"]
    nuisance_sigma: Float[Array, " 0"]
    prompt_edges_mev: Float[Array, " nbins+1"]
    enu_gev: Float[Array, " nnodes"]
    node_weight: Float[Array, "nbins order"]
    paths: Layers
    pair_weight: Float[Array, "nhall nperiod npairs"]
    unoscillated: Float[Array, "nhall nperiod nbins"]
    stat_variance: Float[Array, "nhall nbins"]
    background_cov: Float[Array, "n n"]
    fractional_cov: Float[Array, "n n"]
    scale_derivative: Float[Array, "nbins nbins"]
    scale_variance: Float[Array, "nhall nhall"]
    prediction_ref: Float[Array, "nhall nbins"]
    delta_chi2_map: Float[Array, "nmap 3"]

    @classmethod
    def validate_spec(cls, spec: dict[str, Any], where: str) -> None:
        d = spec.get("data", {})
        for key in ("ibd_files", "background_files"):
            if not isinstance(d.get(key), list) or not d[key] or not all(isinstance(f, str) for f in d[key]):
                raise InvalidSpecError(f"{where}: data.{key} must be a list of file names, one per hall")
        if len(d["ibd_files"]) != len(d["background_files"]):
            raise InvalidSpecError(f"{where}: data.ibd_files and data.background_files must name the same halls")
        string(spec, "data.correlation_file", where)
        string(spec, "data.delta_chi2_map_file", where)
        number(spec, "energy.prompt_offset_mev", where, positive=True)
        integer(spec, "energy.nodes_per_bin", where, lo=1, hi=32)
        number(spec, "propagation.density_gcc", where, positive=True)
        number(spec, "propagation.ye", where, positive=True)
        for key in _REF_KEYS:
            number(spec, f"reference.{key}", where, positive=key != "delta_cp_deg")
        fr = spec.get("reactor", {}).get("fission_fractions")
        if not isinstance(fr, dict):
            raise InvalidSpecError(f"{where}: reactor.fission_fractions must be a table isotope = fraction")
        cores = spec.get("reactor", {}).get("cores")
        if not isinstance(cores, list) or not cores or not all(isinstance(c, str) for c in cores):
            raise InvalidSpecError(f"{where}: reactor.cores must be a list of core names")
        number(spec, "uncertainties.core_uncorrelated", where, nonneg=True)
        number(spec, "uncertainties.detector_uncorrelated", where, nonneg=True)
        number(spec, "uncertainties.energy_scale_relative", where, nonneg=True)
        number(spec, "uncertainties.energy_scale_absolute", where, nonneg=True)
        for t in BACKGROUNDS:
            number(spec, f"uncertainties.background.{t}", where, nonneg=True)
        dets = spec.get("detectors")
        if not isinstance(dets, list) or not dets:
            raise InvalidSpecError(f"{where}: [[detectors]] must list the antineutrino detectors")
        nhall = len(d["ibd_files"])
        for k, det in enumerate(dets):
            w = f"{where}: detectors[{k}]"
            if not isinstance(det, dict):
                raise InvalidSpecError(f"{w} must be a table")
            hall = det.get("hall")
            if not isinstance(hall, int) or not 1 <= hall <= nhall:
                raise InvalidSpecError(f"{w}.hall must be an integer 1..{nhall}; got {hall!r}")
            for key in ("target_kg", "efficiency"):
                v = det.get(key)
                if not isinstance(v, (int, float)) or not np.isfinite(v) or v <= 0:
                    raise InvalidSpecError(f"{w}.{key} must be a number > 0; got {v!r}")
            periods = det.get("periods")
            if not isinstance(periods, list) or not set(periods) <= set(PERIODS):
                raise InvalidSpecError(f"{w}.periods must be a list drawn from {list(PERIODS)}; got {periods!r}")
            base = det.get("baselines_m")
            if not isinstance(base, list) or len(base) != len(cores) or not all(
                isinstance(x, (int, float)) and x > 0 for x in base
            ):
                raise InvalidSpecError(f"{w}.baselines_m must give {len(cores)} positive baselines (one per core)")

    @classmethod
    def from_spec(cls, spec: dict[str, Any], folder: pathlib.Path) -> ReactorNearFar:
        folder = pathlib.Path(folder)
        d, en, prop, unc = spec["data"], spec["energy"], spec["propagation"], spec["uncertainties"]
        nhall, nper = len(d["ibd_files"]), len(PERIODS)

        # --- released spectra: observed (with backgrounds), best-fit prediction, backgrounds by type
        ibd = [read_rows(folder / f, 9) for f in d["ibd_files"]]
        nb = ibd[0].shape[0]
        edges = np.append(ibd[0][:, 0], ibd[0][-1, 1])
        if np.any(np.diff(edges) <= 0) or not np.allclose(ibd[0][1:, 0], ibd[0][:-1, 1]):
            raise InvalidSpecError(f"{folder / d['ibd_files'][0]}: bins must be contiguous and increasing")
        for f, rows in zip(d["ibd_files"], ibd):
            if rows.shape[0] != nb:
                raise InvalidSpecError(f"{folder / f}: {rows.shape[0]} bins; the first hall has {nb}")
            _check_edges(folder / f, rows, edges)
            if np.any(rows[:, 3:] < 0):
                raise InvalidSpecError(f"{folder / f}: negative event numbers")
        bkg = [_read_block_file(folder / f, nb, nper, 9) for f in d["background_files"]]
        for f, blocks in zip(d["background_files"], bkg):
            for blk in blocks:
                _check_edges(folder / f, blk, edges)
            if np.any(blocks[..., 3:] < 0) or not np.allclose(blocks[..., 3], blocks[..., 4:].sum(-1), rtol=2e-3, atol=0.05):
                raise InvalidSpecError(f"{folder / f}: backgrounds must be >= 0 and Nbkg the sum of the five types")
        n_obs = np.stack([r[:, 3:6] for r in ibd])  # (hall, bin, period)
        n_pred = np.stack([r[:, 6:9] for r in ibd]).transpose(0, 2, 1)  # (hall, period, bin)
        b_total = np.stack([b[..., 3].sum(0) for b in bkg])  # (hall, bin)
        b_types = np.stack([b[..., 4:].sum(0) for b in bkg])  # (hall, bin, type)
        observed = n_obs.sum(-1) - b_total

        corr_tab = read_rows(folder / d["correlation_file"], 4 + nb, header=True)
        if corr_tab.shape[0] != nb:
            raise InvalidSpecError(f"{folder / d['correlation_file']}: {corr_tab.shape[0]} rows for {nb} bins")
        corr = corr_tab[:, 4:]
        if not np.allclose(corr, corr.T, rtol=0.0, atol=1e-4) or not np.allclose(np.diag(corr), 1.0):
            raise InvalidSpecError(f"{folder / d['correlation_file']}: not a correlation matrix (symmetric, unit diagonal)")
        corr = 0.5 * (corr + corr.T)  # the file's entries are rounded to 6 digits (asymmetry <= 5e-6)
        frac = corr_tab[:, 3]
        spectrum_cov = frac[:, None] * corr * frac[None, :]

        chi2_map = read_rows(folder / d["delta_chi2_map_file"], 3)

        # --- geometry: one path per (AD, core) pair; weights per hall and period
        dets, cores = spec["detectors"], spec["reactor"]["cores"]
        pairs_l, pair_weight = [], np.zeros((nhall, nper, len(dets) * len(cores)))
        core_share = np.zeros((nhall, len(cores)))
        ads_per_hall = np.zeros(nhall)
        for a, det in enumerate(dets):
            h = det["hall"] - 1
            ads_per_hall[h] += 1
            base_km = np.asarray(det["baselines_m"], float) * 1e-3
            w = det["target_kg"] * det["efficiency"] / base_km**2
            for r in range(len(cores)):
                k = a * len(cores) + r
                pairs_l.append(base_km[r])
                for p, per in enumerate(PERIODS):
                    if per in det["periods"]:
                        pair_weight[h, p, k] = w[r]
        live = pair_weight.sum(-1)
        if np.any(live <= 0):
            raise InvalidSpecError(f"{spec['name']}: every hall needs an active detector in every period")
        pair_weight = pair_weight / live[..., None]
        events = n_pred.sum(-1)  # (hall, period)
        for r in range(len(cores)):
            core_share[:, r] = (events * pair_weight[..., r :: len(cores)].sum(-1)).sum(1) / events.sum(1)
        lengths = np.asarray(pairs_l).reshape(-1, 1)
        paths = Layers(lengths, np.full(lengths.shape, float(prop["density_gcc"])), float(prop["ye"]), np.ones(lengths.shape))

        # --- in-bin neutrino-energy nodes weighted by IBD cross section x emitted spectrum
        order = int(en["nodes_per_bin"])
        enu_edges = edges + float(en["prompt_offset_mev"])
        enu_edges = np.maximum(enu_edges, IBD_THRESHOLD_MEV + 1e-3)
        if np.any(np.diff(enu_edges) <= 0):
            raise InvalidSpecError(f"{spec['name']}: more than one bin lies below the IBD threshold")
        enu, wq = quadrature.composite(enu_edges, order)
        rate = wq * ibd_cross_section(enu) * emitted_spectrum(enu, spec["reactor"]["fission_fractions"])
        node_weight = rate.reshape(nb, order)
        node_weight = node_weight / node_weight.sum(-1, keepdims=True)

        exp = cls(
            name=spec["name"],
            nuisance_names=(),
            halls=tuple(f"EH{h + 1}" for h in range(nhall)),
            observed=_f64(observed),
            nuisance_sigma=jnp.zeros((0,)),
            prompt_edges_mev=_f64(edges),
            enu_gev=_f64(enu * 1e-3),
            node_weight=_f64(node_weight),
            paths=paths,
            pair_weight=_f64(pair_weight),
            unoscillated=jnp.ones((nhall, nper, nb)),
            stat_variance=_f64(n_obs.sum(-1)),
            background_cov=_f64(_background_cov(b_types, unc["background"])),
            fractional_cov=_f64(
                np.kron(np.ones((nhall, nhall)), spectrum_cov)
                + float(unc["core_uncorrelated"]) ** 2 * np.kron(core_share @ core_share.T, np.ones((nb, nb)))
                + np.kron(np.diag(float(unc["detector_uncorrelated"]) ** 2 / ads_per_hall), np.ones((nb, nb)))
            ),
            scale_derivative=_f64(_scale_derivative(edges)),
            scale_variance=_f64(
                float(unc["energy_scale_absolute"]) ** 2
                + np.diag(float(unc["energy_scale_relative"]) ** 2 / ads_per_hall)
            ),
            prediction_ref=_f64(n_pred.sum(1)),
            delta_chi2_map=_f64(chi2_map),
        )
        ref = Params(osc=reference_osc(spec["reference"]))
        p_ref = np.asarray(exp.averaged_survival(ref))
        return eqx.tree_at(lambda e: e.unoscillated, exp, _f64(n_pred / p_ref))

    def check_params(self, params: Params) -> None:
        resolve_osc(params.osc)

    def averaged_survival(self, params: Params) -> Float[Array, "nhall nperiod nbins"]:
        """<P(anti-nu_e -> anti-nu_e)> per hall, period and prompt bin (pairs and in-bin nodes averaged)."""
        osc = resolve_osc(params.osc)
        p = oscillation_probability(osc, self.enu_gev, self.paths, nsi=params.matter_nsi(), antineutrino=True)
        p_bin = (p[..., 0, 0].reshape(p.shape[0], *self.node_weight.shape) * self.node_weight).sum(-1)  # (npairs, nbins)
        return jnp.einsum("hpk,kb->hpb", self.pair_weight, p_bin)

    def physics(self, params: Params) -> Float[Array, "nhall nbins"]:
        """The oscillated signal per hall and bin, periods summed."""
        return (self.unoscillated * self.averaged_survival(params)).sum(1)

    def expected(self, params: Params, pulls: Float[Array, " 0"], physics: Float[Array, "nhall nbins"]) -> Float[Array, "nhall nbins"]:
        return physics

    def components(self, params: Params, pulls: Float[Array, " 0"], physics: Float[Array, "nhall nbins"]) -> dict[str, Array]:
        """``{"ibd": ...}``: the background-subtracted reactor signal per hall and bin."""
        return {"ibd": physics}

    def covariance(self, prediction: Float[Array, "nhall nbins"]) -> Float[Array, "n n"]:
        """V at ``prediction`` (statistics, backgrounds and the fractional systematics, see the module docstring)."""
        mu = prediction.reshape(-1)
        d = (prediction @ self.scale_derivative.T).reshape(-1)  # d mu / d(energy scale) per hall and bin
        k = jnp.kron(self.scale_variance, jnp.ones(2 * (prediction.shape[1],)))
        return (
            jnp.diag(self.stat_variance.reshape(-1))
            + self.background_cov
            + mu[:, None] * self.fractional_cov * mu[None, :]
            + d[:, None] * k * d[None, :]
        )

    def terms(self, params: Params, pulls: Float[Array, " 0"], physics: Float[Array, "nhall nbins"]) -> Terms:
        """Gaussian chi^2 = r^T V^-1 r with r = observed - prediction; log L = -chi^2 / 2; no pulls."""
        mu = self.expected(params, pulls, physics)
        r = (self.observed - mu).reshape(-1)
        chol = jnp.linalg.cholesky(self.covariance(mu))
        z = jax.scipy.linalg.solve_triangular(chol, r, lower=True)
        chi2 = z @ z
        return Terms(-0.5 * chi2, chi2, jnp.zeros(()))

    def chi2_derivatives(self, prediction: Float[Array, "nhall nbins"]) -> tuple[Array, Array]:
        """-2 (V^-1 r) and the diagonal of 2 V^-1, V held at ``prediction`` (Gauss-Newton weights)."""
        vinv = jnp.linalg.inv(self.covariance(prediction))
        r = (self.observed - prediction).reshape(-1)
        return (-2.0 * vinv @ r).reshape(prediction.shape), (2.0 * jnp.diag(vinv)).reshape(prediction.shape)

    def resample(self, key: jax.Array, expectation: Float[Array, "nhall nbins"]) -> Float[Array, "nhall nbins"]:
        """Spectra ~ N(expectation, V(expectation)), the statistics :meth:`terms` assumes."""
        mu = jnp.asarray(expectation, dtype=float)
        return jax.random.multivariate_normal(key, mu.reshape(-1), self.covariance(mu)).reshape(mu.shape)


def _scale_derivative(edges: np.ndarray) -> np.ndarray:
    """M with d N / d s = M N for binned counts N when the energy scale E -> E (1 + s): the bin [a, b] collects
    the events of [a / (1 + s), b / (1 + s)], so dN_i / ds = -(b n(b) - a n(a)), with the density n at the edges
    interpolated linearly between the bin centres from N / width (the outermost edges take the end bins')."""
    centres, width = 0.5 * (edges[1:] + edges[:-1]), np.diff(edges)
    nb = centres.size
    interp = np.zeros((nb + 1, nb))  # density at each edge from the densities at the centres
    for k, e in enumerate(edges):
        j = int(np.clip(np.searchsorted(centres, e) - 1, 0, nb - 2))
        t = float(np.clip((e - centres[j]) / (centres[j + 1] - centres[j]), 0.0, 1.0))
        interp[k, j], interp[k, j + 1] = 1.0 - t, t
    flux = edges[:, None] * interp / width[None, :]  # E n(E) at the edges
    return -(flux[1:] - flux[:-1])


def _background_cov(b_types: np.ndarray, sigmas: dict[str, float]) -> np.ndarray:
    """Sum over halls and types of s_t^2 b_ht b_ht^T (types uncorrelated; halls uncorrelated)."""
    nhall, nb, _ = b_types.shape
    cov = np.zeros((nhall * nb, nhall * nb))
    for h in range(nhall):
        sl = slice(h * nb, (h + 1) * nb)
        for t, name in enumerate(BACKGROUNDS):
            b = b_types[h, :, t]
            cov[sl, sl] += float(sigmas[name]) ** 2 * np.outer(b, b)
    return cov


def _f64(x) -> Array:
    return jnp.asarray(x, dtype=float)
