"""Experiment specifications: reading ``spec.toml`` (schema version 1) and checking the common part.

A spec is a human-edited TOML file beside the experiment's data files. Checks run at load time (plain
Python, never traced) and raise :class:`~nsijax.errors.InvalidSpecError` naming the offending field, e.g.
``coherent_csi_2017: source.distance_m must be a finite number > 0``.

Every spec has ``schema_version = 1``, ``name``, ``kind`` (the family: "coherent", "gaussian", "oscillation", ...),
``response`` (the experiment class, :data:`nsijax.experiments.base.RESPONSES`; Gaussian measurements
may omit it), ``description``, ``[paper]`` (citation, arxiv, data_release, ``values_from_memory``:
field paths still to verify, ``values_corroborated``), ``[[nuisances]]`` (name, sigma, description)
and ``[validation]`` (published numbers the tests use). The rest is the response's own and is checked
by its class's ``validate_spec``, with the field readers of this module (:func:`field`, :func:`number`,
:func:`string`, :func:`integer`, :func:`numbers`, :func:`edges`, :func:`nuisance_names`).
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

def read_spec(path: str | pathlib.Path) -> dict[str, Any]:
    """Parse a spec file (TOML); returns the nested dict. Validation: :func:`validate` (common part) and
    the experiment class's ``validate_spec`` (:func:`nsijax.experiments.catalogue.validate`)."""
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
    return spec


def field(spec: dict, dotted: str, where: str):
    node: Any = spec
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise InvalidSpecError(f"{where}: missing field {dotted!r}")
        node = node[part]
    return node


def _finite(v) -> bool:
    """A TOML int or float (not a bool) that is finite."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def number(spec, dotted, where, *, positive=False, nonneg=False) -> float:
    v = field(spec, dotted, where)
    ok = _finite(v)
    if ok and positive:
        ok = v > 0
    if ok and nonneg:
        ok = v >= 0
    if not ok:
        cond = " > 0" if positive else (" >= 0" if nonneg else "")
        raise InvalidSpecError(f"{where}: {dotted} must be a finite number{cond}; got {v!r}")
    return float(v)


def string(spec, dotted, where, choices=None) -> str:
    v = field(spec, dotted, where)
    if not isinstance(v, str) or (choices is not None and v not in choices):
        extra = f" (one of {sorted(choices)})" if choices is not None else ""
        raise InvalidSpecError(f"{where}: {dotted} must be a string{extra}; got {v!r}")
    return v


def nuisance_names(nuis, where, *, expected=None, response=None, sigma_required=True) -> list[str]:
    """Validate a spec's ``[[nuisances]]`` tables (a list of ``{name, sigma > 0}``; ``sigma`` may be
    absent if not ``sigma_required``) and, with ``expected``, that the names are exactly those, in order."""
    if not isinstance(nuis, list):
        raise InvalidSpecError(f"{where}: nuisances must be a list of tables")
    names = []
    for i, n in enumerate(nuis):
        w = f"{where} nuisances[{i}]"
        names.append(string(n, "name", w))
        if sigma_required or "sigma" in n:
            number(n, "sigma", w, positive=True)
    if expected is not None and tuple(names) != tuple(expected):
        raise InvalidSpecError(
            f"{where}: response {response!r} needs the nuisances {list(expected)} in this order; got {names}"
        )
    return names


def edges(spec, dotted, where) -> list[float]:
    v = field(spec, dotted, where)
    if (
        not isinstance(v, list)
        or len(v) < 2
        or not all(_finite(x) for x in v)
        or any(b <= a for a, b in zip(v, v[1:]))
    ):
        raise InvalidSpecError(f"{where}: {dotted} must be a list of >= 2 strictly increasing numbers; got {v!r}")
    return [float(x) for x in v]


def numbers(spec, dotted, where, length: int) -> list[float]:
    """A list of exactly ``length`` finite numbers (e.g. a value with its +/- errors)."""
    v = field(spec, dotted, where)
    if (
        not isinstance(v, list)
        or len(v) != length
        or not all(_finite(x) for x in v)
    ):
        raise InvalidSpecError(f"{where}: {dotted} must be a list of {length} finite numbers; got {v!r}")
    return [float(x) for x in v]


def integer(spec, dotted, where, lo=1, hi=10_000) -> int:
    v = field(spec, dotted, where)
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise InvalidSpecError(f"{where}: {dotted} must be an integer in [{lo}, {hi}]; got {v!r}")
    return v


def validate(spec: Any, where: str = "spec") -> tuple[str, str]:
    """Check the part of a spec every experiment shares (schema version, name, kind, paper.citation) and
    return ``(where, response)``: ``where`` names the file and experiment for later messages, ``response``
    is the spec's response model (a spec without one, e.g. a Gaussian measurement, uses its ``kind``).
    The response-specific part is checked by the experiment class (``validate_spec``)."""
    if not isinstance(spec, dict):
        raise InvalidSpecError(f"{where}: a spec must be a table (dict); got {type(spec).__name__}")
    version = field(spec, "schema_version", where)
    if version != SCHEMA_VERSION:
        raise InvalidSpecError(f"{where}: schema_version must be {SCHEMA_VERSION}; got {version!r}")
    name = string(spec, "name", where)
    where = f"{where} ({name})"
    kind = string(spec, "kind", where)
    string(spec, "paper.citation", where)
    response = string(spec, "response", where) if "response" in spec else kind
    return where, response
