"""Experiment specifications: reading and validating ``spec.toml`` (schema version 1).

A spec is a human-edited TOML file next to a ``tables.npz``. This module checks its structure and
types at load time (plain Python, never traced) and raises :class:`~nsijax.errors.InvalidSpecError`
naming the offending field, e.g. ``coherent_csi_2017: source.distance_m must be a number > 0``.

Schema version 1, common part (``kind = "coherent"``)::

    schema_version = 1, name, kind, response, description
    [paper]    citation, arxiv, data_release, values_from_memory (list of field paths still to verify),
               values_corroborated (field paths checked against an independent source, named in comments)
    [source]   target, mass_kg, distance_m, protons_on_target, nu_per_proton, beam_exposure_gwhr,
               form_factor ("helm" | "klein_nystrand"), couplings ("tree" | "pdg")
    [detector] response-specific numbers
    [binning]  analysis edges, recoil_kev = [lo, hi], recoil_panels, recoil_order, energy_nodes
    [[nuisances]] name, sigma (optional), description
    [validation]  published numbers used by the tests

``kind = "gaussian"`` specs (CHARM, NuTeV) have ``[[measurements]]`` instead of the source/binning.
``kind = "oscillation"`` specs (Borexino, KamLAND) are validated by
:func:`nsijax.experiments.oscillation_data.validate_spec`.
"""

from __future__ import annotations

import math
import pathlib
from typing import Any

from ...errors import InvalidSpecError

try:  # Python >= 3.11
    import tomllib as _toml
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    try:
        import tomli as _toml  # type: ignore[no-redef]
    except ModuleNotFoundError:
        _toml = None  # type: ignore[assignment]

#: Folder holding one sub-folder per shipped experiment.
DATA_DIR = pathlib.Path(__file__).resolve().parents[2] / "data" / "experiments"

SCHEMA_VERSION = 1

#: Response models and the nuisances (by name) each of them implements, in order.
RESPONSES: dict[str, tuple[str, ...]] = {
    "csi_poisson_2017": ("flux", "quenching", "efficiency_a", "efficiency_k", "efficiency_x0", "ssb", "brn"),
    "csi_gamma_2021": ("flux", "quenching_0", "quenching_1", "efficiency", "ssb", "brn", "nin"),
    "lar_2020": (
        "flux", "mass", "quenching_a", "quenching_b", "cevns_f90", "cevns_timing", "ssb", "brn",
        "brn_delayed", "brn_energy", "brn_timing_mean", "brn_timing_width",
    ),
    # same, with the CEvNS (E, F90, t) shape of the release's cevnspdf.txt reweighted per energy bin
    # by the predicted / SM spectrum (validation of the fit machinery against the official fit)
    "lar_2020_release": (
        "flux", "mass", "quenching_a", "quenching_b", "cevns_f90", "cevns_timing", "ssb", "brn",
        "brn_delayed", "brn_energy", "brn_timing_mean", "brn_timing_width",
    ),
    "gaussian": (),
}


