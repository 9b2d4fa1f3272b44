"""Atmospheric neutrino fluxes: Honda (HKKM) tables, integral-preserving interpolation, Barr-style systematics.

Tables (``nsijax/data/atmospheric_flux``, provenance in its README): M. Honda et al., PRD 92 (2015) 023004,
arXiv:1502.03916 (South Pole, solar min / max, azimuth-averaged) and the HKKM 2020 Kamioka table with the
mountain (solar min). Each table gives d Phi / dE [(m^2 s sr GeV)^-1] at 101 energies (log-spaced,
0.1 GeV - 10 TeV) averaged over 20 cos(zenith) bins, for nu_mu, nu_mu-bar, nu_e, nu_e-bar.

Interpolation (:func:`honda_flux`, NumPy, at build time) preserves the table's integrals, as IceCube's
NuFlux and PISA's ``honda_ip`` stage do: in log10 E the cumulative integral of E dPhi/dE over the table's
log-energy cells is an interpolating cubic spline whose derivative gives E dPhi/dE; in cos(zenith) the
cumulative integral over the 20 bins is an interpolating cubic spline in cos(zenith) whose derivative is
the flux. Averaging the result over a table cell gives back the table (to spline accuracy in energy,
exactly in cos(zenith)).

Systematics (:func:`flux_factors`, JAX, differentiable): PISA's ``barr_simple`` parameterisation of the
uncertainties of G. D. Barr et al., PRD 74 (2006) 094009 -- the nu_e/nu_mu ratio and the nu/nu-bar ratio
(each preserving the sum), the spectral index delta_gamma (pivot 24.09 GeV), the up/horizontal nu_e
ratio and the energy- and zenith-dependent nu/nu-bar ratio; formulas as in PISA's
``pisa/utils/barr_parameterization.py`` (icecube/pisa, Apache-2.0; re-implemented here).

Arrays are ordered (nu / nu-bar, e / mu, ...): ``flux[0, 0]`` = nu_e, ``[0, 1]`` = nu_mu, ``[1, 0]`` =
nu_e-bar, ``[1, 1]`` = nu_mu-bar.
"""

from __future__ import annotations

import math
import pathlib
import re
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float
from scipy.interpolate import make_interp_spline

from ...errors import InvalidInputError

#: Flux models by name: the table file in ``nsijax/data/atmospheric_flux`` (see its README).
FLUX_MODELS: dict[str, str] = {
    "honda2015_spl_solmin": "honda-2015-spl-solmin-aa.d",
    "honda2015_spl_solmax": "honda-2015-spl-solmax-aa.d",
    "honda2020_kamioka_mtn_solmin": "kam-ally-20-01-mtn-solmin.d",
}
#: Pivot energy of the spectral-index systematic [GeV] (PISA ``barr_simple``).
INDEX_PIVOT_GEV = 24.0900951261

_HEADER = re.compile(r"cosZ\s*=\s*([-+0-9.eE]+)\s*--\s*([-+0-9.eE]+)")
#: Column order of a Honda table: Enu, NuMu, NuMubar, NuE, NuEbar -> (nu/nubar, e/mu).
_COLUMNS = {(0, 0): 3, (0, 1): 1, (1, 0): 4, (1, 1): 2}


class HondaTable(NamedTuple):
    """A Honda azimuth-averaged table.

    Attributes:
        log10_energy: log10(E / GeV) of the table rows, equally spaced (nE,).
        cz_edges: cos(zenith) bin edges, increasing, equally spaced on [-1, 1] (ncz + 1,).
        flux: d Phi / dE [(m^2 s sr GeV)^-1], shape (2 nu/nu-bar, 2 e/mu, ncz, nE).
        path: the file it was read from.
    """

    log10_energy: np.ndarray
    cz_edges: np.ndarray
    flux: np.ndarray
    path: str


