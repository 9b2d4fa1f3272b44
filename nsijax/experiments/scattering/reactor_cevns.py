"""CEvNS of reactor anti-nu_e in a germanium point-contact detector: Dresden-II (``dresden_ii_2022``).

Data: J. Colaresi et al., Phys. Rev. Lett. 129 (2022) 211802, arXiv:2202.09672 -- acceptance-corrected Rx-ON
(96.4 d) and Rx-OFF (25 d) spectra in 10 eVee bins with errors that combine statistics and the signal-acceptance
uncertainty; the likelihood is Gaussian in them, as in the phenomenology of these data (P. Coloma et al.,
JHEP 05 (2022) 037, arXiv:2202.10829).

Signal (:meth:`GeReactorCEvNS.physics`, once per parameter point): for each period p with reactor power
fraction r_p, the rate per recoil node

    dR/dT = N_Ge x 86400 s x int dE Phi(E) dsigma/dT(E, T)          [events / (day keV)]

with the flux Phi of :func:`nsijax.physics.sources.reactor.flux_density` (thermal power, distance, fission fractions,
spectrum model with its low-energy extension, U238(n, gamma) captures) and the CEvNS cross section of
:func:`nsijax.physics.scattering.cevns.dsigma_dT` (anti-nu_e: NSI eps_ee and eps_e(mu,tau), a Z' at q^2 = 2 M T,
magnetic moment, charge radii, millicharge, weak mixing angle, Ge neutron radius), per Ge isotope above its kinematic
threshold; plus anti-nu_e - e elastic scattering on the atomic electrons
(:func:`nsijax.physics.scattering.electron_scattering.dsigma_dT_atom`; NSI eps^e, Z', mu_nu, charge radii,
millicharge, weak mixing angle),
whose recoils are not quenched. Oscillations over 10 m are neglected.

Detector response (:meth:`GeReactorCEvNS.expected`, iterated by the profiler): a nuclear recoil T gives the
ionisation energy E = T Y(T) (quenching ``fef`` or ``ybe`` from the tables of Collar et al. PRD 103 (2021) 122003,
or ``lindhard`` with k; :mod:`nsijax.physics.scattering.quenching`), smeared by a Gaussian of
sigma^2 = sigma_n^2 + eta F E (sigma_n = 68.5 eV, F = 0.11, eta = 2.96 eV; the PRL) renormalised to E > 0 (the
convention of arXiv:2202.10829), and integrated over each 10 eV bin. Recoils start at the energy of one
electron-hole pair (``detector.ionisation_threshold_kev``) at nominal quenching.

Background per period (the model of the PRL and arXiv:2202.10829): a constant, an exponential
B exp(-C E) (epithermal-neutron recoils) and the Ga71 X-ray lines of Ge71 electron capture, L1 (1.297 keV),
L2 (1.142 keV) and M (0.158 keV) with the detector resolution, the L2 and M areas tied to L1's by fixed ratios
(M with a prior). Amplitudes and slope are free per period (uniform-prior pulls); the Rx-OFF spectrum constrains the
line shapes and the resolution it shares with Rx-ON.

Nuisances (value = nominal + sigma x theta unless stated; spec ``[[nuisances]]`` and ``[quenching]``):
    flux         reactor flux normalisation (Gaussian)
    quenching    QF scale: Y x exp(sigma theta) (tables), k x exp(sigma theta) (Lindhard); prior from ``[quenching]``
    resolution   scale of the energy resolution (Gaussian)
    m_to_l1      M / L1 area ratio (Gaussian)
    line_shift   energy offset of the three lines, keV
    <p>_flat, <p>_epithermal, <p>_epithermal_slope, <p>_l1   per period p: constant (counts / (day bin)),
                 exponential amplitude at E = 0 (counts / (day bin)), its slope C (1/keV), L1 area (counts / day)
"""

from __future__ import annotations

import math
import pathlib
from typing import Any, ClassVar, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import erf
from jaxtyping import Array, Float

