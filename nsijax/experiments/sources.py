"""Pion-decay-at-rest source: spectra, quadrature nodes and arrival-time PDFs (NumPy, load time).

Everything here runs once when an experiment is loaded or its tables are built; nothing is traced.

Spectra (PHYSICS.md; e.g. Louis, Los Alamos Science 25 (1997)), normalised to one neutrino per decay:
    nu_mu (prompt, pi+ -> mu+ nu_mu): line at E_p = (m_pi^2 - m_mu^2) / (2 m_pi) = 29.79 MeV,
    nu_e  (delayed, mu+ decay):       (192 / m_mu) x^2 (1/2 - x),  x = E / m_mu < 1/2,
    anti-nu_mu (delayed):             ( 64 / m_mu) x^2 (3/4 - x).

Timing: prompt neutrinos follow the proton pulse convolved with the pion lifetime (26.0 ns); delayed
neutrinos add the muon lifetime (2.197 us). The proton pulse is modelled as a Gaussian (mean, width),
as in the COHERENT LAr release (``LArParametersAnlA.yaml``: 440 +- 200 ns, 150 ns).
"""

from __future__ import annotations

import numpy as np

from .. import constants as c

#: The three pi-DAR neutrino components: name -> (flavour index, antineutrino, prompt).
COMPONENTS: dict[str, tuple[int, bool, bool]] = {
    "nu_mu": (1, False, True),
    "nu_e": (0, False, False),
    "nu_mu_bar": (1, True, False),
}

E_MAX = c.M_MU / 2.0  # MeV, end point of the delayed spectra


def delayed_spectrum(E_mev: np.ndarray, component: str) -> np.ndarray:
    """Normalised delayed pi-DAR spectrum dN/dE in 1/MeV (zero outside 0 <= E <= m_mu / 2)."""
    x = np.asarray(E_mev, float) / c.M_MU
    if component == "nu_e":
        shape = 192.0 * x**2 * (0.5 - x)
    elif component == "nu_mu_bar":
        shape = 64.0 * x**2 * (0.75 - x)
    else:
        raise ValueError(f"not a delayed component: {component!r}")
    return np.where((x >= 0) & (x <= 0.5), shape, 0.0) / c.M_MU


def e_min(T_mev: np.ndarray, mass_mev: float) -> np.ndarray:
    """Minimum neutrino energy (MeV) giving recoil T on a nucleus of mass M: (T + sqrt(T^2 + 2MT))/2."""
    T = np.asarray(T_mev, float)
    return 0.5 * (T + np.sqrt(T**2 + 2.0 * mass_mev * T))


def energy_nodes(T_mev: np.ndarray, mass_mev: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes in E on [E_min(T), m_mu/2] for each recoil node (shape (nT, n) each).

    Integrating from the kinematic threshold of each T keeps the integrand smooth, so a few nodes
    reach ~1e-6 relative accuracy. Recoils above T_max(m_mu/2) get zero weights.
    """
    x, w = np.polynomial.legendre.leggauss(n)
    u, wu = 0.5 * (x + 1.0), 0.5 * w
    lo = np.minimum(e_min(T_mev, mass_mev), E_MAX)
    span = (E_MAX - lo)[:, None]
    return lo[:, None] + span * u[None, :], span * wu[None, :]


def recoil_nodes(t_lo_mev: float, t_hi_mev: float, panels: int, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss-Legendre nodes in recoil energy (MeV) on [t_lo, t_hi], log-spaced panels."""
    edges = np.geomspace(t_lo_mev, t_hi_mev, panels + 1)
    x, w = np.polynomial.legendre.leggauss(order)
    u, wu = 0.5 * (x + 1.0), 0.5 * w
    a, b = edges[:-1, None], edges[1:, None]
    return (a + (b - a) * u).ravel(), ((b - a) * wu).ravel()


def arrival_time_density(t_ns: np.ndarray, mean_ns: float, width_ns: float) -> dict[str, np.ndarray]:
    """Arrival-time densities (1/ns) of prompt and delayed neutrinos on a uniform grid ``t_ns``.

    Gaussian proton pulse (mean, width) convolved with exp(-t/tau_pi) (prompt), then with
    exp(-t/tau_mu) (delayed); discrete convolution with exactly normalised exponential kernels.
    """
    t = np.asarray(t_ns, float)
    dt = t[1] - t[0]
    pulse = np.exp(-0.5 * ((t - mean_ns) / width_ns) ** 2) / (np.sqrt(2 * np.pi) * width_ns)
    k = np.arange(t.size) * dt
    # exactly normalised discrete exponential kernels (probability of decaying in each grid step)
    pion = np.exp(-k / c.TAU_PI_NS) * -np.expm1(-dt / c.TAU_PI_NS)
    muon = np.exp(-k / c.TAU_MU_NS) * -np.expm1(-dt / c.TAU_MU_NS)
    prompt = np.convolve(pulse, pion)[: t.size]
    delayed = np.convolve(prompt, muon)[: t.size]
    # the grid starts before the pulse: values before t[0] are negligible (checked by the builders)
    return {"prompt": prompt, "delayed": delayed}


def binned_time_pdf(
    edges_us: np.ndarray,
    mean_ns: float,
    width_ns: float,
    efficiency=None,
    t0_ns: float | None = None,
    step_ns: float = 1.0,
) -> np.ndarray:
    """Probability per analysis time bin (edges in us) for prompt and delayed neutrinos, shape (2, nt).

    ``efficiency(t_us)`` multiplies the density before integration (time-dependent cut efficiency).
    The probabilities are not renormalised: events outside the window are lost, as in the data.
    """
    edges_ns = np.asarray(edges_us, float) * 1e3
    start = min(edges_ns[0], mean_ns - 8 * width_ns) if t0_ns is None else t0_ns
    t = np.arange(start - 8 * width_ns, edges_ns[-1] + step_ns, step_ns)
    dens = arrival_time_density(t, mean_ns, width_ns)
    eff = np.ones_like(t) if efficiency is None else efficiency(t / 1e3)
    out = np.zeros((2, edges_ns.size - 1))
    for i, key in enumerate(("prompt", "delayed")):
        y = dens[key] * eff
        cum = np.concatenate([[0.0], np.cumsum(0.5 * (y[1:] + y[:-1]) * step_ns)])
        out[i] = np.diff(np.interp(edges_ns, t, cum))
    return out
