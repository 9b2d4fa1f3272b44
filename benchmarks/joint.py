"""Benchmark: the joint oscillation + scattering chi^2 (issue 6) and the LMA-Dark profile.

Cases:
  joint chi2 <set>   value and value_and_grad of chi2 (nuisances profiled) with respect to theta12,
                     dm21, eps^u_ee and eps^u_mumu (= eps^u_tautau), after compilation, for the
                     oscillation experiments alone, COHERENT CsI 2021 + LAr 2020 alone, and all together
                     (plus every other bundled oscillation experiment when present: SNO, DUNE).
  lma-dark profile   wall time of the LMA-Dark profile Delta chi^2(theta12) on 9 points (30-62 deg) with
                     dm21, eps_ee, eps_mumu and every nuisance profiled (nsijax.studies.lma_dark, its four
                     starting points per point, up quarks), first run (compilation included) and a
                     second run (compiled).
Writes benchmarks/results/joint-<platform>.json and prints a table.

    python benchmarks/joint.py            # full timing
    python benchmarks/joint.py --smoke    # quick run (CI)
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import nsijax  # noqa: E402,F401  (enables x64)
from nsijax.experiments import available  # noqa: E402
from nsijax.studies import lma_dark  # noqa: E402

OSC = ("borexino_2018", "kamland_2011")
OPTIONAL_OSC = ("sno_d2o_2002", "dune_tdr")
COHERENT = ("coherent_csi_2021", "coherent_lar_2020")


def _vector_loss(names):
    loss = lma_dark.joint_chi2(tuple(names), "u")
    keys = ("theta12_deg", "dm21_1e5", "eps_ee", "eps_mumu")
    return lambda x: loss(dict(zip(keys, x)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, few repeats (CI)")
    args = ap.parse_args(argv)
    repeat, min_time = (1, 0.0) if args.smoke else (5, 0.5)
    have = set(available())
    osc = OSC + tuple(n for n in OPTIONAL_OSC if n in have)
    sets = {"oscillation": osc, "coherent": COHERENT, "joint": osc + COHERENT}
    if args.smoke:
        sets = {"joint": OSC + COHERENT[:1]}
    x = jnp.array([34.0, 7.5, 0.05, 0.02])
    rows = []
    for label, names in sets.items():
        f = _vector_loss(names)
        v = jax.jit(f)
        vg = jax.jit(jax.value_and_grad(f))
        c_v, t_v = _common.time_jitted(v, x, repeat=repeat, min_time=min_time)
        c_g, t_g = _common.time_jitted(vg, x, repeat=repeat, min_time=min_time)
        rows.append({"case": f"chi2 {label}", "experiments": "+".join(names), "compile_s": round(c_v + c_g, 2),
                     "value_ms": round(1e3 * t_v, 3), "value_grad_ms": round(1e3 * t_g, 3)})

    cfg = dataclasses.replace(lma_dark.LMADarkConfig.fast(), quarks=("u",), n_theta12=3 if args.smoke else 9)
    if args.smoke:
        cfg = dataclasses.replace(cfg, scattering=COHERENT[:1])
    names = (*cfg.oscillation, *cfg.scattering)
    # the second run times the compiled profile; the smoke run (CI) only checks that the first completes
    for run in ("first (with compilation)",) if args.smoke else ("first (with compilation)", "second (compiled)"):
        t0 = time.perf_counter()
        res = lma_dark.profile_theta12(cfg, names, "u", progress=False)
        wall = time.perf_counter() - t0
        rows.append({"case": f"lma-dark profile, {run}", "experiments": "+".join(names),
                     "points": f"{cfg.n_theta12} x {len(lma_dark.starts('u', True))} starts", "wall_s": round(wall, 2),
                     "delta_chi2_dark": round(lma_dark.dark_side(res)["delta_chi2_dark"], 2)})
    _common.print_table(rows, ["case", "experiments", "compile_s", "value_ms", "value_grad_ms", "points", "wall_s",
                               "delta_chi2_dark"])
    if not args.smoke:
        print("wrote", _common.write_json("joint", {"rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
