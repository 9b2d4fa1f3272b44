"""Solar-neutrino rate measurements: radiochemical capture rates (response ``radiochemical_rates``; GALLEX/GNO + SAGE,
Homestake) and nu-e elastic-scattering interaction rates (response ``solar_es_rates``; Borexino Phases I and II).

Both predict, for each solar component c (pp, pep, hep, 7Be, 8B, 13N, 15O, 17F) that a measurement sees,

    R_c = f_c Phi_c sum_k w_ck sum_a P_a(E_ck) sigma_a(E_ck)

* ``Phi_c``: the B23 / SF-III flux of the spec's solar model (:func:`nsijax.physics.sources.solar.model_fluxes`) and
  ``f_c = params.solar_flux[c]`` (default 1): one normalisation per component shared by every solar experiment of a
  fit; its prior is the ``solar_model_b23`` data set (:class:`SolarModelFluxes`), not a pull of each experiment.
* ``E_ck, w_ck``: composite Gauss-Legendre nodes over the component's spectrum above the detection threshold
  (:func:`nsijax.physics.sources.solar.spectrum`; 7Be and pep lines at their energies with their branching ratios).
* ``P_a``: P(nu_e -> nu_a) at the detector averaged over a year at the site's latitude: day (Sun above the horizon)
  and night through PREM (:func:`nsijax.physics.sources.solar.annual_exposure`,
  :func:`nsijax.physics.oscillation.earth.night_paths`), adiabatic in the Sun over the component's production
  region (:func:`nsijax.physics.oscillation.sun.flavour_probabilities`), with ``params.matter_nsi()`` and
  ``params.osc``.
* ``sigma_a``: radiochemical: the nu_e capture cross section of 71Ga (Bahcall, PRC 56 (1997) 3391, best and +-3
  sigma tables) or 37Cl (Bahcall et al., PRC 54 (1996) 411); only a = e. Elastic scattering: the nu_a - e cross
  section above the recoil threshold T_min, :func:`nsijax.physics.scattering.electron_scattering.dsigma_dT` with
  the electron NSI, the Z' (at its q^2) and sin^2 theta_W of ``params``, and the spec's ``detector.es_couplings``
  (``"pdg"``: radiatively corrected, ~3 % below tree level for nu_e). The rates quoted by the collaborations
  assume the SM recoil spectrum, so the electromagnetic properties (which change its shape, with a 1/T rise at
  zero threshold) are not applied here; use a spectral likelihood for them.

Gaussian terms: chi^2 = r^T V^-1 r over the measurements (independent errors, or an inverse covariance), plus the
pull chi^2. Nuisance of ``radiochemical_rates``: ``cross_section`` (a pull s: 71Ga moves each sigma(E) towards
the +3 sigma table for s > 0 and the -3 sigma table for s < 0, linearly in s / 3; 37Cl: sigma x (1 + s_Cl s)).
``solar_es_rates`` has none (the collaborations' errors include their detector systematics).
"""

from __future__ import annotations

import pathlib
from typing import Any, ClassVar, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ... import constants as c
from ...errors import InvalidSpecError
from ...parameters.oscillation import resolve_osc
from ...parameters.params import Params
from ...physics import quadrature
from ...physics.oscillation import Layers
from ...physics.oscillation.earth import night_paths
from ...physics.oscillation.sun import flavour_probabilities, gauss_production_nodes
from ...physics.scattering.electron_scattering import COUPLINGS as ES_COUPLINGS
from ...physics.scattering.electron_scattering import dsigma_dT as es_dsigma_dT
from ...physics.scattering.kinematics import t_max
from ...physics.sources import solar
from ..base import AbstractExperiment, Terms, register
from ..parsers.spec import integer, nuisance_names, number, string
from ..parsers.tables import read_rows

#: Production nodes per component (Gauss quadrature of its production region; 12 gives P_a to ~1e-5).
SOLAR_NODES = 12
#: cos(zenith) bins of the annual night exposure, grouped into ``night_nodes`` PREM paths.
_EXPOSURE_BINS = 200


