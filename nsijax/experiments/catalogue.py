"""Loading experiments: the shipped ones by name (one at a time, or a named set), any other from its spec file.

A spec's ``response`` names the experiment class (:data:`nsijax.experiments.base.RESPONSES`); the class
checks its part of the spec (``validate_spec``) and builds itself from the files beside the spec
(``from_spec``). The families register their classes when :mod:`nsijax.experiments` is imported.
"""

from __future__ import annotations

import copy
import functools
import pathlib
from typing import Any

from ..errors import InvalidInputError, InvalidSpecError
from .base import RESPONSES, AbstractExperiment
from .parsers import spec as _spec
from .parsers.spec import DATA_DIR, read_spec


def available() -> list[str]:
    """Names of the shipped experiments (folders of ``nsijax/data/experiments`` with a spec)."""
    return sorted(p.parent.name for p in DATA_DIR.glob("*/spec.toml"))


def _class_of(spec: dict[str, Any], where: str) -> tuple[type[AbstractExperiment], str]:
    """The class implementing a spec's response and the ``where`` of later messages (file and name),
    the common part of the spec checked on the way."""
    where, response = _spec.validate(spec, where)
    if response not in RESPONSES:
        raise InvalidSpecError(f"{where}: unknown response {response!r}; known: {sorted(RESPONSES)}")
    cls = RESPONSES[response]
    if spec["kind"] != cls.kind:
        raise InvalidSpecError(f"{where}: response {response!r} is of kind {cls.kind!r}; the spec says {spec['kind']!r}")
    return cls, where


def experiment_class(spec: dict[str, Any], where: str = "spec") -> type[AbstractExperiment]:
    """The class implementing a spec's response (common part of the spec checked on the way)."""
    return _class_of(spec, where)[0]


def validate(spec: Any, where: str = "spec") -> type[AbstractExperiment]:
    """Check a parsed spec, the common part and then its response's own (raises InvalidSpecError);
    returns the class that implements it."""
    cls, where = _class_of(spec, where)
    cls.validate_spec(spec, where)
    return cls


def spec(name: str) -> dict[str, Any]:
    """The validated spec (nested dict) of a shipped experiment: paper, exposure, validation numbers."""
    _check_name(name)
    s = read_spec(DATA_DIR / name / "spec.toml")
    validate(s, str(DATA_DIR / name / "spec.toml"))
    return s


def _check_name(name: str) -> None:
    names = available()
    if not isinstance(name, str) or name not in names:
        raise InvalidInputError(f"unknown experiment {name!r}; available experiments: {', '.join(names)}")


def from_spec(s: dict[str, Any], folder: str | pathlib.Path, where: str = "spec") -> AbstractExperiment:
    """Build an experiment from a parsed spec and the folder of its data files (validated here)."""
    return validate(s, where).from_spec(s, pathlib.Path(folder))


def from_files(spec_path: str | pathlib.Path) -> AbstractExperiment:
    """Build an experiment from a spec file; its data files are read from the spec's folder."""
    spec_path = pathlib.Path(spec_path)
    return from_spec(read_spec(spec_path), spec_path.parent, str(spec_path))


def load(name: str, *, overrides: dict[str, Any] | None = None) -> AbstractExperiment:
    """Load a shipped experiment by name (see :func:`available`).

    Args:
        name: e.g. ``"coherent_csi_2021"``.
        overrides: optional spec changes as ``{"dotted.path": value}``, e.g.
            ``{"source.form_factor": "klein_nystrand"}`` or ``{"response": "lar_2020_release"}``;
            the changed spec is validated again.

    Raises:
        InvalidInputError: unknown name (the message lists the available ones).
        InvalidSpecError: malformed spec, data files or overrides.
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
    return from_spec(s, DATA_DIR / name, f"{name} (with overrides)")


@functools.cache
def _load_cached(name: str) -> AbstractExperiment:
    return from_files(DATA_DIR / name / "spec.toml")


#: Named sets of shipped experiments (:func:`load_set`): real data only (DUNE's Asimov data are not in any set),
#: without overlaps (the Borexino 2018 P_ee points are the Phase II rates in another form; SNO's three-phase summary
#: contains the D2O phase of sno_d2o_2002; COHERENT CsI 2017 is part of CsI 2021). ``solar`` includes ``solar_model_b23``, the prior of the solar flux normalisations
#: ``Params.solar_flux`` that its experiments share.
SETS: dict[str, tuple[str, ...]] = {
    "solar": ("borexino_phase1", "borexino_phase2", "gallium", "homestake", "sno_3phase", "solar_model_b23"),
    "reactor": ("kamland_2011", "dayabay_3158d"),
    "atmospheric": ("deepcore_2019_sample_b", "super_k_atm_2023"),
    "cevns": ("coherent_csi_2021", "coherent_lar_2020", "dresden_ii_2022", "xenonnt_b8"),
    "scattering": ("coherent_csi_2021", "coherent_lar_2020", "dresden_ii_2022", "xenonnt_b8", "charm", "nutev"),
}
SETS["oscillation"] = SETS["solar"] + SETS["reactor"] + SETS["atmospheric"]
SETS["global"] = SETS["oscillation"] + SETS["scattering"]

#: Experiments whose own 8B-flux pull is switched off (sigma -> 1e-9) when they are loaded in a set with
#: ``solar_model_b23``: there the 8B normalisation is the shared ``Params.solar_flux["8B"]`` with the solar-model
#: prior, and a second prior on the same flux would count it twice.
_OWN_B8_PULL = ("sno_d2o_2002", "xenonnt_b8")


def load_set(name: str | tuple[str, ...]) -> tuple:
    """The experiments of a named set (:data:`SETS`: ``solar``, ``reactor``, ``atmospheric``, ``oscillation``,
    ``cevns``, ``scattering``, ``global``) or of a tuple of experiment names, ready for :func:`nsijax.chi2`. With
    ``solar_model_b23`` among them, the 8B-flux pulls of SNO D2O and XENONnT are switched off: the shared
    ``Params.solar_flux["8B"]`` carries the flux, with the solar model's prior.

    Raises:
        InvalidInputError: unknown set or experiment name (the message lists the choices).
    """
    if isinstance(name, tuple):
        for n in name:
            _check_name(n)
        names = name
    elif isinstance(name, str) and name in SETS:
        names = SETS[name]
    else:
        raise InvalidInputError(f"unknown experiment set {name!r}; sets: {', '.join(sorted(SETS))}")
    shared = "solar_model_b23" in names
    out = []
    for n in names:
        if shared and n in _OWN_B8_PULL:
            nuis = copy.deepcopy(spec(n)["nuisances"])
            for item in nuis:
                if item["name"] == "b8_flux":
                    item["sigma"] = 1e-9
            out.append(_load_shared_b8(n, tuple((x["name"], x["sigma"]) for x in nuis)))
        else:
            out.append(load(n))
    return tuple(out)


@functools.cache
def _load_shared_b8(name: str, nuisances: tuple) -> AbstractExperiment:
    return load(name, overrides={"nuisances": [{"name": k, "sigma": v} for k, v in nuisances]})
