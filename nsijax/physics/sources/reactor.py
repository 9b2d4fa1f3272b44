"""Reactor anti-nu_e: the inverse-beta-decay cross section, the fission spectra and the flux at a detector
(NumPy, build time; energies in MeV).

Used by the reactor experiments to fold the emitted spectrum with the detection cross section: KamLAND
(:mod:`nsijax.experiments.oscillation.reactor`, the Huber/Mueller fit forms) and reactor CEvNS
(:mod:`nsijax.experiments.scattering.reactor_cevns`, the tabulated spectra of ``nsijax/data/reactor_flux``
with their low-energy extension and the U238(n, gamma) capture spectrum).
"""

from __future__ import annotations

import functools
import pathlib

import numpy as np

from ...errors import InvalidInputError

#: Joule per MeV (CODATA 2018 elementary charge x 1e6).
MEV_J = 1.602176634e-13

#: Inverse-beta-decay constants [MeV]: neutron-proton mass difference, electron mass.
DELTA_NP_MEV = 1.29333
M_E_MEV = 0.51099895
#: IBD threshold on the anti-nu_e energy [MeV] (Delta + m_e; the recoil correction is neglected).
IBD_THRESHOLD_MEV = DELTA_NP_MEV + M_E_MEV


def ibd_cross_section(enu_mev):
    """Inverse-beta-decay cross section [1e-43 cm^2], Strumia & Vissani, PLB 564 (2003) 42, eq. (25)
    (their low-energy approximation, good to a few per mille below 300 MeV): p_e E_e E^(a(E)),
    a = -0.07056 + 0.02018 ln E - 0.001953 ln^3 E, E_e = E - Delta (E in MeV). Zero below threshold."""
    e = np.asarray(enu_mev, dtype=float)
    ee = e - DELTA_NP_MEV
    pe = np.sqrt(np.maximum(ee**2 - M_E_MEV**2, 0.0))
    le = np.log(e)
    return np.where(ee > M_E_MEV, pe * ee * e ** (-0.07056 + 0.02018 * le - 0.001953 * le**3), 0.0)


def reactor_spectrum(enu_mev, fractions: dict, coefficients: dict):
    """sum_i f_i exp(sum_k a_ik E^k) [nu per MeV per fission] (Huber 2011 / Mueller 2011 fit forms), E in
    MeV; ``fractions`` and ``coefficients`` keyed by isotope (e.g. U235, U238, Pu239, Pu241)."""
    e = np.asarray(enu_mev, dtype=float)
    return sum(f * np.exp(np.polyval(np.asarray(coefficients[k], float)[::-1], e)) for k, f in fractions.items())


# --- Fission and capture spectra, the flux at a detector ---------------------------------------------

#: Fissioning isotopes of a power reactor, in the order used by the spectrum functions.
FISSION_ISOTOPES = ("U235", "U238", "Pu239", "Pu241")
#: Energy released per fission [MeV]: X. B. Ma et al., Phys. Rev. C 88 (2013) 014605, Table VII
#: (202.36 +- 0.26, 205.99 +- 0.52, 211.12 +- 0.34, 214.26 +- 0.33).
ENERGY_PER_FISSION_MEV = {"U235": 202.36, "U238": 205.99, "Pu239": 211.12, "Pu241": 214.26}
#: Spectrum models: "huber_mueller" (Huber 2011 conversion spectra of U235, Pu239, Pu241 and the Mueller 2011
#: U238 summation spectrum on 2-8 MeV, extended below 2 MeV and above 8 MeV by the BESTIOLE summation
#: spectra scaled to match at 2 and 8 MeV) or "bestiole" (BESTIOLE 2023 summation spectra on 0-12.5 MeV).
SPECTRUM_MODELS = ("huber_mueller", "bestiole")

_FLUX_DIR = pathlib.Path(__file__).resolve().parents[2] / "data" / "reactor_flux"
_HUBER = {iso: f"huber2011/{iso}-anti-neutrino-flux-250keV.dat" for iso in ("U235", "Pu239", "Pu241")}
_MUELLER_U238 = "mueller2011/U238-anti-neutrino-flux-Mueller2011.csv"
_BESTIOLE = {
    "U235": "bestiole_u235.txt", "U238": "bestiole_u238.txt", "Pu239": "bestiole_pu239.txt",
    "Pu241": "bestiole_pu241.txt", "U239": "bestiole_u239.txt", "Np239": "bestiole_np239.txt",
}  # fmt: skip
_TABLE_LO_MEV, _TABLE_HI_MEV = 2.0, 8.0


@functools.cache
def _bestiole_table(nuclide: str) -> tuple[np.ndarray, np.ndarray]:
    """BESTIOLE (E bin centre [MeV], dN/dE) with a leading (0, 0): per fission, or per decay for U239, Np239."""
    e, s = np.loadtxt(_FLUX_DIR / "bestiole2023" / _BESTIOLE[nuclide], delimiter=",", comments="#", unpack=True)
    return np.concatenate([[0.0], e]), np.concatenate([[0.0], s])


@functools.cache
def _conversion_table(isotope: str) -> tuple[np.ndarray, np.ndarray]:
    """(E [MeV], nu per MeV per fission) on 2-8 MeV: Huber 2011 (column 2) or Mueller 2011 U238 at 450 d."""
    if isotope == "U238":
        cols = np.loadtxt(_FLUX_DIR / _MUELLER_U238, delimiter=",", skiprows=1)
        return cols[:, 0], cols[:, 4]
    cols = np.loadtxt(_FLUX_DIR / _HUBER[isotope], comments="#")
    return cols[:, 0], cols[:, 1]


