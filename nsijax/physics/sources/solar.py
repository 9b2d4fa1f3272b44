"""Solar neutrinos at the Earth: the model fluxes with their covariance, the energy spectra of each component, and
where the Sun stands during a year at a site (NumPy, build time; energies in MeV).

* :func:`model_fluxes`: total fluxes at 1 AU [cm^-2 s^-1] of pp, pep, hep, 7Be, 8B, 13N, 15O, 17F with their
  fractional uncertainties and correlation matrix, standard solar model B23 / SF-III (Herrera & Serenelli 2023,
  Zenodo doi:10.5281/zenodo.10822316), GS98 or AGSS09 composition (``nsijax/data/solar/fluxes_SF3_*.dat``).
* :func:`spectrum`: normalised spectra dN/dE [1/MeV] of the continuous components (``nsijax/data/solar/spectra``,
  README there): pp and hep (Bahcall, PRC 56 (1997) 3391), 8B (Winter et al., PRC 73 (2006) 025503), 13N, 15O, 17F
  (Bahcall & Ulrich, RMP 60 (1988) 297). :data:`LINES`: the 7Be and pep lines (energies and branching ratios,
  Bahcall, PRD 49 (1994) 3923; thermal widths of ~1 keV neglected).
* :func:`annual_exposure`: the fraction of a year the Sun spends at each cos(zenith) seen from a latitude (night
  histogram on [-1, 0] and the day fraction), for the day/night average of the survival probability.
"""

from __future__ import annotations

import functools
import math
import pathlib

import numpy as np

from ...errors import InvalidInputError

_DIR = pathlib.Path(__file__).resolve().parents[2] / "data" / "solar"

#: Components of the solar-model tables, in their column order.
COMPONENTS = ("pp", "pep", "hep", "7Be", "8B", "13N", "15O", "17F")
#: Solar models (composition) with a flux table.
MODELS = ("GS98", "AGSS09")
#: Mono-energetic components: (energy [MeV], branching ratio) of each line. 7Be: ground-state line 861.3 keV
#: (89.56 %) and excited-state line 384.3 keV (10.44 %); pep: 1.442 MeV.
LINES = {"7Be": ((0.8613, 0.8956), (0.3843, 0.1044)), "pep": ((1.442, 1.0),)}
#: Continuous components and their spectrum files in nsijax/data/solar/spectra.
SPECTRUM_FILES = {
    "pp": "pp_shape.csv",
    "hep": "hep_shape.csv",
    "8B": "8B_shape_Winter_et_al.csv",
    "13N": "n13_shape.csv",
    "15O": "o15_shape.csv",
    "17F": "f17_shape.csv",
}
#: Obliquity of the ecliptic [deg] (J2000).
OBLIQUITY_DEG = 23.439


def check_component(component: str) -> None:
    if component not in COMPONENTS:
        raise InvalidInputError(f"unknown solar flux component {component!r}; known: {list(COMPONENTS)}")


@functools.cache
def model_fluxes(model: str = "GS98") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(flux [cm^-2 s^-1], fractional 1-sigma uncertainty, correlation matrix), in the order of :data:`COMPONENTS`."""
    if model not in MODELS:
        raise InvalidInputError(f"unknown solar model {model!r}; known: {list(MODELS)}")
    path = _DIR / f"fluxes_SF3_{model}.dat"
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        try:
            vals = [float(p) for p in parts[:8]]
        except ValueError:
            continue
        if len(vals) == 8:
            rows.append(vals)
    if len(rows) != 10:
        raise InvalidInputError(f"{path}: expected a flux row, an error row and an 8 x 8 correlation matrix")
    flux, frac, corr = np.array(rows[0]), np.array(rows[1]), np.array(rows[2:])
    if not np.allclose(corr, corr.T, atol=1e-3) or not np.allclose(np.diag(corr), 1.0):
        raise InvalidInputError(f"{path}: the correlation matrix is not symmetric with a unit diagonal")
    return flux, frac, 0.5 * (corr + corr.T)


@functools.cache
def spectrum(component: str) -> tuple[np.ndarray, np.ndarray]:
    """(E [MeV], dN/dE [1/MeV]) of a continuous component, normalised to unit area (trapezoid rule)."""
    check_component(component)
    if component not in SPECTRUM_FILES:
        raise InvalidInputError(f"{component} is a line (see LINES), not a continuous spectrum")
    path = _DIR / "spectra" / SPECTRUM_FILES[component]
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        s = line.strip()
        if s and not s.startswith("#"):
            rows.append([float(x) for x in s.replace(",", " ").split()[:2]])
    tab = np.array(rows)
    e, f = tab[:, 0], np.maximum(tab[:, 1], 0.0)
    if np.any(np.diff(e) <= 0):
        raise InvalidInputError(f"{path}: energies must increase")
    if e[0] > 0:  # every spectrum starts at zero
        e, f = np.concatenate([[0.0], e]), np.concatenate([[0.0], f])
    return e, f / np.trapezoid(f, e)


def endpoint(component: str) -> float:
    """Highest energy [MeV] of a component (the last non-zero entry of its spectrum; a line's highest energy)."""
    if component in LINES:
        return max(e for e, _ in LINES[component])
    e, f = spectrum(component)
    return float(e[min(np.flatnonzero(f > 0)[-1] + 1, e.size - 1)])


def annual_exposure(latitude_deg: float, nbins: int = 100, steps: int = 720) -> tuple[float, np.ndarray]:
    """(day fraction, night histogram): the fraction of a year the Sun is above the horizon, and the fractions it
    spends in ``nbins`` equal bins of cos(zenith) on [-1, 0] below it (the two add up to 1).

    The Sun's declination follows sin(delta) = sin(obliquity) sin(lambda) with the ecliptic longitude lambda
    uniform in time, the hour angle uniform (the orbit's eccentricity, +-3 % in distance, is neglected); cos z =
    sin(phi) sin(delta) + cos(phi) cos(delta) cos(h) on a ``steps`` x ``2 steps`` grid of (lambda, h).
    """
    if not (isinstance(latitude_deg, (int, float)) and math.isfinite(latitude_deg) and abs(latitude_deg) <= 90):
        raise InvalidInputError(f"latitude must be a number of degrees in [-90, 90]; got {latitude_deg!r}")
    lam = 2 * np.pi * (np.arange(steps) + 0.5) / steps
    hour = 2 * np.pi * (np.arange(2 * steps) + 0.5) / (2 * steps)
    dec = np.arcsin(np.sin(np.deg2rad(OBLIQUITY_DEG)) * np.sin(lam))
    phi = np.deg2rad(latitude_deg)
    cosz = np.sin(phi) * np.sin(dec)[:, None] + np.cos(phi) * np.cos(dec)[:, None] * np.cos(hour)[None, :]
    cosz = cosz.ravel()
    night = np.histogram(cosz[cosz < 0], bins=nbins, range=(-1.0, 0.0))[0] / cosz.size
    return float(np.mean(cosz >= 0)), night