class SolarSite(eqx.Module):
    """The solar components one experiment sees, on fixed energy nodes, and its day/night exposure.

    Fields (``K`` = energy nodes of all components together, each component a contiguous block):
        components: the component names (static), ``component_slices`` their blocks of nodes (static).
        enu_mev: node energies [MeV] (K,); spectrum_weight: w_ck, spectrum x quadrature weight (K,).
        flux: the solar model's flux of each node's component [cm^-2 s^-1] (K,).
        sun_weight, sun_ne, sun_yn: production nodes of each component (ncomp, SOLAR_NODES).
        day_fraction: fraction of the year with the Sun above the horizon; night, night_weight: PREM paths and
            their weights (sum 1) for the rest.
    """

    components: tuple[str, ...] = eqx.field(static=True)
    component_slices: tuple[tuple[int, int], ...] = eqx.field(static=True)
    enu_mev: Float[Array, " K"]
    spectrum_weight: Float[Array, " K"]
    flux: Float[Array, " K"]
    sun_weight: Float[Array, "ncomp R"]
    sun_ne: Float[Array, "ncomp R"]
    sun_yn: Float[Array, "ncomp R"]
    day_fraction: Float[Array, ""]
    night: Layers
    night_weight: Float[Array, " Z"]

    @classmethod
    def build(cls, components, *, model: str, threshold_mev: float, latitude_deg: float, depth_km: float,
              night_nodes: int, panels: int, order: int, where: str) -> SolarSite:  # fmt: skip
        """Nodes above ``threshold_mev`` (neutrino energy) of each component; components without any are dropped."""
        e_all, w_all, kept = [], [], []
        for comp in components:
            if comp not in solar.COMPONENTS:
                raise InvalidSpecError(f"{where}: unknown solar component {comp!r}; known: {list(solar.COMPONENTS)}")
            if comp in solar.LINES:
                lines = [(e, br) for e, br in solar.LINES[comp] if e > threshold_mev]
                e, w = np.array([x for x, _ in lines]), np.array([br for _, br in lines])
            else:
                hi = solar.endpoint(comp)
                if hi <= threshold_mev:
                    continue
                e, wq = quadrature.composite(np.linspace(max(threshold_mev, 0.0), hi, panels + 1), order)
                tab_e, tab_f = solar.spectrum(comp)
                w = wq * np.interp(e, tab_e, tab_f, left=0.0, right=0.0)
            if e.size == 0:
                continue
            kept.append(comp)
            e_all.append(e)
            w_all.append(w)
        if not kept:
            raise InvalidSpecError(f"{where}: no solar component lies above the threshold {threshold_mev} MeV")
        return cls._assemble(kept, e_all, w_all, model, latitude_deg, depth_km, night_nodes)

    @classmethod
    def on_energies(cls, component: str, enu_mev, *, model: str, latitude_deg: float, depth_km: float,
                    night_nodes: int) -> SolarSite:  # fmt: skip
        """One component on given energies [MeV] (unit weights): for experiments that give their own energy grid."""
        e = np.asarray(enu_mev, dtype=float)
        return cls._assemble([component], [e], [np.ones(e.size)], model, latitude_deg, depth_km, night_nodes)

    @classmethod
    def _assemble(cls, comps, energies, weights, model, latitude_deg, depth_km, night_nodes) -> SolarSite:
        """The site from each component's node energies and weights: model fluxes, production nodes, exposure."""
        flux_all = dict(zip(solar.COMPONENTS, solar.model_fluxes(model)[0]))
        ends = np.cumsum([0] + [e.size for e in energies])
        nodes = [gauss_production_nodes(model, comp, SOLAR_NODES) for comp in comps]
        day, night_hist = solar.annual_exposure(latitude_deg, _EXPOSURE_BINS)
        paths = night_paths(night_hist, night_nodes, depth_km)
        return cls(
            components=tuple(comps),
            component_slices=tuple((int(a), int(b)) for a, b in zip(ends[:-1], ends[1:])),
            enu_mev=_f64(np.concatenate(energies)),
            spectrum_weight=_f64(np.concatenate(weights)),
            flux=_f64(np.concatenate([np.full(e.size, flux_all[comp]) for comp, e in zip(comps, energies)])),
            sun_weight=_f64(np.stack([n.weight for n in nodes])),
            sun_ne=_f64(np.stack([n.ne for n in nodes])),
            sun_yn=_f64(np.stack([n.yn for n in nodes])),
            day_fraction=_f64(day),
            night=paths.layers,
            night_weight=_f64(paths.weight),
        )

    def day_night(self, params: Params) -> tuple[Float[Array, "K 3"], Float[Array, "K 3"]]:
        """P(nu_e -> nu_a) on the nodes by day and at night (PREM paths of the year's night exposure), each
        component over its production region."""
        osc = resolve_osc(params.osc)
        nsi = params.matter_nsi()
        days, nights = [], []
        for i, (a, b) in enumerate(self.component_slices):
            day, night = flavour_probabilities(
                osc, self.enu_mev[a:b] * 1e-3, self.sun_weight[i], self.sun_ne[i], self.sun_yn[i],
                nsi=nsi, night=self.night, night_weight=self.night_weight,
            )  # fmt: skip
            days.append(day)
            nights.append(night)
        return jnp.concatenate(days), jnp.concatenate(nights)

    def flavour_content(self, params: Params) -> Float[Array, "K 3"]:
        """P(nu_e -> nu_a) on the nodes, averaged over day and night (each component over its production region)."""
        day, night = self.day_night(params)
        return self.day_fraction * day + (1.0 - self.day_fraction) * night

    def normalisation(self, params: Params) -> Float[Array, " K"]:
        """Phi_c f_c on the nodes: the model flux times ``params.solar_flux`` of each node's component."""
        scale = [
            jnp.full((b - a,), 1.0) * params.solar_flux.get(comp, jnp.ones(())) for comp, (a, b) in zip(self.components, self.component_slices)
        ]
        return self.flux * jnp.concatenate(scale)

    def component_matrix(self) -> np.ndarray:
        """(ncomp, K) 0/1 matrix summing the nodes of each component."""
        m = np.zeros((len(self.components), int(self.enu_mev.shape[0])))
        for i, (a, b) in enumerate(self.component_slices):
            m[i, a:b] = 1.0
        return m


