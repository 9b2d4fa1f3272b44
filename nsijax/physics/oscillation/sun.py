"""Solar nu_e survival probability with NSI, averaged over each flux's production region.

Solar model: B23 / SF-III (Herrera & Serenelli 2023, Zenodo doi:10.5281/zenodo.10822316), GS98 or AGSS09
composition: electron density n_e(r), neutron-per-electron ratio Y_n(r) = n_n/n_e and the production
distributions of pp, pep, hep, 7Be, 8B, 13N, 15O, 17F neutrinos (nsijax/data/solar/README.md).

Method (``method="adiabatic"``, the default): at the production radius r the flavour state nu_e is
decomposed on the eigenstates of H(r) = U M U^dagger / 2E + V_CC(r) [diag(1,0,0) + eps(Y_n(r))],
eps = eps^e + (2 + Y_n) eps^u + (1 + 2 Y_n) eps^d (PHYSICS.md). Adiabatic evolution keeps the ordering
of the eigenvalues, so the k-th lowest matter eigenstate leaves the Sun as the k-th lightest vacuum mass
eigenstate; the Sun-Earth distance decoheres them. Hence

    P_ee(E) = sum_k  < |<nu_e|k_matter(r)>|^2 >_r  |U_{e, i(k)}|^2,

averaged over the production distribution of the chosen flux (e.g. Gonzalez-Garcia & Nir, RMP 75 (2003)
345, eq. 4.14, extended to three flavours and NSI). The average runs over the tabulated radii of
:func:`production_nodes`; :func:`survival_probability_at_nodes` evaluates the same formula on any given
nodes (e.g. arrays precomputed into an experiment's tables, :func:`stacked_production_nodes`), and
:func:`survival_probability` calls it. ``method="layered"`` is the numerical check: the
state is propagated with :func:`nsijax.physics.oscillation.oscillation_amplitude` radially outwards through the
tabulated profile (piecewise-constant layers of 0.002 R_sun), then projected on the vacuum mass states.
It is valid also where adiabaticity fails (large NSI, level crossings), up to the layer discretisation.
For many energies at once (binned fits), :func:`gauss_production_nodes` (a dozen Gauss nodes of the
production distribution) and :func:`mass_state_fractions_closed_form` (Cardano instead of eigh) give
the adiabatic fractions without a batched eigendecomposition.

Night (Earth crossing): pass ``earth_layers`` (e.g. :func:`nsijax.physics.oscillation.earth.prem_layers`); the mass-state
fractions p_i arriving at the Earth are propagated: P_ee = sum_i p_i |(S_earth U)_{e i}|^2.

Energies are in GeV, as everywhere in the oscillation API (1 MeV = 1e-3 GeV).
"""

from __future__ import annotations

import csv
import io
import math
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..._checks import nonnegative, positive
from ...constants import KM_TO_INV_EV, V_CC_EV_PER_GCC
from ...errors import InvalidInputError, InvalidParamsError
from ...parameters.nsi import NSI, components_to_matrix
from ...parameters.oscillation import OscParams, mass_matrix_flavour, pmns
from .decoupled import earth_amplitudes
from .layers import Layers
from .propagation import oscillation_amplitude

#: Solar radius [km] (IAU 2015 nominal value R_sun = 6.957e5 km).
R_SUN_KM = 6.957e5
#: Flux names available in the solar-model tables.
FLUXES = ("pp", "pep", "hep", "7Be", "8B", "13N", "15O", "17F")
MODELS = ("GS98", "AGSS09")


class SolarProfile(eqx.Module):
    """Tabulated solar model: radius r/R_sun, n_e [mol/cm^3], Y_n and production distributions."""

    r: Float[Array, " n"]
    ne: Float[Array, " n"]
    yn: Float[Array, " n"]
    production: dict  # flux name -> Float[Array, " n"] (per unit r/R_sun)


