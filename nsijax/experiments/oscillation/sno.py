"""SNO pure-D2O phase (2002) day and night T_eff spectra (response ``sno_d2o``).

Data: SNO Collaboration, PRL 89 (2002) 011302 (nucl-ex/0204009), Fig. 2: events per 0.5 MeV bin of the
effective electron kinetic energy T_eff in [5, 20] MeV, 128.5 live days (day) and 177.9 (night), from
the collaboration's "HOWTO use the SNO data" release (with the per-bin neutron and low-energy
backgrounds and the cos(zenith) livetime distributions). Poisson (Baker-Cousins) terms on the 2 x 17
bins, flattened day first.

Model of the expected counts in bin i (day or night d)::

    mu_di = f_B [ CC_di + ES_di ](scale, resolution) + CC_di^hep + ES_di^hep
            + f_B (1 + s_nc th_nc) NC_di + NBg_di (1 + s_n th_n) + LE_di (1 + s_le th_le),
    f_B = (1 + s_B th_B) f_8B  (8B flux normalisation: SNO's pull with the B23/SF-III GS98 prior, times the
                                shared f_8B = params.solar_flux["8B"], default 1; hep x params.solar_flux["hep"])

* Flavour content at the detector, per neutrino energy E (8B production region of the B23 GS98 solar
  model, adiabatic, :func:`nsijax.physics.oscillation.sun.mass_state_fractions_closed_form` on 12 Gauss
  nodes of the production distribution, :func:`nsijax.physics.oscillation.sun.gauss_production_nodes`):
  day P_a = sum_i p_i |U_ai|^2, night P_a = sum_i p_i |(S_earth U)_ai|^2 averaged over the night
  cos(zenith) livetime distribution (SnoCosZenithNight.dat) on ``zenith_nodes`` PREM paths
  (:func:`nsijax.physics.oscillation.earth.night_paths`, detector 2.092 km deep; S_earth with nu_3
  decoupled, :func:`nsijax.physics.oscillation.decoupled.earth_amplitudes`). NSI enter the Sun and the
  Earth through ``params.matter_nsi()`` (contact NSI plus a Z' at q^2 = 0); ``params.osc`` None = NuFIT
  6.0 NO. hep neutrinos use the 8B-region probabilities (hep is ~0.5 % of the events).
* CC (nu_e d -> e p p): nu_e only. Total cross section from the tables of Nakamura et al., Nucl. Phys.
  A707 (2002) 561 (nucl-th/0201062); electron-spectrum shape at fixed E from an allowed-approximation
  model with an empirical correction fitted to their dsigma/dp_e
  (:func:`nsijax.physics.scattering.deuteron.cc_dsigma_dT_shape`). With the fiducial deuterons (550 cm),
  the live time and the resolution, this gives 0.988 of SNO's own events per unit undistorted 8B flux
  (1967.7 CC events for phi_CC = 1.76, PRL 89 011301); the model is normalised to SNO's number
  (field ``cc_first_principles_ratio`` keeps the check).
* ES (nu e -> nu e): sum over flavours a of P_a dsigma_a/dT (:mod:`nsijax.physics.scattering.electron_scattering`,
  tree level, with the electron NSI, the Z' (at q^2 = 2 m_e T) and the magnetic moment of ``params``),
  normalised like CC to SNO's ratio (263.6 events for phi_ES = 2.39); first principles give 1.04 of it
  (``es_first_principles_ratio``). The Z' is not added to the matter potential (as for the other
  oscillation experiments).
* NC (nu d -> nu n p): flavour blind; with NSI only in propagation (vector quark NSI do not enter the
  axial-isovector NC breakup at leading order) the NC rate is the total active 8B flux times SNO's
  events-per-flux ratio (576.5 events for phi_NC = 5.09). Its T_eff shape is the shape of the neutron
  background of the release (the same neutron-capture signal), day and night separately.
* Detector: Gaussian T_eff response with SNO's D2O resolution sigma_T = a + b sqrt(T) + c T, energy scale
  T -> T (1 + s_E th_E) and width x (1 + s_R th_R) applied to CC and ES (not to the NC template).

All arrays are float64; the physics part is jit- and grad-able in the oscillation parameters and the
NSI couplings; :meth:`SNOD2O.expected` is differentiable in the pulls.
"""