from ... import constants as c
from ...errors import InvalidInputError, InvalidSpecError
from ...parameters.params import Params
from ...physics import quadrature
from ...physics.scattering import cevns, electron_scattering, quenching
from ...physics.scattering.kinematics import e_min, t_max
from ...physics.scattering.targets import get_target
from ...physics.sources import reactor
from ...statistics import terms as stats
from ..base import AbstractExperiment, Terms, register
from ..parsers.spec import field, integer, nuisance_names, number, numbers, string
from ..parsers.tables import read_rows

#: Quenching models: tables (column of ``quenching.table_file``) or Lindhard's formula.
QUENCHING_MODELS = {"fef": 1, "ybe": 2, "lindhard": None}
#: Nuisances shared by every period, in order; each period p adds :data:`PERIOD_NUISANCES` as "<p>_<name>".
COMMON_NUISANCES = ("flux", "quenching", "resolution", "m_to_l1")
PERIOD_NUISANCES = ("flat", "epithermal", "epithermal_slope", "l1", "line_shift", "l1_width")
#: Highest anti-nu_e energy of the tabulated spectra (MeV).
ENU_MAX_MEV = 12.5
#: Atomic number of germanium (the only target of this response).
GE_Z = 32.0
SECONDS_PER_DAY = 86400.0


def nuisance_order(periods: tuple[str, ...]) -> tuple[str, ...]:
    """The nuisances of a detector with these data periods, in the order of the pulls."""
    return COMMON_NUISANCES + tuple(f"{p}_{n}" for p in periods for n in PERIOD_NUISANCES)