def _site(spec: dict[str, Any], components, threshold: float, where: str) -> SolarSite:
    s, q = spec["site"], spec.get("quadrature", {})
    return SolarSite.build(
        components, model=spec["solar"]["model"], threshold_mev=threshold, latitude_deg=float(s["latitude_deg"]),
        depth_km=float(s["depth_km"]), night_nodes=int(s.get("night_nodes", 4)), panels=int(q.get("panels", 24)),
        order=int(q.get("order", 4)), where=where,
    )  # fmt: skip


def validate_site(spec: dict[str, Any], where: str) -> None:
    """The ``[solar]`` model, ``[site]`` (latitude, depth, night_nodes) and optional ``[quadrature]`` of a spec."""
    string(spec, "solar.model", where, set(solar.MODELS))
    number(spec, "site.latitude_deg", where)
    if abs(spec["site"]["latitude_deg"]) > 90:
        raise InvalidSpecError(f"{where}: site.latitude_deg must lie in [-90, 90]")
    number(spec, "site.depth_km", where, nonneg=True)
    if "night_nodes" in spec["site"]:
        integer(spec, "site.night_nodes", where, 1, 40)
    for key in ("panels", "order"):
        if key in spec.get("quadrature", {}):
            integer(spec, f"quadrature.{key}", where, 1, 200)


def _validate_common(spec: dict[str, Any], where: str) -> None:
    validate_site(spec, where)
    meas = spec.get("measurements")
    if not isinstance(meas, list) or not meas:
        raise InvalidSpecError(f"{where}: [[measurements]] must list the measured rates")
    for k, m in enumerate(meas):
        if not isinstance(m, dict) or not isinstance(m.get("name"), str):
            raise InvalidSpecError(f"{where}: measurements[{k}] needs a name")
        v = m.get("value")
        if not isinstance(v, (int, float)) or not np.isfinite(v):
            raise InvalidSpecError(f"{where}: measurements[{k}].value must be a finite number")


