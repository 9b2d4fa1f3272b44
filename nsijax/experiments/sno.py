"""SNO pure-D2O phase (2002) day and night T_eff spectra: response ``sno_d2o`` of ``kind = "oscillation"``.

Data: SNO Collaboration, PRL 89 (2002) 011302 (nucl-ex/0204009), Fig. 2: events per 0.5 MeV bin of the
effective electron kinetic energy T_eff in [5, 20] MeV, 128.5 live days (day) and 177.9 (night), from
the collaboration's "HOWTO use the SNO data" release (with the per-bin neutron and low-energy
backgrounds and the cos(zenith) livetime distributions). Poisson (Baker-Cousins) terms on the 2 x 17
bins, flattened day first.

Model of the expected counts in bin i (day or night d)::

    mu_di = f_B [ CC_di + ES_di ](scale, resolution) + CC_di^hep + ES_di^hep
            + f_B (1 + s_nc th_nc) NC_di + NBg_di (1 + s_n th_n) + LE_di (1 + s_le th_le),
    f_B = 1 + s_B th_B  (8B flux normalisation, B23/SF-III GS98 prior)

* Flavour content at the detector, per neutrino energy E (8B production region of the B23 GS98 solar
  model, adiabatic, as :func:`nsijax.physics.oscillation.sun.mass_state_fractions` but in closed form on 12 Gauss nodes of
  the production distribution, :func:`_sun_fractions`): day P_a = sum_i p_i |U_ai|^2, night
  P_a = sum_i p_i |(S_earth U)_ai|^2 averaged over the night cos(zenith) livetime distribution
  (SnoCosZenithNight.dat) on ``zenith_nodes`` PREM paths (:func:`nsijax.physics.oscillation.earth.prem_layers`, detector
  2.092 km deep; S_earth with nu_3 decoupled, :func:`_earth_amplitudes`). NSI enter the Sun and the
  Earth through ``params.matter_nsi()`` (contact NSI plus a Z' at q^2 = 0).
  hep neutrinos use the 8B-region probabilities (hep is ~0.5 % of the events).
* CC (nu_e d -> e p p): nu_e only. Total cross section from the tables of Nakamura et al., Nucl. Phys.
  A707 (2002) 561 (nucl-th/0201062); electron-spectrum shape at fixed E from an allowed-approximation
  model with an empirical correction fitted to their dsigma/dp_e (:func:`cc_dsigma_dT_shape`). With
  the fiducial deuterons (550 cm), the live time and the resolution, this gives 0.988 of SNO's own
  events per unit undistorted 8B flux (1967.7 CC events for phi_CC = 1.76, PRL 89 011301); the model
  is normalised to SNO's number (``tables["cc_first_principles_ratio"]`` keeps the check).
* ES (nu e -> nu e): sum over flavours a of P_a dsigma_a/dT (:mod:`nsijax.physics.scattering.electron_scattering`, tree
  level, with the electron NSI, the Z' (at q^2 = 2 m_e T) and the magnetic moment of ``params``),
  normalised like CC to SNO's ratio (263.6 events for phi_ES = 2.39); first principles give 1.04 of it
  (``tables["es_first_principles_ratio"]``). The Z' is not added to the matter potential (as for the
  other oscillation experiments).
* NC (nu d -> nu n p): flavour blind; with NSI only in propagation (vector quark NSI do not enter the
  axial-isovector NC breakup at leading order) the NC rate is the total active 8B flux times SNO's
  events-per-flux ratio (576.5 events for phi_NC = 5.09). Its T_eff shape is the shape of the neutron
  background of the release (the same neutron-capture signal), day and night separately.
* Detector: Gaussian T_eff response with SNO's D2O resolution sigma_T = a + b sqrt(T) + c T, energy scale
  T -> T (1 + s_E th_E) and width x (1 + s_R th_R) applied to CC and ES (not to the NC template).

All arrays are float64; the physics part is jit- and grad-able in the oscillation parameters and the
NSI couplings; :func:`expected` is differentiable in the pulls.
"""

from __future__ import annotations

import math
import pathlib
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import erf

from .. import constants as c
from ..errors import InvalidSpecError
from ..parameters.nsi import components_to_matrix
from ..physics.oscillation import mass_matrix_flavour, pmns
from ..physics.oscillation.earth import prem_layers
from ..physics.oscillation.sun import _load as _load_solar
from ..physics.oscillation.sun import production_nodes
from ..physics.scattering.electron_scattering import dsigma_dT as es_dsigma_dT
from .oscillation_data import _read_rows