@register
@final
class GeReactorCEvNS(AbstractExperiment):
    """Reactor CEvNS in a germanium detector with Rx-ON / Rx-OFF spectra (see the module docstring).

    Fields:
        name, nuisance_names, periods (data periods, e.g. ("on", "off")), quenching_model, form_factor,
            couplings: static.
        observed, sigma: (n_periods, n_bins) measured rates and their errors, counts / (day bin).
        bin_edges_kev: (n_bins + 1,) ionisation-energy bin edges, keVee.
        reactor_fraction: (n_periods,) reactor power during each period / nominal.
        nuisance_nominal, nuisance_sigma, nuisance_gaussian: (n_nuis,) value = nominal + sigma theta; 1 where the
            prior is N(0, 1), 0 where uniform.
        recoil_kev, recoil_weights: nuclear-recoil nodes (keV) and weights (MeV).
        enu_mev, enu_weights: (n_iso, nT, nE) anti-nu_e energy nodes above each isotope's threshold and
            weight x flux [1 / (cm^2 s)].
        e_recoil_kev, e_recoil_weights: electron-recoil nodes (keV) and weights (MeV).
        enu_e_mev, enu_e_weights: (nTe, nEe) the same for electron scattering.
        exposure: Ge atoms x seconds per day.
        qf_kev, qf_yield: the quenching table (empty arrays for Lindhard); lindhard_k: Lindhard's k.
        resolution: (sigma_n [keV], Fano factor, eta [keV]); line_kev: (L1, L2, M) energies; l2_to_l1: area ratio.
    """

    response: ClassVar[str] = "ge_ppc_reactor"
    kind: ClassVar[str] = "reactor_cevns"

    name: str = eqx.field(static=True)
    nuisance_names: tuple[str, ...] = eqx.field(static=True)
    periods: tuple[str, ...] = eqx.field(static=True)
    quenching_model: str = eqx.field(static=True)
    form_factor: str = eqx.field(static=True)
    couplings: str = eqx.field(static=True)
    observed: Float[Array, "np nb"]
    sigma: Float[Array, "np nb"]
    bin_edges_kev: Float[Array, " nb1"]
    reactor_fraction: Float[Array, " np"]
    nuisance_nominal: Float[Array, " nn"]
    nuisance_sigma: Float[Array, " nn"]
    nuisance_gaussian: Float[Array, " nn"]
    recoil_kev: Float[Array, " nT"]
    recoil_weights: Float[Array, " nT"]
    enu_mev: Float[Array, "ni nT nE"]
    enu_weights: Float[Array, "ni nT nE"]
    e_recoil_kev: Float[Array, " nTe"]
    e_recoil_weights: Float[Array, " nTe"]
    enu_e_mev: Float[Array, "nTe nEe"]
    enu_e_weights: Float[Array, "nTe nEe"]
    exposure: Float[Array, ""]
    qf_kev: Float[Array, " nq"]
    qf_yield: Float[Array, " nq"]
    lindhard_k: Float[Array, ""]
    resolution: Float[Array, "3"]
    line_kev: Float[Array, "3"]
    l2_to_l1: Float[Array, ""]

    # --- building ---------------------------------------------------------------------------------

    @classmethod
    def validate_spec(cls, spec: dict[str, Any], where: str) -> None:
        """``[source]`` (reactor and detector), ``[quenching]``, ``[data]`` with ``[[data.periods]]``,
        ``[detector]``, ``[quadrature]`` and the ``[[nuisances]]`` (nominal, sigma, prior)."""
        for key in ("mass_kg", "distance_m", "thermal_power_mw"):
            number(spec, f"source.{key}", where, positive=True)
        number(spec, "source.captures_per_fission", where, nonneg=True)
        string(spec, "source.spectrum", where, reactor.SPECTRUM_MODELS)
        string(spec, "source.target", where, {"Ge"})
        string(spec, "source.form_factor", where, {"helm", "klein_nystrand"})
        string(spec, "source.couplings", where, {"tree", "pdg"})
        try:
            reactor.check_fractions(field(spec, "source.fission_fractions", where))
        except InvalidInputError as exc:
            raise InvalidSpecError(f"{where}: source.fission_fractions: {exc}") from None
        model = string(spec, "quenching.model", where, set(QUENCHING_MODELS))
        string(spec, "quenching.table_file", where)
        number(spec, "quenching.lindhard_k", where, positive=True)
        number(spec, "quenching.sigma", where, positive=True)
        string(spec, "quenching.prior", where, {"gaussian", "uniform"})
        del model
        string(spec, "data.file", where)
        number(spec, "data.bin_width_kev", where, positive=True)
        lo, hi = numbers(spec, "data.window_kev", where, 2)
        if not 0 <= lo < hi:
            raise InvalidSpecError(f"{where}: data.window_kev must be [lo, hi] with 0 <= lo < hi; got {[lo, hi]}")
        periods = field(spec, "data.periods", where)
        if not isinstance(periods, list) or not periods:
            raise InvalidSpecError(f"{where}: data.periods must be a non-empty list of tables")
        names = []
        for i, p in enumerate(periods):
            w = f"{where} data.periods[{i}]"
            names.append(string(p, "name", w))
            integer(p, "value_column", w, 1, 100)
            integer(p, "error_column", w, 1, 100)
            number(p, "days", w, positive=True)
            number(p, "reactor_fraction", w, nonneg=True)
        if len(set(names)) != len(names):
            raise InvalidSpecError(f"{where}: data.periods names repeat: {names}")
        for key in ("sigma_noise_kev", "fano", "eta_kev", "ionisation_threshold_kev", "l2_to_l1"):
            number(spec, f"detector.{key}", where, positive=True)
        numbers(spec, "detector.line_kev", where, 3)
        integer(spec, "quadrature.recoil_panels", where, 2, 2000)
        integer(spec, "quadrature.electron_panels", where, 2, 2000)
        integer(spec, "quadrature.energy_panels", where, 1, 200)
        integer(spec, "quadrature.order", where, 1, 32)
        nuis = field(spec, "nuisances", where)
        listed = nuisance_names(nuis, where)
        for i, n in enumerate(nuis):
            number(n, "nominal", f"{where} nuisances[{i}]")
            string(n, "prior", f"{where} nuisances[{i}]", {"gaussian", "uniform"})
        # every nuisance of the periods in use must be given; entries of periods not in use are allowed
        # (a spec may define more periods than an override keeps), unknown kinds are not
        missing = [n for n in nuisance_order(tuple(names)) if n != "quenching" and n not in listed]
        unknown = [
            n for n in listed
            if (n not in COMMON_NUISANCES or n == "quenching")  # quenching is set by [quenching]
            and not any(n.endswith("_" + k) and len(n) > len(k) + 1 for k in PERIOD_NUISANCES)
        ]  # fmt: skip
        if missing or unknown or len(set(listed)) != len(listed):
            raise InvalidSpecError(
                f"{where}: response {cls.response!r} needs the nuisances {list(nuisance_order(tuple(names)))} "
                f"(quenching from [quenching]) once each; missing {missing}, unknown {unknown}, listed {listed}"
            )

    @classmethod
    def from_spec(cls, spec: dict[str, Any], folder: pathlib.Path) -> GeReactorCEvNS:
        """Build from a validated spec, the data file and the quenching table in ``folder``."""
        name, folder = spec["name"], pathlib.Path(folder)
        src, det, quad, q = spec["source"], spec["detector"], spec["quadrature"], spec["quenching"]
        periods = tuple(p["name"] for p in spec["data"]["periods"])

        # data: bin centres in column 0; each period's value and error columns
        cols = [(p["value_column"], p["error_column"]) for p in spec["data"]["periods"]]
        table = read_rows(folder / spec["data"]["file"], 1 + max(max(cv) for cv in cols), where=name)
        width = spec["data"]["bin_width_kev"]
        lo, hi = spec["data"]["window_kev"]
        keep = (table[:, 0] - 0.5 * width >= lo - 1e-9) & (table[:, 0] + 0.5 * width <= hi + 1e-9)
        if not keep.any():
            raise InvalidSpecError(f"{name}: no data bin lies inside data.window_kev {[lo, hi]}")
        centres = table[keep, 0]
        if np.any(np.abs(np.diff(centres) - width) > 1e-6 * width):
            raise InvalidSpecError(f"{name}: the data bins must be contiguous and {width} keV wide")
        edges = np.concatenate([centres - 0.5 * width, [centres[-1] + 0.5 * width]])
        observed = np.stack([table[keep, v] for v, _ in cols])
        sigma = np.stack([table[keep, e] for _, e in cols])
        if np.any(sigma <= 0):
            raise InvalidSpecError(f"{name}: every data error must be > 0")

        # quenching: the table (fef, ybe) or Lindhard's k; recoils start at one electron-hole pair
        model = q["model"]
        qf_t, qf_y = _quenching_table(folder / q["table_file"], model, name)
        target = get_target(src["target"])
        Z = float(target.Z[0])
        y_nom = _nominal_yield(model, qf_t, qf_y, q["lindhard_k"], Z)
        t_lo = _recoil_at(det["ionisation_threshold_kev"], y_nom)
        t_hi = float(np.max(np.asarray(t_max(ENU_MAX_MEV, target.mass_mev)))) * 1e3
        T, wT = quadrature.composite(np.geomspace(t_lo, t_hi, quad["recoil_panels"] + 1), quad["order"])

        # flux at the detector, folded into the anti-nu_e energy nodes of each recoil node and isotope
        def flux(E):
            return reactor.flux_density(
                E, power_mw=src["thermal_power_mw"], distance_m=src["distance_m"],
                fractions=src["fission_fractions"], model=src["spectrum"],
                captures_per_fission=src["captures_per_fission"],
            )  # fmt: skip

        enu, w_enu = [], []
        for m in target.mass_mev:
            E, w = _energy_nodes(T * 1e-3, float(m), quad["energy_panels"], quad["order"])
            enu.append(E)
            w_enu.append(w * flux(E))

        # electron recoils up to 6 sigma above the window; panel edges at the shell binding energies
        sig_hi = math.sqrt(det["sigma_noise_kev"] ** 2 + det["fano"] * det["eta_kev"] * hi)
        te_hi = hi + 6.0 * sig_hi
        te_edges = electron_scattering.recoil_panel_edges(
            target, det["ionisation_threshold_kev"], te_hi, quad["electron_panels"]
        )
        Te, wTe = quadrature.composite(te_edges, quad["order"])
        Ee, wEe = _energy_nodes(Te * 1e-3, c.M_E, quad["energy_panels"], quad["order"])

        n_atoms = src["mass_kg"] * 1e3 / target.molar_mass_g * c.N_AVOGADRO
        nuis = {n["name"]: n for n in spec["nuisances"]}
        order = nuisance_order(periods)
        nominal = [0.0 if k == "quenching" else float(nuis[k]["nominal"]) for k in order]
        sig = [float(q["sigma"]) if k == "quenching" else float(nuis[k]["sigma"]) for k in order]
        gauss = [float((q["prior"] if k == "quenching" else nuis[k]["prior"]) == "gaussian") for k in order]
        f = lambda x: jnp.asarray(x, dtype=float)  # noqa: E731
        return cls(
            name=name,
            nuisance_names=order,
            periods=periods,
            quenching_model=model,
            form_factor=src["form_factor"],
            couplings=src["couplings"],
            observed=f(observed),
            sigma=f(sigma),
            bin_edges_kev=f(edges),
            reactor_fraction=f([p["reactor_fraction"] for p in spec["data"]["periods"]]),
            nuisance_nominal=f(nominal),
            nuisance_sigma=f(sig),
            nuisance_gaussian=f(gauss),
            recoil_kev=f(T),
            recoil_weights=f(wT * 1e-3),
            enu_mev=f(np.stack(enu)),
            enu_weights=f(np.stack(w_enu)),
            e_recoil_kev=f(Te),
            e_recoil_weights=f(wTe * 1e-3),
            enu_e_mev=f(Ee),
            enu_e_weights=f(wEe * flux(Ee)),
            exposure=f(n_atoms * SECONDS_PER_DAY),
            qf_kev=f(qf_t),
            qf_yield=f(qf_y),
            lindhard_k=f(q["lindhard_k"]),
            resolution=f([det["sigma_noise_kev"], det["fano"], det["eta_kev"]]),
            line_kev=f(det["line_kev"]),
            l2_to_l1=f(det["l2_to_l1"]),
        )

    # --- prediction -------------------------------------------------------------------------------

    def physics(self, params: Params) -> dict[str, Array]:
        """Events per day at each recoil node at full reactor power (quadrature weights included):
        ``"cevns"`` (nuclear recoils, shape (nT,)) and ``"electron"`` (electron recoils, (nTe,))."""
        kw = dict(
            antineutrino=True, nsi=params.nsi, zprime=params.zprime, mu_nu=params.mu_nu,
            sin2_theta_w=params.sin2_theta_w, charge_radius=params.charge_radius,
            transition_charge_radius=params.transition_charge_radius, millicharge=params.millicharge,
        )  # fmt: skip
        T = self.recoil_kev * 1e-3
        rate = jnp.zeros_like(T)
        for i, iso in enumerate(get_target("Ge").isotopes()):
            xs = cevns.dsigma_dT(
                self.enu_mev[i], T[:, None], iso, flavor=0,
                form_factor=self.form_factor, couplings=self.couplings, neutron_radius=params.neutron_radius, **kw,
            )  # fmt: skip
            rate = rate + jnp.sum(xs * self.enu_weights[i], axis=-1)
        Te = self.e_recoil_kev * 1e-3
        xe = electron_scattering.dsigma_dT_atom(self.enu_e_mev, Te[:, None], "Ge", flavor=0, **kw)
        rate_e = jnp.sum(xe * self.enu_e_weights, axis=-1)
        return {
            "cevns": rate * self.recoil_weights * self.exposure,
            "electron": rate_e * self.e_recoil_weights * self.exposure,
        }

    def values(self, pulls: Float[Array, " nn"]) -> dict[str, Array]:
        """The physical value of every nuisance at ``pulls`` (nominal + sigma x theta; ``quenching`` is theta x sigma,
        the log of the QF (or k) scale)."""
        v = self.nuisance_nominal + self.nuisance_sigma * pulls
        return dict(zip(self.nuisance_names, v))

    def ionisation_kev(self, log_scale: Float[Array, ""]) -> Float[Array, " nT"]:
        """Ionisation energy (keVee) of each nuclear-recoil node with the QF (or Lindhard's k) scaled by exp(log_scale)."""
        T = self.recoil_kev
        if self.quenching_model == "lindhard":
            y = quenching.lindhard(T, self.lindhard_k * jnp.exp(log_scale), GE_Z)
        else:
            y = quenching.tabulated(T, self.qf_kev, self.qf_yield) * jnp.exp(log_scale)
        return T * y

    def smearing(self, e_kev: Float[Array, " n"], res_scale: Float[Array, ""]) -> Float[Array, "n nb"]:
        """Probability that a deposit of ``e_kev`` (keVee) is measured in each bin: the Gaussian resolution,
        renormalised to positive measured energies."""
        sigma = self._sigma(e_kev, res_scale)[:, None]
        x = e_kev[:, None]
        cdf = 0.5 * (1.0 + erf((self.bin_edges_kev[None, :] - x) / (math.sqrt(2.0) * sigma)))
        positive = 0.5 * (1.0 + erf(x / (math.sqrt(2.0) * sigma)))
        return jnp.diff(cdf, axis=1) / positive

    def _sigma(self, e_kev, res_scale):
        s_n, fano, eta = self.resolution[0], self.resolution[1], self.resolution[2]
        return res_scale * jnp.sqrt(s_n**2 + fano * eta * jnp.maximum(e_kev, 0.0))

    def components(self, params: Params, pulls: Float[Array, " nn"], physics: dict[str, Array]) -> dict[str, Array]:
        """Counts / (day bin) per period (rows) of: ``"cevns"`` (times ``params.cevns_scale``), ``"electron"``
        (anti-nu_e - e), ``"flat"``, ``"epithermal"`` and the Ge71 lines ``"l1"``, ``"l2"``, ``"m"``."""
        v = self.values(pulls)
        res = v["resolution"]
        cev = physics["cevns"] @ self.smearing(self.ionisation_kev(v["quenching"]), res)
        ele = physics["electron"] @ self.smearing(self.e_recoil_kev, res)
        scale = v["flux"] * self.reactor_fraction[:, None]
        lo, hi = self.bin_edges_kev[:-1], self.bin_edges_kev[1:]
        out = {"cevns": params.cevns_scale * scale * cev[None, :], "electron": scale * ele[None, :]}
        rows = {k: [] for k in ("flat", "epithermal", "l1", "l2", "m")}
        for p in self.periods:
            shift, width = v[f"{p}_line_shift"], v[f"{p}_l1_width"]
            m_width = self._sigma(self.line_kev[2] + shift, res)
            shapes = {
                "l1": _gauss_bins(self.bin_edges_kev, self.line_kev[0] + shift, width),
                "l2": self.l2_to_l1 * _gauss_bins(self.bin_edges_kev, self.line_kev[1] + shift, width),
                "m": v["m_to_l1"] * _gauss_bins(self.bin_edges_kev, self.line_kev[2] + shift, m_width),
            }
            rows["flat"].append(jnp.broadcast_to(v[f"{p}_flat"], lo.shape))
            slope = v[f"{p}_epithermal_slope"]
            # bin average of B exp(-C E): B (e^{-C lo} - e^{-C hi}) / (C (hi - lo)), stable as C -> 0
            avg = jnp.exp(-slope * lo) * -jnp.expm1(-slope * (hi - lo)) / _nonzero(slope * (hi - lo))
            rows["epithermal"].append(v[f"{p}_epithermal"] * avg)
            for k, shape in shapes.items():
                rows[k].append(v[f"{p}_l1"] * shape)
        out.update({k: jnp.stack(r) for k, r in rows.items()})
        return out

    def expected(self, params: Params, pulls: Float[Array, " nn"], physics: dict[str, Array]) -> Float[Array, "np nb"]:
        """The total prediction per period and bin, counts / (day bin)."""
        return sum(self.components(params, pulls, physics).values())

    # --- statistics -------------------------------------------------------------------------------

    def terms(self, params: Params, pulls: Float[Array, " nn"], physics: dict[str, Array]) -> Terms:
        """Gaussian chi^2 of the rates with the released errors; the pull chi^2 of the Gaussian-prior pulls."""
        g = stats.gaussian_chi2(self.expected(params, pulls, physics), self.observed, self.sigma)
        return Terms(-0.5 * g, g, jnp.sum(self.nuisance_gaussian * pulls**2))

    def chi2_derivatives(self, prediction: Float[Array, "np nb"]) -> tuple[Array, Array]:
        """2 (pred - data) / sigma^2 and 2 / sigma^2."""
        s2 = self.sigma**2
        return 2.0 * (prediction - self.observed) / s2, 2.0 / s2

    def resample(self, key: jax.Array, expectation: Float[Array, "np nb"]) -> Float[Array, "np nb"]:
        """Rates ~ N(expectation, sigma^2), the statistics :meth:`terms` assumes."""
        lam = jnp.asarray(expectation, dtype=float)
        return lam + self.sigma * jax.random.normal(key, lam.shape)