def read_honda_table(path: str | pathlib.Path) -> HondaTable:
    """Read a Honda azimuth-averaged flux table (blocks headed ``average flux in [cosZ = a -- b, ...]``).

    Raises :class:`~nsijax.errors.InvalidInputError` naming the file if a block is malformed, the blocks
    do not share their energies, the energies are not log-equally spaced or the cos(zenith) bins do not
    tile [-1, 1] in equal steps.
    """
    path = pathlib.Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InvalidInputError(f"cannot read the flux table {path}: {exc}") from None
    blocks: list[tuple[float, float, list[list[float]]]] = []
    for number, line in enumerate(lines, 1):
        m = _HEADER.search(line)
        if m:
            blocks.append((float(m.group(1)), float(m.group(2)), []))
            continue
        if not blocks or not line.strip() or line.lstrip().startswith("Enu"):
            continue
        try:
            row = [float(v) for v in line.split()]
        except ValueError:
            raise InvalidInputError(f"{path}:{number}: not a row of numbers: {line.strip()!r}") from None
        if len(row) != 5:
            raise InvalidInputError(f"{path}:{number}: expected 5 columns (Enu, NuMu, NuMubar, NuE, NuEbar)")
        blocks[-1][2].append(row)
    if len(blocks) < 2:
        raise InvalidInputError(f"{path}: no 'average flux in [cosZ = a -- b' blocks found (not a Honda table)")
    blocks.sort(key=lambda b: b[0])
    rows = [np.asarray(b[2], float) for b in blocks]
    if any(r.shape != rows[0].shape for r in rows) or any(not np.array_equal(r[:, 0], rows[0][:, 0]) for r in rows):
        raise InvalidInputError(f"{path}: the cos(zenith) blocks do not share one energy column")
    lo = np.array([b[0] for b in blocks])
    hi = np.array([b[1] for b in blocks])
    edges = np.concatenate([lo, hi[-1:]])
    width = np.diff(edges)
    if not (np.allclose(hi, edges[1:]) and np.isclose(edges[0], -1.0) and np.isclose(edges[-1], 1.0)
            and np.allclose(width, width[0])):
        raise InvalidInputError(f"{path}: the cos(zenith) blocks must tile [-1, 1] in equal steps; got edges {edges}")
    energy = rows[0][:, 0]
    log_e = np.log10(energy)
    step = np.diff(log_e)
    if np.any(energy <= 0) or not np.allclose(step, step[0], rtol=1e-3, atol=1e-4):
        raise InvalidInputError(f"{path}: energies must be positive and equally spaced in log10 E")
    table = np.stack([np.stack([r[:, _COLUMNS[(nb, f)]] for r in rows]) for nb in (0, 1) for f in (0, 1)])
    if np.any(~np.isfinite(table)) or np.any(table < 0):
        raise InvalidInputError(f"{path}: fluxes must be finite and >= 0")
    flux = table.reshape(2, 2, len(rows), energy.size)
    return HondaTable(log_e, edges, flux, str(path))


@lru_cache(maxsize=8)
def honda_table(model: str) -> HondaTable:
    """The bundled table of flux model ``model`` (a key of :data:`FLUX_MODELS`)."""
    if model not in FLUX_MODELS:
        raise InvalidInputError(f"unknown atmospheric flux model {model!r}; known: {sorted(FLUX_MODELS)}")
    ref = resources.files("nsijax").joinpath(f"data/atmospheric_flux/{FLUX_MODELS[model]}")
    with resources.as_file(ref) as p:
        return read_honda_table(p)


def _derivative_basis(knots: np.ndarray):
    """x -> W (len(x), len(knots)) with S'(x) = W @ y for the not-a-knot cubic spline S through (knots, y)
    (scipy's ``make_interp_spline``, k = 3: the interpolating spline of FITPACK's ``splrep(s=0)``)."""
    return make_interp_spline(knots, np.eye(knots.size), k=3).derivative()


