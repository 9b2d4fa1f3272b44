"""Reactor anti-nu_e prompt-energy spectrum (response ``reactor_spectrum``; KamLAND 7 years).

Poisson (Baker-Cousins) terms on the prompt-energy spectrum. Physics part (computed once per parameter
point): the anti-nu_e survival probability in constant crust density for each reactor site, weighted per
site, on a fine neutrino-energy grid, folded with a precomputed response matrix (IBD cross section x
reactor spectrum, :mod:`nsijax.physics.sources.reactor`, x Gaussian resolution, normalised so that P = 1
gives the collaboration's no-oscillation expectation). Oscillations: ``params.osc`` (None = NuFIT 6.0
NO) and the matter NSI ``params.matter_nsi()``. Detector part (nuisances ``norm``, ``background``,
``geonu``): signal x (1 + sigma_norm theta_norm), the non-geo backgrounds x (1 + sigma_bkg theta_bkg),
geo-neutrinos x (1 + sigma_geo theta_geo).
"""

from __future__ import annotations

import math
import pathlib
from typing import Any, ClassVar, final

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float
from scipy.special import erf as _np_erf

from ...errors import InvalidSpecError
from ...parameters.oscillation import resolve_osc
from ...parameters.params import Params
from ...physics.oscillation import Layers, oscillation_probability
from ...physics.sources.reactor import IBD_THRESHOLD_MEV, ibd_cross_section, reactor_spectrum
from ..base import AbstractExperiment, register
from ..parsers.spec import edges, nuisance_names, number, string
from ..parsers.tables import read_rows

#: Nuisances of ``reactor_spectrum``, in order.
NUISANCES = ("norm", "background", "geonu")
_FILES = ("data_file", "no_osc_file", "best_fit_osc_file", "best_fit_total_file", "geonu_file", "reactors_file")


