"""Numeric data tables (plain text): one reader for every experiment's data files.

Rows of numbers separated by commas and/or whitespace (``.gz`` files are read decompressed); ``#`` comment lines and blank lines skipped;
columns beyond the ones asked for are ignored (as GLoBES ``glb_load_n_columns``). Errors are
:class:`~nsijax.errors.InvalidSpecError` naming the file and line, e.g.
``.../Reactors.csv, line 4: expected 2 numbers; got '751.10, four'``.
"""

from __future__ import annotations

import gzip
import math
import pathlib
import re

import numpy as np

from ...errors import InvalidSpecError

_SPLIT = re.compile(r"[,\s]+")


def read_rows(
    path: str | pathlib.Path,
    ncols: int,
    *,
    header: bool | str = False,
    where: str | None = None,
    min_rows: int = 1,
    increasing: bool = False,
) -> np.ndarray:
    """The first ``ncols`` numbers of each data row of ``path``, shape (rows, ncols), float64.

    Args:
        path: the text file.
        ncols: numbers needed per row (a row with fewer, or a non-finite one, is an error).
        header: True skips the first non-comment line; a string requires that line to equal it.
        where: what refers to the file (e.g. ``"Beam.inc, line 12"``), prefixed to "data file not found".
        min_rows: fewest data rows accepted.
        increasing: require the first column to increase strictly.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise InvalidSpecError(f"{where + ': ' if where else ''}data file not found: {path}")
    rows = []
    want_header = header is not False
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            if want_header:
                if isinstance(header, str) and s != header:
                    raise InvalidSpecError(f"{path}, line {lineno}: expected the header {header!r}; got {s!r}")
                want_header = False
                continue
            parts = [p for p in _SPLIT.split(s) if p]
            try:
                vals = [float(p) for p in parts[:ncols]]
            except ValueError:
                raise InvalidSpecError(f"{path}, line {lineno}: expected {ncols} numbers; got {s[:80]!r}") from None
            if len(vals) != ncols or not all(math.isfinite(v) for v in vals):
                raise InvalidSpecError(f"{path}, line {lineno}: expected {ncols} finite numbers; got {s[:80]!r}")
            rows.append(vals)
    if len(rows) < max(min_rows, 1):
        raise InvalidSpecError(f"{path}: needs at least {min_rows} data rows" if min_rows > 1 else f"{path}: no data rows")
    arr = np.asarray(rows, dtype=float)
    if increasing and np.any(np.diff(arr[:, 0]) <= 0):
        raise InvalidSpecError(f"{path}: the first column (energy or log10 energy) must increase")
    return arr


def read_spectrum(path: str | pathlib.Path) -> tuple[np.ndarray, np.ndarray]:
    """A two-column neutrino spectrum table: (E, dN/dE normalised to unit area by the trapezoid rule). The energies
    must increase and the values be >= 0 with a positive area."""
    tab = read_rows(path, 2, increasing=True)
    if np.any(tab[:, 1] < 0):
        raise InvalidSpecError(f"{path}: spectrum values must be >= 0")
    area = np.trapezoid(tab[:, 1], tab[:, 0])
    if area <= 0:
        raise InvalidSpecError(f"{path}: spectrum integrates to {area}")
    return tab[:, 0], tab[:, 1] / area
