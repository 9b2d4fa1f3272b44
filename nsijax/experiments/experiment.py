"""The :class:`Experiment` pytree and the loader of shipped / user experiments.

An experiment is data: a validated spec (``spec.toml``) plus arrays (``tables.npz``). Loading turns
them into an :class:`Experiment` whose arrays (observed counts, templates, quadrature nodes and
weights, detector coefficients) are pytree leaves and whose names and sizes are static fields, so
two experiments with equal shapes share one compiled likelihood and new data never recompile.

All quadrature nodes are computed here, once, in NumPy.
"""

from __future__ import annotations

import copy
import functools
import math
import pathlib
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .. import constants as c
from ..errors import InvalidInputError, InvalidSpecError
from ..physics.scattering.targets import get_target
from . import sources
from .parsers.spec import DATA_DIR, RESPONSES, read_spec, validate

#: Gauss-Legendre nodes per 1-PE bin for the gamma photo-electron density of CsI 2021.
GAMMA_NODES = 4

#: Arrays each response model needs in tables.npz, with their expected shapes (None = any size).
REQUIRED_TABLES: dict[str, dict[str, tuple]] = {
    "csi_poisson_2017": {
        "observed": ("npe", "nt"),
        "ac_counts": ("npe", "nt"),
        "time_pdf": (3, "nt"),
        "brn_pe_1pe": (None,),
    },
    "csi_gamma_2021": {
        "observed": ("npe", "nt"),
        "ac_counts": ("npe", "nt"),
        "time_pdf": (2, "nt"),
        "brn": ("npe", "nt"),
        "nin": ("npe", "nt"),
        "efficiency_sets": (3, 4),
        "quenching_sets": (5, 4),
    },
    "lar_2020": {
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
    },
}
REQUIRED_TABLES["lar_2020_release"] = {**REQUIRED_TABLES["lar_2020"], "official_cevns": ("ne", "nf", "nt")}


class Experiment(eqx.Module):
    """One experiment's data and detector model as a pytree.

    Static (compile-time) fields: ``name``, ``kind`` ("coherent", "gaussian" or "oscillation", the
    last in :mod:`nsijax.experiments.oscillation_data`), ``response`` (the
    detector model, see :mod:`nsijax.experiments.response`), ``target``, ``form_factor``,
    ``couplings``, ``nuisance_names``, ``bin_shape``, ``observables`` (Gaussian experiments).

    Leaves (float64 arrays):
        observed: observed counts with shape ``bin_shape`` (Gaussian experiments: measured values).
        exposure: N_targets x r N_POT / (4 pi L^2), formula units x neutrinos per cm^2 per flavour.
        recoil_mev, recoil_weights: recoil-energy quadrature (nT,), MeV.
        enu_mev: (n_isotopes, nT, nE) neutrino-energy nodes on [E_min(T), m_mu/2] per isotope.
        enu_weights: (2, n_isotopes, nT, nE) quadrature weight x normalised spectrum (1/MeV x MeV)
            for nu_e and anti-nu_mu.
        nuisance_sigma: (n_nuisances,) 1-sigma size of each nuisance's effect (model-specific units).
        tables: response-specific arrays (templates, coefficient sets, time PDFs, ...).
    """

    name: str = eqx.field(static=True)
    kind: str = eqx.field(static=True)
    response: str = eqx.field(static=True)
    target: str = eqx.field(static=True)
    form_factor: str = eqx.field(static=True)
    couplings: str = eqx.field(static=True)
    nuisance_names: tuple[str, ...] = eqx.field(static=True)
    bin_shape: tuple[int, ...] = eqx.field(static=True)
    observables: tuple[str, ...] = eqx.field(static=True)
    observed: Float[Array, "..."]
    exposure: Float[Array, ""]
    recoil_mev: Float[Array, " nT"]
    recoil_weights: Float[Array, " nT"]
    enu_mev: Float[Array, "niso nT nE"]
    enu_weights: Float[Array, "2 niso nT nE"]
    nuisance_sigma: Float[Array, " nnuis"]
    tables: dict[str, Array]

    @property
    def n_bins(self) -> int:
        return int(np.prod(self.bin_shape))

    def nuisance_key(self, nuisance: str) -> str:
        """Key of a nuisance of this experiment in :attr:`nsijax.Params.nuisances`."""
        if nuisance not in self.nuisance_names:
            raise InvalidInputError(
                f"{self.name} has no nuisance {nuisance!r}; its nuisances are {list(self.nuisance_names)}"
            )
        return f"{self.name}.{nuisance}"

    @property
    def nuisance_keys(self) -> tuple[str, ...]:
        return tuple(f"{self.name}.{n}" for n in self.nuisance_names)