from __future__ import annotations

import math
import pathlib
from typing import Any, ClassVar, final

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import erf
from jaxtyping import Array, Float

from ... import constants as c
from ...errors import InvalidSpecError
from ...parameters.oscillation import resolve_osc
from ...parameters.params import Params
from ...physics.oscillation import Layers
from ...physics.oscillation.earth import night_paths
from ...physics.oscillation.sun import flavour_probabilities, gauss_production_nodes
from ...physics.scattering.deuteron import cc_dsigma_dT
from ...physics.scattering.electron_scattering import dsigma_dT as es_dsigma_dT
from ..base import AbstractExperiment, register
from ..parsers.spec import integer, nuisance_names, number, numbers, string
from ..parsers.tables import read_rows, read_spectrum

#: Nuisances of ``sno_d2o``, in order.
NUISANCES = (
    "b8_flux",
    "energy_scale",
    "energy_resolution",
    "nc_efficiency",
    "neutron_background",
    "low_energy_background",
)
#: Seconds per day.
DAY_S = 86400.0
#: Gauss nodes over the 8B production region (P_ee within ~1e-5 of all 120 radii).
SOLAR_NODES = 12
#: Header of the Nakamura et al. total cross-section table (columns in this order).
XS_HEADER = "E_nu_MeV,sigma_nc_cm2,sigma_nc_bar_cm2,sigma_cc_cm2,sigma_cc_bar_cm2"

_FILES = (
    "spectra_file",
    "background_file",
    "coszenith_day_file",
    "coszenith_night_file",
    "b8_spectrum_file",
    "hep_spectrum_file",
    "cross_section_file",
)


# ----------------------------------------------------------------------------------------------
# detector response


def resolution(t_mev, coeffs):
    """SNO D2O T_eff resolution sigma_T(T) = a + b sqrt(T) + c T [MeV] (floored at 0.05 MeV)."""
    a, b, cc = coeffs[0], coeffs[1], coeffs[2]
    return jnp.maximum(a + b * jnp.sqrt(t_mev) + cc * t_mev, 0.05)


def fold_matrix(t_mev, edges, coeffs, scale=0.0, width=0.0):
    """(nT, nbins) probability that true kinetic energy T is reconstructed in each T_eff bin:
    Gaussian of mean T (1 + scale), width sigma_T(T) (1 + width)."""
    mean = t_mev * (1.0 + scale)
    sig = resolution(t_mev, coeffs) * (1.0 + width)
    cdf = 0.5 * (1.0 + erf((edges[None, :] - mean[:, None]) / (math.sqrt(2.0) * sig[:, None])))
    return cdf[:, 1:] - cdf[:, :-1]


# ----------------------------------------------------------------------------------------------
# building helpers


def _grid(lo, hi, step):
    n = int(round((hi - lo) / step))
    return lo + step * (np.arange(n) + 0.5), step


def _spectrum(path, enu):
    """The normalised spectrum of ``path`` (:func:`~nsijax.experiments.parsers.tables.read_spectrum`) at ``enu``."""
    e, dn = read_spectrum(path)
    return np.interp(enu, e, dn, left=0.0, right=0.0)


def _f64(x) -> Array:
    return jnp.asarray(x, dtype=float)