#: Nuisances of ``sno_d2o``, in order.
NUISANCES = (
    "b8_flux",
    "energy_scale",
    "energy_resolution",
    "nc_efficiency",
    "neutron_background",
    "low_energy_background",
)

#: nu_e d -> e- p p threshold [MeV]: 2 m_p + m_e - m_d (kinetic energy T_e = E - Q_CC - E_pp).
Q_CC_MEV = 1.442
#: Deuteron binding energy [MeV] (wave-number gamma = sqrt(m_N B)).
B_DEUTERON_MEV = 2.224566
#: Coulomb-modified 1S0 proton-proton scattering length a_pp^C [fm].
A_PP_FM = -7.8063
#: Seconds per day.
DAY_S = 86400.0
#: dm^2/2E [km^-1] per (eV^2 / MeV), and V_CC [km^-1] per (g/cm^3 x Y_e).
_KIN_PER_MEV = c.KM_TO_INV_EV / 2.0e6
_VCC_PER_KM = c.V_CC_EV_PER_GCC * c.KM_TO_INV_EV
#: Gauss nodes over the 8B production region (:func:`_solar_nodes`; P_ee within ~1e-5 of all 120 radii).
SOLAR_NODES = 12
#: Empirical correction exp(c1 x + c2 x^2 + c3 x^3), x = ln(E_pp/MeV), of the CC electron-spectrum shape,
#: fitted to Nakamura et al. 2002 dsigma/dp_e at E = 10 and 15.5 MeV (see :func:`cc_dsigma_dT_shape`).
CC_SHAPE_CORRECTION = (-0.09889, -0.04953, 0.00125)
#: Header of the Nakamura et al. total cross-section table (columns in this order).
XS_HEADER = "E_nu_MeV,sigma_nc_cm2,sigma_nc_bar_cm2,sigma_cc_cm2,sigma_cc_bar_cm2"

_FILES = (
    "spectra_file",
    "background_file",
    "coszenith_day_file",
    "coszenith_night_file",
    "b8_spectrum_file",
    "hep_spectrum_file",
    "cross_section_file",
)


# ----------------------------------------------------------------------------------------------
# spec validation


def validate_spec(spec: dict, where: str) -> None:
    """Check the ``sno_d2o`` part of a spec (raises InvalidSpecError naming the field)."""
    from .parsers.spec import _get, _int, _nuisance_names, _number, _string

    for key in _FILES:
        _string(spec, f"data.{key}", where)
    _string(spec, "solar.model", where, {"GS98", "AGSS09"})
    _number(spec, "solar.b8_flux", where, positive=True)
    _number(spec, "solar.hep_flux", where, nonneg=True)
    res = _get(spec, "detector.resolution_coefficients", where)
    if (
        not isinstance(res, list)
        or len(res) != 3
        or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in res)
    ):
        raise InvalidSpecError(f"{where}: detector.resolution_coefficients must be 3 numbers [a, b, c]; got {res!r}")
    _number(spec, "detector.depth_km", where, nonneg=True)
    _number(spec, "detector.fiducial_radius_cm", where, positive=True)
    _number(spec, "detector.d2o_density_gcc", where, positive=True)
    _int(spec, "detector.zenith_nodes", where, 1, 240)
    for key in ("cc", "es", "nc"):
        _number(spec, f"calibration.{key}_events", where, positive=True)
        _number(spec, f"calibration.{key}_flux", where, positive=True)
    for key in ("enu_min_mev", "enu_max_mev", "enu_step_mev", "t_min_mev", "t_max_mev", "t_step_mev"):
        _number(spec, f"binning.{key}", where, positive=True)
    b = spec["binning"]
    if not (b["enu_min_mev"] < b["enu_max_mev"] and b["t_min_mev"] < b["t_max_mev"]):
        raise InvalidSpecError(f"{where}: binning ranges must have min < max")
    _nuisance_names(spec.get("nuisances"), where, expected=NUISANCES, response="sno_d2o")


# ----------------------------------------------------------------------------------------------
# cross sections and detector response