class AbstractGaussianRates(AbstractExperiment):
    """Measured values with a constant Gaussian covariance (field ``inv_cov``, its inverse): chi^2 = r^T V^-1 r with
    r = observed - :meth:`expected`, log L = -chi^2 / 2, the pulls' chi^2 sum theta^2; toys ~ N(expectation, V)."""

    inv_cov: eqx.AbstractVar[Float[Array, "n n"]]

    @property
    def covariance(self) -> Float[Array, "n n"]:
        """V, the covariance of the measured values."""
        return jnp.linalg.inv(self.inv_cov)

    def expected(self, params: Params, pulls: Float[Array, " nn"], physics: Float[Array, " n"]) -> Float[Array, " n"]:
        """The predicted values: the physics itself (subclasses with pulls override it)."""
        return physics

    def components(self, params: Params, pulls: Float[Array, " nn"], physics: Float[Array, " n"]) -> dict[str, Array]:
        return {"prediction": self.expected(params, pulls, physics)}

    def terms(self, params: Params, pulls: Float[Array, " nn"], physics) -> Terms:
        r = self.observed - self.expected(params, pulls, physics)
        chi2 = r @ self.inv_cov @ r
        return Terms(-0.5 * chi2, chi2, jnp.sum(pulls**2))

    def chi2_derivatives(self, prediction: Float[Array, " n"]) -> tuple[Array, Array]:
        return 2.0 * self.inv_cov @ (prediction - self.observed), 2.0 * jnp.diag(self.inv_cov)

    def resample(self, key: jax.Array, expectation: Float[Array, " n"]) -> Float[Array, " n"]:
        return jax.random.multivariate_normal(key, jnp.asarray(expectation, dtype=float), self.covariance)


def _read_sigma_table(path: pathlib.Path, threshold: float, ncols: int) -> np.ndarray:
    tab = read_rows(path, ncols, header=True, increasing=True)
    if np.any(tab[:, 1:] < 0) or tab[0, 0] < threshold - 1e-9:
        raise InvalidSpecError(f"{path}: cross sections must be >= 0 and tabulated from the threshold {threshold} MeV up")
    return tab


