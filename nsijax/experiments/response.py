"""Detector response models and backgrounds of the shipped experiments (pure JAX, traced).

Each model maps the recoil rates of the three pi-DAR components (events per recoil node, shape (3, nT))
and the nuisance pulls theta (standard-normal units, order ``experiment.nuisance_names``) to binned
expected counts per component. No Python loop runs over bins; every array has a static shape.

Nuisance conventions:
    * normalisations: factor max(1 + sigma theta, 0) (documented floor at zero);
    * +-1 sigma alternative sets (coefficients or templates c+, c-): piecewise interpolation,
      exact at theta = 0, +-1, linear extrapolation outside |theta| <= 1 (slopes c+ - c0 above,
      c0 - c- below) and inside the sixth-order polynomial that joins them with continuous first and
      second derivatives (HistFactory / pyhf ``code4p``, :func:`interp_sets`);
    * one-sided alternatives c1: c(theta) = c0 + theta (c1 - c0).

Models:
    ``csi_poisson_2017`` (COHERENT CsI 2017 release, arXiv:1804.09459): flat quenching factor,
        light yield in PE/keVee, Poisson photo-electron statistics, acceptance
        a / (1 + exp(-k (x - x0))) H(x - 5) on 1-PE bins, released arrival-time PDFs.
    ``csi_gamma_2021`` (arXiv:2110.07730 ancillary files): scintillation response
        E_ee = a T + b T^2 + c T^3 + d T^4 (MeV), gamma-distributed PE (density integrated over
        1-PE bins by Gauss-Legendre), energy efficiency
        a/(1 + exp(-b (x - c))) + d, time efficiency folded into the time PDFs.
    ``lar_2020`` (arXiv:2006.12659): QF = a + b T[keVnr], Gaussian resolution 0.58 sqrt(E[keVee]),
        tabulated acceptance, per-energy-bin F90 distribution of the released CEvNS PDF, analytic
        prompt/delayed timing, the released shape systematics as relative templates.
    ``lar_2020_release``: as ``lar_2020`` but the CEvNS (E, F90, t) cube is the release's
        ``cevnspdf.txt`` reweighted, per energy bin and component, by predicted / SM-predicted counts
        (so the SM gives exactly the official template, scaled to this model's SM normalisation).
"""

from __future__ import annotations

import jax.numpy as jnp
from jax.scipy.special import gammaln, ndtr
from jaxtyping import Array, Float

from .experiment import Experiment

#: Smallest electron-equivalent energy (keVee) used in the smearing (guards E -> 0 divisions).
E_EE_FLOOR_KEV = 1e-6

CEVNS_KEYS = ("cevns_nu_mu", "cevns_nu_e", "cevns_nu_mu_bar")
_TIME_ROW = (0, 1, 1)  # prompt, delayed, delayed


def interp_sets(theta, c0, c_plus, c_minus):
    """Nominal ``c0`` moved towards the +-1 sigma alternatives ``c_plus`` / ``c_minus`` by the pull theta.

    Piecewise (HistFactory "code 4p", as pyhf's ``code4p`` and evermore): with d+ = c+ - c0 and
    d- = c0 - c-,

        |theta| > 1:   c0 + theta d+ (theta > 1),  c0 + theta d- (theta < -1)      (linear)
        |theta| <= 1:  c0 + theta (d+ + d-)/2 + (d+ - d-)/16 (3 theta^6 - 10 theta^4 + 15 theta^2)

    exact at theta = 0, +-1, with value, slope and curvature continuous at |theta| = 1, so a pull far
    outside +-1 sigma extrapolates the systematic linearly instead of quadratically. Broadcasts.
    """
    d_up = c_plus - c0
    d_dn = c0 - c_minus
    t2 = theta * theta
    inside = theta * 0.5 * (d_up + d_dn) + 0.0625 * (d_up - d_dn) * t2 * (15.0 + t2 * (3.0 * t2 - 10.0))
    outside = theta * jnp.where(theta > 0, d_up, d_dn)
    return c0 + jnp.where(jnp.abs(theta) <= 1.0, inside, outside)


def norm_factor(theta, sigma):
    """Normalisation factor max(1 + sigma theta, 0)."""
    return jnp.maximum(1.0 + sigma * theta, 0.0)


def _cevns_components(spec_e: Float[Array, "3 nE"], time_pdf, scale, extra_axes=()) -> dict[str, Array]:
    out = {}
    for i, key in enumerate(CEVNS_KEYS):
        out[key] = scale * jnp.tensordot(spec_e[i], time_pdf[_TIME_ROW[i]], axes=0)
    return out