def cc_dsigma_dT_shape(enu_mev, t_mev, correction=None):
    """Shape of dsigma/dT_e for nu_e d -> e- p p (arbitrary normalisation per E), NumPy.

    Allowed (Gamow-Teller) approximation with a zero-range deuteron and a zero-range 1S0 pp final state
    with the Coulomb (Gamow) factor (e.g. Kubodera & Nozawa, Int. J. Mod. Phys. E 3 (1994) 101):

        dsigma/dT  ~  p_e E_e F(2, E_e) x k |I(k)|^2 x g(E_pp),
        |I(k)|^2  ~  C^2(eta) (gamma - 1/a_pp)^2 / ((k^2 + 1/a_pp^2) (k^2 + gamma^2)^2),
        E_pp = E - Q_CC - T_e - (E^2 + p_e^2) / (4 m_p) = k^2 / m_p      (pp recoil, angle-averaged q^2),

    F: non-relativistic Fermi function for Z = 2; C^2(eta) = 2 pi eta / (exp(2 pi eta) - 1), eta =
    alpha m_p / (2 k); gamma = sqrt(m_N B_d). g(E_pp) = exp(c1 x + c2 x^2 + c3 x^3), x = ln(E_pp / MeV),
    is an EMPIRICAL correction fitted to the tabulated dsigma/dp_e of Nakamura et al., Nucl. Phys. A707
    (2002) 561 (nucl-th/0201062) at E = 10 and 15.5 MeV (:data:`CC_SHAPE_CORRECTION`; residuals within
    8 % for E_pp > 0.15 MeV, README.md). The total cross section is taken from their table, so only this
    shape at fixed E is approximate.
    """
    corr = CC_SHAPE_CORRECTION if correction is None else correction
    e = np.asarray(enu_mev, float)
    t = np.asarray(t_mev, float)
    e, t = np.broadcast_arrays(e, t)
    pe2 = np.maximum(t * (t + 2.0 * c.M_E), 0.0)
    epp = e - Q_CC_MEV - t - (e**2 + pe2) / (4.0 * c.M_PROTON)
    ok = (epp > 0) & (t > 0)
    epp = np.where(ok, epp, 1.0)
    tt = np.where(ok, t, 1.0)
    ee = tt + c.M_E
    pe = np.sqrt(tt * (tt + 2.0 * c.M_E))
    eta_e = 2.0 * c.ALPHA * ee / pe
    fermi = 2.0 * math.pi * eta_e / (1.0 - np.exp(-2.0 * math.pi * eta_e))
    k_mev = np.sqrt(c.M_PROTON * epp)
    k = k_mev / c.HBARC_MEV_FM  # fm^-1
    m_n = 0.5 * (c.M_PROTON + c.M_NEUTRON)
    gamma = math.sqrt(m_n * B_DEUTERON_MEV) / c.HBARC_MEV_FM
    x = np.minimum(math.pi * c.ALPHA * c.M_PROTON / k_mev, 700.0)  # 2 pi eta
    gamow = x / np.expm1(x)
    inv_a = 1.0 / A_PP_FM
    overlap = gamow * (gamma - inv_a) ** 2 / ((k**2 + inv_a**2) * (k**2 + gamma**2) ** 2)
    lx = np.log(epp)
    g = np.exp(corr[0] * lx + corr[1] * lx**2 + corr[2] * lx**3)
    return np.where(ok, pe * ee * fermi * k * overlap * g, 0.0)


def cc_dsigma_dT(enu_mev, t_mev, sigma_total_cm2):
    """dsigma/dT_e [cm^2/MeV] of nu_e d -> e- p p on the grid (E nodes, T nodes): the shape of
    :func:`cc_dsigma_dT_shape` normalised at each E to ``sigma_total_cm2`` (Nakamura et al. 2002)."""
    e = np.asarray(enu_mev, float).reshape(-1)
    fine = np.linspace(0.0, 1.0, 4001)[1:-1]
    t_fine = (e[:, None] - Q_CC_MEV) * fine[None, :]
    norm = np.trapezoid(cc_dsigma_dT_shape(e[:, None], t_fine), t_fine, axis=1)
    shape = cc_dsigma_dT_shape(e[:, None], np.asarray(t_mev, float)[None, :])
    scale = np.where(norm > 0, np.asarray(sigma_total_cm2, float) / np.where(norm > 0, norm, 1.0), 0.0)
    return shape * scale[:, None]


def resolution(t_mev, coeffs):
    """SNO D2O T_eff resolution sigma_T(T) = a + b sqrt(T) + c T [MeV] (floored at 0.05 MeV)."""
    a, b, cc = coeffs[0], coeffs[1], coeffs[2]
    return jnp.maximum(a + b * jnp.sqrt(t_mev) + cc * t_mev, 0.05)