@register
@final
class RadiochemicalRates(AbstractGaussianRates):
    """Capture rates [SNU] of a radiochemical target (71Ga or 37Cl): Gaussian terms, nuisance ``cross_section``.

    Fields:
        observed: measured rates [SNU] (n,); inv_cov: their inverse covariance (independent errors) (n, n).
        site: the solar components and exposure (:class:`SolarSite`).
        sigma_nodes: capture cross section on the nodes [1e-46 cm^2]: best, -3 sigma, +3 sigma (3, K).
        measurement_names: the measurements (static). target: "ga71" or "cl37" (static).
    """

    response: ClassVar[str] = "radiochemical_rates"
    kind: ClassVar[str] = "oscillation"

    name: str = eqx.field(static=True)
    nuisance_names: tuple[str, ...] = eqx.field(static=True)
    measurement_names: tuple[str, ...] = eqx.field(static=True)
    target: str = eqx.field(static=True)
    observed: Float[Array, " n"]
    nuisance_sigma: Float[Array, " 1"]
    inv_cov: Float[Array, "n n"]
    site: SolarSite
    sigma_nodes: Float[Array, "3 K"]
    component_matrix: Float[Array, "ncomp K"]

    @classmethod
    def validate_spec(cls, spec: dict[str, Any], where: str) -> None:
        _validate_common(spec, where)
        string(spec, "target.isotope", where, {"ga71", "cl37"})
        string(spec, "target.cross_section_file", where)
        number(spec, "target.threshold_mev", where, positive=True)
        for k, m in enumerate(spec["measurements"]):
            s = m.get("sigma")
            if not isinstance(s, (int, float)) or not np.isfinite(s) or s <= 0:
                raise InvalidSpecError(f"{where}: measurements[{k}].sigma must be a number > 0 (SNU)")
        nuisance_names(spec.get("nuisances"), where, expected=("cross_section",), response=cls.response)

    @classmethod
    def from_spec(cls, spec: dict[str, Any], folder: pathlib.Path) -> RadiochemicalRates:
        folder = pathlib.Path(folder)
        t = spec["target"]
        thr = float(t["threshold_mev"])
        site = _site(spec, solar.COMPONENTS, thr, spec["name"])
        e = np.asarray(site.enu_mev)
        path = folder / t["cross_section_file"]
        if t["isotope"] == "ga71":  # best, -3 sigma, +3 sigma; linear in E; the first value from threshold to 0.24 MeV
            tab = _read_sigma_table(path, 0.0, 4)
            sig = np.stack([np.interp(e, tab[:, 0], tab[:, j], left=tab[0, j]) for j in (1, 2, 3)])
            sig = np.where(e[None, :] >= thr, sig, 0.0)
            if not (np.all(tab[:, 2] <= tab[:, 1] + 1e-9) and np.all(tab[:, 3] >= tab[:, 1] - 1e-9)):
                raise InvalidSpecError(f"{path}: the -3 sigma column must not exceed the best one, nor +3 sigma lie below")
        else:  # 37Cl: power law in (E - threshold) between the tabulated points (log-log interpolation)
            tab = _read_sigma_table(path, thr, 2)
            pos = tab[:, 1] > 0
            x = np.log(np.maximum(e - thr, 1e-12))
            best = np.exp(np.interp(x, np.log(tab[pos, 0] - thr), np.log(tab[pos, 1])))
            best = np.where(e > thr, best, 0.0)
            sig = np.stack([best, best, best])  # the pull scales it (nuisance sigma)
        meas = spec["measurements"]
        return cls(
            name=spec["name"],
            nuisance_names=("cross_section",),
            measurement_names=tuple(m["name"] for m in meas),
            target=str(t["isotope"]),
            observed=_f64([m["value"] for m in meas]),
            nuisance_sigma=_f64([spec["nuisances"][0]["sigma"]]),
            inv_cov=_f64(np.diag([1.0 / m["sigma"] ** 2 for m in meas])),
            site=site,
            sigma_nodes=_f64(sig),
            component_matrix=_f64(site.component_matrix()),
        )

    def check_params(self, params: Params) -> None:
        resolve_osc(params.osc)

    def physics(self, params: Params) -> Float[Array, "3 ncomp"]:
        """Rates [SNU] per component with the best, -3 sigma and +3 sigma cross sections, at f_c = params.solar_flux."""
        pee = self.site.flavour_content(params)[:, 0]
        per_node = self.site.normalisation(params) * self.site.spectrum_weight * pee * 1e-46 * 1e36
        return (self.sigma_nodes * per_node[None, :]) @ self.component_matrix.T

    def rates(self, pulls: Float[Array, " 1"], physics: Float[Array, "3 ncomp"]) -> Float[Array, " ncomp"]:
        """Rate per component [SNU] at the cross-section pull."""
        s = pulls[0]
        if self.target == "ga71":
            up, down = physics[2] - physics[0], physics[0] - physics[1]
            return physics[0] + jnp.where(s >= 0, up, down) * s / 3.0
        return physics[0] * (1.0 + self.nuisance_sigma[0] * s)

    def expected(self, params: Params, pulls: Float[Array, " 1"], physics: Float[Array, "3 ncomp"]) -> Float[Array, " n"]:
        return jnp.full(self.observed.shape, jnp.sum(self.rates(pulls, physics)))

    def components(self, params: Params, pulls: Float[Array, " 1"], physics: Float[Array, "3 ncomp"]) -> dict[str, Array]:
        """The rate of each solar component [SNU], broadcast to the measurements."""
        r = self.rates(pulls, physics)
        return {comp: jnp.full(self.observed.shape, r[i]) for i, comp in enumerate(self.site.components)}


