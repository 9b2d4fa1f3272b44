"""Benchmark: inference workloads of issue 5 against the tools users reach for today.

Cases:
  zprime_exclusion  90% CL g_Z' limit at n_mass masses (default 50), COHERENT CsI 2021 + LAr 2020,
                    every nuisance profiled (Gauss-Newton, warm-started at the SM pulls): coarse grid in
                    log10 g + 6 Illinois refinements, all vmapped. Wall time after compilation
                    (target <= 10 s on the 2-core CPU), compile time separately.
  nuts_vs_emcee     posterior of (eps^u_ee, 7 pulls) for COHERENT CsI 2017: numpyro NUTS on nsijax's
                    likelihood vs emcee on the NumPy/SciPy likelihood of benchmarks/likelihood.py;
                    minimum bulk effective sample size (arviz) per second of sampling.
  profile_scan      eps^u_ee profile (7 pulls profiled) of CsI 2017: nsijax's vmapped scan vs a loop of
                    scipy.optimize.minimize (L-BFGS-B, numerical gradients) on the NumPy likelihood;
                    points per second.
Writes benchmarks/results/inference-<platform>.json and prints a table.

    python benchmarks/inference.py [--smoke]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
import jax  # noqa: E402
from likelihood import NumpyCsI2017  # noqa: E402

import nsijax  # noqa: E402
from nsijax import experiments  # noqa: E402
from nsijax.inference import exclusion_limit, numpyro_model, profile_scan, zprime_chi2  # noqa: E402
from nsijax.likelihood import chi2, log_likelihood, profile_nuisances  # noqa: E402
from nsijax.parameters.names import build_params  # noqa: E402


def min_ess(samples: dict) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import arviz as az

        idata = az.from_dict(posterior={k: np.asarray(v) for k, v in samples.items()})
        ess = az.ess(idata, method="bulk")
    return float(min(float(ess[k]) for k in samples))


def bench_exclusion(n_mass: int, n_g: int) -> dict:
    exps = [experiments.load("coherent_csi_2021"), experiments.load("coherent_lar_2020")]
    sm = nsijax.Params()
    chi2_sm = float(chi2(sm, exps, nuisances="profile"))
    base = nsijax.Params(nuisances=dict(profile_nuisances(sm, exps).nuisances))

    zchi2 = zprime_chi2(exps, "B-L", base=base)

    lm = np.linspace(0.0, 4.0, n_mass)
    lg = np.linspace(-6.5, -1.5, n_g)
    t0 = time.perf_counter()
    exclusion_limit(zchi2, lm, lg, chi2_sm=chi2_sm)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = exclusion_limit(zchi2, lm + 1e-9, lg, chi2_sm=chi2_sm)
    run = time.perf_counter() - t0
    evals = n_mass * (n_g + 6)
    return {"case": f"zprime_exclusion {n_mass} masses (B-L, CsI2021+LAr)", "nsijax_s": run, "compile_s": first - run,
            "peer": "-", "peer_s": None, "ratio": None, "evals": evals, "evals_per_s": evals / run,
            "limit_g_at_10MeV": float(10 ** np.interp(1.0, lm, out["log10_g"]))}


def bench_nuts_vs_emcee(n_samples: int, n_warmup: int) -> list[dict]:
    import numpyro.distributions as dist

    exp = experiments.load("coherent_csi_2017")
    keys = exp.nuisance_keys

    def ll(theta):
        p = build_params({"eps_u_ee": theta["eps_u_ee"], **{k: theta[k] for k in keys}})
        return log_likelihood(p, exp, include_priors=False)

    priors = {"eps_u_ee": dist.Uniform(-1.0, 1.0), **{k: dist.Normal(0.0, 1.0) for k in keys}}
    model = numpyro_model(ll, priors)
    from numpyro.infer import MCMC, NUTS

    mcmc = MCMC(NUTS(model), num_warmup=n_warmup, num_samples=n_samples, num_chains=1, progress_bar=False)
    t0 = time.perf_counter()
    mcmc.run(jax.random.PRNGKey(0))  # traces and compiles, then samples
    first_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    mcmc.run(jax.random.PRNGKey(1))  # same MCMC object: the compiled sampler is reused
    nuts_s = time.perf_counter() - t0
    samples = {k: np.asarray(v)[None] for k, v in mcmc.get_samples().items()}
    nuts_ess = min_ess(samples)
    rows = [{"case": f"NUTS {n_warmup}+{n_samples} draws (CsI 2017, 8 params)", "nsijax_s": nuts_s,
             "compile_s": max(first_s - nuts_s, 0.0), "ess_min": nuts_ess, "ess_per_s": nuts_ess / nuts_s,
             "ess_per_s_incl_compile": nuts_ess / first_s}]
    try:
        import emcee
    except ImportError:
        rows.append({"case": "emcee", "peer": "not installed (pip install emcee)"})
        return rows
    npl = NumpyCsI2017(exp)

    def logp(x):
        if not -1.0 < x[0] < 1.0:
            return -np.inf
        return -0.5 * npl.chi2(x[0], x[1:])

    ndim, nwalkers = 1 + len(keys), 32
    rng = np.random.default_rng(0)
    p0 = np.concatenate([rng.normal(0.05, 0.02, (nwalkers, 1)), rng.normal(0, 0.1, (nwalkers, ndim - 1))], axis=1)
    n_steps = max(50, (n_samples + n_warmup) * 2 // nwalkers * 4)
    sampler = emcee.EnsembleSampler(nwalkers, ndim, logp)
    t0 = time.perf_counter()
    sampler.run_mcmc(p0, n_steps, progress=False)
    emcee_s = time.perf_counter() - t0
    chain = sampler.get_chain(discard=n_steps // 2)  # (steps, walkers, ndim)
    names = ["eps_u_ee", *keys]
    emcee_ess = min_ess({n: chain[:, :, i].T for i, n in enumerate(names)})
    rows.append({"case": f"emcee {n_steps} steps x {nwalkers} walkers (NumPy likelihood)", "peer_s": emcee_s,
                 "ess_min": emcee_ess, "ess_per_s": emcee_ess / emcee_s})
    if emcee_ess > 0:
        rows[0]["ratio"] = rows[0]["ess_per_s"] / (emcee_ess / emcee_s)
        rows[0]["ratio_incl_compile"] = rows[0]["ess_per_s_incl_compile"] / (emcee_ess / emcee_s)
    return rows


def bench_profile_scan(n_points: int, n_peer: int) -> dict:
    from scipy.optimize import minimize

    exp = experiments.load("coherent_csi_2017")
    keys = exp.nuisance_keys

    def loss(theta):
        return chi2(build_params(theta), exp)

    grid = np.linspace(-0.2, 0.6, n_points)
    init = {k: 0.0 for k in keys}
    t0 = time.perf_counter()
    profile_scan(loss, init, {"eps_u_ee": grid}, chunk_size=n_points, progress=False, refine_best=False)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = profile_scan(loss, init, {"eps_u_ee": grid + 1e-9}, chunk_size=n_points, progress=False, refine_best=False)
    run = time.perf_counter() - t0
    npl = NumpyCsI2017(exp)
    t0 = time.perf_counter()
    peer_vals = []
    for e in grid[:: max(1, n_points // n_peer)][:n_peer]:
        r = minimize(lambda th, e=e: npl.chi2(e, th), np.zeros(len(keys)), method="L-BFGS-B")
        peer_vals.append(r.fun)
    peer = (time.perf_counter() - t0) / len(peer_vals)
    return {"case": f"profile scan {n_points} pts (CsI 2017, 7 pulls)", "nsijax_s": run, "compile_s": first - run,
            "peer": "scipy L-BFGS-B loop", "peer_s": peer * n_points, "ratio": peer * n_points / run,
            "points_per_s": n_points / run, "peer_points_per_s": 1 / peer,
            "chi2_diff_first_point": float(res.chi2[0] - peer_vals[0])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true")
    args = ap.parse_args()
    if args.smoke:
        rows = [bench_exclusion(3, 5), *bench_nuts_vs_emcee(20, 20), bench_profile_scan(4, 1)]
    else:
        rows = [bench_exclusion(50, 16), *bench_nuts_vs_emcee(1000, 500), bench_profile_scan(64, 4)]
    fmt = []
    for r in rows:
        fmt.append({k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in r.items()})
    _common.print_table(fmt, ["case", "nsijax_s", "compile_s", "peer_s", "ratio", "ess_per_s", "points_per_s", "evals_per_s"])
    path = _common.write_json("inference" + ("-smoke" if args.smoke else ""), {"rows": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