@register
@final
class SNOD2O(AbstractExperiment):
    """SNO D2O day/night T_eff spectra: Poisson terms on 34 bins (day, then night), six nuisances.

    Fields (T_eff bins nb = 17, energy grid nE, true-T grid nT, night paths Z):
        observed: events per bin, day bins then night bins (2 nb,).
        teff_edges_mev: T_eff bin edges [MeV] (nb + 1,).
        enu_mev: neutrino-energy grid (midpoints) [MeV] (nE,).
        t_mev, t_step_mev: true electron kinetic-energy grid (midpoints) and its step [MeV].
        source_weights: 8B and hep neutrinos per grid energy, per cm^2 x 1e6 (2, nE).
        cc_kernel: CC events per grid energy and T node per unit flux, calibrated (nE, nT).
        es_scale: ES exposure (electrons x live time) x SNO's calibration, scalar.
        es_first_principles_ratio, cc_first_principles_ratio, nc_detection_efficiency: checks of the
            calibration against first principles (scalars).
        sigma_cc_cm2: Nakamura et al. CC total cross section on the grid [cm^2] (nE,).
        live_fraction, live_days: day and night live time, as fractions and in days (2,).
        resolution_coefficients: (a, b, c) of the T_eff resolution (3,).
        nc: NC events per bin at the nominal 8B flux, day and night (2, nb).
        background_neutron, background_low_energy: the release's backgrounds (2, nb).
        night_cos_zenith, night_weight: representative night paths and their livetime fractions (Z,).
        night: their PREM layers (:class:`Layers`, (Z, 28)).
        sun_ne, sun_yn, sun_weight: Gauss nodes of the 8B production region (SOLAR_NODES,).
    """

    response: ClassVar[str] = "sno_d2o"
    kind: ClassVar[str] = "oscillation"

    name: str = eqx.field(static=True)
    nuisance_names: tuple[str, ...] = eqx.field(static=True)
    observed: Float[Array, " 2*nb"]
    nuisance_sigma: Float[Array, " 6"]
    teff_edges_mev: Float[Array, " nb+1"]
    enu_mev: Float[Array, " nE"]
    t_mev: Float[Array, " nT"]
    t_step_mev: Float[Array, ""]
    source_weights: Float[Array, "2 nE"]
    cc_kernel: Float[Array, "nE nT"]
    es_scale: Float[Array, ""]
    es_first_principles_ratio: Float[Array, ""]
    cc_first_principles_ratio: Float[Array, ""]
    nc_detection_efficiency: Float[Array, ""]
    sigma_cc_cm2: Float[Array, " nE"]
    live_fraction: Float[Array, " 2"]
    live_days: Float[Array, " 2"]
    resolution_coefficients: Float[Array, " 3"]
    nc: Float[Array, "2 nb"]
    background_neutron: Float[Array, "2 nb"]
    background_low_energy: Float[Array, "2 nb"]
    night_cos_zenith: Float[Array, " Z"]
    night_weight: Float[Array, " Z"]
    night: Layers
    sun_ne: Float[Array, " nsun"]
    sun_yn: Float[Array, " nsun"]
    sun_weight: Float[Array, " nsun"]

    # --- building ---------------------------------------------------------------------------------

    @classmethod
    def validate_spec(cls, spec: dict[str, Any], where: str) -> None:
        for key in _FILES:
            string(spec, f"data.{key}", where)
        string(spec, "solar.model", where, {"GS98", "AGSS09"})
        number(spec, "solar.b8_flux", where, positive=True)
        number(spec, "solar.hep_flux", where, nonneg=True)
        numbers(spec, "detector.resolution_coefficients", where, 3)  # [a, b, c] of sigma_T = a + b sqrt(T) + c T
        number(spec, "detector.depth_km", where, nonneg=True)
        number(spec, "detector.fiducial_radius_cm", where, positive=True)
        number(spec, "detector.d2o_density_gcc", where, positive=True)
        integer(spec, "detector.zenith_nodes", where, 1, 240)
        for key in ("cc", "es", "nc"):
            number(spec, f"calibration.{key}_events", where, positive=True)
            number(spec, f"calibration.{key}_flux", where, positive=True)
        for key in ("enu_min_mev", "enu_max_mev", "enu_step_mev", "t_min_mev", "t_max_mev", "t_step_mev"):
            number(spec, f"binning.{key}", where, positive=True)
        b = spec["binning"]
        if not (b["enu_min_mev"] < b["enu_max_mev"] and b["t_min_mev"] < b["t_max_mev"]):
            raise InvalidSpecError(f"{where}: binning ranges must have min < max")
        nuisance_names(spec.get("nuisances"), where, expected=NUISANCES, response=cls.response)

    @classmethod
    def from_spec(cls, spec: dict[str, Any], folder: pathlib.Path) -> SNOD2O:
        folder = pathlib.Path(folder)
        d, det, b, cal, sol = spec["data"], spec["detector"], spec["binning"], spec["calibration"], spec["solar"]
        spec_rows = read_rows(folder / d["spectra_file"], 5)
        bkg = read_rows(folder / d["background_file"], 11)
        nb = spec_rows.shape[0]
        edges = np.concatenate([spec_rows[:, 1], spec_rows[-1:, 2]])
        if np.any(np.abs(spec_rows[1:, 1] - spec_rows[:-1, 2]) > 1e-9) or np.any(np.diff(edges) <= 0):
            raise InvalidSpecError(f"{folder / d['spectra_file']}: bins must be contiguous and increasing")
        if bkg.shape[0] != nb or np.any(np.abs(bkg[:, 1:3] - spec_rows[:, 1:3]) > 1e-9):
            raise InvalidSpecError(
                f"{folder / d['background_file']}: {bkg.shape[0]} rows / bin edges do not match {d['spectra_file']}"
            )
        observed = np.concatenate([spec_rows[:, 3], spec_rows[:, 4]])
        if np.any(observed < 0) or np.any(observed != np.round(observed)):
            raise InvalidSpecError(f"{folder / d['spectra_file']}: counts must be non-negative integers")
        cz_day = read_rows(folder / d["coszenith_day_file"], 1)[:, 0]
        cz_night = read_rows(folder / d["coszenith_night_file"], 1)[:, 0]
        for name, arr in (("coszenith_day_file", cz_day), ("coszenith_night_file", cz_night)):
            if np.any(arr < 0) or arr.sum() <= 0:
                raise InvalidSpecError(f"{folder / d[name]}: livetimes must be >= 0 with a positive sum")
        live = np.array([cz_day.sum(), cz_night.sum()]) / DAY_S  # days
        live_frac = live / live.sum()

        enu, de = _grid(b["enu_min_mev"], b["enu_max_mev"], b["enu_step_mev"])
        tgrid, dt = _grid(b["t_min_mev"], b["t_max_mev"], b["t_step_mev"])
        lam = np.stack([_spectrum(folder / d["b8_spectrum_file"], enu), _spectrum(folder / d["hep_spectrum_file"], enu)])
        src = lam * de * np.array([sol["b8_flux"], sol["hep_flux"]])[:, None] / 1e6  # (2, nE), flux in 1e6/cm^2/s
        coeffs = np.asarray(det["resolution_coefficients"], float)
        fold0 = np.asarray(fold_matrix(jnp.asarray(tgrid), jnp.asarray(edges), jnp.asarray(coeffs)))

        # CC: Nakamura et al. total cross section x our shape; deuterons in the fiducial volume x live time
        m_fid = 4.0 / 3.0 * math.pi * det["fiducial_radius_cm"] ** 3 * det["d2o_density_gcc"]
        n_d2o = m_fid / (2.0 * 2.01410178 + 15.999) * c.N_AVOGADRO
        exposure_s = live.sum() * DAY_S * 1e6  # s x (1e6 / cm^2 / s)
        xs = read_rows(folder / d["cross_section_file"], 5, header=XS_HEADER)
        if np.any(np.diff(xs[:, 0]) <= 0) or np.any(xs[:, 1:] < 0) or xs[-1, 0] < enu[-1]:
            raise InvalidSpecError(
                f"{folder / d['cross_section_file']}: energies must increase up to >= {enu[-1]} MeV, cross sections >= 0"
            )
        sigma_cc = np.interp(enu, xs[:, 0], xs[:, 3], left=0.0)
        sigma_nc = np.interp(enu, xs[:, 0], xs[:, 1], left=0.0)
        cc_xs = cc_dsigma_dT(enu, tgrid, sigma_cc) * dt  # (nE, nT) cm^2 per T node
        lam8 = lam[0] * de
        raw_cc = 2.0 * n_d2o * exposure_s * float(lam8 @ cc_xs @ fold0.sum(1))
        y_cc = cal["cc_events"] / cal["cc_flux"]
        cc_kernel = 2.0 * n_d2o * exposure_s * cc_xs * (y_cc / raw_cc)
        raw_nc = 2.0 * n_d2o * exposure_s * float(lam8 @ sigma_nc)  # NC breakups per unit flux (no detection)

        # ES: electrons in the fiducial volume x live time, x SNO's calibration
        exposure = 10.0 * n_d2o * exposure_s
        sig_e = np.asarray(es_dsigma_dT(jnp.asarray(enu[:, None]), jnp.asarray(tgrid[None, :]), flavor=0)) * dt
        raw_es = exposure * float(lam8 @ sig_e @ fold0.sum(1))
        y_es = cal["es_events"] / cal["es_flux"]
        es_scale = exposure * y_es / raw_es

        # NC: SNO events per unit flux, T_eff shape of the neutron background, split by live time
        y_nc = cal["nc_events"] / cal["nc_flux"]
        nbg = bkg[:, [3, 7]].T  # (2, nb) day, night
        if np.any(nbg.sum(1) <= 0):
            raise InvalidSpecError(f"{folder / d['background_file']}: the neutron background (NC shape) is empty")
        nc_shape = nbg / nbg.sum(1, keepdims=True)
        nc = y_nc * sol["b8_flux"] / 1e6 * live_frac[:, None] * nc_shape

        paths = night_paths(cz_night, int(det["zenith_nodes"]), float(det["depth_km"]))
        sun = gauss_production_nodes(str(sol["model"]), "8B", SOLAR_NODES)
        return cls(
            name=spec["name"],
            nuisance_names=NUISANCES,
            observed=_f64(observed),
            nuisance_sigma=_f64([n["sigma"] for n in spec["nuisances"]]),
            teff_edges_mev=_f64(edges),
            enu_mev=_f64(enu),
            t_mev=_f64(tgrid),
            t_step_mev=_f64(dt),
            source_weights=_f64(src),
            cc_kernel=_f64(cc_kernel),
            es_scale=_f64(es_scale),
            es_first_principles_ratio=_f64(raw_es / y_es),
            cc_first_principles_ratio=_f64(raw_cc / y_cc),
            nc_detection_efficiency=_f64(cal["nc_events"] / cal["nc_flux"] / raw_nc),
            sigma_cc_cm2=_f64(sigma_cc),
            live_fraction=_f64(live_frac),
            live_days=_f64(live),
            resolution_coefficients=_f64(coeffs),
            nc=_f64(nc),
            background_neutron=_f64(nbg),
            background_low_energy=_f64(bkg[:, [5, 9]].T),
            night_cos_zenith=_f64(paths.cos_zenith),
            night_weight=_f64(paths.weight),
            night=paths.layers,
            sun_ne=_f64(sun.ne),
            sun_yn=_f64(sun.yn),
            sun_weight=_f64(sun.weight),
        )

    # --- prediction -------------------------------------------------------------------------------

    def check_params(self, params: Params) -> None:
        resolve_osc(params.osc)

    @property
    def enu_gev(self) -> Float[Array, " nE"]:
        """The neutrino-energy grid in GeV."""
        return self.enu_mev * 1e-3

    def flavour_probabilities(self, params: Params) -> tuple[Float[Array, "nE 3"], Float[Array, "nE 3"]]:
        """P(nu_e -> nu_a) at the detector on the energy grid: (day, night), each (nE, 3)."""
        return flavour_probabilities(
            resolve_osc(params.osc), self.enu_gev, self.sun_weight, self.sun_ne, self.sun_yn,
            nsi=params.matter_nsi(), night=self.night, night_weight=self.night_weight,
        )  # fmt: skip

    def spectra(self, params: Params, prob_day, prob_night) -> Float[Array, "2 2 2 nT"]:
        """True-T spectra (counts per T node) for given flavour probabilities (nE, 3), shape
        (2 sources [8B, hep], 2 channels [CC, ES], 2 [day, night], nT)."""
        enu = self.enu_mev[:, None]
        tm = self.t_mev[None, :]
        sig = jnp.stack(
            [es_dsigma_dT(enu, tm, flavor=a, nsi=params.nsi, zprime=params.zprime, mu_nu=params.mu_nu) for a in range(3)]
        )
        sig = sig * self.t_step_mev
        probs = jnp.stack([prob_day, prob_night])  # (2, nE, 3)
        cc = jnp.einsum("se,de,et->sdt", self.source_weights, probs[..., 0], self.cc_kernel)
        es = self.es_scale * jnp.einsum("se,dea,aet->sdt", self.source_weights, probs, sig)
        cc = cc * self.live_fraction[None, :, None]
        es = es * self.live_fraction[None, :, None]
        return jnp.stack([cc, es], axis=1)

    def physics(self, params: Params) -> Float[Array, "2 2 2 nT"]:
        """Nuisance-independent part, once per parameter point: the true-T CC and ES spectra
        (sources x channels x day/night x T nodes) at the nominal fluxes."""
        return self.spectra(params, *self.flavour_probabilities(params))

    def parts(self, params: Params, pulls: Float[Array, " 6"], physics: Float[Array, "2 2 2 nT"]) -> dict[str, Array]:
        """Counts per bin by component, each (2 [day, night], nb), at pulls ``pulls``. The 8B and hep fluxes are
        the model's times ``params.solar_flux`` (shared with the other solar experiments; default 1), the 8B one
        also times (1 + s_B theta_B)."""
        s = self.nuisance_sigma
        f_b = (1.0 + s[0] * pulls[0]) * params.solar_flux.get("8B", 1.0)
        f_hep = params.solar_flux.get("hep", 1.0)
        fold = fold_matrix(
            self.t_mev, self.teff_edges_mev, self.resolution_coefficients, s[1] * pulls[1], s[2] * pulls[2]
        )
        spec = f_b * physics[0] + f_hep * physics[1]  # (channel, day/night, nT)
        cc_es = jnp.einsum("cdt,tb->cdb", spec, fold)
        return {
            "cc": cc_es[0],
            "es": cc_es[1],
            "nc": f_b * (1.0 + s[3] * pulls[3]) * self.nc,
            "neutron_background": self.background_neutron * (1.0 + s[4] * pulls[4]),
            "low_energy_background": self.background_low_energy * (1.0 + s[5] * pulls[5]),
        }

    def expected(self, params: Params, pulls: Float[Array, " 6"], physics: Float[Array, "2 2 2 nT"]) -> Float[Array, " 2*nb"]:
        """Poisson means per bin (day bins, then night bins)."""
        return sum(self.parts(params, pulls, physics).values()).ravel()

    def components(self, params: Params, pulls: Float[Array, " 6"], physics: Float[Array, "2 2 2 nT"]) -> dict[str, Array]:
        """Counts per bin (flattened day, night) of ``cc``, ``es``, ``nc``, ``neutron_background``,
        ``low_energy_background``."""
        return {k: v.ravel() for k, v in self.parts(params, pulls, physics).items()}