def read_spec(path: str | pathlib.Path) -> dict[str, Any]:
    """Parse and validate a spec file; returns the nested dict."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise InvalidSpecError(f"spec file not found: {path}")
    if _toml is None:  # pragma: no cover
        raise InvalidSpecError("reading TOML specs on Python 3.10 needs the 'tomli' package")
    try:
        with path.open("rb") as fh:
            spec = _toml.load(fh)
    except Exception as exc:  # tomllib.TOMLDecodeError and friends
        raise InvalidSpecError(f"{path}: not valid TOML ({exc})") from None
    validate(spec, where=str(path))
    return spec


def _get(spec: dict, dotted: str, where: str):
    node: Any = spec
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise InvalidSpecError(f"{where}: missing field {dotted!r}")
        node = node[part]
    return node


def _number(spec, dotted, where, *, positive=False, nonneg=False) -> float:
    v = _get(spec, dotted, where)
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    if ok and positive:
        ok = v > 0
    if ok and nonneg:
        ok = v >= 0
    if not ok:
        cond = " > 0" if positive else (" >= 0" if nonneg else "")
        raise InvalidSpecError(f"{where}: {dotted} must be a finite number{cond}; got {v!r}")
    return float(v)


def _string(spec, dotted, where, choices=None) -> str:
    v = _get(spec, dotted, where)
    if not isinstance(v, str) or (choices is not None and v not in choices):
        extra = f" (one of {sorted(choices)})" if choices is not None else ""
        raise InvalidSpecError(f"{where}: {dotted} must be a string{extra}; got {v!r}")
    return v


def _nuisance_names(nuis, where, *, expected=None, response=None, sigma_required=True) -> list[str]:
    """Validate a spec's ``[[nuisances]]`` tables (a list of ``{name, sigma > 0}``; ``sigma`` may be
    absent if not ``sigma_required``) and, with ``expected``, that the names are exactly those, in order."""
    if not isinstance(nuis, list):
        raise InvalidSpecError(f"{where}: nuisances must be a list of tables")
    names = []
    for i, n in enumerate(nuis):
        w = f"{where} nuisances[{i}]"
        names.append(_string(n, "name", w))
        if sigma_required or "sigma" in n:
            _number(n, "sigma", w, positive=True)
    if expected is not None and tuple(names) != tuple(expected):
        raise InvalidSpecError(
            f"{where}: response {response!r} needs the nuisances {list(expected)} in this order; got {names}"
        )
    return names


def _edges(spec, dotted, where) -> list[float]:
    v = _get(spec, dotted, where)
    if (
        not isinstance(v, list)
        or len(v) < 2
        or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in v)
        or any(b <= a for a, b in zip(v, v[1:]))
    ):
        raise InvalidSpecError(f"{where}: {dotted} must be a list of >= 2 strictly increasing numbers; got {v!r}")
    return [float(x) for x in v]


def _int(spec, dotted, where, lo=1, hi=10_000) -> int:
    v = _get(spec, dotted, where)
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise InvalidSpecError(f"{where}: {dotted} must be an integer in [{lo}, {hi}]; got {v!r}")
    return v


def validate(spec: Any, where: str = "spec") -> None:
    """Check a parsed spec against schema version 1 (raises InvalidSpecError, returns None)."""
    if not isinstance(spec, dict):
        raise InvalidSpecError(f"{where}: a spec must be a table (dict); got {type(spec).__name__}")
    version = _get(spec, "schema_version", where)
    if version != SCHEMA_VERSION:
        raise InvalidSpecError(f"{where}: schema_version must be {SCHEMA_VERSION}; got {version!r}")
    name = _string(spec, "name", where)
    where = f"{where} ({name})"
    kind = _string(spec, "kind", where, {"coherent", "gaussian", "oscillation"})
    _string(spec, "paper.citation", where)
    if kind == "oscillation":  # solar / reactor data: nsijax/experiments/oscillation_data.py
        from ..oscillation_data import validate_spec

        validate_spec(spec, where)
        return
    if kind == "gaussian":
        ms = _get(spec, "measurements", where)
        if not isinstance(ms, list) or not ms:
            raise InvalidSpecError(f"{where}: measurements must be a non-empty list of tables")
        for i, m in enumerate(ms):
            _string(m, "name", f"{where} measurements[{i}]")
            _string(m, "observable", f"{where} measurements[{i}]")
            _number(m, "value", f"{where} measurements[{i}]")
            _number(m, "sigma", f"{where} measurements[{i}]", positive=True)
            _number(m, "q2_gev2", f"{where} measurements[{i}]", nonneg=True)
        return
    response = _string(spec, "response", where, set(RESPONSES) - {"gaussian"})
    _string(spec, "source.target", where)
    for key in ("mass_kg", "distance_m", "protons_on_target", "nu_per_proton"):
        _number(spec, f"source.{key}", where, positive=True)
    _string(spec, "source.form_factor", where, {"helm", "klein_nystrand"})
    _string(spec, "source.couplings", where, {"tree", "pdg"})
    lo, hi = _edges(spec, "binning.recoil_kev", where)[:2]
    if lo <= 0:
        raise InvalidSpecError(f"{where}: binning.recoil_kev lower end must be > 0 keV")
    _int(spec, "binning.recoil_panels", where, 1, 1000)
    _int(spec, "binning.recoil_order", where, 1, 64)
    _int(spec, "binning.energy_nodes", where, 2, 256)
    _edges(spec, "binning.time_edges_us", where)
    if response.startswith("csi"):
        _edges(spec, "binning.pe_edges", where)
        _number(spec, "detector.light_yield_pe_per_kevee", where, positive=True)
    if response.startswith("lar_2020"):
        _edges(spec, "binning.energy_edges_kevee", where)
        _edges(spec, "binning.f90_edges", where)
        _number(spec, "detector.resolution", where, positive=True)
    _nuisance_names(_get(spec, "nuisances", where), where, expected=RESPONSES[response], response=response,
                    sigma_required=False)