def fold_matrix(t_mev, edges, coeffs, scale=0.0, width=0.0):
    """(nT, nbins) probability that true kinetic energy T is reconstructed in each T_eff bin:
    Gaussian of mean T (1 + scale), width sigma_T(T) (1 + width)."""
    mean = t_mev * (1.0 + scale)
    sig = resolution(t_mev, coeffs) * (1.0 + width)
    cdf = 0.5 * (1.0 + erf((edges[None, :] - mean[:, None]) / (math.sqrt(2.0) * sig[:, None])))
    return cdf[:, 1:] - cdf[:, :-1]


# ----------------------------------------------------------------------------------------------
# building


def _grid(lo, hi, step):
    n = int(round((hi - lo) / step))
    return lo + step * (np.arange(n) + 0.5), step


def _spectrum(path, enu):
    tab = _read_rows(path, 2)
    if np.any(np.diff(tab[:, 0]) <= 0) or np.any(tab[:, 1] < 0):
        raise InvalidSpecError(f"{path}: energies must increase and spectrum values be >= 0")
    area = np.trapezoid(tab[:, 1], tab[:, 0])
    if area <= 0:
        raise InvalidSpecError(f"{path}: spectrum integrates to {area}")
    return np.interp(enu, tab[:, 0], tab[:, 1], left=0.0, right=0.0) / area


def _night_paths(cz_night: np.ndarray, n_nodes: int, depth_km: float):
    """Group the night cos(zenith) bins on [-1, 0] into ``n_nodes`` equal ranges, with one more boundary
    where paths start to cross the core (cos z = -sqrt(1 - (R_core/R_earth)^2)); livetime-weighted mean
    cos(zenith) per range, weights = livetime fractions."""
    from ..physics.oscillation.earth import R_CMB_KM, R_EARTH_KM

    nb = cz_night.size
    centres = -1.0 + (np.arange(nb) + 0.5) / nb
    core = -math.sqrt(1.0 - (R_CMB_KM / R_EARTH_KM) ** 2)
    bounds = np.unique(np.concatenate([np.linspace(-1.0, 0.0, n_nodes + 1), [core]]))
    groups = np.clip(np.searchsorted(bounds, centres, side="right") - 1, 0, bounds.size - 2)
    cosz, w = [], []
    for g in range(bounds.size - 1):
        sel = groups == g
        lt = cz_night[sel].sum()
        if lt > 0:
            cosz.append(float((centres[sel] * cz_night[sel]).sum() / lt))
            w.append(lt)
    w = np.asarray(w) / np.sum(w)
    layers = prem_layers(jnp.asarray(cosz), detector_depth_km=depth_km, atmosphere_km=0.0)
    return np.asarray(cosz), w, layers


def _solar_nodes(model: str, n: int):
    """Gauss quadrature of the 8B production distribution of the B23/SF-III ``model``: ``n`` radii and
    weights exact for polynomials in r of degree < 2n against the tabulated (trapezoid) distribution of
    :func:`nsijax.physics.oscillation.sun.mass_state_fractions` (Lanczos on the discrete measure, Golub-Welsch). n_e
    (log-linear) and Y_n (linear) are interpolated in the full profile table. Returns (n_e, Y_n, w)."""
    nodes = production_nodes(model, "8B")
    r, w = nodes.r, nodes.weight
    q = np.sqrt(w) / np.linalg.norm(np.sqrt(w))
    basis, alpha, beta = [q], [], []
    prev, b = np.zeros_like(q), 0.0
    for _ in range(n):
        v = r * basis[-1] - b * prev
        for qq in basis:  # full reorthogonalisation
            v = v - (qq @ v) * qq
        alpha.append(float(basis[-1] @ (r * basis[-1])))
        b = float(np.linalg.norm(v))
        beta.append(b)
        prev = basis[-1]
        basis.append(v / b)
    jac = np.diag(alpha) + np.diag(beta[:-1], 1) + np.diag(beta[:-1], -1)
    nodes, vec = np.linalg.eigh(jac)
    weights = vec[0] ** 2
    table, _ = _load_solar(model)
    ne = np.exp(np.interp(nodes, table[:, 0], np.log(table[:, 1])))
    yn = np.interp(nodes, table[:, 0], table[:, 2])
    return ne, yn, weights / weights.sum()