def csi_poisson_2017(exp: Experiment, theta, rates, scale) -> dict[str, Array]:
    t, s = exp.tables, exp.nuisance_sigma
    ly, qf0 = t["detector"][0], t["detector"][1]
    qf = jnp.maximum(qf0 + s[1] * theta[1], 1e-6)
    mu = ly * qf * exp.recoil_mev * 1e3  # mean PE (T in keV)
    n = t["pe_counts"]
    logp = n[None, :] * jnp.log(mu)[:, None] - mu[:, None] - gammaln(n + 1.0)[None, :]
    prob = jnp.exp(logp)  # (nT, n_max)
    ep = t["efficiency_par"]  # rows a, k, x0; columns value, +err, -err
    a, k, x0 = (interp_sets(theta[2 + i], ep[i, 0], ep[i, 0] + ep[i, 1], ep[i, 0] - ep[i, 2]) for i in range(3))

    def eff(x):
        step = jnp.where(x < 5.0, 0.0, jnp.where(x < 6.0, 0.5, 1.0))
        # floor at zero: extreme pulls of (a, k, x0) must not make the efficiency (and mu) negative
        return jnp.maximum(a / (1.0 + jnp.exp(-k * (x - x0))), 0.0) * step

    spec = (rates @ prob) * eff(t["pe_centres"])  # (3, n_max)
    spec_pe = spec @ t["pe_aggregate"]  # (3, nPE)
    f = norm_factor(theta[0], s[0]) * scale
    out = _cevns_components(spec_pe, t["time_pdf"], f)
    brn_pe = (t["brn_pe_1pe"] * eff(t["brn_centres"])) @ t["brn_aggregate"]
    out["ssb"] = t["ssb"] * norm_factor(theta[5], s[5])
    out["brn"] = norm_factor(theta[6], s[6]) * jnp.outer(brn_pe, t["time_pdf"][2])
    return out


def csi_gamma_2021(exp: Experiment, theta, rates, scale) -> dict[str, Array]:
    t, s = exp.tables, exp.nuisance_sigma
    q = t["quenching_sets"]  # nominal, model0 +, model0 -, model1 +, model1 -
    coef = q[0] + (interp_sets(theta[1], q[0], q[1], q[2]) - q[0]) + (interp_sets(theta[2], q[0], q[3], q[4]) - q[0])
    x = exp.recoil_mev
    e_ee = 1e3 * x * (coef[0] + x * (coef[1] + x * (coef[2] + x * coef[3])))  # keVee
    e_ee = jnp.maximum(e_ee, E_EE_FLOOR_KEV)
    a_res, b_res = t["detector"][1], t["detector"][2]
    shape = 1.0 + b_res * e_ee
    rate = a_res / e_ee * shape  # 1/PE
    # probability per 1-PE bin: the gamma density integrated by Gauss-Legendre (GAMMA_NODES per bin).
    # (jax.scipy.special.gammainc has no second derivative in its shape argument; this form is
    # smooth to all orders in the nuisances, so Hessians and Newton profiling work.)
    x = t["pe_gl_nodes"]  # (n_fine, GAMMA_NODES)
    logpdf = (
        (shape - 1.0)[:, None, None] * jnp.log(x)[None]
        - rate[:, None, None] * x[None]
        + (shape * jnp.log(rate) - gammaln(shape))[:, None, None]
    )
    prob = jnp.sum(jnp.exp(logpdf) * t["pe_gl_weights"][None], axis=-1)  # (nT, n_fine)
    es = t["efficiency_sets"]
    ec = interp_sets(theta[3], es[0], es[1], es[2])
    centres = 0.5 * (t["pe_fine_edges"][1:] + t["pe_fine_edges"][:-1])
    eff = jnp.maximum(ec[0] / (1.0 + jnp.exp(-ec[1] * (centres - ec[2]))) + ec[3], 0.0)
    spec_pe = ((rates @ prob) * eff) @ t["pe_aggregate"]
    f = norm_factor(theta[0], s[0]) * scale
    out = _cevns_components(spec_pe, t["time_pdf"], f)
    out["ssb"] = t["ssb"] * norm_factor(theta[4], s[4])
    out["brn"] = t["brn"] * norm_factor(theta[5], s[5])
    out["nin"] = t["nin"] * norm_factor(theta[6], s[6])
    return out


def lar_energy_spectrum(exp: Experiment, theta, rates) -> Float[Array, "3 nE"]:
    """CEvNS counts per reconstructed-energy bin and component (quenching, resolution, acceptance)."""
    t = exp.tables
    d = t["detector"]  # a, b, sigma_a, sigma_b, resolution
    qa = d[0] + d[2] * theta[2]
    qb = d[1] + d[3] * theta[3]
    tk = exp.recoil_mev * 1e3
    e_ee = jnp.maximum((qa + qb * tk) * tk, E_EE_FLOOR_KEV)
    sig = d[4] * jnp.sqrt(e_ee)
    cdf = ndtr((t["e_fine_edges"][None, :] - e_ee[:, None]) / sig[:, None])
    prob = jnp.diff(cdf, axis=1)
    return ((rates @ prob) * t["e_fine_efficiency"]) @ t["e_aggregate"]