def available() -> list[str]:
    """Names of the shipped experiments (folders of ``nsijax/data/experiments`` with a spec)."""
    return sorted(p.parent.name for p in DATA_DIR.glob("*/spec.toml"))


def spec(name: str) -> dict[str, Any]:
    """The validated spec (nested dict) of a shipped experiment: paper, exposure, validation numbers."""
    _check_name(name)
    return read_spec(DATA_DIR / name / "spec.toml")


def _check_name(name: str) -> None:
    names = available()
    if not isinstance(name, str) or name not in names:
        raise InvalidInputError(f"unknown experiment {name!r}; available experiments: {', '.join(names)}")


def load(name: str, *, overrides: dict[str, Any] | None = None) -> Experiment:
    """Load a shipped experiment by name (see :func:`available`).

    Args:
        name: e.g. ``"coherent_csi_2021"``.
        overrides: optional spec changes as ``{"dotted.path": value}``, e.g.
            ``{"source.form_factor": "klein_nystrand"}`` or ``{"response": "lar_2020_release"}``;
            the changed spec is validated again.

    Raises:
        InvalidInputError: unknown name (the message lists the available ones).
        InvalidSpecError: malformed spec, tables or overrides.
    """
    _check_name(name)
    if not overrides:
        return _load_cached(name)
    s = copy.deepcopy(spec(name))
    for dotted, value in overrides.items():
        node = s
        parts = str(dotted).split(".")
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                raise InvalidSpecError(f"{name}: override {dotted!r} does not name a spec table")
            node = node[part]
        node[parts[-1]] = value
    validate(s, where=f"{name} (with overrides)")
    if s["kind"] == "gaussian":
        return _gaussian(s)
    if s["kind"] == "oscillation":
        from .oscillation_data import build

        return build(s, DATA_DIR / name)
    with np.load(DATA_DIR / name / "tables.npz", allow_pickle=False) as npz:
        tables = {k: np.asarray(npz[k], dtype=np.float64) for k in npz.files}
    return from_spec(s, tables)


@functools.cache
def _load_cached(name: str) -> Experiment:
    return from_files(DATA_DIR / name / "spec.toml")


def from_files(spec_path: str | pathlib.Path, tables_path: str | pathlib.Path | None = None) -> Experiment:
    """Build an :class:`Experiment` from a spec file and its tables (default: ``tables.npz`` beside it)."""
    spec_path = pathlib.Path(spec_path)
    s = read_spec(spec_path)
    if s["kind"] == "gaussian":
        return _gaussian(s)
    if s["kind"] == "oscillation":
        from .oscillation_data import build

        return build(s, spec_path.parent)
    tables_path = spec_path.parent / "tables.npz" if tables_path is None else pathlib.Path(tables_path)
    if not tables_path.is_file():
        raise InvalidSpecError(f"{s['name']}: tables file not found: {tables_path}")
    try:
        with np.load(tables_path, allow_pickle=False) as npz:
            tables = {k: np.asarray(npz[k], dtype=np.float64) for k in npz.files}
    except Exception as exc:
        raise InvalidSpecError(f"{s['name']}: cannot read {tables_path} ({exc})") from None
    return from_spec(s, tables)


def _check_tables(name: str, response: str, tables: dict[str, np.ndarray]) -> dict[str, int]:
    dims: dict[str, int] = {}
    for key, shape in REQUIRED_TABLES[response].items():
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


