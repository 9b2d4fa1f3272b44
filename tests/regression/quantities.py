"""The quantities pinned by the regression tests (tests/regression/pins.json).

Each entry is a number nsijax computes from the bundled data at a fixed input: chi^2 of every bundled
experiment at a few parameter points (nuisances given and profiled), the fitted CEvNS counts of the
COHERENT data sets, and (slow tier) the main job's intervals and limits on its fast grids.

A pin changes only in a commit that says why the physics changed: regenerate with
``python -m tests.regression.update_pins [--slow]`` and state the moved values in the commit message.
"""

from __future__ import annotations

import dataclasses
import tempfile

import jax
import jax.numpy as jnp
import numpy as np

from nsijax import experiments
from nsijax.experiments.base import expected_counts
from nsijax.likelihood import chi2, profile_nuisances
from nsijax.parameters.nsi import NSI
from nsijax.parameters.params import Params
from nsijax.parameters.zprime import ZPrime
from nsijax.studies.cevns_count import fit_cevns_count

#: Relative tolerance of the pins (absolute floor ABS_TOL for values near zero).
REL_TOL = 1e-6
ABS_TOL = 1e-9

EXPERIMENTS = tuple(experiments.available())


def _nsi_point() -> NSI:
    return NSI(
        eps_e={"ee": 0.05, "mutau": 0.03},
        eps_u={"ee": 0.1, "emu": 0.05 + 0.02j, "tautau": -0.1},
        eps_d={"ee": -0.05, "etau": 0.04 - 0.03j, "mumu": 0.02},
    )


def _pulls(exp, values) -> dict[str, float]:
    """Pulls cycling through ``values`` over the experiment's nuisances (given mode)."""
    return {k: values[i % len(values)] for i, k in enumerate(exp.nuisance_keys)}


def points(exp) -> dict[str, tuple[Params, str]]:
    """Named parameter points and nuisance modes at which ``exp``'s chi^2 is pinned.

    ``pulls_in`` keeps every pull inside +-1 sigma, ``pulls_out`` takes them to +-1.7 (the
    extrapolation of the +-1 sigma systematics sets), ``zprime_*`` include a B-3L_e Z' (light: it
    acts in oscillations through its q^2 = 0 NSI) and a B-L Z' (CEvNS).
    """
    zp_light = ZPrime(4e-6, 10.0, charges="B-3Le")
    zp_bl = ZPrime(3e-5, 20.0, charges="B-L")
    return {
        "sm_given": (Params(), "given"),
        "sm_profile": (Params(), "profile"),
        "nsi_given": (Params(nsi=_nsi_point()), "given"),
        "nsi_profile": (Params(nsi=_nsi_point()), "profile"),
        "pulls_in": (Params(nuisances=_pulls(exp, [0.5, -0.8, 0.3])), "given"),
        "pulls_out": (Params(nuisances=_pulls(exp, [1.7, -1.7, 1.2])), "given"),
        "zprime_b3le_profile": (Params(zprime=zp_light), "profile"),
        "zprime_bl_profile": (Params(zprime=zp_bl), "profile"),
    }


def chi2_values() -> dict[str, float]:
    """``"<experiment>/<point>" -> chi^2`` for every bundled experiment and point."""
    out = {}
    for name in EXPERIMENTS:
        exp = experiments.load(name)
        for label, (p, mode) in points(exp).items():
            out[f"{name}/{label}"] = float(chi2(p, exp, nuisances=mode))
    return out


def cevns_counts() -> dict[str, float]:
    """CEvNS counts of the COHERENT data sets: SM prediction, prediction at the profiled SM pulls, and
    the fitted count with its 68 % interval (``nsijax.studies.cevns_count.fit_cevns_count``)."""
    out = {}
    for name in ("coherent_csi_2017", "coherent_csi_2021", "coherent_lar_2020"):
        exp = experiments.load(name)
        out[f"{name}/sm"] = float(jnp.sum(expected_counts(Params(), exp)["cevns"]))
        p = profile_nuisances(Params(), exp)
        out[f"{name}/sm_at_profiled_pulls"] = float(jnp.sum(expected_counts(p, exp)["cevns"]))
        r = fit_cevns_count(exp, points=61)
        for k in ("n_fit", "lo", "hi"):
            out[f"{name}/fit_{k}"] = float(r[k])
    return out


def main_job_values() -> dict[str, float]:
    """The main job (``nsijax fit``) on its fast grids: SM chi^2, 1D intervals, 2D allowed fraction,
    Z' limits."""
    from nsijax.studies import coherent_nsi

    with tempfile.TemporaryDirectory() as d:
        s = coherent_nsi.run(coherent_nsi.StudyConfig.fast(), d, progress=False, plots=False)
    out = {"standard_model/chi2": s["standard_model"]["chi2"]}
    for name, r in s["profiles_1d"].items():
        out[f"{name}/chi2_min"] = r["chi2_min"]
        for cl in ("interval_90cl", "interval_68cl"):
            iv = np.asarray(r[cl], dtype=float).ravel()
            for i, x in enumerate(iv):
                out[f"{name}/{cl}/{i}"] = float(x)
    out["profile_2d/chi2_min"] = s["profile_2d"]["chi2_min"]
    out["profile_2d/fraction_allowed_90cl"] = s["profile_2d"]["fraction_allowed_90cl"]
    for preset, z in s["zprime"].items():
        for m, g in zip(z["mass_mev"], z["g_excluded_90cl"]):
            out[f"zprime_{preset}/g_90cl_at_{m:.4g}_mev"] = float("nan") if g is None else float(g)
    return out


def describe() -> dict:
    """The inputs that define the pins (stored beside them)."""
    return {
        "experiments": list(EXPERIMENTS),
        "main_job_config": dataclasses.asdict(__import__("nsijax.studies.coherent_nsi", fromlist=["x"]).StudyConfig.fast()),
        "jax": jax.__version__,
    }
