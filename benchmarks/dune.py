"""DUNE (TDR GLoBES configuration) benchmark: chi^2 value and value+grad, and the event-rate calculation
against jaxnu's GLoBES loader on the same files, same machine, same run.

Cases (timings of jitted calls after compilation; compile + first call reported separately):
  rates          per-entry event rates (32 channel entries x 66 bins, 99 sampling energies, nu + nu-bar)
                 -- nsijax ``GlobesBeam.physics`` vs jaxnu ``globes.GlobesExperiment.spectra``
  chi2           Poisson chi^2 at given pulls (nuisances="given"), 15 parameters (6 oscillation + 9 eps^d)
  chi2_profile   the same with the 9 nuisances profiled (12 Gauss-Newton steps)
  *_grad         value_and_grad w.r.t. the 15 parameters
  nsi_fit        one fit of the DUNE NSI study (nsijax.studies.dune_nsi): |eps_emu| = 0.05 fixed; theta13
                 (prior), theta23, delta_CP, dm31 and the phase free, the 9 pulls profiled, from a start off the
                 optimum -- nsijax ``infer.fit`` (optax L-BFGS, exact gradients, jitted) vs
                 ``scipy.optimize.minimize`` (L-BFGS-B, finite-difference gradients) on the same jitted chi^2

Usage: python benchmarks/dune.py [--smoke] [--repeat N] [--min-time S]
Writes benchmarks/results/dune-<platform>.json (nothing with --smoke) and prints a table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _common  # noqa: E402

from nsijax.experiments import load  # noqa: E402
from nsijax.experiments.parsers.spec import DATA_DIR  # noqa: E402
from nsijax.likelihood import chi2  # noqa: E402
from nsijax.parameters.nsi import NSI  # noqa: E402
from nsijax.parameters.params import Params  # noqa: E402
from nsijax.physics.oscillation import OscParams  # noqa: E402

OSC = OscParams.nufit()
_EPS_D = [0.01, 0.0, 0.0, 0.02, 0.01, -0.01, 0.0, 0.0, 0.0]  # eps^d in nsijax.parameters.nsi.COMPONENTS order
#: 6 oscillation parameters (near NuFIT 6.0, off the Asimov point) + 9 NSI components.
X0 = jnp.array([OSC.theta12, OSC.theta13, OSC.theta23 + 0.02, OSC.delta_cp + 0.3, OSC.dm21, OSC.dm31, *_EPS_D])


def _params(x):
    return Params(osc=OscParams(*x[:6]), nsi=NSI(eps_d=x[6:]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="short timing loops (CI)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.2, help="seconds per timing round")
    args = ap.parse_args(argv)
    repeat, min_time = (1, 0.01) if args.smoke else (args.repeat, args.min_time)

    exp = load("dune_tdr")
    rows = []

    def add(case, code, fn, *a):
        """Time ``fn(*a)`` (compile + first call, then steady state); returns the row for extra columns."""
        first, best = _common.time_jitted(fn, *a, repeat=repeat, min_time=min_time)
        rows.append({"case": case, "code": code, "compile_s": round(first, 3), "time_ms": round(1e3 * best, 4)})
        return rows[-1]

    rates = jax.jit(lambda x: exp.physics(_params(x)))
    row = add("rates", "nsijax", rates, X0)  # (time first: the right side of an assignment runs first)
    row["total"] = round(float(rates(X0).sum()), 3)

    try:
        import jaxnu
    except ImportError:  # pragma: no cover - jaxnu is optional
        jaxnu = None
    if jaxnu is not None:
        # jaxnu applies the physical POT x nucleons normalisation, not @norm: convert (see tests/experiments/oscillation/test_dune.py)
        scale = 1.017718e17 / (1284.9**2 * 1e20 * 1e-4 * 6.02214076e23 * 1e9 * 1e-38)
        g = jaxnu.globes.load(str(DATA_DIR / "dune_tdr" / "globes" / "DUNE_GLoBES.glb"), scale=scale)
        wins = {r: jnp.asarray(w) for r, w in g.windows.items()}

        def jrates(x):
            p = jaxnu.OscParams(*x[:6])
            return jnp.stack([jnp.where(wins[r], s, 0.0) for r, s in g.spectra(p).items()])

        jr = jax.jit(jrates)
        x_sm = X0.at[6:].set(0.0)  # jaxnu's GLoBES path: Standard Model here (its NSI takes another type)
        row = add("rates", "jaxnu", jr, x_sm)
        row["total"] = round(float(jr(x_sm).sum()), 3)
        row["nsijax_total_same_point"] = round(float(rates(x_sm).sum()), 3)

    for mode, case in (("given", "chi2"), ("profile", "chi2_profile")):
        f = lambda x, mode=mode: chi2(_params(x), exp, nuisances=mode)
        val = jax.jit(f)
        vg = jax.jit(jax.value_and_grad(f))
        row = add(case, "nsijax", val, X0)
        row["chi2"] = round(float(val(X0)), 4)
        row = add(case + "_grad", "nsijax", vg, X0)
        row["params"] = int(X0.size)

    _nsi_fit_rows(add, rows, repeat, min_time)

    _common.print_table(
        rows, ["case", "code", "compile_s", "time_ms", "total", "nsijax_total_same_point", "chi2", "params", "evaluations"]
    )
    if not args.smoke:  # smoke runs (CI) time nothing worth keeping
        path = _common.write_json(
            "dune", {"experiment": "dune_tdr", "bins": exp.n_bins, "nuisances": len(exp.nuisance_names), "rows": rows}
        )
        print(f"wrote {path}")
    return 0


def _nsi_fit_rows(add, rows, repeat, min_time) -> None:
    import time

    import numpy as np
    import scipy.optimize as so

    from nsijax.inference import fit
    from nsijax.studies import dune_nsi

    truth = dune_nsi.DuneNSIConfig().truth()
    loss = dune_nsi.dune_chi2("dune_tdr", "emu", tuple(sorted(truth.items())))
    free = ("theta13_deg", "theta23_deg", "delta_cp", "dm31_1e3", "phase")
    start = {**truth, "theta23_deg": truth["theta23_deg"] + 1.0, "delta_cp": truth["delta_cp"] + 0.3, "phase": 1.0}
    start = {k: jnp.asarray(start[k]) for k in free}
    run = jax.jit(lambda s: fit(loss, s, fixed={"eps": 0.05}, bounds=dune_nsi.BOUNDS, covariance=False, tol=1e-4,
                                max_steps=200, fallback_steps=100))
    row = add("nsi_fit", "nsijax", run, start)
    r = run(start)
    row["chi2"], row["evaluations"] = round(float(r.value), 4), int(r.steps)

    val = jax.jit(lambda x: loss({**dict(zip(free, x)), "eps": 0.05}))
    x0 = np.array([float(start[k]) for k in free])
    bounds = [dune_nsi.BOUNDS.get(k, (None, None)) for k in free]
    f = lambda x: float(val(jnp.asarray(x)))  # noqa: E731
    f(x0)  # compile
    best, res = float("inf"), None
    for _ in range(max(1, repeat // 2)):
        t0 = time.perf_counter()
        res = so.minimize(f, x0, method="L-BFGS-B", bounds=bounds)
        best = min(best, time.perf_counter() - t0)
    rows.append({"case": "nsi_fit", "code": "scipy L-BFGS-B (finite differences)", "time_ms": round(1e3 * best, 2),
                 "chi2": round(float(res.fun), 4), "evaluations": int(res.nfev)})


if __name__ == "__main__":
    raise SystemExit(main())