def _interp_to(curve: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.maximum(np.interp(x, curve[:, 0], curve[:, 1]), 0.0)


@register
@final
class ReactorSpectrum(AbstractExperiment):
    """Reactor anti-nu_e prompt spectrum (KamLAND): Poisson terms, nuisances ``norm``, ``background``, ``geonu``.

    Fields:
        observed: events per prompt-energy bin (nbins,).
        prompt_edges_mev: prompt-energy bin edges [MeV] (nbins + 1,).
        enu_gev: fine neutrino-energy grid (midpoints) [GeV] (nE,).
        response_matrix: expected events per bin for P = 1, per grid energy (nE, nbins).
        sites: constant-density path to each reactor site (:class:`Layers`, (nsites, 1)).
        site_weight: normalised flux weight of each site, ~ reactors / L^2 (nsites,).
        background_other, background_geonu: non-geo and geo-neutrino backgrounds per bin (nbins,).
        digitised_no_osc, digitised_best_fit_osc, digitised_best_fit_total: the collaboration's curves
            per bin (no oscillation, best-fit reactor signal, best-fit total), for validation.
    """

    response: ClassVar[str] = "reactor_spectrum"
    kind: ClassVar[str] = "oscillation"

    name: str = eqx.field(static=True)
    nuisance_names: tuple[str, ...] = eqx.field(static=True)
    observed: Float[Array, " nbins"]
    nuisance_sigma: Float[Array, " 3"]
    prompt_edges_mev: Float[Array, " nbins+1"]
    enu_gev: Float[Array, " nE"]
    response_matrix: Float[Array, "nE nbins"]
    sites: Layers
    site_weight: Float[Array, " nsites"]
    background_other: Float[Array, " nbins"]
    background_geonu: Float[Array, " nbins"]
    digitised_no_osc: Float[Array, " nbins"]
    digitised_best_fit_osc: Float[Array, " nbins"]
    digitised_best_fit_total: Float[Array, " nbins"]

    @classmethod
    def validate_spec(cls, spec: dict[str, Any], where: str) -> None:
        for key in _FILES:
            string(spec, f"data.{key}", where)
        edges(spec, "binning.prompt_edges_mev", where)
        number(spec, "binning.enu_max_mev", where, positive=True)
        number(spec, "binning.enu_step_mev", where, positive=True)
        number(spec, "detector.resolution", where, positive=True)
        number(spec, "detector.prompt_offset_mev", where)
        number(spec, "propagation.density_gcc", where, positive=True)
        number(spec, "propagation.ye", where, positive=True)
        number(spec, "propagation.yn", where, nonneg=True)
        fr = spec.get("reactor", {}).get("fission_fractions")
        if not isinstance(fr, dict) or set(fr) != {"U235", "U238", "Pu239", "Pu241"}:
            raise InvalidSpecError(f"{where}: reactor.fission_fractions must give U235, U238, Pu239, Pu241")
        for iso in fr:
            number(spec, f"reactor.fission_fractions.{iso}", where, nonneg=True)
            coeffs = spec.get("reactor", {}).get("spectrum_coefficients", {}).get(iso)
            if not isinstance(coeffs, list) or len(coeffs) != 6:
                raise InvalidSpecError(f"{where}: reactor.spectrum_coefficients.{iso} must be a list of 6 numbers")
        nuisance_names(spec.get("nuisances", []), where, expected=NUISANCES, response=cls.response)

    @classmethod
    def from_spec(cls, spec: dict[str, Any], folder: pathlib.Path) -> ReactorSpectrum:
        folder = pathlib.Path(folder)
        d, b, det, prop, rx = spec["data"], spec["binning"], spec["detector"], spec["propagation"], spec["reactor"]
        edges_ = np.asarray(b["prompt_edges_mev"], float)
        centres = 0.5 * (edges_[1:] + edges_[:-1])
        nb = centres.size
        data = read_rows(folder / d["data_file"], 2, header=False)
        if data.shape[0] != nb:
            raise InvalidSpecError(f"{folder / d['data_file']}: {data.shape[0]} rows for {nb} prompt-energy bins")
        if np.any(np.abs(data[:, 0] - centres) > 0.25 * np.diff(edges_)):
            raise InvalidSpecError(
                f"{folder / d['data_file']}: energies {data[:, 0]} do not match the bin centres {centres}"
            )
        if np.any(data[:, 1] < -0.5):
            raise InvalidSpecError(f"{folder / d['data_file']}: negative event counts")
        observed = np.maximum(np.round(data[:, 1]), 0.0)  # digitised: rounded to integer counts
        no_osc = _interp_to(read_rows(folder / d["no_osc_file"], 2, header=False), centres)
        bf_osc = _interp_to(read_rows(folder / d["best_fit_osc_file"], 2, header=False), centres)
        bf_tot = _interp_to(read_rows(folder / d["best_fit_total_file"], 2, header=False), centres)
        geo = _interp_to(read_rows(folder / d["geonu_file"], 2, header=False), centres)
        other = np.maximum(bf_tot - bf_osc - geo, 0.0)
        reactors = read_rows(folder / d["reactors_file"], 2, header=True)
        if np.any(reactors <= 0):
            raise InvalidSpecError(f"{folder / d['reactors_file']}: baselines and reactor counts must be > 0")
        length, count = reactors[:, 0], reactors[:, 1]
        factors = np.ones_like(length)
        for item in rx.get("site_weight_factors", []):
            sel = np.isclose(length, float(item["baseline_km"]))
            if not sel.any():
                raise InvalidSpecError(
                    f"{spec['name']}: reactor.site_weight_factors names baseline {item['baseline_km']} km, "
                    f"not in {d['reactors_file']}"
                )
            factors[sel] = float(item["factor"])
        weight = factors * count / length**2
        weight = weight / weight.sum()

        # fine neutrino-energy grid (midpoints) from the IBD threshold; response matrix (nE, nbins)
        e_thr = IBD_THRESHOLD_MEV + 1e-6
        step = float(b["enu_step_mev"])
        n_e = int(math.ceil((float(b["enu_max_mev"]) - e_thr) / step))
        enu = e_thr + step * (np.arange(n_e) + 0.5)
        rate = reactor_spectrum(enu, rx["fission_fractions"], rx["spectrum_coefficients"]) * ibd_cross_section(enu) * step
        e_vis = enu - float(det["prompt_offset_mev"])
        sig = float(det["resolution"]) * np.sqrt(np.maximum(e_vis, 1e-3))
        cdf = 0.5 * (1.0 + _np_erf((edges_[None, :] - e_vis[:, None]) / (math.sqrt(2.0) * sig[:, None])))
        resp = rate[:, None] * np.diff(cdf, axis=1)
        norm_total = float(det.get("no_osc_total_events", no_osc.sum()))
        resp = resp * norm_total / resp.sum()
        column = (length.size, 1)  # one single-layer path per site
        sites = Layers(
            length.reshape(column),
            np.full(column, float(prop["density_gcc"])),
            float(prop["ye"]),
            np.full(column, float(prop["yn"])),
        )
        return cls(
            name=spec["name"],
            nuisance_names=NUISANCES,
            observed=_f64(observed),
            nuisance_sigma=_f64([n["sigma"] for n in spec["nuisances"]]),
            prompt_edges_mev=_f64(edges_),
            enu_gev=_f64(enu * 1e-3),
            response_matrix=_f64(resp),
            sites=sites,
            site_weight=_f64(weight),
            background_other=_f64(other),
            background_geonu=_f64(geo),
            digitised_no_osc=_f64(no_osc),
            digitised_best_fit_osc=_f64(bf_osc),
            digitised_best_fit_total=_f64(bf_tot),
        )

    def check_params(self, params: Params) -> None:
        resolve_osc(params.osc)

    def survival(self, params: Params) -> Float[Array, " nE"]:
        """Flux-weighted anti-nu_e survival probability on the fine energy grid, shape (nE,)."""
        osc = resolve_osc(params.osc)
        p = oscillation_probability(osc, self.enu_gev, self.sites, nsi=params.matter_nsi(), antineutrino=True)
        return self.site_weight @ p[..., 0, 0]

    def physics(self, params: Params) -> Float[Array, " nbins"]:
        """The oscillated reactor signal per prompt bin at nominal normalisation."""
        return self.survival(params) @ self.response_matrix

    def components(self, params: Params, pulls: Float[Array, " 3"], physics: Float[Array, " nbins"]) -> dict[str, Array]:
        """``{"reactor", "background", "geonu"}`` counts per bin."""
        s = self.nuisance_sigma
        return {
            "reactor": physics * (1.0 + s[0] * pulls[0]),
            "background": self.background_other * (1.0 + s[1] * pulls[1]),
            "geonu": self.background_geonu * (1.0 + s[2] * pulls[2]),
        }

    def expected(self, params: Params, pulls: Float[Array, " 3"], physics: Float[Array, " nbins"]) -> Float[Array, " nbins"]:
        c = self.components(params, pulls, physics)
        return c["reactor"] + c["background"] + c["geonu"]


def _f64(x) -> Array:
    return jnp.asarray(x, dtype=float)
