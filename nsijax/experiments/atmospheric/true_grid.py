"""The ``[true_grid]`` table of an atmospheric-neutrino spec: the experiment's true (E, cos zenith) propagation grid.

Fields: ``e_min_gev`` < ``e_max_gev`` (log-spaced cells), ``n_energy``, ``n_coszen`` (cells on [-1, 1]),
``detector_depth_km`` and ``production_heights_km`` (a list; the probabilities are averaged over them), read into a
:class:`~nsijax.physics.oscillation.atmospheric.ZenithGrid`; optionally ``average`` = [k_E, k_cz], the blocks of cells
an experiment folds as one (Super-K).
"""

from __future__ import annotations

from typing import Any

from ...errors import InvalidSpecError
from ...physics.oscillation.atmospheric import ZenithGrid
from ..parsers.spec import field, integer, number


def validate_true_grid(spec: dict[str, Any], where: str) -> None:
    """Check the ``[true_grid]`` fields every atmospheric experiment reads (InvalidSpecError naming the field)."""
    e_min = number(spec, "true_grid.e_min_gev", where, positive=True)
    if number(spec, "true_grid.e_max_gev", where, positive=True) <= e_min:
        raise InvalidSpecError(f"{where}: true_grid.e_max_gev must exceed e_min_gev")
    integer(spec, "true_grid.n_energy", where, lo=1, hi=4000)
    integer(spec, "true_grid.n_coszen", where, lo=1, hi=4000)
    number(spec, "true_grid.detector_depth_km", where, nonneg=True)
    heights = field(spec, "true_grid.production_heights_km", where)
    if not isinstance(heights, list) or not heights or not all(isinstance(h, (int, float)) and h >= 0 for h in heights):
        raise InvalidSpecError(f"{where}: true_grid.production_heights_km must be a non-empty list of numbers >= 0")


def true_grid(spec: dict[str, Any]) -> ZenithGrid:
    """The :class:`ZenithGrid` of a validated spec."""
    g = spec["true_grid"]
    return ZenithGrid.regular(
        float(g["e_min_gev"]), float(g["e_max_gev"]), int(g["n_energy"]), int(g["n_coszen"]),
        detector_depth_km=float(g["detector_depth_km"]), production_heights_km=tuple(g["production_heights_km"]),
    )


def resized(spec: dict[str, Any], n_energy: int, n_coszen: int) -> dict[str, Any]:
    """Spec overrides (:func:`nsijax.experiments.load`) giving ``spec`` a propagation grid of ``n_energy`` x
    ``n_coszen`` cells; a block average is reset to cell by cell, so that any size divides."""
    out: dict[str, Any] = {"true_grid.n_energy": int(n_energy), "true_grid.n_coszen": int(n_coszen)}
    if "average" in spec["true_grid"]:
        out["true_grid.average"] = [1, 1]
    return out
