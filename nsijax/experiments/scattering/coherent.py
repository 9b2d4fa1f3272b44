"""CEvNS at a pion-decay-at-rest source: the COHERENT CsI 2017, CsI 2021 and LAr 2020 data releases.

Physics (:meth:`AbstractPionDARCEvNS.physics`, PHYSICS.md): for each of the three neutrino components
(prompt nu_mu, delayed nu_e, delayed anti-nu_mu) the recoil spectrum

    dN/dT = N_targets r N_POT / (4 pi L^2) x int dE phi(E) dsigma/dT(E, T)

is integrated by Gauss-Legendre quadrature above the kinematic threshold of every isotope (nodes built
once at load time, :func:`nsijax.physics.sources.pion_dar.energy_nodes`), with the cross sections of
:func:`nsijax.physics.scattering.cevns.dsigma_dT` (NSI, Z', magnetic moment, charge radii, millicharge, weak
mixing angle and neutron radii of ``params``).
Oscillations are neglected (L ~ 20-30 m: Delta m^2 L / E < 1e-4 for the standard splittings).

Detector response (each final class; no Python loop over bins, static shapes): the recoil rates
(events per recoil node, shape (3, nT)) and the nuisance pulls theta (order ``nuisance_names``) give
binned counts per component, the CEvNS ones multiplied by ``params.cevns_scale``. Pulls move the
prediction by the conventions of :mod:`nsijax.experiments.systematics`.

    :class:`CsIPoisson2017` (``csi_poisson_2017``; COHERENT CsI 2017 release, arXiv:1804.09459): flat
        quenching factor, light yield in PE/keVee, Poisson photo-electron statistics, acceptance
        a / (1 + exp(-k (x - x0))) H(x - 5) on 1-PE bins, released arrival-time PDFs.
    :class:`CsIGamma2021` (``csi_gamma_2021``; arXiv:2110.07730 ancillary files): scintillation response
        E_ee = a T + b T^2 + c T^3 + d T^4 (MeV), gamma-distributed PE (density integrated over 1-PE
        bins by Gauss-Legendre), energy efficiency a/(1 + exp(-b (x - c))) + d, time efficiency folded
        into the time PDFs.
    :class:`LAr2020` (``lar_2020``; arXiv:2006.12659): QF = a + b T[keVnr], Gaussian resolution
        0.58 sqrt(E[keVee]), tabulated acceptance, per-energy-bin F90 distribution of the released CEvNS
        PDF, analytic prompt/delayed timing, the released shape systematics as relative templates.
    :class:`LAr2020Release` (``lar_2020_release``): as ``lar_2020`` but the CEvNS (E, F90, t) cube is the
        release's ``cevnspdf.txt`` reweighted, per energy bin and component, by predicted / SM-predicted
        counts (so the SM gives exactly the official template, scaled to this model's SM normalisation).

Each class is built from its spec and ``tables.npz`` (:meth:`AbstractPionDARCEvNS.from_tables`; the
tables are made from the raw release files by :mod:`nsijax.experiments.parsers.coherent_release`);
all quadrature nodes and derived templates are computed there, once, in NumPy.
"""

from __future__ import annotations

import abc
import math
import pathlib
from typing import Any, ClassVar, final

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import gammaln, ndtr
from jaxtyping import Array, Float

from ... import constants as c
from ...errors import InvalidInputError, InvalidSpecError
from ...parameters.params import Params
from ...physics import quadrature
from ...physics.scattering import cevns, electron_scattering
from ...physics.scattering.kinematics import t_max
from ...physics.scattering.targets import get_target
from ...physics.sources.pion_dar import (
    E_DELAYED_MAX,
    PION_DAR_COMPONENTS,
    energy_nodes,
    pion_dar_spectrum,
    recoil_nodes,
)
from ..base import AbstractExperiment, register
from ..parsers.spec import edges, field, integer, nuisance_names, number, numbers, string
from ..systematics import interp_sets, norm_factor

#: Smallest electron-equivalent energy (keVee) used in the smearing (guards E -> 0 divisions).
E_EE_FLOOR_KEV = 1e-6

#: Gauss-Legendre nodes per 1-PE bin for the gamma photo-electron density of CsI 2021.
GAMMA_NODES = 4

#: Names of the CEvNS components (prompt nu_mu, delayed nu_e, delayed anti-nu_mu), in the order of the
#: rows of :func:`recoil_rates`.
CEVNS_KEYS = tuple(f"cevns_{k}" for k in PION_DAR_COMPONENTS)
#: Row of a two-row (prompt, delayed) time PDF for each CEvNS component.
_TIME_ROW = tuple(0 if prompt else 1 for (_, _, prompt) in PION_DAR_COMPONENTS.values())


class ElectronNodes(eqx.Module):
    """Quadrature of nu-e elastic scattering on the atomic electrons (empty arrays where a spec has no
    ``binning.electron_recoil_kev``, e.g. LAr, whose pulse-shape cut removes electron recoils).

    Fields: recoil_mev, recoil_weights (nTe,) electron-recoil nodes (MeV) and weights; enu_mev (nTe, nE) neutrino
    energies on [E_min(T_e), m_mu/2]; enu_weights (2, nTe, nE) weight x normalised nu_e and anti-nu_mu spectra.
    """

    recoil_mev: Float[Array, " nTe"]
    recoil_weights: Float[Array, " nTe"]
    enu_mev: Float[Array, "nTe nE"]
    enu_weights: Float[Array, "2 nTe nE"]

    @property
    def size(self) -> int:
        return int(self.recoil_mev.shape[0])