def build(s: dict[str, Any], folder: pathlib.Path):
    """Build the SNO D2O :class:`~nsijax.experiments.Experiment` from a validated spec and its folder."""
    from .oscillation_data import _experiment

    folder = pathlib.Path(folder)
    d, det, b, cal, sol = s["data"], s["detector"], s["binning"], s["calibration"], s["solar"]
    spec_rows = _read_rows(folder / d["spectra_file"], 5)
    bkg = _read_rows(folder / d["background_file"], 11)
    nb = spec_rows.shape[0]
    edges = np.concatenate([spec_rows[:, 1], spec_rows[-1:, 2]])
    if np.any(np.abs(spec_rows[1:, 1] - spec_rows[:-1, 2]) > 1e-9) or np.any(np.diff(edges) <= 0):
        raise InvalidSpecError(f"{folder / d['spectra_file']}: bins must be contiguous and increasing")
    if bkg.shape[0] != nb or np.any(np.abs(bkg[:, 1:3] - spec_rows[:, 1:3]) > 1e-9):
        raise InvalidSpecError(
            f"{folder / d['background_file']}: {bkg.shape[0]} rows / bin edges do not match {d['spectra_file']}"
        )
    observed = np.concatenate([spec_rows[:, 3], spec_rows[:, 4]])
    if np.any(observed < 0) or np.any(observed != np.round(observed)):
        raise InvalidSpecError(f"{folder / d['spectra_file']}: counts must be non-negative integers")
    cz_day = _read_rows(folder / d["coszenith_day_file"], 1)[:, 0]
    cz_night = _read_rows(folder / d["coszenith_night_file"], 1)[:, 0]
    for name, arr in (("coszenith_day_file", cz_day), ("coszenith_night_file", cz_night)):
        if np.any(arr < 0) or arr.sum() <= 0:
            raise InvalidSpecError(f"{folder / d[name]}: livetimes must be >= 0 with a positive sum")
    live = np.array([cz_day.sum(), cz_night.sum()]) / DAY_S  # days
    live_frac = live / live.sum()

    enu, de = _grid(b["enu_min_mev"], b["enu_max_mev"], b["enu_step_mev"])
    tgrid, dt = _grid(b["t_min_mev"], b["t_max_mev"], b["t_step_mev"])
    lam = np.stack([_spectrum(folder / d["b8_spectrum_file"], enu), _spectrum(folder / d["hep_spectrum_file"], enu)])
    src = lam * de * np.array([sol["b8_flux"], sol["hep_flux"]])[:, None] / 1e6  # (2, nE), flux in 1e6/cm^2/s
    coeffs = np.asarray(det["resolution_coefficients"], float)
    fold0 = np.asarray(fold_matrix(jnp.asarray(tgrid), jnp.asarray(edges), jnp.asarray(coeffs)))

    # CC: Nakamura et al. total cross section x our shape; deuterons in the fiducial volume x live time
    m_fid = 4.0 / 3.0 * math.pi * det["fiducial_radius_cm"] ** 3 * det["d2o_density_gcc"]
    n_d2o = m_fid / (2.0 * 2.01410178 + 15.999) * c.N_AVOGADRO
    exposure_s = live.sum() * DAY_S * 1e6  # s x (1e6 / cm^2 / s)
    xs = _read_rows(folder / d["cross_section_file"], 5, header=XS_HEADER)
    if np.any(np.diff(xs[:, 0]) <= 0) or np.any(xs[:, 1:] < 0) or xs[-1, 0] < enu[-1]:
        raise InvalidSpecError(
            f"{folder / d['cross_section_file']}: energies must increase up to >= {enu[-1]} MeV, cross sections >= 0"
        )
    sigma_cc = np.interp(enu, xs[:, 0], xs[:, 3], left=0.0)
    sigma_nc = np.interp(enu, xs[:, 0], xs[:, 1], left=0.0)
    cc_xs = cc_dsigma_dT(enu, tgrid, sigma_cc) * dt  # (nE, nT) cm^2 per T node
    lam8 = lam[0] * de
    raw_cc = 2.0 * n_d2o * exposure_s * float(lam8 @ cc_xs @ fold0.sum(1))
    y_cc = cal["cc_events"] / cal["cc_flux"]
    cc_kernel = 2.0 * n_d2o * exposure_s * cc_xs * (y_cc / raw_cc)
    raw_nc = 2.0 * n_d2o * exposure_s * float(lam8 @ sigma_nc)  # NC breakups per unit flux (no detection)

    # ES: electrons in the fiducial volume x live time, x SNO's calibration
    exposure = 10.0 * n_d2o * exposure_s
    sig_e = np.asarray(es_dsigma_dT(jnp.asarray(enu[:, None]), jnp.asarray(tgrid[None, :]), flavor=0)) * dt
    raw_es = exposure * float(lam8 @ sig_e @ fold0.sum(1))
    y_es = cal["es_events"] / cal["es_flux"]
    es_scale = exposure * y_es / raw_es

    # NC: SNO events per unit flux, T_eff shape of the neutron background, split by live time
    y_nc = cal["nc_events"] / cal["nc_flux"]
    nbg = bkg[:, [3, 7]].T  # (2, nb) day, night
    if np.any(nbg.sum(1) <= 0):
        raise InvalidSpecError(f"{folder / d['background_file']}: the neutron background (NC shape) is empty")
    nc_shape = nbg / nbg.sum(1, keepdims=True)
    nc = y_nc * sol["b8_flux"] / 1e6 * live_frac[:, None] * nc_shape

    cosz, w_night, layers = _night_paths(cz_night, int(det["zenith_nodes"]), float(det["depth_km"]))
    ne_sun, yn_sun, w_sun = _solar_nodes(str(sol["model"]), SOLAR_NODES)
    nuis = s["nuisances"]
    return _experiment(
        s,
        observed=observed,
        observables=(),
        nuisance_sigma=[n["sigma"] for n in nuis],
        nuisance_names=NUISANCES,
        tables={
            "teff_edges_mev": edges,
            "enu_gev": enu * 1e-3,
            "enu_mev": enu,
            "t_mev": tgrid,
            "t_step_mev": np.array(dt),
            "source_weights": src,
            "cc_kernel": cc_kernel,
            "es_scale": np.array(es_scale),
            "es_first_principles_ratio": np.array(raw_es / y_es),
            "cc_first_principles_ratio": np.array(raw_cc / y_cc),
            "nc_detection_efficiency": np.array(cal["nc_events"] / cal["nc_flux"] / raw_nc),
            "sigma_cc_cm2": sigma_cc,
            "live_fraction": live_frac,
            "live_days": live,
            "resolution_coefficients": coeffs,
            "nc": nc,
            "background_neutron": nbg,
            "background_low_energy": bkg[:, [5, 9]].T,
            "night_cos_zenith": cosz,
            "night_weight": w_night,
            "night_length_km": layers.length_km,
            "night_density_gcc": layers.density_gcc,
            "night_ye": layers.ye,
            "night_yn": layers.yn,
            "sun_ne": ne_sun,
            "sun_yn": yn_sun,
            "sun_weight": w_sun,
        },
    )