def _bestiole(e, nuclide: str) -> np.ndarray:
    x, y = _bestiole_table(nuclide)
    return np.interp(e, x, y, left=0.0, right=0.0)


def fission_spectrum(enu_mev, isotope: str, model: str = "huber_mueller") -> np.ndarray:
    """Anti-nu_e spectrum of one fission of ``isotope`` [nu per MeV per fission] (see :data:`SPECTRUM_MODELS`).

    BESTIOLE values are 25 keV bin averages, interpolated linearly between bin centres; Huber and Mueller tables
    (0.25 MeV steps) are interpolated linearly in log S. Zero outside [0, 12.5] MeV.
    """
    _check_isotope(isotope)
    _check_model(model)
    e = np.asarray(enu_mev, dtype=float)
    low = _bestiole(e, isotope)
    if model == "bestiole":
        return low
    x, y = _conversion_table(isotope)
    table = np.exp(np.interp(e, x, np.log(y)))
    scale_lo = y[0] / _bestiole(x[0], isotope)
    scale_hi = y[-1] / _bestiole(x[-1], isotope)
    return np.where(e < _TABLE_LO_MEV, scale_lo * low, np.where(e > _TABLE_HI_MEV, scale_hi * low, table))


def capture_spectrum(enu_mev) -> np.ndarray:
    """Anti-nu_e spectrum per U238(n, gamma) capture [nu per MeV]: the beta decays of U239 and then Np239
    (BESTIOLE 2023, each normalised to one decay), below 1.3 MeV."""
    e = np.asarray(enu_mev, dtype=float)
    return _bestiole(e, "U239") + _bestiole(e, "Np239")


def _check_isotope(isotope) -> None:
    if isotope not in FISSION_ISOTOPES:
        raise InvalidInputError(f"unknown fission isotope {isotope!r}; choose from {list(FISSION_ISOTOPES)}")


def _check_model(model) -> None:
    if model not in SPECTRUM_MODELS:
        raise InvalidInputError(f"unknown reactor spectrum model {model!r}; choose from {list(SPECTRUM_MODELS)}")


def check_fractions(fractions: dict) -> dict[str, float]:
    """Fission fractions keyed by isotope of :data:`FISSION_ISOTOPES`, each >= 0, summing to 1 (within 1e-3)."""
    if not isinstance(fractions, dict) or not fractions:
        raise InvalidInputError(f"fission fractions must be a dict isotope -> fraction; got {fractions!r}")
    out = {}
    for iso, f in fractions.items():
        _check_isotope(iso)
        if not (isinstance(f, (int, float)) and np.isfinite(f) and f >= 0):
            raise InvalidInputError(f"fission fraction of {iso} must be a finite number >= 0; got {f!r}")
        out[iso] = float(f)
    if abs(sum(out.values()) - 1.0) > 1e-3:
        raise InvalidInputError(f"fission fractions must sum to 1; got {sum(out.values()):.4f} ({out})")
    return out


def emitted_spectrum(enu_mev, fractions: dict, model: str = "huber_mueller", captures_per_fission: float = 0.0):
    """Anti-nu_e emitted per fission of the core [nu per MeV per fission]: sum_i f_i S_i(E) plus
    ``captures_per_fission`` x the U238(n, gamma) spectrum."""
    f = check_fractions(fractions)
    if not (np.isfinite(captures_per_fission) and captures_per_fission >= 0):
        raise InvalidInputError(f"captures_per_fission must be a finite number >= 0; got {captures_per_fission!r}")
    out = sum(frac * fission_spectrum(enu_mev, iso, model) for iso, frac in f.items())
    return out + captures_per_fission * capture_spectrum(enu_mev)


def fission_rate(power_mw: float, fractions: dict) -> float:
    """Fissions per second of a core of thermal power ``power_mw``: P / sum_i f_i E_i (:data:`ENERGY_PER_FISSION_MEV`)."""
    f = check_fractions(fractions)
    if not (np.isfinite(power_mw) and power_mw > 0):
        raise InvalidInputError(f"thermal power must be a finite number > 0 MW; got {power_mw!r}")
    mev_per_fission = sum(frac * ENERGY_PER_FISSION_MEV[iso] for iso, frac in f.items())
    return power_mw * 1e6 / (mev_per_fission * MEV_J)


def flux_density(
    enu_mev,
    *,
    power_mw: float,
    distance_m: float,
    fractions: dict,
    model: str = "huber_mueller",
    captures_per_fission: float = 0.0,
) -> np.ndarray:
    """Anti-nu_e flux density at ``distance_m`` from a point core [nu / (cm^2 s MeV)]:
    fission rate x :func:`emitted_spectrum` / (4 pi L^2)."""
    if not (np.isfinite(distance_m) and distance_m > 0):
        raise InvalidInputError(f"distance must be a finite number > 0 m; got {distance_m!r}")
    area_cm2 = 4.0 * np.pi * (distance_m * 100.0) ** 2
    spec = emitted_spectrum(enu_mev, fractions, model, captures_per_fission)
    return fission_rate(power_mw, fractions) * spec / area_cm2