@register
@final
class SolarESRates(AbstractGaussianRates):
    """nu-e elastic-scattering interaction rates [counts per day per 100 t] of solar components (Borexino).

    Each measurement sums the components it names, optionally only some lines (``lines_mev``), over recoils
    T >= ``t_min_mev``. Fields:
        observed: measured rates (n,); inv_cov: inverse covariance (n, n) (independent ``sigma`` per measurement, or
            the spec's ``covariance.inverse``).
        site: the components and exposure; selection: node weights of each measurement (n, K) (0/1, line choice).
        t_nodes, t_weights: recoil quadrature per node and measurement threshold (n, K, nT) [MeV].
        electrons_per_100t: target electrons in 100 t.
    """

    response: ClassVar[str] = "solar_es_rates"
    kind: ClassVar[str] = "oscillation"

    name: str = eqx.field(static=True)
    nuisance_names: tuple[str, ...] = eqx.field(static=True)
    measurement_names: tuple[str, ...] = eqx.field(static=True)
    observed: Float[Array, " n"]
    nuisance_sigma: Float[Array, " 0"]
    inv_cov: Float[Array, "n n"]
    site: SolarSite
    selection: Float[Array, "n K"]
    t_nodes: Float[Array, "n K nT"]
    t_weights: Float[Array, "n K nT"]
    electrons_per_100t: Float[Array, ""]
    couplings: str = eqx.field(static=True)

    @classmethod
    def validate_spec(cls, spec: dict[str, Any], where: str) -> None:
        _validate_common(spec, where)
        number(spec, "detector.electrons_per_100t", where, positive=True)
        string(spec, "detector.es_couplings", where, set(ES_COUPLINGS))
        if "recoil_nodes" in spec["detector"]:
            integer(spec, "detector.recoil_nodes", where, 2, 200)
        meas = spec["measurements"]
        for k, m in enumerate(meas):
            comps = m.get("components")
            if not isinstance(comps, list) or not comps or not set(comps) <= set(solar.COMPONENTS):
                raise InvalidSpecError(f"{where}: measurements[{k}].components must name solar components {list(solar.COMPONENTS)}")
            tmin = m.get("t_min_mev", 0.0)
            if not isinstance(tmin, (int, float)) or tmin < 0:
                raise InvalidSpecError(f"{where}: measurements[{k}].t_min_mev must be >= 0")
            for e in m.get("lines_mev", []):
                if not any(abs(e - x) < 1e-6 for comp in comps for x, _ in solar.LINES.get(comp, ())):
                    raise InvalidSpecError(f"{where}: measurements[{k}].lines_mev names {e} MeV, not a line of {comps}")
        has_sigma = all(isinstance(m.get("sigma"), (int, float)) and m["sigma"] > 0 for m in meas)
        inv = spec.get("covariance", {}).get("inverse")
        if has_sigma == (inv is not None):
            raise InvalidSpecError(f"{where}: give either every measurement a sigma > 0 or covariance.inverse")
        if inv is not None:
            arr = np.asarray(inv, dtype=float) if isinstance(inv, list) else np.zeros(0)
            n = len(meas)
            if arr.shape != (n, n) or not np.allclose(arr, arr.T) or np.any(np.linalg.eigvalsh(arr) <= 0):
                raise InvalidSpecError(f"{where}: covariance.inverse must be a symmetric positive-definite {n} x {n} matrix")
        nuisance_names(spec.get("nuisances", []), where, expected=(), response=cls.response)

    @classmethod
    def from_spec(cls, spec: dict[str, Any], folder: pathlib.Path) -> SolarESRates:
        folder = pathlib.Path(folder)
        meas = spec["measurements"]
        comps = [comp for comp in solar.COMPONENTS if any(comp in m["components"] for m in meas)]
        site = _site(spec, comps, 0.0, spec["name"])
        e = np.asarray(site.enu_mev)
        n_t = int(spec["detector"].get("recoil_nodes", 16))
        tmax = np.asarray(t_max(e, c.M_E))
        tmin = np.array([float(m.get("t_min_mev", 0.0)) for m in meas])[:, None]  # (n, 1)
        t_nodes, t_w = (np.asarray(x) for x in quadrature.nodes(np.minimum(tmin, tmax), tmax, n_t))  # (n, K, nT)
        sel = np.zeros((len(meas), e.size))
        for i, m in enumerate(meas):
            for comp, (a, b) in zip(site.components, site.component_slices):
                if comp not in m["components"]:
                    continue
                if comp in solar.LINES and m.get("lines_mev"):
                    sel[i, a:b] = [any(abs(x - y) < 1e-6 for y in m["lines_mev"]) for x in e[a:b]]
                else:
                    sel[i, a:b] = 1.0
        sel = sel * (tmax > tmin)
        if "covariance" in spec:
            inv = np.asarray(spec["covariance"]["inverse"], dtype=float)
        else:
            inv = np.diag([1.0 / m["sigma"] ** 2 for m in meas])
        return cls(
            name=spec["name"],
            nuisance_names=(),
            measurement_names=tuple(m["name"] for m in meas),
            observed=_f64([m["value"] for m in meas]),
            nuisance_sigma=jnp.zeros((0,)),
            inv_cov=_f64(inv),
            site=site,
            selection=_f64(sel),
            t_nodes=_f64(t_nodes),
            t_weights=_f64(t_w),
            electrons_per_100t=_f64(spec["detector"]["electrons_per_100t"]),
            couplings=str(spec["detector"]["es_couplings"]),
        )

    def check_params(self, params: Params) -> None:
        resolve_osc(params.osc)

    def physics(self, params: Params) -> Float[Array, " n"]:
        """The predicted rate of each measurement [cpd/100 t]."""
        prob = self.site.flavour_content(params)  # (K, 3)
        e = self.site.enu_mev[None, :, None]
        sig = jnp.stack(
            [
                jnp.sum(
                    es_dsigma_dT(
                        e, self.t_nodes, flavor=a, nsi=params.nsi, zprime=params.zprime,
                        sin2_theta_w=params.sin2_theta_w, couplings=self.couplings,
                    )  # fmt: skip
                    * self.t_weights,
                    axis=-1,
                )
                for a in range(3)
            ],
            axis=-1,
        )  # (n, K, 3) cm^2
        per_node = self.site.normalisation(params) * self.site.spectrum_weight  # (K,)
        rate = jnp.einsum("nk,k,ka,nka->n", self.selection, per_node, prob, sig)
        return rate * self.electrons_per_100t * 86400.0