# ----------------------------------------------------------------------------------------------
# predictions


def _sun_fractions(osc, nsi, enu_mev, ne, yn, w):
    """Adiabatic mass-state fractions p_i (nE, 3) leaving the Sun, averaged over the production nodes
    (ne [mol/cm^3], yn, normalised weights w): :func:`nsijax.physics.oscillation.sun.mass_state_fractions` in closed form.

    The eigenvalues of 2E H = U M U^dagger + 2E V_CC (diag(1,0,0) + eps(Y_n)) come from Cardano's formula,
    the nu_e projections from the adjugate, |<nu_e|k>|^2 = ((l_k - H_mm)(l_k - H_tt) - |H_mt|^2) /
    prod_{j != k} (l_k - l_j): elementwise arithmetic instead of a batched eigh (same numbers on the same
    nodes to ~1e-12; the spectrum is never degenerate in the Sun, dm21 sin 2theta12 > 0). With the
    :data:`SOLAR_NODES` Gauss nodes of :func:`_solar_nodes`, P_a is within ~1e-5 of the average over all
    120 tabulated radii of :func:`nsijax.physics.oscillation.sun.mass_state_fractions`.
    """
    kin = mass_matrix_flavour(osc) / jnp.abs(osc.dm31)  # units of |dm31| (eV^2)
    mat = jnp.zeros((ne.shape[0], 3, 3), complex).at[:, 0, 0].set(1.0)
    if nsi is not None:
        mat = mat + components_to_matrix(nsi.matter_components(yn))
    v = (2e6 * c.V_CC_EV_PER_GCC / jnp.abs(osc.dm31)) * enu_mev[:, None] * ne[None, :]  # (E, R)
    h = kin + v[..., None, None] * mat  # (E, R, 3, 3)
    a, b, cc = (jnp.real(h[..., i, i]) for i in range(3))
    x, y, z = h[..., 0, 1], h[..., 0, 2], h[..., 1, 2]
    ax, ay, az = (jnp.real(u) ** 2 + jnp.imag(u) ** 2 for u in (x, y, z))
    m = (a + b + cc) / 3.0
    a1, b1, c1 = a - m, b - m, cc - m
    p = (a1**2 + b1**2 + c1**2 + 2.0 * (ax + ay + az)) / 6.0
    det = a1 * b1 * c1 + 2.0 * jnp.real(x * z * jnp.conj(y)) - a1 * az - b1 * ay - c1 * ax
    sp = jnp.sqrt(p)
    phi = jnp.arccos(jnp.clip(0.5 * det / (p * sp), -1.0, 1.0)) / 3.0
    l_hi = m + 2.0 * sp * jnp.cos(phi)
    l_lo = m + 2.0 * sp * jnp.cos(phi + 2.0 * math.pi / 3.0)
    l_mid = 3.0 * m - l_hi - l_lo
    lam = (l_lo, l_mid, l_hi)  # ascending, as eigh
    pk = []
    for k in range(3):
        lk, lj, ll = lam[k], lam[(k + 1) % 3], lam[(k + 2) % 3]
        pk.append(((lk - b) * (lk - cc) - az) / ((lk - lj) * (lk - ll)))
    pk = jnp.einsum("erk,r->ek", jnp.stack(pk, axis=-1), w)
    order = jnp.argsort(jnp.stack([jnp.zeros_like(osc.dm21), osc.dm21, osc.dm31]))
    return jnp.zeros_like(pk).at[:, order].set(pk)