def recoil_rates(params: Params, exp: AbstractPionDARCEvNS) -> Float[Array, "3 nTall"]:
    """Expected events at each recoil quadrature node (quadrature weight included): the CEvNS nuclear-recoil
    nodes (``exp.recoil_mev``), then the nu-e electron-recoil nodes (``exp.electron``, none for LAr).

    Rows: prompt nu_mu, delayed nu_e, delayed anti-nu_mu (:data:`CEVNS_KEYS`).
    Summing a row's nuclear part gives the number of recoils in [recoil_kev] before any detector effect.
    """
    T = exp.recoil_mev
    kw = dict(
        nsi=params.nsi,
        zprime=params.zprime,
        mu_nu=params.mu_nu,
        charge_radius=params.charge_radius,
        form_factor=exp.form_factor,
        couplings=exp.couplings,
        sin2_theta_w=params.sin2_theta_w,
        neutron_radius=params.neutron_radius,
        transition_charge_radius=params.transition_charge_radius,
        millicharge=params.millicharge,
    )
    out = jnp.zeros((3, T.shape[0]))
    for i, iso in enumerate(get_target(exp.target).isotopes()):
        prompt = cevns.dsigma_dT(c.E_NU_PROMPT, T, iso, flavor=1, **kw)
        E = exp.enu_mev[i]
        nue = cevns.dsigma_dT(E, T[:, None], iso, flavor=0, **kw)
        numubar = cevns.dsigma_dT(E, T[:, None], iso, flavor=1, antineutrino=True, **kw)
        w = exp.enu_weights[:, i]
        rows = jnp.stack([prompt, jnp.sum(nue * w[0], -1), jnp.sum(numubar * w[1], -1)])
        out = out + rows
    out = out * exp.exposure * exp.recoil_weights
    el = exp.electron
    if el.size == 0:
        return out
    ekw = dict(
        nsi=params.nsi, zprime=params.zprime, mu_nu=params.mu_nu, charge_radius=params.charge_radius,
        sin2_theta_w=params.sin2_theta_w, transition_charge_radius=params.transition_charge_radius,
        millicharge=params.millicharge,
    )  # fmt: skip
    Te = el.recoil_mev
    prompt = electron_scattering.dsigma_dT_atom(c.E_NU_PROMPT, Te, exp.target, flavor=1, **ekw)
    nue = electron_scattering.dsigma_dT_atom(el.enu_mev, Te[:, None], exp.target, flavor=0, **ekw)
    numubar = electron_scattering.dsigma_dT_atom(el.enu_mev, Te[:, None], exp.target, flavor=1, antineutrino=True, **ekw)
    rows = jnp.stack([prompt, jnp.sum(nue * el.enu_weights[0], -1), jnp.sum(numubar * el.enu_weights[1], -1)])
    return jnp.concatenate([out, rows * exp.exposure * el.recoil_weights], axis=1)


def _electron_components(spec_e: Float[Array, "3 nE"], time_pdf, scale) -> Float[Array, "nE nt"]:
    """nu-e elastic scattering of the three components, each with its time PDF row, summed."""
    return scale * sum(jnp.tensordot(spec_e[i], time_pdf[_TIME_ROW[i]], axes=0) for i in range(3))


def _cevns_components(spec_e: Float[Array, "3 nE"], time_pdf, scale) -> dict[str, Array]:
    """The three CEvNS components as (energy x time) outer products with their time PDF rows."""
    out = {}
    for i, key in enumerate(CEVNS_KEYS):
        out[key] = scale * jnp.tensordot(spec_e[i], time_pdf[_TIME_ROW[i]], axes=0)
    return out