def honda_flux(
    table: HondaTable | str, energy_gev: np.ndarray, cos_zenith: np.ndarray, *, chunk: int = 65536
) -> np.ndarray:
    """Integral-preserving interpolation of a Honda table (see the module docstring), NumPy.

    Args:
        table: a :class:`HondaTable` or a flux-model name (:data:`FLUX_MODELS`).
        energy_gev: neutrino energies [GeV], inside the table's range.
        cos_zenith: cos(zenith) in [-1, 1] (-1 = up-going), broadcastable with ``energy_gev``.

    Returns:
        d Phi / dE [(m^2 s sr GeV)^-1], shape ``(2, 2) + broadcast shape`` (nu/nu-bar, e/mu).
    """
    if isinstance(table, str):
        table = honda_table(table)
    e, c = np.broadcast_arrays(np.asarray(energy_gev, float), np.asarray(cos_zenith, float))
    shape = e.shape
    e, c = e.ravel(), c.ravel()
    if np.any(~np.isfinite(c)) or np.any(np.abs(c) > 1.0):
        raise InvalidInputError("cos_zenith must be finite with |cos_zenith| <= 1")
    n_e = table.log10_energy.size
    step = float(table.log10_energy[-1] - table.log10_energy[0]) / (n_e - 1)
    lo, hi = table.log10_energy[0] - step / 2, table.log10_energy[-1] + step / 2
    if np.any(~np.isfinite(e)) or np.any(e <= 0) or np.any(np.log10(e) < lo) or np.any(np.log10(e) > hi):
        raise InvalidInputError(
            f"energy_gev must be inside the flux table's range [{10**lo:.4g}, {10**hi:.4g}] GeV ({table.path})"
        )
    # energy: cumulative integral of E dPhi/dE over the log10 E cells (knots at the cell edges)
    knots_e = lo + step * np.arange(n_e + 1)  # cell edges (the table's energies are rounded)
    cum_e = np.concatenate(
        [np.zeros(table.flux.shape[:3] + (1,)), np.cumsum(table.flux * 10**table.log10_energy * step, axis=-1)], axis=-1
    )  # (2, 2, ncz, nE + 1)
    width_c = float(np.mean(np.diff(table.cz_edges)))
    basis_e, basis_c = _derivative_basis(knots_e), _derivative_basis(table.cz_edges)
    out = np.empty((2, 2, e.size))
    for start in range(0, e.size, chunk):
        sl = slice(start, start + chunk)
        we = basis_e(np.log10(e[sl]))  # (n, nE + 1)
        e_flux = (cum_e.reshape(-1, n_e + 1) @ we.T).reshape(cum_e.shape[:3] + (-1,))  # E dPhi/dE, (2, 2, ncz, n)
        cum_c = np.concatenate([np.zeros((2, 2, 1, e_flux.shape[-1])), np.cumsum(e_flux, axis=2) * width_c], axis=2)
        wc = basis_c(c[sl])  # (n, ncz + 1)
        out[:, :, sl] = np.einsum("abkn,nk->abn", cum_c, wc) / e[sl]
    return out.reshape((2, 2) + shape)


# --- systematics (JAX) -------------------------------------------------------------------------------


def _sign(x):
    return jnp.where(x == 0, 0.0, jnp.where(x >= 0, 1.0, -1.0))


def _loglog(energy, y1, y2, x1, x2, cutoff=None):
    """PISA's ``LogLogParam``: a power law through (x1, y1), (x2, y2) in log10 space, times exp(-E / cutoff)."""
    s = _sign(y2)
    ly1 = _sign(y1) * math.log10(abs(y1) + 1e-4)
    ly2 = math.log10(abs(y2 + 1e-4))
    mod = s * 10.0 ** ((ly2 - ly1) / (x2 - x1) * (jnp.log10(energy) - x1) + ly1 - 2.0)
    return mod if cutoff is None else mod * jnp.exp(-energy / cutoff)


def _gauss(x, amplitude, sigma):
    return amplitude / math.sqrt(2.0 * math.pi * sigma**2) * jnp.exp(-(x**2) / (2.0 * sigma**2))


def _barr_mod_flux(flavour: int, energy, cos_zenith):
    """PISA's ``ModFlux`` with every Barr knob at 1: the nu/nu-bar ratio modification shape."""
    if flavour == 1:
        ave = _loglog(energy, 3.0, 43.0, 0.5, 3.0)
        shape = 2.5 * _loglog(energy, 0.6, 5.0, 0.5, 2.0, 1000.0)
        return ave - (_gauss(cos_zenith, shape, 0.36) - 0.6 * shape)
    ave = _loglog(energy, 5.5, 53.0, 0.5, 3.0)
    shape = _loglog(energy, 0.9, 10.0, 0.5, 2.0, 650.0)
    return ave - (1.5 * _gauss(cos_zenith, shape, 0.36) - 0.7 * shape)