def lar_2020(exp: Experiment, theta, rates, scale) -> dict[str, Array]:
    t, s = exp.tables, exp.nuisance_sigma
    spec_e = lar_energy_spectrum(exp, theta, rates)  # (3, nE)
    f90 = t["f90_shape"]
    r_f90 = interp_sets(theta[4], 1.0, t["cevns_f90_ratio"][0], t["cevns_f90_ratio"][1])
    r_tim = 1.0 + theta[5] * (t["cevns_timing_ratio"][0] - 1.0)
    shape_syst = jnp.maximum(r_f90 * r_tim, 0.0)
    f = norm_factor(theta[0], s[0]) * norm_factor(theta[1], s[1]) * scale
    out = {}
    if exp.response == "lar_2020_release":
        sm_tot = jnp.sum(t["sm_energy"], axis=0)
        ok = sm_tot > 0
        for i, key in enumerate(CEVNS_KEYS):
            w = jnp.where(ok, spec_e[i] / jnp.where(ok, sm_tot, 1.0), 0.0)
            out[key] = f * t["official_cevns"] * w[:, None, None] * shape_syst
    else:
        for i, key in enumerate(CEVNS_KEYS):
            cube = spec_e[i][:, None, None] * f90[:, :, None] * t["time_pdf"][_TIME_ROW[i]][None, None, :]
            out[key] = f * cube * shape_syst
    r_e = interp_sets(theta[9], 1.0, t["brn_energy_ratio"][0], t["brn_energy_ratio"][1])
    r_m = interp_sets(theta[10], 1.0, t["brn_timing_mean_ratio"][0], t["brn_timing_mean_ratio"][1])
    r_w = 1.0 + theta[11] * (t["brn_timing_width_ratio"][0] - 1.0)
    out["ssb"] = t["ssb"] * norm_factor(theta[6], s[6])
    out["brn"] = t["brn"] * norm_factor(theta[7], s[7]) * jnp.maximum(r_e * r_m * r_w, 0.0)
    out["brn_delayed"] = t["brn_delayed"] * norm_factor(theta[8], s[8])
    return out


MODELS = {
    "csi_poisson_2017": csi_poisson_2017,
    "csi_gamma_2021": csi_gamma_2021,
    "lar_2020": lar_2020,
    "lar_2020_release": lar_2020,
}


def apply(exp: Experiment, theta, rates, scale) -> dict[str, Array]:
    """Binned counts per component: the three CEvNS components, their sum "cevns", backgrounds."""
    out = MODELS[exp.response](exp, theta, rates, scale)
    cevns = out["cevns_nu_mu"] + out["cevns_nu_e"] + out["cevns_nu_mu_bar"]
    result = {k: out[k] for k in CEVNS_KEYS}
    result["cevns"] = cevns
    result.update({k: v for k, v in out.items() if k not in CEVNS_KEYS})
    return result


def total(components: dict[str, Array]) -> Array:
    """Sum of "cevns" and every background (the per-flavour CEvNS entries are not double counted)."""
    if "prediction" in components:
        return components["prediction"]
    return sum(v for k, v in components.items() if k not in CEVNS_KEYS)


# --- Gaussian experiments (CHARM, NuTeV) ----------------------------------------------------------
#: Off-diagonal component index pairs (re, im) of nsijax.parameters.nsi.COMPONENTS touching flavour e / mu.
_OFF = {0: ((3, 4), (5, 6)), 1: ((3, 4), (7, 8))}


def gaussian_prediction(params, exp: Experiment) -> Float[Array, " nobs"]:
    """Predicted CHARM R_e and NuTeV g_L^2, g_R^2 with NSI and a Z' (Davidson et al., JHEP 03 (2003) 011).

    The quark NSI are vector couplings; the chiral ones are taken as eps^{qL} = eps^{qR} = eps^{qV}/2.
        R_e   = sum_q [(g_L^q + eps^q_ee/2)^2 + (g_R^q + eps^q_ee/2)^2] + sum_{a != e} |eps^q_ae|^2 / 2,
        g_L^2 = sum_q (g_L^q + eps^q_mumu/2)^2 + sum_{a != mu} |eps^q_amu|^2 / 4, and g_R^2 alike.
    A Z' enters through eps(q^2) at the measurement's momentum transfer (spec ``q2_gev2``).
    """
    t = exp.tables
    gl_u, gl_d, gr_u, gr_d = (t["sm_couplings"][i] for i in range(4))
    preds = []
    for j, obs in enumerate(exp.observables):
        eu, ed = params.nsi.u, params.nsi.d
        if params.zprime is not None:
            zn = params.zprime.nsi(t["q2_mev2"][j])
            eu, ed = eu + zn.u, ed + zn.d
        a = 0 if obs == "charm_Re" else 1
        off = sum(eu[..., i] ** 2 + ed[..., i] ** 2 for pair in _OFF[a] for i in pair)
        if obs == "charm_Re":
            val = (
                (gl_u + eu[..., 0] / 2) ** 2 + (gl_d + ed[..., 0] / 2) ** 2
                + (gr_u + eu[..., 0] / 2) ** 2 + (gr_d + ed[..., 0] / 2) ** 2 + off / 2
            )
        elif obs == "nutev_gL2":
            val = (gl_u + eu[..., 1] / 2) ** 2 + (gl_d + ed[..., 1] / 2) ** 2 + off / 4
        else:  # nutev_gR2
            val = (gr_u + eu[..., 1] / 2) ** 2 + (gr_d + ed[..., 1] / 2) ** 2 + off / 4
        preds.append(val)
    return jnp.stack(preds, axis=-1)