class AbstractPionDARCEvNS(AbstractExperiment):
    """CEvNS of the three pi-DAR neutrino components in one detector (see the module docstring).

    Fields every final class has:
        name, nuisance_names: static; the nuisances are :attr:`NUISANCES` (the spec lists them in order).
        target, form_factor, couplings: static strings of ``[source]`` (target material, nuclear form
            factor "helm" | "klein_nystrand", weak couplings "tree" | "pdg").
        observed: observed counts per analysis bin.
        exposure: N_targets x r N_POT / (4 pi L^2), formula units x neutrinos per cm^2 per flavour.
        recoil_mev, recoil_weights: recoil-energy quadrature (nT,), MeV.
        enu_mev: (n_isotopes, nT, nE) neutrino-energy nodes on [E_min(T), m_mu/2] per isotope, MeV.
        enu_weights: (2, n_isotopes, nT, nE) quadrature weight x normalised spectrum (1/MeV x MeV) for
            nu_e and anti-nu_mu.
        nuisance_sigma: (n_nuisances,) 1-sigma size of each nuisance's effect (model-specific units).
    Class constants: :attr:`NUISANCES`; :attr:`signal_nuisances` (those degenerate with a free CEvNS
    normalisation, held fixed by :mod:`nsijax.studies.cevns_count`); :attr:`TABLES` (arrays needed in
    ``tables.npz`` with their shapes, None = any size); :attr:`BIN_EDGES` (the ``[binning]`` edges of the
    axes of ``observed``, in order); :attr:`DETECTOR_NUMBERS` (``[detector]`` numbers that must be > 0);
    :attr:`DETECTOR_LISTS` (``[detector]`` lists of finite numbers, by name, with their lengths).
    """

    kind: ClassVar[str] = "coherent"
    NUISANCES: eqx.AbstractClassVar[tuple[str, ...]]
    signal_nuisances: eqx.AbstractClassVar[tuple[str, ...]]
    TABLES: eqx.AbstractClassVar[dict[str, tuple]]
    BIN_EDGES: eqx.AbstractClassVar[tuple[str, ...]]
    DETECTOR_NUMBERS: eqx.AbstractClassVar[tuple[str, ...]]
    DETECTOR_LISTS: eqx.AbstractClassVar[dict[str, int]]

    name: eqx.AbstractVar[str]
    nuisance_names: eqx.AbstractVar[tuple[str, ...]]
    target: eqx.AbstractVar[str]
    form_factor: eqx.AbstractVar[str]
    couplings: eqx.AbstractVar[str]
    observed: eqx.AbstractVar[Float[Array, "..."]]
    nuisance_sigma: eqx.AbstractVar[Float[Array, " nnuis"]]
    exposure: eqx.AbstractVar[Float[Array, ""]]
    recoil_mev: eqx.AbstractVar[Float[Array, " nT"]]
    recoil_weights: eqx.AbstractVar[Float[Array, " nT"]]
    enu_mev: eqx.AbstractVar[Float[Array, "niso nT nE"]]
    enu_weights: eqx.AbstractVar[Float[Array, "2 niso nT nE"]]
    electron: eqx.AbstractVar[ElectronNodes]

    # --- building ---------------------------------------------------------------------------------

    @classmethod
    def validate_spec(cls, spec: dict[str, Any], where: str) -> None:
        """``[source]``, the quadrature and analysis ``[binning]``, the detector numbers and the nuisances."""
        string(spec, "source.target", where)
        for key in ("mass_kg", "distance_m", "protons_on_target", "nu_per_proton"):
            number(spec, f"source.{key}", where, positive=True)
        string(spec, "source.form_factor", where, {"helm", "klein_nystrand"})
        string(spec, "source.couplings", where, {"tree", "pdg"})
        lo, hi = edges(spec, "binning.recoil_kev", where)[:2]
        if lo <= 0:
            raise InvalidSpecError(f"{where}: binning.recoil_kev lower end must be > 0 keV")
        integer(spec, "binning.recoil_panels", where, 1, 1000)
        integer(spec, "binning.recoil_order", where, 1, 64)
        integer(spec, "binning.energy_nodes", where, 2, 256)
        if "electron_recoil_kev" in spec.get("binning", {}):
            e_lo = edges(spec, "binning.electron_recoil_kev", where)[0]
            if e_lo <= 0:
                raise InvalidSpecError(f"{where}: binning.electron_recoil_kev lower end must be > 0 keV")
            integer(spec, "binning.electron_panels", where, 1, 1000)
        for key in cls.BIN_EDGES:
            edges(spec, f"binning.{key}", where)
        for key in cls.DETECTOR_NUMBERS:
            number(spec, f"detector.{key}", where, positive=True)
        for key, length in cls.DETECTOR_LISTS.items():
            numbers(spec, f"detector.{key}", where, length)
        nuisance_names(
            field(spec, "nuisances", where), where, expected=cls.NUISANCES, response=cls.response, sigma_required=False
        )

    @classmethod
    def from_spec(cls, spec: dict[str, Any], folder: pathlib.Path) -> AbstractPionDARCEvNS:
        """Build from a validated spec and ``folder / "tables.npz"`` (see :meth:`from_tables`)."""
        path = pathlib.Path(folder) / "tables.npz"
        if not path.is_file():
            raise InvalidSpecError(f"{spec['name']}: tables file not found: {path}")
        try:
            with np.load(path, allow_pickle=False) as npz:
                tables = {k: np.asarray(npz[k], dtype=np.float64) for k in npz.files}
        except Exception as exc:
            raise InvalidSpecError(f"{spec['name']}: cannot read {path} ({exc})") from None
        return cls.from_tables(spec, tables)

    @classmethod
    def from_tables(cls, spec: dict[str, Any], tables: dict[str, np.ndarray]) -> AbstractPionDARCEvNS:
        """Build from a validated spec and its tables (NumPy arrays, as in ``tables.npz``).

        Checks the tables against :attr:`TABLES` and the binning, then computes the exposure, the recoil
        and neutrino-energy quadrature nodes and the class's own arrays (:meth:`detector_fields`).
        """
        name = spec["name"]
        _check_tables(name, cls.response, cls.TABLES, tables)
        binning = spec["binning"]
        if tables["observed"].shape != tuple(len(binning[k]) - 1 for k in cls.BIN_EDGES):
            raise InvalidSpecError(f"{name}: observed shape {tables['observed'].shape} does not match the binning")
        common = _source_fields(spec, tables)
        common.update(name=name, nuisance_names=cls.NUISANCES)
        own = {k: jnp.asarray(v, dtype=float) for k, v in cls.detector_fields(spec, tables, common).items()}
        return cls(**common, **own)

    @classmethod
    @abc.abstractmethod
    def detector_fields(
        cls, spec: dict[str, Any], tables: dict[str, np.ndarray], common: dict[str, Any]
    ) -> dict[str, np.ndarray | Array]:
        """The class's own fields (templates, aggregation matrices, detector coefficients) from the spec
        and the checked tables; ``common`` holds the shared fields already built."""

    # --- prediction -------------------------------------------------------------------------------

    def physics(self, params: Params) -> Float[Array, "3 nT"]:
        """The recoil rates of the three components at the recoil nodes (:func:`recoil_rates`)."""
        return recoil_rates(params, self)

    @abc.abstractmethod
    def detector_counts(
        self, pulls: Float[Array, " nnuis"], rates: Float[Array, "3 nT"], scale: Float[Array, ""]
    ) -> dict[str, Array]:
        """Binned counts of the three CEvNS components (:data:`CEVNS_KEYS`, each times ``scale``) and of
        every background, at pulls ``pulls``, from the recoil ``rates``."""

    def components(self, params: Params, pulls: Float[Array, " nnuis"], physics: Float[Array, "3 nT"]) -> dict[str, Array]:
        """Binned counts per component: the three CEvNS components, their sum ``"cevns"``, backgrounds."""
        out = self.detector_counts(pulls, physics, params.cevns_scale)
        cevns_sum = out["cevns_nu_mu"] + out["cevns_nu_e"] + out["cevns_nu_mu_bar"]
        result = {k: out[k] for k in CEVNS_KEYS}
        result["cevns"] = cevns_sum
        result.update({k: v for k, v in out.items() if k not in CEVNS_KEYS})
        return result

    def expected(self, params: Params, pulls: Float[Array, " nnuis"], physics: Float[Array, "3 nT"]) -> Float[Array, "..."]:
        """Sum of ``"cevns"`` and every background (the per-flavour CEvNS entries are not double counted)."""
        return sum(v for k, v in self.components(params, pulls, physics).items() if k not in CEVNS_KEYS)


# --- building helpers (NumPy, load time) ----------------------------------------------------------