def _earth_amplitudes(osc, nsi, u, enu_mev, t):
    """Night amplitudes A[z, e, a, i] = sum_j U_aj (S_m)_ji, i = nu_1, nu_2, through the PREM paths.

    S_m is the evolution in the vacuum mass basis restricted to the (nu_1, nu_2) block: in the Earth
    V ~ 1e-3 km^-1 << dm31/2E ~ 0.6 km^-1, so nu_3 decouples; its coupling g_i = (U^dagger V U)_{i3}
    enters the block at second order (-g g^dagger / (dm31/2E)), the neglected nu_3 admixture is
    ~ V/(dm31/2E) ~ 1e-3 and its interference terms oscillate with dm31 L/2E. Against the full
    three-flavour :func:`nsijax.physics.oscillation.oscillation_amplitude`: night P_a within ~1e-4 (standard
    matter) to ~1e-3 (off-diagonal NSI ~ 0.3), counts within 1e-4. Each layer is a closed-form SU(2)
    exponential (Cayley-Klein parameters), the layers a ``lax.scan`` over the padded path (zero-length
    layers are identities). Far cheaper than the 3x3 exponentials, in reverse mode above all.
    """
    lengths = t["night_length_km"]  # (Z, n)
    vcc = _VCC_PER_KM * t["night_density_gcc"] * t["night_ye"]  # (Z, n) km^-1
    mat = jnp.zeros(lengths.shape + (3, 3), complex).at[..., 0, 0].set(1.0)
    if nsi is not None:
        mat = mat + components_to_matrix(nsi.matter_components(t["night_yn"]))
    mm = jnp.einsum("ai,znab,bj->znij", jnp.conj(u), mat, u) * vcc[..., None, None]  # (Z, n, 3, 3) mass basis
    kin = osc.dm21 * _KIN_PER_MEV / enu_mev  # (E,)
    # second order in the nu_3 coupling g_i = mm[i, 3]: h_ij -> h_ij - g_i g_j^* / (dm31 / 2E)
    inv3 = enu_mev / (osc.dm31 * _KIN_PER_MEV)  # (E,)
    g1, g2 = mm[..., 0, 2, None], mm[..., 1, 2, None]
    d11 = jnp.real(mm[..., 0, 0, None]) - (jnp.real(g1) ** 2 + jnp.imag(g1) ** 2) * inv3
    d22 = jnp.real(mm[..., 1, 1, None]) - (jnp.real(g2) ** 2 + jnp.imag(g2) ** 2) * inv3
    # traceless block h = [[ha, hb], [hb*, -ha]] for every (z, layer, e)
    ha = 0.5 * (d11 - d22) - 0.5 * kin
    hb = mm[..., 0, 1, None] - g1 * jnp.conj(g2) * inv3
    w2 = ha**2 + jnp.real(hb) ** 2 + jnp.imag(hb) ** 2
    om = jnp.sqrt(jnp.maximum(w2, 1e-300))
    ln = lengths[..., None]
    cs, sn = jnp.cos(om * ln), jnp.sin(om * ln) / om
    al = cs - 1j * ha * sn  # (Z, n, E)
    be = -1j * hb * sn

    def step(s, w):
        sa, sb = s
        a2, b2 = w
        return (a2 * sa - b2 * jnp.conj(sb), a2 * sb + b2 * jnp.conj(sa)), None

    xs = (jnp.moveaxis(al, 1, 0), jnp.moveaxis(be, 1, 0))
    (sa, sb), _ = jax.lax.scan(step, (xs[0][0], xs[1][0]), (xs[0][1:], xs[1][1:]))
    # S_m = [[sa, sb], [-sb*, sa*]]; A[a, i] = U_a1 S_1i + U_a2 S_2i
    s1 = jnp.stack([sa, sb], axis=-1)  # row 1: (Z, E, i)
    s2 = jnp.stack([-jnp.conj(sb), jnp.conj(sa)], axis=-1)
    return u[None, None, :, 0, None] * s1[:, :, None, :] + u[None, None, :, 1, None] * s2[:, :, None, :]