def from_spec(s: dict[str, Any], tables: dict[str, np.ndarray]) -> Experiment:
    """Build an :class:`Experiment` from a validated spec dict and its tables (NumPy arrays)."""
    name, response = s["name"], s["response"]
    dims = _check_tables(name, response, tables)
    binning, src = s["binning"], s["source"]
    if response.startswith("csi"):
        if dims["npe"] != len(binning["pe_edges"]) - 1 or dims["nt"] != len(binning["time_edges_us"]) - 1:
            raise InvalidSpecError(f"{name}: observed shape {tables['observed'].shape} does not match the binning")
    else:
        if (dims["ne"], dims["nf"], dims["nt"]) != (
            len(binning["energy_edges_kevee"]) - 1,
            len(binning["f90_edges"]) - 1,
            len(binning["time_edges_us"]) - 1,
        ):
            raise InvalidSpecError(f"{name}: observed shape {tables['observed'].shape} does not match the binning")
    try:
        target = get_target(src["target"])
    except InvalidInputError as exc:
        raise InvalidSpecError(f"{name}: source.target: {exc}") from None

    # exposure: formula units x neutrinos per flavour per cm^2
    n_units = src["mass_kg"] * 1e3 / target.molar_mass_g * c.N_AVOGADRO
    fluence = src["nu_per_proton"] * src["protons_on_target"] / (4.0 * math.pi * (src["distance_m"] * 100.0) ** 2)

    # quadrature: recoil nodes, then per isotope neutrino-energy nodes above threshold
    t_lo, t_hi = (x * 1e-3 for x in binning["recoil_kev"])
    t_max_all = float(np.max(2 * sources.E_MAX**2 / (target.mass_mev + 2 * sources.E_MAX)))
    t_hi = min(t_hi, t_max_all)
    T, wT = sources.recoil_nodes(t_lo, t_hi, binning["recoil_panels"], binning["recoil_order"])
    e_nodes, e_w = [], []
    for m in target.mass_mev:
        E, w = sources.energy_nodes(T, float(m), binning["energy_nodes"])
        e_nodes.append(E)
        e_w.append(np.stack([w * sources.delayed_spectrum(E, k) for k in ("nu_e", "nu_mu_bar")]))
    tab = {k: np.asarray(v) for k, v in tables.items() if k not in ("official_curve",)}
    tab.update(_response_tables(s, tab))
    if response == "lar_2020_release":
        tab["sm_energy"] = np.ones((3, dims["ne"]))  # placeholder, replaced below
    exp = Experiment(
        name=name,
        kind="coherent",
        response=response,
        target=src["target"],
        form_factor=src["form_factor"],
        couplings=src["couplings"],
        nuisance_names=RESPONSES[response],
        bin_shape=tuple(int(n) for n in tables["observed"].shape),
        observables=(),
        observed=jnp.asarray(tables["observed"]),
        exposure=jnp.asarray(n_units * fluence),
        recoil_mev=jnp.asarray(T),
        recoil_weights=jnp.asarray(wT),
        enu_mev=jnp.asarray(np.stack(e_nodes)),
        enu_weights=jnp.asarray(np.stack(e_w, axis=1)),
        nuisance_sigma=jnp.asarray(_nuisance_sigma(s, tables)),
        tables={k: jnp.asarray(v) for k, v in tab.items()},
    )
    if response == "lar_2020_release":
        exp = _attach_sm_energy(exp)
    return exp


def _attach_sm_energy(exp: Experiment) -> Experiment:
    """Store the SM energy spectrum per CEvNS component (reference of the release-shape reweighting)."""
    from ..parameters.params import Params
    from ..rates import recoil_rates
    from .response import lar_energy_spectrum

    spec_e = np.asarray(lar_energy_spectrum(exp, jnp.zeros(len(exp.nuisance_names)), recoil_rates(Params(), exp)))
    tables = dict(exp.tables)
    tables["sm_energy"] = jnp.asarray(spec_e)
    return eqx.tree_at(lambda e: e.tables, exp, tables)


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