def _check_tables(name: str, response: str, required: dict[str, tuple], tables: dict[str, np.ndarray]) -> dict[str, int]:
    """Presence, dimensions, mutual consistency and finiteness of the required tables; observed counts
    must be non-negative integers. Returns the named dimensions."""
    dims: dict[str, int] = {}
    for key, shape in required.items():
        if key not in tables:
            raise InvalidSpecError(f"{name}: tables lack the array {key!r} needed by response {response!r}")
        arr = tables[key]
        if arr.ndim != len(shape):
            raise InvalidSpecError(f"{name}: table {key!r} must have {len(shape)} dimensions; got shape {arr.shape}")
        for n, want in zip(arr.shape, shape):
            if isinstance(want, str):
                if dims.setdefault(want, n) != n:
                    raise InvalidSpecError(f"{name}: table {key!r} has shape {arr.shape}, inconsistent with the others")
            elif want is not None and n != want:
                raise InvalidSpecError(f"{name}: table {key!r} must have shape {shape}; got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise InvalidSpecError(f"{name}: table {key!r} contains non-finite values")
    if np.any(tables["observed"] < 0) or np.any(tables["observed"] != np.round(tables["observed"])):
        raise InvalidSpecError(f"{name}: observed counts must be non-negative integers")
    return dims


def _nuisance_sigma(s: dict, tables: dict[str, np.ndarray]) -> np.ndarray:
    """The spec's nuisance sigmas (default 1); ``ssb`` without one: 1 / sqrt(anti-coincidence counts)."""
    out = []
    for n in s["nuisances"]:
        if n["name"] == "ssb" and "sigma" not in n:
            sel = tables["ac_counts"].sum()
            if sel <= 0:
                raise InvalidSpecError(f"{s['name']}: the anti-coincidence counts are empty; ssb needs them")
            out.append(1.0 / math.sqrt(sel))
        else:
            out.append(float(n.get("sigma", 1.0)))
    return np.asarray(out)


def _source_fields(s: dict[str, Any], tables: dict[str, np.ndarray]) -> dict[str, Any]:
    """The fields every pi-DAR CEvNS class shares: source strings, observed counts, exposure, quadrature."""
    binning, src = s["binning"], s["source"]
    try:
        target = get_target(src["target"])
    except InvalidInputError as exc:
        raise InvalidSpecError(f"{s['name']}: source.target: {exc}") from None

    # exposure: formula units x neutrinos per flavour per cm^2
    n_units = src["mass_kg"] * 1e3 / target.molar_mass_g * c.N_AVOGADRO
    fluence = src["nu_per_proton"] * src["protons_on_target"] / (4.0 * math.pi * (src["distance_m"] * 100.0) ** 2)

    # quadrature: recoil nodes, then per isotope neutrino-energy nodes above threshold
    t_lo, t_hi = (x * 1e-3 for x in binning["recoil_kev"])
    t_max_all = float(np.max(np.asarray(t_max(E_DELAYED_MAX, target.mass_mev))))
    t_hi = min(t_hi, t_max_all)
    T, wT = recoil_nodes(t_lo, t_hi, binning["recoil_panels"], binning["recoil_order"])
    e_nodes, e_w = [], []
    for m in target.mass_mev:
        E, w = energy_nodes(T, float(m), binning["energy_nodes"])
        e_nodes.append(E)
        e_w.append(np.stack([w * np.asarray(pion_dar_spectrum(E, k)) for k in ("nu_e", "nu_mu_bar")]))
    return dict(
        target=src["target"],
        form_factor=src["form_factor"],
        couplings=src["couplings"],
        observed=jnp.asarray(tables["observed"], dtype=float),
        nuisance_sigma=jnp.asarray(_nuisance_sigma(s, tables), dtype=float),
        exposure=jnp.asarray(n_units * fluence, dtype=float),
        recoil_mev=jnp.asarray(T, dtype=float),
        recoil_weights=jnp.asarray(wT, dtype=float),
        enu_mev=jnp.asarray(np.stack(e_nodes), dtype=float),
        enu_weights=jnp.asarray(np.stack(e_w, axis=1), dtype=float),
        electron=_electron_nodes(binning, target),
    )


def _electron_nodes(binning: dict[str, Any], target) -> ElectronNodes:
    """nu-e quadrature on ``binning.electron_recoil_kev`` (log panels, with edges at the shell binding energies
    where the free-electron count steps); empty without that field."""
    if "electron_recoil_kev" not in binning:
        z = jnp.zeros((0,))
        return ElectronNodes(z, z, jnp.zeros((0, 1)), jnp.zeros((2, 0, 1)))
    lo, hi = binning["electron_recoil_kev"][0], binning["electron_recoil_kev"][-1]
    edges = electron_scattering.recoil_panel_edges(target, lo, hi, binning["electron_panels"])
    Te, wTe = (x * 1e-3 for x in quadrature.composite(edges, binning["recoil_order"]))
    E, w = energy_nodes(Te, c.M_E, binning["energy_nodes"])
    ew = np.stack([w * np.asarray(pion_dar_spectrum(E, k)) for k in ("nu_e", "nu_mu_bar")])
    f = lambda x: jnp.asarray(x, dtype=float)  # noqa: E731
    return ElectronNodes(f(Te), f(wTe), f(E), f(ew))


def _aggregation(fine_edges: np.ndarray, coarse_edges: np.ndarray) -> np.ndarray:
    """0/1 matrix (n_fine, n_coarse) summing fine bins into the coarse bin holding their centre."""
    centres = 0.5 * (fine_edges[1:] + fine_edges[:-1])
    idx = np.searchsorted(coarse_edges, centres, side="right") - 1
    out = np.zeros((centres.size, coarse_edges.size - 1))
    ok = (idx >= 0) & (idx < coarse_edges.size - 1)
    out[np.nonzero(ok)[0], idx[ok]] = 1.0
    return out


def _ssb_template(ac: np.ndarray) -> np.ndarray:
    """Steady-state background template: product of the AC marginals, normalised to the AC total."""
    tot = ac.sum()
    return np.outer(ac.sum(1), ac.sum(0)) / tot if tot > 0 else np.zeros_like(ac)


# --- CsI ------------------------------------------------------------------------------------------


@register
@final
class CsIPoisson2017(AbstractPionDARCEvNS):
    """COHERENT CsI 2017 (arXiv:1708.01294; release arXiv:1804.09459): PE x arrival-time bins.

    Own fields (npe x nt analysis bins; n_max 1-PE bins from 0; nb 1-PE bins of the BRN PE spectrum):
        time_pdf: (3, nt) released arrival-time PDFs: prompt nu, delayed nu, prompt neutrons.
        ssb: (npe, nt) steady-state background template (product of the AC marginals, AC total).
        brn_pe_1pe: (nb,) prompt-neutron counts per 1-PE bin before the efficiency.
        brn_centres: (nb,) their PE centres; brn_aggregate: (nb, npe) their sum into analysis bins.
        pe_counts: (n_max,) photo-electron numbers 0, 1, ...; pe_centres: (n_max,) centres of the 1-PE
            bins [n + offset, n + 1 + offset) (``detector.pe_bin_offset``); pe_aggregate: (n_max, npe).
        efficiency_par: (3, 3) rows a, k, x0 of the acceptance; columns value, +err, -err.
        light_yield: PE per keVee; quenching_factor: nominal flat quenching factor.
    """

    response: ClassVar[str] = "csi_poisson_2017"
    NUISANCES: ClassVar[tuple[str, ...]] = (
        "flux", "quenching", "efficiency_a", "efficiency_k", "efficiency_x0", "ssb", "brn",
    )
    signal_nuisances: ClassVar[tuple[str, ...]] = ("flux", "quenching", "efficiency_a", "efficiency_k", "efficiency_x0")
    TABLES: ClassVar[dict[str, tuple]] = {
        "observed": ("npe", "nt"),
        "ac_counts": ("npe", "nt"),
        "time_pdf": (3, "nt"),
        "brn_pe_1pe": (None,),
    }
    BIN_EDGES: ClassVar[tuple[str, ...]] = ("pe_edges", "time_edges_us")
    DETECTOR_NUMBERS: ClassVar[tuple[str, ...]] = ("light_yield_pe_per_kevee", "quenching_factor")
    DETECTOR_LISTS: ClassVar[dict[str, int]] = {"efficiency_a": 3, "efficiency_k": 3, "efficiency_x0": 3}

    name: str = eqx.field(static=True)
    nuisance_names: tuple[str, ...] = eqx.field(static=True)
    target: str = eqx.field(static=True)
    form_factor: str = eqx.field(static=True)
    couplings: str = eqx.field(static=True)
    observed: Float[Array, "npe nt"]
    nuisance_sigma: Float[Array, " nnuis"]
    exposure: Float[Array, ""]
    recoil_mev: Float[Array, " nT"]
    recoil_weights: Float[Array, " nT"]
    enu_mev: Float[Array, "niso nT nE"]
    enu_weights: Float[Array, "2 niso nT nE"]
    electron: ElectronNodes
    time_pdf: Float[Array, "3 nt"]
    ssb: Float[Array, "npe nt"]
    brn_pe_1pe: Float[Array, " nb"]
    brn_centres: Float[Array, " nb"]
    brn_aggregate: Float[Array, "nb npe"]
    pe_counts: Float[Array, " nmax"]
    pe_centres: Float[Array, " nmax"]
    pe_aggregate: Float[Array, "nmax npe"]
    efficiency_par: Float[Array, "3 3"]
    light_yield: Float[Array, ""]
    quenching_factor: Float[Array, ""]

    @classmethod
    def detector_fields(cls, spec, tables, common):
        b, det = spec["binning"], spec.get("detector", {})
        pe_edges = np.asarray(b["pe_edges"], float)
        n_max = int(np.ceil(pe_edges[-1])) + 1
        offset = float(det.get("pe_bin_offset", 0.0))
        fine = np.arange(n_max + 1, dtype=float) + offset  # n counted in [n + offset, n + 1 + offset)
        nb = tables["brn_pe_1pe"].size
        return dict(
            time_pdf=tables["time_pdf"],
            ssb=_ssb_template(tables["ac_counts"]),
            brn_pe_1pe=tables["brn_pe_1pe"],
            brn_centres=np.arange(nb) + 0.5,
            brn_aggregate=_aggregation(np.arange(nb + 1, dtype=float), pe_edges),
            pe_counts=np.arange(n_max, dtype=float),
            pe_centres=fine[:-1] + 0.5,
            pe_aggregate=_aggregation(fine, pe_edges),
            efficiency_par=np.array([det["efficiency_a"], det["efficiency_k"], det["efficiency_x0"]], float),
            light_yield=det["light_yield_pe_per_kevee"],
            quenching_factor=det["quenching_factor"],
        )

    def detector_counts(self, pulls, rates, scale):
        theta, s = pulls, self.nuisance_sigma
        qf = jnp.maximum(self.quenching_factor + s[1] * theta[1], 1e-6)
        n_nuc = self.recoil_mev.shape[0]
        # mean PE of the nuclear recoils (quenched) and of the electron recoils (E_ee = T_e), T in keV
        e_ee = jnp.concatenate([qf * self.recoil_mev, self.electron.recoil_mev]) * 1e3
        mu = self.light_yield * e_ee
        n = self.pe_counts
        logp = n[None, :] * jnp.log(mu)[:, None] - mu[:, None] - gammaln(n + 1.0)[None, :]
        prob = jnp.exp(logp)  # (nT, n_max)
        ep = self.efficiency_par  # rows a, k, x0; columns value, +err, -err
        a, k, x0 = (interp_sets(theta[2 + i], ep[i, 0], ep[i, 0] + ep[i, 1], ep[i, 0] - ep[i, 2]) for i in range(3))

        def eff(x):
            step = jnp.where(x < 5.0, 0.0, jnp.where(x < 6.0, 0.5, 1.0))
            # floor at zero: extreme pulls of (a, k, x0) must not make the efficiency (and mu) negative
            return jnp.maximum(a / (1.0 + jnp.exp(-k * (x - x0))), 0.0) * step

        spec_pe = ((rates[:, :n_nuc] @ prob[:n_nuc]) * eff(self.pe_centres)) @ self.pe_aggregate  # (3, nPE)
        out = _cevns_components(spec_pe, self.time_pdf, norm_factor(theta[0], s[0]) * scale)
        if self.electron.size:
            spec_e = ((rates[:, n_nuc:] @ prob[n_nuc:]) * eff(self.pe_centres)) @ self.pe_aggregate
            out["nu_e_scattering"] = _electron_components(spec_e, self.time_pdf, norm_factor(theta[0], s[0]))
        brn_pe = (self.brn_pe_1pe * eff(self.brn_centres)) @ self.brn_aggregate
        out["ssb"] = self.ssb * norm_factor(theta[5], s[5])
        out["brn"] = norm_factor(theta[6], s[6]) * jnp.outer(brn_pe, self.time_pdf[2])
        return out


@register
@final
class CsIGamma2021(AbstractPionDARCEvNS):
    """COHERENT CsI 2021 (arXiv:2110.07730, ancillary release): PE x arrival-time bins.

    Own fields (npe x nt analysis bins; nfine 1-PE bins spanning the PE range):
        time_pdf: (2, nt) prompt / delayed arrival-time probabilities per bin, time efficiency included.
        ssb: (npe, nt) steady-state background template; brn, nin: (npe, nt) neutron templates.
        efficiency_sets: (3, 4) energy-efficiency coefficients (a, b, c, d): nominal, +1 sigma, -1 sigma.
        quenching_sets: (5, 4) scintillation-response coefficients (MeV powers 1-4): nominal, model 0
            +- 1 sigma, model 1 +- 1 sigma.
        gamma_smearing: (2,) a, b of the gamma PE distribution (shape 1 + b E_ee, rate a (1 + b E_ee) / E_ee).
        pe_gl_nodes, pe_gl_weights: (nfine, GAMMA_NODES) Gauss-Legendre nodes / weights in each 1-PE bin.
        pe_fine_centres: (nfine,) centres of the 1-PE bins; pe_aggregate: (nfine, npe).
    """

    response: ClassVar[str] = "csi_gamma_2021"
    NUISANCES: ClassVar[tuple[str, ...]] = ("flux", "quenching_0", "quenching_1", "efficiency", "ssb", "brn", "nin")
    signal_nuisances: ClassVar[tuple[str, ...]] = ("flux", "quenching_0", "quenching_1", "efficiency")
    TABLES: ClassVar[dict[str, tuple]] = {
        "observed": ("npe", "nt"),
        "ac_counts": ("npe", "nt"),
        "time_pdf": (2, "nt"),
        "brn": ("npe", "nt"),
        "nin": ("npe", "nt"),
        "efficiency_sets": (3, 4),
        "quenching_sets": (5, 4),
    }
    BIN_EDGES: ClassVar[tuple[str, ...]] = ("pe_edges", "time_edges_us")
    DETECTOR_NUMBERS: ClassVar[tuple[str, ...]] = ("light_yield_pe_per_kevee",)
    DETECTOR_LISTS: ClassVar[dict[str, int]] = {"gamma_smearing": 2}

    name: str = eqx.field(static=True)
    nuisance_names: tuple[str, ...] = eqx.field(static=True)
    target: str = eqx.field(static=True)
    form_factor: str = eqx.field(static=True)
    couplings: str = eqx.field(static=True)
    observed: Float[Array, "npe nt"]
    nuisance_sigma: Float[Array, " nnuis"]
    exposure: Float[Array, ""]
    recoil_mev: Float[Array, " nT"]
    recoil_weights: Float[Array, " nT"]
    enu_mev: Float[Array, "niso nT nE"]
    enu_weights: Float[Array, "2 niso nT nE"]
    electron: ElectronNodes
    time_pdf: Float[Array, "2 nt"]
    ssb: Float[Array, "npe nt"]
    brn: Float[Array, "npe nt"]
    nin: Float[Array, "npe nt"]
    efficiency_sets: Float[Array, "3 4"]
    quenching_sets: Float[Array, "5 4"]
    gamma_smearing: Float[Array, " 2"]
    pe_gl_nodes: Float[Array, "nfine ngl"]
    pe_gl_weights: Float[Array, "nfine ngl"]
    pe_fine_centres: Float[Array, " nfine"]
    pe_aggregate: Float[Array, "nfine npe"]

    @classmethod
    def detector_fields(cls, spec, tables, common):
        b, det = spec["binning"], spec.get("detector", {})
        pe_edges = np.asarray(b["pe_edges"], float)
        fine = np.arange(pe_edges[0], pe_edges[-1] + 0.5, 1.0)
        xg, wg = np.polynomial.legendre.leggauss(GAMMA_NODES)
        return dict(
            time_pdf=tables["time_pdf"],
            ssb=_ssb_template(tables["ac_counts"]),
            brn=tables["brn"],
            nin=tables["nin"],
            efficiency_sets=tables["efficiency_sets"],
            quenching_sets=tables["quenching_sets"],
            gamma_smearing=np.asarray(det["gamma_smearing"], float),
            pe_gl_nodes=fine[:-1, None] + 0.5 * (xg + 1.0)[None, :] * np.diff(fine)[:, None],
            pe_gl_weights=0.5 * wg[None, :] * np.diff(fine)[:, None],
            pe_fine_centres=0.5 * (fine[1:] + fine[:-1]),
            pe_aggregate=_aggregation(fine, pe_edges),
        )

    def detector_counts(self, pulls, rates, scale):
        theta, s = pulls, self.nuisance_sigma
        q = self.quenching_sets  # nominal, model0 +, model0 -, model1 +, model1 -
        coef = q[0] + (interp_sets(theta[1], q[0], q[1], q[2]) - q[0]) + (interp_sets(theta[2], q[0], q[3], q[4]) - q[0])
        x = self.recoil_mev
        e_ee = 1e3 * x * (coef[0] + x * (coef[1] + x * (coef[2] + x * coef[3])))  # keVee
        n_nuc = x.shape[0]
        e_ee = jnp.concatenate([e_ee, 1e3 * self.electron.recoil_mev])  # electron recoils: E_ee = T_e
        e_ee = jnp.maximum(e_ee, E_EE_FLOOR_KEV)
        a_res, b_res = self.gamma_smearing[0], self.gamma_smearing[1]
        shape = 1.0 + b_res * e_ee
        rate = a_res / e_ee * shape  # 1/PE
        # probability per 1-PE bin: the gamma density integrated by Gauss-Legendre (GAMMA_NODES per bin).
        # (jax.scipy.special.gammainc has no second derivative in its shape argument; this form is
        # smooth to all orders in the nuisances, so Hessians and Newton profiling work.)
        x = self.pe_gl_nodes  # (n_fine, GAMMA_NODES)
        logpdf = (
            (shape - 1.0)[:, None, None] * jnp.log(x)[None]
            - rate[:, None, None] * x[None]
            + (shape * jnp.log(rate) - gammaln(shape))[:, None, None]
        )
        prob = jnp.sum(jnp.exp(logpdf) * self.pe_gl_weights[None], axis=-1)  # (nT, n_fine)
        es = self.efficiency_sets
        ec = interp_sets(theta[3], es[0], es[1], es[2])
        eff = jnp.maximum(ec[0] / (1.0 + jnp.exp(-ec[1] * (self.pe_fine_centres - ec[2]))) + ec[3], 0.0)
        spec_pe = ((rates[:, :n_nuc] @ prob[:n_nuc]) * eff) @ self.pe_aggregate
        out = _cevns_components(spec_pe, self.time_pdf, norm_factor(theta[0], s[0]) * scale)
        if self.electron.size:
            spec_e = ((rates[:, n_nuc:] @ prob[n_nuc:]) * eff) @ self.pe_aggregate
            out["nu_e_scattering"] = _electron_components(spec_e, self.time_pdf, norm_factor(theta[0], s[0]))
        out["ssb"] = self.ssb * norm_factor(theta[4], s[4])
        out["brn"] = self.brn * norm_factor(theta[5], s[5])
        out["nin"] = self.nin * norm_factor(theta[6], s[6])
        return out


# --- LAr ------------------------------------------------------------------------------------------

_LAR_TABLES: dict[str, tuple] = {
    "observed": ("ne", "nf", "nt"),
    "ssb": ("ne", "nf", "nt"),
    "brn": ("ne", "nf", "nt"),
    "brn_delayed": ("ne", "nf", "nt"),
    "f90_shape": ("ne", "nf"),
    "time_pdf": (2, "nt"),
    "efficiency_kevee": (None,),
    "efficiency": (None,),
    "cevns_f90_ratio": (2, "ne", "nf", "nt"),
    "cevns_timing_ratio": (1, "ne", "nf", "nt"),
    "brn_energy_ratio": (2, "ne", "nf", "nt"),
    "brn_timing_mean_ratio": (2, "ne", "nf", "nt"),
    "brn_timing_width_ratio": (1, "ne", "nf", "nt"),
}


class AbstractLAr2020(AbstractPionDARCEvNS):
    """COHERENT LAr 2020 (CENNS-10 Analysis A, arXiv:2003.10630, 2006.12659): energy x F90 x time bins.

    Shared fields (ne x nf x nt analysis bins; nfine reconstructed-energy bins of the efficiency table's width):
        quenching: (2,) QF = a + b T[keVnr]; quenching_sigma: (2,) their 1-sigma errors.
        resolution: Gaussian energy resolution sigma = resolution x sqrt(E[keVee]).
        e_fine_edges: (nfine + 1,) keVee; e_fine_efficiency: (nfine,) acceptance at their centres
            (tabulated, constant beyond the table); e_aggregate: (nfine, ne).
        ssb, brn, brn_delayed: (ne, nf, nt) background templates.
        cevns_f90_ratio, brn_energy_ratio, brn_timing_mean_ratio: (2, ne, nf, nt) +- 1 sigma alternative /
            nominal templates; cevns_timing_ratio, brn_timing_width_ratio: (ne, nf, nt) one-sided ones.
    The CEvNS (E, F90, t) cube is the final class's (:meth:`cevns_cubes`).
    """

    NUISANCES: ClassVar[tuple[str, ...]] = (
        "flux", "mass", "quenching_a", "quenching_b", "cevns_f90", "cevns_timing", "ssb", "brn",
        "brn_delayed", "brn_energy", "brn_timing_mean", "brn_timing_width",
    )
    signal_nuisances: ClassVar[tuple[str, ...]] = ("flux", "mass", "quenching_a", "quenching_b")
    BIN_EDGES: ClassVar[tuple[str, ...]] = ("energy_edges_kevee", "f90_edges", "time_edges_us")
    DETECTOR_NUMBERS: ClassVar[tuple[str, ...]] = ("resolution",)
    DETECTOR_LISTS: ClassVar[dict[str, int]] = {"quenching": 2, "quenching_sigma": 2}

    quenching: eqx.AbstractVar[Float[Array, " 2"]]
    quenching_sigma: eqx.AbstractVar[Float[Array, " 2"]]
    resolution: eqx.AbstractVar[Float[Array, ""]]
    e_fine_edges: eqx.AbstractVar[Float[Array, " nfine1"]]
    e_fine_efficiency: eqx.AbstractVar[Float[Array, " nfine"]]
    e_aggregate: eqx.AbstractVar[Float[Array, "nfine ne"]]
    ssb: eqx.AbstractVar[Float[Array, "ne nf nt"]]
    brn: eqx.AbstractVar[Float[Array, "ne nf nt"]]
    brn_delayed: eqx.AbstractVar[Float[Array, "ne nf nt"]]
    cevns_f90_ratio: eqx.AbstractVar[Float[Array, "2 ne nf nt"]]
    cevns_timing_ratio: eqx.AbstractVar[Float[Array, "ne nf nt"]]
    brn_energy_ratio: eqx.AbstractVar[Float[Array, "2 ne nf nt"]]
    brn_timing_mean_ratio: eqx.AbstractVar[Float[Array, "2 ne nf nt"]]
    brn_timing_width_ratio: eqx.AbstractVar[Float[Array, "ne nf nt"]]

    @staticmethod
    def lar_fields(spec: dict[str, Any], tables: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The shared LAr fields from the spec and the checked tables."""
        b, det = spec["binning"], spec.get("detector", {})
        e_edges = np.asarray(b["energy_edges_kevee"], float)
        width = float(tables["efficiency_kevee"][1] - tables["efficiency_kevee"][0])
        fine = np.arange(e_edges[0], e_edges[-1] + width / 2, width)
        centres = 0.5 * (fine[1:] + fine[:-1])
        return dict(
            quenching=np.asarray(det["quenching"], float),
            quenching_sigma=np.asarray(det["quenching_sigma"], float),
            resolution=det["resolution"],
            e_fine_edges=fine,
            e_fine_efficiency=np.interp(centres, tables["efficiency_kevee"], tables["efficiency"]),
            e_aggregate=_aggregation(fine, e_edges),
            ssb=tables["ssb"],
            brn=tables["brn"],
            brn_delayed=tables["brn_delayed"],
            cevns_f90_ratio=tables["cevns_f90_ratio"],
            cevns_timing_ratio=tables["cevns_timing_ratio"][0],
            brn_energy_ratio=tables["brn_energy_ratio"],
            brn_timing_mean_ratio=tables["brn_timing_mean_ratio"],
            brn_timing_width_ratio=tables["brn_timing_width_ratio"][0],
        )

    def energy_spectrum(self, pulls: Float[Array, " nnuis"], rates: Float[Array, "3 nT"]) -> Float[Array, "3 ne"]:
        """CEvNS counts per reconstructed-energy bin and component (quenching, resolution, acceptance)."""
        qa = self.quenching[0] + self.quenching_sigma[0] * pulls[2]
        qb = self.quenching[1] + self.quenching_sigma[1] * pulls[3]
        tk = self.recoil_mev * 1e3
        e_ee = jnp.maximum((qa + qb * tk) * tk, E_EE_FLOOR_KEV)
        sig = self.resolution * jnp.sqrt(e_ee)
        cdf = ndtr((self.e_fine_edges[None, :] - e_ee[:, None]) / sig[:, None])
        prob = jnp.diff(cdf, axis=1)
        return ((rates @ prob) * self.e_fine_efficiency) @ self.e_aggregate

    @abc.abstractmethod
    def cevns_cubes(self, spec_e: Float[Array, "3 ne"], factor, shape_syst) -> dict[str, Array]:
        """The three CEvNS (E, F90, t) cubes from the energy spectra ``spec_e``, times the normalisation
        ``factor`` and the relative shape systematics ``shape_syst``."""

    def detector_counts(self, pulls, rates, scale):
        theta, s = pulls, self.nuisance_sigma
        spec_e = self.energy_spectrum(theta, rates)  # (3, nE)
        r_f90 = interp_sets(theta[4], 1.0, self.cevns_f90_ratio[0], self.cevns_f90_ratio[1])
        r_tim = 1.0 + theta[5] * (self.cevns_timing_ratio - 1.0)
        shape_syst = jnp.maximum(r_f90 * r_tim, 0.0)
        f = norm_factor(theta[0], s[0]) * norm_factor(theta[1], s[1]) * scale
        out = self.cevns_cubes(spec_e, f, shape_syst)
        r_e = interp_sets(theta[9], 1.0, self.brn_energy_ratio[0], self.brn_energy_ratio[1])
        r_m = interp_sets(theta[10], 1.0, self.brn_timing_mean_ratio[0], self.brn_timing_mean_ratio[1])
        r_w = 1.0 + theta[11] * (self.brn_timing_width_ratio - 1.0)
        out["ssb"] = self.ssb * norm_factor(theta[6], s[6])
        out["brn"] = self.brn * norm_factor(theta[7], s[7]) * jnp.maximum(r_e * r_m * r_w, 0.0)
        out["brn_delayed"] = self.brn_delayed * norm_factor(theta[8], s[8])
        return out


@register
@final
class LAr2020(AbstractLAr2020):
    """COHERENT LAr 2020, forward-modelled CEvNS cube: energy spectrum x released per-energy-bin F90
    distribution x analytic prompt / delayed timing.

    Own fields: f90_shape (ne, nf) CEvNS F90 distribution per energy bin (from ``cevnspdf.txt``);
    time_pdf (2, nt) prompt / delayed arrival-time probabilities per bin.
    """

    response: ClassVar[str] = "lar_2020"
    TABLES: ClassVar[dict[str, tuple]] = _LAR_TABLES

    name: str = eqx.field(static=True)
    nuisance_names: tuple[str, ...] = eqx.field(static=True)
    target: str = eqx.field(static=True)
    form_factor: str = eqx.field(static=True)
    couplings: str = eqx.field(static=True)
    observed: Float[Array, "ne nf nt"]
    nuisance_sigma: Float[Array, " nnuis"]
    exposure: Float[Array, ""]
    recoil_mev: Float[Array, " nT"]
    recoil_weights: Float[Array, " nT"]
    enu_mev: Float[Array, "niso nT nE"]
    enu_weights: Float[Array, "2 niso nT nE"]
    electron: ElectronNodes
    quenching: Float[Array, " 2"]
    quenching_sigma: Float[Array, " 2"]
    resolution: Float[Array, ""]
    e_fine_edges: Float[Array, " nfine1"]
    e_fine_efficiency: Float[Array, " nfine"]
    e_aggregate: Float[Array, "nfine ne"]
    ssb: Float[Array, "ne nf nt"]
    brn: Float[Array, "ne nf nt"]
    brn_delayed: Float[Array, "ne nf nt"]
    cevns_f90_ratio: Float[Array, "2 ne nf nt"]
    cevns_timing_ratio: Float[Array, "ne nf nt"]
    brn_energy_ratio: Float[Array, "2 ne nf nt"]
    brn_timing_mean_ratio: Float[Array, "2 ne nf nt"]
    brn_timing_width_ratio: Float[Array, "ne nf nt"]
    f90_shape: Float[Array, "ne nf"]
    time_pdf: Float[Array, "2 nt"]

    @classmethod
    def detector_fields(cls, spec, tables, common):
        return dict(cls.lar_fields(spec, tables), f90_shape=tables["f90_shape"], time_pdf=tables["time_pdf"])

    def cevns_cubes(self, spec_e, factor, shape_syst):
        out = {}
        for i, key in enumerate(CEVNS_KEYS):
            cube = spec_e[i][:, None, None] * self.f90_shape[:, :, None] * self.time_pdf[_TIME_ROW[i]][None, None, :]
            out[key] = factor * cube * shape_syst
        return out


@register
@final
class LAr2020Release(AbstractLAr2020):
    """COHERENT LAr 2020 with the release's CEvNS cube: ``cevnspdf.txt`` reweighted per energy bin and
    component by predicted / SM-predicted counts (validation of the fit machinery against the official fit).

    Own fields: official_cevns (ne, nf, nt) the released CEvNS PDF (counts); sm_energy (3, ne) the SM
    energy spectrum of each component from this model (computed at build time by :class:`LAr2020`).
    """

    response: ClassVar[str] = "lar_2020_release"
    TABLES: ClassVar[dict[str, tuple]] = {**_LAR_TABLES, "official_cevns": ("ne", "nf", "nt")}

    name: str = eqx.field(static=True)
    nuisance_names: tuple[str, ...] = eqx.field(static=True)
    target: str = eqx.field(static=True)
    form_factor: str = eqx.field(static=True)
    couplings: str = eqx.field(static=True)
    observed: Float[Array, "ne nf nt"]
    nuisance_sigma: Float[Array, " nnuis"]
    exposure: Float[Array, ""]
    recoil_mev: Float[Array, " nT"]
    recoil_weights: Float[Array, " nT"]
    enu_mev: Float[Array, "niso nT nE"]
    enu_weights: Float[Array, "2 niso nT nE"]
    electron: ElectronNodes
    quenching: Float[Array, " 2"]
    quenching_sigma: Float[Array, " 2"]
    resolution: Float[Array, ""]
    e_fine_edges: Float[Array, " nfine1"]
    e_fine_efficiency: Float[Array, " nfine"]
    e_aggregate: Float[Array, "nfine ne"]
    ssb: Float[Array, "ne nf nt"]
    brn: Float[Array, "ne nf nt"]
    brn_delayed: Float[Array, "ne nf nt"]
    cevns_f90_ratio: Float[Array, "2 ne nf nt"]
    cevns_timing_ratio: Float[Array, "ne nf nt"]
    brn_energy_ratio: Float[Array, "2 ne nf nt"]
    brn_timing_mean_ratio: Float[Array, "2 ne nf nt"]
    brn_timing_width_ratio: Float[Array, "ne nf nt"]
    official_cevns: Float[Array, "ne nf nt"]
    sm_energy: Float[Array, "3 ne"]

    @classmethod
    def detector_fields(cls, spec, tables, common):
        lar = LAr2020(**common, **{k: jnp.asarray(v, dtype=float) for k, v in LAr2020.detector_fields(spec, tables, common).items()})
        sm = lar.energy_spectrum(jnp.zeros(len(cls.NUISANCES)), lar.physics(Params()))
        return dict(cls.lar_fields(spec, tables), official_cevns=tables["official_cevns"], sm_energy=np.asarray(sm))

    def cevns_cubes(self, spec_e, factor, shape_syst):
        sm_tot = jnp.sum(self.sm_energy, axis=0)
        ok = sm_tot > 0
        out = {}
        for i, key in enumerate(CEVNS_KEYS):
            w = jnp.where(ok, spec_e[i] / jnp.where(ok, sm_tot, 1.0), 0.0)
            out[key] = factor * self.official_cevns * w[:, None, None] * shape_syst
        return out