def flavour_probabilities(params, exp):
    """P(nu_e -> nu_a) at the detector on the energy grid: (day, night), each (nE, 3)."""
    from .oscillation_data import osc_of

    osc = osc_of(params)
    t = exp.tables
    nsi = params.matter_nsi()  # oscillations: contact NSI + Z' at q^2 = 0
    p = _sun_fractions(osc, nsi, t["enu_mev"], t["sun_ne"], t["sun_yn"], t["sun_weight"])  # (nE, 3)
    u = pmns(osc)
    u2 = jnp.real(u) ** 2 + jnp.imag(u) ** 2
    day = p @ u2.T
    amp = _earth_amplitudes(osc, nsi, u, t["enu_mev"], t)  # (Z, nE, a, 2)
    pz = jnp.real(amp) ** 2 + jnp.imag(amp) ** 2
    night12 = jnp.einsum("z,zeai,ei->ea", t["night_weight"], pz, p[:, :2])
    night = night12 + p[:, 2:] * u2[None, :, 2]
    return day, night


def spectra_from_probabilities(params, exp, prob_day, prob_night):
    """True-T spectra (counts per T node), shape (2 sources [8B, hep], 2 channels [CC, ES], 2 [day, night], nT)."""
    t = exp.tables
    enu = t["enu_mev"][:, None]
    tm = t["t_mev"][None, :]
    sig = jnp.stack(
        [es_dsigma_dT(enu, tm, flavor=a, nsi=params.nsi, zprime=params.zprime, mu_nu=params.mu_nu) for a in range(3)]
    )
    sig = sig * t["t_step_mev"]
    probs = jnp.stack([prob_day, prob_night])  # (2, nE, 3)
    cc = jnp.einsum("se,de,et->sdt", t["source_weights"], probs[..., 0], t["cc_kernel"])
    es = t["es_scale"] * jnp.einsum("se,dea,aet->sdt", t["source_weights"], probs, sig)
    cc = cc * t["live_fraction"][None, :, None]
    es = es * t["live_fraction"][None, :, None]
    return jnp.stack([cc, es], axis=1)


def physics(params, exp):
    """Nuisance-independent part, once per parameter point: the true-T CC and ES spectra
    (sources x channels x day/night x T nodes) at the nominal fluxes."""
    day, night = flavour_probabilities(params, exp)
    return spectra_from_probabilities(params, exp, day, night)


def _parts(exp, theta, phys):
    s = exp.nuisance_sigma
    t = exp.tables
    f_b = 1.0 + s[0] * theta[0]
    fold = fold_matrix(t["t_mev"], t["teff_edges_mev"], t["resolution_coefficients"], s[1] * theta[1], s[2] * theta[2])
    spec = f_b * phys[0] + phys[1]  # (channel, day/night, nT)
    cc_es = jnp.einsum("cdt,tb->cdb", spec, fold)
    return {
        "cc": cc_es[0],
        "es": cc_es[1],
        "nc": f_b * (1.0 + s[3] * theta[3]) * t["nc"],
        "neutron_background": t["background_neutron"] * (1.0 + s[4] * theta[4]),
        "low_energy_background": t["background_low_energy"] * (1.0 + s[5] * theta[5]),
    }


def expected(exp, theta, phys):
    """Poisson means per bin (day bins, then night bins) at standard-normal pulls ``theta``."""
    return sum(_parts(exp, theta, phys).values()).ravel()


def components(params, exp):
    """Counts per bin (flattened day, night) of CC, ES, NC and the two backgrounds at the pulls in ``params``."""
    theta = jnp.stack([jnp.asarray(params.nuisance(k), dtype=float) for k in exp.nuisance_keys])
    return {k: v.ravel() for k, v in _parts(exp, theta, physics(params, exp)).items()}
