"""Settings dataclasses of the studies: updating one from a mapping (TOML table or flags)."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from ..errors import InvalidInputError

T = TypeVar("T")


def from_mapping(cls: type[T], d: dict[str, Any], base: T | None = None) -> T:
    """A ``cls`` instance: ``base`` (default ``cls()``) with the fields in ``d`` replaced (lists become
    tuples); unknown keys raise :class:`~nsijax.errors.InvalidInputError` listing the known ones."""
    base = base if base is not None else cls()
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(d) - names
    if unknown:
        raise InvalidInputError(f"unknown settings {sorted(unknown)}; known: {sorted(names)}")
    vals = dataclasses.asdict(base)
    for k, v in d.items():
        vals[k] = tuple(v) if isinstance(v, list) else v
    return cls(**vals)