def _ratio_scale(ratio, a, b):
    """(a', b') with a'/b' = ratio a/b and a' + b' = a + b (PISA's ``apply_ratio_scale``)."""
    total = a + b
    safe_b = jnp.where(b > 0, b, 1.0)
    new_b = total / (1.0 + ratio * a / safe_b)
    new_a = ratio * a / safe_b * new_b
    ok = b > 0
    return jnp.where(ok, new_a, a), jnp.where(ok, new_b, b)


def flux_factors(
    flux: Float[Array, "2 2 *n"],
    energy_gev: Float[Array, "*n"],
    cos_zenith: Float[Array, "*n"],
    *,
    nue_numu_ratio=1.0,
    nu_nubar_ratio=1.0,
    delta_index=0.0,
    barr_uphor=0.0,
    barr_nu_nubar=0.0,
) -> Float[Array, "2 2 *n"]:
    """The modified flux (same layout as ``flux``: nu/nu-bar, e/mu) under the Barr-style systematics.

    In PISA ``barr_simple``'s order: (1) nu_e/nu_mu ratio x ``nue_numu_ratio`` preserving nu_e + nu_mu
    (separately for nu and nu-bar); (2) all fluxes x (E / 24.09 GeV)^``delta_index``; (3) nu/nu-bar
    ratio x ``nu_nubar_ratio`` preserving nu + nu-bar (per flavour); (4) nu/nu-bar x the Barr
    energy-zenith shape scaled by ``barr_nu_nubar`` (nu: x (1 + m/2), nu-bar: / (1 + m/2), floored at
    0); (5) nu_e and nu_e-bar x (1 - 0.3 sign(u) G(cos z)), the up/horizontal shape scaled by
    ``barr_uphor`` = u. All nominal values leave the flux unchanged. Differentiable in every knob.
    """
    f = jnp.asarray(flux)
    e = jnp.asarray(energy_gev)
    c = jnp.asarray(cos_zenith)
    nu_e, nu_mu = _ratio_scale(nue_numu_ratio, f[0, 0], f[0, 1])
    nub_e, nub_mu = _ratio_scale(nue_numu_ratio, f[1, 0], f[1, 1])
    idx = (e / INDEX_PIVOT_GEV) ** delta_index
    nu_e, nu_mu, nub_e, nub_mu = nu_e * idx, nu_mu * idx, nub_e * idx, nub_mu * idx
    nu_e, nub_e = _ratio_scale(nu_nubar_ratio, nu_e, nub_e)
    nu_mu, nub_mu = _ratio_scale(nu_nubar_ratio, nu_mu, nub_mu)
    m_e = barr_nu_nubar * _barr_mod_flux(0, e, c)
    m_mu = barr_nu_nubar * _barr_mod_flux(1, e, c)
    nu_e = nu_e * jnp.maximum(0.0, 1.0 + 0.5 * m_e)
    nu_mu = nu_mu * jnp.maximum(0.0, 1.0 + 0.5 * m_mu)
    nub_e = nub_e * jnp.maximum(0.0, 1.0 / (1.0 + 0.5 * m_e))
    nub_mu = nub_mu * jnp.maximum(0.0, 1.0 / (1.0 + 0.5 * m_mu))
    # PISA: 1 - 0.3 sign(u) G(cos z; |u| L(E), 0.35) = 1 - 0.3 u G(cos z; L(E), 0.35), linear in u
    uphor = 1.0 - 0.3 * barr_uphor * _gauss(c, _loglog(e, 0.9, 10.0, 0.5, 2.0, 650.0), 0.35)
    nu_e, nub_e = nu_e * uphor, nub_e * uphor
    return jnp.stack([jnp.stack([nu_e, nu_mu]), jnp.stack([nub_e, nub_mu])])