@lru_cache(maxsize=4)
def _load(model: str) -> tuple[np.ndarray, list[str]]:
    if model not in MODELS:
        raise InvalidInputError(f"solar model must be one of {MODELS}, got {model!r}")
    text = resources.files("nsijax").joinpath(f"data/solar/profile_SF3_{model}.csv").read_text("utf-8")
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    return np.array(rows[1:], dtype=float), rows[0]


def solar_profile(model: str = "GS98") -> SolarProfile:
    """The B23/SF-III profile for ``model`` in ``MODELS`` (see nsijax/data/solar/README.md)."""
    data, cols = _load(model)
    prod = {f: jnp.asarray(data[:, cols.index(f"nu_{f}")]) for f in FLUXES}
    return SolarProfile(
        jnp.asarray(data[:, 0]), jnp.asarray(data[:, 1]), jnp.asarray(data[:, 2]), prod
    )


@lru_cache(maxsize=32)
def _production_nodes(model: str, flux: str, rel_cut: float = 1e-7) -> tuple[np.ndarray, ...]:
    """Radii, trapezoid weights (normalised), n_e and Y_n where the flux is produced."""
    if flux not in FLUXES:
        raise InvalidInputError(f"flux must be one of {FLUXES}, got {flux!r}")
    data, cols = _load(model)
    r, ne, yn = data[:, 0], data[:, 1], data[:, 2]
    f = data[:, cols.index(f"nu_{flux}")]
    w = np.zeros_like(r)
    dr = np.diff(r)
    w[:-1] += 0.5 * dr * f[:-1]
    w[1:] += 0.5 * dr * f[1:]
    keep = w > rel_cut * w.max()
    w = w[keep] / w[keep].sum()
    return r[keep], w, ne[keep], yn[keep], np.nonzero(keep)[0]


class ProductionNodes(NamedTuple):
    """Nodes of a flux's production region: radius r/R_sun, normalised weight, n_e [mol/cm^3], Y_n."""

    r: np.ndarray
    weight: np.ndarray
    ne: np.ndarray
    yn: np.ndarray


def production_nodes(model: str = "GS98", flux: str = "8B") -> ProductionNodes:
    """The tabulated radii where ``flux`` is produced in the B23/SF-III ``model``, with trapezoid
    weights of its production distribution (normalised to 1; radii carrying < 1e-7 of the largest
    weight dropped), the electron density n_e [mol/cm^3] and Y_n there: the nodes over which
    :func:`survival_probability` (adiabatic) averages. NumPy arrays (copies), shape (R,)."""
    r, w, ne, yn, _ = _production_nodes(model, flux)  # unknown model or flux: InvalidInputError
    return ProductionNodes(r.copy(), w.copy(), ne.copy(), yn.copy())