def _gauss_bins(edges, centre, width):
    """Fraction of a Gaussian line (centre, width in keV) in each bin between ``edges``."""
    return jnp.diff(0.5 * (1.0 + erf((edges - centre) / (math.sqrt(2.0) * width))))


def _nonzero(x):
    return jnp.where(jnp.abs(x) > 1e-12, x, 1e-12)


# --- building helpers (NumPy, load time) ----------------------------------------------------------


def _quenching_table(path: pathlib.Path, model: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The (T [keV], Y) table of a tabulated model; empty arrays for Lindhard."""
    col = QUENCHING_MODELS[model]
    if col is None:
        return np.zeros(0), np.zeros(0)
    table = read_rows(path, col + 1, where=f"{name} quenching model {model!r}")
    try:
        return quenching.check_table(table[:, 0], table[:, col], f"{name}: {path.name}")
    except InvalidInputError as exc:
        raise InvalidSpecError(str(exc)) from None


def _nominal_yield(model, qf_t, qf_y, k, Z):
    if model == "lindhard":
        return lambda T: np.asarray(quenching.lindhard(T, k, Z))
    return lambda T: np.interp(T, qf_t, qf_y)


def _recoil_at(e_ee_kev: float, yield_fn) -> float:
    """The smallest recoil T (keV) with T Y(T) = e_ee (T Y(T) must increase with T up to there; the Fef table's
    T Y(T) dips near 1.2 keVnr, far above the thresholds used here)."""
    grid = np.geomspace(1e-6, 50.0, 200001)
    e = grid * yield_fn(grid)
    above = np.nonzero(e >= e_ee_kev)[0]
    if above.size == 0 or above[0] == 0 or not np.all(np.diff(e[: above[0] + 1]) > 0):
        raise InvalidSpecError(f"no recoil below 50 keV gives the ionisation threshold {e_ee_kev} keV monotonically")
    i = above[0] + 1
    return float(np.interp(e_ee_kev, e[:i], grid[:i]))


def _energy_nodes(T_mev: np.ndarray, mass_mev: float, panels: int, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss-Legendre nodes (nT, panels x order) in E on [E_min(T), ENU_MAX_MEV], log-spaced panels;
    zero weights where E_min(T) >= ENU_MAX_MEV."""
    lo = np.minimum(np.asarray(e_min(T_mev, mass_mev)), ENU_MAX_MEV)
    u = np.linspace(0.0, 1.0, panels + 1)
    edges = lo[:, None] * (ENU_MAX_MEV / np.maximum(lo, 1e-12))[:, None] ** u[None, :]
    return quadrature.composite(edges, order)