def _response_tables(s: dict[str, Any], t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Derived load-time arrays (aggregation matrices, fine-bin centres, coefficient sets)."""
    b, det, resp = s["binning"], s.get("detector", {}), s["response"]
    out: dict[str, np.ndarray] = {}
    if resp == "csi_poisson_2017":
        pe_edges = np.asarray(b["pe_edges"], float)
        n_max = int(np.ceil(pe_edges[-1])) + 1
        n = np.arange(n_max, dtype=float)
        offset = float(det.get("pe_bin_offset", 0.0))
        fine = np.arange(n_max + 1, dtype=float) + offset  # n counted in [n + offset, n + 1 + offset)
        out["pe_counts"] = n
        out["pe_centres"] = fine[:-1] + 0.5
        out["pe_aggregate"] = _aggregation(fine, pe_edges)
        nb = t["brn_pe_1pe"].size
        out["brn_aggregate"] = _aggregation(np.arange(nb + 1, dtype=float), pe_edges)
        out["brn_centres"] = np.arange(nb) + 0.5
        out["ssb"] = _ssb_template(t["ac_counts"])
        eff = np.array([det["efficiency_a"], det["efficiency_k"], det["efficiency_x0"]], float)
        out["efficiency_par"] = eff  # (3, 3): value, +err, -err
        out["detector"] = np.array([det["light_yield_pe_per_kevee"], det["quenching_factor"]])
    elif resp == "csi_gamma_2021":
        pe_edges = np.asarray(b["pe_edges"], float)
        fine = np.arange(pe_edges[0], pe_edges[-1] + 0.5, 1.0)
        out["pe_fine_edges"] = fine
        xg, wg = np.polynomial.legendre.leggauss(GAMMA_NODES)
        out["pe_gl_nodes"] = fine[:-1, None] + 0.5 * (xg + 1.0)[None, :] * np.diff(fine)[:, None]
        out["pe_gl_weights"] = 0.5 * wg[None, :] * np.diff(fine)[:, None]
        out["pe_aggregate"] = _aggregation(fine, pe_edges)
        out["ssb"] = _ssb_template(t["ac_counts"])
        out["detector"] = np.array([det["light_yield_pe_per_kevee"], *det["gamma_smearing"]])
    elif resp.startswith("lar_2020"):
        e_edges = np.asarray(b["energy_edges_kevee"], float)
        width = float(t["efficiency_kevee"][1] - t["efficiency_kevee"][0])
        fine = np.arange(e_edges[0], e_edges[-1] + width / 2, width)
        centres = 0.5 * (fine[1:] + fine[:-1])
        eff = np.interp(centres, t["efficiency_kevee"], t["efficiency"])  # constant beyond the table
        out["e_fine_edges"] = fine
        out["e_fine_efficiency"] = eff
        out["e_aggregate"] = _aggregation(fine, e_edges)
        out["detector"] = np.array([*det["quenching"], *det["quenching_sigma"], det["resolution"]])
    return out


def _gaussian(s: dict[str, Any]) -> Experiment:
    ms = s["measurements"]
    sm = s.get("sm_couplings", {})
    try:
        couplings = [float(sm[k]) for k in ("gL_u", "gL_d", "gR_u", "gR_d")]
    except (KeyError, TypeError, ValueError):
        raise InvalidSpecError(f"{s['name']}: sm_couplings must give numbers gL_u, gL_d, gR_u, gR_d") from None
    known = {"charm_Re", "nutev_gL2", "nutev_gR2"}
    for m in ms:
        if m["observable"] not in known:
            raise InvalidSpecError(
                f"{s['name']}: unknown observable {m['observable']!r}; known: {sorted(known)}"
            )
    z = jnp.zeros((1,))
    return Experiment(
        name=s["name"],
        kind="gaussian",
        response="gaussian",
        target="",
        form_factor="",
        couplings="",
        nuisance_names=(),
        bin_shape=(len(ms),),
        observables=tuple(m["observable"] for m in ms),
        observed=jnp.asarray([m["value"] for m in ms], dtype=float),
        exposure=jnp.zeros(()),
        recoil_mev=z,
        recoil_weights=z,
        enu_mev=jnp.zeros((1, 1, 1)),
        enu_weights=jnp.zeros((2, 1, 1, 1)),
        nuisance_sigma=jnp.zeros((0,)),
        tables={
            "sigma": jnp.asarray([m["sigma"] for m in ms], dtype=float),
            "q2_mev2": jnp.asarray([m["q2_gev2"] * 1e6 for m in ms], dtype=float),
            "sm_couplings": jnp.asarray(couplings),
        },
    )