def stacked_production_nodes(model: str, fluxes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`production_nodes` of several fluxes as padded arrays (weight, n_e, Y_n), each of shape
    (len(fluxes), R_max), for :func:`survival_probability_at_nodes` with one energy per flux. Padding
    nodes have weight 0 and repeat the last real node's n_e and Y_n (a copy of a real Hamiltonian, so
    the eigen-decompositions stay non-degenerate and gradients finite)."""
    nodes = [production_nodes(model, f) for f in fluxes]
    if not nodes:
        raise InvalidInputError("stacked_production_nodes needs at least one flux")
    n = max(len(nd.r) for nd in nodes)
    w = np.zeros((len(nodes), n))
    ne, yn = np.empty((len(nodes), n)), np.empty((len(nodes), n))
    for i, nd in enumerate(nodes):
        k = len(nd.r)
        w[i, :k] = nd.weight
        ne[i, :k], ne[i, k:] = nd.ne, nd.ne[-1]
        yn[i, :k], yn[i, k:] = nd.yn, nd.yn[-1]
    return w, ne, yn


def gauss_production_nodes(model: str = "GS98", flux: str = "8B", n: int = 12) -> ProductionNodes:
    """Gauss quadrature of the production distribution of ``flux`` in the B23/SF-III ``model``: ``n`` radii
    and weights exact for polynomials in r of degree < 2n against the tabulated (trapezoid) distribution
    of :func:`production_nodes` (Lanczos on the discrete measure, Golub-Welsch). n_e (log-linear) and Y_n
    (linear) are interpolated in the full profile table. Weights normalised to 1; NumPy arrays, shape (n,).
    With n = 12 for 8B, the adiabatic P_a is within ~1e-5 of the average over all 120 tabulated radii."""
    nodes = production_nodes(model, flux)
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
    radii, vec = np.linalg.eigh(jac)
    weights = vec[0] ** 2
    table, _ = _load(model)
    ne = np.exp(np.interp(radii, table[:, 0], np.log(table[:, 1])))
    yn = np.interp(radii, table[:, 0], table[:, 2])
    return ProductionNodes(radii, weights / weights.sum(), ne, yn)


def mass_state_fractions_closed_form(
    osc: OscParams,
    energy_gev: Float[Array, " E"],
    weight: Float[Array, " R"],
    ne: Float[Array, " R"],
    yn: Float[Array, " R"],
    *,
    nsi: NSI | None = None,
) -> Float[Array, "E 3"]:
    """Adiabatic mass-state fractions p_i (E, 3) leaving the Sun, averaged over production nodes (normalised
    weights, n_e [mol/cm^3], Y_n; e.g. :func:`gauss_production_nodes`): :func:`mass_state_fractions` in
    closed form. Energies in GeV.

    The eigenvalues of 2E H = U M U^dagger + 2E V_CC (diag(1,0,0) + eps(Y_n)) come from Cardano's formula,
    the nu_e projections from the adjugate, |<nu_e|k>|^2 = ((l_k - H_mm)(l_k - H_tt) - |H_mt|^2) /
    prod_{j != k} (l_k - l_j): elementwise arithmetic instead of a batched eigh (same numbers on the same
    nodes to ~1e-12; the spectrum is never degenerate in the Sun, dm21 sin 2theta12 > 0). No argument
    checks (hot path of fits; the caller passes validated nodes).
    """
    kin = mass_matrix_flavour(osc) / jnp.abs(osc.dm31)  # units of |dm31| (eV^2)
    mat = jnp.zeros((ne.shape[0], 3, 3), complex).at[:, 0, 0].set(1.0)
    if nsi is not None:
        mat = mat + components_to_matrix(nsi.matter_components(yn))
    v = (2e9 * V_CC_EV_PER_GCC / jnp.abs(osc.dm31)) * energy_gev[:, None] * ne[None, :]  # (E, R)
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
    pk = jnp.einsum("erk,r->ek", jnp.stack(pk, axis=-1), weight)
    return jnp.zeros_like(pk).at[:, _vacuum_order(osc)].set(pk)


def flavour_probabilities(
    osc: OscParams,
    energy_gev: Float[Array, " E"],
    weight: Float[Array, " R"],
    ne: Float[Array, " R"],
    yn: Float[Array, " R"],
    *,
    nsi: NSI | None = None,
    night: Layers | None = None,
    night_weight: Float[Array, " Z"] | None = None,
) -> tuple[Float[Array, "E 3"], Float[Array, "E 3"] | None]:
    """P(nu_e -> nu_a) at the detector, (day, night), each (E, 3): the adiabatic mass-state fractions p_i over the
    production nodes (:func:`mass_state_fractions_closed_form`), day P_a = sum_i p_i |U_ai|^2, night averaged over
    the paths ``night`` (Layers (Z, n)) with ``night_weight`` (Z,) summing to 1, nu_3 decoupled in the Earth
    (:func:`nsijax.physics.oscillation.decoupled.earth_amplitudes`). ``night`` None: night is None. Energies in GeV;
    no argument checks (hot path of the solar experiments)."""
    p = mass_state_fractions_closed_form(osc, energy_gev, weight, ne, yn, nsi=nsi)  # (E, 3)
    u = pmns(osc)
    u2 = jnp.real(u) ** 2 + jnp.imag(u) ** 2
    day = p @ u2.T
    if night is None:
        return day, None
    amp = earth_amplitudes(osc, energy_gev, night, nsi=nsi)  # (Z, E, a, 2)
    pz = jnp.real(amp) ** 2 + jnp.imag(amp) ** 2
    night12 = jnp.einsum("z,zeai,ei->ea", night_weight, pz, p[:, :2])
    return day, night12 + p[:, 2:] * u2[None, :, 2]


def _hamiltonian(osc, energy_gev, ne, yn, nsi):
    """H [eV] at energies (E,) and radii (R,) or (E, R) (n_e, Y_n): shape (E, R, 3, 3)."""
    e_ev = energy_gev[..., None] * 1e9  # (E, 1)
    kin = mass_matrix_flavour(osc) / 2.0  # eV^2
    v = V_CC_EV_PER_GCC * ne  # eV, (R,)
    e1 = jnp.zeros((3, 3)).at[0, 0].set(1.0)
    if nsi is None:
        mat = v[..., None, None] * e1
    else:
        mat = v[..., None, None] * (e1 + components_to_matrix(nsi.matter_components(yn)))
    return kin / e_ev[..., None, None] + mat


def _vacuum_order(osc):
    """Permutation i(k): vacuum mass index of the k-th lowest eigenvalue of diag(0, dm21, dm31)."""
    return jnp.argsort(jnp.stack([jnp.zeros_like(osc.dm21), osc.dm21, osc.dm31]))


def _check_args(osc, energy_gev, nsi):
    if not isinstance(osc, OscParams):
        raise InvalidParamsError(f"osc must be an OscParams, got {type(osc).__name__}")
    if nsi is not None and not isinstance(nsi, NSI):
        raise InvalidParamsError(f"nsi must be None or an nsijax.NSI, got {type(nsi).__name__}")
    return positive(energy_gev, "energy_gev", "GeV")


def mass_state_fractions(
    osc: OscParams,
    energy_gev: Float[Array, "*E"],
    flux: str = "8B",
    *,
    nsi: NSI | None = None,
    model: str = "GS98",
    yn: float | None = None,
) -> Float[Array, "*E 3"]:
    """Adiabatic fractions p_i of vacuum mass states nu_1, nu_2, nu_3 leaving the Sun (sum to 1).

    Args:
        osc: oscillation parameters.
        energy_gev: neutrino energies [GeV].
        flux: production region to average over (one of :data:`FLUXES`).
        nsi: NSI couplings; weighted with the local Y_n(r) of the solar model.
        model: ``"GS98"`` or ``"AGSS09"`` (B23/SF-III).
        yn: if given, a constant Y_n replacing the model's composition in the NSI weights.
    """
    energy = _check_args(osc, energy_gev, nsi)
    w, ne, yn_arr = _model_nodes(model, flux, yn)
    return _fractions(osc, energy, w, ne, yn_arr, nsi)


def _model_nodes(model, flux, yn):
    """(weight, n_e, Y_n) of :func:`production_nodes` as arrays; Y_n replaced by ``yn`` if given."""
    nd = production_nodes(model, flux)
    yn_arr = jnp.asarray(nd.yn) if yn is None else jnp.full(len(nd.r), float(yn))
    return jnp.asarray(nd.weight), jnp.asarray(nd.ne), yn_arr


@jax.jit
def _fractions(osc, energy, w, ne, yn, nsi):
    """Adiabatic mass-state fractions (*E, 3) at energies (*E) [GeV] averaged over nodes (weights w,
    n_e, Y_n) of shape (R,) (shared) or (*E, R) (one node set per energy)."""
    shape = energy.shape
    e = energy.reshape(-1)
    if w.ndim > 1:
        w, ne, yn = (x.reshape(e.shape[0], -1) for x in (w, ne, yn))
    h = _hamiltonian(osc, e, ne, yn, nsi)
    _, vec = jnp.linalg.eigh(h)  # ascending eigenvalues; vec[..., a, k]
    pe = jnp.abs(vec[..., 0, :]) ** 2  # (E, R, 3): |<nu_e|k>|^2
    pk = jnp.sum(pe * jnp.broadcast_to(w, pe.shape[:-1])[..., None], axis=-2)
    order = _vacuum_order(osc)
    p = jnp.zeros_like(pk).at[:, order].set(pk)
    return p.reshape(shape + (3,))


def _pee_from_fractions(osc, energy, p, nsi, earth_layers):
    """P_ee = sum_i p_i |U_ei|^2 (day) or sum_i p_i |(S_earth U)_ei|^2 (through ``earth_layers``)."""
    u = pmns(osc)
    if earth_layers is None:
        return jnp.sum(p * jnp.abs(u[0, :]) ** 2, axis=-1)
    s = oscillation_amplitude(osc, energy, earth_layers, nsi=nsi)  # S[..., b, a]
    su = jnp.einsum("...a,ai->...i", s[..., 0, :], u)  # (S U)_{e i}
    return jnp.sum(p * jnp.abs(su) ** 2, axis=-1)


def survival_probability_at_nodes(
    osc: OscParams,
    energy_gev: Float[Array, "*E"],
    weight: Float[Array, "*B R"],
    ne: Float[Array, "*B R"],
    yn: Float[Array, "*B R"],
    *,
    nsi: NSI | None = None,
    earth_layers: Layers | None = None,
) -> Float[Array, "*E"]:
    """Adiabatic solar P_ee(E) averaged over given production nodes (the formula of the module
    docstring; :func:`survival_probability` calls this with the nodes of :func:`production_nodes`).

    Args:
        osc: oscillation parameters.
        energy_gev: neutrino energies [GeV].
        weight: node weights (>= 0; normalised to 1 over the last axis by the caller, zeros allowed for
            padding, see :func:`stacked_production_nodes`).
        ne: electron density n_e [mol/cm^3] at the nodes (> 0).
        yn: neutron-per-electron ratio Y_n at the nodes (>= 0).
        nsi: matter NSI couplings, weighted with the nodes' Y_n.
        earth_layers: optional Earth path (night); an unbatched :class:`Layers`.

    Node arrays have shape (R,) (shared by all energies) or ``energy_gev.shape + (R,)`` (one node set
    per energy, e.g. one per measured flux). Jit-, vmap- and grad-able in ``osc``, ``nsi`` and the nodes.

    Returns:
        P(nu_e -> nu_e) at the detector, shape ``energy_gev.shape``.
    """
    energy = _check_args(osc, energy_gev, nsi)
    w = nonnegative(weight, "weight")
    ne = positive(ne, "ne", "mol/cm^3")
    yn = nonnegative(yn, "yn")
    if not (w.shape == ne.shape == yn.shape) or w.ndim == 0 or w.shape[:-1] not in ((), energy.shape):
        raise InvalidInputError(
            f"weight, ne and yn must share a shape (R,) or energy_gev.shape + (R,) = {energy.shape + ('R',)}; "
            f"got {w.shape}, {ne.shape}, {yn.shape}"
        )
    p = _fractions(osc, energy, w, ne, yn, nsi)
    return _pee_from_fractions(osc, energy, p, nsi, earth_layers)


def survival_probability(
    osc: OscParams,
    energy_gev: Float[Array, "*E"],
    flux: str = "8B",
    *,
    nsi: NSI | None = None,
    model: str = "GS98",
    yn: float | None = None,
    method: str = "adiabatic",
    earth_layers: Layers | None = None,
) -> Float[Array, "*E"]:
    """Solar nu_e survival probability P_ee(E) averaged over the production region of ``flux``.

    Args:
        osc, energy_gev, flux, nsi, model, yn: as in :func:`mass_state_fractions`.
        method: ``"adiabatic"`` (closed form, default; :func:`survival_probability_at_nodes` on the
            :func:`production_nodes` of ``flux``) or ``"layered"`` (numerical propagation through the
            tabulated profile, a check of adiabaticity; slower).
        earth_layers: optional Earth path (night); an unbatched :class:`Layers`.

    Returns:
        P(nu_e -> nu_e) at the detector, shape ``energy_gev.shape``.
    """
    energy = _check_args(osc, energy_gev, nsi)
    if method == "adiabatic":
        w, ne, yn_arr = _model_nodes(model, flux, yn)
        return survival_probability_at_nodes(osc, energy, w, ne, yn_arr, nsi=nsi, earth_layers=earth_layers)
    if method == "layered":
        p = _fractions_layered(osc, energy, flux, nsi=nsi, model=model, yn=yn)
        return _pee_from_fractions(osc, energy, p, nsi, earth_layers)
    raise InvalidInputError(f"method must be 'adiabatic' or 'layered', got {method!r}")


def _fractions_layered(osc, energy, flux, *, nsi, model, yn):
    """Mass-state fractions from layered propagation from each production radius to the surface."""
    data, _ = _load(model)
    r_all, ne_all, yn_all = data[:, 0], data[:, 1], data[:, 2]
    rp, w, _, _, idx = _production_nodes(model, flux, rel_cut=1e-4)
    # layers between consecutive table radii, density = mean n_e of the two nodes (as rho*Ye)
    ne_mid = 0.5 * (ne_all[:-1] + ne_all[1:])
    yn_mid = 0.5 * (yn_all[:-1] + yn_all[1:]) if yn is None else np.full(len(ne_mid), float(yn))
    dr = np.diff(r_all) * R_SUN_KM
    start = np.minimum(idx, len(dr))
    lengths = np.where(np.arange(len(dr))[None, :] >= start[:, None], dr[None, :], 0.0)
    layers = Layers(
        jnp.asarray(lengths),
        jnp.broadcast_to(jnp.asarray(ne_mid), lengths.shape),
        1.0,
        jnp.broadcast_to(jnp.asarray(yn_mid), lengths.shape),
    )
    shape = energy.shape
    s = oscillation_amplitude(osc, energy.reshape(-1), layers, nsi=nsi)  # (P, E, 3, 3)
    u = pmns(osc)
    amp = jnp.einsum("peb,bi->pei", s[..., :, 0], jnp.conj(u))  # <nu_i| S |nu_e>
    p = jnp.einsum("pei,p->ei", jnp.abs(amp) ** 2, jnp.asarray(w))
    return p.reshape(shape + (3,))


def adiabaticity(
    osc: OscParams,
    energy_gev: Float[Array, "*E"],
    *,
    nsi: NSI | None = None,
    model: str = "GS98",
    r_min: float = 0.0,
) -> Float[Array, "*E"]:
    """Smallest adiabaticity parameter along the solar radius, min over r > r_min and level pairs.

    gamma_ij(r) = (lambda_i - lambda_j)^2 / |<i| dH/dx |j>| (x in natural units, eigenstates of H(r)),
    e.g. Kuo & Pantaleone, RMP 61 (1989) 937. Adiabatic evolution (``method="adiabatic"``) is reliable
    where gamma >> 1 (say > 10); otherwise use ``method="layered"``. Derivatives by central differences
    on the tabulated profile (0.002 R_sun). Shape ``energy_gev.shape``.
    """
    energy = _check_args(osc, energy_gev, nsi)
    data, _ = _load(model)
    keep = data[:, 0] >= float(r_min)
    r, ne, yn = data[keep, 0], data[keep, 1], data[keep, 2]
    shape = energy.shape
    h = _hamiltonian(osc, energy.reshape(-1), jnp.asarray(ne), jnp.asarray(yn), nsi)  # (E, R, 3, 3)
    dx = (r[2:] - r[:-2]) * R_SUN_KM * KM_TO_INV_EV
    dh = (h[:, 2:] - h[:, :-2]) / jnp.asarray(dx)[None, :, None, None]
    lam, vec = jnp.linalg.eigh(h[:, 1:-1])
    proj = jnp.abs(jnp.einsum("erai,erab,erbj->erij", jnp.conj(vec), dh, vec))
    gap2 = (lam[..., :, None] - lam[..., None, :]) ** 2
    off = ~np.eye(3, dtype=bool)
    gamma = jnp.where(off, gap2 / jnp.maximum(proj, 1e-300), jnp.inf)
    return jnp.min(gamma, axis=(-3, -2, -1)).reshape(shape)