@register
@final
class SolarModelFluxes(AbstractGaussianRates):
    """The standard solar model's prediction of the flux normalisations as a Gaussian data set: chi^2 =
    (f - 1)^T V^-1 (f - 1) with f = ``params.solar_flux`` (missing = 1) and V the model's fractional covariance
    (:func:`nsijax.physics.sources.solar.model_fluxes`). Include it once in a fit with solar experiments; it is the
    prior of the flux normalisations they share."""

    response: ClassVar[str] = "solar_model_prior"
    kind: ClassVar[str] = "oscillation"

    name: str = eqx.field(static=True)
    nuisance_names: tuple[str, ...] = eqx.field(static=True)
    components_: tuple[str, ...] = eqx.field(static=True)
    observed: Float[Array, " ncomp"]
    nuisance_sigma: Float[Array, " 0"]
    inv_cov: Float[Array, "ncomp ncomp"]

    @classmethod
    def validate_spec(cls, spec: dict[str, Any], where: str) -> None:
        string(spec, "solar.model", where, set(solar.MODELS))
        comps = spec.get("solar", {}).get("components", list(solar.COMPONENTS))
        if not isinstance(comps, list) or not comps or not set(comps) <= set(solar.COMPONENTS):
            raise InvalidSpecError(f"{where}: solar.components must name components of {list(solar.COMPONENTS)}")
        nuisance_names(spec.get("nuisances", []), where, expected=(), response=cls.response)

    @classmethod
    def from_spec(cls, spec: dict[str, Any], folder: pathlib.Path) -> SolarModelFluxes:
        comps = tuple(spec["solar"].get("components", list(solar.COMPONENTS)))
        _, frac, corr = solar.model_fluxes(spec["solar"]["model"])
        idx = [solar.COMPONENTS.index(x) for x in comps]
        cov = (frac[:, None] * corr * frac[None, :])[np.ix_(idx, idx)]
        return cls(
            name=spec["name"],
            nuisance_names=(),
            components_=comps,
            observed=jnp.ones(len(comps)),
            nuisance_sigma=jnp.zeros((0,)),
            inv_cov=_f64(np.linalg.inv(cov)),
        )

    def physics(self, params: Params) -> Float[Array, " ncomp"]:
        return jnp.stack([jnp.asarray(params.solar_flux.get(x, 1.0), dtype=float) for x in self.components_])


def _f64(x) -> Array:
    return jnp.asarray(x, dtype=float)
